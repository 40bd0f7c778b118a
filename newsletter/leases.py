"""Polling as one of several workers on a shared PostgreSQL store (``newsletter run --worker``).

    reports = poll_leased(cfg, sources, edges, settings)   # this worker's share of the feeds due now

Each worker leases feeds in batches (``Store.claim_feeds``: ``SELECT ... FOR UPDATE SKIP LOCKED``),
fetches them, and marks them polled; a feed polled less than one interval ago is not due, so each
feed is fetched by one worker per interval. A worker that dies holding a lease loses nothing: the
lease runs out after ``[fetch] lease_seconds`` and the next worker to look takes the feeds. Workers
look every half lease, so a dead worker's feeds wait at most about one and a half leases.
Sends need nothing here: the day's issue and each recipient are already claimed in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from newsletter.config import Config
from newsletter.edges import Edges
from newsletter.errors import Stopped
from newsletter.models import FeedReport, FeedSource
from newsletter.pipeline import forget_old, ingest

LEASE_BATCH = 50  # feeds per lease: small enough that workers share a poll, large enough to fetch concurrently
LOOKS_PER_LEASE = 2  # how often per lease a worker looks for due or expired feeds


@dataclass(frozen=True)
class LeaseSettings:
    lease: timedelta
    interval: timedelta

    @classmethod
    def of(cls, cfg: Config) -> LeaseSettings:
        return cls(timedelta(seconds=cfg.fetch.lease_seconds), timedelta(minutes=cfg.fetch.poll_minutes))

    @property
    def tick_seconds(self) -> float:
        return self.lease.total_seconds() / LOOKS_PER_LEASE


def poll_leased(cfg: Config, sources: list[FeedSource], edges: Edges, settings: LeaseSettings) -> list[FeedReport]:
    """Lease, fetch and mark batches of due feeds until none is left for this worker."""
    by_url: dict[str, list[FeedSource]] = {}
    for s in sources:
        by_url.setdefault(s.url, []).append(s)
    urls = list(by_url)
    edges.store.add_feed_leases(urls)  # once per poll: each batch below only selects and updates
    reports: list[FeedReport] = []
    while edges.stop is None or not edges.stop.is_set():
        batch = edges.store.claim_feeds(urls, edges.owner, edges.clock.now(), lease=settings.lease,
                                        interval=settings.interval, limit=LEASE_BATCH)
        if not batch:
            break
        try:
            # Forgetting and the caller's embedding wait until every leased batch is in: once per poll.
            reports += ingest(cfg, edges, [s for url in batch for s in by_url[url]])
        except Stopped:
            edges.store.release_feeds(batch, edges.owner)  # the next worker takes them now, not after the lease
            raise
        edges.store.finish_feeds(batch, edges.owner, edges.clock.now())
    if reports:
        forget_old(cfg, edges)
    return reports
