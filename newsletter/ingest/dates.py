"""An entry's date: feedparser's reading of it, else ours of the forms it cannot read, else none.

feedparser reads RFC 822 and ISO 8601 and their usual slips. Feeds written by hand or by a CMS's
template also say "Friday, November 27, 2026 6:00 AM EST" or "27/11/2026 10:00"; python-dateutil
reads those. A date is taken only when it is whole and has one reading:

    read_date("Friday, November 27, 2026 6:00 AM EST")   # 2026-11-27 11:00 UTC
    read_date("27/11/2026 10:00")                        # 2026-11-27 10:00 UTC: 27 is no month
    read_date("03/04/2026 10:00")                        # None: 3 April or 4 March?
    read_date("November 2026")                           # None: which day?

A date with no zone, or a zone name no one can place ("BST": British or Bangladesh?), is read as UTC,
as feedparser reads one: a few hours out, never days.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

# RFC 822's US zones (as feedparser reads them), and the other names feeds commonly write, in seconds east of UTC.
_HOUR = 3600
ZONES = {
    "EST": -5 * _HOUR, "EDT": -4 * _HOUR, "CST": -6 * _HOUR, "CDT": -5 * _HOUR, "MST": -7 * _HOUR,
    "MDT": -6 * _HOUR, "PST": -8 * _HOUR, "PDT": -7 * _HOUR, "AKST": -9 * _HOUR, "AKDT": -8 * _HOUR,
    "HST": -10 * _HOUR, "WET": 0, "WEST": _HOUR, "CET": _HOUR, "CEST": 2 * _HOUR, "MEZ": _HOUR,
    "MESZ": 2 * _HOUR, "EET": 2 * _HOUR, "EEST": 3 * _HOUR, "MSK": 3 * _HOUR, "JST": 9 * _HOUR,
    "KST": 9 * _HOUR, "AEST": 10 * _HOUR, "AEDT": 11 * _HOUR, "NZST": 12 * _HOUR, "NZDT": 13 * _HOUR,
}
MAX_DATE_CHARS = 80  # "Wednesday, September 30, 2026 11:59:59 PM AKDT" is 46: anything much longer is no date
_YEAR_FIRST = re.compile(r"\s*\d{4}\b")  # 2026-03-04, 2026/03/04: year, month, day wherever it is written
_DOTTED = re.compile(r"\s*\d{1,2}\.\d{1,2}\.\d{2,4}\b")  # 04.03.2026: day first wherever it is written
# Two defaults that differ in every part a date must give: a part read from a default is a part missing.
_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))


def entry_date(entry) -> datetime | None:
    """The entry's published (else updated, else created) date in UTC, None when it has no readable one."""
    for key in ("published", "updated", "created"):
        if key not in entry:  # asked for "updated" that is not there, feedparser hands over "published" again
            continue
        parsed = _from_struct(entry.get(f"{key}_parsed"))
        if parsed is None:
            parsed = read_date(entry.get(key) or "")
        if parsed is not None:
            return parsed
    return None


def _from_struct(t) -> datetime | None:
    if not t:
        return None
    try:
        return datetime(*t[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None


def read_date(text: str) -> datetime | None:
    """``text`` as a UTC datetime when it names one day without doubt (see the module's docstring), else None."""
    text = text.strip()
    if not text or len(text) > MAX_DATE_CHARS:
        return None
    if _YEAR_FIRST.match(text):
        orders = [{"yearfirst": True}]
    elif _DOTTED.match(text):
        orders = [{"dayfirst": True}]
    else:
        orders = [{"dayfirst": False}, {"dayfirst": True}]  # both must agree: 27/11 does, 03/04 does not
    readings = {_parse(text, default, order) for default in _DEFAULTS for order in orders}
    if len(readings) != 1 or None in readings:
        return None
    return readings.pop()


def _parse(text: str, default: datetime, order: dict[str, bool]) -> datetime | None:
    from dateutil import parser as dateutil_parser  # here: most feeds' dates are feedparser's, and never load it

    try:
        when = dateutil_parser.parse(text, default=default, tzinfos=_zone, **order)
    except (ValueError, OverflowError):
        return None
    return when.astimezone(timezone.utc)


def _zone(name: str | None, offset: int | None) -> int:
    """dateutil's question: the zone ``name`` (or ``offset``, in seconds) stands for. Unknown: UTC."""
    if offset is not None:
        return offset
    return ZONES.get((name or "").upper(), 0)
