"""The daily service, ``newsletter run``: the scheduler's jobs, and how it stops.

    serve(cfg)     poll all day, send at send_at on the configured days (timetable in ``schedule``)

Each job logs one line with its outcome (poll: feeds, new articles, failed; send:
sent, failed, had it, owed), with the same figures as fields for ``--log-format json``.

Stopping. On SIGTERM or SIGINT no new job starts, and the one in flight stops
at its next safe point: a poll abandons the feeds not finished (each feed is
stored in one transaction, so the finished ones are kept); a build stops at
the next story boundary and records nothing, releasing the day's claim; a
send lets the message in flight finish and leaves the other recipients owed
for the next start. Connections close, one line says what was cut off, and
the process exits 0. A job that does not reach a safe point within
SHUTDOWN_LIMIT_S (a model or mail server hanging on one request) is abandoned
with an error line and exit status 1, inside systemd's default stop timeout.
A second signal exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from newsletter import schedule
from newsletter.addresses import unique_mailboxes
from newsletter.config import Config
from newsletter.errors import DeliveryError, Stopped
from newsletter.models import DeliveryStatus, FeedReport
from newsletter.pipeline import Sent, fetch, make_transport, open_edges, send, todays_key

log = logging.getLogger(__name__)

SHUTDOWN_LIMIT_S = 8.0  # the jobs' time to reach a safe point after a signal; the promise to operators is 10 s
WAKE_S = 1.0  # how often the main thread looks up from waiting (signals are handled between waits)
FORCED_EXIT = 1  # status when a job had to be abandoned mid-request
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Service:
    """The jobs ``run`` schedules, sharing one stop event, and what a stop cut off."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.stop = threading.Event()
        self.cut_off: list[str] = []
        self.running: dict[str, str] = {}  # job name -> what it is doing, for the stop's lines
        self._lock = threading.Lock()

    @contextmanager
    def _job(self, name: str, doing: str) -> Iterator[None]:
        if self.stop.is_set():
            raise Stopped(f"{name} not started")
        with self._lock:
            self.running[name] = doing
        try:
            yield
        except Stopped as e:
            with self._lock:
                self.cut_off.append(f"{name}: {e}")
            log.warning("%s stopped: %s", name, e, extra={"job": name, "outcome": "stopped"})
            raise
        finally:
            with self._lock:
                self.running.pop(name, None)

    def poll(self) -> list[FeedReport]:
        cfg = self.cfg
        with self._job("poll", f"polling {len(cfg.feeds)} feeds"):
            with open_edges(cfg, summarize=False) as edges:
                edges.stop = self.stop
                reports = fetch(cfg, edges)
        new, failed = sum(r.new for r in reports), sum(not r.ok for r in reports)
        log.info("poll: %d feeds, %d new articles, %d failed", len(reports), new, failed,
                 extra={"job": "poll", "outcome": "failed" if failed else "ok", "feeds": len(reports),
                        "new_articles": new, "failed": failed})
        return reports

    def send(self) -> Sent:
        """The daily send, the catch-up after a restart, and each retry: one guarded path."""
        cfg = self.cfg
        to = unique_mailboxes(cfg.newsletter.to)
        with self._job("send", f"sending today's issue to {len(to)} recipients"):
            try:
                with open_edges(cfg, transport=True) as edges:
                    edges.stop = self.stop
                    sent = send(cfg, edges)
            except DeliveryError as e:
                log.warning("send: failed before any delivery (%s); %d owed", e, len(to),
                            extra={"job": "send", "outcome": "failed", "sent": 0, "failed": 0, "owed": len(to)})
                return Sent(email=None, problems=[str(e)], unreachable=True)
            for p in sent.problems:
                log.warning("%s", p)
            now_sent = sum(d.ok and not d.earlier for d in sent.deliveries)
            had = sum(d.earlier and d.status is DeliveryStatus.SENT for d in sent.deliveries)
            failed = sum(d.status is DeliveryStatus.FAILED for d in sent.deliveries)
            owed = len(to) - now_sent - had
            if sent.in_progress:
                log.info("send: another process is building today's issue; it delivers it",
                         extra={"job": "send", "outcome": "elsewhere"})
                return sent
            log.info("send: issue sent to %d, %d failed, %d had it already, %d owed", now_sent, failed, had, owed,
                     extra={"job": "send", "outcome": "owed" if owed else "ok", "sent": now_sent, "failed": failed,
                            "had_it": had, "owed": owed})
            if self.stop.is_set() and owed:
                raise Stopped(f"stopped after the message in flight; {owed} recipients owed get it at the next start")
            return sent


def serve(cfg: Config, *, on_ready: Callable[[], None] | None = None) -> int:
    """Run the daily service until a signal; returns the exit status."""
    from apscheduler.schedulers.background import BackgroundScheduler

    make_transport(cfg)  # a missing SMTP password fails now, not at 07:00
    service = Service(cfg)
    now = datetime.now(timezone.utc)
    with open_edges(cfg, summarize=False) as edges:
        delivered = edges.store.issue_delivered(todays_key(cfg, now), unique_mailboxes(cfg.newsletter.to))
    missed = schedule.missed_send(cfg, now, delivered)
    scheduler = BackgroundScheduler(timezone=cfg.newsletter.tz)
    # A fresh start polls at once, unless it sends at once (the send fetches first anyway).
    catch_up = missed is not None and missed.catch_up
    send_now = schedule.add_jobs(scheduler, cfg, poll=service.poll, send=service.send, poll_now=not catch_up)
    if catch_up:
        send_now()
    elif missed is not None:
        log.warning("skipped today's %s send: started %.1f h after it, past [newsletter] grace_hours = %g; "
                    "the next issue carries the news", cfg.newsletter.send_at, missed.late.total_seconds() / 3600,
                    cfg.newsletter.grace_hours, extra={"job": "send", "outcome": "skipped"})

    received: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        if received:
            os.write(2, f"second {signal.Signals(signum).name}: exiting now\n".encode())
            os._exit(128 + signum)
        received.append(signum)
        service.stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in SIGNALS}
    try:
        scheduler.start()
        log.info("next issue at %s", schedule.next_send(cfg, now).astimezone(cfg.newsletter.tz).isoformat())
        if on_ready is not None:
            on_ready()
        while not service.stop.wait(WAKE_S):
            pass
        return _stop(service, scheduler, signal.Signals(received[0]).name)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(service: Service, scheduler, signame: str) -> int:
    with service._lock:
        running = list(service.running.values())
    log.info("%s: stopping; no new jobs%s", signame, f"; waiting for: {', '.join(running)}" if running else "")
    waiter = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True)
    waiter.start()
    waiter.join(SHUTDOWN_LIMIT_S)
    if waiter.is_alive():
        with service._lock:
            hung = list(service.running.values())
        log.error("stopped on %s: abandoned %s after %g s without a safe point (a request hanging); its "
                  "claims lapse after the store's lease", signame, ", ".join(hung) or "a job", SHUTDOWN_LIMIT_S)
        logging.shutdown()
        os._exit(FORCED_EXIT)
    cut = "; ".join(service.cut_off) or "nothing (no job was running)"
    log.info("stopped on %s; cut off: %s", signame, cut, extra={"job": "stop", "cut_off": service.cut_off})
    return 0
