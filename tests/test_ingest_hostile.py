"""The real web, served from 127.0.0.1: every broken case ends as a one-line report, never a crash,
and the healthy feeds in the same run are stored."""

from __future__ import annotations

import gzip
import itertools
from datetime import datetime, timezone

import pytest
from feedserver import FeedServer, Response
from feeds_for_tests import item, numbered, rss

from newsletter.clock import FixedClock
from newsletter.config import FetchSettings
from newsletter.ingest import ingest_feeds, probe_feeds
from newsletter.models import FeedSource
from newsletter.store import Store

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
SETTINGS = FetchSettings(timeout=1.5, connect_timeout=1, max_bytes=256 * 1024, max_redirects=3, concurrency=16)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}



def by_feed(store: Store) -> dict[str, list]:
    out: dict[str, list] = {}
    for a in store.articles_between(None):
        out.setdefault(a.feed_url, []).append(a)
    return out


def test_every_hostile_case_in_one_run(feed_server: FeedServer, store: Store):
    s = feed_server
    latin1 = rss(item("Café crème prices rise", "https://wire.example/cafe")).encode("latin-1")
    no_charset = latin1.replace(b' encoding="utf-8"', b"")
    utf16 = rss(item("Zürich tram strike ends", "https://wire.example/zurich")).replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    routes = {
        "good": s.add("/good.xml", numbered(3), headers=RSS),
        "bozo": s.add("/bozo.xml", rss(item("Fish & chips", "https://wire.example/fish"), item("Second <b>bold", "https://wire.example/2")).replace("&amp;", "&")[:-len("</channel></rss>")], headers=RSS),
        "latin1": s.add("/latin1.xml", latin1, headers=RSS),
        "nocharset": s.add("/nocharset.xml", no_charset, headers={"Content-Type": "text/xml"}),
        "utf16": s.add("/utf16.xml", utf16, headers={"Content-Type": "application/xml"}),
        "html": s.add("/page.html", "<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>", headers={"Content-Type": "text/html"}),
        "empty": s.add("/empty.xml", b"", headers=RSS),
        "404": s.url("/nowhere.xml"),
        "500": s.add("/broken.xml", "oops", status=500),
        "timeout": s.add("/hang.xml", numbered(1), delay=10),
        "drip": s.add("/drip.xml", chunks=itertools.repeat(b"<!-- . -->"), chunk_delay=0.1, headers=RSS),
        "endless": s.add("/endless.xml", chunks=itertools.repeat(b"<!--" + b"x" * 8000 + b"-->"), headers=RSS),
        "bomb": s.add("/bomb.xml", bomb, headers={**RSS, "Content-Encoding": "gzip"}),
        "loop": s.add("/loop-a", status=302, headers={"Location": "/loop-b"}),
        "path": s.add("/path.xml", b"/etc/hostname", headers=RSS),  # a body that looks like a file name
        # The server promises a body and hangs up before any of it: httpx's reason is longer than a report's.
        "closed": s.add("/closed.xml", numbered(20), headers={**RSS, "Content-Length": "999999"}, cut_at=0),
        # Hung up before a whole entry: nothing to read. Hung up past the cap: the cap is said, not the cut.
        "cuthead": s.add("/cut-head.xml", numbered(3), headers=RSS, cut_at=numbered(3).index("</item>")),
        "cutbig": s.add("/cut-big.xml", numbered(3000), headers=RSS, cut_at=300 * 1024),
    }
    s.add("/loop-b", status=302, headers={"Location": "/loop-a"})
    sources = [FeedSource(url=u, topic="T") for u in routes.values()]
    seen_progress = []
    reports = ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW), progress=seen_progress.append)
    r = dict(zip(routes, reports))
    assert [x.url for x in reports] == list(routes.values())  # one report per source, in config order
    assert len(seen_progress) == len(sources)

    stored = by_feed(store)
    assert r["good"].status == "new" and r["good"].new == 3 and len(stored[routes["good"]]) == 3
    assert r["bozo"].status == "new" and r["bozo"].new >= 1
    assert any("Fish" in a.title for a in stored[routes["bozo"]])
    assert [a.title for a in stored[routes["latin1"]]] == ["Café crème prices rise"]
    assert [a.title for a in stored[routes["nocharset"]]] == ["Café crème prices rise"]
    assert [a.title for a in stored[routes["utf16"]]] == ["Zürich tram strike ends"]

    expected_errors = {
        "html": "not a feed (HTML page)",
        "empty": "empty response",
        "404": "HTTP 404 Not Found",
        "500": "HTTP 500 Internal Server Error",
        "timeout": "timed out after 1.5 s",
        "drip": "timed out after 1.5 s",
        "endless": "body over the 256 KiB cap ([fetch] max_bytes; raise it for a bigger feed)",
        "bomb": "body over the 256 KiB cap ([fetch] max_bytes; raise it for a bigger feed)",
        "loop": "too many redirects (over [fetch] max_redirects = 3; a redirect loop?)",
        "cuthead": ("connection failed (peer closed connection without sending complete message body "
                    "(received 367 byte…)"),
        "cutbig": "body over the 256 KiB cap ([fetch] max_bytes; raise it for a bigger feed)",
    }
    for key, error in expected_errors.items():
        assert (r[key].status, r[key].error) == ("failed", error), key
    assert r["path"].status == "failed" and r["path"].error.startswith("not a feed")
    # It was cut at 80 characters without a mark: "...message body (received 9227 byte)" read as whole.
    assert r["closed"].status == "failed" and r["closed"].error.startswith("connection failed (peer closed")
    assert r["closed"].error.endswith("…)"), r["closed"].error
    for key in expected_errors:
        assert routes[key] not in stored

    states = store.feed_states()
    assert states[routes["404"]].consecutive_failures == 1
    assert states[routes["404"]].last_error == "HTTP 404 Not Found"
    assert states[routes["good"]].last_success_at == NOW and states[routes["good"]].consecutive_failures == 0


