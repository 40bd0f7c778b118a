"""Embeddings kept in the store: each text embedded once per model, within a time budget per run.

    rows, report = embed_missing(texts, embedder, keep=keep_rows, seconds=120)  # the poll: hash -> text
    embedder = StoredEmbedder(inner, store, seconds=30, at=clock.now)          # the build: reads, embeds the rest
    group_stories(articles, settings, embedder)

A vector is keyed by the model's name and the sha256 of the exact text the
model read (``text_key(embedding_text(article))``): an article whose title or
lead changes is embedded again, one that comes back unchanged never is.
Vectors are kept at unit length as little-endian float16 (``pack``); on the
reference model that changes no story (BENCHMARKS.md, Grouping).

The budget bounds the wall time: a batch starts only while time is left, and
its request may take only what is left, with no retry. An endpoint that is
down or slow costs one failed request; what was not embedded waits for the
next run, and grouping leaves those articles to their words. Newest texts go
first: they are the next issue's.

This module imports no NumPy until a build reads vectors: the poll stays light.
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from newsletter.group import Embedder

log = logging.getLogger(__name__)

BATCH = 32  # texts per request in a budgeted run: about 2 s on the reference model, so the budget is kept closely
Row = tuple[str, int, bytes]  # text hash, dims, vector bytes


class VectorStore(Protocol):
    """What the store offers: ``newsletter.store.Store`` has these."""

    readonly: bool

    def embedded(self, model: str, keys: Sequence[str]) -> set[str]: ...

    def embeddings(self, model: str, keys: Sequence[str]) -> dict[str, tuple[int, bytes]]: ...

    def add_embeddings(self, model: str, rows: Sequence[Row], at: datetime) -> None: ...


@dataclass
class Embedded:
    """What one budgeted run did: vectors made now, texts still without one, and why it stopped early."""

    model: str
    embedded: int = 0
    waiting: int = 0
    error: str | None = None  # the endpoint failed: the rest wait for the next run
    stored: int = 0  # texts that already had a vector (the build's count)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pack(vector: Sequence[float]) -> bytes:
    """Unit length, float16: every component within [-1, 1], where float16 keeps about 3 digits."""
    norm = math.sqrt(math.fsum(x * x for x in vector)) or 1.0
    return struct.pack(f"<{len(vector)}e", *(x / norm for x in vector))


def embed_missing(texts: Mapping[str, str], embedder: Embedder, *, seconds: float,
                  keep: Callable[[list[Row]], None], stop: threading.Event | None = None,
                  clock: Callable[[], float] = time.monotonic) -> tuple[dict[str, Row], Embedded]:
    """Embed ``texts`` (text hash -> text, most wanted first) in batches for at most ``seconds``,
    handing each batch's rows to ``keep`` (one store transaction) as it comes back."""
    done: dict[str, Row] = {}
    report = Embedded(embedder.model)
    items = list(texts.items())
    deadline = clock() + seconds
    for start in range(0, len(items), BATCH):
        left = deadline - clock()
        if left <= 0 or (stop is not None and stop.is_set()):
            break
        batch = items[start : start + BATCH]
        try:
            vectors = embedder.embed([t for _, t in batch], timeout=left)
            if len(vectors) != len(batch):
                raise ValueError(f"{len(vectors)} vectors for {len(batch)} texts")
            rows = [(k, len(v), pack(v)) for (k, _), v in zip(batch, vectors)]
            keep(rows)
        except Exception as e:  # noqa: BLE001 - a failing endpoint or store costs vectors, never the run
            report.error = f"{e.__class__.__name__}: {str(e)[:200]}"
            break
        done.update((r[0], r) for r in rows)
    report.embedded = len(done)
    report.waiting = len(items) - len(done)
    return done, report


def embed_and_keep(missing: Mapping[str, str], embedder: Embedder, store: VectorStore, *, seconds: float,
                   at: Callable[[], datetime], stop: threading.Event | None = None,
                   stored: int = 0) -> tuple[dict[str, Row], Embedded]:
    """``embed_missing`` for texts ``store`` has no vector for (``stored`` others had one): the rows
    kept as each batch comes back, unless the store is read-only; nothing asked with no budget."""
    if not missing or seconds <= 0:
        return {}, Embedded(embedder.model, waiting=len(missing), stored=stored)
    keep = (lambda rows: None) if store.readonly else (lambda rows: store.add_embeddings(embedder.model, rows, at()))
    new, report = embed_missing(missing, embedder, seconds=seconds, keep=keep, stop=stop)
    report.stored = stored
    return new, report


@dataclass
class StoredEmbedder:
    """An embedder for grouping that reads the vectors the polls stored, and embeds only the texts
    still without one, for at most ``seconds`` (kept in the store unless it is read-only). A text
    left without a vector gets a zero row: grouping gives it no semantic evidence."""

    inner: Embedder
    store: VectorStore
    seconds: float
    at: Callable[[], datetime]
    stop: threading.Event | None = None
    last: Embedded | None = None  # what the last call did, for the log and tests

    @property
    def model(self) -> str:
        return self.inner.model

    def embed(self, texts: list[str], *, timeout: float | None = None) -> np.ndarray:
        """``timeout``: at most that many of ``seconds`` spent embedding what no poll stored."""
        import numpy as np

        seconds = self.seconds if timeout is None else min(self.seconds, timeout)
        keys = [text_key(t) for t in texts]
        unique = dict(zip(keys, texts))
        have = self.store.embeddings(self.model, list(unique))
        missing = {k: t for k, t in reversed(unique.items()) if k not in have}  # newest last in, first out
        new, report = embed_and_keep(missing, self.inner, self.store, seconds=seconds, at=self.at, stop=self.stop,
                                     stored=len(unique) - len(missing))
        have.update((k, (d, v)) for k, d, v in new.values())
        self.last = report
        if report.error:
            log.warning("embeddings endpoint failed (%s); %d articles grouped by their words alone",
                        report.error, report.waiting)
        log.info("embeddings: %d stored, %d embedded now, %d without a vector", report.stored, report.embedded,
                 report.waiting)
        if not have:
            raise RuntimeError(report.error or "no stored vectors and none embedded")
        dims = Counter(d for d, _ in have.values()).most_common(1)[0][0]
        out = np.zeros((len(texts), dims), np.float32)
        for row, key in enumerate(keys):
            got = have.get(key)
            if got is not None and got[0] == dims and len(got[1]) == 2 * dims:
                out[row] = np.frombuffer(got[1], "<f2")
        return out
