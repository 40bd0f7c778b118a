"""Local feed files, check's probe, full-text pages, and canonical links as a reader sees them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from feedserver import FeedServer
from feeds_for_tests import item, numbered, rss

from newsletter.clock import FixedClock
from newsletter.config import FetchSettings
from newsletter.ingest import ingest_feeds, probe_feeds
from newsletter.ingest.links import canonical_link
from newsletter.models import FeedSource
from newsletter.store import Store

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
SETTINGS = FetchSettings(timeout=3, connect_timeout=1, max_bytes=64 * 1024)
RSS = {"Content-Type": "application/rss+xml"}



def test_local_file_is_read_once_until_it_changes(tmp_path, store):
    feed = tmp_path / "local.xml"
    feed.write_text(numbered(3), encoding="utf-8")
    src = [FeedSource(url=str(feed), topic="T")]
    first = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    again = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    feed.write_text(numbered(4), encoding="utf-8")
    changed = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert [(r.status, r.new) for r in (first[0], again[0], changed[0])] == [("new", 3), ("unchanged", 0), ("new", 1)]
    assert first[0].outlet == "Test Wire"


def test_local_file_over_the_cap_or_missing_fails_alone(tmp_path, store):
    big = tmp_path / "big.xml"
    big.write_text(numbered(1) + "<!--" + "x" * 70_000 + "-->", encoding="utf-8")
    ok = tmp_path / "ok.xml"
    ok.write_text(numbered(2), encoding="utf-8")
    sources = [FeedSource(url=str(p), topic="T") for p in (big, tmp_path / "missing.xml", ok)]
    reports = ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert [(r.status, r.error) for r in reports] == [
        ("failed", "file over the 64 KiB cap ([fetch] max_bytes; raise it for a bigger feed)"), ("failed", "file not found"), ("new", None)]
    assert len(store.articles_between(None)) == 2


def test_probe_reports_without_storing(feed_server: FeedServer, store):
    good = feed_server.add("/p.xml", numbered(4), headers=RSS)
    gone = feed_server.add("/g.xml", status=410)
    reports = probe_feeds([FeedSource(url=good, topic="T"), FeedSource(url=gone, topic="T")],
                          settings=SETTINGS, clock=FixedClock(NOW))
    assert [(r.status, r.seen, r.error) for r in reports] == [("new", 4, None), ("gone", 0, "gone (HTTP 410): disabled")]
    assert store.articles_between(None) == [] and store.feed_states() == {}


def test_full_text_replaces_teasers_with_the_page_text(feed_server: FeedServer, store):
    page = ("<html><head><title>Ferry</title></head><body><nav>Home | News</nav><article><h1>Ferry timetable</h1>"
            + "".join(f"<p>Paragraph {i} of the full report on the Quillmoor harbour ferry, which will run "
                      f"every ten minutes from May according to the port authority.</p>" for i in range(6))
            + "</article><footer>Copyright</footer></body></html>")
    article_url = feed_server.add("/story/ferry", page, headers={"Content-Type": "text/html; charset=utf-8"})
    broken_url = feed_server.url("/story/missing")
    feed = rss(item("Ferry timetable", article_url, body="Teaser only."),
               item("Broken page", broken_url, body="Another teaser."))
    url = feed_server.add("/teasers.xml", feed, headers=RSS)
    [report] = ingest_feeds([FeedSource(url=url, topic="T", full_text=True, allow_private=True)], store, settings=SETTINGS,
                            clock=FixedClock(NOW))
    assert (report.status, report.new) == ("new", 2)
    texts = {a.title: a.text for a in store.articles_between(None)}
    assert "Paragraph 5 of the full report" in texts["Ferry timetable"]
    assert "Copyright" not in texts["Ferry timetable"]
    assert texts["Broken page"] == "Another teaser."
    # a second fetch does not download pages of articles already stored
    ingest_feeds([FeedSource(url=url, topic="T", full_text=True, allow_private=True)], store, settings=SETTINGS, clock=FixedClock(NOW))
    assert feed_server.hits("/story/ferry") == 1


@pytest.mark.parametrize("raw, canonical", [
    ("https://news.example/a?utm_source=x&utm_campaign=y&id=3#frag", "https://news.example/a?id=3"),
    ("https://News.Example:443/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "https://news.example/a"),
    ("http://news.example:8080/a?b=1&a=2", "http://news.example:8080/a?b=1&a=2"),
    ("http://[2001:DB8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
    ("javascript:alert(1)", ""),
    ("data:text/html,hi", ""),
    ("/relative/only", ""),
    ("https://user:pw@news.example/a", ""),
])
def test_canonical_links(raw, canonical):
    assert canonical_link(raw) == canonical


def test_same_story_with_different_tracking_is_one_article(feed_server: FeedServer, store):
    one = feed_server.add("/t1.xml", rss(item("Story", "https://news.example/s?utm_source=rss")), headers=RSS)
    [r1] = ingest_feeds([FeedSource(url=one, topic="T")], store, settings=SETTINGS, clock=FixedClock(NOW))
    feed_server.add("/t1.xml", rss(item("Story", "https://news.example/s?utm_source=twitter#top")), headers=RSS)
    [r2] = ingest_feeds([FeedSource(url=one, topic="T")], store, settings=SETTINGS, clock=FixedClock(NOW))
    assert (r1.new, r2.new) == (1, 0)
    assert [a.link for a in store.articles_between(None)] == ["https://news.example/s"]


def test_worker_processes_store_the_same_articles_as_in_process_parsing(feed_server: FeedServer, tmp_path, monkeypatch):
    from functools import partial

    import newsletter.ingest.run as run
    from newsletter.ingest.workers import ParsePool

    urls = [feed_server.add(f"/w{i}.xml", numbered(6, start=10 * i), headers=RSS) for i in range(4)]
    sources = [FeedSource(url=u, topic="T") for u in urls]
    results = []
    for after in (10**12, 0):  # never, then always in worker processes
        monkeypatch.setattr(run, "ParsePool", partial(ParsePool, parallel_after=after))
        store = Store.open(f"sqlite:///{tmp_path / f'w{after}.db'}")
        reports = ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW))
        assert [r.new for r in reports] == [6, 6, 6, 6]
        results.append([(a.id, a.title, a.link, a.published, a.text, a.html) for a in store.articles_between(None)])
        store.close()
    assert results[0] == results[1]


def test_ingest_can_be_called_from_async_code(feed_server: FeedServer, store):
    import asyncio

    url = feed_server.add("/async.xml", numbered(2), headers=RSS)

    async def caller():
        return ingest_feeds([FeedSource(url=url, topic="T")], store, settings=SETTINGS, clock=FixedClock(NOW))

    [r] = asyncio.run(caller())
    assert (r.status, r.new) == ("new", 2)


def test_a_run_of_failures_older_than_the_record_of_its_start_stays_unknown(tmp_path, store):
    """A feed already failing when the store learnt to keep failing_since got "failing since today"
    at its next failure, beside "last worked" weeks before."""
    from dataclasses import replace

    source = FeedSource(url=str(tmp_path / "missing.xml"), topic="Local")
    settings = FetchSettings(timeout=3, connect_timeout=1)
    ingest_feeds([source], store, settings=settings, clock=FixedClock(NOW))
    [first] = store.feed_states([source.url]).values()
    assert first.consecutive_failures == 1 and first.failing_since == NOW  # a new run: it began now
    store.save_feed_state(replace(first, failing_since=None))  # as a store upgraded mid-run holds it
    ingest_feeds([source], store, settings=settings, clock=FixedClock(NOW.replace(hour=NOW.hour + 1)))
    [later] = store.feed_states([source.url]).values()
    assert later.consecutive_failures == 2 and later.failing_since is None


def test_a_store_that_stops_taking_writes_mid_poll_fails_each_feed_in_one_line_without_a_traceback(
        tmp_path, store, caplog):
    import logging

    import sqlalchemy as sa

    read, changed = tmp_path / "read.xml", tmp_path / "changed.xml"
    for feed in (read, changed):
        feed.write_text(numbered(2), encoding="utf-8")
    sources = [FeedSource(url=str(p), topic="T") for p in (read, changed)]
    ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW))
    changed.write_text(numbered(3), encoding="utf-8")
    # From here SQLite refuses every write, as it does for a file made read-only under a running service.
    sa.event.listen(store.engine, "connect", lambda conn, _: conn.execute("PRAGMA query_only = ON"))
    store.engine.dispose()
    with caplog.at_level(logging.WARNING):
        reports = ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert [(r.status, r.error) for r in reports] == [
        ("failed", "the store refused a write: attempt to write a readonly database")] * 2
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
