"""The store on both backends it promises: a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from newsletter.models import Article, Bullet, Briefing, Issue, SidebarItem, Story, TopicSection
from newsletter.store import FeedState, Store
from postgres_server import PostgresServer, find_bin

from conftest import REPO

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
_db_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres():
    if not find_bin("initdb"):
        pytest.skip("PostgreSQL server binaries not installed (.ci/run installs Debian's postgresql)")
    with PostgresServer() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    pg = request.getfixturevalue("postgres")
    name = f"t{next(_db_names)}"
    admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return pg.url.replace("/postgres?", f"/{name}?")


def _article(n: int, outlet: str = "Fenwick Gazette", hours: int = 0) -> Article:
    return Article(id=f"id-{n}", feed_url="https://fenwick.example/feed", outlet=outlet, title=f"Title {n}",
                   link=f"https://fenwick.example/{n}", published=T0 + timedelta(hours=hours),
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
    state = FeedState(url="https://fenwick.example/feed", etag='"v1"', last_success_at=T0)
    assert store.add_articles([_article(1), _article(2, hours=5), _article(1)], state) == 2
    assert store.add_articles([_article(2, hours=5), _article(3, hours=9)]) == 1
    got = store.articles_between(T0 + timedelta(hours=1), T0 + timedelta(hours=10))
    assert [a.id for a in got] == ["id-2", "id-3"]
    assert got[0].published == T0 + timedelta(hours=5) and got[0].published.tzinfo is not None
    assert got[0].text == "Text 2 — with ünïcode"
    assert store.feed_states()["https://fenwick.example/feed"].etag == '"v1"'
    store.close()


def test_an_issue_is_recorded_once_per_day_with_what_it_placed(store_url):
    store = Store.open(store_url)
    articles = [_article(n) for n in range(1, 4)]
    store.add_articles(articles)
    issue = _issue(articles)
    first = store.record_issue(issue, "Subject", {"title": "Test Brief"})
    assert store.record_issue(issue, "Subject", {"title": "Test Brief"}) == first
    sent = store.sent_articles()
    assert set(sent) == {"id-1", "id-2", "id-3"}
    assert sent["id-1"].story_id == issue.briefings[0].story.id

    store.mark_delivery(first, "a@example.org", message_id="<m@x>", status="pending", transport="smtp", at=T0)
    assert not store.issue_delivered(issue.key, ["a@example.org"])
    store.mark_delivery(first, "a@example.org", message_id="<m@x>", status="sent", transport="smtp", at=T0)
    assert store.issue_delivered(issue.key, ["a@example.org"])
    assert not store.issue_delivered(issue.key, ["a@example.org", "b@example.org"])
    store.close()


def test_the_demo_issue_sends_with_a_postgresql_store(postgres, tmp_path):
    """The whole product on PostgreSQL: [store] url is the only change."""
    from test_cli import newsletter

    shutil.copytree(REPO / "config", tmp_path / "config")
    cfg = tmp_path / "config" / "newsletter.toml"
    cfg.write_text(cfg.read_text().replace('url = "../var/newsletter.db"', f'url = "{postgres.url}"'))
    proc = newsletter("send", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
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
    issue = _issue(articles)
    upgraded.record_issue(issue, "Subject", {"title": "Test Brief"}, html="<p>hi</p>", text="hi")
    stored = upgraded.stored_email(issue.key)
    assert (stored.subject, stored.html, stored.text) == ("Subject", "<p>hi</p>", "hi")
    with upgraded.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(version) FROM schema_migrations")).scalar() == 2
    upgraded.close()
