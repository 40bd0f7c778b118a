"""Semantic embeddings through the openai client's embeddings API, at any OpenAI-compatible server,
and the per-model thresholds semantic grouping reads.

    embedder = OpenAIEmbedder.from_config(cfg)   # cfg.llm.embeddings_model names the model
    vectors = embedder.embed([embedding_text(a) for a in articles])
    settings = semantic_settings(cfg.grouping, embedder.model)   # the model's calibrated thresholds

What an embedding means depends on the model: e5-family models put unrelated
news near 0.8 cosine, others near 0.2. So the threshold is per model, in the
shipped ``calibration.toml`` that ``bench/calibrate_embeddings.py`` writes; a
new model is one calibration run away. A ``[grouping] threshold`` (or
``semantic_min_similarity``) set in the config wins over the file.

Only the title and the first ``EMBED_LEAD_CHARS`` of the text are embedded:
on the reference model a longer lead costs time per article and bought no
grouping quality (see BENCHMARKS.md, Grouping).
"""

from __future__ import annotations

import logging
import tomllib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from newsletter.config import Config, GroupingSettings
from newsletter.boilerplate import without_lead
from newsletter.text import MAX_TITLE_CHARS, lead, title

if TYPE_CHECKING:
    import openai

    from newsletter.models import Article

log = logging.getLogger(__name__)

BATCH = 256
EMBED_LEAD_CHARS = 300  # of the text, after the title: what the model reads of an article
CALIBRATION_FILE = "calibration.toml"
CALIBRATED_KEYS = ("threshold", "semantic_min_similarity")  # what a model's calibration may set


def embedding_text(article: Article) -> str:
    """What the model reads of an article: its title and the start of its text, cut at a word."""
    # EMBED_LEAD_CHARS is read at each call: the calibration bench measures other lengths. A feed's label
    # before every abstract (arXiv's "Announce Type" line) is dropped as the lexical features drop it: it
    # would spend the lead on words every entry shares. Only such articles' stored vectors are made anew.
    return f"{title(article.title)}\n{lead(without_lead(article.text), EMBED_LEAD_CHARS)}"


@cache
def calibrations() -> dict[str, dict[str, float]]:
    """The shipped thresholds, by model name."""
    raw = resources.files("newsletter.group").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8")
    models = tomllib.loads(raw).get("models", {})
    return {name: {k: float(v) for k, v in entry.items() if k in CALIBRATED_KEYS} for name, entry in models.items()}


def semantic_settings(settings: GroupingSettings, model: str | None) -> GroupingSettings:
    """``settings`` with the model's calibrated thresholds, except those the config sets itself."""
    calibrated = calibrations().get(model or "", {})
    if not calibrated:
        if "threshold" not in settings.model_fields_set:
            log.warning("no calibrated threshold for embeddings model %r; using [grouping] threshold = %s. "
                        "Run bench/calibrate_embeddings.py against it, or set the threshold", model, settings.threshold)
        return settings
    chosen = {k: v for k, v in calibrated.items() if k not in settings.model_fields_set}
    return settings.model_copy(update=chosen)


class OpenAIEmbedder:
    """Vectors from an OpenAI-compatible embeddings endpoint, through a ready openai client or, from
    ``from_config``, one made on first use: the poll builds an embedder whether or not anything waits
    to be embedded, and importing openai costs a second."""

    def __init__(self, client: openai.OpenAI | None, model: str, batch: int = BATCH, *, cfg: Config | None = None):
        if client is None and cfg is None:
            raise TypeError("OpenAIEmbedder needs an openai client or a config to make one from")
        self._client, self._cfg = client, cfg
        self.model, self.batch = model, batch

    @classmethod
    def from_config(cls, cfg: Config) -> OpenAIEmbedder:
        if not cfg.llm.embeddings_model:
            raise ValueError("[llm] embeddings_model is not set; semantic grouping needs it")
        return cls(None, cfg.llm.embeddings_model, cfg=cfg.for_embeddings())

    @property
    def served_at(self) -> str | None:
        """Where the vectors come from: one embedding pass per model and place (``pipeline.embed_shared``)."""
        if self._cfg is None:
            return str(self._client.base_url)
        from newsletter.llm_client import base_url

        return base_url(self._cfg)

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            from newsletter.llm_client import openai_client

            self._client = openai_client(self._cfg)
        return self._client

    def embed(self, texts: list[str], *, timeout: float | None = None) -> list[list[float]]:
        """Vectors in input order. ``timeout``: one attempt per request, of at most that many seconds
        (a run with a time budget: a failed request is retried by the next run, not now)."""
        out: list[list[float]] = []
        max_chars = MAX_TITLE_CHARS + 1 + EMBED_LEAD_CHARS  # title, newline, lead
        client = self.client if timeout is None else self.client.with_options(max_retries=0, timeout=timeout)
        for start in range(0, len(texts), self.batch):
            chunk = [(t or " ")[:max_chars] for t in texts[start : start + self.batch]]
            # "float", not the client's default base64: not every compatible server speaks base64.
            resp = client.embeddings.create(model=self.model, input=chunk, encoding_format="float")
            # The API may answer out of order; each item carries its input index.
            out += [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]
        return out
