"""The orchestrator: one function per command, each reading top to bottom as the whole run.

    fetch     pull every feed once, store what is new, embed it (also the service's poll job)
    check     try every feed, store nothing
    preview   fetch -> build the issue -> render -> write FILE.html/.txt/.json
    send      claim today's issue -> fetch -> build -> render -> record -> deliver to each recipient
    dry_run   what ``send`` would deliver now, and to whom; writes nothing
    (the daily service, ``run``, schedules fetch and send: see ``service``)

Building an issue: select articles -> group into stories -> rank and place ->
write briefings and blurbs -> Issue. The stages are functions over records
with their own settings; only this module touches the outside world (the
store, HTTP, the model, the transport, the clock, files), and it gets those
as ``Edges`` (``edges``: opened from the config) so tests hand in real local
servers and a pinned clock.
Failures confined to one feed, story or recipient are recorded and the run
goes on; only a mistake in the config stops it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.addresses import mailbox_key, unique_mailboxes
from newsletter.clock import Clock
from newsletter.config import Config
from newsletter.deliver import build_message, deliver, message_id
from newsletter.edges import Edges, links_secret, make_embedder
from newsletter.errors import ConfigError, NewsletterError
from newsletter.folders import write_whole
from newsletter.group import Embedder, group_stories
from newsletter.ingest import ingest_feeds, probe_feeds
from newsletter.models import (
    Article, Delivery, DeliveryStatus, FeedReport, FeedSource, Issue, PlacedArticle, RenderedEmail, issue_key,
    issue_key_prefix,
)
from newsletter.wording import counted
from newsletter.rank import Slots, place_stories
from newsletter.render import issue_document, render_issue, template_env
from newsletter.select import select_articles
from newsletter.summarize import extractive_summarizer
from newsletter.summarize.write import write_issue
from newsletter.web.archive import issue_url, relative_feeds, write_archive
from newsletter.web.tokens import (
    personal, split_unsubscribed, unsubscribe_mailto, unsubscribe_slot, unsubscribe_url,
)

if TYPE_CHECKING:
    from newsletter.summarize.endpoint import EndpointProbe
    from newsletter.group.vectors import Embedded
    from newsletter.store import Store, StoredEmail  # SQLAlchemy loads when a command opens the store

log = logging.getLogger(__name__)
Progress = Callable[[FeedReport], None]

CLAIM_POLL_S = 0.5  # how often a second sender looks whether the first has recorded the issue


@dataclass
class Fetched:
    """What a fetch did: one report per feed, and the embedding of what is new (None without a model)."""

    feeds: list[FeedReport]
    embedded: Embedded | None = None


@dataclass
class Built:
    """An issue built and rendered, not yet recorded."""

    issue: Issue
    email: RenderedEmail
    document: dict
    problems: list[str]


@dataclass
class Sent:
    """What ``send`` did: the issue (None when today's was recorded earlier), and one delivery per recipient."""

    email: RenderedEmail | None
    deliveries: list[Delivery] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    built: Built | None = None
    recorded_at: datetime | None = None  # set when today's issue had been recorded by an earlier run
    in_progress: bool = False  # another process is building today's issue; this one sent nothing
    nothing_new: bool = False  # no new story and [newsletter] send_empty = false: no issue today, yet
    unreachable: bool = False  # the transport refused as a whole (no server, bad login): everyone is owed
    to: list[str] = field(default_factory=list)  # the recipients this send serves, each mailbox once
    unsubscribed: list[str] = field(default_factory=list)  # asked for, but left by a one-click link: skipped

    @property
    def owed(self) -> bool:
        """Whether recipients are still owed the issue after this run for a reason that may pass
        (a 4xx, a dropped connection, no server); a 5xx refusal is final and is not retried."""
        return self.unreachable or any(d.status is DeliveryStatus.PENDING for d in self.deliveries)


@dataclass
class DryRun:
    email: RenderedEmail
    would_send: list[str]  # recipients a send now would deliver to
    already: list[str]  # recipients who have today's issue
    recorded_at: datetime | None  # today's issue exists: the email shown is the recorded one
    built: Built | None = None
    notes: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)  # asked for, but left by a one-click link: skipped


