"""The operator's view, ``newsletter status``: when the next issue goes out, what the last one did and
cost, and which feeds need a look. Read from the store, opened read-only: it changes nothing.

    report = status_report(cfg, store, now)      # a plain dict: what --json prints
    lines = status_lines(report)                 # the same, for a terminal
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from newsletter import presence, schedule
from newsletter.addresses import mailbox_key, unique_mailboxes
from newsletter.config import Config
from newsletter.errors import ConfigError
from newsletter.models import DeliveryStatus, FeedState, issue_key, issue_key_prefix
from newsletter.presence import Seen
from newsletter.store import Store
from newsletter.web.tokens import split_unsubscribed
from newsletter.wording import counted, money, moment, utc_moment

# How long after send_at an issue may take to be recorded (feeds fetched, model answers) before status
# calls that send missed.
MISSED_AFTER = timedelta(minutes=30)


def require_store(cfg: Config) -> None:
    """A store file that does not exist is no newsletter that never sent: it is a path mistyped, or a
    config nothing has run with. "none recorded yet" would hide the first; say so with exit 2."""
    path = cfg.store_file
    if path is not None and not path.exists():
        raise ConfigError(cfg.path, "[store] url", f"no store at {path} (nothing has run with this config yet, "
                          "or the path is mistyped).", "correct the path (a relative one is read from the config "
                          f"file's folder), or run `{cfg.command('fetch')}` or `{cfg.command('run')}` to make it.")


@dataclass(frozen=True)
class Upcoming:
    """What the send job does next. ``issue_at``: the first send that makes a new issue. ``retry_at``:
    a send before it whose day's issue is already recorded (a manual ``send`` got there first), so it
    only delivers that issue to the ``owed`` recipients still waiting; None when nobody is owed."""

    issue_at: datetime
    retry_at: datetime | None = None
    retry_day: date | None = None
    owed: int = 0


def upcoming(cfg: Config, store: Store, now: datetime) -> Upcoming:
    """The next send's day may have its issue already (``send`` run by hand the evening before, in the
    newsletter's zone): that send then makes no issue, so the next issue is the send after it."""
    at = schedule.next_send(cfg, now)
    day = at.astimezone(cfg.newsletter.tz).date()
    owed = owed_by(cfg, store, day)
    if owed is None:
        return Upcoming(at)
    later = schedule.next_send(cfg, at)
    return Upcoming(later, at, day, owed) if owed else Upcoming(later)


def owed_by(cfg: Config, store: Store, day: date) -> int | None:
    """How many recipients the issue of ``day`` still owes; None when it is not recorded. What the send
    job would serve: a 5xx refusal is final (the job leaves it alone), and a reader who left is owed nothing."""
    issue_id = store.issue_id(issue_key(cfg.newsletter.title, day))
    if issue_id is None:
        return None
    status = store.delivery_status(issue_id)
    done = (DeliveryStatus.SENT, DeliveryStatus.FAILED)
    return sum(status.get(mailbox_key(r)) not in done for r in subscribed(cfg, store))


def subscribed(cfg: Config, store: Store) -> list[str]:
    """The configured recipients a send serves: a reader who left by the one-click link is owed nothing,
    and counting one as owed read as a retry due every day after."""
    return split_unsubscribed(unique_mailboxes(cfg.newsletter.to), store.unsubscribed(cfg.newsletter.title))[0]


def missed(cfg: Config, store: Store, now: datetime) -> dict | None:
    """The latest send due (MISSED_AFTER ago or more) that recorded no issue: the service was down at
    send_at, or the build failed. What a monitor must hear of, since "next issue: tomorrow" hides it.
    Not for a newsletter that never sent (a fresh install), nor for a day before its first issue (the
    first one sent by a catch-up minutes after send_at), nor with send_empty = false, where a
    day without news rightly records nothing."""
    due = schedule.last_send(cfg, now - MISSED_AFTER)
    if due is None or not cfg.newsletter.send_empty:
        return None
    day = due.astimezone(cfg.newsletter.tz).date()
    key = issue_key(cfg.newsletter.title, day)
    if store.issue_id(key) is not None:
        return None
    first = store.first_issue_key(issue_key_prefix(cfg.newsletter.title))
    if first is None or first > key:
        return None
    return {**_instant(cfg, due), "issue_date": day.isoformat()}


