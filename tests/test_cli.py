"""The CLI end to end on the demo config, as a new user runs it: offline, no key.

Commands run in-process (``run_cli``); only what a process alone shows starts
one: ``python -m newsletter`` with parse workers, and ``run`` stopped by Ctrl-C.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import shutil
from pathlib import Path

import pytest

from conftest import REPO, CliResult, NewsletterProcess, config_data, feeds_config, run_cli, run_process, write_config


@pytest.fixture(scope="module")
def preview(tmp_path_factory) -> tuple[CliResult, Path]:
    root = tmp_path_factory.mktemp("preview")
    shutil.copytree(REPO / "config", root / "config")
    result = run_cli("preview", "--config", str(root / "config" / "newsletter.toml"),
                     "--out", str(root / "out" / "issue.html"), cwd=root)
    return result, root / "out" / "issue.html"


def test_preview_writes_html_text_and_json_and_prints_their_paths(preview):
    proc, html = preview
    assert proc.exit_code == 0, proc.stderr
    for suffix in (".html", ".txt", ".json"):
        path = html.with_suffix(suffix)
        assert path.is_file() and path.stat().st_size > 0
        assert str(path) in proc.stdout


def test_preview_issue_has_cited_briefings_and_a_sidebar(preview):
    _, html_path = preview
    doc = json.loads(html_path.with_suffix(".json").read_text())
    assert doc["title"] == "The Meridian Brief" and doc["date"]
    assert len(doc["stories"]) >= 3
    for story in doc["stories"]:
        assert story["headline"] and story["dek"]
        assert story["sources"] and all(s["url"].startswith("https://") and s["outlet"] for s in story["sources"])
        for section in ("big_picture", "why_this_matters", "between_the_lines"):
            assert story[section], (story["headline"], section)
            for bullet in story[section]:
                assert bullet["text"] and bullet["cites"]
                assert all(1 <= n <= len(story["sources"]) for n in bullet["cites"])
    assert any(len(s["sources"]) >= 3 for s in doc["stories"])
    assert doc["sidebar"] and all(i["headline"] and i["blurb"] and i["url"].startswith("https://") for i in doc["sidebar"])


def test_preview_html_shows_what_a_reader_needs_and_fits_gmail(preview):
    _, html_path = preview
    html = html_path.read_text()
    doc = json.loads(html_path.with_suffix(".json").read_text())
    assert len(html.encode()) < 100 * 1024
    assert "Recent news" in html
    for label in ("The big picture", "Why this matters", "Between the lines"):
        assert html.count(label) >= len(doc["stories"])
    for story in doc["stories"]:
        assert f"{len(story['sources'])} sources" in html or len(story["sources"]) == 1
        for source in story["sources"]:
            assert source["url"] in html
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    text = " ".join(html_path.with_suffix(".txt").read_text().split())  # the text part wraps at 72 columns
    assert all(s["headline"] in text for s in doc["stories"])


def test_each_story_and_each_article_appears_once(preview):
    _, html_path = preview
    doc = json.loads(html_path.with_suffix(".json").read_text())
    headlines = [s["headline"] for s in doc["stories"]] + [i["headline"] for i in doc["sidebar"]]
    assert len(headlines) == len(set(headlines))
    urls = [src["url"] for s in doc["stories"] for src in s["sources"]] + [i["url"] for i in doc["sidebar"]]
    assert len(urls) == len(set(urls))


def test_send_writes_a_multipart_eml_per_recipient_once_a_day(demo):
    proc = run_cli("send", "--config", str(demo), cwd=demo.parent.parent)
    assert proc.exit_code == 0, proc.stderr
    outbox = demo.parent.parent / "var" / "outbox"
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2  # the demo has two recipients
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        assert msg[header], header
    assert "The Meridian Brief" in msg["Subject"]

    mtimes = [f.stat().st_mtime_ns for f in files]
    again = run_cli("send", "--config", str(demo), cwd=demo.parent.parent)
    assert again.exit_code == 0, again.stderr
    assert [f.stat().st_mtime_ns for f in sorted(outbox.glob("*.eml"))] == mtimes
    assert "already had it: reader@example.org" in again.stdout

    # The next issue starts where this one ended: previewing it now shows nothing new.
    after = run_cli("preview", "--config", str(demo), "--out", "next.html", cwd=demo.parent.parent)
    assert after.exit_code == 0, after.stderr
    doc = json.loads((demo.parent.parent / "next.json").read_text())
    assert doc["stories"] == [] and doc["sidebar"] == []
    assert "No new stories" in (demo.parent.parent / "next.txt").read_text()


def test_send_to_override_and_dry_run(demo):
    root = demo.parent.parent
    dry = run_cli("send", "--config", str(demo), "--dry-run", cwd=root)
    assert dry.exit_code == 0, dry.stderr
    assert "would send" in dry.stdout
    assert not (root / "var" / "outbox").exists()
    proc = run_cli("send", "--config", str(demo), "--to", "editor@example.net", cwd=root)
    assert proc.exit_code == 0, proc.stderr
    [eml] = (root / "var" / "outbox").glob("*.eml")
    assert "editor@example.net" in eml.name


def test_a_bad_address_given_with_to_is_named_in_the_message(minimal_config):
    result = run_cli("send", "--config", str(minimal_config), "--to", "ok@example.org", "--to", "not an email",
                     "--dry-run", cwd=minimal_config.parent)
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "--to: 'not an email' is not one email address" in said and "Fix:" in said, said
    assert "Traceback" not in said


def test_check_lists_every_demo_feed_as_healthy(demo):
    proc = run_cli("check", "--config", str(demo), cwd=demo.parent.parent)
    assert proc.exit_code == 0, proc.stdout + proc.stderr
    for outlet in ("Northwind Courier", "Harborline Dispatch", "Valmere Ledger", "Copperfield Tech", "Eastbay Signal"):
        assert outlet in proc.stdout
    assert "failed" not in proc.stdout


def test_fetch_reports_new_then_unchanged(demo):
    root = demo.parent.parent
    first = run_cli("fetch", "--config", str(demo), cwd=root)
    assert first.exit_code == 0, first.stderr
    assert "32 new articles" in first.stdout
    second = run_cli("fetch", "--config", str(demo), cwd=root)
    assert "0 new articles" in second.stdout


def test_default_config_location_is_config_folder(demo):
    proc = run_cli("preview", "--out", "here.html", cwd=demo.parent.parent)
    assert proc.exit_code == 0, proc.stderr
    assert (demo.parent.parent / "here.json").is_file()


GOOD_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Fenwick Gazette</title><link>https://fenwick.example/</link>
<item><guid>fg-1</guid><title>Fenwick ferry service resumes after storm repairs</title>
<link>https://fenwick.example/ferry?utm_source=rss</link><pubDate>Tue, 24 Nov 2026 06:00:00 GMT</pubDate>
<description>The Fenwick ferry resumed service on Tuesday after two weeks of storm repairs. The operator said
crossings will run every forty minutes. Harbour staff replaced the damaged ramp over the weekend.</description></item>
</channel></rss>"""


