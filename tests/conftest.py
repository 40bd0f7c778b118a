"""Fixtures shared across the suite: small configs written into tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from feedserver import feed_server  # noqa: F401 - a fixture, shared by the ingestion tests

from newsletter.store import Store

REPO = Path(__file__).resolve().parent.parent


def write_config(folder: Path, body: str, name: str = "newsletter.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def feeds_config(folder: Path, feeds: list[str], *, title: str = "Test Brief", extra: str = "") -> Path:
    """A config with one topic over ``feeds`` and ``extra`` lines in [newsletter]."""
    import json

    return write_config(folder, f"""\
[newsletter]
title = "{title}"
from = "brief@example.com"
to = ["reader@example.org"]
{extra}
[[topics]]
name = "Local"
feeds = {json.dumps(feeds)}
""")


MINIMAL = """\
[newsletter]
title = "Test Brief"
from = "Brief <brief@example.com>"
to = ["reader@example.org"]

[[topics]]
name = "Tech"
feeds = ["feed.xml"]
"""


@pytest.fixture
def minimal_config(tmp_path: Path) -> Path:
    (tmp_path / "feed.xml").write_text("<rss version='2.0'><channel><title>T</title></channel></rss>")
    return write_config(tmp_path, MINIMAL)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh SQLite store in its own file."""
    s = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()