# -- commands --------------------------------------------------------------------------------------

def fetch(cfg: Config, edges: Edges, *, progress: Progress | None = None,
          sources: list[FeedSource] | None = None, embed: bool = True) -> Fetched:
    """Pull every feed once and store what is new, forget articles past ``[store] keep_days``, then
    embed the articles without a vector (``embed_new``): the ``fetch`` command and the polling job.
    ``sources``: other feeds than ``cfg``'s (the service's poll of the feeds of every newsletter
    sharing one store, each fetched once). ``embed`` False: a build follows, which embeds what it needs,
    or the service's poll embeds with each newsletter's model (``embed_shared``)."""
    reports = ingest(cfg, edges, cfg.feeds if sources is None else sources, progress=progress)
    forget_old(cfg, edges)
    return Fetched(reports, embed_new(cfg, edges, sources) if embed else None)


def ingest(cfg: Config, edges: Edges, sources: list[FeedSource], *,
           progress: Progress | None = None) -> list[FeedReport]:
    """Pull these feeds once and store what is new: fetch's first step, and a worker's per leased batch."""
    return ingest_feeds(sources, edges.store, settings=cfg.fetch, clock=edges.clock, http=edges.http,
                        progress=progress, stop=edges.stop)


def forget_old(cfg: Config, edges: Edges) -> None:
    """Forget articles past ``[store] keep_days`` (and what only they needed): once per poll."""
    forgotten = edges.store.forget_articles(edges.clock.now() - timedelta(days=cfg.store.keep_days))
    if forgotten:
        log.info("forgot %d articles older than %g days", forgotten, cfg.store.keep_days)


def embed_new(cfg: Config, edges: Edges, sources: list[FeedSource] | None = None) -> Embedded | None:
    """Embed the stored articles an issue could still group that have no vector from the configured
    model, newest first, for at most ``[fetch] embeddings_seconds``, and keep the vectors: the issue
    then reads them instead of embedding the day's news at 07:00. None without an embeddings model.
    The feeds are fetched and stored before this starts, so an endpoint that is down or slow costs
    the poll at most the budget; what waits is embedded by the next poll (or the issue's build)."""
    if edges.embedder is None:
        return None
    feeds = cfg.feeds if sources is None else sources
    return _embed_recent(edges, {s.url for s in feeds}, _grouped_hours(cfg), cfg.fetch.embeddings_seconds)


def embed_shared(cfgs: list[Config], edges: Edges, polled: set[str] | None = None) -> list[Embedded]:
    """``embed_new`` for newsletters sharing one store (the service's poll), one pass per embeddings
    model and place it is served at, with that model, over the feeds of the newsletters
    that use it: an article two of them read is embedded once per model, and a newsletter without a
    model adds nothing, and neither does one whose ``[fetch] embeddings_seconds`` is 0. A pass reaches back
    as far as any of its newsletters groups. The passes share one budget, the longest
    ``embeddings_seconds`` of the newsletters, so a poll embeds for at most that long whatever the number
    of models: each pass gets an even share of what is left, and never more than its own newsletters'
    longest, so a slow endpoint cannot starve the models after it. ``edges.embedder`` is not used.

    ``polled``: only these feeds' articles (a ``--worker`` embeds those of the feeds it leased, so
    two workers polling at once do not embed one feed's articles twice; what waits is embedded by the
    worker that next leases its feed)."""
    users: dict[tuple[str, str | None], tuple[Embedder, list[Config]]] = {}
    for cfg in cfgs:
        if cfg.fetch.embeddings_seconds > 0 and (embedder := make_embedder(cfg)) is not None:
            users.setdefault((embedder.model, embedder.served_at), (embedder, []))[1].append(cfg)
    own = [max(c.fetch.embeddings_seconds for c in same) for _, same in users.values()]
    deadline = time.monotonic() + max(own, default=0.0)
    passes = []
    for k, (embedder, same) in enumerate(users.values()):
        feeds = {s.url for c in same for s in c.feeds}
        share = min(max(0.0, deadline - time.monotonic()) / (len(users) - k), own[k])
        passes.append(_embed_recent(replace(edges, embedder=embedder), feeds if polled is None else feeds & polled,
                                    max(map(_grouped_hours, same)), share))
    return passes


