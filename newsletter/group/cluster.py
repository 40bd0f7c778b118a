"""Clustering articles into events: candidate pairs, then guarded average-link merging.

Near-linear: articles are never compared all against all. Each article's
``KEYS_PER_ARTICLE`` highest-weighted terms are its blocking keys; two
articles become candidates only when they share a key that is rare in the
batch (``MAX_KEY_DF``) and were published within the time window. Exact
similarities are then computed for the candidates alone.

Merging is greedy average-link over candidate edges, strongest first: two
clusters join only when the *average* similarity over all their cross pairs
clears every threshold: all terms (higher the further apart the clusters'
mean times are, in days), content words and numbers (a shared name alone
cannot merge two events about one company), and names (shared wording alone
cannot merge two recalls by different carmakers). One strong pair cannot
chain two unrelated stories together. With embeddings, a cluster pair whose
mean embedding similarity clears ``semantic`` may join on a low lexical floor,
as long as the names agree.

Outlets that cover one event from different angles (a reaction piece, a
consumer explainer, the market move) share little wording, so the averages
above miss them. An *anchored* join lets two clusters merge on a lower
``anchored`` cosine when they belong to one news cycle (mean times within
``anchor_s``), their headlines report the same kind of event (``events``),
their names agree, and every name in some headline of one is found in the
other's articles. A shared town or company is never enough on its own: the
kind of event and all of the headline's names have to match as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from newsletter.group.features import Features

KEYS_PER_ARTICLE = 10
MAX_KEY_DF = 300  # a key shared by more articles than this names a theme, not an event
PAIR_CHUNK = 20_000  # candidate pairs scored per sparse batch: bounds the memory of the products


@dataclass(frozen=True)
class Thresholds:
    full: float  # average cosine over cross pairs, all terms
    content: float  # average cosine over cross pairs, content words only
    entities: float = 0.0  # average cosine over cross pairs of articles that both name someone
    per_day: float = 0.0  # added to ``full`` per day between the clusters' mean times
    semantic: float | None = None  # average embedding cosine, when embeddings are present
    semantic_floor: float = 0.1  # lexical full-cosine a semantic join still needs
    anchored: float | None = None  # lower ``full`` for an anchored join (see ``anchored`` below); None: none
    anchor_s: float = 12 * 3600.0  # an anchored join needs the clusters' mean times this close


def candidate_pairs(feat: Features, times: np.ndarray, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) sharing a rare key term and published within the window."""
    full = feat.full
    n = full.shape[0]
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    df = np.bincount(full.indices, minlength=full.shape[1])
    rows, cols = [], []
    indptr, indices, data = full.indptr, full.indices, full.data
    for i in range(n):
        lo, hi = indptr[i], indptr[i + 1]
        if hi == lo:
            continue
        idx, w = indices[lo:hi], data[lo:hi]
        keep = (df[idx] > 1) & (df[idx] <= MAX_KEY_DF)
        idx, w = idx[keep], w[keep]
        if len(idx) > KEYS_PER_ARTICLE:
            top = np.argpartition(-w, KEYS_PER_ARTICLE)[:KEYS_PER_ARTICLE]
            idx = idx[top]
        rows.append(np.full(len(idx), i, np.int32))
        cols.append(idx)
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    r, c = np.concatenate(rows), np.concatenate(cols)
    keys = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=full.shape)
    shared = sp.triu(keys @ keys.T, k=1).tocoo()
    i, j = shared.row.astype(np.int64), shared.col.astype(np.int64)
    near = np.abs(times[i] - times[j]) <= window_s
    return i[near], j[near]


