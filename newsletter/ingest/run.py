"""Fetch, parse and store many feeds at once; one report per configured feed.

Health rules (kept in the feeds table):
  - 410 Gone disables the feed until `newsletter feeds enable` brings it back;
  - 429/503 Retry-After and Cache-Control max-age skip the feed until then;
  - every failure bumps ``consecutive_failures`` and keeps ``last_error``; a success clears both.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from newsletter.clock import Clock
from newsletter.config import FetchSettings
from newsletter.controls import strip_controls
from newsletter.errors import Stopped, StoreError
from newsletter.ingest.fetch import Fetched, fetch_http, make_client, read_file
from newsletter.ingest.fulltext import fill_full_text
from newsletter.ingest.parse import ParsedFeed, outlet_from_url
from newsletter.ingest.workers import ParsePool
from newsletter.models import Article, FeedReport, FeedSource, FeedState, FeedStatus, is_remote

if TYPE_CHECKING:
    from newsletter.store import Store  # SQLAlchemy: `check` stores nothing and need not load it

log = logging.getLogger(__name__)
Progress = Callable[[FeedReport], None]
STOP_CHECK_S = 0.1  # how often a poll looks whether the service is stopping
# The kinds of note (digits aside) last logged for each feed, in this process: a feed read with the same quirk at
# every poll (undated entries, broken XML, more entries than the cap) is logged once, not at every poll all day.
_noted: dict[str, frozenset[str]] = {}


def ingest_feeds(sources: list[FeedSource], store: Store, *, settings: FetchSettings, clock: Clock,
                 http: httpx.AsyncClient | None = None, progress: Progress | None = None,
                 stop: threading.Event | None = None) -> list[FeedReport]:
    """Fetch every feed (conditionally), store the new articles; one bad feed never raises.

    Once ``stop`` is set (the service is stopping) the feeds in flight are abandoned and Stopped is
    raised: each feed's articles and state are stored in one transaction, so those finished are
    kept and the rest are fetched by the next poll as if this one had not reached them.

    The run has its own event loop: an ``http`` client handed in is used inside it, so give a
    client per call (pooled connections belong to the loop that opened them).
    """
    return _run_sync(_Ingest(sources, store, settings, clock, http, progress, stop).run())


def probe_feeds(sources: list[FeedSource], *, settings: FetchSettings, clock: Clock,
                http: httpx.AsyncClient | None = None, progress: Progress | None = None,
                found: list[Article] | None = None) -> list[FeedReport]:
    """Fetch and parse every feed unconditionally, store nothing: for ``newsletter check`` and
    ``send --dry-run``. The parsed articles are appended to ``found`` when it is given."""
    ingest = _Ingest(sources, None, settings, clock, http, progress)
    reports = _run_sync(ingest.run())
    if found is not None:
        found.extend(ingest.found)
    return reports


def _failing_since(state: FeedState, now: datetime) -> datetime | None:
    """A failure's run began at its first: kept while the failures go on, cleared by a success. A run
    that began before the store kept it (migration 11) stays unknown (None), not "now"."""
    return state.failing_since if state.consecutive_failures else now


def _failed(state: FeedState, now: datetime, error: str) -> FeedState:
    return replace(state, last_fetch_at=now, last_error=error, consecutive_failures=state.consecutive_failures + 1,
                   failing_since=_failing_since(state, now))


def _run_sync(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from async code (a scheduler, a notebook): run on a thread of our own.
    box: dict = {}

    def runner():
        try:
            box["r"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["e"] = e

    t = threading.Thread(target=runner)
    t.start()
    t.join()
    if "e" in box:
        raise box["e"]
    return box["r"]


class _Ingest:
    def __init__(self, sources, store: Store | None, settings: FetchSettings, clock: Clock, http, progress,
                 stop: threading.Event | None = None):
        self.sources, self.store, self.settings, self.clock = sources, store, settings, clock
        self.http, self.progress, self.stop = http, progress, stop
        self.done = 0  # feeds finished, for the line a stop logs
        self.found: list[Article] = []  # what a probe parsed, for a dry run

    async def run(self) -> list[FeedReport]:
        by_url: dict[str, list[FeedSource]] = {}
        for s in self.sources:
            by_url.setdefault(s.url, []).append(s)  # a feed in two topics is fetched once
        # One writer thread: SQLite wants writes in series, and the event loop must not wait on them.
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-db")
        self.parser = ParsePool()
        self.limit = asyncio.Semaphore(self.settings.concurrency)
        loop = asyncio.get_running_loop()
        states = await loop.run_in_executor(self.db, self.store.feed_states, list(by_url)) if self.store else {}
        client = self.http or make_client(self.settings)
        self.page_client: httpx.AsyncClient | None = None  # made by the first full_text feed that needs it
        self.full_text_deadline: float | None = None  # set by the first page fetched
        try:
            self.client = client
            results = await self._unless_stopped(
                asyncio.gather(*(self._guarded(url, srcs, states.get(url)) for url, srcs in by_url.items())), len(by_url))
        finally:
            if self.http is None:
                await client.aclose()
            if self.page_client is not None:
                await self.page_client.aclose()
            self.db.shutdown(wait=True)
            self.parser.close()
        reports = {id(r_src): r for group in results for r_src, r in group}
        return [reports[id(s)] for s in self.sources]

    async def _unless_stopped(self, work: asyncio.Future, feeds: int):
        if self.stop is None:
            return await work
        while True:
            done, _ = await asyncio.wait({work}, timeout=STOP_CHECK_S)
            if done:
                return work.result()
            if self.stop.is_set():
                work.cancel()
                try:
                    await work  # every feed task has ended: nothing writes after this returns
                except asyncio.CancelledError:
                    pass
                raise Stopped(f"the poll was cut off after {self.done} of {feeds} feeds; the others are fetched "
                              "at the next poll")

    async def _guarded(self, url: str, srcs: list[FeedSource], state: FeedState | None):
        try:
            reports = await self._one(url, srcs, state or FeedState(url=url))
        except StoreError as e:  # the store's trouble (a full disk), said in its words: no bug, no traceback
            log.error("storing %s failed: %s", url, e)
            reports = self._reports(srcs, FeedStatus.FAILED, error=str(e), title=state.title if state else None)
        except Exception as e:  # noqa: BLE001 - a bug on one feed's data must not cost the others
            log.exception("ingesting %s failed", url)
            reports = [FeedReport(url=url, topic=s.topic, status=FeedStatus.FAILED, error=f"internal error: {e.__class__.__name__}: {e}"[:120], outlet=s.name) for s in srcs]
        out = list(zip(srcs, reports))
        self.done += 1
        for _, r in out:
            if self.progress is not None:
                try:
                    self.progress(r)
                except Exception:  # noqa: BLE001 - a progress bar is never worth a feed
                    log.exception("progress callback failed")
        return out

    def _reports(self, srcs, status: FeedStatus, *, new: int = 0, seen: int = 0, error: str | None = None,
                 title: str | None = None, notes: list[str] | None = None) -> list[FeedReport]:
        # An error can quote a server (a redirect's host, a parser message): no control characters.
        error = strip_controls(error) if error else error
        return [FeedReport(url=s.url, topic=s.topic, status=status, new=new, seen=seen, error=error,
                           outlet=s.name or title or outlet_from_url(s.url), notes=list(notes or ()))
                for s in srcs]

    async def _one(self, url: str, srcs: list[FeedSource], state: FeedState) -> list[FeedReport]:
        now = self.clock.now()
        probing = self.store is None
        if not probing:
            if state.gone:
                return self._reports(srcs, FeedStatus.DISABLED, error="gone (HTTP 410): disabled", title=state.title)
            if state.next_fetch_after and state.next_fetch_after > now:
                why = f"not due until {state.next_fetch_after:%H:%M} UTC (server's Retry-After or max-age)"
                return self._reports(srcs, FeedStatus.SKIPPED, error=why, title=state.title)
        fetched = await self._fetch(url, state if not probing else None, now)

        if fetched.error and not fetched.cut:
            gone = fetched.status == 410
            await self._save(replace(_failed(state, now, fetched.error), gone=gone,
                                     next_fetch_after=fetched.wait_until))
            return self._reports(srcs, FeedStatus.GONE if gone else FeedStatus.FAILED, error=fetched.error, title=state.title)

        ok_state = replace(state, last_fetch_at=now, last_success_at=now, last_error=None, consecutive_failures=0,
                           next_fetch_after=fetched.wait_until, gone=False, failing_since=None)
        # Followed, and the feed works; but the old URL may stop redirecting one day, so the config should move.
        moved = [f"moved permanently to {fetched.moved_to}: update the config"] if fetched.moved_to else []
        if fetched.not_modified:
            await self._save(ok_state)  # a 304 costs no parse
            return self._reports(srcs, FeedStatus.UNCHANGED, title=state.title, notes=moved)

        loop = asyncio.get_running_loop()
        outlet = next((s.name for s in srcs if s.name), None)
        cap = self.settings.max_entries_per_feed
        parsed: ParsedFeed = await self.parser.parse(fetched.body, fetched.headers, feed_url=url, outlet=outlet, now=now,
                                                     max_entries=cap)
        if fetched.cut and (parsed.error or not parsed.entries):
            parsed.error = fetched.error  # nothing whole came before the server hung up: failed, as ever
        if parsed.error:
            await self._save(_failed(state, now, parsed.error))
            return self._reports(srcs, FeedStatus.FAILED, error=parsed.error, title=state.title)
        notes = moved + parsed.notes()
        status, error = FeedStatus.NEW, None
        if fetched.cut:
            # Read like a cut file, but failed: a server that cuts it every time loses the feed's tail for good,
            # and only a failure shows in `status` and in every poll's line.
            error = f"{fetched.cut}: {parsed.broken or 'read as far as it goes'}"
            status, notes = FeedStatus.FAILED, [n for n in notes if n != parsed.broken]
        if probing:
            self.found.extend(parsed.articles)
            return self._reports(srcs, status, seen=parsed.entries, error=error, title=parsed.title, notes=notes)

        ok_state = replace(ok_state, title=parsed.title or state.title,
                           etag=fetched.headers.get("etag") if not fetched.stamp else None,
                           last_modified=fetched.stamp or fetched.headers.get("last-modified"))
        if fetched.cut:  # its validators are the whole body's: kept, the next poll gets a 304 and never the rest
            ok_state = replace(_failed(state, now, error), title=ok_state.title, etag=None, last_modified=None)
        if parsed.entries > cap:
            notes.append(f"took the newest {cap} of {parsed.entries} entries")
        fresh = parsed.articles
        if any(s.full_text for s in srcs) and fresh:
            known = await loop.run_in_executor(self.db, self.store.known_article_ids, [a.id for a in fresh])
            fresh = [a for a in fresh if a.id not in known]  # fetch pages only for articles not stored yet
            if self.full_text_deadline is None:
                self.full_text_deadline = loop.time() + self.settings.full_text_seconds
            pages = self.client if any(s.allow_private for s in srcs) else self._page_client()
            notes += await fill_full_text(pages, fresh, self.settings, self.limit, now=now,
                                          deadline=self.full_text_deadline)
        kinds = frozenset(re.sub(r"\d+", "#", n) for n in notes)
        if notes and _noted.get(url) != kinds:
            log.warning("%s: %s", url, "; ".join(notes))
        _noted[url] = kinds
        try:
            new = await loop.run_in_executor(self.db, self.store.add_articles, fresh, ok_state)
        except StoreError as e:
            # The store names the failure's kind only: a driver's message can quote the rows, i.e. article content.
            log.error("storing %s failed: %s", url, e)
            return self._reports(srcs, FeedStatus.FAILED, seen=parsed.entries, error=str(e), title=parsed.title,
                                 notes=notes)
        return self._reports(srcs, status, new=new, seen=parsed.entries, error=error, title=parsed.title, notes=notes)

    def _page_client(self) -> httpx.AsyncClient:
        """Article pages come from feed content: a client that reaches public addresses only."""
        if self.page_client is None:
            self.page_client = make_client(self.settings, public_only=True)
        return self.page_client

    async def _fetch(self, url: str, state: FeedState | None, now: datetime) -> Fetched:
        async with self.limit:
            if is_remote(url):
                return await fetch_http(self.client, url, self.settings, now=now,
                                        etag=state.etag if state else None,
                                        last_modified=state.last_modified if state else None)
            if url.startswith("/"):
                return await asyncio.to_thread(read_file, url, self.settings,
                                               known_stamp=state.last_modified if state else None)
            return Fetched(error="not an http(s) URL or an absolute file path")

    async def _save(self, state: FeedState) -> None:
        if self.store is not None:
            await asyncio.get_running_loop().run_in_executor(self.db, self.store.save_feed_state, state)