def _grouped_hours(cfg: Config) -> float:
    """How far back an issue's grouping reads: the articles worth a vector."""
    return (cfg.newsletter.max_age_hours or cfg.store.keep_days * 24) + cfg.grouping.window_hours


def _embed_recent(edges: Edges, feed_urls: set[str], hours: float, seconds: float) -> Embedded:
    from newsletter.group.embeddings import EMBED_LEAD_CHARS, embedding_text
    from newsletter.group.vectors import embed_and_keep, text_key

    now = edges.clock.now()
    # The text's lead is all an embedding reads: the rest of a long page is never fetched from the store.
    recent = edges.store.articles_between(now - timedelta(hours=hours), now, html=False, feed_urls=feed_urls,
                                          text_chars=EMBED_LEAD_CHARS + 1)
    texts = {text_key(t): t for t in (embedding_text(a) for a in reversed(recent))}  # newest first
    known = edges.store.embedded(edges.embedder.model, list(texts))
    missing = {k: t for k, t in texts.items() if k not in known}
    _, done = embed_and_keep(missing, edges.embedder, edges.store, seconds=seconds, at=edges.clock.now,
                             stop=edges.stop, stored=len(known))
    if done.error:
        log.warning("embeddings endpoint failed (%s); %d articles wait for the next poll", done.error, done.waiting)
    return done


def check(cfg: Config, clock: Clock, *, progress: Progress | None = None) -> list[FeedReport]:
    """Fetch and parse every feed, store nothing."""
    return probe_feeds(cfg.feeds, settings=cfg.fetch, clock=clock, progress=progress)


def probe_models(cfg: Config) -> list[EndpointProbe]:
    """``check``'s look at the model endpoints the config names (chat, and embeddings when set),
    each asked only for its model list: no tokens are spent."""
    wanted = ([(cfg, None)] if cfg.llm_enabled else []) + \
        ([(cfg.for_embeddings(), cfg.llm.embeddings_model)] if make_embedder(cfg) is not None else [])
    if not wanted:
        return []  # and the model client is never loaded
    from newsletter.llm_client import model_name
    from newsletter.summarize.endpoint import probe_endpoint

    return [probe_endpoint(at, model or model_name(at), what="embeddings" if model else "model")
            for at, model in wanted]


def preview(cfg: Config, edges: Edges, out: Path | None = None, *, fetch_first: bool = True,
            progress: Progress | None = None) -> tuple[Built, list[Path]]:
    """Build today's issue and write FILE.html, FILE.txt and FILE.json; send and record nothing."""
    reports = fetch(cfg, edges, progress=progress, embed=False).feeds if fetch_first else []
    built = build(cfg, edges, reports)
    html_path = out or Path("preview") / f"issue-{built.issue.date.isoformat()}.html"
    if html_path.suffix.lower() not in (".html", ".htm"):
        html_path = html_path.with_suffix(".html")
    return built, _write_preview(html_path, built)