@pytest.mark.parametrize("how", ["content-length", "chunked", "reset", "stalled"])
def test_a_feed_the_server_cuts_off_is_read_as_far_as_it_goes_and_asked_for_whole_again(
        feed_server: FeedServer, store: Store, how):
    """A server that hung up mid-body, reset the connection or stalled past [fetch] timeout failed the feed
    at every poll ("never worked"): nothing of what arrived was read. Its validators belong to the whole
    body: stored, the next poll would get a 304."""
    whole = numbered(5).replace("<item>", "\n<item>").encode()  # an item a line: the 4th is on line 6
    cut = whole.index(b"<item>", whole.index(b"Story number 3")) + len("<it")
    validators = {**RSS, "ETag": '"v1"', "Last-Modified": "Tue, 24 Nov 2026 12:00:00 GMT"}
    def first():
        return {
            "content-length": lambda: Response(200, whole, validators, cut_at=cut),
            "chunked": lambda: Response(200, headers=validators, chunks=[whole[:cut - 100], whole[cut - 100:]],
                                        cut_at=cut),
            "reset": lambda: Response(200, whole, validators, cut_at=cut, reset=True),
            # Then nothing until the client gives up (empty chunks are not sent).
            "stalled": lambda: Response(200, headers=validators, chunk_delay=0.05,
                                        chunks=itertools.chain([whole[:cut]], itertools.repeat(b""))),
        }[how]()
    answers = iter([first(), first(), Response(200, whole, validators)])  # `check`, then two polls

    def serve(req):
        return Response(304, headers=validators) if req.headers.get("If-None-Match") == '"v1"' else next(answers)

    url = feed_server.add("/cut.xml", handler=serve)
    src = [FeedSource(url=url, topic="T")]
    why = "transfer timed out after 1.5 s ([fetch] timeout)" if how == "stalled" else "transfer cut off by the server"
    said = f"{why}: not well-formed XML at line 6 (unclosed token): read as far as it goes"
    [probed] = probe_feeds(src, settings=SETTINGS, clock=FixedClock(NOW))  # `check`
    assert (probed.status, probed.seen, probed.error) == ("failed", 3, said)

    [r] = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert (r.status, r.new, r.seen, r.error) == ("failed", 3, 3, said)
    assert sorted(a.title for a in store.articles_between(None)) == [f"Story number {i}" for i in (1, 2, 3)]
    st = store.feed_states()[url]
    assert (st.etag, st.last_modified, st.consecutive_failures, st.last_error) == (None, None, 1, said)

    [again] = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW.replace(minute=10)))
    asked = feed_server.requests[-1].headers
    assert asked["If-None-Match"] is None and asked["If-Modified-Since"] is None  # unconditional
    assert (again.status, again.new, again.error) == ("new", 2, None)  # the rest, once sent whole
    assert len(store.articles_between(None)) == 5
    st = store.feed_states()[url]
    assert (st.etag, st.consecutive_failures) == ('"v1"', 0)
    [then] = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW.replace(minute=20)))
    assert then.status == "unchanged"  # validators of a whole body are used as ever


