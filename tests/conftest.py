"""Builders and fixtures shared across the suite.

    article("a1", outlet="Harbor Ledger", title="Lifeboat crew saves six")   # one Article, the rest defaulted
    config_data(llm={"timeout": 5})        # the minimal config as a dict, with sections merged in
    make_config(topics=[...])              # ...validated into a Config (no file, no feed files checked)
    write_config(tmp_path, MINIMAL)        # a TOML file from text, or from config_data(...)
    run_cli("check", "--config", path)     # the CLI in this process, as the `newsletter` script runs it
    NewsletterProcess("run", ...)          # a real `python -m newsletter` process, read line by line

A test of what the CLI prints runs in-process: milliseconds instead of a fresh
interpreter paying every import. Only what a process alone shows (signals, the
``python -m`` entry, parse workers, two processes at once) starts one.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import tomli_w
from aiosmtpd.controller import Controller

from feedserver import feed_server  # noqa: F401 - a fixture, shared by the ingestion tests

from newsletter.config import Config
from newsletter.models import Article
from newsletter.store import Store

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)

# -- articles ---------------------------------------------------------------


def article(id: str = "a1", *, outlet: str = "Test Outlet", title: str | None = None, text: str = "",
            link: str | None = None, feed_url: str | None = None, published: datetime = T0, **fields) -> Article:
    """One Article: links and the feed URL follow from the outlet's name unless given."""
    host = (re.sub(r"\W+", "-", outlet.lower()).strip("-") or "outlet") + ".example"
    return Article(id=id, feed_url=feed_url or f"https://{host}/feed", outlet=outlet, title=title or f"Story {id}",
                   link=link or f"https://{host}/{id}", published=published, text=text, **fields)


# -- configs ----------------------------------------------------------------

MINIMAL = """\
[newsletter]
title = "Test Brief"
from = "Brief <brief@example.com>"
to = ["reader@example.org"]

[[topics]]
name = "Tech"
feeds = ["feed.xml"]
"""


def config_data(**sections: dict | list) -> dict:
    """MINIMAL as a dict; each keyword replaces a list or merges into a table (newsletter={"max_stories": 2})."""
    data = tomllib.loads(MINIMAL)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **copy.deepcopy(value)}
        else:
            data[key] = copy.deepcopy(value)
    return data


def make_config(**sections: dict | list) -> Config:
    return Config.model_validate(config_data(**sections))


def write_config(folder: Path, body: str | dict, name: str = "newsletter.toml") -> Path:
    path = folder / name
    text = tomli_w.dumps(body) if isinstance(body, dict) else textwrap.dedent(body)
    path.write_text(text, encoding="utf-8")
    return path


def feeds_config(folder: Path, feeds: list[str], *, title: str = "Test Brief", **newsletter) -> Path:
    """A config file with one topic over ``feeds``; keywords are more [newsletter] settings (max_age_hours=0)."""
    data = config_data(newsletter={"title": title, "from": "brief@example.com", **newsletter},
                       topics=[{"name": "Local", "feeds": feeds}])
    return write_config(folder, data)


@pytest.fixture
def minimal_config(tmp_path: Path) -> Path:
    (tmp_path / "feed.xml").write_text("<rss version='2.0'><channel><title>T</title></channel></rss>")
    return write_config(tmp_path, MINIMAL)


# -- the CLI ----------------------------------------------------------------

# A developer's own key or config must not leak into what a test sees.
_PRIVATE_ENV = ("OPENAI_", "NEWSLETTER_")
CLI_COLUMNS = "200"  # wide enough that rich does not wrap a path or a key across lines
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours, present only when pytest runs with -s on a terminal


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """``newsletter ARGS`` in this process, through ``newsletter.cli.main`` as the console script runs it:
    an error becomes one message and its exit code. Log records go to pytest's caplog, not to stderr."""
    from click.testing import CliRunner

    from newsletter.cli import main

    overrides = {k: None for k in os.environ if k.startswith(_PRIVATE_ENV)} | {"COLUMNS": CLI_COLUMNS} | (env or {})
    argv = sys.argv
    with CliRunner().isolation(env=overrides) as (stdout, stderr, _), contextlib.chdir(cwd or Path.cwd()):
        sys.argv = ["newsletter", *args]
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        finally:
            sys.argv = argv
            sys.stdout.flush()
            sys.stderr.flush()
    return CliResult(code, _ANSI.sub("", stdout.getvalue().decode()), _ANSI.sub("", stderr.getvalue().decode()))