def test_one_broken_feed_is_reported_and_the_issue_still_builds(tmp_path):
    from feedserver import FeedServer

    with FeedServer() as srv:
        good = srv.add("/good.xml", GOOD_RSS, headers={"Content-Type": "application/rss+xml"})
        bad = srv.add("/broken.xml", status=500)
        cfg = feeds_config(tmp_path, [good, bad], title="Fenwick Daily", max_age_hours=0)
        proc = run_cli("preview", "--config", str(cfg), "--out", str(tmp_path / "issue.html"), cwd=tmp_path)
        assert proc.exit_code == 0, proc.stderr
        assert bad in " ".join(proc.stderr.split()) and "500" in proc.stderr
        doc = json.loads((tmp_path / "issue.json").read_text())
        placed = [s["sources"][0]["url"] for s in doc["stories"]] + [i["url"] for i in doc["sidebar"]]
        assert placed == ["https://fenwick.example/ferry"]  # tracking parameter dropped

        check = run_cli("check", "--config", str(cfg), cwd=tmp_path)
        assert check.exit_code == 1
        assert "500" in check.stdout and "1 of 2 feeds failed" in check.stderr


def _row(stdout: str, text: str) -> str:
    """The table row whose cells hold ``text``, each cell's folded lines joined (rich folds a long
    URL across lines when the console is narrow), cells separated by " | "."""
    [row] = [r for r in _rows(stdout) if text in r.replace(" | ", "")]
    return row


def _rows(stdout: str) -> list[str]:
    """Every table row, as ``_row`` gives one."""
    rows: list[list[str]] = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if not cells:
            continue
        if cells[0] or not rows:  # a new row names its topic; a folded line leaves it blank
            rows.append(cells)
        else:
            rows[-1] = [a + b for a, b in zip(rows[-1], cells)]
    return [" | ".join(r) for r in rows]


def test_check_and_fetch_tell_feeds_of_one_host_apart_by_url(tmp_path):
    """Two feeds on one host were two rows reading "127.0.0.1": which one failed?"""
    from feedserver import FeedServer

    with FeedServer() as srv:
        good = srv.add("/news/good.xml", GOOD_RSS, headers={"Content-Type": "application/rss+xml"})
        gone = srv.url("/news/missing.xml")  # unregistered: 404
        cfg = feeds_config(tmp_path, [good, gone], max_age_hours=0)
        for command in ("check", "fetch"):
            proc = run_cli(command, "--config", str(cfg), cwd=tmp_path)
            assert proc.exit_code == 1, proc.stdout + proc.stderr  # a cron job hears of the broken feed
            assert "404" in _row(proc.stdout, gone) and "failed" in _row(proc.stdout, gone)
            assert "failed" not in _row(proc.stdout, good)
            assert "Fenwick Gazette" in proc.stdout  # the feed's own title is kept above its URL
        assert "1 new article from 1 feed; 1 failed" in proc.stdout  # the good feed is stored all the same


