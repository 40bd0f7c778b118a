"""The daily service, ``newsletter run``: the scheduler's jobs, and how it stops.

    serve([cfg, ...])               poll all day, send each newsletter at its send_at on its days
    serve(cfgs, worker=True)        one of several processes on one PostgreSQL store (see ``leases``)

Several newsletters (one config file each) share one process and one scheduler: a send job per
newsletter (timetable in ``schedule``) and a poll per store, which fetches a feed that several
newsletters read once, and embeds the new articles with each newsletter's embeddings model (once
per model: ``pipeline.embed_shared``).

Each job logs one line with its outcome (poll: feeds, new articles, failed, the first
FAILED_SHOWN failing feeds with their reason (field ``failed_feeds``), and with an
embeddings model the articles embedded and those waiting for the next poll, summed over the
models when the newsletters of a store use several; send: sent, failed (the first FAILED_SHOWN
refused addresses with the server's words, field ``failed_recipients``), had it, owed), with
the same figures as fields for ``--log-format json``.

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

Each `run` writes in the store that it is at work, at start and every ``presence.BEAT``, so that
``status`` can say whether the service runs. Another `run` found at work on one of the same
newsletters is warned of once, by pid: both would poll every feed (their sends still make one
issue, each reader one copy).

SIGHUP reloads nothing (the config is read at start): it is logged with what to do, a restart, and
the service runs on, rather than dying silently as SIGHUP's default would.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from newsletter import locales, logs, presence, schedule
from newsletter.addresses import unique_mailboxes
from newsletter.config import Config
from newsletter.controls import escape_controls
from newsletter.edges import Edges, check_secrets, open_edges
from newsletter.errors import ConfigError, DeliveryError, Stopped
from newsletter.leases import LeaseSettings, poll_leased
from newsletter.models import DeliveryStatus, FeedReport, FeedSource
from newsletter.pipeline import Sent, embed_shared, fetch, issue_date, send
from newsletter.status import Upcoming, owed_by, upcoming
from newsletter.web.tokens import site_root
from newsletter.wording import counted, local_moment, usage_said, utc_moment

log = logging.getLogger(__name__)

SHUTDOWN_LIMIT_S = 8.0  # the jobs' time to reach a safe point after a signal; the promise to operators is 10 s
WAKE_S = 1.0  # how often the main thread looks up from waiting (signals are handled between waits)
FORCED_EXIT = 1  # status when a job had to be abandoned mid-request
STOPPED_MARK_S = 1.5  # the stop's last word to the store, that it stopped cleanly: within the 10 s promised
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Service:
    """The jobs ``run`` schedules for its newsletters, sharing one stop event, and what a stop cut off."""

    def __init__(self, cfgs: list[Config], *, worker: bool = False):
        self.cfgs = cfgs
        self.worker = worker  # one of several processes on one PostgreSQL store: poll leased feeds only
        self.stop = threading.Event()
        self.cut_off: list[str] = []
        self.running: dict[str, str] = {}  # job name -> what it is doing, for the stop's lines
        self.opened: set[str] = set()  # the stores this service has used: one gone later is not made anew
        self.me = presence.service_owner()
        self.digests = {c.newsletter.title: presence.config_digest(c) for c in cfgs}  # as read at the start
        self.started = datetime.now(timezone.utc)
        self.warned: set[str] = set()  # the other services at work on our newsletters, each warned of once
        self._lock = threading.Lock()

    @property
    def cfg(self) -> Config:
        return self.cfgs[0]

    @contextmanager
    def edges(self, cfg: Config, **options) -> Iterator[Edges]:
        """``open_edges`` for a job: the first opens (and makes) the store; later ones require it, so that a
        store folder renamed or unmounted mid-run is reported, not replaced by an empty store that would
        send today's issue again."""
        with open_edges(cfg, create=cfg.store_url not in self.opened, **options) as edges:
            with self._lock:
                self.opened.add(cfg.store_url)
            yield edges

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
            log.warning("%s stopped: %s", name, e, extra={"job": name.split()[0], "outcome": "stopped"})
            raise
        finally:
            with self._lock:
                self.running.pop(name, None)

    def poll(self, group: list[Config] | None = None) -> list[FeedReport]:
        """Poll the feeds of the newsletters in ``group`` (all by default), which share one store:
        a feed two newsletters read is fetched once."""
        group = group or self.cfgs
        lead, sources = poll_plan(group)
        with self._job("poll", f"polling {len(sources)} feeds"):
            with self.edges(lead, summarize=False) as edges:
                edges.stop = self.stop
                if self.worker:
                    reports = poll_leased(lead, sources, edges, LeaseSettings.of(lead))
                else:
                    reports = fetch(lead, edges, sources=sources, embed=False).feeds
                # With each newsletter's own model, not only the lead's: every build then reads stored vectors.
                # A worker embeds what its own leased feeds hold: another worker embeds the rest.
                embedded = embed_shared(group, edges, {r.url for r in reports} if self.worker else None) \
                    if reports else []
        if self.worker and not reports:
            return reports  # every feed is polled or leased by another worker: nothing to say
        new, bad = sum(r.new for r in reports), [r for r in reports if r.failed]  # not those disabled before
        fields = {"job": "poll", "outcome": "failed" if bad else "ok", "feeds": len(reports),
                  "new_articles": new, "failed": len(bad)}
        line, args = "poll: %d feeds, %d new articles, %d failed", [len(reports), new, len(bad)]
        if bad:  # which ones and why, so the operator need not run status to know where to look
            names = {source.url: source.name for source in sources}
            shown = [{"url": r.url, "name": names.get(r.url), "error": _short(r.error)} for r in bad[:FAILED_SHOWN]]
            said = "; ".join(f"{f['name'] or f['url']}: {f['error']}" for f in shown)
            line += " (%s)"
            args.append(said + (f"; and {len(bad) - len(shown)} more" if len(bad) > len(shown) else ""))
            fields.update(failed_feeds=shown)
        if embedded:
            done, waiting = sum(e.embedded for e in embedded), sum(e.waiting for e in embedded)
            line += "; %d embedded, %d wait for the next poll"
            args += [done, waiting]
            fields.update(embedded=done, embeddings_waiting=waiting)
        if len(embedded) > 1:  # the counts above are sums over the models
            line += " (%d embeddings models)"
            args.append(len(embedded))
            fields.update(embeddings_models=len(embedded))
        log.info(line, *args, extra=fields)
        return reports

    def beat(self, group: list[Config], *, stopped: bool = False) -> None:
        """Write in the store of ``group`` that this service is at work (or, ``stopped``, that it stopped
        cleanly), and warn of another `run` at work on one of its newsletters."""
        titles = [c.newsletter.title for c in group]
        try:
            with self.edges(group[0], summarize=False) as edges:
                now = edges.clock.now()
                if stopped:
                    edges.store.service_stopped(self.me, now)
                    return
                read = {c.newsletter.title: self.digests[c.newsletter.title] for c in group}
                seen = edges.store.service_seen(self.me, read, worker=self.worker, started_at=self.started, at=now)
        except Exception as e:  # noqa: BLE001 - a poll or send reports a store in trouble; this only tells status
            log.debug("could not record that the service is at work: %s", e)
            return
        for other in presence.rivals(seen, self.me, titles, worker=self.worker, now=now):
            if other.owner in self.warned:
                continue
            self.warned.add(other.owner)
            shared = [t for t in titles if t in other.newsletters]
            how = ("start every process on this store with --worker, or stop one" if self.worker or other.worker
                   else "stop one (or, on PostgreSQL, start each with --worker to share the feeds)")
            log.warning("another `newsletter run` (%s, started %s) serves %s from this store too: both poll every "
                        "feed; %s. Their sends still make one issue and send each reader one copy",
                        other.pid, utc_moment(other.started_at), ", ".join(shared), how,
                        extra={"job": "start", "outcome": "another service", "other_service": other.owner})

    def note_retry(self, cfg: Config, at: datetime | None) -> None:
        """Write in the store when the send of ``cfg`` is tried again (None: no retry pending), for status:
        the retry lives in this process's scheduler."""
        try:
            with self.edges(cfg, summarize=False) as edges:
                edges.store.service_retry(self.me, cfg.newsletter.title, at)
        except Exception as e:  # noqa: BLE001 - status loses a line; the retry itself stands
            log.debug("could not record the send's retry: %s", e)

    def send(self, cfg: Config | None = None) -> Sent:
        """The daily send, the catch-up after a restart, and each retry: one guarded path."""
        cfg = cfg or self.cfg
        to = unique_mailboxes(cfg.newsletter.to)
        # Several newsletters: each line names its own; one: the plain "send:" an operator knows.
        label = "send" if len(self.cfgs) == 1 else f"send [{cfg.newsletter.title}]"
        fields = {"job": "send", "newsletter": cfg.newsletter.title}
        with self._job(label, f"sending today's {cfg.newsletter.title} to {len(to)} recipients"):
            if self.worker:
                # The feeds of this newsletter that no worker polled this interval, polled now (leased,
                # like any poll), so the issue is not built before the news is in.
                with self.edges(cfg, summarize=False) as edges:
                    edges.stop = self.stop
                    poll_leased(cfg, cfg.feeds, edges, LeaseSettings.of(cfg))
            try:
                with self.edges(cfg, transport=True) as edges:
                    edges.stop = self.stop
                    # A 5xx refusal is the server's final word: the retries leave it failed.
                    # A worker builds from the store: the workers' polls fetch each feed once per interval.
                    sent = send(cfg, edges, retry_refused=False, fetch_first=not self.worker)
            except DeliveryError as e:
                log.warning("%s: failed before any delivery (%s); %d owed", label, e, len(to),
                            extra={**fields, "outcome": "failed", "sent": 0, "failed": 0, "owed": len(to)})
                return Sent(email=None, problems=[str(e)], unreachable=True)
            for p in sent.problems:
                log.warning("%s", p)
            now_sent = sum(d.ok and not d.earlier for d in sent.deliveries)
            had = sum(d.earlier and d.status is DeliveryStatus.SENT for d in sent.deliveries)
            failed = sum(d.status is DeliveryStatus.FAILED for d in sent.deliveries)
            # Of those this send serves: a reader who left by the link is owed nothing.
            owed = len(sent.to) - now_sent - had - failed
            if sent.in_progress:
                log.info("%s: another process is building today's issue; it delivers it", label,
                         extra={**fields, "outcome": "elsewhere"})
                return sent
            if sent.nothing_new:
                log.info("%s: nothing new since the last issue; no issue sent ([newsletter] send_empty = false)",
                         label, extra={**fields, "outcome": "nothing new"})
                return sent
            # Which readers were refused, and why: such an address fails each day until it leaves [newsletter] to.
            refused = [d for d in sent.deliveries if d.status is DeliveryStatus.FAILED]
            shown = [{"recipient": d.recipient, "error": _short(d.error)} for d in refused[:FAILED_SHOWN]]
            which = "; ".join(f"{f['recipient']}: {f['error']}" for f in shown)
            which += f"; and {len(refused) - len(shown)} more" if len(refused) > len(shown) else ""
            # The issue this send built, and what its model calls cost: a `send` from cron prints that, and
            # under `run` this line is all the journal keeps of the morning.
            made, cost = "", {}
            if sent.built is not None:
                issue = sent.built.issue
                made = (f"; the issue: {counted(len(issue.briefings), 'briefing')}, "
                        f"{len(issue.sidebar)} in Recent news"
                        + (f"; {usage_said(issue.usage, cfg.llm)}" if issue.usage is not None else ""))
                if issue.usage is not None:
                    u = issue.usage
                    cost = u.figures()
                    # With [llm] prices: the tokens' cost, unrounded, in model_cost_currency (null: no call gave
                    # token counts, as the text's "cost unknown").
                    if cfg.llm.priced:
                        amount = cfg.llm.cost(u.prompt_tokens, u.completion_tokens, calls=u.calls,
                                              uncounted=u.uncounted)
                        cost |= {"model_cost": None if amount is None else float(amount),
                                 "model_cost_currency": cfg.llm.currency}
            log.info("%s: issue sent to %d, %d failed%s, %d had it already, %d owed%s", label, now_sent, failed,
                     f" ({which})" if which else "", had, owed, made,
                     extra={**fields, "outcome": "owed" if owed else "ok", "sent": now_sent, "failed": failed,
                            "had_it": had, "owed": owed, **({"failed_recipients": shown} if shown else {}), **cost})
            if self.stop.is_set() and owed:
                raise Stopped(f"stopped after the message in flight; {owed} recipients owed get it at the next start")
            return sent


