"""The store's tables as they are now, for queries. How they came to be is ``migrations.py``."""

from __future__ import annotations

from datetime import timezone

import sqlalchemy as sa


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


metadata = sa.MetaData()

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
    sa.Column("failing_since", UTCDateTime),  # the first failure of the current run of them; NULL while it works
)

articles = sa.Table(
    "articles", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("feed_url", sa.String(2048), nullable=False),
    sa.Column("outlet", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("language", sa.String(16)),  # BCP-47 primary subtag, NULL when unknown (migration 8)
)

issues = sa.Table(
    "issues", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(512), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),  # the structured issue, as in preview's FILE.json
    sa.Column("html", sa.Text),  # the rendered email: a retry later that day sends exactly what the others got
    sa.Column("text", sa.Text),
    sa.Column("model_calls", sa.Integer),  # what writing it cost (migration 5); NULL before then
    sa.Column("prompt_tokens", sa.Integer),
    sa.Column("completion_tokens", sa.Integer),
    # Calls whose answer carried no token counts, held to the budget at an estimate (migration 12).
    sa.Column("model_calls_uncounted", sa.Integer),
    sa.Column("model_calls_unanswered", sa.Integer),  # calls that got no answer (migration 14)
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
    sa.Column("status", sa.String(16), nullable=False),  # a DeliveryStatus
    sa.Column("transport", sa.String(16), nullable=False),
    sa.Column("location", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("claimed_by", sa.String(128)),  # host:pid:thread of the "sending" claim (migration 7)
)

# Model answers by key (model, prompt version, the cited sources' contents), for reuse (migration 5).
model_answers = sa.Table(
    "model_answers", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The right to build one day's issue, held by one process at a time (migration 3).
issue_claims = sa.Table(
    "issue_claims", metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
)

# Addresses that unsubscribed from a newsletter (its title) by their one-click link (migration 6).
unsubscriptions = sa.Table(
    "unsubscriptions", metadata,
    sa.Column("newsletter", sa.String(512), primary_key=True),
    sa.Column("address", sa.String(512), primary_key=True),  # the lower-cased address, as tokens name it
    sa.Column("unsubscribed_at", UTCDateTime, nullable=False),
)

# Which worker polls which feed, until when, and when each was last polled (migration 7, `run --worker`).
feed_leases = sa.Table(
    "feed_leases", metadata,
    sa.Column("url", sa.String(2048), primary_key=True),
    sa.Column("owner", sa.String(128)),
    sa.Column("leased_until", UTCDateTime),
    sa.Column("polled_at", UTCDateTime),
)

# Semantic grouping's vectors, by embeddings model and the sha256 of the exact text embedded, computed
# once at fetch time (migration 9). Unit length, little-endian float16: half the bytes of float32 and
# the same stories (BENCHMARKS.md, Grouping).
embeddings = sa.Table(
    "embeddings", metadata,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("text_sha256", sa.String(64), primary_key=True),
    sa.Column("dims", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),  # retention: forgotten with the articles of that age
)

# Each `newsletter run` that used the store, and when it was last seen at work (migration 13), so that
# status can say whether the service runs and a second `run` for the same newsletter hears of the first.
services = sa.Table(
    "services", metadata,
    sa.Column("owner", sa.String(128), primary_key=True),  # host:pid:token (presence.service_owner)
    sa.Column("newsletters", sa.Text, nullable=False),  # the titles it serves, as a JSON list
    sa.Column("worker", sa.Boolean, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.Column("stopped_at", UTCDateTime),  # a clean stop; NULL while it runs, or when it was killed
    # Its booked send retries, as JSON {newsletter title: ISO 8601 time} (migration 15); NULL: none.
    sa.Column("retries", sa.Text),
    # What each newsletter's config was at its start, as JSON {title: presence.config_digest} (migration 16).
    sa.Column("configs", sa.Text),
)
