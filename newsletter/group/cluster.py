"""Clustering articles into events: candidate pairs, then guarded average-link merging.

Near-linear: articles are never compared all against all. Each article's
``KEYS_PER_ARTICLE`` highest-weighted terms are its blocking keys; two
articles become candidates only when they share a key that is rare in the
batch (``MAX_KEY_DF``) and were published within the time window. Exact
similarities are then computed for the candidates alone.

Merging is greedy average-link over candidate edges, strongest first. One
rule, ``may_join``, decides both which candidate pairs become edges and
whether the two clusters an edge links may merge: a lone article is simply a
cluster of one. It reads the *averages* over all cross pairs of the two
clusters, so one strong pair cannot chain two unrelated stories together:

- all terms (higher the further apart the clusters' mean times are, in
  days), and content words and numbers: a shared name alone cannot merge two
  events about one company; and all terms but numbers, a little: a shared
  number alone cannot merge anything;
- names, whenever both sides name someone: shared wording alone cannot merge
  the same kind of event happening to different people or places;
- two *established* stories (each of at least ``established_articles``)
  need ``established_min_similarity``: each has gathered its own coverage
  without the other, so they are look-alike events (one company's two
  patches, one team's two injuries) unless their articles read alike
  throughout. Real news showed this: nearly every wrong merge on ECB+ joined
  two such stories on a low mean similarity, while the merges of two
  same-event stories sat well above it;
- two pieces of one outlet with no other outlet beside them join only when they read as one piece
  (``ONE_OUTLET_MIN_SIMILARITY``: a story republished or updated under a second link). A feed's own
  entries share its subjects and its house wording, and a story shows one piece per outlet: papers of
  one preprint feed on one subject became one story, and every paper but the first was lost. Another
  outlet's report of the event joins an outlet's several pieces as ever;
- headlines that report the same kind of event must not contradict each
  other on a figure fixed for one event (``figures``: a magnitude 6.1
  against 7.2, $334 million against $5.4 billion, 2008 against 2013; never
  a count such as a death toll, which one event revises all day);
- with embeddings, a mean embedding similarity above ``threshold`` may stand
  in for the wording (on a low lexical floor), never for the names, and only
  where the headlines do not contradict each other: both report kinds of
  event and share none, or both give figures and share none, is a look-alike
  event ("raises its rate to 4.5%" against "inflation eases to 5.1%"). Edges
  that only meaning supports are merged after all others, so the lexical
  clustering is built exactly as without embeddings.
  Headlines in one language other than English have no event kinds to compare
  (the vocabulary is English), so there meaning also needs the headlines to
  share a content word: a town's hospital wing and its new refuse contractor
  are one town's news, not one event. Reports in different languages share no
  words, and are judged by the kinds and figures alone.

Outlets that cover one event from different angles (a reaction piece, a
consumer explainer, the market move) share little wording, so the averages
above miss them. An *anchored* join accepts a lower ``anchored_min_similarity``
when the two clusters belong to one news cycle (mean times within
``anchor_hours``), their headlines report the same kind of event (``events``),
their names agree, and every name in some headline of one is found in the
other's articles. A shared place or company is never enough on its own: the
kind of event and all of the headline's names have to match as well.

Adding a signal is one entry in ``_signals`` (how to compute it for many
article pairs at once, and for two clusters) and its condition in
``may_join``; a cosine over a new vector space is one entry in ``_spaces``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from newsletter.config import GroupingSettings
from newsletter.group.features import Features
from newsletter.group.figures import contradict, merged_figures

KEYS_PER_ARTICLE = 10
MAX_KEY_DF = 300  # a key shared by more articles than this names a theme, not an event
PAIR_CHUNK = 20_000  # candidate pairs scored per batch, sparse or dense: bounds the memory of the products
HOUR_S, DAY_S = 3600.0, 86400.0
# The part of two clusters' mean full cosine that terms other than numbers must give. A number weighs
# double (a shared "41,000" is strong evidence), so a lone shared "3" gave a station's bulletin and a
# journal's erratum 0.48; any real pair of one event shares some words or names as well.
MIN_WORDS_SIMILARITY = 0.05
# Two pieces of one outlet, and nothing else, make one story only this alike: the same piece under two links.
ONE_OUTLET_MIN_SIMILARITY = 0.8


# What ``may_join`` weighs about two clusters, by signal name (see ``_signals``): one value for two
# clusters, or for many lone-article pairs at once an array with one entry per pair.
Evidence = Mapping[str, "float | bool | np.ndarray"]


def may_join(e: Evidence, s: GroupingSettings) -> bool | np.ndarray:
    """Whether two clusters report one event: the single join rule (see the module docstring).

    Conditions are read in order of cost, and the rest is skipped once the answer is
    settled, so a merge attempt reads only what it needs.
    """
    ok = (e["span_s"] <= s.window_hours * HOUR_S) & (e["entities"] >= s.min_entity_similarity)
    if not np.any(ok):
        return ok
    full = e["full"]
    # Not for meaning, below: reports in two languages may share no word at all.
    worded = e["words"] >= MIN_WORDS_SIMILARITY
    wording = (full >= s.min_similarity + s.min_similarity_per_day * (e["gap_s"] / DAY_S)) & (
        e["content"] >= s.min_content_similarity) & worded
    if s.anchored_min_similarity and not np.all(wording):
        anchored = (full >= s.anchored_min_similarity) & (e["gap_s"] <= s.anchor_hours * HOUR_S) & e["same_kind"] \
            & worded
        if np.any(anchored):
            wording = wording | (anchored & e["names_covered"])
    if "semantic" in e and not np.all(wording):
        close = (e["semantic"] >= s.threshold) & (full >= s.semantic_min_similarity)
        if np.any(close & ~wording):
            wording = wording | (close & e["headlines_agree"])
    # Two established stories need more in common, however else they would join (never a lone-article pair:
    # "smaller" is 1 there).
    ok = ok & wording & ((e["smaller"] < s.established_articles) | (full >= s.established_min_similarity))
    ok = ok & (np.logical_not(e["one_outlet"]) | (full >= ONE_OUTLET_MIN_SIMILARITY))
    if np.any(ok):
        ok = ok & np.logical_not(e["figures_contradict"])
    return ok


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


def row_terms(m: sp.csr_matrix, r: int) -> set[int]:
    """The column ids (terms) present in row ``r`` of ``m``."""
    lo, hi = m.indptr[r], m.indptr[r + 1]
    return set(m.indices[lo:hi].tolist())


class _Sparse:
    """Per-cluster vector sums in one sparse space: with unit vectors, the mean cross-pair
    cosine of clusters A and B is sum(A) . sum(B) / (|A| |B|).

    Only clusters of two or more hold a dict of their sum; a lone article is
    read straight from its sparse row, which keeps 50,000 articles in memory.
    Rows without any term (an article that names no one) neither help nor veto:
    averages skip them, and a side with none agrees with anything.
    """

    def __init__(self, m: sp.csr_matrix):
        self.m = m
        self.nonempty = np.diff(m.indptr) > 0

    def row(self, r: int):
        lo, hi = self.m.indptr[r], self.m.indptr[r + 1]
        return zip(self.m.indices[lo:hi].tolist(), self.m.data[lo:hi].tolist())

    def single(self, r: int) -> tuple[None, int]:
        return None, int(self.nonempty[r])

    def pairs(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.where(self.nonempty[i] & self.nonempty[j], pair_cosines(self.m, i, j), 1.0)

    def pairs_kept(self, i: np.ndarray, j: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """``pairs`` from the columns ``keep`` marks (1.0) alone: the part of the cosine they give."""
        out = np.empty(len(i), np.float32)
        for s in range(0, len(i), PAIR_CHUNK):
            a, b = i[s : s + PAIR_CHUNK], j[s : s + PAIR_CHUNK]
            out[s : s + PAIR_CHUNK] = np.asarray(self.m[a].multiply(self.m[b]) @ keep).ravel()
        return np.where(self.nonempty[i] & self.nonempty[j], out, 1.0)

    def link(self, a: _Cluster, b: _Cluster, k: int, keep: np.ndarray | None = None) -> float:
        """The mean cross-pair cosine; with ``keep``, only the part its marked columns give."""
        pairs = a.sizes[k] * b.sizes[k]
        if not pairs:
            return 1.0
        x, y = a.sums[k], b.sums[k]
        if x is None and y is None:
            x, items = dict(self.row(a.members[0])), self.row(b.members[0])
        elif x is None or y is None:
            x, items = (y, self.row(a.members[0])) if x is None else (x, self.row(b.members[0]))
        else:
            if len(x) > len(y):
                x, y = y, x
            x, items = y, x.items()
        get = x.get
        if keep is None:
            return sum(v * get(t, 0.0) for t, v in items) / pairs
        return sum(v * get(t, 0.0) * keep[t] for t, v in items) / pairs

    def merged(self, a: _Cluster, b: _Cluster, k: int) -> dict[int, float]:
        x = a.sums[k]
        x = dict(self.row(a.members[0])) if x is None else x
        y = b.sums[k]
        for t, v in (y.items() if y is not None else self.row(b.members[0])):
            x[t] = x.get(t, 0.0) + v
        return x

    def terms(self, c: _Cluster, k: int):
        """The terms present in cluster ``c``."""
        d = c.sums[k]
        return d.keys() if d is not None else row_terms(self.m, c.members[0])


class _Dense:
    """The same sums for dense embedding vectors. A zero row is an article without a vector (not
    embedded yet): its pairs score 0 and the means skip it, so meaning joins only where both sides
    have vectors, and never vetoes (it only ever adds joins)."""

    def __init__(self, e: np.ndarray):
        self.e = e
        self.has = np.any(e != 0, axis=1)

    def single(self, r: int) -> tuple[np.ndarray, int]:
        return self.e[r], int(self.has[r])  # a view: a float64 copy per lone article is 150 MB at 50,000

    def pairs(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        # In chunks: all candidate pairs' rows at once would be gigabytes at 50,000 articles.
        out = np.empty(len(i), np.float32)
        for s in range(0, len(i), PAIR_CHUNK):
            out[s : s + PAIR_CHUNK] = np.einsum("ij,ij->i", self.e[i[s : s + PAIR_CHUNK]], self.e[j[s : s + PAIR_CHUNK]])
        return out

    def link(self, a: _Cluster, b: _Cluster, k: int) -> float:
        pairs = a.sizes[k] * b.sizes[k]
        x, y = (v.astype(np.float64, copy=False) for v in (a.sums[k], b.sums[k]))
        return float(x @ y) / pairs if pairs else 0.0

    def merged(self, a: _Cluster, b: _Cluster, k: int) -> np.ndarray:
        return a.sums[k].astype(np.float64) + b.sums[k]


def _spaces(feat: Features, embeddings: np.ndarray | None) -> dict[str, _Sparse | _Dense]:
    """The vector spaces whose mean cross-pair cosines ``may_join`` reads, by name."""
    spaces: dict[str, _Sparse | _Dense] = {
        "full": _Sparse(feat.full), "content": _Sparse(feat.content), "entities": _Sparse(feat.entities),
    }
    if embeddings is not None:
        spaces["semantic"] = _Dense(embeddings)
    return spaces


MIXED = -1  # a cluster's outlet when its articles come from several


@dataclass(slots=True, eq=False)
class _Cluster:
    """A cluster while merging: its articles, time bounds and sum, headline event kinds, numbers and
    figures, and per space the sum of its vectors (None for a lone article: read from its row) and
    their count."""

    members: list[int]
    first: float
    last: float
    time_sum: float
    kinds: frozenset[int]
    numbers: frozenset[int]  # the numbers in its headlines
    words: frozenset[int]  # its headlines' content words (semantic mode only)
    languages: frozenset[str | None]  # its articles' readings (None: English)
    figures: dict[str, frozenset[str]]  # its headlines' key figures, by kind of quantity
    outlet: int  # the one outlet all its articles come from, or MIXED
    sums: list
    sizes: list[int]

    @property
    def mean_time(self) -> float:
        return self.time_sum / len(self.members)


def cluster_articles(feat: Features, times: np.ndarray, settings: GroupingSettings,
                     embeddings: np.ndarray | None = None, outlets: np.ndarray | None = None) -> list[list[int]]:
    """Groups of article indices; every index appears in exactly one group. ``outlets``: each article's
    outlet as a number (None: every article its own)."""
    n = feat.full.shape[0]
    window_s = settings.window_hours * HOUR_S
    spaces = _spaces(feat, embeddings)
    i, j = candidate_pairs(feat, times, window_s)
    if embeddings is not None:
        ei, ej = _semantic_pairs(embeddings, times, window_s, settings.threshold)
        pairs = np.unique(np.concatenate([np.stack([i, j], 1), np.stack([ei, ej], 1)]), axis=0)
        i, j = pairs[:, 0], pairs[:, 1]
    # Headline figures matter only to meaning-based joins: lexical mode skips finding them.
    title_numbers = _title_terms(feat, "n") if embeddings is not None else [frozenset()] * n
    title_words = _title_terms(feat, "w") if embeddings is not None else [frozenset()] * n
    outlets = np.arange(n) if outlets is None else outlets
    signals = _signals(feat, times, spaces, title_numbers, title_words, outlets)
    pair_evidence = _PairEvidence(signals, i, j)
    keep = may_join(pair_evidence, settings)
    strength = pair_evidence["full"].astype(np.float64)
    # Semantic-only edges come after every edge the words support: the lexical clustering is
    # built exactly as without embeddings, and meaning only joins what it left apart. (Embedding
    # cosines sit on another scale; mixed into one order they would reshuffle lexical merges.)
    late = None
    if "semantic" in pair_evidence:
        late = ~may_join(pair_evidence.without("semantic"), settings)
        strength = np.where(late, pair_evidence["semantic"], strength)
    i, j, strength = i[keep], j[keep], strength[keep]
    # Strongest first; ties by index so the same input always merges the same way.
    order = np.lexsort((j, i, -strength) if late is None else (j, i, -strength, late[keep]))

    named = list(enumerate(spaces.values()))
    clusters: list[_Cluster | None] = []  # by root article; None once merged into another
    for r in range(n):
        singles = [space.single(r) for space in spaces.values()]
        clusters.append(_Cluster([r], times[r], times[r], times[r], feat.title_kinds[r], title_numbers[r],
                                 title_words[r], frozenset([feat.languages[r]]), feat.title_figures[r],
                                 int(outlets[r]), [x for x, _ in singles], [size for _, size in singles]))
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # Two clusters refused once are refused again until one of them grows: many edges link the same
    # two stories, and reading their evidence again is what costs (look-alike stories are refused often).
    refused: set[tuple[int, int, int, int]] = set()
    for k in order:
        ra, rb = find(int(i[k])), find(int(j[k]))
        if ra == rb:
            continue
        a, b = clusters[ra], clusters[rb]
        seen = (ra, rb, len(a.members), len(b.members)) if ra < rb else (rb, ra, len(b.members), len(a.members))
        if seen in refused:
            continue
        if not may_join(_ClusterEvidence(a, b, signals), settings):
            refused.add(seen)
            continue
        if len(a.members) < len(b.members):
            ra, rb, a, b = rb, ra, b, a
        parent[rb] = ra
        a.sums = [space.merged(a, b, m) for m, space in named]
        a.sizes = [x + y for x, y in zip(a.sizes, b.sizes)]
        a.kinds = a.kinds | b.kinds
        a.numbers = a.numbers | b.numbers
        a.words = a.words | b.words
        a.languages = a.languages | b.languages
        a.figures = merged_figures(a.figures, b.figures)
        a.outlet = a.outlet if a.outlet == b.outlet else MIXED
        a.members.extend(b.members)
        a.first, a.last = min(a.first, b.first), max(a.last, b.last)
        a.time_sum += b.time_sum
        clusters[rb] = None
    return [sorted(c.members) for c in clusters if c is not None]


@dataclass(frozen=True)
class _Signal:
    pairs: Callable[[np.ndarray, np.ndarray], np.ndarray]  # many lone-article pairs at once, to pick edges
    clusters: Callable[[_Cluster, _Cluster], float | bool]  # two clusters, when an edge would merge them
    lazy: bool = False  # for pairs, computed only if read: a Python loop that most batches never need


def _signals(feat: Features, times: np.ndarray, spaces: dict[str, _Sparse | _Dense],
             title_numbers: list[frozenset[int]], title_words: list[frozenset[int]],
             outlets: np.ndarray) -> dict[str, _Signal]:
    """Everything ``may_join`` reads, by name."""
    kind_mask = _kind_masks(feat)

    has_numbers = np.array([bool(x) for x in title_numbers], bool)
    codes = {lang: k for k, lang in enumerate(dict.fromkeys(feat.languages))}
    language = np.array([codes[lang] for lang in feat.languages], np.int32)
    unread = np.array([lang is not None for lang in feat.languages], bool)  # no event kinds in that language

    def headlines_agree(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        agree = (kind_mask[i] == 0) | (kind_mask[j] == 0) | ((kind_mask[i] & kind_mask[j]) != 0)
        both = np.flatnonzero(agree & has_numbers[i] & has_numbers[j])  # only these can disagree on figures
        agree[both] = [bool(title_numbers[x] & title_numbers[y]) for x, y in zip(i[both].tolist(), j[both].tolist())]
        wordy = np.flatnonzero(agree & unread[i] & (language[i] == language[j]))
        agree[wordy] = [bool(title_words[x] & title_words[y]) for x, y in zip(i[wordy].tolist(), j[wordy].tolist())]
        return agree
    full_k, full = list(spaces).index("full"), spaces["full"]

    def span(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.abs(times[i] - times[j])

    signals = {
        "span_s": _Signal(span, lambda a, b: max(a.last, b.last) - min(a.first, b.first)),
        "gap_s": _Signal(span, lambda a, b: abs(a.mean_time - b.mean_time)),
        # The size of the smaller cluster: 1 for every lone-article pair (a scalar broadcasts).
        "smaller": _Signal(lambda i, j: 1, lambda a, b: min(len(a.members), len(b.members))),
        # Headlines reporting one kind of event but different figures of one kind: look-alike events.
        # Left open (False) for edges, like names_covered: checked once an edge would merge two clusters.
        "figures_contradict": _Signal(lambda i, j: False,
                                      lambda a, b: bool(a.kinds & b.kinds) and contradict(a.figures, b.figures)),
        # Both sides one and the same outlet's pieces, with no other outlet's.
        "one_outlet": _Signal(lambda i, j: outlets[i] == outlets[j], lambda a, b: a.outlet == b.outlet != MIXED),
        "same_kind": _Signal(lambda i, j: (kind_mask[i] & kind_mask[j]) != 0, lambda a, b: bool(a.kinds & b.kinds)),
        # Meaning alone may join two clusters only when their headlines do not contradict each other
        # on what happened (event kinds) or on the figures (numbers): look-alike events, one frame apart.
        "headlines_agree": _Signal(headlines_agree, _clusters_headlines_agree, lazy=True),
        # Left open (True) for edges: either cluster may later gain the headline or the articles that
        # settle it, and the merge checks it then.
        "names_covered": _Signal(lambda i, j: np.ones(len(i), bool),
                                 lambda a, b: (_names_covered(feat, a.members, full.terms(b, full_k))
                                               or _names_covered(feat, b.members, full.terms(a, full_k)))),
    }
    for k, (name, space) in enumerate(spaces.items()):
        signals[name] = _Signal(space.pairs, lambda a, b, k=k, space=space: space.link(a, b, k))
    # The full cosine's part from everything but numbers, read off the full vectors (no second copy of them).
    words = (feat.term_kinds != "n").astype(np.float32)
    signals["words"] = _Signal(lambda i, j: full.pairs_kept(i, j, words),
                               lambda a, b: full.link(a, b, full_k, words))
    return signals


class _PairEvidence(dict):
    """``Evidence`` for many lone-article pairs at once, shared with the views that hide some signals
    (``without``). Cheap signals are computed up front, vectorised; lazy ones when first read."""

    def __init__(self, signals: dict[str, _Signal], i: np.ndarray, j: np.ndarray,
                 hidden: frozenset[str] = frozenset(), computed: dict | None = None):
        super().__init__()
        self.signals, self.i, self.j, self.hidden = signals, i, j, hidden
        if computed is None:
            computed = {name: signal.pairs(i, j) for name, signal in signals.items() if not signal.lazy}
        self.computed = computed

    def __contains__(self, name: object) -> bool:
        return name in self.signals and name not in self.hidden

    def __missing__(self, name: str) -> np.ndarray:
        if name not in self.computed:
            self.computed[name] = self.signals[name].pairs(self.i, self.j)
        return self.computed[name]

    def without(self, name: str) -> _PairEvidence:
        return _PairEvidence(self.signals, self.i, self.j, self.hidden | {name}, self.computed)


class _ClusterEvidence(dict):
    """``Evidence`` for two clusters: each signal computed when ``may_join`` first reads it."""

    def __init__(self, a: _Cluster, b: _Cluster, signals: dict[str, _Signal]):
        super().__init__()
        self.a, self.b, self.signals = a, b, signals

    def __contains__(self, name: object) -> bool:
        return name in self.signals

    def __missing__(self, name: str) -> float | bool:
        value = self[name] = self.signals[name].clusters(self.a, self.b)
        return value


def _agree(x: frozenset[int], y: frozenset[int]) -> bool:
    """Two headline facets agree unless both are present and share nothing."""
    return not x or not y or bool(x & y)


def _clusters_headlines_agree(a: _Cluster, b: _Cluster) -> bool:
    if not (_agree(a.kinds, b.kinds) and _agree(a.numbers, b.numbers)):
        return False
    if len(a.languages) == 1 and a.languages == b.languages and None not in a.languages:
        return bool(a.words & b.words)  # one language without event kinds: the headlines share a word
    return True


def _title_terms(feat: Features, kind: str) -> list[frozenset[int]]:
    """Each title's terms of one kind: ``"w"`` its content words (stems and character pairs, no names
    or numbers), ``"n"`` its numbers."""
    of_kind = feat.term_kinds == kind
    return [frozenset(t for t in terms if of_kind[t]) for terms in feat.title_terms]


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
