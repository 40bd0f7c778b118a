"""Exactly once through crashes: `newsletter run` killed with SIGKILL mid-send and restarted, `newsletter send`
stopped by Ctrl-C, two daemons on one store, and what SMTP 4xx and 5xx replies do.

The guarantee under test (README, "Running it as a service"): every recipient gets the issue, never two
different issues, and at most one duplicate per crash, only for the one message in flight when the
process died (after the server accepted it, before "sent" was recorded), with the same Message-ID.

Kills are placed by a seeded random on states (messages the server accepted, deliveries recorded), never
by time; the server answers each DATA a little slowly so that the kills land mid-send.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import NewsletterProcess, config_data, mail_server, run_cli, write_config
from newsletter.owners import machine
from newsletter.store import CLAIM_LEASE, Store
from service_helpers import feed_file, zone_at_noon, log_lines, wait_until

RECIPIENTS = [f"reader{n:02d}@example.org" for n in range(50)]
KILLS = 20
SEED = 12
DATA_DELAY_S = 0.02  # the server's pause before accepting each message: kills land between messages
SPIN_S = 0.002  # how often the test looks at the inbox or the store while aiming a kill
STATE_WAIT_S = 60

pytestmark = pytest.mark.long  # real processes started, killed and restarted


class _Inbox:
    """aiosmtpd handler: keeps each accepted message; refuses or defers addresses like a real server."""

    def __init__(self, *, refuse: str = "", defer_once: str = "", delay: float = 0.0):
        self.refuse, self.defer_once, self.delay = refuse, defer_once, delay
        self.received: list[tuple[str, email.message.EmailMessage]] = []
        self.rcpt_tries: Counter[str] = Counter()
        self.sessions: list = []  # each connection that named a recipient
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if server not in self.sessions:
                self.sessions.append(server)
        self.rcpt_tries[address] += 1
        if address == self.refuse:
            return "550 5.1.1 No such mailbox"
        if address == self.defer_once and self.rcpt_tries[address] == 1:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:  # accepted from here on: a kill now falls inside the window
            self.received += [(rcpt, msg) for rcpt in envelope.rcpt_tos]
        return "250 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def settled(self) -> bool:
        """Whether the server has seen every connection close. Until then a message whose DATA it read
        before the client died may still be accepted: counted too early, it looked like a stray duplicate."""
        with self.lock:
            return all(s.transport is None for s in self.sessions)


def _config(folder: Path, port: int, to: list[str], store: str = "state.db", **delivery) -> Path:
    data = config_data(newsletter={"title": "Fenwick Morning", "from": "morning@fenwick.example", "to": to,
                                   "max_age_hours": 0, "send_at": "00:00", "grace_hours": 24,
                                   "timezone": zone_at_noon()},
                       topics=[{"name": "Local", "feeds": [str(feed_file(folder))]}], store={"url": store},
                       delivery={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": port,
                                                               "security": "none", "timeout": 30}, **delivery})
    return write_config(folder, data)


class _Rows:
    """The deliveries as the store holds them, read through one engine (the test looks often)."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url)

    def __call__(self) -> dict[str, str]:
        try:
            with self.engine.connect() as conn:
                return dict(conn.execute(sa.text("SELECT recipient, status FROM deliveries")).all())
        except sa.exc.ProgrammingError:
            return {}  # not created yet: the first process is still starting (PostgreSQL)
        except sa.exc.OperationalError:
            return {}  # not created yet (SQLite)

    def all_sent(self, n: int) -> bool:
        rows = self()
        return len(rows) == n and all(s == "sent" for s in rows.values())

    def close(self) -> None:
        self.engine.dispose()


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
    engine.dispose()
    return n


def _spin_until(condition, what: str) -> None:
    deadline = time.monotonic() + STATE_WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(SPIN_S)


