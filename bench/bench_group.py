"""Grouping at scale: time and peak memory of group_stories on 5k, 20k and 50k synthetic articles.

    python bench/bench_group.py                 # 5k, 20k, 50k; median of 3 runs each
    python bench/bench_group.py --sizes 5000 --repeat 1
    python bench/bench_group.py --stored --sizes 50000   # semantic mode, every vector read from a SQLite store

Each run is a fresh subprocess, so its peak RSS (ru_maxrss) is its own: the
articles, the features and the clustering, interpreter included. Reported
against the budget (60 s, 1 GiB on 2 cores) and as growth between sizes:
linear work shows time ratios close to the size ratios. Pairwise precision
and recall against the generator's true events are printed as a sanity check.

``--stored``: semantic mode as an issue's build runs it after the polls embedded
the day: each article's vector is in a real SQLite store (written before the
clock starts) and grouping reads them all from there. The vectors are
synthetic, 384 dimensions, derived from the generator's events (a direction
shared by all news, one per event, one per article), so that the cosines sit
where the reference model's do: about 0.92 within an event, 0.78 between two.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUDGET_S = 60.0
BUDGET_MB = 1024.0


def _pairs(counter: Counter) -> int:
    return sum(c * (c - 1) // 2 for c in counter.values())


DIMS = 384  # the reference model's (multilingual-e5-small)
SHARED, EVENT, OWN = 0.78, 0.14, 0.08  # squared weights: cosine 0.92 within an event, 0.78 between events
MODEL = "multilingual-e5-small-q4"  # its calibrated threshold (0.90) applies, as for the reference model


def child(n: int, stored: bool = False) -> None:
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from synth_news import synth_articles

    import newsletter.group.stories  # noqa: F401 - numpy, scipy, sklearn: loaded before the clock starts
    from newsletter.config import GroupingSettings
    from newsletter.group import group_stories

    articles, labels = synth_articles(n)
    embedder = store_vectors(articles, labels) if stored else None
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    stories = group_stories(articles, GroupingSettings(), embedder)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pred = {a.id: k for k, s in enumerate(stories) for a in s.articles}
    kept = [aid for aid in labels if aid in pred]  # outlet dedup may drop a same-outlet copy
    tp = _pairs(Counter((pred[a], labels[a]) for a in kept))
    print(json.dumps(dict(
        n=n, seconds=elapsed, peak_mb=peak, input_mb=rss_before, stories=len(stories),
        events=len(set(labels.values())), precision=tp / max(1, _pairs(Counter(pred[a] for a in kept))),
        recall=tp / max(1, _pairs(Counter(labels[a] for a in labels))),
    )))


def store_vectors(articles, labels):
    """Each article's synthetic vector, kept in a fresh SQLite store as the polls keep them; returns the
    build's embedder over that store (with no time to embed anything: every vector is stored)."""
    import tempfile
    from datetime import datetime, timezone

    import numpy as np

    from newsletter.group.embeddings import embedding_text
    from newsletter.group.vectors import StoredEmbedder, text_key
    from newsletter.store import Store

    def direction(seed: int) -> np.ndarray:
        v = np.random.default_rng(seed).standard_normal(DIMS)
        return v / np.linalg.norm(v)

    shared = direction(0)
    rows = []
    for k, a in enumerate(articles):
        v = (SHARED ** 0.5 * shared + EVENT ** 0.5 * direction(1 + labels[a.id])
             + OWN ** 0.5 * direction(10**7 + k))
        rows.append((text_key(embedding_text(a)), DIMS, (v / np.linalg.norm(v)).astype("<f2").tobytes()))
    folder = tempfile.mkdtemp(prefix="bench-vectors-")
    store = Store.open(f"sqlite:///{folder}/vectors.db")
    for start in range(0, len(rows), 1000):
        store.add_embeddings(MODEL, rows[start : start + 1000], datetime.now(timezone.utc))

    class NoEndpoint:
        model = MODEL

        def embed(self, texts, *, timeout=None):
            raise RuntimeError("the bench embeds nothing: every vector is stored")

    return StoredEmbedder(NoEndpoint(), store, seconds=0, at=lambda: datetime.now(timezone.utc))


def run(n: int, stored: bool = False) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(n), *(["--stored"] if stored else [])],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000,20000,50000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--stored", action="store_true", help="semantic mode, vectors read from a SQLite store")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.stored)

    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        runs = [run(n, args.stored) for _ in range(args.repeat)]
        med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
        rows.append(dict(runs[0], seconds=med("seconds"), peak_mb=med("peak_mb"), input_mb=med("input_mb"),
                         all_seconds=[round(r["seconds"], 2) for r in runs]))
        print(f"  measured {n:>6}: {rows[-1]['all_seconds']} s", file=sys.stderr)

    mode = "semantic, vectors read from a SQLite store" if args.stored else "lexical"
    print(f"group_stories ({mode}), {os.cpu_count()} CPUs, median of {args.repeat} run(s), each in its own process\n")
    print("| articles | events | stories | time s | time / 60 s | peak RSS MB | RSS / 1 GiB | input-only RSS MB | pairwise P | pairwise R |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']:,} | {r['events']:,} | {r['stories']:,} | {r['seconds']:.1f} | {r['seconds'] / BUDGET_S:.2f} "
              f"| {r['peak_mb']:.0f} | {r['peak_mb'] / BUDGET_MB:.2f} | {r['input_mb']:.0f} "
              f"| {r['precision']:.3f} | {r['recall']:.3f} |")
    if len(rows) > 1:
        print("\n| growth | size x | time x | peak RSS x |")
        print("|---|---:|---:|---:|")
        base = rows[0]
        for r in rows[1:]:
            print(f"| {base['n']:,} -> {r['n']:,} | {r['n'] / base['n']:.1f} | {r['seconds'] / base['seconds']:.1f} "
                  f"| {r['peak_mb'] / base['peak_mb']:.1f} |")


if __name__ == "__main__":
    main()
