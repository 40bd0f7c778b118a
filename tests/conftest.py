"""Fixtures shared across the suite: small configs written into tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import socket

import pytest
from aiosmtpd.controller import Controller

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


class _Inbox:
    """aiosmtpd handler: keeps what arrives, refuses one address like a real server would."""

    def __init__(self, refuse: str):
        self.refuse = refuse
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    inbox = _Inbox(refuse="ghost@example.org")
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to self-check its startup
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