def test_kill_9_at_random_points_of_a_send_loses_no_one_and_duplicates_only_the_message_in_flight(tmp_path):
    rng = random.Random(SEED)
    inbox = _Inbox(delay=DATA_DELAY_S)
    db = f"sqlite:///{tmp_path / 'state.db'}"
    rows = _Rows(db)
    # Where each kill falls: after the server accepted the n-th message (the window: accepted, not yet
    # recorded), after the n-th "sent" was recorded (outside it), or as soon as the process is up (in the
    # build, or before the first claim).
    points = sorted(rng.sample(range(1, len(RECIPIENTS)), KILLS))
    kinds = [rng.choice(["accepted", "recorded", "started"]) for _ in points]
    # Per recipient, the kills that left it "sending" after the server had taken its message (the window),
    # told apart by how many copies the server then held: a later kill before the resend is the same one.
    in_window: defaultdict[str, set[int]] = defaultdict(set)
    with mail_server(inbox) as port:
        cfg = _config(tmp_path, port, RECIPIENTS)
        for point, kind in zip(points, kinds):
            with NewsletterProcess("run", "--config", cfg, cwd=tmp_path) as proc:
                if kind == "accepted":
                    _spin_until(lambda: inbox.count() >= point or proc.proc.poll() is not None, "a message")
                elif kind == "recorded":
                    _spin_until(lambda: sum(s == "sent" for s in rows().values()) >= point
                                or proc.proc.poll() is not None, "a recorded delivery")
                else:
                    proc.wait_for("newsletter running")
                assert proc.proc.poll() is None, f"the process ended by itself: {proc.stderr}"
                proc.proc.kill()
                proc.wait()
            _spin_until(inbox.settled, "the mail server to see the killed process's connection close")
            held = Counter(r for r, _ in inbox.received)
            for r, status in rows().items():
                if status == "sending" and held[r]:
                    in_window[r].add(held[r])
        # The last start, left alone, finishes the issue.
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
            wait_until(lambda: rows.all_sent(len(RECIPIENTS)), "every recipient to be recorded as sent")
            proc.wait_for('"owed": 0', stream="stderr")
            assert proc.interrupt() == 0, proc.stderr
    rows.close()

    copies = Counter(r for r, _ in inbox.received)
    assert set(copies) == set(RECIPIENTS)  # never a lost issue
    assert _count(db, "issues") == 1
    by_rcpt = defaultdict(set)
    for rcpt, msg in inbox.received:
        by_rcpt[rcpt].add((msg["Message-ID"], msg["Subject"], msg["Date"], msg.get_body(("plain",)).get_content()))
    assert all(len(v) == 1 for v in by_rcpt.values())  # copies are one message: same id, same issue
    # A duplicate exactly where a kill fell inside the window, one per such kill, and nowhere else.
    duplicated = {r: n - 1 for r, n in copies.items() if n > 1}
    assert duplicated == {r: len(kills) for r, kills in in_window.items()}
    print(f"\n{KILLS} kills ({dict(Counter(kinds))}): {sum(duplicated.values())} duplicates, each from a kill "
          "inside the one-message window")


def test_ctrl_c_during_send_finishes_the_message_in_flight_and_says_what_is_owed(tmp_path):
    inbox = _Inbox(delay=0.5)  # slow enough that Ctrl-C lands while a message is in flight
    to = RECIPIENTS[:5]
    rows = _Rows(f"sqlite:///{tmp_path / 'state.db'}")
    with mail_server(inbox) as port:
        cfg = _config(tmp_path, port, to)
        # Buffered, as when stdout goes to a file: each line must be flushed as it is printed to be seen here.
        with NewsletterProcess("send", "--config", cfg, cwd=tmp_path, env={"PYTHONUNBUFFERED": ""}) as proc:
            proc.wait_for(f"sent {to[0]}")
            assert proc.interrupt() == 130, (proc.stdout, proc.stderr)
        lines = proc.stdout.splitlines()
        sent = [line.split()[1] for line in lines if line.startswith("sent ")]
        assert lines[0].startswith("Fenwick Morning — ")  # the issue's line came before the first message
        assert 1 <= len(sent) < len(to) and sent == to[:len(sent)]
        assert sorted(r for r, _ in inbox.received) == sorted(sent)  # the message in flight went, and was recorded
        assert {r for r, status in rows().items() if status == "sent"} == set(sent)
        assert lines[-1] == (f"interrupted: {len(sent)} sent, {len(to) - len(sent)} owed; "
                             f"run `newsletter send -c {cfg}` again to finish")
        assert "Traceback" not in proc.stderr and "aborted" not in proc.stderr

        inbox.delay = 0  # nothing to interrupt now: the rest need not be slow
        again = run_cli("send", "-c", str(cfg), cwd=tmp_path)
        assert again.exit_code == 0, again.stderr
    assert sorted(r for r, _ in inbox.received) == sorted(to)  # each once
    assert all(rows()[r] == "sent" for r in to)
    rows.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_daemons_on_one_store_send_one_issue_once(tmp_path, backend, request):
    inbox = _Inbox()
    if backend == "sqlite":
        store, db = "state.db", f"sqlite:///{tmp_path / 'state.db'}"
    else:
        store = db = request.getfixturevalue("postgres").database("two_daemons")
    to = RECIPIENTS[:20]
    rows = _Rows(db)
    with mail_server(inbox) as port:
        cfg = _config(tmp_path, port, to, store=store)
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as one, \
                NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as two:
            wait_until(lambda: rows.all_sent(len(to)), "every recipient to be recorded as sent")
            for proc in (one, two):
                proc.wait_for('"job": "send"', stream="stderr")
            assert one.interrupt() == 0 and two.interrupt() == 0, one.stderr + two.stderr
    rows.close()
    assert sorted(r for r, _ in inbox.received) == sorted(to)  # each once
    assert len({msg["Subject"] for _, msg in inbox.received}) == 1 and _count(db, "issues") == 1
    sent_by = [line.get("sent", 0) for proc in (one, two) for line in log_lines(proc) if line.get("job") == "send"]
    assert sum(sent_by) == 20