def test_entries_with_gaps_duplicates_future_dates_and_hostile_html(feed_server: FeedServer, store: Store):
    body = rss(
        item("Dup one", "https://wire.example/one", guid="same-guid"),
        item("Dup two", "https://wire.example/two", guid="same-guid"),
        item("No date", "https://wire.example/nodate", date=None),
        item(None, "https://wire.example/notitle", body="<p>The harbour ferry will run every ten minutes from May, the port authority said on Monday in a statement.</p>"),
        item("No link", None, body="<p>Linkless but worth reading.</p>"),
        item("From the future", "https://wire.example/future", date="Fri, 01 Jan 2100 00:00:00 GMT"),
        item("Tracked", "https://wire.example/tracked?id=4&utm_source=rss&utm_medium=feed&fbclid=abc&gclid=x&mc_cid=1#comments"),
        item("Hostile", "https://wire.example/hostile", body=(
            '<p onclick="steal()">Hello<script>alert("x")</script></p><iframe src="https://evil.example/"></iframe>'
            '<img src="x.png" onerror="steal()"><a href="javascript:alert(1)">click</a>'
            '<a href="/relative/page">more</a><style>p{}</style>')),
    )
    url = feed_server.add("/mixed.xml", body, headers=RSS)
    [report] = ingest_feeds([FeedSource(url=url, topic="T")], store, settings=SETTINGS, clock=FixedClock(NOW))
    assert report.status == "new" and report.new == 8 and report.seen == 8
    arts = {a.link: a for a in store.articles_between(None)}
    # duplicate GUIDs do not merge different stories
    assert {"https://wire.example/one", "https://wire.example/two"} <= set(arts)
    assert arts["https://wire.example/nodate"].published == NOW
    assert arts["https://wire.example/future"].published == NOW
    assert arts["https://wire.example/notitle"].title.startswith("The harbour ferry will run every ten minutes")
    linkless = next(a for a in arts.values() if a.title == "No link")
    assert linkless.link == "https://wire.example/"  # the outlet's site, never an empty link
    assert "https://wire.example/tracked?id=4" in arts
    hostile = arts["https://wire.example/hostile"]
    for bad in ("<script", "alert", "<iframe", "onerror", "onclick", "javascript:", "<style", "steal"):
        assert bad not in hostile.html, bad
    assert 'href="http://127.0.0.1' in hostile.html and "/relative/page" in hostile.html  # made absolute
    assert hostile.text.startswith("Hello") and "alert" not in hostile.text
    assert all(a.published.tzinfo is not None for a in arts.values())


def test_conditional_get_and_second_run_costs_no_parse(feed_server: FeedServer, store: Store):
    body = numbered(5)

    def conditional(req):
        if req.headers.get("If-None-Match") == '"v1"' and req.headers.get("If-Modified-Since") == "Tue, 24 Nov 2026 12:00:00 GMT":
            return Response(304, headers={"ETag": '"v1"'})
        return Response(200, body.encode(), {**RSS, "ETag": '"v1"', "Last-Modified": "Tue, 24 Nov 2026 12:00:00 GMT"})

    url = feed_server.add("/cond.xml", handler=conditional)
    src = [FeedSource(url=url, topic="T")]
    first = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    second = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert (first[0].status, first[0].new) == ("new", 5)
    assert (second[0].status, second[0].new) == ("unchanged", 0)
    assert feed_server.requests[-1].headers["If-None-Match"] == '"v1"'
    ua = feed_server.requests[0].headers["User-Agent"]
    assert ua.startswith("newsletter/0.1.0")
    assert "gzip" in feed_server.requests[0].headers["Accept-Encoding"]


