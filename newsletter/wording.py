"""Counts and times as a person reads them in the CLI's lines ("1 topic", "2026-11-28 07:00 UTC").

    counted(1, "topic")                   # '1 topic'
    counted(2, "address", "addresses")    # '2 addresses'
    money(Decimal("0.0123"), "USD")       # '≈ 0.012 USD'
    moment(datetime(2026, 11, 28, 7, 0, tzinfo=timezone.utc))   # '2026-11-28 07:00 UTC'

JSON keeps ISO 8601 for machines; these are for the lines printed beside it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.config import Config, LLMSettings  # config imports this module
    from newsletter.models import Usage


def counted(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def usage_said(u: Usage, llm: LLMSettings | None = None) -> str:
    """An issue's model cost as the run report and the service's send line say it: tokens, and what they
    cost when ``llm`` has prices."""
    unanswered = f" ({counted(u.unanswered, 'more call')} got no answer)" if u.unanswered else ""
    uncounted = (f" (the server gave no token counts for {counted(u.uncounted, 'call')}: not in these figures)"
                 if u.uncounted else "")
    priced = ""
    if llm is not None and llm.priced:
        amount = llm.cost(u.prompt_tokens, u.completion_tokens, calls=u.calls, uncounted=u.uncounted)
        priced = ", cost unknown" if amount is None else f" {money(amount, llm.currency)}"
    return (f"model: {counted(u.calls, 'answered call')}{unanswered}, {u.prompt_tokens} prompt + "
            f"{u.completion_tokens} completion tokens{priced}{uncounted}, {u.cached} answers reused from earlier runs")


def money(amount: Decimal, currency: str) -> str:
    """A cost as people read it, one rule everywhere: "0 USD" for nothing; below 1, two significant
    digits ("≈ 0.00028 USD", "≈ 0.012 USD", "≈ 0.5 USD"); from 1, to the cent ("≈ 12.35 USD"). Halves
    round up. "≈": tokens × the configured prices, not the provider's bill (which may discount
    cached prompts, or round)."""
    if amount == 0:
        return f"0 {currency}"
    if amount < 1:
        step = Decimal(1).scaleb(amount.adjusted() - 1)  # the second significant digit's place
        amount = amount.quantize(step, ROUND_HALF_UP)
    if amount >= 1:  # also 0.995 once rounded: "1.00", as any amount from 1
        return f"≈ {amount.quantize(Decimal('0.01'), ROUND_HALF_UP)} {currency}"
    return f"≈ {_plain(amount)} {currency}"


def _plain(amount: Decimal) -> str:
    """0.00028, never 2.8E-4; and 0.01, not 0.010."""
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