def test_a_4xx_is_retried_and_a_5xx_fails_that_recipient_while_the_others_go_on(tmp_path):
    inbox = _Inbox(refuse="gone@example.org", defer_once="busy@example.org")
    to = ["ann@example.org", "gone@example.org", "busy@example.org", "bob@example.org"]
    rows = _Rows(f"sqlite:///{tmp_path / 'state.db'}")
    with mail_server(inbox) as port:
        cfg = _config(tmp_path, port, to, retry_minutes=0.01)
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
            proc.wait_for("trying again at", stream="stderr")
            wait_until(lambda: rows().get("busy@example.org") == "sent", "the deferred one to go out")
            proc.wait_for('"owed": 0', stream="stderr")
            assert proc.interrupt() == 0, proc.stderr
    assert sorted(r for r, _ in inbox.received) == ["ann@example.org", "bob@example.org", "busy@example.org"]
    assert inbox.rcpt_tries["busy@example.org"] == 2  # 451, then accepted on the retry
    assert inbox.rcpt_tries["gone@example.org"] == 1  # 550 is final: the retry does not ask again
    assert rows()["gone@example.org"] == "failed"
    rows.close()
    first = next(x for x in log_lines(proc) if x.get("job") == "send" and "sent" in x)
    assert (first["sent"], first["failed"], first["owed"]) == (2, 1, 1)


def test_a_claim_left_by_a_dead_process_here_is_free_at_once_and_one_from_another_host_after_the_lease(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{machine()}:{int(gone.stdout)}:1"  # a process of this machine that has exited
    # The same pid in another pid namespace of a host of this name (a container on the host's network,
    # named by its namespace or, as before, by the host name alone): that process may well run, and this
    # namespace cannot tell; such a claim was taken over at once, and the issue sent twice.
    containers = [f"{socket.gethostname()}/4026500000:{int(gone.stdout)}:1", f"{socket.gethostname()}:{int(gone.stdout)}:1"]
    now = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    issue = store.record_issue("k", created_at=now, subject="s", document={}, html="<p>", text="t", placements=[])
    store.owe(issue, ["a@x.example", "b@x.example"], message_ids={"a@x.example": "<a@x>", "b@x.example": "<b@x>"},
              transport="smtp", at=now)
    assert store.claim_recipient(issue, "a@x.example", now, dead)
    assert store.claim_recipient(issue, "b@x.example", now, "elsewhere.example:4242:1")
    soon = now + timedelta(seconds=1)
    assert store.claim_recipient(issue, "a@x.example", soon, "me:1:1")  # its owner is gone: resend now
    assert not store.claim_recipient(issue, "a@x.example", soon, "me:2:1")  # ...once
    assert not store.claim_recipient(issue, "b@x.example", soon, "me:1:1")  # maybe still sending, elsewhere
    assert store.claim_recipient(issue, "b@x.example", now + CLAIM_LEASE + timedelta(seconds=1), "me:1:1")
    # The day's build claim: the same rule.
    assert store.claim_issue("day2", dead, now) and store.claim_issue("day2", "me:1:1", soon)
    assert store.claim_issue("day3", "elsewhere.example:4242:1", now) and not store.claim_issue("day3", "me:1:1", soon)
    for n, container in enumerate(containers):
        assert store.claim_issue(f"day{4 + n}", container, now) and not store.claim_issue(f"day{4 + n}", "me:1:1", soon)
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_issue_recorded_after_a_sender_looked_for_it_is_not_claimed_again(tmp_path, backend, request):
    """Two senders look for today's issue at once and find none; one claims, builds and records it, its claim
    going with the record, and only then does the other ask for the claim. It got it: it built a second issue
    (a second bill from the model), delivered its own build to the recipients it claimed, and left its claim
    behind, since the record was there. Seen in the three-workers send test as a claim left in the store."""
    url = (f"sqlite:///{tmp_path / 'state.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres").database("claim_after_record"))
    now = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
    first, second = "elsewhere.example:1:1", "elsewhere.example:2:1"  # never presumed gone
    store = Store.open(url)
    try:
        assert store.stored_email("k") is None  # the second sender looks: nothing recorded yet
        assert store.claim_issue("k", first, now)
        store.record_issue("k", created_at=now, subject="s", document={}, html="<p>", text="t", placements=[],
                           owner=first)
        assert not store.claim_issue("k", second, now), "an issue recorded was claimed to be built again"
        # And a claim past its lease, on a key recorded since, is not taken over either.
        assert not store.claim_issue("k", second, now + CLAIM_LEASE * 2)
        assert _count(url, "issue_claims") == 0 and _count(url, "issues") == 1
    finally:
        store.close()


