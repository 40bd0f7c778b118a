"""Grouping at scale: time and peak memory of group_stories on 5k, 20k and 50k synthetic articles.

    python bench/bench_group.py                 # 5k, 20k, 50k; median of 3 runs each
    python bench/bench_group.py --sizes 5000 --repeat 1

Each run is a fresh subprocess, so its peak RSS (ru_maxrss) is its own: the
articles, the features and the clustering, interpreter included. Reported
against the budget (60 s, 1 GiB on 2 cores) and as growth between sizes:
linear work shows time ratios close to the size ratios. Pairwise precision
and recall against the generator's true events are printed as a sanity check.
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


def child(n: int) -> None:
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from synth_news import synth_articles

    import newsletter.group.stories  # noqa: F401 - numpy, scipy, sklearn: loaded before the clock starts
    from newsletter.config import GroupingSettings
    from newsletter.group import group_stories

    articles, labels = synth_articles(n)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    stories = group_stories(articles, GroupingSettings())
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


def run(n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000,20000,50000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child)

    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        runs = [run(n) for _ in range(args.repeat)]
        med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
        rows.append(dict(runs[0], seconds=med("seconds"), peak_mb=med("peak_mb"), input_mb=med("input_mb"),
                         all_seconds=[round(r["seconds"], 2) for r in runs]))
        print(f"  measured {n:>6}: {rows[-1]['all_seconds']} s", file=sys.stderr)

    print(f"group_stories, {os.cpu_count()} CPUs, median of {args.repeat} run(s), each in its own process\n")
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