def test_articles_accumulate_across_fetches(feed_server: FeedServer, store: Store):
    pages = iter([numbered(10, start=1), numbered(10, start=6)])
    url = feed_server.add("/rolling.xml", handler=lambda req: Response(200, next(pages).encode(), RSS))
    src = [FeedSource(url=url, topic="T")]
    a = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    b = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert (a[0].new, b[0].new) == (10, 5)
    assert len(store.articles_between(None)) == 15


def test_rate_limits_max_age_and_gone_are_honoured(feed_server: FeedServer, store: Store):
    s = feed_server
    urls = {
        "429": s.add("/busy.xml", status=429, headers={"Retry-After": "3600"}),
        "503": s.add("/down.xml", status=503, headers={"Retry-After": "Wed, 25 Nov 2026 07:30:00 GMT"}),
        "maxage": s.add("/cached.xml", numbered(2), headers={**RSS, "Cache-Control": "public, max-age=1800"}),
        "410": s.add("/gone.xml", "bye", status=410),
    }
    sources = [FeedSource(url=u, topic="T") for u in urls.values()]
    first = dict(zip(urls, ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW))))
    assert first["429"].status == "failed" and first["429"].error == "HTTP 429 Too Many Requests; retry after 07:00 UTC"
    assert first["503"].error == "HTTP 503 Service Unavailable; retry after 07:30 UTC"
    assert (first["maxage"].status, first["maxage"].new) == ("new", 2)
    assert (first["410"].status, first["410"].error) == ("gone", "gone (HTTP 410): disabled")

    later = FixedClock(NOW.replace(minute=20))
    second = dict(zip(urls, ingest_feeds(sources, store, settings=SETTINGS, clock=later)))
    assert [second[k].status for k in urls] == ["skipped", "skipped", "skipped", "disabled"]  # left alone
    assert second["410"].error == "gone (HTTP 410): disabled"
    for path in ("/busy.xml", "/down.xml", "/cached.xml", "/gone.xml"):
        assert s.hits(path) == 1, path  # nobody was asked twice

    after = FixedClock(NOW.replace(hour=7, minute=31))
    third = dict(zip(urls, ingest_feeds(sources, store, settings=SETTINGS, clock=after)))
    assert third["503"].status == "failed" and s.hits("/down.xml") == 2
    assert third["maxage"].status == "new" and s.hits("/cached.xml") == 2
    assert store.feed_states()[urls["503"]].consecutive_failures == 2


def test_feed_in_two_topics_is_fetched_once_and_reported_twice(feed_server: FeedServer, store: Store):
    url = feed_server.add("/shared.xml", numbered(2), headers=RSS)
    sources = [FeedSource(url=url, topic="A"), FeedSource(url=url, topic="B", name="Shared Wire")]
    reports = ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert [(r.topic, r.status) for r in reports] == [("A", "new"), ("B", "new")]
    assert feed_server.hits("/shared.xml") == 1
    assert {a.outlet for a in store.articles_between(None)} == {"Shared Wire"}


def test_outlet_is_config_name_then_feed_title_then_host(feed_server: FeedServer, store: Store):
    s = feed_server
    named = s.add("/named.xml", numbered(1, host="a.example"), headers=RSS)
    titled = s.add("/titled.xml", rss(item("T", "https://b.example/1"), title="The Quillmoor Gazette"), headers=RSS)
    bare = s.add("/bare.xml", rss(item("U", "https://c.example/1"), title=None), headers=RSS)
    sources = [FeedSource(url=named, topic="T", name="Override Name"), FeedSource(url=titled, topic="T"),
               FeedSource(url=bare, topic="T")]
    reports = ingest_feeds(sources, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert [r.outlet for r in reports] == ["Override Name", "The Quillmoor Gazette", "127.0.0.1"]
    outlets = {a.feed_url: a.outlet for a in store.articles_between(None)}
    assert [outlets[u] for u in (named, titled, bare)] == ["Override Name", "The Quillmoor Gazette", "127.0.0.1"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw"])
def test_compressed_feeds_are_decoded(feed_server: FeedServer, store: Store, encoding):
    import zlib

    raw = numbered(4).encode()
    if encoding == "gzip":
        body, header = gzip.compress(raw), "gzip"
    elif encoding == "deflate-zlib":
        body, header = zlib.compress(raw), "deflate"
    else:
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body, header = c.compress(raw) + c.flush(), "deflate"
    url = feed_server.add("/z.xml", body, headers={**RSS, "Content-Encoding": header})
    [r] = ingest_feeds([FeedSource(url=url, topic="T")], store, settings=SETTINGS, clock=FixedClock(NOW))
    assert (r.status, r.new) == ("new", 4)


def test_a_304_is_not_parsed(feed_server: FeedServer, store: Store, monkeypatch):
    import newsletter.ingest.workers as workers

    calls = []
    real = workers.parse_feed
    monkeypatch.setattr(workers, "parse_feed", lambda *a, **k: calls.append(1) or real(*a, **k))
    url = feed_server.add("/etag.xml", handler=lambda req: Response(304) if req.headers.get("If-None-Match") == '"e"'
                          else Response(200, numbered(2).encode(), {**RSS, "ETag": '"e"'}))
    src = [FeedSource(url=url, topic="T")]
    ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    [again] = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW))
    assert again.status == "unchanged" and len(calls) == 1


