"""The records that flow forward through the pipeline.

FeedSource -> Article -> Story -> Briefing -> Issue -> RenderedEmail -> Delivery

Every stage takes some of these and returns the next; none reaches back.
Times are timezone-aware UTC datetimes throughout.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import ClassVar


@dataclass(frozen=True)
class FeedSource:
    """One feed of one topic, as the config names it.

    ``url`` is an http(s) URL or an absolute file path (the config resolves
    relative paths against its own folder).
    """

    url: str
    topic: str
    name: str | None = None  # outlet name override; else the feed's own title
    full_text: bool = False  # fetch each article page when the feed carries teasers
    allow_private: bool = False  # those pages may be on private addresses (see ingest.public)

    @property
    def is_remote(self) -> bool:
        return is_remote(self.url)


def outlet_key(name: str) -> str:
    """Outlet names that differ only in case or spacing are one outlet: it counts once."""
    return name.strip().casefold()


def is_remote(url: str) -> bool:
    """An http(s) URL, fetched over the network; anything else in a config is a file path."""
    return url.lower().startswith(("http://", "https://"))


@dataclass
class Article:
    """One feed entry, normalised: UTC time, canonical link, sanitised text."""

    id: str  # stable across fetches: see ingest.parse.article_id
    feed_url: str
    outlet: str
    title: str
    link: str  # canonical: tracking parameters and fragment removed
    published: datetime
    text: str  # plain text, for grouping and summarising
    html: str = ""  # sanitised HTML, safe to show
    first_seen: datetime | None = None
    topics: tuple[str, ...] = ()  # set by selection: the config topics whose feeds carry it
    # BCP-47 primary subtag ("de"): the feed's declaration checked against the text (newsletter.language);
    # None when neither says. The extractive writer reads stop words, stems and sentences by it.
    language: str | None = None


@dataclass
class Story:
    """Articles from different outlets that report the same event.

    ``articles`` holds one article per outlet, best first; the order fixes the
    source numbers [1], [2], ... that briefings cite.
    """

    articles: list[Article]
    headline: str
    topics: tuple[str, ...] = ()
    score: float = 0.0
    is_update: bool = False  # sent before, back because new outlets joined

    @property
    def id(self) -> str:
        """Stable for the same set of articles, whatever their order."""
        joined = "\n".join(sorted(a.id for a in self.articles))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    @property
    def outlets(self) -> list[str]:
        return [a.outlet for a in self.articles]

    @property
    def headline_language(self) -> str | None:
        """The language of the source whose title the headline is (None when unknown)."""
        return next((a.language for a in self.articles if a.title.strip() == self.headline.strip()), None)

    @property
    def first_published(self) -> datetime:
        return min(a.published for a in self.articles)

    @property
    def last_published(self) -> datetime:
        return max(a.published for a in self.articles)


@dataclass
class Bullet:
    text: str
    cites: list[int]  # source numbers, counted from 1, into Story.articles
    # A source's own words carry its language (Article.language) so the email can mark them; None for
    # what a model wrote (the reader's language) or a source whose language is unknown.
    language: str | None = None


@dataclass(frozen=True)
class SectionKind:
    """One section of a briefing: the one place its key, guide and limits are written down.

    ``key`` names it in the JSON document and the model's answer; ``guide`` tells the model what
    belongs in it. What readers see as its title is in each language's file (``newsletter/locales``):
    ``title`` is the English one, or the model's own for an extra section.
    """

    key: str
    guide: str
    max_bullets: int = 3
    own_title: str = ""  # a model-titled section's heading, as written

    @property
    def title(self) -> str:
        if self.own_title:
            return self.own_title
        from newsletter.locales import english

        return english().sections[self.key]


BIG_PICTURE = SectionKind("big_picture", "the core facts the sources agree on")
WHY_IT_MATTERS = SectionKind("why_this_matters", "the consequences and who is affected")
BETWEEN_THE_LINES = SectionKind("between_the_lines", "context, caveats, disagreements between sources, notable quotes")
SECTIONS: tuple[SectionKind, ...] = (BIG_PICTURE, WHY_IT_MATTERS, BETWEEN_THE_LINES)


@dataclass(frozen=True)
class GroundingDrop:
    """One model sentence the grounding gate refused, and why (see summarize.grounding)."""

    section: str  # a SectionKind.key, or "headline" / "dek"
    reason: str  # e.g. "number not in the cited source"
    claim: str  # the words that failed, as the model wrote them


@dataclass
class Grounding:
    """What the grounding gate did to one model briefing: shown in the run report and the JSON."""

    checked: int = 0  # headline, dek and bullets looked at
    dropped: list[GroundingDrop] = field(default_factory=list)
    recited: int = 0  # bullets kept with their cites corrected to the sources that hold them

    def add(self, other: Grounding) -> None:
        self.checked += other.checked
        self.dropped += other.dropped
        self.recited += other.recited


@dataclass
class Usage:
    """What model calls cost, from the API's own usage figures."""

    calls: int = 0  # answered ones
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: int = 0  # stories answered from the cache, without a call
    # Calls the server never answered (a timeout, a 429 after the client's retries, a refusal): they
    # spend no tokens we know of, but "0 calls" after nine failed requests read as a model never asked.
    unanswered: int = 0
    # Answered calls whose answer carried no token counts (some local servers send no "usage"): their
    # tokens are in no figure above, and the budget holds them at an estimate.
    uncounted: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def figures(self) -> dict:
        """As the issue's JSON document and the send's log line give them."""
        return {"model_calls": self.calls, "prompt_tokens": self.prompt_tokens, "completion_tokens":
                self.completion_tokens, "answers_reused": self.cached, "model_calls_unanswered": self.unanswered,
                **({"model_calls_without_token_counts": self.uncounted} if self.uncounted else {})}

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached += other.cached
        self.unanswered += other.unanswered
        self.uncounted += other.uncounted


