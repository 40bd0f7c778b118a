"""What one entry can do to a feed: control characters, huge bodies, repeated GUIDs, too many entries,
and a store that refuses a row. Served from 127.0.0.1, stored in real SQLite files."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from feedserver import FeedServer
from feeds_for_tests import item, numbered, rss
from pydantic import ValidationError

from newsletter.clock import FixedClock
from newsletter.config import FeedEntry, FetchSettings
from newsletter.ingest import ingest_feeds
from newsletter.ingest.sanitize import MAX_ARTICLE_CHARS
from newsletter.models import FeedSource

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
SETTINGS = FetchSettings(timeout=3, connect_timeout=1)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
# C0 (but tab and newline), DEL, C1, bidi overrides and isolates
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def fetch(server_url: str, store, settings: FetchSettings = SETTINGS, **source):
    [report] = ingest_feeds([FeedSource(url=server_url, topic="T", **source)], store, settings=settings,
                            clock=FixedClock(NOW))
    return report


def test_control_and_bidi_characters_never_reach_an_article_or_a_feed_title(feed_server: FeedServer, store):
    hostile = "\x1b]0;owned\x07\x1b[2J\x00\x08\u202egnp.exe\u2066x\u2069\x85\x9b31m"
    body = f"<p>First{hostile} paragraph.</p><p>Second&#27;[2J paragraph\x00 &#x202E;here.</p>"
    feed = rss(item(f"Port{hostile} strike", f"https://news.example/a?x=1{hostile}", body=body),
               title=f"Wire{hostile} Daily")
    url = feed_server.add("/ctl.xml", feed, headers=RSS)
    report = fetch(url, store)
    assert (report.status, report.new) == ("new", 1)
    [a] = store.articles_between(None)
    for name in ("title", "text", "html", "outlet", "link"):
        assert not FORBIDDEN.search(getattr(a, name)), (name, getattr(a, name))
    assert a.title.startswith("Port]0;owned") and a.title.endswith("strike")
    assert a.outlet.startswith("Wire]0;owned") and report.outlet == a.outlet
    assert "\n" in a.text  # paragraphs keep their line breaks
    assert a.text.startswith("First]0;owned") and "Second[2J paragraph here." in a.text


def test_one_huge_entry_is_stored_capped(tmp_path, store):
    """A 3 MB body (local file, under the feed cap): the stored text stops at the article cap, HTML with it."""
    words = "The harbour board met again to discuss the dredging plan. " * 52_000
    feed = tmp_path / "huge.xml"
    feed.write_text(rss(item("Endless minutes", "https://news.example/minutes", body=f"<p>{words}</p>"),
                        item("Short note", "https://news.example/note")), encoding="utf-8")
    report = fetch(str(feed), store)
    assert (report.status, report.new) == ("new", 2)
    got = {a.title: a for a in store.articles_between(None)}
    huge = got["Endless minutes"]
    assert MAX_ARTICLE_CHARS // 2 < len(huge.text) <= MAX_ARTICLE_CHARS
    assert huge.text.startswith("The harbour board met again") and huge.text.split()[-1] in set(words.split())
    assert len(huge.html) <= MAX_ARTICLE_CHARS + 100 and huge.html.startswith("<p>") and huge.html.endswith("</p>")
    assert got["Short note"].text == "Body text."


def test_a_repeated_guid_does_not_bring_earlier_articles_back(feed_server: FeedServer, store):
    """Sent articles must stay known: an entry reusing a GUID, or a new neighbour, changes no other entry's id."""
    def story(title: str, slug: str, guid: str, hour: int) -> str:
        return item(title, f"https://news.example/{slug}", guid=guid, date=f"Tue, 24 Nov 2026 {hour:02d}:00:00 GMT")

    stories = [story(f"Story {i}", f"story/{i}", f"tag:{i}", i) for i in (3, 2, 1)]  # newest first
    url = feed_server.add("/guids.xml", rss(*stories), headers=RSS)
    assert fetch(url, store).new == 3
    ids = {a.title: a.id for a in store.articles_between(None)}
    # A newer entry reuses story 2's GUID, and two more share a fresh GUID between them.
    correction = story("Correction to story 2", "story/2-correction", "tag:2", 23)
    twins = [story(f"Twin {n}", f"twin/{n}", "tag:twins", 22) for n in (1, 2)]
    feed_server.add("/guids.xml", rss(correction, *twins, *stories), headers=RSS)
    assert fetch(url, store).new == 3  # the correction and the twins; stories 1-3 are known
    again = {a.title: a.id for a in store.articles_between(None)}
    assert {t: again[t] for t in ids} == ids and len(set(again.values())) == 6
    feed_server.add("/guids.xml", rss(story("Story 4", "story/4", "tag:4", 23), correction, *twins, *stories), headers=RSS)
    assert fetch(url, store).new == 1  # a new neighbour changes no id either