def test_feed_health_counts_failures_and_a_success_clears_them(feed_server: FeedServer, store: Store):
    answers = iter([Response(500), Response(502), Response(200, numbered(1).encode(), RSS)])
    url = feed_server.add("/flaky.xml", handler=lambda req: next(answers))
    src = [FeedSource(url=url, topic="T")]
    seen = []
    for minute in (0, 10, 20):
        [r] = ingest_feeds(src, store, settings=SETTINGS, clock=FixedClock(NOW.replace(minute=minute)))
        st = store.feed_states()[url]
        seen.append((r.status, st.consecutive_failures, st.last_error, st.last_success_at))
    assert seen == [
        ("failed", 1, "HTTP 500 Internal Server Error", None),
        ("failed", 2, "HTTP 502 Bad Gateway", None),
        ("new", 0, None, NOW.replace(minute=20)),
    ]


def test_relative_links_resolve_against_the_feed_url(feed_server: FeedServer, store: Store):
    body = rss(item("Relative", "/news/relative-story?utm_source=rss", body='<p>See <img src="img/chart.png"> here</p>'),
               link="/")
    url = feed_server.add("/section/rel.xml", body, headers=RSS)
    ingest_feeds([FeedSource(url=url, topic="T")], store, settings=SETTINGS, clock=FixedClock(NOW))
    [a] = store.articles_between(None)
    assert a.link == feed_server.url("/news/relative-story")
    assert f'src="{feed_server.url("/section/img/chart.png")}"' in a.html


def test_a_sea_of_unusual_spaces_around_a_line_break_is_read_at_once():
    """Em spaces and ideographic spaces passed the space folding, and a run of 40,000 around one line
    break took 20 s to read, at every poll of that feed (quadratic: this run would take minutes)."""
    from newsletter.ingest.sanitize import to_text

    sea = "\u2003" * 100_000 + "\n" + "\u3000" * 100_000
    text = to_text(f"<p>Fees rose.{sea}The council met.</p><p>Next.</p>")
    assert text == "Fees rose.\nThe council met.\n\nNext."  # the soft break stays one


def test_a_page_at_the_feed_address_that_names_that_same_address_is_not_told_to_put_it_in_the_config():
    """A site's own error or maintenance page, served at the configured feed URL, names the feed in its head as
    every page of the site does: "put that in the config" sent the reader to the address already there."""
    from newsletter.ingest.parse import parse_feed

    url = "https://fenwick.example/feed/"
    page = (b'<!doctype html><html><head><title>Down for maintenance</title><link rel="alternate" '
            b'type="application/rss+xml" href="/feed/"></head><body>Back soon</body></html>')
    parsed = parse_feed(page, {"Content-Type": "text/html"}, feed_url=url, outlet=None, now=NOW)
    assert parsed.error == "not a feed (HTML page)"
    elsewhere = parse_feed(page, {"Content-Type": "text/html"}, feed_url="https://fenwick.example/", outlet=None,
                           now=NOW)
    assert elsewhere.error == f"not a feed (HTML page); the page names its feed: {url}: put that in the config"
