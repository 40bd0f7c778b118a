"""The orchestrator: one function per command, reading top to bottom as the whole run.

    build_issue:  fetch feeds -> select articles -> group into stories ->
                  rank and place -> write briefings and blurbs -> Issue
    send_issue:   build_issue -> render -> record the issue -> deliver to each recipient

The outside world comes in as arguments (store, HTTP client, summarizer,
transport, clock) so tests hand in real local servers and a pinned clock.
Failures confined to one feed, story or recipient are recorded and the run
goes on; only a mistake in the config stops it.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx

from newsletter.clock import Clock
from newsletter.config import Config
from newsletter.deliver import Transport, deliver_issue
from newsletter.group import group_stories
from newsletter.ingest import ingest_feeds
from newsletter.models import (
    Article, Briefing, Delivery, FeedReport, Issue, RenderedEmail, SidebarItem, Story, TopicSection, issue_key,
)
from newsletter.rank import place_stories
from newsletter.render import issue_document, render_issue
from newsletter.select import select_articles
from newsletter.store import Store
from newsletter.summarize import Summarizer, extractive_summarizer

log = logging.getLogger(__name__)


@dataclass
class Run:
    """What the CLI needs to report after a command."""

    issue: Issue
    email: RenderedEmail | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    resumed: bool = False  # today's issue was already recorded: its email went to those still owed


def fetch(cfg: Config, store: Store, clock: Clock, *, http: httpx.AsyncClient | None = None,
          progress=None) -> list[FeedReport]:
    """Pull every feed once and store what is new: the ``fetch`` command and the polling job."""
    return ingest_feeds(cfg.feeds, store, settings=cfg.fetch, clock=clock, http=http, progress=progress)


def build_issue(cfg: Config, store: Store, summarizer: Summarizer, clock: Clock, *,
                http: httpx.AsyncClient | None = None, progress=None, fetch_first: bool = True) -> Issue:
    reports = fetch(cfg, store, clock, http=http, progress=progress) if fetch_first else []
    # Read after fetching: what this fetch brought in is this issue's, not the next one's.
    now = clock.now()
    problems = [f"feed {r.url}: {r.error}" for r in reports if not r.ok]

    # An issue covers what arrived since the last one (at most max_age_hours back). Older
    # articles are still read, as context, so a new report of an event already sent joins
    # its story and comes back as an update instead of passing for a new story.
    fresh_since = _fresh_since(store.last_issue_at(), now, cfg.newsletter.max_age_hours)
    context_since = fresh_since - timedelta(hours=cfg.grouping.window_hours) if fresh_since else None
    articles = select_articles(store, cfg, since=context_since, now=now)
    stories = group_stories(articles, cfg.grouping, embedder=_embedder(cfg))
    if fresh_since is not None:
        stories = [s for s in stories if any(_arrived(a) >= fresh_since for a in s.articles)]
    placement = place_stories(stories, cfg, store.sent_articles(), now)

    # Model calls are slow and independent: run them side by side, keep the order.
    breaker = _Breaker(cfg.llm.give_up_after)
    with ThreadPoolExecutor(max_workers=cfg.llm.concurrency) as pool:
        briefed = {
            topic.name: list(pool.map(lambda st: _brief(summarizer, st, breaker),
                                      placement.sections.get(topic.name, [])))
            for topic in cfg.topics
        }
        sidebar_done = list(pool.map(lambda st: _sidebar_item(summarizer, st), placement.sidebar))

    sections = []
    for topic in cfg.topics:
        briefings = []
        for briefing, trouble in briefed[topic.name]:
            problems += trouble
            if briefing is not None:
                briefings.append(briefing)
        if briefings:
            sections.append(TopicSection(topic.name, briefings))
    sidebar = []
    for item, trouble in sidebar_done:
        problems += trouble
        sidebar.append(item)
    if breaker.skipped:
        problems.append(f"{summarizer.name} failed {breaker.limit} times in a row; the model was not asked for "
                        f"the other {breaker.skipped} stories, which got extractive briefings")

    return Issue(
        title=cfg.newsletter.title,
        date=_issue_date(cfg, now),
        generated_at=now,
        sections=sections,
        sidebar=sidebar,
        feed_reports=reports,
        problems=problems,
    )


def send_issue(cfg: Config, store: Store, summarizer: Summarizer, transport: Transport, clock: Clock, *,
               recipients: list[str] | None = None, http: httpx.AsyncClient | None = None, progress=None) -> Run:
    """Build, render, record, deliver. Recording comes first, so a second run the same
    day sends the recorded email to the recipients still pending: never a second issue,
    never a different one, and no second bill from the model."""
    now = clock.now()
    stored = store.stored_email(todays_key(cfg, now))
    if stored is not None:
        issue = Issue(cfg.newsletter.title, _issue_date(cfg, now), stored.created_at, [], [])
        email, issue_id = RenderedEmail(stored.subject, stored.html, stored.text, issue), stored.issue_id
    else:
        issue = build_issue(cfg, store, summarizer, clock, http=http, progress=progress)
        email = render_issue(issue, cfg)
        issue_id = store.record_issue(issue, email.subject, issue_document(issue), html=email.html, text=email.text)
    deliveries = deliver_issue(email, store, issue_id, transport, cfg.newsletter.sender,
                               recipients or cfg.newsletter.to, clock,
                               unsubscribe_url=cfg.newsletter.unsubscribe_url)
    return Run(issue, email, deliveries, resumed=stored is not None)


class _Breaker:
    """After ``limit`` model failures in a row, stop asking the model for the rest of the issue:
    a dead or hung endpoint then costs a few timeouts, not one (with retries) per story."""

    def __init__(self, limit: int):
        self.limit, self.failures, self.skipped = limit, 0, 0
        self._lock = threading.Lock()

    def tripped(self) -> bool:
        with self._lock:
            if self.failures >= self.limit:
                self.skipped += 1
                return True
            return False

    def record(self, ok: bool) -> None:
        with self._lock:
            self.failures = 0 if ok else self.failures + 1


def todays_key(cfg: Config, now: datetime) -> str:
    """The key of the issue that a send at ``now`` delivers: one per newsletter and local day."""
    return issue_key(cfg.newsletter.title, _issue_date(cfg, now))


def _issue_date(cfg: Config, now: datetime) -> date:
    return now.astimezone(cfg.newsletter.tz).date()


def _brief(summarizer: Summarizer, story: Story, breaker: _Breaker) -> tuple[Briefing | None, list[str]]:
    """One story's failure costs that story its model-written briefing, not the issue."""
    if summarizer.name != "extractive" and breaker.tripped():
        return extractive_summarizer().brief(story), []
    try:
        briefing = summarizer.brief(story)
        breaker.record(ok=True)
        return briefing, []
    except Exception as e:  # noqa: BLE001 - any failure of one story is reported, not raised
        breaker.record(ok=False)
        log.warning("summarizer failed on %r: %s", story.headline, e)
        problem = f"story {story.headline!r}: {summarizer.name} failed ({e}); used the extractive briefing"
        try:
            return extractive_summarizer().brief(story), [problem]
        except Exception as e2:  # noqa: BLE001
            return None, [problem, f"story {story.headline!r}: dropped ({e2})"]


def _sidebar_item(summarizer: Summarizer, story: Story) -> tuple[SidebarItem, list[str]]:
    trouble = []
    try:
        blurb = summarizer.blurb(story)
    except Exception as e:  # noqa: BLE001
        trouble.append(f"sidebar {story.headline!r}: {summarizer.name} failed ({e})")
        blurb = extractive_summarizer().blurb(story)
    lead = story.articles[0]
    return SidebarItem(headline=story.headline, blurb=blurb, url=lead.link, outlet=lead.outlet, story=story), trouble


def _fresh_since(last_issue: datetime | None, now: datetime, max_age_hours: float) -> datetime | None:
    limit = now - timedelta(hours=max_age_hours) if max_age_hours else None
    if last_issue is None or limit is None:
        return last_issue or limit
    return max(last_issue, limit)


def _arrived(article: Article) -> datetime:
    """When we could first have reported it: a late-fetched article counts as new, not as old."""
    return max(article.published, article.first_seen or article.published)


def _embedder(cfg: Config):
    if not (cfg.llm.embeddings_model and cfg.llm_enabled):
        return None
    from newsletter.group.embeddings import OpenAIEmbedder

    return OpenAIEmbedder.from_config(cfg)
