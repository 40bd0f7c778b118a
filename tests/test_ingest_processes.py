"""Ingestion as real processes show it: parse workers die with a killed `fetch`, and full_text works
in an environment installed exactly as the README's first command installs it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from feedserver import FeedServer
from feeds_for_tests import item, rss

from conftest import NewsletterProcess, process_env, write_config
from newsletter.ingest.workers import PARALLEL_AFTER_BYTES
from newsletter.store import Store

PROCESS_DEADLINE = 30  # seconds: generous, for a busy 2-core machine; every wait polls a state
POLL = 0.05


def _children() -> dict[int, list[int]]:
    """Every live process's children, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if fields[0] != "Z":
            out.setdefault(int(fields[1]), []).append(int(entry))
    return out


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(condition, what: str):
    deadline = time.monotonic() + PROCESS_DEADLINE
    while time.monotonic() < deadline:
        got = condition()
        if got:
            return got
        time.sleep(POLL)
    pytest.fail(f"{what} within {PROCESS_DEADLINE} s")


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process tree from /proc (Linux)")
def test_parse_workers_die_with_a_killed_fetch(tmp_path: Path, feed_server: FeedServer):
    """kill -9 of `fetch` while workers parse: the forkserver and the workers go too, none is orphaned."""
    paragraph = "<p>" + "The harbour board met again to discuss the dredging plan for the outer channel. " * 12 + "</p>"
    big = tmp_path / "big.xml"  # over the bytes that move parsing to worker processes, in one file
    big.write_text(rss(*(item(f"Report {i}", f"https://wire.example/{i}", guid=f"w{i}", body=paragraph * 2)
                         for i in range(2600)), title="Big Wire"))
    assert big.stat().st_size > PARALLEL_AFTER_BYTES
    # A feed that answers only after the test is over keeps `fetch` running while the workers exist.
    stuck = feed_server.add("/stuck.xml", rss(item()), delay=PROCESS_DEADLINE * 2)
    cfg = write_config(tmp_path, {
        "newsletter": {"title": "Harbour Wire", "from": "brief@example.com", "to": ["reader@example.org"]},
        "fetch": {"timeout": PROCESS_DEADLINE * 2},
        "topics": [{"name": "Local", "feeds": [str(big), stuck]}],
    })
    with NewsletterProcess("fetch", "--config", cfg, cwd=tmp_path) as fetch:
        parent = fetch.proc.pid
        # Workers are the forkserver's children: grandchildren of `fetch`.
        workers = _wait_until(lambda: {p for c in _descendants(parent) for p in _descendants(c)},
                              "no parse worker started")
        family = _descendants(parent) | workers
        os.kill(parent, signal.SIGKILL)
        fetch.proc.wait()  # not fetch.wait(): survivors would hold its output pipes open
        try:
            _wait_until(lambda: not any(_alive(p) for p in family),
                        f"processes {sorted(p for p in family if _alive(p))} outlived the killed fetch")
        finally:
            for pid in family:  # this test's own processes, by id: none may outlive it
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


PLAIN_PYTHON = os.environ.get("NEWSLETTER_PLAIN_PYTHON")


@pytest.mark.skipif(not PLAIN_PYTHON, reason="NEWSLETTER_PLAIN_PYTHON is not set: .ci/run builds that environment "
                    "(python3 -m venv .venv-plain && .venv-plain/bin/pip install -e .) and sets it")
def test_full_text_works_on_a_plain_install(tmp_path: Path, feed_server: FeedServer):
    """README command 1 alone (no test extras): `fetch` of a full_text feed stores each page's text."""
    page = ("<html><head><title>Ferry</title></head><body><nav>Home | News</nav><article><h1>Ferry timetable</h1>"
            + "".join(f"<p>Paragraph {i} of the full report on the Quillmoor harbour ferry, which will run "
                      f"every ten minutes from May according to the port authority.</p>" for i in range(6))
            + "</article><footer>Copyright</footer></body></html>")
    story = feed_server.add("/story/ferry", page, headers={"Content-Type": "text/html; charset=utf-8"})
    feed = feed_server.add("/teasers.xml", rss(item("Ferry timetable", story, body="Teaser only.")),
                           headers={"Content-Type": "application/rss+xml"})
    cfg = write_config(tmp_path, {
        "newsletter": {"title": "Harbour Wire", "from": "brief@example.com", "to": ["reader@example.org"]},
        "store": {"url": "state.db"},
        "topics": [{"name": "Local", "feeds": [{"url": feed, "full_text": True, "allow_private": True}]}],
    })
    proc = subprocess.run([PLAIN_PYTHON, "-m", "newsletter", "fetch", "--config", str(cfg)], cwd=tmp_path,
                          env=process_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "full text" not in proc.stderr, proc.stderr  # no "full text unavailable", no page kept its teaser
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        [article] = store.articles_between(None)
    finally:
        store.close()
    assert "Paragraph 5 of the full report on the Quillmoor harbour ferry" in article.text
    assert "Copyright" not in article.text