FAILED_SHOWN = 3  # failing feeds a poll's line names, and refused readers a send's; the rest are counted ("and 5 more")
REASON_CHARS = 100  # a failing feed's reason in that line, cut to this


def _short(error: str | None) -> str:
    """A feed's error for one log line: control characters visible, no line break, at most REASON_CHARS."""
    text = " ".join(escape_controls(error or "failed").split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1] + "…"


def poll_plan(group: list[Config]) -> tuple[Config, list[FeedSource]]:
    """For newsletters sharing one store: whose [fetch] and [store] settings the poll uses (the
    first's; the embeddings models share one budget, see ``embed_shared``),
    and every feed once, in the order the configs name them."""
    seen: dict[str, FeedSource] = {}
    for cfg in group:
        for source in cfg.feeds:
            seen.setdefault(source.url, source)
    return group[0], list(seen.values())


def by_store(cfgs: list[Config]) -> list[list[Config]]:
    """The newsletters grouped by the store they use: one poll job per store."""
    groups: dict[str, list[Config]] = {}
    for cfg in cfgs:
        groups.setdefault(cfg.store_url, []).append(cfg)
    return list(groups.values())


def check_together(cfgs: list[Config]) -> None:
    """Mistakes only visible across files: two newsletters with one title would share one issue a day
    (the key is title + day); two on one store forgetting articles at different ages would delete
    what the other still needs; two publishing at one web address or into one archive folder would
    overwrite each other's pages, and `serve` answers one newsletter's unsubscribe links only."""
    titles: dict[str, Config] = {}
    stores: dict[str, Config] = {}
    web: dict[tuple[str, object], Config] = {}
    paths: set[Path] = set()
    for cfg in cfgs:
        if cfg.path in paths:  # -c a.toml -c a.toml: one mistake, not a clash of titles with itself
            raise ConfigError(cfg.path, None, "this file was given twice (-c); each file is one newsletter.",
                              "give each config file once.")
        paths.add(cfg.path)
        first = titles.setdefault(cfg.newsletter.title, cfg)
        if first is not cfg:
            raise ConfigError(cfg.path, "[newsletter] title", f"{cfg.newsletter.title!r} is also the title in "
                              f"{first.path}; each newsletter's issues are kept by title and day.",
                              "give each newsletter its own title.")
        lead = stores.setdefault(cfg.store_url, cfg)
        if lead.store.keep_days != cfg.store.keep_days:
            raise ConfigError(cfg.path, "[store] keep_days", f"{cfg.store.keep_days:g} differs from "
                              f"{lead.store.keep_days:g} in {lead.path}, which uses the same store.",
                              "use one keep_days for newsletters sharing a store, or give each its own [store] url.")
        _check_web_apart(cfg, web)
    _check_own_words(cfgs)


