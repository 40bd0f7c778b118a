"""Which articles go into this issue: each topic's keyword filters over the window the orchestrator read.

Keywords match whole words, case-insensitively, in the title and text:
"AI" matches "new AI rules" but not "said" or "maintain". A keyword of
several words matches them in sequence, whatever the spacing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from newsletter.config import Topic
from newsletter.models import Article, FeedSource


def word_pattern(words: list[str]) -> re.Pattern[str] | None:
    """One regex matching any of ``words`` as whole words; None when there are none."""
    alts = []
    for w in words:
        parts = w.split()
        if parts:
            alts.append(r"\s+".join(re.escape(p) for p in parts))
    if not alts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(alts, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class TopicFilter:
    name: str
    include: re.Pattern[str] | None  # only when the topic says include_only
    exclude: re.Pattern[str] | None

    @classmethod
    def of(cls, topic: Topic) -> TopicFilter:
        return cls(topic.name, word_pattern(topic.keywords) if topic.include_only else None, word_pattern(topic.exclude))

    def admits(self, haystack: str) -> bool:
        if self.exclude is not None and self.exclude.search(haystack):
            return False
        return self.include is None or self.include.search(haystack) is not None


def select_articles(articles: Iterable[Article], topics: Sequence[Topic], sources: Sequence[FeedSource]) -> list[Article]:
    """Each article tagged with the topics whose feeds carry it and whose filters admit it;
    articles no topic admits are left out."""
    filters = {t.name: TopicFilter.of(t) for t in topics}
    topics_of: dict[str, list[str]] = {}
    for source in sources:
        names = topics_of.setdefault(source.url, [])
        if source.topic not in names:
            names.append(source.topic)
    chosen = []
    for article in articles:
        haystack = f"{article.title}\n{article.text}"
        tagged = tuple(t for t in topics_of.get(article.feed_url, ()) if filters[t].admits(haystack))
        if tagged:
            chosen.append(replace(article, topics=tagged))
    return chosen