def _instant(cfg: Config, at: datetime) -> dict:
    return {"local": at.astimezone(cfg.newsletter.tz).isoformat(), "utc": at.astimezone(timezone.utc).isoformat()}


def status_report(cfg: Config, store: Store, now: datetime) -> dict:
    nxt = upcoming(cfg, store, now)
    seen = store.services_seen()
    retry = _booked_retry(cfg, store, seen, now) if nxt.retry_at is None else {
        **_instant(cfg, nxt.retry_at), "issue_date": nxt.retry_day.isoformat(), "owed": nxt.owed}
    service = _service(cfg, seen, now)
    feed_urls = [f.url for f in cfg.feeds]
    states = sorted(store.feed_states(feed_urls).values(), key=lambda s: s.url)
    failing = [s for s in states if s.consecutive_failures and not s.gone]
    gone = [s for s in states if s.gone]
    fetched = max((s.last_fetch_at for s in states if s.last_fetch_at), default=None)
    prefix = issue_key_prefix(cfg.newsletter.title)
    # The names the config gives its feeds, as check and fetch show them: a URL alone is hard to place.
    names = {f.url: f.name for f in reversed(cfg.feeds) if f.name}
    return {
        "newsletter": cfg.newsletter.title,
        "config": str(cfg.path),
        "next_send": {**_instant(cfg, nxt.issue_at), "timezone": cfg.newsletter.timezone, "days": cfg.newsletter.days},
        # Recipients an issue still owes, and when they are tried again: by the send before the next issue
        # (that day's issue is already recorded), or by a retry the running service booked.
        "retry": retry,
        # Today's issue still owed to these many, with no retry booked and no `run` at work to book one: sent
        # from cron, only another `send` reaches them (null: nobody owed, or something will retry).
        "owed_unretried": _unretried(cfg, store, now, retry, service),
        # The latest due send that recorded no issue (null when none): status then exits 1.
        "missed": missed(cfg, store, now),
        "last_issue": _priced(cfg, _last_issue(store.last_issue(prefix), len(subscribed(cfg, store)))),
        # The `newsletter run` processes serving it (null: a store too old to say).
        "service": service,
        "feeds": len(set(feed_urls)),
        # The latest fetch of any of its feeds (null: none yet): a service at work whose polls stopped shows here.
        "last_fetch_at": fetched.isoformat() if fetched else None,
        "failing_feeds": [{"name": names.get(s.url), **_failing(s)} for s in failing],
        "disabled_feeds": [{"url": s.url, "name": names.get(s.url), "title": s.title, "error": s.last_error,
                            "enable": cfg.command("feeds enable", s.url)} for s in gone],
        # With [llm] prices only: what the issues of the last 7 and 30 days cost.
        **({"model_cost": _spans(cfg, store, prefix, now)} if cfg.llm.priced else {}),
    }


def _unretried(cfg: Config, store: Store, now: datetime, retry: dict | None, service: dict | None) -> int | None:
    if retry is not None or service is None or service["running"]:
        return None  # a retry is booked, or a service at work books one (a store too old to say: unknown)
    return owed_by(cfg, store, now.astimezone(cfg.newsletter.tz).date()) or None


COST_SPANS = (7, 30)  # days back from now: the totals status gives beside the last issue's cost


def _amount(amount: Decimal | None) -> float | None:
    # Unrounded: the text rounds once, a total from the summed tokens (never a sum of rounded costs).
    return None if amount is None else float(amount)


def _priced(cfg: Config, last: dict | None) -> dict | None:
    """The last issue with what its tokens cost at today's [llm] prices (null: it has no token figures, as an
    extractive issue, or none of its calls had token counts); without prices, as it was."""
    if last is None or not cfg.llm.priced:
        return last
    calls, blind = last["model_calls"], last["model_calls_without_token_counts"] or 0
    amount = None if calls is None else cfg.llm.cost(last["prompt_tokens"] or 0, last["completion_tokens"] or 0,
                                                     calls=calls, uncounted=blind)
    return {**last, "cost": None if amount is None else {"amount": _amount(amount), "currency": cfg.llm.currency}}


