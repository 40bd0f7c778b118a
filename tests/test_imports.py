"""Commands load only what they use: grouping's and the model's libraries cost seconds to import.

Each command runs in a fresh interpreter (a fresh process is the only place where
``sys.modules`` tells what a command imported), on a copy of the demo config. When
one fails, the message shows the chain of imports that pulled the library in, read
from ``python -X importtime`` of that same run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

# What grouping and the extractive writer need (seconds to import), the full-text extractor and the model client.
GROUPING_AND_MODEL = ("sklearn", "scipy", "numpy", "trafilatura", "openai")
# What fetching and storing need; --help shows text and needs none of it.
FETCH_AND_STORE = ("httpx", "feedparser", "sqlalchemy")
# What inlining an issue's CSS needs (about 0.1 s); check and fetch render nothing.
RENDERING = ("premailer", "cssutils")

# Runs the real entry point and writes the names of all loaded modules when the process exits,
# whatever way the command ends (return, sys.exit, an error message).
WRAPPER = """\
import atexit, json, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["newsletter", *sys.argv[2:]]
from newsletter.cli import main
main()
"""
RUN_DEADLINE_S = 120  # generous: only a hung command comes near it
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWSLETTER_"))}


def _loaded(root: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str], str]:
    """Run ``newsletter ARGS`` in ``root``; return the process, its top-level modules and its import log."""
    listing = root / "modules.json"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", WRAPPER, str(listing), *args],
                          cwd=root, env={**CLEAN_ENV, "COLUMNS": "200"}, capture_output=True, text=True,
                          timeout=RUN_DEADLINE_S)
    assert listing.exists(), f"newsletter {' '.join(args)} died before exit handlers ran:\n{proc.stderr[-2000:]}"
    modules = {name.split(".")[0] for name in json.loads(listing.read_text())}
    return proc, modules, proc.stderr


def _chain(import_log: str, module: str) -> str:
    """`module <- importer <- ... <- top`, from the first time ``-X importtime`` saw ``module``.

    importtime prints a module after everything it imported, indented one level deeper
    than its importer, so the importer is the next line below with less indentation.
    """
    rows = []
    for line in import_log.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            name = line.rsplit("|", 1)[1]
            rows.append((len(name) - len(name.lstrip()), name.strip()))
    for i, (depth, name) in enumerate(rows):
        if name == module:
            chain = [name]
            for below_depth, below in rows[i + 1:]:
                if below_depth < depth:
                    chain.append(below)
                    depth = below_depth
            return " <- ".join(chain)
    return f"{module} (no import log)"


def _assert_not_loaded(forbidden: tuple[str, ...], modules: set[str], import_log: str, command: str) -> None:
    loaded = [m for m in forbidden if m in modules]
    assert not loaded, f"`newsletter {command}` imported {', '.join(loaded)}:\n" + "\n".join(
        "  " + _chain(import_log, m) for m in loaded)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    """A copy of the demo config and feeds; fetch's state lands in the copy's var/."""
    root = tmp_path_factory.mktemp("imports")
    shutil.copytree(REPO / "config", root / "config")
    return root


def test_help_imports_neither_grouping_nor_the_model_nor_fetching(demo_root):
    proc, modules, log = _loaded(demo_root, "--help")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Usage:" in proc.stdout and "fetch" in proc.stdout
    _assert_not_loaded(GROUPING_AND_MODEL + FETCH_AND_STORE, modules, log, "--help")


def test_check_imports_neither_grouping_nor_the_model_nor_a_renderer(demo_root):
    proc, modules, log = _loaded(demo_root, "check", "--config", "config/newsletter.toml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "config ok" in proc.stdout
    _assert_not_loaded(GROUPING_AND_MODEL + RENDERING + ("sqlalchemy",), modules, log, "check")  # check stores nothing


def test_fetch_imports_neither_grouping_nor_the_model_nor_a_renderer(demo_root):
    proc, modules, log = _loaded(demo_root, "fetch", "--config", "config/newsletter.toml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "new articles from 5 feeds" in proc.stdout
    assert "feedparser" in modules  # it did parse feeds: the check looked at a real run
    _assert_not_loaded(GROUPING_AND_MODEL + RENDERING, modules, log, "fetch")


@pytest.mark.long
def test_a_fetch_with_nothing_new_to_embed_imports_no_model_client(tmp_path):
    # Semantic grouping configured: the poll builds an embedder every time, but asks for a client only to embed.
    from openai_server import OpenAIServer

    shutil.copytree(REPO / "config", tmp_path / "config")
    cfg = tmp_path / "config" / "embeddings.toml"
    with OpenAIServer() as model:
        cfg.write_text((tmp_path / "config" / "newsletter.toml").read_text(encoding="utf-8").replace(
            '# embeddings_model = "text-embedding-3-small"',
            f'embeddings_model = "test-embed"\nembeddings_base_url = "{model.base_url}"'), encoding="utf-8")
        first, _, _ = _loaded(tmp_path, "fetch", "--config", "config/embeddings.toml")
        assert first.returncode == 0, first.stderr[-2000:]
        assert model.embedding_requests and "0 wait for the next poll" in " ".join(first.stdout.split())
        asked = len(model.embedding_requests)
        again, modules, log = _loaded(tmp_path, "fetch", "--config", "config/embeddings.toml")
        assert again.returncode == 0, again.stderr[-2000:]
        assert "0 articles embedded, 0 wait" in " ".join(again.stdout.split())
        assert len(model.embedding_requests) == asked
    _assert_not_loaded(GROUPING_AND_MODEL, modules, log, "fetch (nothing new to embed)")
