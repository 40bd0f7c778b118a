"""Persistent state: feeds' fetch state, accumulated articles, issues and their deliveries.

SQLite by default (one file, created on first use); any SQLAlchemy URL works,
PostgreSQL included. Every change runs inside one transaction, so a crash
leaves either the old state or the new one.

Two processes may share a store (a cron ``send`` beside ``run``, two workers):
the day's issue is claimed before it is built (``claim_issue``) and each
recipient before a message goes out (``claim_recipient``), so neither can build
a second issue or send a recipient a second copy.

The store knows rows, not the pipeline's records: the orchestrator hands it
what to record. Schema changes are the append-only numbered migrations in
``migrations.py``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from newsletter.addresses import mailbox_key
from newsletter.migrations import MIGRATIONS, migrate
from newsletter.errors import StoreError
from newsletter.models import Article, DeliveryStatus, FeedState, PlacedArticle, SentArticle
from newsletter.owners import machine, owner_gone
from newsletter.presence import KEPT, KEPT_ROWS, STALE, Seen
from newsletter.schema import (
    articles, deliveries, embeddings, feed_leases, feeds, issue_articles, issue_claims, issues, model_answers,
    schema_migrations, services,
)
from newsletter.schema import unsubscriptions

log = logging.getLogger(__name__)

# A claim older than this belongs to a process that died: another may take it over.
CLAIM_LEASE = timedelta(minutes=15)
SQLITE_BUSY_TIMEOUT_S = 30  # a writer waits this long for another process's transaction
WAL_RETRY_S = 0.05  # between tries to switch a file to WAL while another process holds it
# The oldest schema version read-only commands (dry runs, status, archive) read: what later migrations
# added (articles' language, stored vectors) is read where present; an older store needs one writing
# command to upgrade it.
READ_ONLY_NEEDS = 7
# The columns migrations after READ_ONLY_NEEDS added to tables read-only commands read, by (table, column):
# the migration that added each. A read-only store older than it (status beside an older daemon) reads NULL.
ADDED_COLUMNS = {("feeds", "failing_since"): 11, ("issues", "model_calls_uncounted"): 12,
                 ("issues", "model_calls_unanswered"): 14, ("services", "retries"): 15, ("services", "configs"): 16}
SERVICES_VERSION = 13  # the migration that made the services table
EMBEDDINGS_VERSION = 9  # the migration that made the embeddings table: a read-only store may be older
REFUSED_LISTED = 10  # refused recipients the last issue lists (status): the rest are counted
ID_CHUNK = 500  # ids per IN (...) query: under SQLite's bound-parameter limit


@dataclass
class StoredEmail:
    issue_id: int
    created_at: datetime
    subject: str
    html: str
    text: str


class Store:
    def __init__(self, engine: Engine, *, readonly: bool = False):
        self.engine = engine
        self.readonly = readonly
        if not readonly:
            with self.engine.begin() as conn:
                ran = migrate(conn)
                # A store that can be read but not written (a read-only file, a read-only role) must
                # fail here, at open, not after an issue was built and half recorded.
                conn.execute(schema_migrations.update().where(schema_migrations.c.version == -1).values(version=-1))
                conn.execute(sa.text("SELECT 1"))
            if ran and ran[0] != min(MIGRATIONS):  # not a new store: an upgrade, which an operator wants to see
                log.info("upgraded the store %s from schema version %d to %d", _where(engine), ran[0] - 1, ran[-1])

    @classmethod
    def open(cls, url: str, *, readonly: bool = False, create: bool = True) -> Store:
        """Open (and on first use create) the store; ``readonly`` creates and changes nothing;
        ``create`` False: a SQLite file that is not there is an error, not a new empty store.

        Raises StoreError when the URL's driver is missing, the file is not a database, or
        the store cannot be written.
        """
        sqlite_path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
        try:
            if sqlite_path is not None and not readonly:
                _check_writable(Path(sqlite_path), create=create)
            if sqlite_path is not None and readonly:
                url = f"sqlite:///file:{sqlite_path}?mode=ro&uri=true"
            engine = sa.create_engine(url)
            if engine.dialect.name == "sqlite":
                sa.event.listen(engine, "connect", _sqlite_pragmas if not readonly else _sqlite_readonly_pragmas)
            store = cls(engine, readonly=readonly)
            if readonly:
                store.ping()
                store._check_readable()
            return store
        except sa.exc.NoSuchModuleError as e:
            raise StoreError(f"no database driver for this URL ({e})") from None
        except sa.exc.ArgumentError as e:
            raise StoreError(f"not a database URL ({e})") from None
        except ModuleNotFoundError as e:
            raise StoreError(f"the database driver {e.name!r} is not installed") from None
        except sa.exc.DatabaseError as e:
            # A full disk is not a wrong path: giving another one would start an empty store.
            raise StoreError(_first_line(e), STORE_REFUSED_FIX if _disk_full(e) else None) from None
        except OSError as e:
            raise StoreError(e.strerror or str(e)) from None

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(issues))

    def _check_readable(self) -> None:
        """A read-only command never migrates, and reads newer columns only where they exist: a store
        older than ``READ_ONLY_NEEDS`` gets a StoreError saying how to upgrade it, not a failed query."""
        done = self._versions
        behind = sorted(v for v in MIGRATIONS if v not in done)
        if behind and behind[0] <= READ_ONLY_NEEDS:
            raise StoreError(f"it was written by an older release (schema version {max(done, default=0)}; this "
                             f"command, which changes nothing, reads version {READ_ONLY_NEEDS} or later)",
                             "run `newsletter fetch` once with this config to upgrade the store, then try again.")

    @cached_property
    def _versions(self) -> frozenset[int]:
        """The migrations this store has had: all of them, unless it is read-only (never migrated here)."""
        if not self.readonly:
            return frozenset(MIGRATIONS)
        with self.engine.connect() as conn:
            return frozenset(r[0] for r in conn.execute(sa.select(schema_migrations.c.version)))

    def close(self) -> None:
        self.engine.dispose()

    def _readable(self, *columns: sa.Column) -> list:
        """``columns`` as this store can read them: one whose migration has not run here (``ADDED_COLUMNS``)
        as NULL under its name."""
        def read(c: sa.Column):
            added = ADDED_COLUMNS.get((c.table.name, c.name))
            return c if added is None or added in self._versions else sa.null().label(c.name)
        return [read(c) for c in columns]

    # -- feeds ------------------------------------------------------------

    def feed_states(self, urls: Iterable[str] | None = None) -> dict[str, FeedState]:
        q = sa.select(*self._readable(*feeds.c))
        if urls is not None:
            q = q.where(feeds.c.url.in_(list(urls)))
        with self.engine.connect() as conn:
            return {r.url: FeedState(**r._asdict()) for r in conn.execute(q)}

    def save_feed_state(self, state: FeedState, conn: Connection | None = None) -> None:
        values = dict(vars(state))
        if conn is None:
            try:
                with self.engine.begin() as c:
                    return self.save_feed_state(state, c)
            except sa.exc.OperationalError as e:
                raise StoreError(f"the store {store_trouble(e)[0]}") from None
        updated = conn.execute(feeds.update().where(feeds.c.url == state.url).values(values))
        if updated.rowcount == 0:
            conn.execute(feeds.insert().values(values))

    # -- articles ---------------------------------------------------------

    def add_articles(self, new: Sequence[Article], state: FeedState | None = None) -> int:
        """Insert the articles not stored yet (by id) and, in the same transaction,
        the feed's new fetch state. Returns how many were new. Raises StoreError when the
        database refuses them, naming the kind of failure but none of the content."""
        try:
            with self.engine.begin() as conn:
                count = self._insert_new(conn, new)
                if state is not None:
                    self.save_feed_state(state, conn)
        except sa.exc.OperationalError as e:  # the database's reason (a full disk), which quotes no row
            raise StoreError(f"the store {store_trouble(e)[0]}") from None
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"could not store articles ({e.__class__.__name__})") from None
        return count

    def known_article_ids(self, ids: Sequence[str], conn: Connection | None = None) -> set[str]:
        """Which of these article ids are stored already."""
        if conn is None:
            with self.engine.connect() as c:
                return self.known_article_ids(ids, c)
        known: set[str] = set()
        for i in range(0, len(ids), ID_CHUNK):
            chunk = list(ids[i : i + ID_CHUNK])
            known.update(r[0] for r in conn.execute(sa.select(articles.c.id).where(articles.c.id.in_(chunk))))
        return known

    def _insert_new(self, conn: Connection, new: Sequence[Article]) -> int:
        if not new:
            return 0
        known = self.known_article_ids([a.id for a in new], conn)
        rows, seen = [], set()
        for a in new:
            if a.id in known or a.id in seen:
                continue
            seen.add(a.id)
            rows.append(
                dict(id=a.id, feed_url=a.feed_url, outlet=a.outlet, title=a.title, link=a.link,
                     published=a.published, first_seen=a.first_seen or a.published, text=a.text, html=a.html,
                     language=a.language)
            )
        if rows:
            conn.execute(articles.insert(), rows)
        return len(rows)

    def articles_between(self, since: datetime | None, until: datetime | None = None,
                         feed_urls: Iterable[str] | None = None, *, html: bool = True,
                         text_chars: int | None = None) -> list[Article]:
        """Oldest first; ``html`` False leaves the HTML out (empty), ``text_chars`` all but the text's
        first characters: what embedding reads needs neither."""
        have = self._article_columns

        def column(c: sa.Column):
            return sa.func.substr(c, 1, text_chars).label(c.name) if c.name == "text" and text_chars else c

        q = sa.select(*(column(c) for c in articles.c if (html or c.name != "html") and c.name in have))
        q = q.order_by(articles.c.published, articles.c.id)
        if since is not None:
            q = q.where(articles.c.published >= since)
        if until is not None:
            q = q.where(articles.c.published <= until)
        if feed_urls is not None:
            q = q.where(articles.c.feed_url.in_(list(feed_urls)))
        with self.engine.connect() as conn:
            return [Article(**r._asdict()) for r in conn.execute(q)]

    @cached_property
    def _article_columns(self) -> frozenset[str]:
        """The articles table's columns. A read-only store is never migrated, so one made before a
        column was added (migration 8's language) is read without it: the field keeps its default."""
        if not self.readonly:
            return frozenset(c.name for c in articles.c)
        with self.engine.connect() as conn:
            return frozenset(c["name"] for c in sa.inspect(conn).get_columns(articles.name))

    # -- issues -----------------------------------------------------------

    def _delivered(self, newsletter: str | None):
        """Issues that reached at least one recipient: only those count as sent. ``newsletter``: only that
        newsletter's (its ``issue_key_prefix``): two newsletters on one store each cover their own window
        and may both carry a story; None: every newsletter's."""
        sent = sa.exists().where((deliveries.c.issue_id == issues.c.id) & (deliveries.c.status == DeliveryStatus.SENT))
        return sent if newsletter is None else sent & issues.c.key.startswith(newsletter, autoescape=True)

    def last_issue_at(self, newsletter: str | None = None) -> datetime | None:
        """When the last issue that reached anyone was made; an issue nobody got leaves its news to the next."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(issues.c.created_at)).where(self._delivered(newsletter))).scalar()

    def sent_articles(self, article_ids: Sequence[str] | None = None,
                      newsletter: str | None = None) -> dict[str, SentArticle]:
        """The articles (of ``article_ids``, or all) that reached a recipient in an earlier issue (of
        ``newsletter``, or of any), by id. Asking for the window's ids keeps an issue's cost independent of
        the store's age."""
        q = (sa.select(issue_articles.c.article_id, issue_articles.c.story_id, issues.c.id, issues.c.created_at)
             .join(issues, issues.c.id == issue_articles.c.issue_id).where(self._delivered(newsletter)))
        with self.engine.connect() as conn:
            if article_ids is None:
                return {r[0]: SentArticle(r[0], r[1], r[2], r[3]) for r in conn.execute(q)}
            ids, out = list(article_ids), {}
            for i in range(0, len(ids), ID_CHUNK):
                rows = conn.execute(q.where(issue_articles.c.article_id.in_(ids[i : i + ID_CHUNK])))
                out.update({r[0]: SentArticle(r[0], r[1], r[2], r[3]) for r in rows})
            return out

    def forget_articles(self, before: datetime) -> int:
        """Delete articles published and first seen before ``before``, except those a recorded issue
        carries (kept as long as their issue, so "never repeat" still knows them), and model answers
        kept since before then. Returns how many articles went."""
        placed = sa.exists().where(issue_articles.c.article_id == articles.c.id)
        old = (articles.c.published < before) & (articles.c.first_seen < before) & ~placed
        with self.engine.begin() as conn:
            gone = conn.execute(articles.delete().where(old)).rowcount
            conn.execute(model_answers.delete().where(model_answers.c.created_at < before))
            conn.execute(embeddings.delete().where(embeddings.c.created_at < before))
            return gone

    # -- embeddings, for semantic grouping ---------------------------------

    def embedded(self, model: str, keys: Sequence[str]) -> set[str]:
        """Which of these text hashes have a vector from ``model``."""
        return {r[0] for r in self._embedding_rows(model, keys, embeddings.c.text_sha256)}

    def embeddings(self, model: str, keys: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """The stored vectors of these text hashes from ``model``: hash -> (dims, bytes)."""
        rows = self._embedding_rows(model, keys, embeddings.c.text_sha256, embeddings.c.dims, embeddings.c.vector)
        return {r[0]: (r[1], bytes(r[2])) for r in rows}

    def _embedding_rows(self, model: str, keys: Sequence[str], *columns) -> list:
        if EMBEDDINGS_VERSION not in self._versions:
            return []  # a dry run on a store made before the vectors were kept: none yet
        out: list = []
        with self.engine.connect() as conn:
            for i in range(0, len(keys), ID_CHUNK):
                q = sa.select(*columns).where((embeddings.c.model == model)
                                              & embeddings.c.text_sha256.in_(list(keys[i : i + ID_CHUNK])))
                out += conn.execute(q).all()
        return out

    def add_embeddings(self, model: str, rows: Sequence[tuple[str, int, bytes]], at: datetime) -> None:
        """Keep these (text hash, dims, vector bytes) of ``model``, in one transaction. A hash stored
        meanwhile by another process keeps its row: the same text, the same model, the same vector."""
        values = [dict(model=model, text_sha256=k, dims=d, vector=v, created_at=at) for k, d, v in rows]
        if not values:
            return
        with self.engine.begin() as conn:
            conn.execute(_insert_new_only(conn, embeddings), values)

    def issue_id(self, key: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(issues.c.id).where(issues.c.key == key)).scalar()

    def stored_email(self, key: str) -> StoredEmail | None:
        """The email recorded for this issue key, if an issue with that key was recorded."""
        q = sa.select(issues.c.id, issues.c.created_at, issues.c.subject, issues.c.html, issues.c.text).where(
            issues.c.key == key)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None or row.html is None:
            return None
        return StoredEmail(row.id, row.created_at, row.subject, row.html, row.text or "")

    def claim_issue(self, key: str, owner: str, now: datetime) -> bool:
        """Take the right to build the issue ``key``: True for exactly one caller at a time.

        A claim older than CLAIM_LEASE was left by a process that died mid-build; it is taken over,
        at once when that process ran on this host and is gone, or when it was a `newsletter run` (of
        any host or container) that has not been seen at work for presence.STALE (``_gone_quiet``).

        False once the issue is recorded: a sender that looked for it just before another recorded it (the
        record ends that one's claim) must not build it again. The record is looked for after the claim is
        written, in its transaction: a record committed before then is seen, and one after needs this claim.
        """
        recorded = sa.select(issues.c.id).where(issues.c.key == key)
        with self.engine.connect() as conn:
            try:
                conn.execute(issue_claims.insert().values(key=key, owner=owner, claimed_at=now))
                taken = True
            except sa.exc.IntegrityError:
                conn.rollback()
                held = conn.execute(sa.select(issue_claims.c.owner, issue_claims.c.claimed_at)
                                    .where(issue_claims.c.key == key)).first()
                # A builder killed on this host frees the claim at once, and so does a service gone quiet
                # anywhere; any other holder elsewhere (a `send` from another host's cron) after the lease.
                stale = issue_claims.c.claimed_at < now - CLAIM_LEASE
                if held is not None and (owner_gone(held.owner) or self._gone_quiet(conn, held.owner,
                                                                                    held.claimed_at, now)):
                    stale = issue_claims.c.owner == held.owner
                taken = conn.execute(issue_claims.update().where((issue_claims.c.key == key) & stale)
                                     .values(owner=owner, claimed_at=now)).rowcount == 1
            if taken and conn.execute(recorded).first() is None:
                conn.commit()
                return True
            conn.rollback()
            return False

    def _gone_quiet(self, conn: Connection, owner: str, claimed_at: datetime, now: datetime) -> bool:
        """Whether ``owner`` (machine:pid:thread) is a process of another machine or container that the store
        knows as a `newsletter run` no longer at work: stopped, or silent for presence.STALE (killed with its
        container, or its host down). A build in a running service goes on beating; a process the store never
        saw as a service is unknown. On this machine ``owner_gone`` knows better (a pid is reused here).

        Only a service at work when the claim was made (``claimed_at``, by the claimer's own clock, as the
        service's times are) can be its owner: the store keeps the rows of services stopped or killed days ago,
        and a `send` from cron that got one's pid since (a reboot, pid 1 of a new container) is no service."""
        if SERVICES_VERSION not in self._versions or owner.partition(":")[0] == machine():
            return False
        machine_pid = ":".join(owner.split(":")[:2]) + ":"
        rows = conn.execute(sa.select(services.c.seen_at, services.c.stopped_at)
                            .where(services.c.owner.startswith(machine_pid, autoescape=True)
                                   & (services.c.started_at <= claimed_at)
                                   & (services.c.seen_at >= claimed_at - STALE)
                                   & (services.c.stopped_at.is_(None) | (services.c.stopped_at >= claimed_at)))).all()
        return bool(rows) and all(r.stopped_at is not None or r.seen_at < now - STALE for r in rows)

    def release_issue(self, key: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(issue_claims.delete().where((issue_claims.c.key == key) & (issue_claims.c.owner == owner)))

    def record_issue(self, key: str, *, created_at: datetime, subject: str, document: dict, html: str, text: str,
                     placements: Sequence[PlacedArticle], owner: str | None = None,
                     usage: tuple[int, int, int, int, int] | None = None) -> int:
        """Record the issue and what it placed, once per key, and release the build claim; returns its id.

        Recording happens before delivery, so a crash between the two leaves deliveries
        to finish, never a second issue.
        """
        with self.engine.begin() as conn:
            existing = conn.execute(sa.select(issues.c.id).where(issues.c.key == key)).scalar()
            if existing is not None:
                if owner is not None:  # recorded by another (a claim of ours taken over after its lease)
                    conn.execute(issue_claims.delete().where((issue_claims.c.key == key)
                                                             & (issue_claims.c.owner == owner)))
                return existing
            calls, prompt, completion, uncounted, unanswered = usage or (None, None, None, None, None)
            issue_id = conn.execute(
                issues.insert().values(key=key, created_at=created_at, subject=subject, document=document,
                                       html=html, text=text, model_calls=calls, prompt_tokens=prompt,
                                       completion_tokens=completion, model_calls_uncounted=uncounted,
                                       model_calls_unanswered=unanswered)
            ).inserted_primary_key[0]
            rows = {p.article_id: dict(issue_id=issue_id, article_id=p.article_id, story_id=p.story_id,
                                       placement=p.where) for p in placements}  # one placement per article
            if rows:
                conn.execute(issue_articles.insert(), list(rows.values()))
            if owner is not None:
                conn.execute(issue_claims.delete().where((issue_claims.c.key == key) & (issue_claims.c.owner == owner)))
            return issue_id

    def issue_delivered(self, key: str, recipients: list[str]) -> bool:
        """Whether the issue with this key went to every one of these recipients (any spelling of each)."""
        issue_id = self.issue_id(key)
        if issue_id is None:
            return False
        status = self.delivery_status(issue_id)
        return all(status.get(mailbox_key(r)) == DeliveryStatus.SENT for r in recipients)

    # -- deliveries -------------------------------------------------------
    # A delivery is kept by its mailbox (``mailbox_key``: the addr-spec, case-folded), never by the spelling a
    # send was given: "Eve <eve@x.example>" and " EVE@x.example" are one row, so one copy a day. Every method
    # here takes any spelling.

    def delivery_status(self, issue_id: int) -> dict[str, DeliveryStatus]:
        """Each recipient's status, by mailbox key."""
        with self.engine.connect() as conn:
            q = sa.select(deliveries.c.recipient, deliveries.c.status).where(deliveries.c.issue_id == issue_id)
            return {r[0]: DeliveryStatus(r[1]) for r in conn.execute(q)}

    def owe(self, issue_id: int, recipients: Sequence[str], *, message_ids: dict[str, str], transport: str,
            at: datetime) -> dict[str, str]:
        """Add a pending delivery for each recipient that has none yet (another process may have added
        some first: the same rows). Returns the Message-ID recorded for each, by mailbox key: the one
        given, or the one an earlier run recorded, which a resend must carry again."""
        if not recipients:
            return {}
        rows = {mailbox_key(r): {"issue_id": issue_id, "recipient": mailbox_key(r), "message_id": message_ids[r],
                                 "status": DeliveryStatus.PENDING, "transport": transport, "updated_at": at}
                for r in recipients}
        with self.engine.begin() as conn:
            conn.execute(_insert_new_only(conn, deliveries), list(rows.values()))
            q = sa.select(deliveries.c.recipient, deliveries.c.message_id).where(deliveries.c.issue_id == issue_id)
            return {r[0]: r[1] for r in conn.execute(q) if r[0] in rows}

    def claim_recipient(self, issue_id: int, recipient: str, at: datetime, owner: str | None = None) -> bool:
        """Mark one owed delivery "sending" by ``owner``: True for exactly one process. A "sending"
        left by a process that died mid-message is claimed again: at once when its owner was a
        process on this host that is gone (``owner_gone``), else after CLAIM_LEASE (another host's
        process may still be talking to the mail server)."""
        mine = (deliveries.c.issue_id == issue_id) & (deliveries.c.recipient == mailbox_key(recipient))
        owed = deliveries.c.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED])
        stale = (deliveries.c.status == DeliveryStatus.SENDING) & (deliveries.c.updated_at < at - CLAIM_LEASE)
        with self.engine.begin() as conn:
            if conn.execute(deliveries.update().where(mine & (owed | stale)).values(
                    status=DeliveryStatus.SENDING, updated_at=at, claimed_by=owner)).rowcount == 1:
                return True
            row = conn.execute(sa.select(deliveries.c.status, deliveries.c.claimed_by).where(mine)).first()
            if row is None or row.status != DeliveryStatus.SENDING or not owner_gone(row.claimed_by):
                return False
            # Compare-and-set on the dead owner: of two restarted processes, one takes it.
            left = mine & (deliveries.c.status == DeliveryStatus.SENDING) & (deliveries.c.claimed_by == row.claimed_by)
            return conn.execute(deliveries.update().where(left).values(
                updated_at=at, claimed_by=owner)).rowcount == 1

    def mark_delivery(self, issue_id: int, recipient: str, *, status: DeliveryStatus, location: str | None = None,
                      error: str | None = None, at: datetime) -> None:
        where = (deliveries.c.issue_id == issue_id) & (deliveries.c.recipient == mailbox_key(recipient))
        with self.engine.begin() as conn:
            conn.execute(deliveries.update().where(where).values(status=status, location=location, error=error,
                                                                 updated_at=at))

    # -- for `newsletter status` (read-only) --------------------------------

    def last_issue(self, key_prefix: str) -> dict | None:
        """The newest recorded issue whose key starts with ``key_prefix`` (one newsletter's), with what it
        cost, its deliveries counted by status, and the first ``REFUSED_LISTED`` refused recipients with the
        server's words; None when there is none."""
        # The calls without token counts, or with no answer, of a store too old to count them: None, unknown.
        q = (sa.select(*self._readable(issues.c.id, issues.c.key, issues.c.created_at, issues.c.subject,
                                       issues.c.document, issues.c.model_calls, issues.c.prompt_tokens,
                                       issues.c.completion_tokens, issues.c.model_calls_uncounted,
                                       issues.c.model_calls_unanswered))
             .where(issues.c.key.startswith(key_prefix, autoescape=True))
             .order_by(issues.c.created_at.desc(), issues.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
            if row is None:
                return None
            counts = dict(conn.execute(sa.select(deliveries.c.status, sa.func.count())
                                       .where(deliveries.c.issue_id == row.id).group_by(deliveries.c.status)).all())
            refused = conn.execute(sa.select(deliveries.c.recipient, deliveries.c.error)
                                   .where((deliveries.c.issue_id == row.id)
                                          & (deliveries.c.status == DeliveryStatus.FAILED))
                                   .order_by(deliveries.c.recipient).limit(REFUSED_LISTED)).all()
        return {**row._asdict(), "deliveries": {str(k): v for k, v in counts.items()},
                "refused": [(r.recipient, r.error or "") for r in refused]}

    def issue_usage_since(self, key_prefix: str, since: datetime) -> list[dict]:
        """What each of one newsletter's issues recorded since ``since`` spent: created_at, model_calls,
        prompt_tokens, completion_tokens (None: no model call, or before the store kept them) and
        model_calls_uncounted (None: unknown), oldest first. For the cost over a span of days in `status`."""
        q = (sa.select(*self._readable(issues.c.created_at, issues.c.model_calls, issues.c.prompt_tokens,
                                       issues.c.completion_tokens, issues.c.model_calls_uncounted))
             .where(issues.c.key.startswith(key_prefix, autoescape=True) & (issues.c.created_at >= since))
             .order_by(issues.c.created_at, issues.c.id))
        with self.engine.connect() as conn:
            return [r._asdict() for r in conn.execute(q)]

    def first_issue_key(self, key_prefix: str) -> str | None:
        """The key of one newsletter's earliest issue (keys end in the ISO day, so they sort by day)."""
        q = sa.select(sa.func.min(issues.c.key)).where(issues.c.key.startswith(key_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return conn.execute(q).scalar()

    # -- the web side: the archive and one-click unsubscribe ----------------

    def archived_issues(self, key_prefix: str, limit: int | None = None) -> list[dict]:
        """One newsletter's recorded issues, newest first: key, created_at, subject, document."""
        q = (sa.select(issues.c.key, issues.c.created_at, issues.c.subject, issues.c.document)
             .where(issues.c.key.startswith(key_prefix, autoescape=True))
             .order_by(issues.c.key.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [row._asdict() for row in conn.execute(q)]

    def recipients_of(self, key_prefix: str) -> set[str]:
        """Every address one newsletter's recorded issues were owed to."""
        q = (sa.select(deliveries.c.recipient).distinct().join(issues, issues.c.id == deliveries.c.issue_id)
             .where(issues.c.key.startswith(key_prefix, autoescape=True)))
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(q)}

    def unsubscribe(self, newsletter: str, address: str, at: datetime) -> bool:
        """Record that ``address`` left ``newsletter``; False when it had already (a replayed link)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(unsubscriptions.insert().values(newsletter=newsletter, address=address,
                                                             unsubscribed_at=at))
            return True
        except sa.exc.IntegrityError:
            return False

    def resubscribe(self, newsletter: str, address: str) -> bool:
        """Forget that ``address`` left ``newsletter``; False when it had not."""
        where = (unsubscriptions.c.newsletter == newsletter) & (unsubscriptions.c.address == address)
        with self.engine.begin() as conn:
            return conn.execute(unsubscriptions.delete().where(where)).rowcount > 0

    def unsubscribed(self, newsletter: str) -> set[str]:
        with self.engine.connect() as conn:
            q = sa.select(unsubscriptions.c.address).where(unsubscriptions.c.newsletter == newsletter)
            return {r[0] for r in conn.execute(q)}


    # -- feed leases, for workers sharing a PostgreSQL store (``run --worker``) ----

    def add_feed_leases(self, urls: Sequence[str]) -> None:
        """A lease row for each of these feeds not seen before: what ``claim_feeds`` leases."""
        if urls:
            with self.engine.begin() as conn:
                conn.execute(_insert_new_only(conn, feed_leases), [{"url": u} for u in dict.fromkeys(urls)])

    def claim_feeds(self, urls: Sequence[str], owner: str, now: datetime, *, lease: timedelta,
                    interval: timedelta, limit: int) -> list[str]:
        """Lease up to ``limit`` of these feeds (rows made by ``add_feed_leases``) that are due (not
        polled within ``interval``) and not leased to a live worker; returns their URLs. ``FOR UPDATE
        SKIP LOCKED``: workers asking at the same moment get different feeds instead of waiting on
        each other. A dead worker's lease simply runs out."""
        free = (feed_leases.c.leased_until.is_(None)) | (feed_leases.c.leased_until < now)
        due = (feed_leases.c.polled_at.is_(None)) | (feed_leases.c.polled_at <= now - interval)
        q = (sa.select(feed_leases.c.url).where(feed_leases.c.url.in_(list(urls)) & free & due)
             .order_by(feed_leases.c.polled_at.asc().nulls_first(), feed_leases.c.url)
             .limit(limit).with_for_update(skip_locked=True))
        with self.engine.begin() as conn:
            got = [r[0] for r in conn.execute(q)]
            if got:
                conn.execute(feed_leases.update().where(feed_leases.c.url.in_(got))
                             .values(owner=owner, leased_until=now + lease))
        return got

    def finish_feeds(self, urls: Sequence[str], owner: str, now: datetime) -> None:
        """These feeds were polled by ``owner``: due again one interval from now, lease given back."""
        with self.engine.begin() as conn:
            conn.execute(feed_leases.update().where(feed_leases.c.url.in_(list(urls)) & (feed_leases.c.owner == owner))
                         .values(owner=None, leased_until=None, polled_at=now))

    def release_feeds(self, urls: Sequence[str], owner: str) -> None:
        """Give back leases not polled (the service is stopping): another worker takes them at once."""
        with self.engine.begin() as conn:
            conn.execute(feed_leases.update().where(feed_leases.c.url.in_(list(urls)) & (feed_leases.c.owner == owner))
                         .values(owner=None, leased_until=None))

    # -- the `run` processes using the store (``presence``) ----------------------------------------

    def service_seen(self, owner: str, newsletters: Mapping[str, str], *, worker: bool, started_at: datetime,
                     at: datetime) -> list[Seen]:
        """``owner``, a running service, is at work now on ``newsletters`` (title: its config's digest);
        returns every service the store has seen within KEPT (``owner`` included)."""
        row = {"newsletters": json.dumps(list(newsletters)), "worker": worker, "started_at": started_at,
               "seen_at": at, "stopped_at": None, "configs": json.dumps(dict(newsletters))}
        with self.engine.begin() as conn:
            if conn.execute(services.update().where(services.c.owner == owner).values(**row)).rowcount == 0:
                conn.execute(services.insert().values(owner=owner, **row))
            latest = sa.select(services.c.owner).order_by(services.c.seen_at.desc()).limit(KEPT_ROWS)
            conn.execute(services.delete().where((services.c.seen_at < at - KEPT)
                                                 | services.c.owner.not_in(latest.scalar_subquery())))
            return [Seen.from_row(r) for r in conn.execute(sa.select(services))]

    def service_retry(self, owner: str, newsletter: str, at: datetime | None) -> None:
        """``owner`` has booked a retry of ``newsletter``'s send ``at`` (None: it has none any more).

        Each newsletter's send books its retry from a thread of its own: the retries are written back only
        as they were read, else read again, so that two bookings at once keep both."""
        while True:
            with self.engine.begin() as conn:
                row = conn.execute(sa.select(services.c.retries).where(services.c.owner == owner)).first()
                if row is None:
                    return  # not seen at work yet: its first beat comes before any send
                retries = json.loads(row.retries or "{}")
                if at is None:
                    retries.pop(newsletter, None)
                else:
                    retries[newsletter] = at.isoformat()
                as_read = (services.c.owner == owner) & services.c.retries.is_not_distinct_from(row.retries)
                if conn.execute(services.update().where(as_read)
                                .values(retries=json.dumps(retries) if retries else None)).rowcount == 1:
                    return

    def service_stopped(self, owner: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(services.update().where(services.c.owner == owner).values(seen_at=at, stopped_at=at))

    def services_seen(self) -> list[Seen] | None:
        """The services the store has seen lately; None for a read-only store older than the services
        table (whether a service runs is then unknown, not "no")."""
        if SERVICES_VERSION not in self._versions:
            return None
        with self.engine.connect() as conn:
            return [Seen.from_row(r) for r in conn.execute(sa.select(*self._readable(*services.c)))]


class AnswerCache:
    """Model answers by key, in the store: what the model summarizer reuses instead of asking again.
    A failed write costs the reuse, never the issue."""

    def __init__(self, store: Store, clock_now):
        self.store, self.now = store, clock_now

    def get(self, key: str) -> str | None:
        with self.store.engine.connect() as conn:
            return conn.execute(sa.select(model_answers.c.answer).where(model_answers.c.key == key)).scalar()

    def put(self, key: str, answer: str) -> None:
        if self.store.readonly:
            return
        try:
            with self.store.engine.begin() as conn:
                done = conn.execute(model_answers.update().where(model_answers.c.key == key).values(
                    answer=answer, created_at=self.now()))
                if done.rowcount == 0:
                    conn.execute(model_answers.insert().values(key=key, answer=answer, created_at=self.now()))
        except sa.exc.SQLAlchemyError as e:
            log.warning("could not keep a model answer for reuse (%s)", e.__class__.__name__)


def _insert_new_only(conn: Connection, table: sa.Table):
    """INSERT that skips rows whose key is stored, on the two databases the store promises."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        return table.insert()  # elsewhere a row stored meanwhile fails the batch, which the next run redoes
    return insert(table).on_conflict_do_nothing()


def _where(engine: Engine) -> str:
    """The store as a log line names it: the SQLite file, or the server's URL without its password."""
    url = engine.url
    return url.database if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)


DatabaseError = sa.exc.DatabaseError
STORE_REFUSED_FIX = ("free space on the disk that holds it, or make it writable again; what it holds is kept, and the "
                     "next send, or the service's next turn, carries on from there.")


def _disk_full(e: sa.exc.DatabaseError) -> bool:
    """SQLite's SQLITE_FULL, or PostgreSQL's disk_full (SQLSTATE 53100)."""
    return (getattr(e.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or getattr(e.orig, "sqlstate", None) == "53100")


STORE_TROUBLE_FIX = ("what it holds is kept, and the next send, or the service's next turn, carries on from there; "
                     "if it recurs, see to what the database names (\"database is locked\": another process held "
                     "the file longer than the busy timeout; a database server restarting or out of reach).")


def _refused_write(e: sa.exc.DatabaseError) -> bool:
    """A full disk, or a store that takes no writes: SQLite's SQLITE_READONLY (a file made read-only, a disk
    remounted so), PostgreSQL's read_only_sql_transaction (25006, a standby)."""
    code = getattr(e.orig, "sqlite_errorcode", None)
    return _disk_full(e) or (code is not None and code & 0xFF == sqlite3.SQLITE_READONLY) or \
        getattr(e.orig, "sqlstate", None) == "25006"


def store_trouble(e: sa.exc.DatabaseError) -> tuple[str, str] | None:
    """None for a mistake in a statement (a bug, with its traceback); else what went wrong, as "refused a
    write: database or disk is full" or "failed: database is locked" (the database's reason, without the
    statement or its rows), and the fix for it."""
    reason = _first_line(e).rstrip(".")
    if _refused_write(e):
        return f"refused a write: {reason}", STORE_REFUSED_FIX
    return (f"failed: {reason}", STORE_TROUBLE_FIX) if isinstance(e, sa.exc.OperationalError) else None


def _first_line(e: Exception) -> str:
    return str(getattr(e, "orig", None) or e).splitlines()[0]


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    _use_wal(cur)  # readers don't block the fetcher's writes
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _use_wal(cur) -> None:
    """Put the file in WAL mode. SQLite changes the journal mode without its busy handler: while another
    process holds the file's write lock (two processes opening a new store at once) the change fails at
    once with "database is locked", so it is tried again until it takes or the busy timeout has passed."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
        time.sleep(WAL_RETRY_S)


def _sqlite_readonly_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cur.close()


GONE_FIX = ("put the store file back at that path (the service uses it again at its next job), or restart "
            "the service to start a new, empty store there.")


def _check_writable(path: Path, *, create: bool = True) -> None:
    """SQLite opens a read-only file without complaint and fails at the first write, mid-run: check now.
    ``create`` False (a running service whose store was there): a missing file is not made anew."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a file", GONE_FIX)
    if not create and not path.exists():
        raise StoreError(f"{path} is gone: it was there before (its folder renamed or unmounted?), and an empty "
                         "store made in its place would send today's issue again", GONE_FIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not os.access(path, os.W_OK):
        # Its issues and deliveries are in it: another path would be an empty store that sends today's again.
        raise StoreError(f"{path} is read-only", "make it writable again (its owner and mode, or the disk mounted "
                         "read-write); a new path would start an empty store that sends today's issue again.")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(f"the folder {path.parent} is read-only (SQLite writes its journal beside the file)")