def test_a_site_page_given_for_its_feed_names_the_feed_the_page_links_to(tmp_path):
    """A site's address pasted where its feed's goes said only "not a feed (HTML page)"; the page's head
    says where the feed is, so check and fetch say it too."""
    from feedserver import FeedServer

    page = (b"<!doctype html><html><head><title>Fenwick Gazette</title>"
            b'<link rel="stylesheet" href="/site.css">'
            b'<link rel="alternate" type="application/rss+xml" title="News" href="/news/feed.xml">'
            b"</head><body><h1>Fenwick Gazette</h1></body></html>")
    with FeedServer() as srv:
        site = srv.add("/", page, headers={"Content-Type": "text/html; charset=utf-8"})
        bare = srv.add("/about", b"<!doctype html><html><head></head><body>About</body></html>",
                       headers={"Content-Type": "text/html"})
        cfg = feeds_config(tmp_path, [site, bare], max_age_hours=0)
        for command in ("check", "fetch"):
            proc = run_cli(command, "--config", str(cfg), cwd=tmp_path)
            assert proc.exit_code == 1, proc.stdout + proc.stderr
            squashed = [row.replace(" ", "") for row in _rows(proc.stdout)]
            named = [r for r in squashed if "thepagenamesitsfeed" in r]
            assert len(named) == 1, proc.stdout  # the page without a feed link says no more than before
            assert f"notafeed(HTMLpage);thepagenamesitsfeed:{srv.url('/news/feed.xml')}:putthatintheconfig" in named[0]
            assert any(r.endswith("notafeed(HTMLpage)") and "about" in r for r in squashed), proc.stdout


def test_a_feed_cut_short_is_read_as_far_as_it_goes_and_says_where_it_breaks(tmp_path):
    """A feed cut off in transfer looked healthy, and whatever followed the cut was lost without a word."""
    cut = GOOD_RSS.split("</description></item>")[0] + "</description></item>\n<item><title>Harbour fees ri"
    (tmp_path / "cut.xml").write_text(cut, encoding="utf-8")
    cfg = feeds_config(tmp_path, ["cut.xml"], max_age_hours=0)
    for command in ("check", "fetch"):
        proc = run_cli(command, "--config", str(cfg), cwd=tmp_path)
        assert proc.exit_code == 0, proc.stdout + proc.stderr  # still a feed: its first entry is read
        row = _row(proc.stdout, "Fenwick Gazette")
        assert "notwell-formedXMLatline7" in row.replace(" ", "") and ("ok" in row or "new" in row), proc.stdout


def test_a_feed_the_server_cuts_off_is_read_as_far_as_it_goes_and_fails(tmp_path):
    """A server that hung up mid-body failed the feed at every poll, and nothing of what came was read."""
    from feedserver import FeedServer

    cut = GOOD_RSS.split("</description></item>")[0] + "</description></item>\n<item><title>Harbour fees ri"
    whole = cut + "se</title></item>\n</channel></rss>"
    with FeedServer() as srv:
        url = srv.add("/cut.xml", whole, headers={"Content-Type": "application/rss+xml"}, cut_at=len(cut.encode()))
        cfg = feeds_config(tmp_path, [url], max_age_hours=0)
        for command in ("check", "fetch"):
            proc = run_cli(command, "--config", str(cfg), cwd=tmp_path)
            assert proc.exit_code == 1, proc.stdout + proc.stderr  # a cron job hears of it
            row = _row(proc.stdout, "Fenwick Gazette").replace(" ", "")
            assert "failed" in row and "transfercutoffbytheserver:notwell-formedXMLatline7" in row, proc.stdout
        assert "1 new article from 1 feed; 1 failed" in proc.stdout  # what came is stored


def test_check_shortens_a_long_feed_url_only_where_that_stays_unambiguous(tmp_path):
    from feedserver import FeedServer

    middle = "x" * 60
    with FeedServer() as srv:
        lone = srv.url(f"/lone/{middle}/world.xml")
        twin_a = srv.url(f"/section-a/{middle}/feed.xml")  # same ending as twin_b: only the middle differs
        twin_b = srv.url(f"/section-b/{middle}/feed.xml")
        cfg = feeds_config(tmp_path, [lone, twin_a, twin_b])
        proc = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert proc.exit_code == 1
    shortened = _row(proc.stdout, "world.xml")
    assert lone not in shortened and f"{srv.base_url}/…" in shortened and "404" in shortened
    assert "404" in _row(proc.stdout, twin_a) and "404" in _row(proc.stdout, twin_b)


