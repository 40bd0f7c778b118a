"""The daily service's timetable: poll feeds during the day, send the issue at send_at, retry what failed.

Two APScheduler jobs share one process: ``poll`` every ``[fetch] poll_minutes``,
so short feeds lose nothing between issues, and ``send`` at ``[newsletter]
send_at`` in the newsletter's time zone. A send that leaves recipients owed
(the mail server down at 07:00, a refused address) is tried again with
backoff, starting ``[delivery] retry_minutes`` later and doubling, until the
local day ends. The catch-up send after a restart and every retry run the same
guarded send job as the daily one. A job that fails is logged and the service
keeps running. Because issues and deliveries are recorded in the store, a
restart after send_at sends today's issue only to recipients who have not had it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from itertools import count

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsletter.config import Config

log = logging.getLogger(__name__)

MISFIRE_GRACE_S = 6 * 3600  # a machine that slept through 07:00 still sends this morning
MAX_RETRY_GAP = timedelta(hours=1)


def send_time(cfg: Config) -> time:
    hour, minute = (int(x) for x in cfg.newsletter.send_at.split(":"))
    return time(hour, minute)


def due_today(cfg: Config, now: datetime, already_sent: bool) -> bool:
    """After a restart past send_at, today's issue is still owed unless it went out."""
    local = now.astimezone(cfg.newsletter.tz)
    return not already_sent and local.time() >= send_time(cfg)


def next_retry(cfg: Config, attempt: int, now: datetime) -> datetime | None:
    """When to try a send again after ``attempt`` tries that left recipients owed; None once the
    local day is over (tomorrow's issue then carries the news, as nobody got today's)."""
    first = timedelta(minutes=cfg.delivery.retry_minutes)
    gap = min(first * 2 ** (attempt - 1), max(first, MAX_RETRY_GAP))
    at = now + gap
    local_day = now.astimezone(cfg.newsletter.tz).date()
    return at if at.astimezone(cfg.newsletter.tz).date() == local_day else None


def add_jobs(scheduler: BaseScheduler, cfg: Config, *, poll: Callable[[], object],
             send: Callable[[], object]) -> Callable[[], None]:
    """Add the poll and daily send jobs; returns a function that runs the send job once, now
    (the catch-up after a restart), through the same guard and retries."""
    at = send_time(cfg)
    attempts = count(1)
    retry_ids = count(1)

    def guarded_send() -> None:
        try:
            result = send()
        except Exception:  # noqa: BLE001 - a failed turn must not stop the service
            log.exception("send job failed")
            result = None
        if result is None or getattr(result, "owed", False):
            attempt = next(attempts)
            now = datetime.now(cfg.newsletter.tz)
            when = next_retry(cfg, attempt, now)
            if when is None:
                log.warning("recipients are still owed today's issue; no retry left today")
                return
            log.warning("recipients are still owed today's issue; trying again at %s", when.strftime("%H:%M:%S"))
            scheduler.add_job(guarded_send, DateTrigger(run_date=when), id=f"send-retry-{next(retry_ids)}",
                              name="retry the daily issue", misfire_grace_time=MISFIRE_GRACE_S)

    def daily_send() -> None:
        nonlocal attempts
        attempts = count(1)  # a new day, a new round of retries
        guarded_send()

    scheduler.add_job(
        daily_send, CronTrigger(hour=at.hour, minute=at.minute, timezone=cfg.newsletter.tz),
        id="send", name="send the daily issue", misfire_grace_time=MISFIRE_GRACE_S, coalesce=True, max_instances=1,
    )
    scheduler.add_job(
        _guarded("poll", poll), IntervalTrigger(minutes=cfg.fetch.poll_minutes, timezone=cfg.newsletter.tz),
        id="poll", name="poll feeds", coalesce=True, max_instances=1,
    )
    return lambda: scheduler.add_job(guarded_send, id="catch-up", name="send today's overdue issue")


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - a failed turn must not stop the service
            log.exception("%s job failed; it runs again at its next turn", name)

    run.__name__ = f"{name}_job"
    return run