def _check_own_words(cfgs: list[Config]) -> None:
    """A language's words are one file for the process (``locales.use_folder``): a newsletter whose
    language another one's ``[newsletter] locales`` folder rewords would silently go out in those words."""
    def folder(cfg: Config) -> Path | None:
        return cfg.resolve(cfg.newsletter.locales) if cfg.newsletter.locales else None

    for cfg in cfgs:
        code = locales.resolve(cfg.newsletter.language)
        own = folder(cfg)
        meant = (own / f"{code}.toml").resolve() if own and (own / f"{code}.toml").is_file() else locales.FOLDER / f"{code}.toml"
        used = locales.file(code)
        if used == meant:
            continue
        other = next((c for c in cfgs if folder(c) and (folder(c) / f"{code}.toml").resolve() == used), None)
        whose = f" (the [newsletter] locales folder of {other.path})" if other else ""
        raise ConfigError(cfg.path, "[newsletter] language", f"{cfg.newsletter.language!r} would be written in the "
                          f"words of {used}{whose}: newsletters run in one process share a language's file.",
                          f"put the same {code}.toml in this newsletter's own locales folder, or run the two "
                          "newsletters as separate `newsletter run` processes.")


def _check_web_apart(cfg: Config, seen: dict[tuple[str, object], Config]) -> None:
    """Each newsletter's own ``[web] base_url`` and ``archive``: a reader of the second would get the first's
    pages, and a 403 for an unsubscribe link, since one `serve` knows one newsletter's links."""
    places = [("[web] base_url", site_root(cfg) if cfg.web.base_url else None),
              ("[web] archive", cfg.resolve(cfg.web.archive) if cfg.web.archive else None)]
    for key, place in places:
        if place is None:
            continue
        first = seen.setdefault((key, place), cfg)
        if first is not cfg:
            raise ConfigError(cfg.path, key, f"{str(place)!r} is also the {key} of {first.path}; its pages and "
                              "unsubscribe links would be the other newsletter's.", "give each newsletter its own "
                              "(base_url = \".../politics/\", archive = \"site/politics\"), served by its own "
                              "`newsletter serve -c FILE --port N`.")