def test_only_the_newest_entries_are_taken(feed_server: FeedServer, store):
    settings = SETTINGS.model_copy(update={"max_entries_per_feed": 3})
    url = feed_server.add("/many.xml", numbered(10), headers=RSS)  # story i is dated i:i, so 8-10 are newest
    report = fetch(url, store, settings)
    assert (report.new, report.seen) == (3, 10)
    assert sorted(a.title for a in store.articles_between(None)) == [f"Story number {i}" for i in (10, 8, 9)]
    assert report.notes == ["took the newest 3 of 10 entries"]



def test_a_feeds_lasting_quirk_is_logged_once_not_at_every_poll(feed_server: FeedServer, store, caplog):
    """A soak with poll_minutes = 1 logged "took the newest 3 of 10 entries" (or "read as far as it goes") for
    the same healthy feed every poll, beside the poll's one line: a warning a minute, all day. The report
    keeps its notes each time; the log says it again only when the kind of note changes."""
    settings = SETTINGS.model_copy(update={"max_entries_per_feed": 3})
    url = feed_server.add("/many-each-poll.xml", numbered(10), headers=RSS)
    with caplog.at_level(logging.WARNING, logger="newsletter.ingest"):
        reports = [fetch(url, store, settings) for _ in range(3)]
        feed_server.add("/many-each-poll.xml", numbered(12), headers=RSS)  # more entries: the same kind of note
        reports.append(fetch(url, store, settings))
        feed_server.add("/many-each-poll.xml", numbered(2), headers=RSS)  # the quirk goes, then comes back
        reports.append(fetch(url, store, settings))
        feed_server.add("/many-each-poll.xml", numbered(10), headers=RSS)
        reports.append(fetch(url, store, settings))
    assert [r.notes for r in reports[:4]] == ([["took the newest 3 of 10 entries"]] * 3
                                              + [["took the newest 3 of 12 entries"]])
    said = [r.getMessage() for r in caplog.records if url in r.getMessage()]
    assert said == [f"{url}: took the newest 3 of 10 entries"] * 2, said

def test_the_entry_a_cut_breaks_off_waits_for_the_whole_feed(feed_server: FeedServer, store, tmp_path):
    """feedparser reads a cut feed's last entry as far as it goes: "Story number 3" was stored without its
    text, or a cut title ("Story num"), and kept so when the whole feed came, since its GUID was known."""
    whole = numbered(3)
    cut = whole[:whole.index("Text of story 3")]
    path = tmp_path / "cut.xml"
    path.write_text(cut, encoding="utf-8")
    served = feed_server.add("/cut-mid-entry.xml", whole, headers=RSS, cut_at=len(cut))
    for url in (str(path), served):
        report = fetch(url, store)
        assert (report.new, report.seen) == (2, 2), url
    path.write_text(whole, encoding="utf-8")
    feed_server.add("/cut-mid-entry.xml", whole, headers=RSS)
    for url in (str(path), served):
        assert fetch(url, store).new == 1
    texts = {a.title: a.text for a in store.articles_between(None) if a.feed_url == served}
    assert texts == {f"Story number {i}": f"Text of story {i}." for i in (1, 2, 3)}


