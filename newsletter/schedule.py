"""The daily service: poll feeds during the day, send the issue at send_at.

Two APScheduler jobs share one process: ``poll`` runs ``pipeline.fetch``
every ``[fetch] poll_minutes`` so short feeds lose nothing between issues, and
``send`` runs ``pipeline.send_issue`` at ``[newsletter] send_at`` in the
newsletter's time zone. A job that fails is logged and retried at its next
turn; the service keeps running. Because issues and deliveries are recorded
in the store, a restart after send_at sends today's issue only to recipients
who have not had it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsletter.config import Config

log = logging.getLogger(__name__)


def send_time(cfg: Config) -> time:
    hour, minute = (int(x) for x in cfg.newsletter.send_at.split(":"))
    return time(hour, minute)


def due_today(cfg: Config, now: datetime, already_sent: bool) -> bool:
    """After a restart past send_at, today's issue is still owed unless it went out."""
    local = now.astimezone(cfg.newsletter.tz)
    return not already_sent and local.time() >= send_time(cfg)


def add_jobs(scheduler: BaseScheduler, cfg: Config, *, poll: Callable[[], object], send: Callable[[], object]) -> None:
    at = send_time(cfg)
    scheduler.add_job(
        _guarded("send", send), CronTrigger(hour=at.hour, minute=at.minute, timezone=cfg.newsletter.tz),
        id="send", name="send the daily issue",
        misfire_grace_time=6 * 3600,  # a machine that slept through 07:00 still sends this morning
        coalesce=True, max_instances=1,
    )
    scheduler.add_job(
        _guarded("poll", poll), IntervalTrigger(minutes=cfg.fetch.poll_minutes, timezone=cfg.newsletter.tz),
        id="poll", name="poll feeds", coalesce=True, max_instances=1,
    )


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - a failed turn must not stop the service
            log.exception("%s job failed; it runs again at its next turn", name)

    run.__name__ = f"{name}_job"
    return run