def serve(cfgs: Config | list[Config], *, worker: bool = False, on_ready: Callable[[], None] | None = None) -> int:
    """Run the daily service for one or several newsletters until a signal; returns the exit status.
    ``worker``: one of several such processes sharing one PostgreSQL store (see ``leases``)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    cfgs = [cfgs] if isinstance(cfgs, Config) else list(cfgs)
    check_together(cfgs)
    for cfg in cfgs:
        check_secrets(cfg)  # a missing SMTP password, web secret or model key fails now, not at 07:00
        if worker and not cfg.store_url.startswith("postgresql"):
            raise ConfigError(cfg.path, "[store] url", "run --worker shares one store between processes, and "
                              f"{cfg.store.url!r} is not a PostgreSQL database.",
                              "give a URL like postgresql+psycopg://user@host/db, or run without --worker.")
    service = Service(cfgs, worker=worker)
    now = datetime.now(timezone.utc)
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    catching_up: set[str] = set()
    start_lines: list[str] = []
    polls: dict[str, list[Config]] = {}  # job id -> its newsletters, for the line a poll that overruns its turn says
    for cfg in cfgs:
        prefix = "" if len(cfgs) == 1 else f"{cfg.newsletter.title}/"
        sends_now, line = _schedule_newsletter(scheduler, service, cfg, now, prefix)
        if sends_now:
            catching_up.add(cfg.newsletter.title)
        start_lines.append(("" if len(cfgs) == 1 else f"{cfg.newsletter.title}: ") + line)
    for n, group in enumerate(by_store(cfgs)):
        # A fresh start polls at once, unless every newsletter of the store sends at once (a send fetches first).
        at_once = not all(c.newsletter.title in catching_up for c in group)
        first = {"next_run_time": datetime.now(timezone.utc)} if at_once or worker else {}
        # A worker looks often (each look is one query) so that a dead worker's expired leases are taken soon.
        every = ({"seconds": LeaseSettings.of(group[0]).tick_seconds} if worker
                 else {"minutes": min(c.fetch.poll_minutes for c in group)})
        poll = schedule.guarded("poll", lambda group=group: service.poll(group))
        # A turn that comes late is still polled (coalesce: once): on a loaded machine the scheduler started
        # over a second after the first turn was booked, and APScheduler's default grace (1 s) dropped it.
        scheduler.add_job(poll, IntervalTrigger(**every), id=f"poll-{n}", name="poll feeds", coalesce=True,
                          max_instances=1, misfire_grace_time=None, **first)
        if not worker:  # a worker's look finds the one before it still leasing batches by design: nothing to fix
            polls[f"poll-{n}"] = group
        service.beat(group)
        # A late beat still beats: a service silent for presence.STALE is taken for gone, its build claim with it.
        scheduler.add_job(lambda group=group: service.beat(group), IntervalTrigger(seconds=presence.BEAT.seconds),
                          id=f"beat-{n}", name="at work", coalesce=True, max_instances=1, misfire_grace_time=None)

    received: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        if received:
            # Written straight to stderr, not logged: the main thread may hold the logging handler's lock.
            said = f"second {signal.Signals(signum).name}: exiting now"
            os.write(2, f"{logs.json_line(said, logging.WARNING) if logs.json_lines() else said}\n".encode())
            os._exit(128 + signum)
        received.append(signum)
        service.stop.set()

    def on_hangup(_signum: int, _frame) -> None:
        # SIGHUP's default is to end the process without a word, mid-send included; and many daemons
        # take it for "reload". This one reads its config at start only: say so, and run on.
        log.warning("SIGHUP: ignored; the config is read at start only (%s): restart to apply a change "
                    "(systemctl restart newsletter; a restart loses nothing)",
                    ", ".join(str(c.path) for c in cfgs), extra={"job": "reload", "outcome": "ignored"})

    previous = {sig: signal.signal(sig, on_signal) for sig in SIGNALS}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
    overrun = schedule.PollOverrun(polls)
    overrun.watch(scheduler)
    try:
        scheduler.start()
        for line in start_lines:
            log.info("%s", line)
        if on_ready is not None:
            on_ready()
        while not service.stop.wait(WAKE_S):
            pass
        return _stop(service, scheduler, signal.Signals(received[0]).name)
    finally:
        overrun.unwatch()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _schedule_newsletter(scheduler, service: Service, cfg: Config, now: datetime,
                         prefix: str) -> tuple[bool, str]:
    """Add one newsletter's send jobs; send at once when today's was missed within grace. Returns whether
    it does, and the start's line saying what comes next."""
    with service.edges(cfg, summarize=False) as edges:
        # Owing no one is done: an address refused for good made every restart that day "send" it as overdue.
        delivered = owed_by(cfg, edges.store, issue_date(cfg, now)) == 0
        nxt = upcoming(cfg, edges.store, now)
    missed = schedule.missed_send(cfg, now, delivered)
    send_now = schedule.add_jobs(scheduler, cfg, poll=None, send=lambda: service.send(cfg), prefix=prefix,
                                 on_retry=lambda at: service.note_retry(cfg, at))
    line = _next_line(cfg, nxt)
    if missed is not None and missed.catch_up:
        send_now()
        # "next issue at 07:00" followed at once by a send read as a send at the wrong time: say why.
        return True, (f"sending today's overdue issue now (due {local_moment(cfg, missed.due_at)}, "
                      f"{missed.late.total_seconds() / 60:.0f} min ago); {line}")
    if missed is not None:
        log.warning("%sskipped today's %s send: started %.1f h after it, past [newsletter] grace_hours = %g; "
                    "the next issue carries the news", f"{cfg.newsletter.title}: " if prefix else "",
                    cfg.newsletter.send_at, missed.late.total_seconds() / 3600, cfg.newsletter.grace_hours,
                    extra={"job": "send", "outcome": "skipped", "newsletter": cfg.newsletter.title})
    return False, line