def _spans(cfg: Config, store: Store, prefix: str, now: datetime) -> dict:
    """The cost of the issues made in the last 7 and 30 days, from the tokens each recorded, priced at
    today's [llm] prices (the store keeps tokens, not money: a price changed since reprices them)."""
    rows = store.issue_usage_since(prefix, now - timedelta(days=max(COST_SPANS)))
    doc: dict = {"priced_at": {"price_per_million_prompt": cfg.llm.price_per_million_prompt,
                               "price_per_million_completion": cfg.llm.price_per_million_completion,
                               "currency": cfg.llm.currency}}
    for days in COST_SPANS:
        these = [r for r in rows if r["created_at"] >= now - timedelta(days=days)]
        prompt = sum(r["prompt_tokens"] or 0 for r in these)
        completion = sum(r["completion_tokens"] or 0 for r in these)
        blind = sum(r["model_calls_uncounted"] or 0 for r in these)
        amount = cfg.llm.cost(prompt, completion, calls=sum(r["model_calls"] or 0 for r in these), uncounted=blind)
        doc[f"last_{days}_days"] = {"amount": _amount(amount), "currency": cfg.llm.currency,
                                    "issues": len(these), "prompt_tokens": prompt, "completion_tokens": completion,
                                    # answered calls whose server gave no token counts: not in the amount
                                    "model_calls_without_token_counts": blind}
    return doc


def _booked_retry(cfg: Config, store: Store, seen: list[Seen] | None, now: datetime) -> dict | None:
    """The retry a running service booked for the recipients an issue still owes: it lives in that
    service's scheduler, which writes its time in the store."""
    title = cfg.newsletter.title
    # A retry's turn missed by more than grace_hours (the machine slept) was dropped by the scheduler: none is due.
    dropped = now - timedelta(hours=cfg.newsletter.grace_hours)
    at = min((s.retries[title] for s in seen or () if s.at_work(now) and title in s.retries
              and s.retries[title] >= dropped), default=None)
    if at is None:
        return None
    day = at.astimezone(cfg.newsletter.tz).date()  # a retry is booked within the day of its issue
    owed = owed_by(cfg, store, day)
    return {**_instant(cfg, at), "issue_date": day.isoformat(), "owed": owed} if owed else None


def _service(cfg: Config, seen: list[Seen] | None, now: datetime) -> dict | None:
    """The services the store has seen serving ``cfg``'s newsletter (``seen`` None: a store too old to say)."""
    if seen is None:
        return None
    title, digest = cfg.newsletter.title, presence.config_digest(cfg)
    ours = sorted((s for s in seen if title in s.newsletters), key=lambda s: s.seen_at)

    def running(s: Seen) -> dict:
        # Whether it runs this config as it reads now (null: a service too old to say): an edit waits for a restart.
        return {**s.report(now), "config_current": s.configs[title] == digest if title in s.configs else None}

    return {"running": [running(s) for s in ours if s.at_work(now)], "last": ours[-1].report(now) if ours else None}


def _last_issue(row: dict | None, recipients: int) -> dict | None:
    if row is None:
        return None
    counts = row["deliveries"]
    sent = counts.get(DeliveryStatus.SENT, 0)
    failed = counts.get(DeliveryStatus.FAILED, 0)
    doc = row["document"] or {}
    return {
        "subject": row["subject"],
        "created_at": row["created_at"].isoformat(timespec="seconds"),
        "stories": len(doc.get("stories", [])),
        # Briefings the model wrote (the gate's record is on each): answers kept from a preview cost no call.
        "model_briefings": sum("grounding" in s for s in doc.get("stories", [])),
        "sidebar": len(doc.get("sidebar", [])),
        "model_calls": row["model_calls"],
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        # Of model_calls, those whose answer carried no token counts: not in the figures above (null: unknown).
        "model_calls_without_token_counts": row["model_calls_uncounted"],
        # Briefings and blurbs written from answers kept earlier (a preview's), at no call (null: unknown).
        "model_answers_reused": (doc.get("usage") or {}).get("answers_reused"),
        # Calls that got no answer (timeouts, 5xx after retries): apart from model_calls (null: unknown).
        "model_calls_unanswered": row["model_calls_unanswered"],
        "recipients": {"sent": sent, "failed": failed,
                       # pending or sending, or not yet listed: everyone configured still waiting (a 5xx
                       # refusal is final: failed, not owed)
                       "owed": max(recipients, sum(counts.values())) - sent - failed,
                       # Who was refused, and the server's words (the first few by address): such an address is
                       # refused again every day until it leaves [newsletter] to.
                       "refused": [{"recipient": r, "error": e} for r, e in row.get("refused", [])]},
    }


