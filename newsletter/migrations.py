"""Schema changes: append-only, numbered, each with its own DDL.

A migration describes the tables as they were at its version, never as they
are today (``schema.py``), so a store made by any release upgrades by running
the migrations it has not run, in order, with nothing to inspect. The
``schema_migrations`` table records which ran. Add a change as a new function
under a new version number in MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parseaddr

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newsletter.errors import StoreError
from newsletter.schema import UTCDateTime, schema_migrations


def _create_table(conn: Connection, name: str, *columns: sa.Column) -> None:
    """A table as a migration defines it, on its own metadata: never today's tables in schema.py."""
    table = sa.Table(name, sa.MetaData(), *columns)
    table.create(conn)


def _m1_initial(conn: Connection) -> None:
    m = sa.MetaData()  # one metadata for the five: the foreign keys name each other
    sa.Table(
        "feeds", m,
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("title", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_fetch_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
        sa.Column("next_fetch_after", UTCDateTime),
        sa.Column("gone", sa.Boolean, nullable=False, default=False),
    )
    sa.Table(
        "articles", m,
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
    sa.Table(
        "issues", m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(512), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )
    sa.Table(
        "issue_articles", m,
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("story_id", sa.String(32), nullable=False),
        sa.Column("placement", sa.String(16), nullable=False),
    )
    sa.Table(
        "deliveries", m,
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
        sa.Column("recipient", sa.String(512), primary_key=True),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    m.create_all(conn)


def _m2_issue_email(conn: Connection) -> None:
    """The rendered email, so a retry later the same day sends exactly what the others got."""
    conn.execute(sa.text("ALTER TABLE issues ADD COLUMN html TEXT"))
    conn.execute(sa.text("ALTER TABLE issues ADD COLUMN text TEXT"))


def _m3_issue_claims(conn: Connection) -> None:
    """One process at a time builds a day's issue."""
    _create_table(
        conn, "issue_claims",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
    )


def _m4_placed_article_index(conn: Connection) -> None:
    """Retention asks, per old article, whether an issue carries it."""
    conn.execute(sa.text("CREATE INDEX ix_issue_articles_article_id ON issue_articles (article_id)"))


def _m5_model_answers_and_usage(conn: Connection) -> None:
    """Model answers kept for reuse (a second preview, a send after a preview: no second bill), and
    what each issue's model calls cost."""
    _create_table(
        conn, "model_answers",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    for column in ("model_calls", "prompt_tokens", "completion_tokens"):
        conn.execute(sa.text(f"ALTER TABLE issues ADD COLUMN {column} INTEGER"))


def _m6_unsubscriptions(conn: Connection) -> None:
    """Who left which newsletter by its one-click link: send and run skip them until `resubscribe`."""
    _create_table(
        conn, "unsubscriptions",
        sa.Column("newsletter", sa.String(512), primary_key=True),
        sa.Column("address", sa.String(512), primary_key=True),
        sa.Column("unsubscribed_at", UTCDateTime, nullable=False),
    )


def _m7_delivery_owner(conn: Connection) -> None:
    """Who holds a recipient's "sending" claim (host:pid:thread), so a restart on the same host can
    tell a claim left by a killed process (resend now) from one still in flight (wait for the lease);
    and feed leases, so workers sharing a store poll each feed once per interval (``run --worker``)."""
    conn.execute(sa.text("ALTER TABLE deliveries ADD COLUMN claimed_by VARCHAR(128)"))
    _create_table(
        conn, "feed_leases",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("owner", sa.String(128)),
        sa.Column("leased_until", UTCDateTime),
        sa.Column("polled_at", UTCDateTime),
    )


def _m8_article_language(conn: Connection) -> None:
    """Each article's language (a BCP-47 primary subtag, or NULL), so the extractive writer reads it by
    its own stop words, stems and sentence ends. Articles stored before stay NULL: read as before."""
    conn.execute(sa.text("ALTER TABLE articles ADD COLUMN language VARCHAR(16)"))


def _m9_embeddings(conn: Connection) -> None:
    """Embeddings kept in the store, by model and text hash: each article is embedded once, at fetch
    time, and an issue's grouping reads them instead of embedding the day's news again."""
    _create_table(
        conn, "embeddings",
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("text_sha256", sa.String(64), primary_key=True),
        sa.Column("dims", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def _m10_deliveries_by_mailbox(conn: Connection) -> None:
    """Deliveries kept by mailbox, not by the spelling a send was given: each row's recipient becomes
    its addr-spec, case-folded, so "Eve <eve@x.example>" and "EVE@x.example", recorded by earlier
    releases as two recipients of one issue, are one; a later send finds her served. Rows of one
    mailbox become one row: a "sent" one if any (she has it), else a "sending" one (a message may be
    in flight), else the latest. Its Message-ID is kept, so a resend still carries the same."""
    def key(spelling: str) -> str:  # addresses.mailbox_key as this version wrote it; that one may change
        local, _, domain = (parseaddr(spelling)[1] or spelling.strip()).rpartition("@")
        return f"{local.casefold()}@{domain.lower()}"

    columns = "issue_id, recipient, message_id, status, transport, location, error, updated_at, claimed_by"
    rows = conn.execute(sa.text(f"SELECT {columns} FROM deliveries")).mappings().all()
    mailboxes: dict[tuple[int, str], list[dict]] = {}
    for row in sorted(rows, key=lambda r: r["updated_at"], reverse=True):  # latest first
        mailboxes.setdefault((row["issue_id"], key(row["recipient"])), []).append(dict(row))
    rank = {"sent": 0, "sending": 1}
    for (issue_id, mailbox), same in mailboxes.items():
        if len(same) == 1 and same[0]["recipient"] == mailbox:
            continue
        kept = min(same, key=lambda r: rank.get(r["status"], 2))  # the first of its rank: the latest
        for row in same:
            conn.execute(sa.text("DELETE FROM deliveries WHERE issue_id = :issue_id AND recipient = :recipient"),
                         {"issue_id": issue_id, "recipient": row["recipient"]})
        conn.execute(sa.text(f"INSERT INTO deliveries ({columns}) VALUES (:{columns.replace(', ', ', :')})"),
                     {**kept, "recipient": mailbox})


def _m11_feed_failing_since(conn: Connection) -> None:
    """When a feed's current run of failures began, so status can say since when it fails (a feed that
    never worked has no last success to tell it by). Feeds failing at the upgrade stay NULL: unknown."""
    kind = sa.DateTime().compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE feeds ADD COLUMN failing_since {kind}"))


def _m12_issue_uncounted_calls(conn: Connection) -> None:
    """How many of an issue's model calls came back without token counts (some local servers send
    none), so that status does not show their tokens as nothing. Issues before it stay NULL: unknown."""
    conn.execute(sa.text("ALTER TABLE issues ADD COLUMN model_calls_uncounted INTEGER"))


def _m13_services(conn: Connection) -> None:
    """The `newsletter run` processes using the store, each seen at work every minute."""
    _create_table(
        conn, "services",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("newsletters", sa.Text, nullable=False),
        sa.Column("worker", sa.Boolean, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.Column("stopped_at", UTCDateTime),
    )


def _m14_issue_unanswered_calls(conn: Connection) -> None:
    """How many of an issue's model calls got no answer (a timeout, a 5xx after its retries), so that
    status says what the run report says. Issues before it stay NULL: unknown."""
    conn.execute(sa.text("ALTER TABLE issues ADD COLUMN model_calls_unanswered INTEGER"))


def _m15_service_retries(conn: Connection) -> None:
    """The send retries a running service has booked, by newsletter, so that status says when owed
    recipients get today's issue: the retry lives in the service's scheduler, out of status's sight."""
    conn.execute(sa.text("ALTER TABLE services ADD COLUMN retries TEXT"))


def _m16_service_configs(conn: Connection) -> None:
    """A digest of each newsletter's config as a running service read it at its start, so that status can
    say the file was edited since: the service reads it at start only."""
    conn.execute(sa.text("ALTER TABLE services ADD COLUMN configs TEXT"))


# Version -> migration. A version number is given out once and never reused; they run in order.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _m1_initial,
    2: _m2_issue_email,
    3: _m3_issue_claims,
    4: _m4_placed_article_index,
    5: _m5_model_answers_and_usage,
    6: _m6_unsubscriptions,
    7: _m7_delivery_owner,
    8: _m8_article_language,
    9: _m9_embeddings,
    10: _m10_deliveries_by_mailbox,
    11: _m11_feed_failing_since,
    12: _m12_issue_uncounted_calls,
    13: _m13_services,
    14: _m14_issue_unanswered_calls,
    15: _m15_service_retries,
    16: _m16_service_configs,
}


MIGRATION_LOCK = 0x6E657773  # PostgreSQL advisory lock id: one process migrates at a time


def migrate(conn: Connection) -> list[int]:
    """Run the migrations this store has not run; returns their versions. A store a newer release has
    migrated is refused (StoreError): this release would write rows its tables no longer take.

    Two processes opening a new store at once (a cron send beside the service) must not both
    create its tables: the first takes the database's write lock, the second waits and then
    finds the work done.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
    schema_migrations.create(conn, checkfirst=True)
    done = {r[0] for r in conn.execute(sa.select(schema_migrations.c.version))}
    if (newest := max(done, default=0)) > max(MIGRATIONS):
        raise StoreError(f"it was written by a newer release (schema version {newest}; this one knows up to "
                         f"{max(MIGRATIONS)}), which an older one cannot safely write",
                         "upgrade newsletter to the release that wrote it (a downgrade is not supported), or give "
                         "[store] url a new file to start an empty store.")
    ran = []
    for version, migration in sorted(MIGRATIONS.items()):
        if version not in done:
            migration(conn)
            conn.execute(schema_migrations.insert().values(version=version, applied_at=datetime.now(timezone.utc)))
            ran.append(version)
    return ran
