"""The demo email's HTML and text parts against reviewed snapshots in tests/golden/.

A change to the email shows up as a diff of these files in review. Dates are replaced by
<DATE> first, so the snapshots say what the email looks like, not which day built it.
Regenerate after an intended change:  UPDATE_GOLDEN=1 python -m pytest tests/test_email_golden.py
"""

from __future__ import annotations

import difflib
import os
import re

import pytest

from email_demo import REPO, demo_email

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATES = [
    re.compile(rf"\b(?:(?:{_DAYS}), )?\d{{1,2}} (?:{_MONTHS}) \d{{4}}\b"),  # Wednesday, 25 November 2026
    re.compile(rf"\b\d{{1,2}} (?:{'|'.join(m[:3] for m in _MONTHS.split('|'))}) \d{{4}}\b"),  # 25 Nov 2026
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b"),  # 2026-11-25, ISO times
]


def normalise(text: str) -> str:
    for pattern in _DATES:
        text = pattern.sub("<DATE>", text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_normalising_replaces_dates_and_nothing_else():
    assert normalise("Wednesday, 25 November 2026 · 25 Nov 2026 · 2026-11-25T06:00:00+00:00 · 25 sources  ") == \
        "<DATE> · <DATE> · <DATE> · 25 sources\n"


@pytest.mark.parametrize("part, name", [("html", "demo-email.html"), ("text", "demo-email.txt")])
def test_demo_email_matches_its_snapshot(part, name):
    got = normalise(getattr(demo_email(), part))
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run UPDATE_GOLDEN=1 python -m pytest {__file__}"
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), str(path), "now", n=1))
        pytest.fail(f"the demo email's {part} part changed (UPDATE_GOLDEN=1 accepts it after review):\n{diff[:4000]}")
