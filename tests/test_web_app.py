"""`newsletter serve`'s app over real HTTP: the archive, one-click unsubscribe (RFC 8058) and what it
refuses; and what an unsubscription changes for send, check and resubscribe."""

from __future__ import annotations

import email
import email.policy
import hashlib
import http.client
import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import NewsletterProcess, run_cli
from email_demo import DEMO_MORNING
from web_demo import SECRET, record_demo_issues, served, web_config

from newsletter.clock import FixedClock
from newsletter.deliver import FileTransport
from newsletter.edges import Edges
from newsletter.pipeline import dry_run, send
from newsletter.store import Store
from newsletter.summarize import extractive_summarizer
from newsletter.web.app import make_app
from newsletter.web.archive import write_archive
from newsletter.web.tokens import unsubscribe_token

BASE = "https://news.example.org/brief/"
TITLE = "The Meridian Brief"
READER, NEWSROOM = "reader@example.org", "newsroom@example.com"  # the demo config's recipients
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")  # any email address on a page
ONE_CLICK = {"content": b"List-Unsubscribe=One-Click", "headers": {"content-type": "application/x-www-form-urlencoded"}}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo's two issues archived, and the app serving them, once for the module."""
    tmp = tmp_path_factory.mktemp("web")
    cfg = web_config(tmp, base_url=BASE, archive="site")
    store = Store.open(cfg.store_url)
    record_demo_issues(cfg, store)
    folder = tmp / "config" / "site"
    write_archive(cfg, store, folder)
    with served(make_app(cfg, store, folder, SECRET)) as url:
        yield cfg, store, url, folder
    store.close()


@pytest.fixture
def web(site):
    """(cfg, store, base URL, archive folder), with nobody unsubscribed."""
    _, store, _, _ = site
    for address in store.unsubscribed(TITLE):
        store.resubscribe(TITLE, address)
    return site


def token(address: str = READER, *, newsletter: str = TITLE, secret: str = SECRET) -> str:
    return unsubscribe_token(secret, newsletter, address)


def test_the_archive_is_served_with_its_pages_and_feed(web):
    _, _, url, _ = web
    index = httpx.get(url + "/")
    assert index.status_code == 200 and "Thursday, 26 November 2026" in index.text
    page = httpx.get(url + "/issues/2026-11-25.html")
    assert page.status_code == 200 and "In this issue" in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and "frame-ancestors 'none'" in page.headers[
        "content-security-policy"]
    feed = httpx.get(url + "/feed.xml")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(("application/xml", "text/xml"))
    assert httpx.get(url + "/issues/2030-01-01.html").status_code == 404


def test_a_link_scanner_following_the_link_unsubscribes_no_one(web):
    _, store, url, _ = web
    for method in ("GET", "HEAD"):
        r = httpx.request(method, f"{url}/u/{token()}")
        assert r.status_code == 200
    page = httpx.get(f"{url}/u/{token()}").text
    assert '<form method="post"' in page and ">Unsubscribe</button>" in page
    assert store.unsubscribed(TITLE) == set()


def test_one_click_post_unsubscribes_and_a_replay_changes_nothing(web):
    _, store, url, _ = web
    first = httpx.post(f"{url}/u/{token()}", **ONE_CLICK)
    assert first.status_code == 200 and "You are unsubscribed" in first.text
    assert store.unsubscribed(TITLE) == {READER}
    again = httpx.post(f"{url}/u/{token()}", **ONE_CLICK)
    assert again.status_code == 200 and again.text == first.text
    assert store.unsubscribed(TITLE) == {READER}
    assert first.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("bad", [
    pytest.param(lambda: "A" * 43, id="forged"),
    pytest.param(lambda: token()[:-1], id="truncated"),
    pytest.param(lambda: token()[:-1] + ("A" if token()[-1] != "A" else "B"), id="one-character-changed"),
    pytest.param(lambda: token(newsletter="Another Brief"), id="other-newsletter"),
    pytest.param(lambda: token(secret="another-secret-0123456789"), id="other-key"),
    pytest.param(lambda: token("stranger@example.net"), id="not-a-recipient"),
    pytest.param(lambda: "", id="empty"),
])
def test_a_token_that_is_not_ours_gets_403_and_changes_nothing(web, bad):
    _, store, url, _ = web
    path = f"{url}/u/{bad()}"
    for r in (httpx.get(path), httpx.post(path, **ONE_CLICK)):
        if bad() == "":
            assert r.status_code in (403, 404, 405)
            continue
        assert r.status_code == 403 and "This link is not valid" in r.text
    assert store.unsubscribed(TITLE) == set()