def test_a_build_claim_of_a_service_gone_quiet_elsewhere_is_taken_over_without_waiting_out_the_lease(tmp_path):
    """A `run` in a container killed mid-build held the day's claim for the whole 15-minute lease, and the issue
    went out that much later, though the store had seen the service stop beating minutes before."""
    now = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        quiet, busy = "elsewhere.example/4026500001:41", "elsewhere.example/4026500002:42"
        for service, seen in ((quiet, now - timedelta(minutes=5)), (busy, now - timedelta(seconds=30))):
            store.service_seen(f"{service}:tok", {"Brief": "d"}, worker=True, started_at=now - timedelta(hours=1),
                               at=seen)
        assert store.claim_issue("day1", f"{quiet}:140", now - timedelta(minutes=6))
        assert store.claim_issue("day2", f"{busy}:140", now - timedelta(minutes=6))
        assert store.claim_issue("day3", "cron-host.example:77:1", now - timedelta(minutes=6))  # no service
        assert store.claim_issue("day1", "me.example:1:1", now)  # silent for 5 minutes: gone
        assert not store.claim_issue("day2", "me.example:1:1", now)  # still beating: its build goes on
        assert not store.claim_issue("day3", "me.example:1:1", now)  # unknown: waits out the lease
        assert store.claim_issue("day3", "me.example:1:1", now - timedelta(minutes=6) + CLAIM_LEASE
                                 + timedelta(seconds=1))
    finally:
        store.close()


def test_a_build_claim_of_a_process_that_reuses_a_stopped_services_pid_is_not_taken_as_gone_quiet(tmp_path):
    """The store keeps a stopped `run`'s row for 30 days; a `send` from that host's cron that later got the same
    pid (after a reboot, or pid 1 in a new container with the namespace number reused) held the day's claim while
    building, and a `run` elsewhere took the old row's stop for the builder's: two builds, two model bills, though
    the README says a cron `send`'s claim waits out the lease."""
    now = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        host = "cron-host.example/4026531836:812"
        # Stopped cleanly yesterday; and another killed with its container a day ago, never stopped.
        store.service_seen(f"{host}:tok", {"Brief": "d"}, worker=False, started_at=now - timedelta(days=2),
                           at=now - timedelta(days=1))
        store.service_stopped(f"{host}:tok", now - timedelta(days=1))
        killed = "cron-host.example/4026532001:1"
        store.service_seen(f"{killed}:tok", {"Brief": "d"}, worker=False, started_at=now - timedelta(days=2),
                           at=now - timedelta(days=1))
        assert store.claim_issue("day1", f"{host}:140", now - timedelta(minutes=6))  # the cron send, building
        assert store.claim_issue("day2", f"{killed}:140", now - timedelta(minutes=6))
        assert not store.claim_issue("day1", "me.example:1:1", now), "a live cron send's claim was taken over"
        assert not store.claim_issue("day2", "me.example:1:1", now), "a live cron send's claim was taken over"
        # A service that stopped after it claimed (its stop released nothing: killed in the stop's last step)
        # is still the builder gone.
        late = "elsewhere.example/4026500003:43"
        store.service_seen(f"{late}:tok", {"Brief": "d"}, worker=False, started_at=now - timedelta(hours=1),
                           at=now - timedelta(minutes=7))
        assert store.claim_issue("day3", f"{late}:140", now - timedelta(minutes=6))
        store.service_stopped(f"{late}:tok", now - timedelta(minutes=5))
        assert store.claim_issue("day3", "me.example:1:1", now)
    finally:
        store.close()
