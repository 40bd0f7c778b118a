"""Several newsletters from one deployment: `newsletter run -c a.toml -c b.toml`, one process, one scheduler.

Real processes against real local servers (feeds over HTTP, aiosmtpd); every wait is for a log line or a
server's state, never a guessed time.
"""

from __future__ import annotations

import email
import email.policy
import json
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from conftest import NewsletterProcess, config_data, mail_server, run_cli, write_config
from feedserver import FeedServer
from feeds_for_tests import item, rss
from service_helpers import zone_at_noon, log_lines, wait_until

MORNING = ["ann@example.org", "bob@example.org"]
WEEKLY = ["cy@example.org"]


class _Inbox:
    def __init__(self):
        self.received: list[tuple[str, email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received += [(rcpt, msg) for rcpt in envelope.rcpt_tos]
        return "250 Message accepted"


def _feeds(srv: FeedServer) -> None:
    """One feed both newsletters read, and one each of their own."""
    for path, town in (("/shared.xml", "Fenwick"), ("/harbour.xml", "Harbour"), ("/valley.xml", "Valley")):
        srv.add(path, rss(*[item(f"{town} story {n} about the {word}", f"https://{town.lower()}.example/{n}",
                                 guid=f"{town}{n}", body=f"The {town} {word} story {n} happened on Monday.")
                            for n, word in enumerate(["ferry", "school", "bridge"])], title=f"{town} Gazette"))


def _newsletter(folder: Path, name: str, title: str, to: list[str], feeds: list[str], *, smtp_port: int,
                **newsletter) -> Path:
    data = config_data(newsletter={"title": title, "from": "brief@example.com", "to": to, "max_age_hours": 0,
                                   **newsletter},
                       topics=[{"name": "Local", "feeds": feeds}], store={"url": "state.db"},
                       delivery={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": smtp_port,
                                                               "security": "none", "timeout": 30}})
    return write_config(folder, data, name)


@pytest.mark.long
def test_two_newsletters_from_one_process_each_go_to_their_own_readers_once(tmp_path):
    inbox = _Inbox()
    with FeedServer() as srv, mail_server(inbox) as port:
        _feeds(srv)
        # Both overdue (00:00, a day of grace): each sends at once, on its own schedule and zone.
        a = _newsletter(tmp_path, "morning.toml", "Harbour Morning", MORNING,
                        [srv.url("/shared.xml"), srv.url("/harbour.xml")], smtp_port=port,
                        send_at="00:00", grace_hours=24, timezone=zone_at_noon())
        b = _newsletter(tmp_path, "weekly.toml", "Valley Weekly", WEEKLY,
                        [srv.url("/shared.xml"), srv.url("/valley.xml")], smtp_port=port,
                        send_at="00:00", grace_hours=24, timezone=zone_at_noon())
        with NewsletterProcess("--log-format", "json", "run", "-c", a, "-c", b, cwd=tmp_path) as proc:
            proc.wait_for("(Harbour Morning)")
            proc.wait_for("(Valley Weekly)")
            wait_until(lambda: len(inbox.received) >= 3, "both newsletters to go out")
            proc.wait_for("send [Valley Weekly]: issue sent to 1", stream="stderr")
            proc.wait_for("send [Harbour Morning]: issue sent to 2", stream="stderr")
            assert proc.interrupt() == 0, proc.stderr
    got = {rcpt: msg["Subject"] for rcpt, msg in inbox.received}
    assert Counter(rcpt for rcpt, _ in inbox.received) == Counter(MORNING + WEEKLY)  # once each
    assert all(got[r].startswith("Harbour Morning") for r in MORNING)
    assert got["cy@example.org"].startswith("Valley Weekly")
    bodies = {rcpt: msg.get_body(("plain",)).get_content() for rcpt, msg in inbox.received}
    assert "Valley" not in bodies["ann@example.org"] and "Harbour" not in bodies["cy@example.org"]
    sends = [line for line in log_lines(proc) if line.get("job") == "send" and "sent" in line]
    assert sorted(line["newsletter"] for line in sends) == ["Harbour Morning", "Valley Weekly"]


def test_a_newsletter_sent_first_leaves_the_other_its_own_window_and_stories(tmp_path):
    """Two newsletters on one store: what one sent is not the other's "already sent", and its send does not
    start the other's window, so the second still gets the shared feed's stories."""
    inbox = _Inbox()
    with FeedServer() as srv, mail_server(inbox) as port:
        _feeds(srv)
        a = _newsletter(tmp_path, "morning.toml", "Harbour Morning", MORNING,
                        [srv.url("/shared.xml"), srv.url("/harbour.xml")], smtp_port=port)
        b = _newsletter(tmp_path, "weekly.toml", "Valley Weekly", WEEKLY,
                        [srv.url("/shared.xml"), srv.url("/valley.xml")], smtp_port=port)
        first = run_cli("send", "-c", str(a), cwd=tmp_path)
        assert first.exit_code == 0, first.stderr
        second = run_cli("send", "-c", str(b), cwd=tmp_path)
        assert second.exit_code == 0, second.stderr
    bodies = {rcpt: msg.get_body(("plain",)).get_content() for rcpt, msg in inbox.received}
    assert "Fenwick" in bodies["ann@example.org"]
    assert "Fenwick" in bodies["cy@example.org"] and "Valley" in bodies["cy@example.org"]


def test_a_feed_two_newsletters_read_is_fetched_once_per_poll(tmp_path):
    with FeedServer() as srv:
        _feeds(srv)
        # Past send_at and past grace: no catch-up send, so the start polls at once.
        a = _newsletter(tmp_path, "morning.toml", "Harbour Morning", MORNING,
                        [srv.url("/shared.xml"), srv.url("/harbour.xml")], smtp_port=1,
                        send_at="10:00", grace_hours=1, timezone=zone_at_noon())
        b = _newsletter(tmp_path, "weekly.toml", "Valley Weekly", WEEKLY,
                        [srv.url("/valley.xml"), srv.url("/shared.xml")], smtp_port=1,
                        send_at="10:00", grace_hours=1, timezone=zone_at_noon())
        with NewsletterProcess("--log-format", "json", "run", "-c", a, "-c", b, cwd=tmp_path) as proc:
            line = proc.wait_for('"job": "poll"', stream="stderr")
            assert proc.interrupt() == 0, proc.stderr
        hits = {path: srv.hits(path) for path in ("/shared.xml", "/harbour.xml", "/valley.xml")}
    assert hits == {"/shared.xml": 1, "/harbour.xml": 1, "/valley.xml": 1}
    assert json.loads(line)["message"] == "poll: 3 feeds, 9 new articles, 0 failed"
    skipped = [x["message"] for x in log_lines(proc) if x.get("outcome") == "skipped"]
    assert sorted(m.split(":")[0] for m in skipped) == ["Harbour Morning", "Valley Weekly"]


def test_status_shows_each_newsletter(tmp_path):
    (tmp_path / "feed.xml").write_text(rss(item("A", "https://x.example/a", guid="a")))
    a = _newsletter(tmp_path, "morning.toml", "Harbour Morning", MORNING, ["feed.xml"], smtp_port=1,
                    send_at="07:00", timezone="Europe/London", days="weekdays")
    b = _newsletter(tmp_path, "weekly.toml", "Valley Weekly", WEEKLY, ["feed.xml"], smtp_port=1,
                    send_at="18:30", timezone="America/New_York", days=["fri"])
    assert run_cli("fetch", "-c", str(a), cwd=tmp_path).exit_code == 0  # the store both use, with no issue yet
    shown = run_cli("status", "-c", str(a), "-c", str(b), "--json", cwd=tmp_path)
    assert shown.exit_code == 0, shown.stderr
    reports = json.loads(shown.stdout)["newsletters"]
    assert [(r["newsletter"], r["next_send"]["days"]) for r in reports] == [
        ("Harbour Morning", "weekdays"), ("Valley Weekly", ["fri"])]
    assert reports[0]["next_send"]["local"][11:16] == "07:00" and reports[1]["next_send"]["local"][11:16] == "18:30"
    text = run_cli("status", "-c", str(a), "-c", str(b), cwd=tmp_path).stdout
    assert text.index("Harbour Morning") < text.index("Valley Weekly") and text.count("last issue: none") == 2


def test_two_newsletters_with_one_title_is_one_message_naming_the_second_file(tmp_path):
    (tmp_path / "feed.xml").write_text(rss(item("A", "https://x.example/a", guid="a")))
    a = _newsletter(tmp_path, "a.toml", "Same Brief", MORNING, ["feed.xml"], smtp_port=1)
    b = _newsletter(tmp_path, "b.toml", "Same Brief", WEEKLY, ["feed.xml"], smtp_port=1)
    result = run_cli("run", "-c", str(a), "-c", str(b), cwd=tmp_path)
    assert result.exit_code != 0
    said = " ".join(result.stderr.split())
    assert "b.toml" in said and "[newsletter] title" in said and "a.toml" in said and "own title" in said


def test_one_file_given_twice_is_told_as_that_not_as_a_title_clash_with_itself(tmp_path):
    (tmp_path / "feed.xml").write_text(rss(item("A", "https://x.example/a", guid="a")))
    a = _newsletter(tmp_path, "a.toml", "Same Brief", MORNING, ["feed.xml"], smtp_port=1)
    result = run_cli("run", "-c", str(a), "-c", "./a.toml", cwd=tmp_path)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and said.count("error") == 1, said
    assert f"{a}: this file was given twice" in said and "also the title" not in said


def test_two_newsletters_at_one_web_address_are_refused_naming_both_files(tmp_path):
    # One `serve` answers one newsletter's unsubscribe links: the other's readers would get a 403.
    (tmp_path / "feed.xml").write_text(rss(item("A", "https://x.example/a", guid="a")))
    web = {"base_url": "https://news.example.org/brief"}  # no secret set: before the check, run stopped on that
    a = _newsletter(tmp_path, "a.toml", "Harbour Morning", MORNING, ["feed.xml"], smtp_port=1)
    b = _newsletter(tmp_path, "b.toml", "Valley Weekly", WEEKLY, ["feed.xml"], smtp_port=1)
    for path, extra in ((a, {}), (b, {"base_url": "https://news.example.org/brief/"})):
        data = tomllib.loads(path.read_text())
        write_config(tmp_path, {**data, "web": {**web, **extra}}, path.name)
    result = run_cli("run", "-c", str(a), "-c", str(b), cwd=tmp_path)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and said.count("error") == 1, said
    assert f"{b}: [web] base_url" in said and str(a) in said and "its own" in said


def test_two_newsletters_writing_one_archive_folder_are_refused(tmp_path):
    (tmp_path / "feed.xml").write_text(rss(item("A", "https://x.example/a", guid="a")))
    a = _newsletter(tmp_path, "a.toml", "Harbour Morning", MORNING, ["feed.xml"], smtp_port=1)
    b = _newsletter(tmp_path, "b.toml", "Valley Weekly", WEEKLY, ["feed.xml"], smtp_port=1)
    for path, base in ((a, "https://news.example.org/a/"), (b, "https://news.example.org/b/")):
        data = tomllib.loads(path.read_text())
        write_config(tmp_path, {**data, "web": {"base_url": base, "archive": "site"}}, path.name)
    said = " ".join(run_cli("run", "-c", str(a), "-c", str(b), cwd=tmp_path).stderr.split())
    assert f"{b}: [web] archive" in said and str(tmp_path / "site") in said and str(a) in said