def process_env(env: dict[str, str] | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_ENV)}
    return {**clean, "COLUMNS": CLI_COLUMNS, "PYTHONUNBUFFERED": "1", **(env or {})}


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m newsletter ARGS`` in a fresh interpreter, to completion."""
    return subprocess.run([sys.executable, "-m", "newsletter", *args], capture_output=True, text=True, cwd=cwd,
                          env=process_env(env), timeout=timeout)


class NewsletterProcess:
    """A running ``python -m newsletter`` whose output is read line by line as it comes.

        with NewsletterProcess("run", "--config", cfg, cwd=root) as proc:
            proc.wait_for("newsletter running")          # a readiness line, not a guess at how long
            proc.interrupt()                             # Ctrl-C; returns the exit code
        proc.stdout, proc.stderr                         # everything either stream printed
    """

    def __init__(self, *args: str | os.PathLike, cwd: Path, env: dict[str, str] | None = None,
                 ctrl_c_ignored: bool = False):
        # ctrl_c_ignored: started as a shell starts a command put in the background (`newsletter serve &`).
        command = [sys.executable, "-m", "newsletter", *map(str, args)]
        if ctrl_c_ignored:
            command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
        self.proc = subprocess.Popen(command, cwd=cwd, env=process_env(env), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._seen = {"stdout": [], "stderr": []}
        self._readers = [threading.Thread(target=self._read, args=(name, getattr(self.proc, name)), daemon=True)
                         for name in self._seen]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream) -> None:
        for line in stream:
            self._lines.put((name, line))
        self._lines.put((name, None))

    def _drain(self, block_until: float | None = None) -> tuple[str, str | None] | None:
        try:
            timeout = None if block_until is None else max(0.0, block_until - time.monotonic())
            name, line = self._lines.get(timeout=timeout) if block_until is not None else self._lines.get_nowait()
        except queue.Empty:
            return None
        if line is not None:
            self._seen[name].append(line)
        return name, line

    def wait_for(self, text: str, *, stream: str = "stdout", timeout: float = 90) -> str:
        """The first line of ``stream`` containing ``text``; fails with what the process said if none comes."""
        deadline = time.monotonic() + timeout
        closed: set[str] = set()
        while True:
            for line in self._seen[stream]:
                if text in line:
                    return line
            if stream in closed or time.monotonic() > deadline:
                pytest.fail(f"no line with {text!r} on {stream} within {timeout:.0f} s (exit {self.proc.poll()}); "
                            f"stdout: {self.stdout!r}; stderr: {self.stderr!r}")
            got = self._drain(block_until=deadline)
            if got and got[1] is None:
                closed.add(got[0])

    def read_so_far(self) -> NewsletterProcess:
        """Take in every line printed until now, without waiting for more (``stdout``/``stderr`` then hold them)."""
        while self._drain() is not None:
            pass
        return self

    def interrupt(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=timeout)
        while self._drain() is not None:
            pass
        return code

    @property
    def stdout(self) -> str:
        return "".join(self._seen["stdout"])

    @property
    def stderr(self) -> str:
        return "".join(self._seen["stderr"])

    def __enter__(self) -> NewsletterProcess:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first. Each worker starts on them while the short ones, hundreds of them, are left to even
    out the workers at the end; in file order a long test collected last would end the run on one worker."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_unconfigure(config: pytest.Config) -> None:
    """This process, the run or one of its workers, exits next: freeze what the session left, so Python's
    shutdown does not search all of it for reference cycles. That took a second at the end of every run,
    which waits for its workers to exit; what the tests opened is closed by their fixtures, not by a collection."""
    gc.freeze()


# -- stores and servers -----------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (skipped, saying why, where Debian's chromium is missing).
    Not one per session: while playwright's sync API is up, asyncio.run() in a test fails as "called from a
    running event loop"."""
    from email_demo import launched_chromium

    with launched_chromium() as b:
        yield b


@pytest.fixture(autouse=True)
def _fresh_endpoint_memory():
    """Each test's model server is a new endpoint, even when the OS hands out a port used before:
    forget which answer formats and parameters earlier endpoints refused, and their context windows."""
    llm = sys.modules.get("newsletter.summarize.llm")
    if llm is not None:
        llm.windows.forget()  # and which context windows they had
        llm.params.forget()


@pytest.fixture(autouse=True)
def _shipped_languages_only():
    """A config's own language files ([newsletter] locales) are the process's from its load on: each
    test starts and ends with the shipped ones only."""
    yield
    locales = sys.modules.get("newsletter.locales")
    if locales is not None and locales._own:
        locales._own.clear()
        locales.changed()


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo config and feeds, so state and outbox land in tmp_path/var."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path / "config" / "newsletter.toml"


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the whole session (Debian's binaries; .ci/run installs them)."""
    from postgres_server import PostgresServer, find_bin

    if not find_bin("initdb"):
        pytest.skip("PostgreSQL server binaries not installed (.ci/run installs Debian's postgresql)")
    with PostgresServer() as pg:
        yield pg


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


def free_port() -> int:
    """A port nothing listens on now (aiosmtpd needs a concrete port to self-check its startup)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def mail_server(handler, port: int | None = None, **options):
    """A real SMTP server (aiosmtpd) on 127.0.0.1 with ``handler``, up for the block; yields its port."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server():
    inbox = _Inbox(refuse="ghost@example.org")
    with mail_server(inbox) as port:
        yield inbox, port


def migrate_to(conn, version: int) -> None:
    """Run the migrations up to ``version`` on ``conn``: a store as the release that ran that one last left it."""
    from newsletter.migrations import MIGRATIONS
    from newsletter.schema import schema_migrations

    schema_migrations.create(conn)
    for v, migration in sorted(MIGRATIONS.items()):
        if v > version:
            break
        migration(conn)
        conn.execute(schema_migrations.insert().values(version=v, applied_at=datetime.now(timezone.utc)))
