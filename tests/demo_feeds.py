"""The demo feeds (config/feeds) as Articles, with their ground truth from config/feeds/README.md."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

from newsletter.config import Config, load_config
from newsletter.ingest.parse import article_id, parse_feed
from newsletter.models import Article

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "newsletter.toml"

# Multi-source stories: guids of the items that report the same event.
DEMO_STORIES = {
    "S1 Lumenfold buys Quillon Cells": [
        "ledger-88195", "tag:copperfield-tech.example,2026:post-5108",
        "northwind-courier-2026-11-23-0361", "eastbay-signal:77351",
    ],
    "S2 tidal barrier approved": [
        "northwind-courier-2026-11-23-0377", "tag:harborline-dispatch.example,2026:entry-2219", "eastbay-signal:77388",
    ],
    "S3 night train": [
        "northwind-courier-2026-11-24-0412", "tag:harborline-dispatch.example,2026:entry-2231", "ledger-88231",
    ],
    "S4 Halvard breach": [
        "tag:copperfield-tech.example,2026:post-5120", "eastbay-signal:77380", "ledger-88210",
    ],
    "S5 herring return": ["tag:harborline-dispatch.example,2026:entry-2227", "eastbay-signal:77395"],
    "S6 wind farm strike": [
        "northwind-courier-2026-11-24-0398", "tag:harborline-dispatch.example,2026:entry-2224", "ledger-88219",
    ],
}
# Same names and words as a story above, a different event: each must stay alone.
DEMO_DISTRACTORS = [
    "tag:copperfield-tech.example,2026:post-5097", "northwind-courier-2026-11-23-0379", "eastbay-signal:77410",
    "tag:harborline-dispatch.example,2026:entry-2210", "ledger-88190",
]


def demo_articles(cfg: Config | None = None) -> tuple[list[Article], dict[str, str]]:
    """Every demo item as an Article (topics set from its feed), and guid -> article id."""
    cfg = cfg or load_config(DEMO_CONFIG)
    now = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
    guids = [g for gs in DEMO_STORIES.values() for g in gs] + DEMO_DISTRACTORS
    articles: list[Article] = []
    ids: dict[str, str] = {}
    for src in cfg.feeds:
        parsed = parse_feed(Path(src.url).read_bytes(), None, feed_url=src.url, outlet=src.name, now=now)
        articles += [dataclasses.replace(a, topics=(src.topic,)) for a in parsed.articles]
        known = {a.id for a in parsed.articles}
        ids.update({g: article_id(src.url, guid=g) for g in guids if article_id(src.url, guid=g) in known})
    return articles, ids


def demo_labels(articles: list[Article], ids: dict[str, str]) -> dict[str, str]:
    """Article id -> label: the story name, or the article's own id when it stands alone."""
    labels = {a.id: a.id for a in articles}
    for name, guids in DEMO_STORIES.items():
        for g in guids:
            labels[ids[g]] = name
    return labels
