"""Building stories: deduplicate, extract features, cluster, then pick each story's headline and order."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from newsletter.config import GroupingSettings
from newsletter.group.cluster import cluster_articles, row_terms
from newsletter.group.features import Features, extract
from newsletter.ingest.links import same_piece
from newsletter.language import language_tag
from newsletter.models import Article, Story, outlet_key

if TYPE_CHECKING:
    from newsletter.group import Embedder

log = logging.getLogger(__name__)


def group_stories(articles: Sequence[Article], settings: GroupingSettings, embedder: Embedder | None = None,
                  language: str | None = None) -> list[Story]:
    """One Story per event, most-covered first; each story's articles one per outlet, best first: with the
    reader's ``language`` (a BCP-47 tag), a source written in it leads when the story has one."""
    arts = _one_per_link(articles)
    if not arts:
        return []
    feat = extract(arts)
    times = np.array([a.published.timestamp() for a in arts], dtype=np.float64)
    embeddings = _embed(arts, embedder) if embedder is not None else None
    if embeddings is not None:
        from newsletter.group.embeddings import semantic_settings

        settings = semantic_settings(settings, embedder.model)
    codes: dict[str, int] = {}
    outlets = np.array([codes.setdefault(outlet_key(a.outlet), len(codes)) for a in arts], dtype=np.int64)
    groups = cluster_articles(feat, times, settings, embeddings, outlets)
    reader = language_tag(language)
    stories = [_story(arts, g, feat, reader) for g in groups]
    stories.sort(key=lambda s: (-len(s.articles), -s.last_published.timestamp(), s.headline, s.id))
    return stories


def _one_per_link(articles: Sequence[Article]) -> list[Article]:
    """Each piece once: the same entry fetched twice, or one link in two feeds (a preprint cross-listed
    in two categories, a story in an outlet's "world" and "business" feeds), is one source, not two;
    it keeps its first appearance and the topics of all. A feed that gives several of its entries one
    link (its home page, say) says nothing by it: those are told apart by their ids. Links are compared
    by ``same_piece``: a cross-listed paper came as arXiv's http://...v1 in one feed and https:// in another."""
    piece = {a.link: same_piece(a.link) for a in articles if a.link}
    per_feed = Counter((a.feed_url, piece[a.link]) for a in {a.id: a for a in articles}.values() if a.link)
    lazy = {key for (_, key), n in per_feed.items() if n > 1}
    first: dict[str, Article] = {}
    topics: dict[str, list[str]] = {}
    for a in sorted(articles, key=lambda a: (a.published, a.id)):
        key = piece[a.link] if a.link and piece[a.link] not in lazy else "id:" + a.id
        first.setdefault(key, a)
        seen = topics.setdefault(key, [])
        seen += [t for t in a.topics if t not in seen]
    return [a if list(a.topics) == topics[key] else replace(a, topics=tuple(topics[key]))
            for key, a in first.items()]


def _embed(arts: list[Article], embedder: Embedder) -> np.ndarray | None:
    """Unit-length embeddings of title and lead; None (lexical only) if the endpoint fails."""
    from newsletter.group.embeddings import embedding_text

    texts = [embedding_text(a) for a in arts]
    try:
        vecs = np.asarray(embedder.embed(texts), dtype=np.float32)
    except Exception as e:  # noqa: BLE001 - a failing endpoint costs semantics, not the issue
        log.warning("embeddings failed (%s); grouping lexically", e)
        return None
    if vecs.ndim != 2 or vecs.shape[0] != len(arts):
        log.warning("embeddings endpoint returned %s vectors for %d texts; grouping lexically", vecs.shape, len(arts))
        return None
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vecs / norms


def _story(arts: list[Article], group: list[int], feat: Features, reader: str | None = None) -> Story:
    if len(group) == 1:
        a = arts[group[0]]
        return Story(articles=[a], headline=a.title.strip(), topics=tuple(dict.fromkeys(a.topics)))
    sub = feat.full[group]
    typical = np.asarray((sub @ sub.sum(axis=0).T)).ravel()  # similarity to the story as a whole
    central = dict(zip(group, typical.tolist()))
    # One article per outlet: its first report. An outlet's later pieces on the same
    # event add nothing a reader needs, and keeping the first keeps what was sent before.
    chronological = sorted(group, key=lambda i: (arts[i].published, arts[i].id))
    best: dict[str, int] = {}
    for i in chronological:
        best.setdefault(outlet_key(arts[i].outlet), i)
    kept = list(best.values())
    # The lead gives the headline, the dek and the subject line: a Spanish reader gets the Spanish outlet's
    # title rather than a Catalan one the coverage happens to agree with better.
    head = max(kept, key=lambda i: (reader is not None and arts[i].language == reader, _informative(i, group, feat),
                                    -arts[i].published.timestamp(), _neg(arts[i].id)))
    rest = sorted((i for i in kept if i != head), key=lambda i: (-central[i], arts[i].published, arts[i].id))
    ordered = [arts[i] for i in [head, *rest]]
    topics: list[str] = []
    for i in chronological:
        topics += [t for t in arts[i].topics if t not in topics]
    return Story(articles=ordered, headline=arts[head].title.strip(), topics=tuple(topics))


def _informative(i: int, group: list[int], feat: Features) -> float:
    """How much of what the coverage agrees on the title says: the IDF of each title
    term, weighted by the share of the other sources that carry it too.

    A title with the names, numbers and facts every outlet reports beats a
    teaser ("What went wrong at <company>"), an aggregator's framing, or a
    long headline built on details only one outlet has.
    """
    others = [row_terms(feat.full, k) for k in group if k != i]
    if not others:
        return 0.0
    return float(sum(feat.idf[t] * sum(t in o for o in others) / len(others) for t in feat.title_terms[i]))


class _neg:
    """Reverse string order inside max(): on ties the smallest id wins."""

    def __init__(self, s: str):
        self.s = s

    def __lt__(self, other: _neg) -> bool:
        return self.s > other.s

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _neg) and self.s == other.s
