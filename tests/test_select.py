"""Selection: the window the store reads, each topic's whole-word include/exclude filters, and topic tags."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conftest import article, make_config
from newsletter.config import Config
from newsletter.models import Article
from newsletter.select import select_articles
from newsletter.store import Store

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)


def config(*topics: dict) -> Config:
    return make_config(topics=list(topics))


def art(i: int, feed: str, title: str, text: str = "", hours_ago: float = 1) -> Article:
    when = NOW - timedelta(hours=hours_ago)
    return article(f"a{i}", feed_url=feed, outlet="O", title=title, published=when, text=text, first_seen=when)


def select(store: Store, cfg: Config, *, since, now):
    """What the orchestrator does: the store reads the window of the config's feeds, selection filters it."""
    window = store.articles_between(since, now, feed_urls=[f.url for f in cfg.feeds])
    return select_articles(window, cfg.topics, cfg.feeds)


def titles(arts):
    return sorted(a.title for a in arts)


def test_window_keeps_only_articles_since_the_cutoff(store):
    cfg = config({"name": "Tech", "feeds": ["https://tech.example/feed"]})
    store.add_articles([art(1, "https://tech.example/feed", "Fresh", hours_ago=2),
                        art(2, "https://tech.example/feed", "Stale", hours_ago=50),
                        art(3, "https://other.example/feed", "Not our feed", hours_ago=1)])
    assert titles(select(store, cfg, since=NOW - timedelta(hours=48), now=NOW)) == ["Fresh"]
    assert titles(select(store, cfg, since=None, now=NOW)) == ["Fresh", "Stale"]


def test_exclude_and_include_only_match_whole_words_case_insensitively(store):
    feed = "https://tech.example/feed"
    cfg = config({"name": "Tech", "feeds": [feed], "keywords": ["AI", "chip plant"], "include_only": True,
                  "exclude": ["crypto"]})
    store.add_articles([
        art(1, feed, "New ai rules for banks"),
        art(2, feed, "Lumenfold delays its CHIP   PLANT"),
        art(3, feed, "Mayor said the budget is fine", "Maintain roads; nothing about it."),  # 'ai' inside words
        art(4, feed, "AI meets crypto", "A Crypto exchange"),
        art(5, feed, "Cryptography award", "The AI lab won it."),  # 'crypto' only inside a word
    ])
    got = select(store, cfg, since=None, now=NOW)
    assert titles(got) == ["Cryptography award", "Lumenfold delays its CHIP   PLANT", "New ai rules for banks"]
    assert {a.topics for a in got} == {("Tech",)}


def test_keywords_without_include_only_do_not_filter(store):
    feed = "https://tech.example/feed"
    cfg = config({"name": "Tech", "feeds": [feed], "keywords": ["AI"]})
    store.add_articles([art(1, feed, "Rail strike ends")])
    assert titles(select(store, cfg, since=None, now=NOW)) == ["Rail strike ends"]


def test_a_feed_in_two_topics_tags_each_article_with_the_topics_that_admit_it(store):
    feed = "https://shared.example/feed"
    cfg = config({"name": "Business", "feeds": [feed]},
                 {"name": "Climate", "feeds": [feed], "exclude": ["earnings"]})
    store.add_articles([art(1, feed, "Quarterly earnings beat forecasts"), art(2, feed, "Flood barrier opens")])
    got = {a.title: a.topics for a in select(store, cfg, since=None, now=NOW)}
    assert got == {"Quarterly earnings beat forecasts": ("Business",), "Flood barrier opens": ("Business", "Climate")}