def _next_line(cfg: Config, nxt: Upcoming) -> str:
    """"next issue at …", and the retry before it when that day's issue went out already but not to everyone."""
    line = f"next issue at {local_moment(cfg, nxt.issue_at)}"
    if nxt.retry_at is not None:
        line += (f"; at {local_moment(cfg, nxt.retry_at)} the {nxt.retry_day} issue, already recorded, is retried "
                 f"for {counted(nxt.owed, 'owed recipient')}")
    return line


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
                  "claims are taken over at the next start on this machine, elsewhere after the store's lease",
                  signame, ", ".join(hung) or "a job", SHUTDOWN_LIMIT_S)
        logging.shutdown()
        os._exit(FORCED_EXIT)
    # A store locked by another process (SQLite waits out its busy timeout) or a database server gone quiet
    # must not hold the stop: status then says "without a clean stop", which is less than the truth.
    marker = threading.Thread(target=lambda: [service.beat(group, stopped=True) for group in by_store(service.cfgs)],
                              daemon=True)
    marker.start()
    marker.join(STOPPED_MARK_S)
    cut = "; ".join(service.cut_off) or "nothing (no job was running)"
    log.info("stopped on %s; cut off: %s", signame, cut, extra={"job": "stop", "cut_off": service.cut_off})
    return 0