def _failing(s: FeedState) -> dict:
    return {"url": s.url, "title": s.title, "last_error": s.last_error, "failures_in_a_row": s.consecutive_failures,
            # A time or null (unknown: the run of failures began before the store kept it), never words.
            "failing_since": s.failing_since.isoformat() if s.failing_since else None,
            "never_worked": s.last_success_at is None,
            "last_success_at": s.last_success_at.isoformat() if s.last_success_at else None,
            "last_fetch_at": s.last_fetch_at.isoformat() if s.last_fetch_at else None}


def status_lines(report: dict) -> list[str]:
    """The report for a person: times to the minute with their zone (the JSON keeps ISO 8601)."""
    nxt = report["next_send"]
    local = moment(datetime.fromisoformat(nxt["local"]), nxt["timezone"])
    utc = "" if nxt["timezone"] == "UTC" else f" ({utc_moment(datetime.fromisoformat(nxt['utc']))})"
    lines = [f"{report['newsletter']}", f"next issue: {local}{utc}, days: {_days(nxt['days'])}"]
    if (retry := report.get("retry")) is not None:
        at = moment(datetime.fromisoformat(retry["local"]), nxt["timezone"])
        lines.append(f"retry for {counted(retry['owed'], 'owed recipient')} of the {retry['issue_date']} issue: {at}")
    if (gone := report.get("missed")) is not None:
        at = moment(datetime.fromisoformat(gone["local"]), nxt["timezone"])
        service = report.get("service")
        # A store no `run` ever used is sent from cron: "is not running now; its log says why" sent the
        # operator to a service and a log that do not exist.
        ask = ("is `newsletter run` running? Its log says why" if service is None else
               "`newsletter run` is running now; its log says why" if service["running"] else
               "`newsletter run` is not running now; its log says why" if service["last"] is not None else
               "no `newsletter run` has used this store: the `send` meant to make it (from cron, say) says why")
        lines.append(f"missed: the {gone['issue_date']} issue, due {at}, was never made; {ask} "
                     "(a send started within [newsletter] grace_hours catches up)")
    if (service := report.get("service")) is not None:
        lines += _service_lines(service, report["config"])
    last = report["last_issue"]
    if last is None:
        lines.append("last issue: none recorded yet")
    else:
        r = last["recipients"]
        written = last.get("model_briefings", 0)
        uncounted = last.get("model_calls_without_token_counts")
        unknown = f" ({counted(uncounted, 'call')} without token counts: not in these figures)" if uncounted else ""
        # As the run report says it: the answered calls, and apart the ones that got no answer.
        unanswered = last.get("model_calls_unanswered")
        lost = f" ({counted(unanswered, 'more call')} got no answer)" if unanswered else ""
        # "2 model calls" for an issue of nine model briefings read as seven written without the model.
        reused = last.get("model_answers_reused")
        lost += f" ({counted(reused, 'answer')} kept earlier reused)" if reused else ""
        # With [llm] prices: what those tokens cost, as the run report says it.
        priced = (f" {money(Decimal(str(c['amount'])), c['currency'])}" if (c := last.get("cost")) else
                  ", cost unknown" if "cost" in last else "")
        cost = (f"{counted(last['model_calls'], 'model call')}{lost}, {last['prompt_tokens'] or 0} prompt + "
                f"{last['completion_tokens'] or 0} completion tokens{priced}{unknown}" if last["model_calls"] else
                f"no answered model calls ({counted(unanswered, 'call')} got no answer)" if unanswered else
                f"no model calls ({counted(written, 'briefing')} by the model from answers kept earlier)" if written
                else "no model calls (extractive)")
        lines.append(f"last issue: {utc_moment(datetime.fromisoformat(last['created_at']))}, "
                     f"{counted(last['stories'], 'story', 'stories')} + {last['sidebar']} in Recent news, "
                     f"{cost}; recipients: {r['sent']} sent, {r['failed']} failed, {r['owed']} owed")
        for x in r["refused"]:
            lines.append(f"  refused: {x['recipient']}: {x['error'] or 'no reason given'}")
        if r["failed"] > len(r["refused"]):
            lines.append(f"  and {r['failed'] - len(r['refused'])} more refused")
        if r["refused"]:
            lines.append("  an address refused for good is refused again each day: take it out of [newsletter] to")
        if (spans := report.get("model_cost")) is not None:
            lines.append(_spans_line(spans))
    if unretried := report.get("owed_unretried"):
        lines.append(f"  {counted(unretried, 'recipient')} still owed today's issue, and no `newsletter run` is at "
                     "work to retry: another `newsletter send` delivers it to them (from cron, schedule a later "
                     "run too)")
    fetched = report.get("last_fetch_at")
    lines.append(f"feeds: {report['feeds']}, {len(report['failing_feeds'])} failing, "
                 f"{len(report['disabled_feeds'])} disabled; "
                 + (f"last fetched {_at(fetched)}" if fetched else "never fetched"))
    for f in report["failing_feeds"]:
        since = ("never worked" if f["last_success_at"] is None
                 else f"last worked {utc_moment(datetime.fromisoformat(f['last_success_at']))}")
        if f.get("failing_since"):
            since = f"failing since {utc_moment(datetime.fromisoformat(f['failing_since']))}, {since}"
        lines.append(f"  failing: {_feed(f)}: {f['last_error']} ({f['failures_in_a_row']} in a row, {since})")
    for f in report["disabled_feeds"]:
        lines.append(f"  disabled: {_feed(f)}: {f['error'] or 'gone (HTTP 410)'}; re-enable: {f['enable']}")
    return lines


