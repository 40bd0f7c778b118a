"""Grouping quality: pairwise and B-cubed precision, recall and F1 of group_stories.

    python bench/grouping_quality.py            # the labelled, held-out, independent (and, once written,
                                                # validation) sets under tests/data, and the demo feeds
    python bench/grouping_quality.py --errors   # also list wrong merges and missed joins
    python bench/grouping_quality.py --errors --without-validation   # what to use while tuning
    python bench/grouping_quality.py --config my.toml   # that config's [grouping]; semantic mode when
                                                        # its [llm] embeddings_model and endpoint are set

Without --config: default [grouping] settings, lexical mode (no embeddings endpoint).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from newsletter.config import GroupingSettings  # noqa: E402
from newsletter.group import group_stories  # noqa: E402
from newsletter.group.quality import (  # noqa: E402
    bcubed, load_labelled, missed_joins, pairwise, predicted_clusters, wrong_merges,
)


def datasets(validation: bool = True):
    yield "labelled set (tests/data/grouping)", *load_labelled(ROOT / "tests" / "data" / "grouping")
    from demo_feeds import demo_articles, demo_labels

    articles, ids = demo_articles()
    yield "demo feeds (config/feeds)", articles, demo_labels(articles, ids)
    held_out = ROOT / "tests" / "data" / "grouping_heldout"
    if held_out.is_dir():
        yield "held-out set (tests/data/grouping_heldout)", *load_labelled(held_out)
    independent = ROOT / "tests" / "data" / "grouping_independent"
    if independent.is_dir():
        yield "independent set (tests/data/grouping_independent)", *load_labelled(independent)
    # Written by another author after the algorithm was settled: never tune on it (--without-validation).
    folder = ROOT / "tests" / "data" / "grouping_validation"
    if validation and folder.is_dir():
        yield "validation set (tests/data/grouping_validation)", *load_labelled(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--errors", action="store_true", help="list wrong merges and missed joins")
    ap.add_argument("--config", help="use this config's [grouping] settings and embeddings endpoint")
    ap.add_argument("--without-validation", action="store_true",
                    help="leave out the validation set, so that tuning never sees it")
    args = ap.parse_args()
    settings, embedder = GroupingSettings(), None
    if args.config:
        from newsletter.config import load_config

        cfg = load_config(args.config)
        settings = cfg.grouping
        if cfg.llm.embeddings_model and cfg.llm_enabled:
            from newsletter.group.embeddings import OpenAIEmbedder

            embedder = OpenAIEmbedder.from_config(cfg)
    print(f"mode: {'semantic (' + embedder.model + ')' if embedder else 'lexical'}\n")
    print("| data | articles | clusters | multi-source | pairwise P | pairwise R | pairwise F1 | B-cubed P | B-cubed R | B-cubed F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    problems = []
    for name, articles, gold in datasets(validation=not args.without_validation):
        if not articles:
            continue
        pred = predicted_clusters(group_stories(articles, settings, embedder), [a.id for a in articles])
        pw, b3 = pairwise(pred, gold), bcubed(pred, gold)
        sizes = Counter(gold.values())
        print(f"| {name} | {len(articles)} | {len(sizes)} | {sum(1 for n in sizes.values() if n > 1)} "
              f"| {pw.precision:.3f} | {pw.recall:.3f} | {pw.f1:.3f} | {b3.precision:.3f} | {b3.recall:.3f} | {b3.f1:.3f} |")
        titles = {a.id: a.title for a in articles}
        problems += [f"{name}: wrong merge: {titles[a]!r} + {titles[b]!r}" for a, b in wrong_merges(pred, gold)]
        problems += [f"{name}: missed: {titles[a]!r} / {titles[b]!r}" for a, b in missed_joins(pred, gold)]
    if args.errors:
        print("\n" + ("\n".join(problems) or "no errors"))


if __name__ == "__main__":
    main()