def send(cfg: Config, edges: Edges, *, recipients: list[str] | None = None, progress: Progress | None = None,
         wait: timedelta | None = None, retry_refused: bool = True, fetch_first: bool = True,
         on_ready: Callable[[Sent], None] | None = None, on_delivery: Callable[[Delivery], None] | None = None) -> Sent:
    """Deliver today's issue to every recipient who does not have it yet.

    The first run of the day claims the issue, builds it and records it (with its rendered
    email) before delivering. A later run, or a second process at the same time, sends that
    recorded email to the recipients still owed: never a second issue, never a different one,
    no second bill from the model, and each recipient claimed before a message goes out.
    ``retry_refused``: also try again the recipients a mail server refused with a 5xx (a person
    running ``send`` after fixing an address); the service's retries leave them failed.
    ``fetch_first`` False: build from the stored articles (workers sharing a store poll the feeds).
    ``on_ready`` hears of the issue (without deliveries) before the first message goes out, and
    ``on_delivery`` of each recipient as it is done: a send stopped midway has said what it did.
    """
    assert edges.transport is not None
    # One-click links need their key before any work; addresses that left by one are skipped.
    secret = links_secret(cfg)
    to, gone = _still_subscribed(cfg, edges.store, unique_mailboxes(recipients or cfg.newsletter.to))
    now = edges.clock.now()
    key = todays_key(cfg, now)
    from newsletter.store import CLAIM_LEASE

    deadline = time.monotonic() + (wait or CLAIM_LEASE).total_seconds()
    built = None
    while True:
        stored = edges.store.stored_email(key)
        if stored is not None:
            break
        if edges.store.claim_issue(key, edges.owner, now):
            try:
                reports = fetch(cfg, edges, progress=progress, embed=False).feeds if fetch_first else []
                built = build(cfg, edges, reports)
                if not (cfg.newsletter.send_empty or built.issue.briefings or built.issue.sidebar):
                    # Nothing recorded: a later send today builds again, and may find news by then.
                    edges.store.release_issue(key, edges.owner)
                    return Sent(email=None, problems=built.problems, built=built, nothing_new=True, to=to,
                                unsubscribed=gone)
                edges.store.record_issue(
                    key, created_at=built.issue.generated_at, subject=built.email.subject, document=built.document,
                    html=built.email.html, text=built.email.text, placements=placements(built.issue),
                    owner=edges.owner, usage=_usage_row(built.issue))
            except BaseException:
                edges.store.release_issue(key, edges.owner)
                raise
            stored = edges.store.stored_email(key)
            if stored.html != built.email.html:
                # Another builder recorded first (it held the claim past its lease, and ours took it over):
                # every reader gets the one recorded issue, never this build.
                built = None
            break
        if time.monotonic() > deadline or (edges.stop is not None and edges.stop.is_set()):
            return Sent(email=None, in_progress=True)
        time.sleep(CLAIM_POLL_S)

    email = built.email if built else RenderedEmail(stored.subject, stored.html, stored.text, issue=None)
    # The page "View in browser" names is up before the first message goes out; a rerun that owes
    # nobody anything leaves the archive as it is.
    problems = (built.problems + _off_day(cfg, now)) if built else []
    if built is not None or not edges.store.issue_delivered(key, to):
        problems = problems + _write_archive(cfg, edges.store)
    sent = Sent(email=email, problems=problems, built=built, recorded_at=None if built else stored.created_at, to=to,
                unsubscribed=gone)
    if on_ready is not None:
        on_ready(sent)
    sent.deliveries = _deliver_all(cfg, edges, stored, key, email, to, secret=secret, retry_refused=retry_refused,
                                   on_delivery=on_delivery)
    return sent


def dry_run(cfg: Config, edges: Edges, *, recipients: list[str] | None = None,
            progress: Progress | None = None) -> DryRun:
    """What ``send`` would deliver now and to whom, writing nothing: the recorded email when today's
    issue exists, else the issue it would build from the stored articles and what the feeds hold now.

    The briefings of an issue not yet built are written by the extractive writer: a dry run
    never runs up a model bill.
    """
    to, gone = _still_subscribed(cfg, edges.store, unique_mailboxes(recipients or cfg.newsletter.to))
    now = edges.clock.now()
    stored = edges.store.stored_email(todays_key(cfg, now))
    if stored is not None:
        status = edges.store.delivery_status(stored.issue_id)
        already = [r for r in to if status.get(mailbox_key(r)) == DeliveryStatus.SENT]
        email = RenderedEmail(stored.subject, stored.html, stored.text, issue=None)
        return DryRun(email, [r for r in to if r not in already], already, stored.created_at, unsubscribed=gone)
    found: list[Article] = []
    reports = probe_feeds(cfg.feeds, settings=cfg.fetch, clock=edges.clock, progress=progress, found=found)
    notes = []
    if edges.summarizer is not None and edges.summarizer.costly:
        notes.append(f"briefings shown extractively; the send writes them with {edges.summarizer.name}")
        edges = Edges(edges.store, edges.clock, extractive_summarizer(), embedder=edges.embedder)
    built = build(cfg, edges, reports, unstored=found)
    return DryRun(built.email, to, [], None, built=built, notes=notes + _off_day(cfg, now), unsubscribed=gone)


