"""The static archive: its pages, its feeds, and that archiving again changes nothing; the email's
"View in browser" link; `newsletter archive`."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import markupsafe
import pytest
from conftest import run_cli
from email_demo import demo_email
from web_demo import demo_store, record_demo_issues, web_config

from newsletter.render import issue_document
from newsletter.store import Store
from newsletter.web.archive import write_archive

BASE = "https://news.example.org/brief/"


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: its content's hash and its mtime."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE, archive="site")
    store = Store.open(cfg.store_url)
    record_demo_issues(cfg, store)
    yield cfg, store, tmp_path / "site"
    store.close()


def test_the_archive_has_an_index_newest_first_and_a_page_per_issue(site):
    cfg, store, folder = site
    write_archive(cfg, store, folder)
    index = (folder / "index.html").read_text()
    assert index.index("Thursday, 26 November 2026") < index.index("Wednesday, 25 November 2026")
    assert 'href="issues/2026-11-26.html"' in index and 'href="issues/2026-11-25.html"' in index
    page = (folder / "issues" / "2026-11-25.html").read_text()
    email = demo_email()
    # Every briefing and Recent news item of the email is on the page, in the same order.
    headlines = [b.headline for b in email.issue.briefings] + [i.headline for i in email.issue.sidebar]
    found = [page.find(_escaped(h)) for h in headlines]
    assert -1 not in found and found == sorted(found)
    assert '<aside class="side"' in page and "prefers-color-scheme: dark" in page
    assert '<span class="muted">— </span>' not in page  # the stored document names no Recent news outlet
    assert 'rel="prev"' not in page and 'href="2026-11-26.html"' not in page  # links are from the site's root
    assert 'href="../issues/2026-11-26.html" rel="next"' in page


def _escaped(text: str) -> str:
    return str(markupsafe.escape(text))


def test_archiving_again_writes_the_same_files_and_touches_none(site):
    cfg, store, folder = site
    write_archive(cfg, store, folder)
    first = snapshot(folder)
    write_archive(cfg, store, folder)
    assert snapshot(folder) == first
    assert sorted(first) == ["feed.json", "feed.xml", "index.html", "issues/2026-11-25.html", "issues/2026-11-26.html"]


def test_the_atom_feed_is_valid_and_stable_across_runs(site, tmp_path):
    cfg, store, folder = site
    write_archive(cfg, store, folder)
    write_archive(cfg, store, tmp_path / "again")
    feeds = [feedparser.parse((f / "feed.xml").read_bytes()) for f in (folder, tmp_path / "again")]
    for feed in feeds:
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.feed.title == "The Meridian Brief"
        assert [e.link for e in feed.entries] == [BASE + "issues/2026-11-26.html", BASE + "issues/2026-11-25.html"]
        assert [e.updated for e in feed.entries] == ["2026-11-26T06:00:00Z", "2026-11-25T06:00:00Z"]
        # Each entry is the issue itself, as HTML: its briefings with their cited sources.
        content = feed.entries[0].content[0]
        assert content.type == "text/html"
        assert demo_email().issue.briefings[0].headline in content.value and 'class="cite"' in content.value
    a, b = feeds
    assert [e.id for e in a.entries] == [e.id for e in b.entries]
    assert len({e.id for e in a.entries}) == 2 and all(e.id.startswith("urn:uuid:") for e in a.entries)
    assert a.feed.updated == b.feed.updated == "2026-11-26T06:00:00Z"


def test_the_json_feed_carries_the_same_entries(site):
    cfg, store, folder = site
    write_archive(cfg, store, folder)
    atom = feedparser.parse((folder / "feed.xml").read_bytes())
    doc = json.loads((folder / "feed.json").read_text())
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == BASE + "feed.json"
    assert [i["id"] for i in doc["items"]] == [e.id for e in atom.entries]
    assert [i["url"] for i in doc["items"]] == [e.link for e in atom.entries]


def test_feed_text_is_escaped_on_pages_and_in_feeds(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    store = Store.open(cfg.store_url)
    doc = issue_document(demo_email().issue)
    hostile = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    doc["stories"][0]["headline"] = hostile
    doc["stories"][0]["sources"][0]["url"] = "javascript:alert(3)"
    record_demo_issues(cfg, store, 1, document=doc)
    write_archive(cfg, store, tmp_path / "site")
    store.close()
    page = (tmp_path / "site" / "issues" / "2026-11-25.html").read_text()
    assert "<script>" not in page and "<img src=x" not in page and "javascript:" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    entry = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes()).entries[0]
    # Once unescaped by the reader, the entry's HTML still shows the headline as text.
    assert "&lt;script&gt;" in entry.content[0].value


def test_a_page_shows_what_the_email_showed_update_marks_and_sidebar_outlets(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    store = Store.open(cfg.store_url)
    doc = issue_document(demo_email().issue)
    doc["stories"][1]["update"] = True  # this story was sent before and came back with new outlets
    record_demo_issues(cfg, store, 1, document=doc)
    write_archive(cfg, store, tmp_path / "site")
    store.close()
    page = (tmp_path / "site" / "issues" / "2026-11-25.html").read_text()
    assert page.count(">Update</span>") == 1
    outlet = doc["sidebar"][0]["outlet"]
    assert outlet and f"{markupsafe.escape(outlet)}" in page.split("Recent news", 1)[1]


def test_a_page_dates_its_sources_as_the_email_did_and_an_older_record_without_dates_shows_none(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    store = Store.open(cfg.store_url)
    doc = issue_document(demo_email().issue)
    undated = json.loads(json.dumps(doc))
    for story in undated["stories"]:  # as issues were recorded before sources had a time
        for source in story["sources"]:
            del source["published"]
    undated["stories"][0]["sources"][1]["published"] = "not a time"  # an edited document
    record_demo_issues(cfg, store, 1, document=doc)
    store.record_issue(f"{cfg.newsletter.title}:2026-11-26", created_at=datetime(2026, 11, 26, 7, tzinfo=timezone.utc),
                       subject="s", document={**undated, "date": "2026-11-26"}, html="<p>s</p>", text="s",
                       placements=[])
    write_archive(cfg, store, tmp_path / "site")
    store.close()
    dated = (tmp_path / "site" / "issues" / "2026-11-25.html").read_text()
    first = doc["stories"][0]["sources"][0]
    day = datetime.fromisoformat(first["published"]).strftime("%-d %b")  # the demo's zone and English words
    assert f"— {markupsafe.escape(first['outlet'])}, {day.replace(' ', chr(0xa0))}</p>" in dated
    older = (tmp_path / "site" / "issues" / "2026-11-26.html").read_text()
    assert f"— {markupsafe.escape(first['outlet'])}</p>" in older
    assert not re.search(r"— [^<]+, \d+\xa0", older)


def test_the_email_links_to_its_page_when_base_url_is_set(tmp_path):
    from email_demo import DEMO_MORNING

    from newsletter.clock import FixedClock
    from newsletter.edges import Edges
    from newsletter.pipeline import build, fetch
    from newsletter.summarize import extractive_summarizer

    cfg = web_config(tmp_path, base_url=BASE)
    store = Store.open(cfg.store_url)
    try:
        edges = Edges(store, FixedClock(DEMO_MORNING), extractive_summarizer())
        email = build(cfg, edges, fetch(cfg, edges).feeds).email
    finally:
        store.close()
    url = BASE + "issues/2026-11-25.html"
    assert re.search(rf'<a class="link" href="{re.escape(url)}"[^>]*>View in browser</a>', email.html)
    assert f"View in browser: {url}" in email.text
    assert "View in browser" not in demo_email().html  # the demo sets no base_url


def test_archive_command_writes_the_site_and_says_where(site):
    cfg, store, folder = site
    out = folder.parent / "public"
    result = run_cli("archive", "--config", str(cfg.path), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "2 issue pages," in result.stdout
    assert (out / "issues" / "2026-11-26.html").is_file()


def test_archive_command_without_a_folder_says_how_to_name_one(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    result = run_cli("archive", "--config", str(cfg.path))
    assert result.exit_code != 0
    assert "[web] archive" in result.stderr and "--out" in result.stderr


def test_archive_without_base_url_warns_that_feed_readers_cannot_follow_its_links(tmp_path):
    """The files are written all the same; one line says why the feeds are of no use yet and what to set."""
    cfg = web_config(tmp_path)
    demo_store(cfg).close()
    result = run_cli("archive", "--config", str(cfg.path), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "site" / "feed.xml").is_file() and (tmp_path / "site" / "feed.json").is_file()
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr
    assert "feed.xml and feed.json" in warnings[0] and "feed readers cannot follow" in warnings[0]
    assert "Fix: set [web] base_url to where the archive will be published" in warnings[0]


def test_archive_with_base_url_gives_no_warning(site):
    cfg, store, folder = site
    result = run_cli("archive", "--config", str(cfg.path), "--out", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr and "base_url" not in result.stderr


@pytest.mark.parametrize("base_url", [None, BASE])
def test_send_rewriting_the_archive_warns_of_relative_feed_links_as_archive_does(tmp_path, base_url):
    """send writes the archive too when [web] archive is set: without a base_url its feeds are of no use
    to a feed reader, and send says so once, as the archive command does."""
    web = {"archive": "site"} | ({"base_url": base_url} if base_url else {})
    cfg = web_config(tmp_path, **web)
    env = {"NEWSLETTER_WEB_SECRET": "s" * 32} if base_url else None
    result = run_cli("send", "--config", str(cfg.path), cwd=tmp_path, env=env)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "config" / "site" / "feed.xml").is_file()
    said = " ".join(result.stderr.split())
    assert said.count("feed readers cannot follow") == (0 if base_url else 1), said


def test_a_send_whose_archive_cannot_be_written_says_how_to_write_it_once_mended(tmp_path):
    # The issue went out, the archive failed (a full disk), and a later send that owed nobody left it as it
    # was: the issue's page, the email's "View in browser", stayed missing with nothing said of how to mend it.
    cfg = web_config(tmp_path, archive="site")
    (tmp_path / "config" / "site").write_text("a file where the archive's folder belongs")
    result = run_cli("send", "--config", str(cfg.path), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr  # the readers have their issue
    said = " ".join(result.stderr.split())
    assert f"once that is mended, `newsletter archive -c {cfg.path}` writes the archive" in said, said
    (tmp_path / "config" / "site").unlink()
    assert run_cli("archive", "--config", str(cfg.path), cwd=tmp_path).exit_code == 0
    pages = [p for p in (tmp_path / "config" / "site").rglob("*.html") if p.name != "index.html"]
    assert len(pages) == 1  # the issue's own page, which "View in browser" names


def test_an_archive_that_cannot_be_written_does_not_say_the_issue_went_out_when_it_did_not(tmp_path):
    # The archive is written before the first message: its line said "The issue went out all the same" also for
    # a send in which the mail server refused every recipient.
    from conftest import mail_server

    class RefusesAll:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such mailbox"

    cfg = web_config(tmp_path, archive="site")
    (tmp_path / "config" / "site").write_text("a file where the archive's folder belongs")
    with mail_server(RefusesAll()) as port:
        text = cfg.path.read_text(encoding="utf-8").replace(
            '[delivery]\ntransport = "file"', '[delivery]\ntransport = "smtp"', 1).replace(
            "# [delivery.smtp]\n# host = \"smtp.example.com\"", f"[delivery.smtp]\nhost = \"127.0.0.1\"\nport = {port}\n"
            "security = \"none\"", 1)
        cfg.path.write_text(text, encoding="utf-8")
        result = run_cli("send", "--config", str(cfg.path), cwd=tmp_path)
    said = " ".join((result.stdout + result.stderr).split())
    assert "No such mailbox" in said, said  # nobody got it
    assert "went out" not in said, said
    assert f"once that is mended, `newsletter archive -c {cfg.path}` writes the archive" in said, said
