"""Dates, clock times, weekdays and months as English writes them, read into comparable keys.

    written_dates("Talks resume on March 3, 2026.")   # [((3, 3), 2026, (16, 29))]
    resolve_year(3, 3, None, date(2026, 2, 20))       # date(2026, 3, 3): the year nearest publication

A bullet's date is a claim (``claims``) and a source's dates are what it can vouch for (``facts``); both
are read here, so "3 March" and "March 3rd" are one date. Other languages' dates are their ``Reading``'s
(``languages``).
"""

from __future__ import annotations

import re
from datetime import date

MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
               "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
RELATIVE_DAYS = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}
# Most weekdays in news are within the past week ("on Monday"); resolved against the published date.
WEEKDAY_LOOKBACK_DAYS = 7

TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s?([ap])\.?m\b\.?|\b(\d{1,2}):(\d{2})\b", re.IGNORECASE)
_MONTH_NAMES = "|".join(list(MONTHS) + list(_MONTH_ABBR))
_DATE_MD = re.compile(rf"\b(?P<m>{_MONTH_NAMES})\.?\s(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s(?P<y>\d{{4}})\b)?",
                      re.IGNORECASE)
_DATE_DM = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<m>{_MONTH_NAMES})\b\.?(?:,?\s(?P<y>\d{{4}})\b)?",
    re.IGNORECASE)
_DATE_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})\b")
MONTH_ALONE = re.compile(r"\b(?P<m>" + "|".join(m.capitalize() for m in MONTHS) + r")\b(?:\s(?P<y>\d{4})\b)?")
WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")s?\b", re.IGNORECASE)
RELATIVE = re.compile(r"\b(" + "|".join(RELATIVE_DAYS) + r")\b", re.IGNORECASE)


def resolve_year(month: int, day: int, year: int | None, published: date | None) -> date | None:
    if year is None and published is not None:
        # The year that puts the date nearest to publication.
        candidates = []
        for y in (published.year - 1, published.year, published.year + 1):
            try:
                candidates.append(date(y, month, day))
            except ValueError:
                pass
        return min(candidates, key=lambda d: abs(d - published), default=None)
    try:
        return date(year, month, day) if year else None
    except ValueError:
        return None


def _month_of(name: str) -> int:
    name = name.lower().rstrip(".")
    return MONTHS.get(name) or _MONTH_ABBR[name]


def written_dates(text: str) -> list[tuple[tuple[int, int], int | None, tuple[int, int]]]:
    """((month, day), year or None, span) for every written date."""
    out = []
    for rx in (_DATE_MD, _DATE_DM):
        for m in rx.finditer(text):
            day = int(m.group("d"))
            if 1 <= day <= 31:
                out.append(((_month_of(m.group("m")), day), int(m.group("y")) if m.group("y") else None, m.span()))
    for m in _DATE_ISO.finditer(text):
        mo, d = int(m.group("mo")), int(m.group("d"))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            out.append(((mo, d), int(m.group("y")), m.span()))
    return out


def time_key(m: re.Match) -> str:
    if m.group(3):  # 9 am, 9:30 p.m.
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
        return f"{hour}:{m.group(2) or '00'}"
    return f"{int(m.group(4))}:{m.group(5)}"


def times(text: str) -> list[tuple[str, tuple[int, int]]]:
    return [(time_key(m), m.span()) for m in TIME.finditer(text)]


# "de 6 h à 21 h": a clock time (9 p.m.) or a number of hours; with minutes ("14h30") it is a time.
_BARE_HOUR = re.compile(r"\b(\d{1,2})\s?h\b(?![\d:]|\.\d)")


def bare_hours(text: str) -> list[tuple[int, tuple[int, int]]]:
    return [(int(m.group(1)), m.span()) for m in _BARE_HOUR.finditer(text) if int(m.group(1)) <= 24]