# -- building an issue ----------------------------------------------------------------------------

def build(cfg: Config, edges: Edges, reports: list[FeedReport], *, unstored: list[Article] = ()) -> Built:
    """Stored articles (plus ``unstored`` ones, for a dry run) -> the rendered issue."""
    store, clock = edges.store, edges.clock
    # Read after fetching: what this fetch brought in is this issue's, not the next one's.
    now = clock.now()
    problems = [f"feed {r.url} (topic {r.topic!r}): {r.error}" for r in reports if not r.ok]

    # An issue covers what arrived since the last one that reached anyone (at most max_age_hours
    # back). Older articles are still read, as context, so a new report of an event already sent
    # joins its story and comes back as an update instead of passing for a new story.
    mine = issue_key_prefix(cfg.newsletter.title)  # another newsletter on this store has its own window
    fresh_since = _fresh_since(store.last_issue_at(mine), now, cfg.newsletter.max_age_hours)
    context_since = fresh_since - timedelta(hours=cfg.grouping.window_hours) if fresh_since else None
    window = store.articles_between(context_since, now, feed_urls=[s.url for s in cfg.feeds])
    window += _unseen(unstored, window, context_since, now)
    articles = select_articles(window, cfg.topics, cfg.feeds)
    stories = group_stories(articles, cfg.grouping, embedder=_stored_embedder(cfg, edges),
                            language=cfg.newsletter.language)
    if fresh_since is not None:
        stories = [s for s in stories if any(_arrived(a) >= fresh_since for a in s.articles)]
    slots = Slots(per_topic=cfg.newsletter.max_stories, sidebar=cfg.newsletter.sidebar_size)
    sent = store.sent_articles([a.id for a in articles], mine)
    placement = place_stories(stories, cfg.topics, cfg.ranking, slots, sent, now)

    summarizer = edges.summarizer or extractive_summarizer()
    sections, sidebar, trouble = write_issue(summarizer, placement.sections, placement.sidebar,
                                             [t.name for t in cfg.topics], cfg.llm, edges.stop)
    issue = Issue(
        title=cfg.newsletter.title,
        date=issue_date(cfg, now),
        generated_at=now,
        sections=sections,
        sidebar=sidebar,
        feed_reports=reports,
        problems=problems + trouble,
        usage=getattr(summarizer, "usage", None) if summarizer.costly else None,
        language=cfg.newsletter.language,
        left_out=placement.left_out,
        timezone=cfg.newsletter.tz,
    )
    env = template_env(templates_folder(cfg))
    env.globals["web_url"] = issue_url(cfg, issue.date)  # "View in browser", when [web] base_url is set
    env.globals["unsubscribe_link"] = unsubscribe_slot(cfg)  # the footer's link; made personal per recipient
    email = render_issue(issue, env, unsubscribe_url=cfg.newsletter.unsubscribe_url)
    return Built(issue, email, issue_document(issue), issue.problems + email.warnings)


def _stored_embedder(cfg: Config, edges: Edges) -> Embedder | None:
    """Grouping's embedder: the vectors the polls stored, and at most ``[grouping] embeddings_seconds``
    of embedding for the articles still without one (a dry run keeps nothing it embeds)."""
    if edges.embedder is None:
        return None
    from newsletter.group.vectors import StoredEmbedder

    return StoredEmbedder(edges.embedder, edges.store, seconds=cfg.grouping.embeddings_seconds,
                          at=edges.clock.now, stop=edges.stop)