def test_no_answer_tells_who_is_subscribed(web):
    _, _, url, _ = web
    before = {a: httpx.get(f"{url}/u/{token(a)}").text for a in (READER, NEWSROOM)}
    assert before[READER] == before[NEWSROOM] and not ADDRESS.search(before[READER])
    httpx.post(f"{url}/u/{token(NEWSROOM)}", **ONE_CLICK)
    assert httpx.get(f"{url}/u/{token(NEWSROOM)}").text == before[READER]  # left already: the same page
    refused = {httpx.post(f"{url}/u/{t}", **ONE_CLICK).text for t in ("A" * 43, token("x@example.net"))}
    assert len(refused) == 1 and not ADDRESS.search(refused.pop())


def test_an_oversized_body_gets_413_and_changes_nothing(web):
    cfg, store, url, _ = web
    limit = cfg.web.max_body_bytes
    big = httpx.post(f"{url}/u/{token()}", content=b"x" * (limit + 1), headers=ONE_CLICK["headers"])
    assert big.status_code == 413

    def chunks():  # no Content-Length: the app must count what arrives
        for _ in range(limit // 1000 + 2):
            yield b"y" * 1000

    chunked = httpx.post(f"{url}/u/{token()}", content=chunks(), headers=ONE_CLICK["headers"])
    assert chunked.status_code == 413
    assert store.unsubscribed(TITLE) == set()
    assert httpx.post(f"{url}/u/{token()}", content=b"z" * limit).status_code == 200  # at the limit: fine


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/issues/../../secret.txt", "/%2e%2e/secret.txt", "/issues/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt", "/issues/..%2f..%2fsecret.txt", "/%2e%2e%5csecret.txt", "//etc/passwd",
    "/../../../../etc/passwd",
])
def test_paths_out_of_the_archive_are_refused(web, path):
    _, _, url, folder = web
    (folder.parent / "secret.txt").write_text("TOP SECRET: the store's neighbour\n")
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path)  # sent as written: no client-side normalising of ".."
    r = conn.getresponse()
    body = r.read().decode(errors="replace")
    conn.close()
    assert r.status in (400, 404), (path, r.status)
    assert "TOP SECRET" not in body and "root:" not in body


