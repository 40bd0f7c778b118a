"""The daily service's timetable: poll feeds during the day, send the issue at send_at, retry what failed.

Two APScheduler jobs share one process: ``poll`` every ``[fetch] poll_minutes``,
so short feeds lose nothing between issues, and ``send`` at ``[newsletter]
send_at`` on ``[newsletter] days``, in the newsletter's time zone. When a send
falls is one pure function, ``next_send``, which the send job's trigger asks:

- a send_at inside the spring-forward gap (02:30 on the night clocks skip from
  02:00 to 03:00) sends once, at the first minute that exists (03:00);
- a send_at inside the repeated fall-back hour sends once, at its first occurrence.

A send that leaves recipients owed (the mail server down at 07:00, a refused
address) is tried again with backoff, starting ``[delivery] retry_minutes``
later and doubling, until the local day ends. The catch-up send after a restart
and every retry run the same guarded send job as the daily one. A daemon that
starts after a send it missed sends at once when it is within ``[newsletter]
grace_hours`` of it and the same local day, else skips it with a log line (the
next issue carries the news). A job that fails is logged and the service keeps running.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import count
from time import monotonic

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsletter.config import DAY_NAMES, Config
from newsletter.errors import NewsletterError, Stopped
from newsletter.wording import local_clock

log = logging.getLogger(__name__)

MAX_RETRY_GAP = timedelta(hours=1)
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
MAX_GAP = timedelta(hours=3)  # longer than any clock change: a send_at is never more than this inside a gap
ONE_MINUTE = timedelta(minutes=1)
LOOKAHEAD_DAYS = 8  # a send day comes at least once a week


def send_time(cfg: Config) -> time:
    hour, minute = (int(x) for x in cfg.newsletter.send_at.split(":"))
    return time(hour, minute)


def send_days(cfg: Config) -> frozenset[int]:
    """The weekdays (0 = Monday) an issue goes out."""
    days = cfg.newsletter.days
    if days == "every day":
        return EVERY_DAY
    if days == "weekdays":
        return WEEKDAYS
    return frozenset(DAY_NAMES.index(d) for d in days)


def send_instant(cfg: Config, day: date) -> datetime:
    """When the send of local ``day`` happens, in UTC: send_at, or the first minute after a gap it
    falls in; the first of two when the clock repeats it."""
    tz = cfg.newsletter.tz
    wall = datetime.combine(day, send_time(cfg))
    limit = wall + MAX_GAP
    while wall < limit:
        local = wall.replace(tzinfo=tz, fold=0)  # fold=0: the earlier of a repeated time
        instant = local.astimezone(timezone.utc)
        if instant.astimezone(tz).replace(tzinfo=None) == wall:  # this wall time exists
            return instant
        wall += ONE_MINUTE
    raise AssertionError(f"no valid minute within {MAX_GAP} after {cfg.newsletter.send_at} on {day}")


def next_send(cfg: Config, after: datetime) -> datetime:
    """The first send strictly after ``after`` (aware), in UTC."""
    days = send_days(cfg)
    start = after.astimezone(cfg.newsletter.tz).date() - timedelta(days=1)  # a gap can push a send past midnight
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = start + timedelta(days=offset)
        if day.weekday() in days and (at := send_instant(cfg, day)) > after:
            return at
    raise AssertionError("a send day comes every week")


def last_send(cfg: Config, at: datetime) -> datetime | None:
    """The latest send at or before ``at``, in UTC (None only if there was none in the past week)."""
    days = send_days(cfg)
    today = at.astimezone(cfg.newsletter.tz).date()
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = today - timedelta(days=offset)
        if day.weekday() in days and (when := send_instant(cfg, day)) <= at:
            return when
    return None


@dataclass(frozen=True)
class Missed:
    """A send the daemon was not running for: sent now when ``catch_up``, else skipped."""

    due_at: datetime
    late: timedelta
    catch_up: bool


def missed_send(cfg: Config, now: datetime, already_sent: bool) -> Missed | None:
    """At start: the send of today it missed, if today's issue has not gone out.

    Only today's: the issue key is the local day, and tomorrow's issue carries the news."""
    due = last_send(cfg, now)
    tz = cfg.newsletter.tz
    if already_sent or due is None or due.astimezone(tz).date() != now.astimezone(tz).date():
        return None
    late = now - due
    return Missed(due, late, late <= timedelta(hours=cfg.newsletter.grace_hours))


def due_today(cfg: Config, now: datetime, already_sent: bool) -> bool:
    """Whether a daemon starting at ``now`` sends at once."""
    missed = missed_send(cfg, now, already_sent)
    return missed is not None and missed.catch_up


def next_retry(cfg: Config, attempt: int, now: datetime) -> datetime | None:
    """When to try a send again after ``attempt`` tries that left recipients owed; None once the
    local day is over (tomorrow's issue then carries the news, as nobody got today's)."""
    first = timedelta(minutes=cfg.delivery.retry_minutes)
    gap = min(first * 2 ** (attempt - 1), max(first, MAX_RETRY_GAP))
    at = now + gap
    local_day = now.astimezone(cfg.newsletter.tz).date()
    return at if at.astimezone(cfg.newsletter.tz).date() == local_day else None


class SendTrigger(BaseTrigger):
    """APScheduler's side of ``next_send``: the daily send on the configured days, DST rules included."""

    def __init__(self, cfg: Config):
        self.cfg = cfg

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        after = previous_fire_time if previous_fire_time is not None else now - timedelta(microseconds=1)
        return next_send(self.cfg, after)

    def __str__(self) -> str:
        return f"send at {self.cfg.newsletter.send_at} {self.cfg.newsletter.timezone} ({self.cfg.newsletter.days})"