def placements(issue: Issue) -> list[PlacedArticle]:
    """Every article the issue carries, with its story and where it went: what "never repeat" reads later."""
    rows = [PlacedArticle(a.id, b.story.id, "briefing") for b in issue.briefings for a in b.story.articles]
    rows += [PlacedArticle(a.id, item.story.id, "sidebar")
             for item in issue.sidebar if item.story is not None for a in item.story.articles]
    return rows


# -- delivering -----------------------------------------------------------------------------------

def _deliver_all(cfg: Config, edges: Edges, stored: StoredEmail, key: str, email: RenderedEmail,
                 to: list[str], *, secret: str | None = None, retry_refused: bool = True,
                 on_delivery: Callable[[Delivery], None] | None = None) -> list[Delivery]:
    """Claim each owed recipient, hand the message over, record the outcome: one at a time.

    The window for a duplicate is one message: a process killed after the server accepted it and
    before "sent" was recorded leaves that recipient "sending", and the next start resends it with
    the same Message-ID (the claim names its owner, so a dead process's claim is taken at once).
    A second process never sends anyone a second copy."""
    store, transport, clock = edges.store, edges.transport, edges.clock
    sender = cfg.newsletter.sender
    out: list[Delivery] = []

    def done_with(outcome: Delivery) -> None:
        out.append(outcome)
        if on_delivery is not None:
            on_delivery(outcome)

    keys = {r: mailbox_key(r) for r in to}  # what the store knows each recipient by, whatever its spelling
    ids = store.owe(stored.issue_id, to, message_ids={r: message_id(key, r, sender) for r in to},
                    transport=transport.name, at=clock.now())
    before = store.delivery_status(stored.issue_id)
    try:
        for rcpt in to:
            if edges.stop is not None and edges.stop.is_set():
                break  # a stop was asked (run's SIGTERM, send's Ctrl-C): the rest stay owed, for the next start
            mbox, spec = keys[rcpt], parseaddr(rcpt)[1]  # the envelope and the outbox name take no display name
            done_before = before.get(mbox) == DeliveryStatus.SENT or (
                not retry_refused and before.get(mbox) == DeliveryStatus.FAILED)
            if done_before:
                done_with(Delivery(spec, ids[mbox], transport.name, before[mbox], earlier=True))
                continue
            if not store.claim_recipient(stored.issue_id, mbox, clock.now(), edges.owner):
                # Another process has it (or just finished it): report what it recorded.
                now_status = store.delivery_status(stored.issue_id).get(mbox, DeliveryStatus.SENDING)
                done_with(Delivery(spec, ids[mbox], transport.name, now_status, earlier=True))
                continue
            msg = build_message(personal(email, cfg, secret, rcpt) if secret else email, sender, rcpt,
                                msg_id=ids[mbox], date=stored.created_at,
                                unsubscribe_url=unsubscribe_url(cfg, secret, rcpt) if secret
                                else cfg.newsletter.unsubscribe_url,
                                unsubscribe_mailto=unsubscribe_mailto(sender) if secret else None,
                                one_click=bool(secret))
            try:
                done = deliver(msg, spec, transport)
            except BaseException as e:
                # The claim must not outlive this run: the recipient stays owed.
                store.mark_delivery(stored.issue_id, mbox, status=DeliveryStatus.PENDING, error=str(e)[:500],
                                    at=clock.now())
                raise
            done.at = clock.now()
            store.mark_delivery(stored.issue_id, mbox, status=done.status, location=done.location or None,
                                error=done.error, at=done.at)
            done_with(done)
    finally:
        transport.close()
    return out


def _still_subscribed(cfg: Config, store: Store, to: list[str]) -> tuple[list[str], list[str]]:
    """The recipients who have not left by a one-click link, and those who have."""
    kept, left = split_unsubscribed(to, store.unsubscribed(cfg.newsletter.title))
    if left:
        log.info("skipping %s", counted(len(left), "unsubscribed address", "unsubscribed addresses"))
    return kept, left


