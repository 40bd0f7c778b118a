"""Helpers for tests of `newsletter run`: waiting on states, reading JSON log lines, a zone where it is noon."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import NewsletterProcess
from feeds_for_tests import item, rss

STOP_LIMIT_S = 10  # what the README promises an operator: a clean stop within 10 s
STATE_WAIT_S = 60  # generous: a loaded machine is slow, a broken one fails the test

def wait_until(condition, what: str, timeout: float = STATE_WAIT_S, said=None) -> None:
    """Poll ``condition`` until it holds; ``said()``, if given, adds what was seen to the failure."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}" + (f"; {said()}" if said else ""))
        time.sleep(0.05)


def log_lines(proc: NewsletterProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]


def zone_at_noon() -> str:
    """A fixed-offset zone where it is about noon now, so "two hours ago" is today whatever the hour here."""
    offset = 12 - datetime.now(timezone.utc).hour  # local = UTC + offset; Etc/GMT signs are inverted
    offset = offset - 24 if offset > 12 else offset + 24 if offset < -12 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def feed_file(folder: Path) -> Path:
    path = folder / "gazette.xml"
    path.write_text(rss(*[item(f"Fenwick story number {n} about the harbour {word}", f"https://g.example/{n}",
                               guid=f"g{n}", body=f"The harbour {word} story {n} happened on Monday in Fenwick.")
                          for n, word in enumerate(["ferry", "school", "bridge", "market", "library", "storm"])],
                        title="Fenwick Gazette"))
    return path