def _feed(f: dict) -> str:
    return f"{f['name']} ({f['url']})" if f.get("name") else f["url"]


def _spans_line(spans: dict) -> str:
    """"model cost: last 7 days ≈ 0.0019 USD (7 issues), last 30 days ≈ 0.0081 USD (30 issues), from their
    tokens at today's [llm] prices (0.15 prompt + 0.6 completion USD per million tokens)"."""
    at = spans["priced_at"]
    totals = ", ".join(f"last {days} days "
                       f"{'cost unknown' if s['amount'] is None else money(Decimal(str(s['amount'])), s['currency'])}"
                       f" ({counted(s['issues'], 'issue')})"
                       for days, s in ((d, spans[f"last_{d}_days"]) for d in COST_SPANS))
    blind = spans[f"last_{max(COST_SPANS)}_days"]["model_calls_without_token_counts"]
    unknown = (f"; {counted(blind, 'call')} of the last {max(COST_SPANS)} days without token counts: not in these "
               "figures" if blind else "")
    return (f"model cost: {totals}, from their tokens at today's [llm] prices ({_price(at['price_per_million_prompt'])}"
            f" prompt + {_price(at['price_per_million_completion'])} completion {at['currency']} per million "
            f"tokens){unknown}")


def _price(value: float) -> str:
    """A price as the config wrote it: 0.15, and 3 rather than 3.0."""
    return f"{Decimal(str(value)).normalize():f}"


def _service_lines(service: dict, config: str) -> list[str]:
    lines = [_service_line(service)]
    if any(s.get("config_current") is False for s in service["running"]):
        lines.append(f"  {config} was changed since the service started, which read it then: restart the service "
                     "to apply the change (`systemctl restart newsletter`; a restart loses nothing)")
    return lines


def _service_line(service: dict) -> str:
    running = service["running"]
    if len(running) == 1:
        s = running[0]
        return f"service: running since {_at(s['started_at'])} (pid {s['pid']} on {s['host']})"
    if running:
        who = ", ".join(f"pid {s['pid']} on {s['host']}" for s in running)
        if all(s["worker"] for s in running):
            return f"service: {len(running)} workers running ({who})"
        return f"service: {len(running)} `newsletter run` processes at work ({who}): each polls every feed; stop one"
    last = service["last"]
    if last is None:
        return "service: no `newsletter run` has used this store (a `send` from cron needs none)"
    how = ("stopped cleanly" if last["stopped_at"] else
           "it ended without a clean stop (killed, or the machine went down)")
    return f"service: not running; last at work {_at(last['seen_at'])} ({how})"


def _at(iso: str) -> str:
    return utc_moment(datetime.fromisoformat(iso))


def _days(days: str | list[str]) -> str:
    return days if isinstance(days, str) else ", ".join(days)