def test_check_refuses_with_sends_message_an_smtp_password_variable_that_is_not_set(minimal_config):
    """check said "config ok" and send then stopped at exit 2: check must not pass what send refuses."""
    write_config(minimal_config.parent, config_data(delivery={
        "transport": "smtp", "smtp": {"host": "127.0.0.1", "port": 9, "password_env": "NEWSLETTER_TEST_SMTP"}}))
    checked, sent = (run_cli(command, "--config", str(minimal_config)) for command in ("check", "send"))
    assert (checked.exit_code, sent.exit_code) == (2, 2)
    assert "config ok" not in checked.stdout and "Traceback" not in checked.stderr
    assert checked.stderr == sent.stderr
    assert "[delivery.smtp] password_env" in checked.stderr and "NEWSLETTER_TEST_SMTP is not set" in checked.stderr
    ok = run_cli("check", "--config", str(minimal_config), env={"NEWSLETTER_TEST_SMTP": "pw"})
    assert ok.exit_code == 0 and "config ok" in ok.stdout, ok.stderr


def test_preview_through_an_openai_compatible_endpoint_falls_back_per_story(demo, caplog):
    """The model writes the briefings; one garbage answer costs that story only; the key is never printed."""
    from openai_server import OpenAIServer, Reply

    calls = []

    def model(payload: dict):
        calls.append(payload)
        if len(calls) == 1:
            return Reply(content="Sorry, I cannot help with that.")
        return json.dumps({
            "headline": "Model headline",  # no number: the grounding gate would swap an invented one out
            "dek": "A one-line dek written by the model.",
            "big_picture": [{"text": "The model's big picture.", "cites": [1]}],
            "why_this_matters": [{"text": "Why it matters, per the model; see https://evil.example/x", "cites": [1]}],
            "between_the_lines": [{"text": "A detail from the sources.", "cites": [1]}],
        })

    secret = "sk-test-DO-NOT-PRINT-4711"
    caplog.set_level(logging.DEBUG)  # in-process, -vv's log records land here: they must not carry the key either
    with OpenAIServer(model) as srv:
        proc = run_cli("-vv", "preview", "--config", str(demo), "--out", "issue.html", cwd=demo.parent.parent,
                       env={"OPENAI_API_KEY": secret, "OPENAI_BASE_URL": srv.base_url})
        assert srv.chat_requests[0].headers["Authorization"] == f"Bearer {secret}"
    assert proc.exit_code == 0, proc.stderr
    assert caplog.records, "the debug log was not captured, so it proves nothing about the key"
    assert secret not in proc.stdout + proc.stderr + caplog.text
    doc = json.loads((demo.parent.parent / "issue.json").read_text())
    model_written = [s for s in doc["stories"] if s["headline"].startswith("Model headline")]
    assert len(model_written) == len(doc["stories"]) - 1  # one story fell back to the extractive briefing
    assert "extractive" in " ".join(proc.stderr.split())
    html = (demo.parent.parent / "issue.html").read_text()
    assert "evil.example" not in html  # the model never writes links


@pytest.mark.long
def test_fetch_of_many_feeds_parses_on_worker_processes_from_python_m(tmp_path):
    """Over 4 MB in one run moves parsing to worker processes; `python -m newsletter` must survive that."""
    from feeds_for_tests import item, rss

    from newsletter.ingest.workers import PARALLEL_AFTER_BYTES

    paragraph = "<p>" + "The harbour board met again to discuss the dredging plan for the outer channel. " * 12 + "</p>"
    feeds = []
    for f in range(60):
        items = [item(f"Report {f}-{i} from the harbour board", f"https://wire{f}.example/{i}", guid=f"w{f}-{i}",
                      body=paragraph * 2) for i in range(40)]
        path = tmp_path / f"wire{f}.xml"
        path.write_text(rss(*items, title=f"Wire {f}"))
        feeds.append(path.name)
    assert sum(p.stat().st_size for p in tmp_path.glob("wire*.xml")) > 1.2 * PARALLEL_AFTER_BYTES
    cfg = feeds_config(tmp_path, feeds, title="Harbour Wire")
    proc = run_process("fetch", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "2400 new articles from 60 feeds" in proc.stdout


def test_a_dead_model_endpoint_costs_a_few_requests_not_one_per_story(demo):
    """Every answer a 500: after give_up_after failures in a row the rest go extractive, and the issue is whole."""
    from openai_server import OpenAIServer, Reply

    root = demo.parent.parent
    demo.write_text(demo.read_text().replace("concurrency = 4 ", "concurrency = 1 ").replace("max_retries = 2 ", "max_retries = 0 "))
    with OpenAIServer(lambda payload: Reply(status=500, body='{"error": {"message": "upstream down"}}')) as srv:
        proc = run_cli("preview", "--config", str(demo), "--out", "issue.html", cwd=root,
                          env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.base_url})
        asked = len(srv.chat_requests)
    assert proc.exit_code == 0, proc.stderr
    doc = json.loads((root / "issue.json").read_text())
    assert len(doc["stories"]) >= 6 and all(s["big_picture"] for s in doc["stories"])
    assert asked == 3  # [llm] give_up_after = 3 in the demo config
    assert "the model was not asked for the other" in " ".join(proc.stderr.split())


