"""Counts and times as a person reads them in the CLI's lines ("1 topic", "2026-11-28 07:00 UTC").

    counted(1, "topic")                   # '1 topic'
    counted(2, "address", "addresses")    # '2 addresses'
    moment(datetime(2026, 11, 28, 7, 0, tzinfo=timezone.utc))   # '2026-11-28 07:00 UTC'

JSON keeps ISO 8601 for machines; these are for the lines printed beside it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.config import Config  # config imports this module
    from newsletter.models import Usage


def counted(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def usage_said(u: Usage) -> str:
    """An issue's model cost as the run report and the service's send line say it."""
    unanswered = f" ({counted(u.unanswered, 'more call')} got no answer)" if u.unanswered else ""
    uncounted = (f" (the server gave no token counts for {counted(u.uncounted, 'call')}: not in these figures)"
                 if u.uncounted else "")
    return (f"model: {counted(u.calls, 'answered call')}{unanswered}, {u.prompt_tokens} prompt + "
            f"{u.completion_tokens} completion tokens{uncounted}, {u.cached} answers reused from earlier runs")


def moment(when: datetime, zone: str | None = None) -> str:
    """To the minute, with the zone's name: ``zone`` (an IANA name) when given, else the abbreviation
    the time carries (UTC, CET); seconds and microseconds say nothing to an operator."""
    label = zone or when.tzname() or "UTC"
    return f"{when:%Y-%m-%d %H:%M} {label}"


def utc_moment(when: datetime) -> str:
    return moment(when.astimezone(timezone.utc), "UTC")


def local_moment(cfg: Config, when: datetime) -> str:
    """A time in the newsletter's zone, named: a log line's own timestamp is UTC, so a bare 07:00 is ambiguous."""
    return moment(when.astimezone(cfg.newsletter.tz), cfg.newsletter.timezone)


def local_clock(cfg: Config, when: datetime) -> str:
    """The time of day to the second in the newsletter's zone, named ("00:51:46 Europe/Berlin")."""
    return f"{when.astimezone(cfg.newsletter.tz):%H:%M:%S} {cfg.newsletter.timezone}"