def test_a_store_failure_is_logged_without_article_content(feed_server: FeedServer, store, monkeypatch, caplog):
    secret = "Confidential merger terms"
    url = feed_server.add("/fail.xml", rss(item(secret, "https://news.example/m", body=f"<p>{secret} text</p>")),
                          headers=RSS)

    def refuse(conn, articles):  # the database refuses the rows, quoting them, as PostgreSQL's driver does
        rows = [{"title": a.title, "text": a.text} for a in articles]
        raise sa.exc.DataError("INSERT INTO articles (title, text) VALUES (%(title)s, %(text)s)", rows,
                               ValueError(f"invalid byte sequence in {rows}"))

    monkeypatch.setattr(store, "_insert_new", refuse)
    with caplog.at_level(logging.DEBUG):
        report = fetch(url, store)
    assert (report.status, report.error) == ("failed", "could not store articles (DataError)")
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    assert url in logged and "DataError" in logged
    assert "Confidential" not in logged


@pytest.mark.parametrize("model, name", [(FetchSettings, n) for n in (
    "max_entries_per_feed", "full_text_max_bytes", "full_text_pages_per_feed", "full_text_seconds")])
def test_every_new_fetch_number_has_a_range(model, name):
    """Read from the schema itself: the bounds are accepted, one step outside them is refused."""
    bounds = {}
    for m in model.model_fields[name].metadata:
        for key in ("ge", "gt", "le", "lt"):
            if getattr(m, key, None) is not None:
                bounds[key] = getattr(m, key)
    assert ("ge" in bounds or "gt" in bounds) and ("le" in bounds or "lt" in bounds)
    low, high = bounds.get("ge", bounds.get("gt")), bounds.get("le", bounds.get("lt"))
    for edge, inclusive in ((low, "ge" in bounds), (high, "le" in bounds)):
        if inclusive:
            assert getattr(model(**{name: edge}), name) == edge
        else:
            with pytest.raises(ValidationError):
                model(**{name: edge})
    for bad in (low - 1, high + 1, 10**20):
        with pytest.raises(ValidationError):
            model(**{name: bad})


def test_allow_private_is_a_feed_setting():
    assert FeedEntry(url="https://intranet.example/feed", allow_private=True).allow_private
    with pytest.raises(ValidationError):
        FeedEntry(url="https://intranet.example/feed", allow_private="sometimes")


def test_dates_feedparser_cannot_read_are_read_and_dates_no_one_can_are_said(feed_server: FeedServer, store):
    """Unreadable and missing dates were stored as the fetch time, silently, and outranked dated articles."""
    now = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)
    dates = {
        "us": "Friday, November 27, 2026 6:00 AM EST",
        "slashed": "27/11/2026 10:00",  # 27 is no month: day first
        "rfc": "Thu, 26 Nov 2026 08:30:00 GMT",
        "ambiguous": "03/04/2026 10:00",  # 3 April or 4 March: not guessed
        "missing": None,
        "ahead": "Sat, 01 Jan 2028 00:00:00 GMT",
        "hours-ahead": "Sat, 28 Nov 2026 09:00:00 GMT",  # a zone mistake, not worth a note
    }
    feed = rss(*(item(f"Dated {key}", f"https://news.example/{key}", date=date) for key, date in dates.items()))
    url = feed_server.add("/dates.xml", feed, headers=RSS)
    [report] = ingest_feeds([FeedSource(url=url, topic="T")], store, settings=SETTINGS, clock=FixedClock(now))
    published = {a.link.rsplit("/", 1)[1]: a.published for a in store.articles_between(None)}
    assert published == {
        "us": datetime(2026, 11, 27, 11, 0, tzinfo=timezone.utc),
        "slashed": datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc),
        "rfc": datetime(2026, 11, 26, 8, 30, tzinfo=timezone.utc),
        "ambiguous": now, "missing": now, "ahead": now, "hours-ahead": now,
    }
    assert report.notes == ["2 entries without a readable date: first seen time used",
                            "1 entry dated more than a day ahead: first seen time used"]