@pytest.mark.long
def test_run_service_sends_an_overdue_issue_once_across_restarts(demo):
    """A real process stopped by Ctrl-C; each step waits for what the service says, never for a guessed time.

    With -v, APScheduler logs each job as it is added, run and finished: those lines are the states waited on.
    """
    root = demo.parent.parent
    # Always overdue today: sent at midnight, with a whole day's grace.
    demo.write_text(demo.read_text().replace('send_at = "07:00"', 'send_at = "00:00"').replace("grace_hours = 6 ", "grace_hours = 24 "))
    outbox = root / "var" / "outbox"
    overdue = "send today's overdue issue"  # the catch-up job's name
    unwrapped = {"COLUMNS": "1000"}  # one log record, one line

    with NewsletterProcess("-v", "run", "--config", demo, cwd=root, env=unwrapped) as first:
        first.wait_for("newsletter running")
        first.wait_for("executed successfully", stream="stderr")  # the first job to finish is the catch-up send
        assert first.interrupt() == 0, first.stderr
    assert overdue in first.stderr
    assert len(list(outbox.glob("*.eml"))) == 2  # both demo recipients

    mtimes = sorted(f.stat().st_mtime_ns for f in outbox.glob("*.eml"))
    with NewsletterProcess("-v", "run", "--config", demo, cwd=root, env=unwrapped) as second:
        second.wait_for("newsletter running")
        # Logged inside the scheduler's start, after every job is in: Ctrl-C from here on is a clean stop (exit 0).
        second.wait_for("Scheduler started", stream="stderr")
        assert second.interrupt() == 0, second.stderr
    assert overdue not in second.stderr  # restarted: today's issue already went out, so no catch-up send
    assert sorted(f.stat().st_mtime_ns for f in outbox.glob("*.eml")) == mtimes


def test_the_command_leaves_its_heap_out_of_the_interpreters_last_collections(demo, monkeypatch):
    # Exit after run's "stopped" line took 0.5-2.5 s, and half a second after any build: the interpreter's
    # teardown walked the heap of every module loaded, in several full collections. The state that spares it:
    # the heap frozen once the command is done, by the entry point a process runs.
    import gc
    import sys

    from newsletter import cli, service

    monkeypatch.setattr(service, "serve", lambda cfgs, **_: 0)  # a service that has stopped cleanly
    monkeypatch.setattr(sys, "argv", ["newsletter", "run", "--config", str(demo)])
    assert gc.get_freeze_count() == 0
    try:
        with pytest.raises(SystemExit) as done:
            cli.script()
        assert done.value.code == 0 and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("command", ["preview", "send"])
def test_a_key_variable_the_config_names_but_nobody_set_is_one_config_error(demo, command):
    from openai_server import OpenAIServer

    root = demo.parent.parent
    demo.write_text(demo.read_text().replace("[llm]\n", '[llm]\napi_key_env = "DEEPSEEK_API_KEY"\n'))
    with OpenAIServer(lambda payload: "{}") as srv:
        result = run_cli(command, "--config", str(demo), cwd=root, env={"OPENAI_BASE_URL": srv.base_url})
        asked = len(srv.chat_requests)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2, (result.stdout, said)
    assert str(demo) in said and "[llm] api_key_env" in said and "DEEPSEEK_API_KEY" in said and "Fix:" in said
    assert said.count("error") == 1 and "Traceback" not in said
    assert asked == 0 and not list((root / "var" / "outbox").glob("*.eml"))


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_one_warning_naming_the_server_and_the_issue_still_goes_out(demo, status):
    from openai_server import OpenAIServer, Reply

    root = demo.parent.parent
    demo.write_text(demo.read_text().replace("concurrency = 4 ", "concurrency = 1 "))
    with OpenAIServer(lambda payload: Reply(status=status, body='{"error": {"message": "bad key"}}')) as srv:
        proc = run_cli("preview", "--config", str(demo), "--out", "issue.html", cwd=root,
                       env={"OPENAI_API_KEY": "sk-wrong", "OPENAI_BASE_URL": srv.base_url})
        asked = len(srv.chat_requests)
    said = " ".join(proc.stderr.split())
    assert proc.exit_code == 0, said
    assert asked == 1  # a refused key is refused for every story: asked once
    assert said.count("warning") == 1 and srv.base_url.rstrip("/") in said and "OPENAI_API_KEY" in said, said
    assert "Fix:" in said
    doc = json.loads((root / "issue.json").read_text())
    assert len(doc["stories"]) >= 6 and all(s["big_picture"] for s in doc["stories"])


