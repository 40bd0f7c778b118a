"""Stopping `newsletter run` with SIGTERM mid-job, as systemd does: real processes, real local servers.

Every wait is for something the process or a server says (a log line, a request arriving), never a
guessed time. Logs are read as JSON lines (--log-format json), which never wrap.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import NewsletterProcess, config_data, mail_server, write_config
from feedserver import FeedServer
from feeds_for_tests import item, rss
from openai_server import OpenAIServer, Reply
from service_helpers import STATE_WAIT_S, STOP_LIMIT_S, feed_file, log_lines, wait_until, zone_at_noon

RECIPIENTS = ["ann@example.org", "bob@example.org", "cy@example.org"]

pytestmark = pytest.mark.long  # real processes, stopped mid-job


def _config(folder: Path, feeds: list[str], *, smtp_port: int | None = None, llm: dict | None = None,
            **newsletter) -> Path:
    data = config_data(newsletter={"title": "Fenwick Morning", "from": "morning@fenwick.example",
                                   "to": RECIPIENTS, "max_age_hours": 0, **newsletter},
                       topics=[{"name": "Local", "feeds": feeds}], store={"url": "state.db"})
    if smtp_port is not None:
        data["delivery"] = {"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": smtp_port,
                                                           "security": "none", "timeout": 30}}
    if llm is not None:
        data["llm"] = llm
    return write_config(folder, data)


def _count(db: Path, table: str, where: str = "1 = 1") -> int:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        n = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table} WHERE {where}")).scalar()
    engine.dispose()
    return n


def _stop(proc: NewsletterProcess) -> int:
    proc.proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=STOP_LIMIT_S)


def test_sigterm_during_a_poll_cuts_it_off_cleanly_and_counts_no_failure(tmp_path):
    with FeedServer() as srv:
        srv.add("/slow.xml", rss(item("A", "https://x.example/a", guid="a")), delay=120)  # answers long after the test
        # Two hours after today's send_at, past one hour of grace: no catch-up send, the poll starts at once.
        cfg = _config(tmp_path, [srv.url("/slow.xml")], timezone=zone_at_noon(), send_at="10:00", grace_hours=1)
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
            proc.wait_for("newsletter running")
            wait_until(lambda: srv.hits("/slow.xml") >= 1, "the poll to reach the slow feed")
            assert _stop(proc) == 0, proc.stderr
    lines = log_lines(proc)
    assert any(line["message"].startswith("skipped today's 10:00 send: started ")
               and "past [newsletter] grace_hours = 1;" in line["message"] for line in lines)
    last = lines[-1]
    assert last["message"].startswith("stopped on SIGTERM; cut off: poll: the poll was cut off after 0 of 1 feeds")
    # Cut off is not failed: the feed's record is untouched, so it is not reported as failing.
    assert _count(tmp_path / "state.db", "feeds", "consecutive_failures > 0") == 0


def test_sigterm_during_a_build_records_no_issue_and_releases_the_claim(tmp_path):
    asked = threading.Event()

    def slow_model(_payload):
        asked.set()
        return Reply(content="not json", delay=1.5)  # slow, and unusable: the story falls back to extractive

    with OpenAIServer(slow_model) as model:
        cfg = _config(tmp_path, [str(feed_file(tmp_path))], send_at="00:00", grace_hours=24,
                      llm={"base_url": model.base_url, "concurrency": 1, "max_retries": 0, "give_up_after": 100})
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path,
                               env={"OPENAI_API_KEY": "sk-test"}) as proc:
            proc.wait_for("newsletter running")
            wait_until(asked.is_set, "the build to ask the model")
            assert _stop(proc) == 0, proc.stderr
        asked_in_all = len(model.chat_requests)
    db = tmp_path / "state.db"
    assert _count(db, "issues") == 0 and _count(db, "issue_claims") == 0 and _count(db, "deliveries") == 0
    # Stopped at the first story boundary after the answer in flight; a whole build asks 5 times here
    # (4 briefings and one batch of Recent news blurbs), and a loaded machine may start a second story.
    assert asked_in_all <= 2
    assert "the build of the issue stopped at a story boundary; nothing was recorded" in log_lines(proc)[-1]["message"]


class _SlowInbox:
    """A mail server whose first DATA waits until the test lets it answer."""

    def __init__(self):
        self.arrived, self.answer = threading.Event(), threading.Event()
        self.received: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.answer.wait, STATE_WAIT_S)
        self.received += envelope.rcpt_tos
        return "250 Message accepted"


@pytest.fixture
def slow_smtp():
    inbox = _SlowInbox()
    with mail_server(inbox) as port:
        try:
            yield inbox, port
        finally:
            inbox.answer.set()  # let a held message go, so the server can stop


def test_sigterm_during_a_send_finishes_the_message_in_flight_and_owes_the_rest(tmp_path, slow_smtp):
    inbox, port = slow_smtp
    cfg = _config(tmp_path, [str(feed_file(tmp_path))], smtp_port=port, send_at="00:00", grace_hours=24)
    with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
        proc.wait_for("newsletter running")
        wait_until(inbox.arrived.is_set, "the first message to reach DATA")
        proc.proc.send_signal(signal.SIGTERM)
        proc.wait_for("SIGTERM: stopping; no new jobs; waiting for: sending", stream="stderr")
        inbox.answer.set()  # the server accepts the message in flight only now
        assert proc.wait(timeout=STOP_LIMIT_S) == 0, proc.stderr
    assert inbox.received == RECIPIENTS[:1]
    assert "stopped after the message in flight; 2 recipients owed" in log_lines(proc)[-1]["message"]
    sent = [line for line in log_lines(proc) if line.get("job") == "send" and "sent" in line]
    assert [(s["sent"], s["owed"]) for s in sent] == [(1, 2)]

    # The next start sends the same issue to the two still owed, and only to them.
    with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as again:
        again.wait_for("issue sent to 2", stream="stderr")
        assert _stop(again) == 0, again.stderr
    assert sorted(inbox.received) == sorted(RECIPIENTS)
    assert _count(tmp_path / "state.db", "issues") == 1


def test_a_second_signal_exits_at_once(tmp_path, slow_smtp):
    inbox, port = slow_smtp
    cfg = _config(tmp_path, [str(feed_file(tmp_path))], smtp_port=port, send_at="00:00", grace_hours=24)
    with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
        proc.wait_for("newsletter running")
        wait_until(inbox.arrived.is_set, "the first message to reach DATA")
        proc.proc.send_signal(signal.SIGTERM)
        proc.wait_for("SIGTERM: stopping", stream="stderr")
        proc.proc.send_signal(signal.SIGINT)  # the mail server still holds the message: only this can end it
        assert proc.wait(timeout=STOP_LIMIT_S) == 128 + signal.SIGINT
    assert "second SIGINT: exiting now" in proc.stderr
    # --log-format json: a collector reads every line of stderr as one JSON object, this last one too.
    last = json.loads(proc.stderr.strip().splitlines()[-1])
    assert last["message"] == "second SIGINT: exiting now" and last["level"] == "warning"
    assert inbox.received == []


def test_a_send_waiting_for_another_process_to_build_gives_up_when_the_service_stops(tmp_path):
    from newsletter.clock import FixedClock
    from newsletter.config import load_config
    from newsletter.edges import Edges, make_transport
    from newsletter.pipeline import send, todays_key
    from newsletter.store import Store

    cfg = load_config(_config(tmp_path, [str(feed_file(tmp_path))]))
    now = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
    store = Store.open(cfg.store_url)
    assert store.claim_issue(todays_key(cfg, now), "another-process", now)  # building it, as far as we know
    stop, outcome = threading.Event(), []
    edges = Edges(store, FixedClock(now), transport=make_transport(cfg), stop=stop)
    sender = threading.Thread(target=lambda: outcome.append(send(cfg, edges)), daemon=True)
    sender.start()
    stop.set()
    sender.join(timeout=STATE_WAIT_S)  # without the stop it waits out the claim's 15-minute lease
    store.close()
    assert not sender.is_alive() and outcome[0].in_progress and outcome[0].deliveries == []


def test_sighup_reloads_nothing_and_says_to_restart_instead_of_killing_the_service(tmp_path):
    # An operator's `kill -HUP` (many daemons' reload) ended the process silently, by SIGHUP's default.
    cfg = _config(tmp_path, [str(feed_file(tmp_path))], timezone=zone_at_noon(), send_at="10:00", grace_hours=1)
    with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
        proc.wait_for("newsletter running")
        proc.proc.send_signal(signal.SIGHUP)
        line = proc.wait_for("SIGHUP", stream="stderr")
        assert proc.proc.poll() is None, proc.stderr  # still running
        assert _stop(proc) == 0
    assert "restart" in line and str(cfg) in line, line
    assert any(r.get("job") == "reload" and r["level"] == "warning" for r in log_lines(proc))
