"""full_text against hostile pages and links: limits keep the teaser and say so; article links reach only
public addresses unless the feed allows private ones; a missing extractor costs the full text, not the feed."""

from __future__ import annotations

import ipaddress
import logging
import sys
from datetime import datetime, timezone

import pytest
from feedserver import FeedServer
from feeds_for_tests import item, rss

from newsletter.clock import FixedClock
from newsletter.config import FetchSettings
from newsletter.ingest import fulltext, ingest_feeds, public
from newsletter.ingest.sanitize import MAX_ARTICLE_CHARS
from newsletter.models import FeedSource

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
SETTINGS = FetchSettings(timeout=3, connect_timeout=1, max_redirects=3)
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(words: str, paragraphs: int = 6) -> str:
    return ("<html><head><title>Story</title></head><body><article><h1>Story</h1>"
            + "".join(f"<p>Paragraph {i}: {words}</p>" for i in range(paragraphs)) + "</article></body></html>")


FERRY = "the Quillmoor harbour ferry will run every ten minutes from May, according to the port authority."


def teaser_feed(server: FeedServer, links: dict[str, str], path: str = "/teasers.xml") -> str:
    """A feed whose items (title -> link) carry one-line teasers, newest first."""
    items = [item(title, link, guid=f"tag:{title}", body=f"Teaser of {title}.",
                  date=f"Tue, 24 Nov 2026 {23 - n:02d}:00:00 GMT") for n, (title, link) in enumerate(links.items())]
    return server.add(path, rss(*items), headers=RSS)


def texts(store) -> dict[str, str]:
    return {a.title: a.text for a in store.articles_between(None)}


@pytest.mark.parametrize("address, public_", [
    ("93.184.215.14", True), ("2606:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.251", False),
    ("239.255.255.250", False), ("240.0.0.1", False), ("255.255.255.255", False),
    ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False), ("ff02::1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("2002:7f00:1::", False),  # mapped, 6to4
    ("64:ff9b::a00:1", False), ("64:ff9b::5db8:d70e", True),  # NAT64 of 10.0.0.1 and of a public address
])
def test_which_addresses_count_as_public(address, public_):
    assert public.is_public(ipaddress.ip_address(address)) is public_


def test_article_links_to_this_machine_are_refused_in_every_spelling(feed_server: FeedServer, store):
    """The feed itself is on 127.0.0.1 (named in the config: fetched); its article links are not."""
    secret = feed_server.add("/admin", page("internal salary table"), headers=HTML)
    port = feed_server.base_url.rsplit(":", 1)[1]
    spellings = {"plain": secret, "localhost": f"http://localhost:{port}/admin",
                 "decimal": f"http://2130706433:{port}/admin", "hex": f"http://0x7f.1:{port}/admin",
                 "mapped": f"http://[::ffff:127.0.0.1]:{port}/admin"}
    url = teaser_feed(feed_server, spellings)
    [report] = ingest_feeds([FeedSource(url=url, topic="T", full_text=True)], store, settings=SETTINGS,
                            clock=FixedClock(NOW))
    assert (report.status, report.new) == ("new", len(spellings))
    assert feed_server.hits("/admin") == 0
    assert all(text.startswith("Teaser of") for text in texts(store).values())
    assert report.notes == [f"full text: {len(spellings)} pages kept the teaser (refused: not a public address)"]


def test_allow_private_serves_an_intranet_feed(feed_server: FeedServer, store):
    story = feed_server.add("/intranet/story", page(FERRY), headers=HTML)
    url = teaser_feed(feed_server, {"Ferry": story})
    [report] = ingest_feeds([FeedSource(url=url, topic="T", full_text=True, allow_private=True)], store,
                            settings=SETTINGS, clock=FixedClock(NOW))
    assert "Paragraph 5: the Quillmoor harbour ferry" in texts(store)["Ferry"]
    assert report.notes == []


def test_a_redirect_from_a_public_page_into_a_private_one_is_refused(feed_server: FeedServer, store, monkeypatch):
    """127.0.0.1 stands in for the public internet here; 127.0.0.2 is the intranet."""
    real = public.is_public
    monkeypatch.setattr(public, "is_public", lambda ip: str(ip) == "127.0.0.1" or real(ip))
    with FeedServer(host="127.0.0.2") as intranet:
        inside = intranet.add("/hr", page("internal salary table"), headers=HTML)
        hop = feed_server.add("/outside", status=302, headers={"Location": inside})
        fine = feed_server.add("/fine", page(FERRY), headers=HTML)
        url = teaser_feed(feed_server, {"Bounce": hop, "Ferry": fine})
        [report] = ingest_feeds([FeedSource(url=url, topic="T", full_text=True)], store, settings=SETTINGS,
                                clock=FixedClock(NOW))
        assert feed_server.hits("/outside") == 1 and intranet.hits("/hr") == 0
    got = texts(store)
    assert got["Bounce"] == "Teaser of Bounce." and "Paragraph 5: the Quillmoor" in got["Ferry"]
    assert report.notes == ["full text: 1 page kept the teaser (refused: not a public address)"]