def test_the_app_writes_nothing_but_the_store(web):
    _, store, url, folder = web
    tmp_path = folder.parent.parent  # the config's folder's parent: everything the site's config names

    def files() -> dict[str, str]:
        return {str(p.relative_to(tmp_path)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in tmp_path.rglob("*") if p.is_file() and not re.search(r"\.db(-wal|-shm|-journal)?$", p.name)}

    before = files()
    httpx.get(url + "/")
    httpx.get(f"{url}/u/{token()}")
    httpx.post(f"{url}/u/{token()}", **ONE_CLICK)
    httpx.post(f"{url}/u/{'A' * 43}", **ONE_CLICK)
    assert files() == before
    assert store.unsubscribed(TITLE) == {READER}


def test_send_skips_the_unsubscribed_and_gives_each_recipient_a_link_of_their_own(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_WEB_SECRET", SECRET)
    cfg = web_config(tmp_path, base_url=BASE, archive="site")
    store = Store.open(cfg.store_url)
    try:
        store.unsubscribe(TITLE, NEWSROOM, DEMO_MORNING)
        outbox = tmp_path / "outbox"
        page = cfg.resolve("site") / "issues" / "2026-11-25.html"
        page_there = []

        class Outbox(FileTransport):  # notes whether the page the message links to is up as it goes out
            def send(self, message, recipient):
                page_there.append(page.is_file())
                return super().send(message, recipient)

        edges = Edges(store, FixedClock(DEMO_MORNING), extractive_summarizer(), transport=Outbox(outbox))
        sent = send(cfg, edges)
    finally:
        store.close()
    assert [d.recipient for d in sent.deliveries] == [READER]
    [eml] = list(outbox.glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert re.sub(r"\r?\n[ \t]", " ", msg["List-Unsubscribe"]) == (f"<{BASE}u/{token(READER)}>, "
                                       "<mailto:brief@meridian-brief.example.com?subject=unsubscribe>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The footer links to the reader's own page too, in both parts.
    own = f"{BASE}u/{token(READER)}"
    html, text = msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content()
    assert re.search(rf'<a class="link" href="{re.escape(own)}"[^>]*>Unsubscribe from {TITLE}</a>', html)
    assert f"Unsubscribe:\n{own}\n" in text
    assert "RECIPIENT-TOKEN" not in html + text
    # ...and the send wrote the archive, with the page its "View in browser" link names, before mailing.
    assert f"{BASE}issues/2026-11-25.html" in msg.get_body(("html",)).get_content()
    assert page_there == [True]


def test_a_dry_run_leaves_the_unsubscribed_out(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    store = Store.open(cfg.store_url)
    try:
        store.unsubscribe(TITLE, NEWSROOM, DEMO_MORNING)
        dry = dry_run(cfg, Edges(store, FixedClock(DEMO_MORNING), extractive_summarizer()))
    finally:
        store.close()
    assert dry.would_send == [READER]


def test_send_without_the_secret_says_which_variable_to_set(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    result = run_cli("send", "--config", str(cfg.path), env={"NEWSLETTER_WEB_SECRET": ""})
    assert result.exit_code == 2
    assert "[web] secret_env" in result.stderr and "NEWSLETTER_WEB_SECRET" in result.stderr
    assert not (tmp_path / "config" / "outbox").exists()


@pytest.mark.parametrize("secret", ["", "sixteen-minus-1"])
def test_check_refuses_with_sends_message_a_config_whose_links_have_no_key(tmp_path, secret):
    """check said "config ok" and send then stopped at exit 2: check must not pass what send refuses."""
    cfg = web_config(tmp_path, base_url=BASE)
    env = {"NEWSLETTER_WEB_SECRET": secret}
    checked, sent = (run_cli(command, "--config", str(cfg.path), env=env) for command in ("check", "send"))
    assert (checked.exit_code, sent.exit_code) == (2, 2)
    assert "config ok" not in checked.stdout and "Traceback" not in checked.stderr
    assert checked.stderr == sent.stderr and "[web] secret_env" in checked.stderr
    assert ("is not set" if not secret else "shorter than 16 characters") in checked.stderr
    ok = run_cli("check", "--config", str(cfg.path), env={"NEWSLETTER_WEB_SECRET": SECRET})
    assert ok.exit_code == 0 and "config ok" in ok.stdout, ok.stderr


def test_check_counts_the_unsubscribed_and_resubscribe_lets_one_back(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    store = Store.open(cfg.store_url)
    store.unsubscribe(TITLE, READER, DEMO_MORNING)
    store.close()
    keyed = {"NEWSLETTER_WEB_SECRET": SECRET}  # check, like send, needs the links' key
    checked = run_cli("check", "--config", str(cfg.path), env=keyed).stdout
    assert "1 unsubscribed address:" in checked and f"`newsletter resubscribe -c {cfg.path} ADDR`" in checked
    result = run_cli("resubscribe", "--config", str(cfg.path), "Reader@Example.org")
    assert result.exit_code == 0 and "resubscribed" in result.stdout
    assert "0 unsubscribed addresses" in run_cli("check", "--config", str(cfg.path), env=keyed).stdout
    assert "had not unsubscribed" in run_cli("resubscribe", "--config", str(cfg.path), READER).stdout


def test_resubscribing_an_address_that_gets_no_issues_says_where_to_add_it(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    said = run_cli("resubscribe", "--config", str(cfg.path), "zed@nowhere.example").stdout
    assert "not in [newsletter] to" in said and str(cfg.path) in said.replace("\n", "")


@pytest.mark.parametrize("ctrl_c_ignored", [False, True], ids=["foreground", "started-with-&"])
def test_newsletter_serve_answers_one_click_and_logs_no_token(tmp_path, ctrl_c_ignored):
    cfg = web_config(tmp_path, base_url=BASE, archive="site")
    store = Store.open(cfg.store_url)
    record_demo_issues(cfg, store)
    write_archive(cfg, store, cfg.resolve("site"))
    store.close()
    env = {"NEWSLETTER_WEB_SECRET": SECRET}
    with NewsletterProcess("-vv", "serve", "--config", cfg.path, "--port", "0", cwd=tmp_path, env=env,
                           ctrl_c_ignored=ctrl_c_ignored) as proc:
        line = proc.wait_for("serving http://127.0.0.1:")
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert httpx.get(url).status_code == 200
        assert httpx.post(f"{url}u/{token()}", **ONE_CLICK).status_code == 200
        assert httpx.post(f"{url}u/{'A' * 43}", **ONE_CLICK).status_code == 403
        assert proc.interrupt() == 0, proc.stderr  # Ctrl-C is how a server stops: no failure
    assert "server stopped" in proc.stdout and "aborted" not in proc.stderr
    store = Store.open(cfg.store_url)
    assert store.unsubscribed(TITLE) == {READER}
    store.close()
    logs = proc.stdout + proc.stderr
    assert token() not in logs and SECRET not in logs
    # The operator hears of the refused link (a reader's link signed with another key fails the same way).
    assert "1 link refused" in proc.stderr and "NEWSLETTER_WEB_SECRET" in proc.stderr, proc.stderr


def test_serve_without_an_archive_says_how_to_make_one(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE, archive="site")
    result = run_cli("serve", "--config", str(cfg.path), env={"NEWSLETTER_WEB_SECRET": SECRET})
    assert result.exit_code != 0 and f"run `newsletter archive -c {cfg.path}` first" in result.stderr


def test_serve_on_a_port_in_use_says_how_to_pick_another(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE, archive="site")
    cfg.resolve("site").mkdir()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = run_cli("serve", "--config", str(cfg.path), "--port", port, env={"NEWSLETTER_WEB_SECRET": SECRET})
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr


def test_your_own_unsubscribe_page_is_used(tmp_path):
    cfg = web_config(tmp_path, base_url=BASE)
    own = tmp_path / "mine"
    (own / "web").mkdir(parents=True)
    (own / "web" / "unsubscribe.html").write_text("<p>{{ site.title }}: {{ state }}</p>\n")
    store = Store.open(cfg.store_url)
    try:
        with served(make_app(cfg, store, tmp_path, SECRET, own_templates=own)) as url:
            assert httpx.get(f"{url}/u/{token()}").text == f"<p>{TITLE}: confirm</p>\n"
    finally:
        store.close()


def test_send_to_an_address_that_unsubscribed_says_so_instead_of_nothing(tmp_path):
    """`send --to` an address that left by its link printed nothing at all: the editor could not tell why."""
    cfg = web_config(tmp_path, base_url=BASE)
    store = Store.open(cfg.store_url)
    store.unsubscribe(TITLE, READER, DEMO_MORNING)
    store.close()
    keyed = {"NEWSLETTER_WEB_SECRET": SECRET}
    for extra in (["--dry-run"], []):
        result = run_cli("send", "--config", str(cfg.path), "--to", READER, *extra, env=keyed)
        said = " ".join(result.stdout.split())
        assert result.exit_code == 0, result.stderr
        assert f"unsubscribed, skipped: {READER}; `newsletter resubscribe -c {cfg.path} ADDR`" in said, said
        assert "every recipient has" not in said
    assert list((tmp_path / "config" / "outbox").glob("*.eml")) == []


def test_a_reader_who_left_by_the_link_is_owed_nothing_in_status_or_the_services_send_line(tmp_path, monkeypatch,
                                                                                           caplog):
    """Once a reader had unsubscribed, every later issue read "1 owed" in `status` and in run's send line
    (outcome "owed", what a monitor alerts on), and status promised a retry that would serve no one."""
    import json
    import logging

    from newsletter.config import load_config
    from newsletter.service import Service
    from service_helpers import zone_at_noon

    monkeypatch.setenv("NEWSLETTER_WEB_SECRET", SECRET)
    cfg = web_config(tmp_path, base_url=BASE)
    # Today's issue due at 18:00: status would name a retry for anyone still owed it.
    cfg.path.write_text(cfg.path.read_text().replace('"Europe/Berlin"', f'"{zone_at_noon()}"')
                        .replace('send_at = "07:00"', 'send_at = "18:00"'))
    cfg = load_config(cfg.path)
    store = Store.open(cfg.store_url)
    store.unsubscribe(TITLE, NEWSROOM, DEMO_MORNING)
    store.close()
    assert run_cli("send", "--config", str(cfg.path), env={"NEWSLETTER_WEB_SECRET": SECRET}).exit_code == 0
    with caplog.at_level(logging.INFO, logger="newsletter.service"):
        Service([cfg]).send()  # the service's send of the same day: the reader left has it already
    [line] = [r for r in caplog.records if getattr(r, "job", None) == "send" and hasattr(r, "owed")]
    assert (line.owed, line.outcome) == (0, "ok"), line.getMessage()
    report = json.loads(run_cli("status", "--json", "--config", str(cfg.path)).stdout)
    assert report["last_issue"]["recipients"] == {"sent": 1, "failed": 0, "owed": 0, "refused": []}
    assert report["retry"] is None, report["retry"]
