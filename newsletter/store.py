"""Persistent state: feeds' fetch state, accumulated articles, issues sent.

SQLite by default (one file, created on first use); any SQLAlchemy URL works,
PostgreSQL included. Every change runs inside one transaction, so a crash
leaves either the old state or the new one.

Schema changes are append-only numbered migrations (``MIGRATIONS``); the
``schema_migrations`` table records which ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from newsletter.models import Article, Issue

metadata = sa.MetaData()


class UTCDateTime(sa.types.TypeDecorator):
    """Store naive UTC, hand back aware UTC: SQLite keeps no zone of its own."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware times")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


schema_migrations = sa.Table(
    "schema_migrations", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

feeds = sa.Table(
    "feeds", metadata,
    sa.Column("url", sa.String(2048), primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_fetch_at", UTCDateTime),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("next_fetch_after", UTCDateTime),  # Retry-After / max-age: skip until then
    sa.Column("gone", sa.Boolean, nullable=False, default=False),  # 410: disabled
)

articles = sa.Table(
    "articles", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("feed_url", sa.String(2048), nullable=False, index=True),
    sa.Column("outlet", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime, nullable=False, index=True),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
)

issues = sa.Table(
    "issues", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(512), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),  # the structured issue, as in preview's FILE.json
    # The rendered email (migration 2): a retry later that day sends exactly what the others got.
    sa.Column("html", sa.Text),
    sa.Column("text", sa.Text),
)

# Which articles went out in which issue and where: what novelty and "never repeat" read.
issue_articles = sa.Table(
    "issue_articles", metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Column("article_id", sa.String(64), primary_key=True),
    sa.Column("story_id", sa.String(32), nullable=False),
    sa.Column("placement", sa.String(16), nullable=False),  # "briefing" or "sidebar"
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Column("recipient", sa.String(512), primary_key=True),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # "pending", "sent", "failed"
    sa.Column("transport", sa.String(16), nullable=False),
    sa.Column("location", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


def _m1_initial(conn: Connection) -> None:
    for table in (feeds, articles, issues, issue_articles, deliveries):
        table.create(conn, checkfirst=True)


def _m2_issue_email(conn: Connection) -> None:
    have = {c["name"] for c in sa.inspect(conn).get_columns("issues")}
    for name in ("html", "text"):
        if name not in have:  # a store created at version 1 lacks them; a new one has them from _m1
            conn.execute(sa.text(f"ALTER TABLE issues ADD COLUMN {name} TEXT"))


MIGRATIONS: list[Callable[[Connection], None]] = [_m1_initial, _m2_issue_email]


@dataclass
class FeedState:
    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_fetch_after: datetime | None = None
    gone: bool = False


@dataclass
class StoredEmail:
    issue_id: int
    created_at: datetime
    subject: str
    html: str
    text: str


@dataclass
class SentArticle:
    article_id: str
    story_id: str
    issue_id: int
    created_at: datetime


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._migrate()

    @classmethod
    def open(cls, url: str) -> Store:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            schema_migrations.create(conn, checkfirst=True)
            done = {r[0] for r in conn.execute(sa.select(schema_migrations.c.version))}
            for version, migration in enumerate(MIGRATIONS, start=1):
                if version not in done:
                    migration(conn)
                    conn.execute(schema_migrations.insert().values(version=version, applied_at=datetime.now(timezone.utc)))

    # -- feeds ------------------------------------------------------------

    def feed_states(self, urls: Iterable[str] | None = None) -> dict[str, FeedState]:
        q = sa.select(feeds)
        if urls is not None:
            q = q.where(feeds.c.url.in_(list(urls)))
        with self.engine.connect() as conn:
            return {r.url: FeedState(**r._asdict()) for r in conn.execute(q)}

    def save_feed_state(self, state: FeedState, conn: Connection | None = None) -> None:
        values = dict(vars(state))
        if conn is None:
            with self.engine.begin() as c:
                return self.save_feed_state(state, c)
        updated = conn.execute(feeds.update().where(feeds.c.url == state.url).values(values))
        if updated.rowcount == 0:
            conn.execute(feeds.insert().values(values))

    # -- articles ---------------------------------------------------------

    def add_articles(self, new: Sequence[Article], state: FeedState | None = None) -> int:
        """Insert the articles not stored yet (by id) and, in the same transaction,
        the feed's new fetch state. Returns how many were new."""
        with self.engine.begin() as conn:
            count = self._insert_new(conn, new)
            if state is not None:
                self.save_feed_state(state, conn)
        return count

    def known_article_ids(self, ids: Sequence[str], conn: Connection | None = None) -> set[str]:
        """Which of these article ids are stored already."""
        if conn is None:
            with self.engine.connect() as c:
                return self.known_article_ids(ids, c)
        known: set[str] = set()
        for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = list(ids[i : i + 500])
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
                     published=a.published, first_seen=a.first_seen or a.published, text=a.text, html=a.html)
            )
        if rows:
            conn.execute(articles.insert(), rows)
        return len(rows)

    def articles_between(self, since: datetime | None, until: datetime | None = None,
                         feed_urls: Iterable[str] | None = None) -> list[Article]:
        q = sa.select(articles).order_by(articles.c.published, articles.c.id)
        if since is not None:
            q = q.where(articles.c.published >= since)
        if until is not None:
            q = q.where(articles.c.published <= until)
        if feed_urls is not None:
            q = q.where(articles.c.feed_url.in_(list(feed_urls)))
        with self.engine.connect() as conn:
            return [Article(**r._asdict()) for r in conn.execute(q)]

    # -- issues -----------------------------------------------------------

    def last_issue_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(issues.c.created_at))).scalar()

    def sent_articles(self) -> dict[str, SentArticle]:
        """Every article that went out in an earlier issue, by article id."""
        q = sa.select(issue_articles.c.article_id, issue_articles.c.story_id, issues.c.id, issues.c.created_at).join(
            issues, issues.c.id == issue_articles.c.issue_id
        )
        with self.engine.connect() as conn:
            return {r[0]: SentArticle(r[0], r[1], r[2], r[3]) for r in conn.execute(q)}

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

    def record_issue(self, issue: Issue, subject: str, document: dict, *, html: str | None = None,
                     text: str | None = None) -> int:
        """Record the issue and what it placed, once per key; returns its id.

        Recording happens before delivery, so a crash between the two leaves
        pending deliveries to finish, never a second issue.
        """
        with self.engine.begin() as conn:
            existing = conn.execute(sa.select(issues.c.id).where(issues.c.key == issue.key)).scalar()
            if existing is not None:
                return existing
            issue_id = conn.execute(
                issues.insert().values(key=issue.key, created_at=issue.generated_at, subject=subject, document=document,
                                       html=html, text=text)
            ).inserted_primary_key[0]
            rows = []
            for b in issue.briefings:
                rows += [dict(issue_id=issue_id, article_id=a.id, story_id=b.story.id, placement="briefing") for a in b.story.articles]
            for item in issue.sidebar:
                if item.story is not None:
                    rows += [dict(issue_id=issue_id, article_id=a.id, story_id=item.story.id, placement="sidebar") for a in item.story.articles]
            if rows:
                unique = {r["article_id"]: r for r in rows}  # one placement per article
                conn.execute(issue_articles.insert(), list(unique.values()))
            return issue_id

    def issue_delivered(self, key: str, recipients: list[str]) -> bool:
        """Whether the issue with this key went to every one of these recipients."""
        issue_id = self.issue_id(key)
        if issue_id is None:
            return False
        status = self.delivery_status(issue_id)
        return all(status.get(r) == "sent" for r in recipients)

    # -- deliveries -------------------------------------------------------

    def delivery_status(self, issue_id: int) -> dict[str, str]:
        with self.engine.connect() as conn:
            q = sa.select(deliveries.c.recipient, deliveries.c.status).where(deliveries.c.issue_id == issue_id)
            return {r[0]: r[1] for r in conn.execute(q)}

    def mark_delivery(self, issue_id: int, recipient: str, *, message_id: str, status: str, transport: str,
                      location: str | None = None, error: str | None = None, at: datetime) -> None:
        values = dict(message_id=message_id, status=status, transport=transport, location=location, error=error, updated_at=at)
        with self.engine.begin() as conn:
            where = (deliveries.c.issue_id == issue_id) & (deliveries.c.recipient == recipient)
            if conn.execute(deliveries.update().where(where).values(values)).rowcount == 0:
                conn.execute(deliveries.insert().values(issue_id=issue_id, recipient=recipient, **values))


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the fetcher's writes
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
