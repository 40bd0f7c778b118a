"""Which `newsletter run` processes are at work on a store: status's "service:" line, and the warning a
second `run` for the same newsletter gives at its start.

    store.service_seen(me, {title: config_digest(cfg)}, worker=False, started_at=t0, at=now)  # at start, each BEAT
    store.service_stopped(me, at=now)                                     # a clean stop
    running = [s for s in store.services_seen() if s.at_work(now)]

A `run` killed by SIGKILL or a power cut writes nothing more: on this host its process is seen to be
gone at once; on another host (workers) its row goes stale after STALE.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from newsletter.owners import host_of, machine, owner_gone

if TYPE_CHECKING:
    from newsletter.config import Config

BEAT = timedelta(minutes=1)  # how often a running service writes that it is at work
STALE = 3 * BEAT  # a row not written for this long belongs to a service that stopped without a word
KEPT = timedelta(days=30)  # rows of services not seen for longer are forgotten
KEPT_ROWS = 100  # and all but the latest seen: a service restarting in a loop adds a row a restart


def service_owner() -> str:
    """A `run` process's name in the store: machine:pid, which ``owner_gone`` can judge on this machine, and
    a token of its own, so that no two processes ever share a row (a pid namespace the machine cannot tell)."""
    return f"{machine()}:{os.getpid()}:{secrets.token_hex(4)}"


def config_digest(cfg: Config) -> str:
    """What a newsletter's config says, as a short digest: an edit that changes a setting changes it, a
    comment or the file's layout does not."""
    return hashlib.sha256(cfg.model_dump_json().encode()).hexdigest()[:16]


def _host_pid(owner: str) -> tuple[str, str]:
    return host_of(owner), owner.partition(":")[2].partition(":")[0]


@dataclass(frozen=True)
class Seen:
    """One `run` the store has seen: what it serves, and when it started, was last at work, stopped."""

    owner: str
    newsletters: tuple[str, ...]
    worker: bool
    started_at: datetime
    seen_at: datetime
    stopped_at: datetime | None = None
    retries: dict[str, datetime] = field(default_factory=dict)  # its booked send retries, by newsletter title
    configs: dict[str, str] = field(default_factory=dict)  # ``config_digest`` at its start, by newsletter title

    @classmethod
    def from_row(cls, row) -> Seen:
        retries = {title: datetime.fromisoformat(at) for title, at in json.loads(row.retries or "{}").items()}
        return cls(row.owner, tuple(json.loads(row.newsletters)), bool(row.worker), row.started_at, row.seen_at,
                   row.stopped_at, retries, json.loads(row.configs or "{}"))

    def at_work(self, now: datetime) -> bool:
        return self.stopped_at is None and self.seen_at >= now - STALE and not owner_gone(self.owner)

    @property
    def pid(self) -> str:
        host, pid = _host_pid(self.owner)
        return f"pid {pid} on {host}"

    def report(self, now: datetime) -> dict:
        host, pid = _host_pid(self.owner)
        return {"host": host, "pid": int(pid) if pid.isdigit() else pid, "worker": self.worker,
                "started_at": self.started_at.isoformat(timespec="seconds"),
                "seen_at": self.seen_at.isoformat(timespec="seconds"),
                "stopped_at": self.stopped_at.isoformat(timespec="seconds") if self.stopped_at else None,
                "running": self.at_work(now)}


def rivals(seen: list[Seen], me: str, titles: list[str], *, worker: bool, now: datetime) -> list[Seen]:
    """The other services at work on these newsletters that this one should hear of: any of them, except
    that workers of one PostgreSQL store are meant to run side by side."""
    return [s for s in seen if s.owner != me and s.at_work(now) and set(s.newsletters) & set(titles)
            and not (worker and s.worker)]