@dataclass
class Briefing:
    """The written-up form of one top story."""

    story: Story
    headline: str
    dek: str
    bullets: dict[str, list[Bullet]]  # by SectionKind.key
    summarizer: str = "extractive"  # which summarizer wrote it, for the report
    grounding: Grounding | None = None  # set when a model wrote it: what the gate checked and dropped
    # One more section a model may title for this story ("Key policy supports"), read after the big
    # picture: (title, bullets). None when it would add nothing; the extractive writer never makes one.
    extra: tuple[str, list[Bullet]] | None = None
    # Set when the headline or the dek is a source's own title or sentence: that source's language.
    headline_language: str | None = None
    dek_language: str | None = None

    EXTRA_KEY: ClassVar[str] = "extra_section"  # its name in the JSON document and the model's answer
    EXTRA_BULLETS: ClassVar[tuple[int, int]] = (2, 4)  # fewer than the first and it is left out

    @classmethod
    def extra_kind(cls, title: str) -> SectionKind:
        """The SectionKind of an extra section titled ``title``."""
        return SectionKind(cls.EXTRA_KEY, "what the fixed sections leave out, under a title of its own",
                           max_bullets=cls.EXTRA_BULLETS[1], own_title=title)

    def sections(self) -> list[tuple[SectionKind, list[Bullet]]]:
        """Every section in reading order, empty ones included; the extra one right after the big picture."""
        out = [(kind, self.bullets.get(kind.key, [])) for kind in SECTIONS]
        if self.extra is not None:
            title, items = self.extra
            out.insert(SECTIONS.index(BIG_PICTURE) + 1, (self.extra_kind(title), items))
        return out


@dataclass
class SidebarItem:
    """A further story in the Recent news sidebar: headline, blurb, link."""

    headline: str
    blurb: str
    url: str
    outlet: str
    story: Story | None = None
    headline_language: str | None = None  # the source title's (Story.headline_language)
    blurb_language: str | None = None  # its source's, when the blurb is a source's sentence; None when a model wrote it
    # Set when a model was asked for the line: what the gate checked and refused of it (the run report's and
    # the JSON's, as for a briefing), so an invented fact is told even though the reader gets the source's line.
    grounding: Grounding | None = None