def add_jobs(scheduler: BaseScheduler, cfg: Config, *, poll: Callable[[], object] | None,
             send: Callable[[], object], poll_now: bool = False, prefix: str = "",
             on_retry: Callable[[datetime | None], None] = lambda _at: None) -> Callable[[], None]:
    """Add the poll and daily send jobs; returns a function that runs the send job once, now
    (the catch-up after a restart), through the same guard and retries. ``poll_now``: the first
    poll at once rather than one interval after the start. ``poll`` None: no poll job (the service
    polls feeds shared by several newsletters itself); ``prefix`` keeps each newsletter's job ids apart.
    ``on_retry`` hears of each retry booked, and None once none is pending (for status to tell)."""
    attempts = count(1)
    retry_ids = count(1)
    grace_s = max(1, round(cfg.newsletter.grace_hours * 3600))  # a machine that slept through send_at

    def guarded_send() -> None:
        try:
            result = send()
        except Stopped:
            return  # the service is stopping: no retry; the owed recipients get it at the next start
        except NewsletterError as e:  # its message says what to do (the store gone, say): no traceback
            log.error("send job failed: %s", e, extra={"job": "send", "outcome": "failed"})
            result = None
        except Exception:  # noqa: BLE001 - a failed turn must not stop the service
            log.exception("send job failed")
            result = None
        if not (result is None or getattr(result, "owed", False)):
            on_retry(None)
            return
        if scheduler.state == STATE_STOPPED:
            log.info("recipients are still owed today's issue; the service is stopping, so they get it at "
                     "the next start", extra={"job": "send", "retry_at": None})
            return
        attempt = next(attempts)
        now = datetime.now(cfg.newsletter.tz)
        when = next_retry(cfg, attempt, now)
        on_retry(when)
        if when is None:
            log.warning("recipients are still owed today's issue; no retry left today",
                        extra={"job": "send", "retry_at": None})
            return
        log.warning("recipients are still owed today's issue; trying again at %s", local_clock(cfg, when),
                    extra={"job": "send", "retry_at": when.isoformat()})
        # Booked from a thread of its own: from this job's thread add_job waits for the job-store lock,
        # which a stop that began meanwhile holds while it waits for this very job (a deadlock).
        threading.Thread(target=scheduler.add_job, args=(guarded_send, DateTrigger(run_date=when)), daemon=True,
                         kwargs={"id": f"{prefix}send-retry-{next(retry_ids)}", "name": "retry the daily issue",
                                 "misfire_grace_time": grace_s}).start()

    def daily_send() -> None:
        nonlocal attempts
        attempts = count(1)  # a new day, a new round of retries
        guarded_send()

    scheduler.add_job(daily_send, SendTrigger(cfg), id=f"{prefix}send", name="send the daily issue",
                      misfire_grace_time=grace_s, coalesce=True, max_instances=1)
    first_poll = {"next_run_time": datetime.now(timezone.utc)} if poll_now else {}
    if poll is not None:
        scheduler.add_job(
            guarded("poll", poll), IntervalTrigger(minutes=cfg.fetch.poll_minutes, timezone=cfg.newsletter.tz),
            id="poll", name="poll feeds", coalesce=True, max_instances=1, **first_poll,
        )
    # However late its turn comes: the start decided that today's issue is owed, and on a loaded machine the
    # scheduler started over a second after this, which APScheduler's default grace (1 s) dropped as missed.
    return lambda: scheduler.add_job(guarded_send, id=f"{prefix}catch-up", name="send today's overdue issue",
                                     misfire_grace_time=None)


def guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """``job`` as a scheduler job: a failed turn is logged and the next turn runs; a stop ends it quietly."""
    def run() -> None:
        try:
            job()
        except Stopped:
            pass  # the service is stopping; the job said what it cut off
        except NewsletterError as e:  # its message names the key and the fix: a traceback each turn adds noise
            log.error("%s job failed (it runs again at its next turn): %s", name, e, extra={"job": name, "outcome": "failed"})
        except Exception:  # noqa: BLE001 - a failed turn must not stop the service
            log.exception("%s job failed; it runs again at its next turn", name)

    run.__name__ = f"{name}_job"
    return run


class PollOverrun(logging.Filter):
    """A poll still running when its next turn comes: APScheduler skips the turn, and said so at each skipped
    turn in its own words ("maximum number of running instances reached"), every other minute all day when
    a [fetch] timeout or budget cannot fit in poll_minutes. Said here once per poll job, in ours, with the
    fix; APScheduler's line for those jobs is dropped (``filter``).

        overrun = PollOverrun({"poll-0": [cfg]})   # job id -> the newsletters that poll polls
        overrun.watch(scheduler)
        ...
        overrun.unwatch()
    """

    SKIPPED = 'Execution of job "%s" skipped'  # the start of APScheduler's line (3.x), which names the job first

    def __init__(self, polls: dict[str, list[Config]]):
        super().__init__()
        self.polls = polls
        self.started: dict[str, float] = {}  # job id -> when its turn in flight was handed to a thread
        self.said: set[str] = set()

    def watch(self, scheduler: BaseScheduler) -> None:
        scheduler.add_listener(self._event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES)
        logging.getLogger("apscheduler.scheduler").addFilter(self)

    def unwatch(self) -> None:
        logging.getLogger("apscheduler.scheduler").removeFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return not (str(record.msg).startswith(self.SKIPPED) and getattr(job, "id", None) in self.polls)

    def _event(self, event: JobEvent) -> None:
        if event.job_id not in self.polls:
            return
        if event.code == EVENT_JOB_SUBMITTED:
            self.started[event.job_id] = monotonic()
            return
        if event.job_id in self.said:
            return
        self.said.add(event.job_id)
        taken = monotonic() - self.started.get(event.job_id, monotonic())
        group = self.polls[event.job_id]
        log.warning("poll: the previous poll is still running after %.0f s, at its next turn ([fetch] poll_minutes "
                    "= %d): this turn is skipped, and so is every turn that finds a poll still running (said once). "
                    "Fix: %s.", taken, min(c.fetch.poll_minutes for c in group), _overrun_fix(group),
                    extra={"job": "poll", "outcome": "skipped", "poll_seconds": round(taken)})


def _overrun_fix(group: list[Config]) -> str:
    """What to change: the interval, above what one poll may take (the slowest feed, then the article pages,
    then the embeddings, each with its own limit), or, when those fit, the feeds' pace."""
    lead = group[0]  # whose [fetch] the poll uses (service.poll_plan)
    limits = [("[fetch] timeout", lead.fetch.timeout)]
    if any(source.full_text for c in group for source in c.feeds):
        limits.append(("[fetch] full_text_seconds", lead.fetch.full_text_seconds))
    embedding = [c.fetch.embeddings_seconds for c in group if c.llm.embeddings_model]
    if embedding and max(embedding) > 0:
        limits.append(("[fetch] embeddings_seconds", max(embedding)))  # one budget for all: pipeline.embed_shared
    total = sum(seconds for _, seconds in limits)
    if total < min(c.fetch.poll_minutes for c in group) * 60:
        return ("raise [fetch] poll_minutes: its limits fit, so the feeds are many or slow for it "
                "(or raise [fetch] concurrency)")
    said = " + ".join(f"{key} = {seconds:g} s" for key, seconds in limits)
    return (f"set [fetch] poll_minutes to {math.floor(total / 60) + 1} or more, above what one poll may take "
            f"({said}), or lower those")
