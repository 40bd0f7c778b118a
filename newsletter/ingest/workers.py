"""Where feeds get parsed: on every core when there is enough to parse.

feedparser is pure Python, so parsing is CPU-bound under the GIL; with many
feeds, worker processes (one per core) parse while the event loop keeps
fetching. A handful of feeds is parsed on a thread: starting processes would
cost more than it saves. Workers come from a forkserver, never a plain fork of
this (threaded) process.

Workers die with this process, even when it is killed with SIGKILL: see _die_with.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from functools import partial

from newsletter.ingest.parse import ParsedFeed, parse_feed

log = logging.getLogger(__name__)
PARALLEL_AFTER_BYTES = 4 * 1024 * 1024  # about 60 feeds of 50 entries
LIFELINE_POLL_SECONDS = 1.0  # only where pidfds are missing (not Linux >= 5.3)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _context():
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["newsletter.ingest.parse"])
    return ctx


def _die_with(main_pid: int) -> None:
    """Worker initializer: exit as soon as the process that started the pool is gone.

    Nothing else would end a worker after a kill -9 of its pool's owner: its parent is the
    forkserver, and the workers, the forkserver and the resource tracker each hold the pipe
    ends the others wait on, so none sees EOF (measured: all alive minutes later, ~240 MB).
    A pidfd of the owner wakes a daemon thread when it exits, without polling; once the
    workers are gone, the forkserver and the resource tracker see EOF and exit by themselves.
    """
    try:
        pidfd = os.pidfd_open(main_pid)
    except ProcessLookupError:
        os._exit(1)  # gone already
    except (AttributeError, OSError):
        pidfd = None  # no pidfds here: poll instead
    threading.Thread(target=_exit_when_gone, args=(main_pid, pidfd), name="parse-lifeline", daemon=True).start()


def _exit_when_gone(main_pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process has exited
    else:
        while _exists(main_pid):
            time.sleep(LIFELINE_POLL_SECONDS)
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ParsePool:
    def __init__(self, *, parallel_after: int = PARALLEL_AFTER_BYTES):
        self.workers = cores()
        self.parallel_after = parallel_after
        self.bytes_seen = 0
        self.procs: ProcessPoolExecutor | None = None
        self.allow_procs = self.workers > 1 and os.environ.get("NEWSLETTER_PARSE_WORKERS") != "0"
        self.threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-parse")

    async def parse(self, body: bytes, headers: dict[str, str], *, feed_url: str, outlet: str | None,
                    now: datetime, max_entries: int | None = None) -> ParsedFeed:
        job = partial(parse_feed, body, headers, feed_url=feed_url, outlet=outlet, now=now, max_entries=max_entries)
        loop = asyncio.get_running_loop()
        self.bytes_seen += len(body)
        if self.procs is None and self.allow_procs and self.bytes_seen > self.parallel_after:
            self.procs = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(),
                                             initializer=_die_with, initargs=(os.getpid(),))
        if self.procs is not None:
            try:
                return await loop.run_in_executor(self.procs, job)
            except BrokenProcessPool:
                log.warning("parse workers died; parsing the remaining feeds in this process")
                self.procs, self.allow_procs = None, False
        return await loop.run_in_executor(self.threads, job)

    def close(self) -> None:
        if self.procs is not None:
            self.procs.shutdown(wait=True)
        self.threads.shutdown(wait=True)