def _write_archive(cfg: Config, store: Store) -> list[str]:
    """The static archive after a send, when ``[web] archive`` names its folder; a failure is reported
    with the issue's problems, never taken out on the readers who already have it."""
    if not cfg.web.archive:
        return []
    try:
        write_archive(cfg, store, cfg.resolve(cfg.web.archive), templates_folder(cfg))
    except NewsletterError as e:
        # A later send that owes nobody leaves the archive as it is: without this line the issue's page (its
        # "View in browser" link) stayed missing until the next issue. Said before any message goes out, so it
        # claims nothing of how the send went (every recipient may yet be refused).
        return [f"{e} The send goes on without it; once that is mended, `{cfg.command('archive')}` writes "
                "the archive with the issue's page."]
    return [warning] if (warning := relative_feeds(cfg)) else []


# -- small things ---------------------------------------------------------------------------------

def todays_key(cfg: Config, now: datetime) -> str:
    """The key of the issue that a send at ``now`` delivers: one per newsletter and local day."""
    return issue_key(cfg.newsletter.title, issue_date(cfg, now))


def _usage_row(issue: Issue) -> tuple[int, int, int, int, int] | None:
    u = issue.usage
    return (u.calls, u.prompt_tokens, u.completion_tokens, u.uncounted, u.unanswered) if u is not None else None


def issue_date(cfg: Config, now: datetime) -> date:
    return now.astimezone(cfg.newsletter.tz).date()


def _off_day(cfg: Config, now: datetime) -> list[str]:
    """A new issue made by hand on a day [newsletter] days leaves out (a weekly, on a Monday) takes the news
    the next scheduled one would carry, and went out without a word: say so, in a list of problems."""
    from newsletter.schedule import send_days  # APScheduler, for send and dry runs only

    day = issue_date(cfg, now)
    if day.weekday() in send_days(cfg):
        return []
    days = cfg.newsletter.days
    return [f"{day:%A} is not one of [newsletter] days ({days if isinstance(days, str) else ', '.join(days)}): "
            "`run` sends no issue today; one sent by hand carries the news the next scheduled issue would have"]


def templates_folder(cfg: Config) -> Path | None:
    if not cfg.newsletter.templates:
        return None
    own = cfg.resolve(cfg.newsletter.templates)
    if not own.is_dir():
        # Silently falling back to the shipped look would hide the typo.
        raise ConfigError(cfg.path, "[newsletter] templates", f"folder {cfg.newsletter.templates!r} not found "
                          f"(looked at {own}).", "fix the path; it is relative to the config file's folder.")
    return own


def _fresh_since(last_issue: datetime | None, now: datetime, max_age_hours: float) -> datetime | None:
    limit = now - timedelta(hours=max_age_hours) if max_age_hours else None
    if last_issue is None or limit is None:
        return last_issue or limit
    return max(last_issue, limit)


def _arrived(article: Article) -> datetime:
    """When we could first have reported it: a late-fetched article counts as new, not as old."""
    return max(article.published, article.first_seen or article.published)


def _unseen(found: list[Article], stored: list[Article], since: datetime | None, now: datetime) -> list[Article]:
    """Articles a dry run parsed that the store does not hold, in the window, as if fetched now."""
    have = {a.id for a in stored}
    out = []
    for a in found:
        if a.id in have or (since is not None and a.published < since) or a.published > now:
            continue
        have.add(a.id)
        a.first_seen = a.first_seen or now
        out.append(a)
    return out


def _write_preview(html_path: Path, built: Built) -> list[Path]:
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        txt_path, json_path = html_path.with_suffix(".txt"), html_path.with_suffix(".json")
        # Each whole or not at all: a full disk left an empty .html where the last preview was.
        write_whole(html_path, built.email.html.encode("utf-8"))
        write_whole(txt_path, built.email.text.encode("utf-8"))
        write_whole(json_path, (json.dumps(built.document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as e:
        raise NewsletterError(f"cannot write the preview to {html_path} ({e.strerror}). "
                              "Fix: pass --out with a path in a writable folder.") from None
    return [html_path, txt_path, json_path]
