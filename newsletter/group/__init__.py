"""Grouping: articles from many outlets -> one Story per event.

    stories = group_stories(articles, cfg.grouping)            # lexical (embedded default)
    stories = group_stories(articles, cfg.grouping, embedder)  # plus semantic embeddings

Lexical mode compares TF-IDF vectors of title and lead (see ``features``)
plus the kinds of event they report (see ``events``), and clusters candidates
found through rare shared terms (see ``cluster``), including different angles
on one event anchored on the same names and kind of event in one news cycle.
With an embedder, pairs whose embeddings are close may also join what the
words left apart, still under the names guard, the time window and headlines
that agree on the kind of event and the figures; the threshold is the model's
own (``embeddings``, ``calibration.toml``). The same input always
gives the same stories, in the same order, with the same headlines.

Importing this package is cheap: numpy, scipy and scikit-learn load on the
first call of ``group_stories``, so commands that never group (``fetch``,
``check``, ``--help``) never pay for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from newsletter.config import GroupingSettings
    from newsletter.models import Article, Story

__all__ = ["Embedder", "group_stories"]


class Embedder(Protocol):
    """One vector per text, in order (a 2-D array will do); a row of zeros is a text without one,
    which gets no semantic evidence (``vectors.StoredEmbedder``: the vectors the polls stored).
    ``timeout`` bounds the call's requests in seconds, without retries: a poll's budget
    (``vectors.embed_missing``) passes what is left of it. ``model`` names the vectors in the store."""

    @property
    def model(self) -> str: ...

    def embed(self, texts: list[str], *, timeout: float | None = None) -> Sequence[Sequence[float]]: ...


def group_stories(articles: Sequence[Article], settings: GroupingSettings, embedder: Embedder | None = None,
                  language: str | None = None) -> list[Story]:
    """One Story per event, most-covered first; each story's articles one per outlet, best first (a source
    in the reader's ``language`` first, when there is one)."""
    from newsletter.group.stories import group_stories as group

    return group(articles, settings, embedder, language)
