"""Which stored articles go into this issue: the time window, then each topic's keyword filters.

Keywords match whole words, case-insensitively, in the title and text:
"AI" matches "new AI rules" but not "said" or "maintain". A keyword of
several words matches them in sequence, whatever the spacing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from newsletter.config import Config, Topic
from newsletter.models import Article
from newsletter.store import Store


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


def select_articles(store: Store, cfg: Config, *, since: datetime | None, now: datetime) -> list[Article]:
    """Stored articles from the config's feeds published in [since, now], each tagged with the
    topics whose feeds carry it and whose filters admit it; articles no topic admits are left out."""
    filters = {t.name: TopicFilter.of(t) for t in cfg.topics}
    topics_of: dict[str, list[str]] = {}
    for source in cfg.feeds:
        names = topics_of.setdefault(source.url, [])
        if source.topic not in names:
            names.append(source.topic)
    chosen = []
    for article in store.articles_between(since, now, feed_urls=list(topics_of)):
        haystack = f"{article.title}\n{article.text}"
        topics = tuple(t for t in topics_of.get(article.feed_url, ()) if filters[t].admits(haystack))
        if topics:
            chosen.append(replace(article, topics=topics))
    return chosen
