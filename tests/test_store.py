"""The store on both backends it promises: a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import newsletter.store as store_module
from newsletter.migrations import MIGRATIONS
from newsletter.models import Article, Bullet, Briefing, DeliveryStatus, Issue, SidebarItem, Story, TopicSection
from newsletter.pipeline import placements
from newsletter.store import FeedState, Store

from conftest import T0, article, run_cli

FEED = "https://fenwick.example/feed"
_db_names = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("postgres").database(f"t{next(_db_names)}")


def _article(n: int, outlet: str = "Fenwick Gazette", hours: int = 0) -> Article:
    return article(f"id-{n}", outlet=outlet, title=f"Title {n}", feed_url=FEED, published=T0 + timedelta(hours=hours),
                   text=f"Text {n} — with ünïcode", html=f"<p>Text {n}</p>", first_seen=T0)


def _issue(articles: list[Article], day: date = date(2026, 11, 24)) -> Issue:
    story = Story(articles=articles[:2], headline="Two outlets on one event")
    briefing = Briefing(story, "Headline", "Dek", [Bullet("b", [1])], [Bullet("w", [2])], [Bullet("l", [1])])
    side = SidebarItem("Side", "Blurb", articles[2].link, articles[2].outlet, Story([articles[2]], "Side"))
    return Issue("Test Brief", day, T0, [TopicSection("Tech", [briefing])], [side])


def test_schema_is_created_once_and_reopening_keeps_data(store_url):
    store = Store.open(store_url)
    assert store.add_articles([_article(1), _article(2)]) == 2
    store.close()
    again = Store.open(store_url)  # migrations must not run twice
    assert [a.id for a in again.articles_between(None)] == ["id-1", "id-2"]
    again.close()


def test_articles_are_stored_once_and_come_back_aware_utc(store_url):
    store = Store.open(store_url)
    state = FeedState(url=FEED, etag='"v1"', last_success_at=T0)
    assert store.add_articles([_article(1), _article(2, hours=5), _article(1)], state) == 2
    assert store.add_articles([_article(2, hours=5), _article(3, hours=9)]) == 1
    got = store.articles_between(T0 + timedelta(hours=1), T0 + timedelta(hours=10))
    assert [a.id for a in got] == ["id-2", "id-3"]
    assert got[0].published == T0 + timedelta(hours=5) and got[0].published.tzinfo is not None
    assert got[0].text == "Text 2 — with ünïcode"
    assert store.feed_states()[FEED].etag == '"v1"'
    store.close()


def _record(store: Store, issue: Issue, **email) -> int:
    email = {"subject": "Subject", "document": {"title": "Test Brief"}, "html": "<p>hi</p>", "text": "hi"} | email
    return store.record_issue(issue.key, created_at=T0, placements=placements(issue), **email)


def test_an_issue_is_recorded_once_per_day_and_its_articles_count_as_sent_once_delivered(store_url):
    store = Store.open(store_url)
    articles = [_article(n) for n in range(1, 4)]
    store.add_articles(articles)
    issue = _issue(articles)
    first = _record(store, issue)
    assert _record(store, issue) == first
    assert store.sent_articles() == {}  # recorded is not delivered: an issue nobody got leaves its news

    store.owe(first, ["a@example.org"], message_ids={"a@example.org": "<m@x>"}, transport="smtp", at=T0)
    assert not store.issue_delivered(issue.key, ["a@example.org"])
    store.mark_delivery(first, "a@example.org", status=DeliveryStatus.SENT, at=T0)
    assert store.issue_delivered(issue.key, ["a@example.org"])
    assert not store.issue_delivered(issue.key, ["a@example.org", "b@example.org"])
    sent = store.sent_articles()
    assert set(sent) == {"id-1", "id-2", "id-3"}
    assert sent["id-1"].story_id == issue.briefings[0].story.id
    store.close()


def test_the_demo_issue_sends_with_a_postgresql_store(postgres, demo, tmp_path):
    """The whole product on PostgreSQL: [store] url is the only change."""
    demo.write_text(demo.read_text().replace('url = "../var/newsletter.db"', f'url = "{postgres.url}"'))
    result = run_cli("send", "--config", str(demo), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == 2
    assert not (tmp_path / "var" / "newsletter.db").exists()
    engine = sa.create_engine(postgres.url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from articles")).scalar() == 32
        doc = conn.execute(sa.text("select document from issues")).scalar()
    engine.dispose()
    assert (json.loads(doc) if isinstance(doc, str) else doc)["title"] == "The Meridian Brief"


def test_a_store_from_before_migration_2_gains_the_email_columns(store_url):
    store = Store.open(store_url)
    with store.engine.begin() as conn:  # make it look like a store last opened by version 1
        for column in ("html", "text"):
            conn.execute(sa.text(f"ALTER TABLE issues DROP COLUMN {column}"))
        conn.execute(sa.text("DELETE FROM schema_migrations WHERE version = 2"))
    store.close()
    upgraded = Store.open(store_url)
    articles = [_article(n) for n in range(1, 4)]
    upgraded.add_articles(articles)
    issue = _issue(articles)
    _record(upgraded, issue)
    stored = upgraded.stored_email(issue.key)
    assert (stored.subject, stored.html, stored.text) == ("Subject", "<p>hi</p>", "hi")
    with upgraded.engine.connect() as conn:
        ran = {r[0] for r in conn.execute(sa.text("SELECT version FROM schema_migrations"))}
    assert ran == set(MIGRATIONS)
    upgraded.close()


def test_embeddings_are_kept_once_per_model_and_text_and_forgotten_with_old_articles(store_url):
    from newsletter.group.vectors import pack

    store = Store.open(store_url)
    a, b = pack([3.0, 4.0]), pack([0.0, 1.0])
    store.add_embeddings("m1", [("h1", 2, a), ("h2", 2, b)], T0)
    store.add_embeddings("m1", [("h1", 2, b), ("h3", 2, b)], T0 + timedelta(days=9))  # h1 stored meanwhile: kept
    store.add_embeddings("m2", [("h1", 2, b)], T0 + timedelta(days=9))  # another model: its own vector
    assert store.embeddings("m1", ["h1", "h3", "nope"]) == {"h1": (2, a), "h3": (2, b)}
    assert store.embedded("m2", ["h1", "h2"]) == {"h1"}
    store.forget_articles(T0 + timedelta(days=1))
    assert store.embedded("m1", ["h1", "h2", "h3"]) == {"h3"}
    store.close()


def test_a_new_store_opens_while_another_process_holds_the_file(tmp_path, monkeypatch):
    # SQLite switches a file to WAL without its busy handler: while another process writes to the new
    # file, the switch fails at once. Opening must wait for that writer, as every other step does.
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE other_process (n INTEGER)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO other_process VALUES (1)")
    waits = []
    real_sleep = store_module.time.sleep

    def other_process_commits(seconds):  # the writer finishes while we wait for it
        waits.append(seconds)
        if other.in_transaction:
            other.execute("COMMIT")
        real_sleep(seconds)

    monkeypatch.setattr(store_module.time, "sleep", other_process_commits)
    store = Store.open(f"sqlite:///{path}")
    try:
        assert waits, "the store opened without meeting the other process's lock"
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()
        other.close()


def test_the_services_a_store_keeps_are_the_latest_and_a_restart_loop_adds_no_more(store_url):
    # A service crashing and restarting every 30 s left a row a restart, for a month: 86,000 rows for
    # status to read. The latest KEPT_ROWS stay, the service writing now always among them.
    from newsletter.presence import KEPT, KEPT_ROWS

    store = Store.open(store_url)
    for n in range(KEPT_ROWS + 20):
        seen = store.service_seen(f"host:{n}:t", {"Test Brief": "d"}, worker=False, started_at=T0,
                                  at=T0 + timedelta(seconds=30 * n))
    assert len(seen) == KEPT_ROWS and f"host:{KEPT_ROWS + 19}:t" in {s.owner for s in seen}
    assert "host:0:t" not in {s.owner for s in store.services_seen()}  # the oldest went first
    later = store.service_seen("host:new:t", {"Test Brief": "d"}, worker=False, started_at=T0, at=T0 + KEPT * 2)
    assert [s.owner for s in later] == ["host:new:t"]  # nothing seen for a month is kept
    store.close()


def test_two_newsletters_retries_booked_at_once_are_both_kept(store_url):
    """One service, two newsletters due at one time, the mail server down: each send books its retry from its
    own thread. Each read the service's retries, added its own and wrote them back, so the second write put
    back what it had read before the first: one newsletter's retry was gone from status. Here the second
    booking is made between the first's read and its write."""
    import threading

    owner, at = "host:1:t", T0 + timedelta(hours=1)
    store = Store.open(store_url)
    try:
        store.service_seen(owner, {"Morning": "d", "Evening": "e"}, worker=False, started_at=T0, at=T0)
        meanwhile = []

        def book_the_other(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith("UPDATE SERVICES") and not meanwhile:
                meanwhile.append(threading.Thread(target=store.service_retry, args=(owner, "Evening", at)))
                meanwhile[0].start()
                meanwhile[0].join()

        sa.event.listen(store.engine, "before_cursor_execute", book_the_other)
        store.service_retry(owner, "Morning", at)
        sa.event.remove(store.engine, "before_cursor_execute", book_the_other)
        assert meanwhile, "the other booking was never made"
        [seen] = store.services_seen()
        assert seen.retries == {"Morning": at, "Evening": at}
    finally:
        store.close()


def test_a_read_only_store_file_is_to_be_made_writable_not_replaced(tmp_path, monkeypatch):
    # The fix said "give a writable file path": an empty store there would send today's issue again.
    from newsletter import store as store_module
    from newsletter.errors import StoreError

    path = tmp_path / "state.db"
    Store.open(f"sqlite:///{path}").close()
    real = os.access
    # Root writes any file the mode forbids, so a read-only mount or file is what the OS answers here.
    monkeypatch.setattr(store_module.os, "access", lambda p, mode: False if Path(p) == path else real(p, mode))
    with pytest.raises(StoreError) as e:
        Store.open(f"sqlite:///{path}")
    assert "is read-only" in str(e.value) and e.value.fix.startswith("make it writable again")