def test_the_connection_goes_to_the_address_that_was_checked(feed_server: FeedServer, store, monkeypatch):
    """The name is resolved once, by the check: a second lookup (a rebinding DNS answer) never happens.

    ``pinned.example`` resolves only through the check's lookup (to 127.0.0.1, counted as public here),
    so the page arriving proves the socket went to the checked address; the Host header keeps the name.
    """
    import socket

    real_lookup = socket.getaddrinfo
    lookups = []

    def lookup(host, port, *args, **kwargs):
        if host == "pinned.example":
            lookups.append(host)
            return real_lookup("127.0.0.1", port, *args, **kwargs)
        return real_lookup(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(public, "is_public", lambda ip: str(ip) == "127.0.0.1")
    feed_server.add("/pinned", page(FERRY), headers=HTML)
    port = feed_server.base_url.rsplit(":", 1)[1]
    url = teaser_feed(feed_server, {"Ferry": f"http://pinned.example:{port}/pinned"})
    ingest_feeds([FeedSource(url=url, topic="T", full_text=True)], store, settings=SETTINGS, clock=FixedClock(NOW))
    assert "Paragraph 5: the Quillmoor" in texts(store)["Ferry"]
    assert lookups == ["pinned.example"]
    [req] = [r for r in feed_server.requests if r.path == "/pinned"]
    assert req.headers["Host"] == f"pinned.example:{port}"


def test_pages_over_a_limit_keep_their_teasers_and_are_reported(feed_server: FeedServer, store):
    settings = SETTINGS.model_copy(update={"full_text_max_bytes": 32 * 1024, "full_text_pages_per_feed": 3})
    links = {
        "Ferry": feed_server.add("/ferry", page(FERRY), headers=HTML),
        "Huge page": feed_server.add("/huge", page(FERRY) + "<!--" + "x" * 64 * 1024 + "-->", headers=HTML),
        "Third": feed_server.add("/third", page(FERRY), headers=HTML),
        "Fourth": feed_server.add("/fourth", page(FERRY), headers=HTML),  # the oldest: past the 3 pages
    }
    url = teaser_feed(feed_server, links)
    [report] = ingest_feeds([FeedSource(url=url, topic="T", full_text=True, allow_private=True)], store,
                            settings=settings, clock=FixedClock(NOW))
    got = texts(store)
    assert (report.status, report.new) == ("new", 4)
    assert "Paragraph 5: the Quillmoor" in got["Ferry"] and "Paragraph 5: the Quillmoor" in got["Third"]
    assert got["Huge page"] == "Teaser of Huge page." and got["Fourth"] == "Teaser of Fourth."
    assert feed_server.hits("/fourth") == 0
    assert "full text: 1 page kept the teaser (over the 3 pages per feed per poll)" in report.notes
    assert "full text: 1 page kept the teaser (page over 32 KiB, [fetch] full_text_max_bytes)" in report.notes


def test_extracted_text_over_the_article_cap_keeps_the_teaser(feed_server: FeedServer, store):
    long_page = page("ferry " * (MAX_ARTICLE_CHARS // 30), paragraphs=6)  # about 1.2 x the cap in words
    url = teaser_feed(feed_server, {"Long read": feed_server.add("/long", long_page, headers=HTML)})
    [report] = ingest_feeds([FeedSource(url=url, topic="T", full_text=True, allow_private=True)], store,
                            settings=SETTINGS, clock=FixedClock(NOW))
    assert texts(store)["Long read"] == "Teaser of Long read."
    assert report.notes == [f"full text: 1 page kept the teaser (text over {MAX_ARTICLE_CHARS // 1000} K characters)"]


def test_the_polls_full_text_time_runs_out_for_all_feeds_together(feed_server: FeedServer, store):
    """A page that never answers within the poll's budget keeps its teaser; the feeds are stored all the same."""
    settings = SETTINGS.model_copy(update={"full_text_seconds": 0.3, "timeout": 60})
    hang = feed_server.add("/hang", page(FERRY), delay=60)
    one = teaser_feed(feed_server, {"Stuck": hang}, path="/one.xml")
    two = teaser_feed(feed_server, {"Stuck too": hang}, path="/two.xml")
    reports = ingest_feeds([FeedSource(url=u, topic="T", full_text=True, allow_private=True) for u in (one, two)],
                           store, settings=settings, clock=FixedClock(NOW))
    assert [(r.status, r.new) for r in reports] == [("new", 1), ("new", 1)]
    assert set(texts(store).values()) == {"Teaser of Stuck.", "Teaser of Stuck too."}
    assert all(r.notes == ["full text: 1 page kept the teaser (out of the poll's 0.3 s for full text)"] for r in reports)


def test_a_missing_extractor_costs_the_full_text_not_the_feed(feed_server: FeedServer, store, monkeypatch, caplog):
    """As on a partial install: importing trafilatura fails. Reported once for the run, every feed is stored."""
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # `import trafilatura` now raises ImportError
    fulltext._trafilatura.cache_clear()
    try:
        story = feed_server.add("/story", page(FERRY), headers=HTML)
        feeds = [teaser_feed(feed_server, {f"Ferry {n}": story}, path=f"/f{n}.xml") for n in range(2)]
        with caplog.at_level(logging.WARNING):
            reports = ingest_feeds([FeedSource(url=u, topic="T", full_text=True, allow_private=True) for u in feeds],
                                   store, settings=SETTINGS, clock=FixedClock(NOW))
    finally:
        fulltext._trafilatura.cache_clear()
    assert [(r.status, r.new) for r in reports] == [("new", 1), ("new", 1)]
    assert set(texts(store).values()) == {"Teaser of Ferry 0.", "Teaser of Ferry 1."}
    assert reports[0].notes == ["full text: 1 page kept the teaser (trafilatura cannot be imported)"]
    assert sum("full text unavailable" in r.message for r in caplog.records) == 1