def test_an_unreachable_model_server_is_one_warning_naming_it(demo):
    from conftest import free_port

    root = demo.parent.parent
    demo.write_text(demo.read_text().replace("max_retries = 2 ", "max_retries = 0 "))
    base = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    proc = run_cli("preview", "--config", str(demo), "--out", "issue.html", cwd=root,
                   env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": base})
    said = " ".join(proc.stderr.split())
    assert proc.exit_code == 0, said
    assert said.count("warning") == 1 and f"cannot reach the model server at {base}" in said, said
    assert "[llm] base_url" in said


@pytest.mark.parametrize("command", ["preview", "send"])
def test_a_missing_feed_file_is_one_broken_feed_and_the_issue_is_built_from_the_rest(tmp_path, command):
    from feeds_for_tests import item, rss

    (tmp_path / "harbour.xml").write_text(rss(
        item("Harbour board approves the dredging plan", "https://harbour.example/dredging", guid="h1",
             body="The harbour board approved the dredging plan for the outer channel on Monday."),
        title="Harbour Gazette"))
    cfg = feeds_config(tmp_path, ["harbour.xml", "typo/gone.xml"], title="Harbour Wire", max_age_hours=0)
    result = run_cli(command, "--config", str(cfg), cwd=tmp_path)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, (result.stdout, said)
    assert "1 briefing," in " ".join(result.stdout.split()), result.stdout
    assert "typo/gone.xml" in said and "file not found" in said and "Local" in said, said
    assert "Traceback" not in said


def test_piped_output_keeps_long_lines_whole(demo):
    """Into a file or grep, "config ok: <path> (... summarizer: extractive, delivery: file)" stays one line,
    however long the path: rich wraps at 80 columns when it cannot see a terminal."""
    import subprocess
    import sys

    from conftest import process_env

    env = {k: v for k, v in process_env().items() if k != "COLUMNS"}
    done = subprocess.run([sys.executable, "-m", "newsletter", "check", "-c", str(demo)], capture_output=True,
                          text=True, cwd=demo.parent, env=env, timeout=120)
    line = next(line for line in done.stdout.splitlines() if line.startswith("config ok"))
    assert len(line) > 80 and str(demo) in line and line.endswith("delivery: file)"), done.stdout


def _command_paths(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of the click group, as the words a user types after `newsletter`."""
    import click

    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
    return paths


def test_every_commands_help_shows_an_example_of_that_command():
    """The README promises `newsletter COMMAND --help` shows examples: each one has a line that runs it."""
    from newsletter.cli import cli

    paths = _command_paths(cli)
    assert ("feeds", "enable") in paths and ("fetch",) in paths
    missing = []
    for path in paths:
        result = run_cli(*path, "--help")
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        heading = next((n for n, line in enumerate(lines) if line.strip() in ("Example:", "Examples:")), None)
        if heading is None or not any(_runs(line, path) for line in lines[heading + 1:]):
            missing.append(" ".join(path))
    assert not missing, f"--help shows no example for: {missing}"


def _runs(line: str, path: tuple[str, ...]) -> bool:
    """The line runs `newsletter ... PATH`: a variable before it (serve's secret) or a global option between
    (`newsletter --log-format json run`) still counts."""
    words = line.split()
    if "newsletter" not in words:
        return False
    after = words[words.index("newsletter") + 1:]
    return any(after[n:n + len(path)] == list(path) for n in range(len(after)))


def test_every_config_option_names_the_lookup_order_load_config_follows():
    """--config's help gives the whole lookup, $NEWSLETTER_CONFIG included, for one-config commands as for run."""
    from newsletter.cli import cli

    order = "Default: $NEWSLETTER_CONFIG, then ./newsletter.toml, then ./config/newsletter.toml."
    taking_config = []
    for path in _command_paths(cli):
        help_text = " ".join(run_cli(*path, "--help").stdout.split())  # the option's help wraps in its column
        if path == ("feeds", "import"):
            # Its config is only compared with, and `>> newsletter.toml` creates that file empty before the
            # command starts: it reads one only when given, and its help says so.
            assert "Without it nothing is compared" in help_text and order not in help_text, help_text
        elif "--config" in help_text:
            taking_config.append(path)
            assert order in help_text, (path, help_text)
    assert ("fetch",) in taking_config and ("run",) in taking_config and ("feeds", "enable") in taking_config


def test_only_a_410_disables_a_feed_as_feeds_enable_help_says(tmp_path, feed_server):
    """A 500 is tried again at the next fetch; a 410 is not. The help says just that, no "(or failing)"."""
    broken, gone = feed_server.add("/broken.xml", status=500), feed_server.add("/gone.xml", status=410)
    cfg = feeds_config(tmp_path, [broken, gone])
    for _ in range(2):
        run_cli("fetch", "--config", str(cfg), cwd=tmp_path)
    assert (feed_server.hits("/broken.xml"), feed_server.hits("/gone.xml")) == (2, 1)

    said = " ".join(run_cli("feeds", "enable", "--help").stdout.split())
    assert "disabled because it answered HTTP 410 Gone" in said and "Only a 410 disables a feed" in said
    assert "(or failing)" not in said and "is tried again at the next poll" in said


@pytest.mark.parametrize("store, outbox, keys", [
    ("/proc/nope/x.db", None, ["[store] url"]),
    (None, "/proc/nope/outbox", ["[delivery] outbox"]),
    (None, "feed.xml/outbox", ["[delivery] outbox"]),  # under a file
    ("feed.xml/x.db", "/proc/nope/outbox", ["[store] url", "[delivery] outbox"]),
])
def test_check_refuses_a_store_or_outbox_that_send_could_not_write(minimal_config, store, outbox, keys):
    """check said "config ok", exit 0, and the first send stopped on the folder."""
    write_config(minimal_config.parent, config_data(**({"store": {"url": store}} if store else {}),
                                                      **({"delivery": {"outbox": outbox}} if outbox else {})))
    checked = run_cli("check", "--config", str(minimal_config), cwd=minimal_config.parent)
    assert checked.exit_code == 2 and "config ok" not in checked.stdout, (checked.stdout, checked.stderr)
    lines = checked.stderr.strip().splitlines()
    assert len(lines) == len(keys), checked.stderr
    for line, key in zip(lines, keys):
        assert line.startswith(f"error: {minimal_config}: {key}: cannot ") and "Fix:" in line, line
    assert "Traceback" not in checked.stderr


def test_check_proves_the_folders_writable_and_leaves_nothing_behind(minimal_config):
    folder = minimal_config.parent
    write_config(folder, config_data(store={"url": "state/deeper/news.db"}, delivery={"outbox": "mail/out"}))
    before = sorted(folder.rglob("*"))
    checked = run_cli("check", "--config", str(minimal_config), cwd=folder)
    assert checked.exit_code == 0 and "config ok" in checked.stdout, checked.stderr
    assert sorted(folder.rglob("*")) == before  # no store, no outbox, no probe a later run could mistake for state
    (folder / "mail" / "out").mkdir(parents=True)
    assert run_cli("check", "--config", str(minimal_config), cwd=folder).exit_code == 0
    assert list((folder / "mail" / "out").iterdir()) == []


def test_check_does_not_look_at_the_outbox_of_an_smtp_newsletter(minimal_config):
    write_config(minimal_config.parent, config_data(delivery={"transport": "smtp", "outbox": "/proc/nope/outbox",
                                                              "smtp": {"host": "127.0.0.1", "port": 9}}))
    checked = run_cli("check", "--config", str(minimal_config), cwd=minimal_config.parent)
    assert checked.exit_code == 0 and "config ok" in checked.stdout, checked.stderr


def test_check_counts_in_words_that_agree_with_the_number(minimal_config):
    """"1 topics, 1 feeds" read like a template; so did "0 unsubscribed address(es)"."""
    checked = run_cli("check", "--config", str(minimal_config), cwd=minimal_config.parent)
    assert checked.exit_code == 0 and "(1 topic, 1 feed, summarizer" in checked.stdout, checked.stdout
    assert "1 of 1 feed failed" not in checked.stderr


def test_counted_and_moment():
    from datetime import datetime, timezone

    from newsletter.wording import counted, moment, utc_moment

    assert (counted(1, "topic"), counted(0, "topic"), counted(2, "address", "addresses")) == (
        "1 topic", "0 topics", "2 addresses")
    at = datetime(2026, 11, 27, 21, 27, 21, 123798, tzinfo=timezone.utc)
    assert utc_moment(at) == "2026-11-27 21:27 UTC" and moment(at, "UTC") == "2026-11-27 21:27 UTC"


@pytest.mark.parametrize("amount, said", [
    ("0", "0 USD"),  # no tokens cost nothing: no "≈"
    ("0.0123", "≈ 0.012 USD"),  # below 1: two significant digits
    ("0.000279", "≈ 0.00028 USD"),  # never 2.8E-4
    ("0.000125", "≈ 0.00013 USD"),  # halves round up (banker's rounding said 0.00012)
    ("0.0100", "≈ 0.01 USD"),  # no trailing zeros below 1
    ("0.5", "≈ 0.5 USD"),
    ("0.995", "≈ 1.00 USD"),  # rounded up to 1: told as any amount from 1
    ("12.345", "≈ 12.35 USD"),  # from 1: to the cent
    ("1234.5", "≈ 1234.50 USD"),
])
def test_a_cost_reads_the_same_way_everywhere(amount, said):
    from decimal import Decimal

    from newsletter.wording import money

    assert money(Decimal(amount), "USD") == said


def test_check_and_fetch_name_the_setting_behind_a_feed_limit_and_a_permanent_move(tmp_path):
    """"body over 10 MB cap" named no setting (and the cap is 10 MiB); a 301 was followed in silence, so
    the config kept the old URL until the redirect went away."""
    from feedserver import FeedServer
    from feeds_for_tests import item, rss

    news = rss(item("Harbour ferry returns", "https://h.example/1", guid="h1"), title="Harbour")
    with FeedServer() as srv:
        srv.add("/old.xml", status=301, headers={"Location": "/newer.xml"})
        srv.add("/newer.xml", status=308, headers={"Location": "/feed.xml"})
        srv.add("/feed.xml", news)
        srv.add("/for-now.xml", status=302, headers={"Location": "/feed.xml?b"})  # temporary: keep the URL
        srv.add("/feed.xml?b", news)
        srv.add("/big.xml", news + "<!--" + "x" * 2048 + "-->")
        srv.add("/loop.xml", status=301, headers={"Location": "/loop.xml"})
        feeds = [srv.url(p) for p in ("/old.xml", "/for-now.xml", "/big.xml", "/loop.xml")]
        cfg = write_config(tmp_path, config_data(topics=[{"name": "Local", "feeds": feeds}],
                                                 fetch={"max_bytes": 1024, "max_redirects": 2}))
        checked = run_cli("check", "--config", str(cfg), cwd=tmp_path)
        fetched = run_cli("fetch", "--config", str(cfg), cwd=tmp_path)
    def problem(result, path: str) -> str:  # the row's cells, folded lines joined: compared without spaces
        return _row(result.stdout, path).replace(" ", "")

    for result in (checked, fetched):
        moved = f"moved permanently to {srv.url('/feed.xml')}: update the config"
        assert moved.replace(" ", "") in problem(result, "old.xml"), result.stdout
        assert "moved" not in problem(result, "for-now.xml")  # a 302 is for now: the URL stays as configured
        assert "bodyoverthe1KiBcap([fetch]max_bytes;raiseitforabiggerfeed)" in problem(result, "big.xml")
        assert "toomanyredirects(over[fetch]max_redirects=2;aredirectloop?)" in problem(result, "loop.xml")
        assert result.exit_code == 1  # the big feed and the loop; the moved one works


def test_archive_names_its_own_option_and_a_usage_mistake_begins_like_every_error(minimal_config):
    """"Fix: pass --out/--archive DIR" sent the user to an option archive does not have, whose refusal
    began "Error:" where the other messages begin "error:"."""
    folder = minimal_config.parent
    unset = run_cli("archive", "--config", str(minimal_config), cwd=folder)
    assert unset.exit_code == 2 and "Fix: pass --out DIR, or set [web] archive" in unset.stderr, unset.stderr
    assert "--archive" not in unset.stderr
    served = run_cli("serve", "--config", str(minimal_config), cwd=folder)
    assert served.exit_code == 2 and "Fix: pass --archive DIR, or set [web] archive" in served.stderr, served.stderr
    wrong = run_cli("archive", "--archive", "site", "--config", str(minimal_config), cwd=folder)
    assert wrong.exit_code == 2 and "Error:" not in wrong.stderr, wrong.stderr
    assert wrong.stderr.splitlines()[-1].startswith("error: No such option")  # click's words, our prefix


def test_check_and_fetch_say_how_many_entries_had_no_readable_date(tmp_path):
    """An undated entry is stamped with the time it was first seen; the user hears of it in the problem column."""
    dated = GOOD_RSS.split("<item>")[1].split("</item>")[0]
    undated = [f"<item><guid>fg-u{n}</guid><title>Undated notice {n}</title><link>https://fenwick.example/u{n}</link>"
               f"<pubDate>{date}</pubDate><description>Notice {n}.</description></item>"
               for n, date in enumerate(["", "sometime last week", "03/04/2026 10:00"])]
    feed = GOOD_RSS.replace(f"<item>{dated}</item>", f"<item>{dated}</item>" + "".join(undated))
    (tmp_path / "undated.xml").write_text(feed, encoding="utf-8")
    cfg = feeds_config(tmp_path, ["undated.xml"], max_age_hours=0)
    for command in ("check", "fetch"):
        proc = run_cli(command, "--config", str(cfg), cwd=tmp_path)
        assert proc.exit_code == 0, proc.stdout + proc.stderr  # read all the same
        row = _row(proc.stdout, "Fenwick Gazette").replace(" ", "")  # rich folds the note across lines
        assert "3entrieswithoutareadabledate:firstseentimeused" in row, proc.stdout


def test_a_feed_disabled_by_an_earlier_410_does_not_fail_every_later_fetch(tmp_path):
    """`fetch && send` in cron stopped sending for good once one feed had answered 410 Gone."""
    from feedserver import FeedServer

    with FeedServer() as srv:
        good = srv.add("/news/good.xml", GOOD_RSS, headers={"Content-Type": "application/rss+xml"})
        gone = srv.add("/news/gone.xml", "bye", status=410)
        cfg = feeds_config(tmp_path, [good, gone], max_age_hours=0)
        first = run_cli("fetch", "--config", str(cfg), cwd=tmp_path)
        later = run_cli("fetch", "--config", str(cfg), cwd=tmp_path)
        assert srv.hits("/news/gone.xml") == 1
    assert first.exit_code == 1 and "1 failed" in first.stdout, first.stdout  # the 410 itself is news
    assert later.exit_code == 0, later.stdout + later.stderr
    assert "from 1 feed; 1 disabled (see status)" in later.stdout
    assert "disabled" in _row(later.stdout, gone)