def pair_cosines(m: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    out = np.empty(len(i), np.float32)
    for s in range(0, len(i), PAIR_CHUNK):
        a, b = i[s : s + PAIR_CHUNK], j[s : s + PAIR_CHUNK]
        out[s : s + PAIR_CHUNK] = np.asarray(m[a].multiply(m[b]).sum(axis=1)).ravel()
    return out


class _Space:
    """Per-cluster vector sums in one space: with unit vectors, the mean cross-pair
    cosine of clusters A and B is sum(A) . sum(B) / (|A| |B|).

    Only clusters of two or more hold a dict of their sum; a lone article is
    read straight from its sparse row, which keeps 50,000 articles in memory.
    """

    def __init__(self, m: sp.csr_matrix):
        self.m = m
        self.sums: dict[int, dict[int, float]] = {}
        # Rows without any term (no names found) neither help nor veto: averages skip them.
        self.size = {}
        self._nonempty = np.diff(m.indptr) > 0

    def _row(self, r: int):
        lo, hi = self.m.indptr[r], self.m.indptr[r + 1]
        return zip(self.m.indices[lo:hi].tolist(), self.m.data[lo:hi].tolist())

    def _size(self, r: int) -> int:
        return self.size.get(r, int(self._nonempty[r]))

    def dot(self, a: int, b: int) -> float:
        x, y = self.sums.get(a), self.sums.get(b)
        if x is None and y is None:
            x = dict(self._row(a))
            return sum(v * x.get(k, 0.0) for k, v in self._row(b))
        if x is None or y is None:
            d, r = (y, a) if x is None else (x, b)
            return sum(v * d.get(k, 0.0) for k, v in self._row(r))
        if len(x) > len(y):
            x, y = y, x
        get = y.get
        return sum(v * get(k, 0.0) for k, v in x.items())

    def merge(self, keep: int, gone: int) -> None:
        x = self.sums.pop(keep, None)
        if x is None:
            x = dict(self._row(keep))
        y = self.sums.pop(gone, None)
        for k, v in (y.items() if y is not None else self._row(gone)):
            x[k] = x.get(k, 0.0) + v
        self.sums[keep] = x
        self.size[keep] = self._size(keep) + self._size(gone)
        self.size.pop(gone, None)

    def keys(self, r: int):
        """The terms present in cluster ``r``."""
        d = self.sums.get(r)
        if d is not None:
            return d.keys()
        lo, hi = self.m.indptr[r], self.m.indptr[r + 1]
        return set(self.m.indices[lo:hi].tolist())

    def link(self, a: int, b: int) -> float:
        pairs = self._size(a) * self._size(b)
        return self.dot(a, b) / pairs if pairs else 1.0


class _Dense:
    """The same sums for dense embedding vectors."""

    def __init__(self, e: np.ndarray):
        self.sums = {r: e[r].astype(np.float64) for r in range(e.shape[0])}
        self.size = {r: 1 for r in range(e.shape[0])}

    def dot(self, a: int, b: int) -> float:
        return float(self.sums[a] @ self.sums[b])

    def merge(self, keep: int, gone: int) -> None:
        self.sums[keep] = self.sums[keep] + self.sums.pop(gone)
        self.size[keep] += self.size.pop(gone)

    def link(self, a: int, b: int) -> float:
        return self.dot(a, b) / (self.size[a] * self.size[b])


def cluster_articles(feat: Features, times: np.ndarray, window_s: float, th: Thresholds,
            embeddings: np.ndarray | None = None) -> list[list[int]]:
    """Groups of article indices; every index appears in exactly one group."""
    n = feat.full.shape[0]
    i, j = candidate_pairs(feat, times, window_s)
    if embeddings is not None:
        ei, ej = _semantic_pairs(embeddings, times, window_s, th.semantic or 1.0)
        pairs = np.unique(np.concatenate([np.stack([i, j], 1), np.stack([ei, ej], 1)]), axis=0)
        i, j = pairs[:, 0], pairs[:, 1]
    s_full = pair_cosines(feat.full, i, j)
    s_content = pair_cosines(feat.content, i, j)
    s_ent = pair_cosines(feat.entities, i, j)
    has_ent = np.diff(feat.entities.indptr) > 0
    names_agree = (s_ent >= th.entities) | ~(has_ent[i] & has_ent[j])
    lexical = (s_full >= th.full) & (s_content >= th.content) & names_agree
    if th.anchored is not None:
        # Edges an anchored join may use: same news cycle, names in common, a lower bar on wording.
        near = np.abs(times[i] - times[j]) <= th.anchor_s
        kind_mask = _kind_masks(feat)
        same_kind = (kind_mask[i] & kind_mask[j]) != 0
        lexical |= near & same_kind & (s_full >= th.anchored) & (s_ent >= th.entities) & has_ent[i] & has_ent[j]
    strength = s_full.astype(np.float64)
    if embeddings is not None:
        s_sem = np.einsum("ij,ij->i", embeddings[i], embeddings[j])
        semantic = (s_sem >= (th.semantic or 1.0)) & (s_full >= th.semantic_floor)
        keep = lexical | semantic
        strength = np.maximum(strength, s_sem)
    else:
        keep = lexical
    i, j, strength = i[keep], j[keep], strength[keep]
    # Strongest first; ties by index so the same input always merges the same way.
    order = np.lexsort((j, i, -strength))

    parent = list(range(n))
    members: dict[int, list[int]] = {r: [r] for r in range(n)}
    lo_t = {r: times[r] for r in range(n)}
    hi_t = dict(lo_t)
    sum_t = dict(lo_t)
    full_space, content_space, entity_space = _Space(feat.full), _Space(feat.content), _Space(feat.entities)
    kinds: dict[int, frozenset[int]] = {}  # multi-article clusters only: event kinds of their titles

    def title_kinds(r: int) -> frozenset[int]:
        return kinds.get(r, feat.title_kinds[r])

    def anchored(a: int, b: int, avg_full: float) -> bool:
        """Different angles on one event: little wording in common, but the same news cycle,
        the same kind of event in the headlines, and every name in one side's headline
        found in the other side's articles. A shared town or company alone is not enough:
        the headline's kind of event must match too ("Castmere jewellers raided" and
        "Castmere bin strike" stay apart), and so must all its names ("Harnwick floods"
        and "Tolsey floods" stay apart, though both name the same storm)."""
        if th.anchored is None or avg_full < th.anchored:
            return False
        if abs(sum_t[a] / len(members[a]) - sum_t[b] / len(members[b])) > th.anchor_s:
            return False
        if not (title_kinds(a) & title_kinds(b)) or entity_space.link(a, b) < th.entities:
            return False
        return (_names_covered(feat, members[a], full_space.keys(b))
                or _names_covered(feat, members[b], full_space.keys(a)))
    sem_space = _Dense(embeddings) if embeddings is not None else None

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k in order:
        a, b = find(int(i[k])), find(int(j[k]))
        if a == b:
            continue
        if max(hi_t[a], hi_t[b]) - min(lo_t[a], lo_t[b]) > window_s:
            continue
        avg_full = full_space.link(a, b)
        gap_days = abs(sum_t[a] / len(members[a]) - sum_t[b] / len(members[b])) / 86400.0
        ok = (avg_full >= th.full + th.per_day * gap_days and content_space.link(a, b) >= th.content
              and entity_space.link(a, b) >= th.entities)
        if not ok:
            ok = anchored(a, b, avg_full)
        if not ok and sem_space is not None:
            # Embeddings stand in for the wording, not for the names: those must still agree.
            ok = (sem_space.link(a, b) >= (th.semantic or 1.0) and avg_full >= th.semantic_floor
                  and entity_space.link(a, b) >= th.entities)
        if not ok:
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[b] = a
        kinds[a] = title_kinds(a) | title_kinds(b)
        kinds.pop(b, None)
        members[a].extend(members.pop(b))
        lo_t[a], hi_t[a] = min(lo_t[a], lo_t[b]), max(hi_t[a], hi_t[b])
        sum_t[a] += sum_t.pop(b)
        full_space.merge(a, b)
        content_space.merge(a, b)
        entity_space.merge(a, b)
        if sem_space is not None:
            sem_space.merge(a, b)
    return [sorted(m) for m in members.values()]


def _kind_masks(feat: Features) -> np.ndarray:
    """Each title's event kinds as bits of one integer, to test many pairs at once."""
    bit = {c: k for k, c in enumerate(sorted(set().union(*feat.title_kinds)))}
    assert len(bit) < 63, "more event kinds than bits"
    return np.array([sum(1 << bit[c] for c in kinds) for kinds in feat.title_kinds], dtype=np.int64)


def _names_covered(feat: Features, group: list[int], other_terms) -> bool:
    """Some headline in ``group`` names someone, and the other cluster's articles name them all."""
    return any(feat.title_entities[r] and feat.title_entities[r] <= other_terms for r in group)


def _semantic_pairs(e: np.ndarray, times: np.ndarray, window_s: float, threshold: float,
                    block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose embeddings are close, by blocked dense products over the time-sorted batch."""
    order = np.argsort(times, kind="stable")
    st = times[order]
    out_i, out_j = [], []
    for s in range(0, len(order), block):
        rows = order[s : s + block]
        hi = np.searchsorted(st, st[min(s + block, len(st)) - 1] + window_s, side="right")
        cols = order[s:hi]
        sims = e[rows] @ e[cols].T
        r, c = np.nonzero(sims >= threshold)
        a, b = np.minimum(rows[r], cols[c]), np.maximum(rows[r], cols[c])
        keep = (a < b) & (np.abs(times[a] - times[b]) <= window_s)
        out_i.append(a[keep])
        out_j.append(b[keep])
    if not out_i:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)