@dataclass
class TopicSection:
    name: str
    briefings: list[Briefing]


class FeedStatus(StrEnum):
    """What one fetch of one feed came to."""

    NEW = "new"  # fetched and parsed (zero or more new articles)
    UNCHANGED = "unchanged"  # 304 or the same file stamp: nothing parsed
    SKIPPED = "skipped"  # not due yet (Retry-After, max-age)
    FAILED = "failed"
    GONE = "gone"  # 410 now: disabled until `newsletter feeds enable` brings it back
    DISABLED = "disabled"  # left alone: a 410 disabled it before


@dataclass
class FeedState:
    """What the store remembers of one feed between fetches: validators, health, when it is next due."""

    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_fetch_after: datetime | None = None
    gone: bool = False
    failing_since: datetime | None = None  # the first of the failures in a row


@dataclass
class FeedReport:
    """What happened to one feed during a fetch: shown by check, fetch and in the run report."""

    url: str
    topic: str
    status: FeedStatus
    new: int = 0
    seen: int = 0  # entries in the feed, new or not
    error: str | None = None
    outlet: str | None = None
    notes: list[str] = field(default_factory=list)  # what succeeded only in part (full text limits, entries cap)

    @property
    def ok(self) -> bool:
        return self.status in (FeedStatus.NEW, FeedStatus.UNCHANGED, FeedStatus.SKIPPED)

    @property
    def failed(self) -> bool:
        """Whether this fetch failed: a feed disabled before is not ok, but was not tried, so not a new failure."""
        return self.status in (FeedStatus.FAILED, FeedStatus.GONE)


@dataclass
class Issue:
    """One edition of the newsletter, before rendering."""

    title: str
    date: date
    generated_at: datetime
    sections: list[TopicSection]
    sidebar: list[SidebarItem]
    feed_reports: list[FeedReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what failed but did not stop the issue
    usage: Usage | None = None  # what the model cost; None when no model was asked
    language: str = "en"  # the reader's language: a file in newsletter/locales ([newsletter] language)
    left_out: int = 0  # new stories that found no room in it (max_stories, sidebar_size)
    timezone: tzinfo | None = None  # the newsletter's ([newsletter] timezone): the days its sources are dated by

    @property
    def briefings(self) -> list[Briefing]:
        return [b for s in self.sections for b in s.briefings]

    @property
    def key(self) -> str:
        return issue_key(self.title, self.date)


def issue_key(title: str, day: date) -> str:
    """One issue per newsletter and day: the idempotency key for delivery."""
    return f"{issue_key_prefix(title)}{day.isoformat()}"


def issue_key_prefix(title: str) -> str:
    """What every issue key of one newsletter starts with: how the store finds that newsletter's issues."""
    return f"{title}:"


@dataclass
class RenderedEmail:
    subject: str
    html: str
    text: str
    issue: Issue | None  # None for an email read back from the store
    warnings: list[str] = field(default_factory=list)  # what rendering had to give up (trimmed for size)


@dataclass(frozen=True)
class SentArticle:
    """An article that reached at least one recipient in an earlier issue."""

    article_id: str
    story_id: str
    issue_id: int
    created_at: datetime


@dataclass(frozen=True)
class PlacedArticle:
    """One article's place in a recorded issue: what "never repeat" reads later."""

    article_id: str
    story_id: str
    where: str  # "briefing" or "sidebar"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # owed, nobody is sending it yet
    SENDING = "sending"  # claimed by a process that is handing it to the transport
    SENT = "sent"
    FAILED = "failed"  # refused or unreachable; a later run tries again


@dataclass
class Delivery:
    recipient: str
    message_id: str
    transport: str  # "file" or "smtp"
    status: DeliveryStatus
    location: str = ""  # the .eml path, or the SMTP host
    at: datetime | None = None
    error: str | None = None
    earlier: bool = False  # served by an earlier run (or another process), not by this one

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.SENT
