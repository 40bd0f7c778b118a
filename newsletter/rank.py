"""Ranking and placement: which stories get briefings, which go to the sidebar, which are dropped.

A story's score in a topic is a weighted sum (weights in ``[ranking]``) of
four signals, each in [0, 1]:

- outlets: how many distinct outlets carry it, log-scaled, full at 8;
- recency: halves every ``recency_half_life_hours`` since its latest article;
- keywords: the topic's keywords it mentions (whole words), m / (m + 1);
- novelty: the share of its articles not sent in an earlier issue.

Never repeat: a story whose articles were all sent before is dropped. One
with some sent articles comes back, marked ``is_update``, only when at least
``update_min_new_outlets`` outlets that were not in the sent coverage have
joined it; otherwise it is dropped too.

Placement: every (story, topic) pair the story fits (the topics of its
feeds) is ranked by score; walking down that list, a story takes a briefing
slot in the first topic that still has room (``max_stories`` per topic), so
it lands where it ranks best. The stories left over fill the sidebar by
their best score. Each story appears once. Stories that only one outlet
carries are placed in rounds, ``SOLO_FIRST`` more per outlet in each, so one
busy feed cannot fill the issue; they still fill the room the others leave. Ties break on more outlets, then
newer, then topic order in the config, then story id: same input, same issue.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from newsletter.config import RankingSettings, Topic
from newsletter.models import Article, SentArticle, Story, outlet_key
from newsletter.select import word_pattern

OUTLETS_FULL = 8  # this many outlets (or more) score the full outlets weight
# Places an outlet's own stories take per round, before the other outlets' have had theirs: a feed of
# 200 bulletins a day had taken 6 of 8 Recent news items and 5 of 12 briefings from the journals.
SOLO_FIRST = 2


@dataclass
class Placement:
    sections: dict[str, list[Story]] = field(default_factory=dict)  # topic -> stories for briefings, best first
    sidebar: list[Story] = field(default_factory=list)
    dropped: list[Story] = field(default_factory=list)  # sent before and nothing new: not in this issue
    left_out: int = 0  # stories new to readers that found no room (max_stories, sidebar_size)


def novelty(story: Story, sent: dict[str, SentArticle], min_new_outlets: int) -> tuple[float, bool] | None:
    """(novelty, is_update), or None when the story must not be repeated."""
    sent_here = [a for a in story.articles if a.id in sent]
    if not sent_here:
        return 1.0, False
    fresh = [a for a in story.articles if a.id not in sent]
    new_outlets = {outlet_key(a.outlet) for a in _new_coverage(story, sent)}
    if not fresh or len(new_outlets) < max(1, min_new_outlets):
        return None
    return len(fresh) / len(story.articles), True


@dataclass(frozen=True)
class Slots:
    """How many stories an issue has room for."""

    per_topic: int  # briefings per topic ([newsletter] max_stories)
    sidebar: int  # Recent news items ([newsletter] sidebar_size)


def place_stories(stories: list[Story], topics: list[Topic], weights: RankingSettings, slots: Slots,
                  sent: dict[str, SentArticle], now: datetime) -> Placement:
    order = {t.name: k for k, t in enumerate(topics)}
    keywords = {t.name: word_pattern(t.keywords) for t in topics}
    placement = Placement(sections={t.name: [] for t in topics})

    candidates: list[tuple[tuple, Story, str | None]] = []
    for story in stories:
        judged = novelty(story, sent, weights.update_min_new_outlets)
        if judged is None:
            placement.dropped.append(story)
            continue
        fresh_share, is_update = judged
        base = (weights.outlets * _outlet_signal(story) + weights.recency * _recency(story, now, weights.recency_half_life_hours)
                + weights.novelty * fresh_share)
        story = replace(story, is_update=is_update)
        haystack = None
        its_topics = [t for t in story.topics if t in order]
        for topic in its_topics or [None]:
            score = base
            if topic is not None and keywords[topic] is not None and weights.keywords:
                haystack = haystack if haystack is not None else _haystack(story)
                m = len({w.group(0).casefold() for w in keywords[topic].finditer(haystack)})
                score += weights.keywords * m / (m + 1)
            key = (-round(score, 9), -len(story.articles), -story.last_published.timestamp(),
                   order.get(topic, len(order)) if topic else len(order), story.id)
            candidates.append((key, replace(story, score=score), topic))
    candidates.sort(key=lambda c: c[0])

    placed: dict[str, tuple] = {}  # story id -> the key it was placed by
    solos: Counter[str] = Counter()  # single-outlet stories placed, by outlet
    # Rounds: in each, an outlet's own stories may take SOLO_FIRST more places; stories that several
    # outlets carry are never held back, and the last round holds back nothing. The rounds decide
    # which stories get in; each list is then put in score order.
    room = slots.per_topic * len(topics) + slots.sidebar
    caps = [*range(SOLO_FIRST, room, SOLO_FIRST), math.inf]

    solo = {}  # story id -> the one outlet it comes from, or None
    for _key, story, _topic in candidates:
        solo.setdefault(story.id, _solo_outlet(story))

    held = False  # whether the round's cap kept a story back: if none, later rounds would place nothing more

    def fits(story: Story, cap: float) -> bool:
        nonlocal held
        outlet = solo[story.id]
        if outlet is None or solos[outlet] < cap:
            return True
        held = True
        return False

    def take(key: tuple, story: Story, where: list[Story]) -> None:
        where.append(story)
        placed[story.id] = key
        if (outlet := solo[story.id]) is not None:
            solos[outlet] += 1

    for cap in caps:
        held = False
        for key, story, topic in candidates:
            if topic is not None and story.id not in placed and len(placement.sections[topic]) < slots.per_topic \
                    and fits(story, cap):
                take(key, story, placement.sections[topic])
        if not held:
            break
    waiting: dict[str, tuple[tuple, Story]] = {}
    for key, story, _topic in candidates:  # best first: each story's best score
        if story.id not in placed:
            waiting.setdefault(story.id, (key, story))
    for cap in caps:
        held = False
        for key, story in waiting.values():
            if len(placement.sidebar) >= slots.sidebar:
                break
            if story.id not in placed and fits(story, cap):
                take(key, story, placement.sidebar)
        if not held or len(placement.sidebar) >= slots.sidebar:
            break
    placement.sections = {t: sorted(s, key=lambda x: placed[x.id]) for t, s in placement.sections.items() if s}
    placement.sidebar.sort(key=lambda x: placed[x.id])
    # A Recent news item shows one article: for an update, the new coverage, not the line readers already had.
    placement.sidebar = [_new_coverage_first(s, sent) if s.is_update else s for s in placement.sidebar]
    placement.left_out = len(stories) - len(placed) - len(placement.dropped)
    return placement


def _new_coverage(story: Story, sent: dict[str, SentArticle]) -> list[Article]:
    """The story's articles not sent before, from outlets its sent coverage lacked."""
    seen = {outlet_key(a.outlet) for a in story.articles if a.id in sent}
    return [a for a in story.articles if a.id not in sent and outlet_key(a.outlet) not in seen]


def _new_coverage_first(story: Story, sent: dict[str, SentArticle]) -> Story:
    """An update led by an article of its new coverage: its headline and link are what is new (the lead it
    was sent with would repeat an earlier issue's line)."""
    fresh = _new_coverage(story, sent)
    if not fresh:
        return story
    leads = {a.id for a in fresh}
    rest = [a for a in story.articles if a.id not in leads]
    return replace(story, articles=fresh + rest, headline=fresh[0].title)


def _solo_outlet(story: Story) -> str | None:
    """The one outlet a story comes from, or None when several carry it."""
    outlets = {outlet_key(a.outlet) for a in story.articles}
    return next(iter(outlets)) if len(outlets) == 1 else None


def _outlet_signal(story: Story) -> float:
    n = len({outlet_key(a.outlet) for a in story.articles})
    return min(1.0, math.log(max(n, 1)) / math.log(OUTLETS_FULL))


def _recency(story: Story, now: datetime, half_life_hours: float) -> float:
    age_h = max(0.0, (now - story.last_published).total_seconds() / 3600.0)
    return 0.5 ** (age_h / half_life_hours)


def _haystack(story: Story) -> str:
    return "\n".join(f"{a.title}\n{a.text}" for a in story.articles)
