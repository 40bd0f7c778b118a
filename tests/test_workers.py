"""Scaling out: several `newsletter run --worker` processes on one real PostgreSQL store.

2,000 feeds on a local HTTP server: each is fetched once per interval by one worker; a worker killed
mid-poll loses its feeds only until its lease runs out; three newsletters go out once each. Waits are
for states in the store, never for a guessed time.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import NewsletterProcess, config_data, mail_server, run_cli, write_config
from feedserver import FeedServer, Response
from feeds_for_tests import item, rss
from service_helpers import zone_at_noon, log_lines, wait_until

FEEDS = 2000
WORKERS = 3
STATE_WAIT_S = 120  # generous: three processes fetching 2,000 feeds on a loaded machine
KILL_FEEDS = 600  # enough for a poll in several batches across three workers; 2,000 only cost time here
KILL_LEASE_S = 6  # short, so the test waits little for it to run out; well over a batch on a busy machine
TITLES = ("Harbour Morning", "Valley Evening", "Hill Weekly")

pytestmark = pytest.mark.long  # three real worker processes per test


def _serve_feeds(srv: FeedServer, n: int, gate: threading.Event | None = None) -> list[str]:
    """``n`` feeds; with a ``gate``, every answer waits until it is open (a worker then holds its
    leases for as long as the test needs, whatever the machine's speed)."""
    paths = [f"/f{i}.xml" for i in range(n)]
    for i, path in enumerate(paths):
        response = Response(200, rss(item(f"Story {i} from feed {i}", f"https://f{i}.example/1", guid=f"f{i}-1",
                                          body=f"Feed {i} reports story {i} on Monday."), title=f"Feed {i}").encode(),
                            {})

        def answer(_request, response=response):
            if gate is not None:
                gate.wait(STATE_WAIT_S)
            return response

        srv.add(path, handler=answer)
    return paths


def _newsletters(folder: Path, url: str, feeds: list[str], *, smtp_port: int = 1, lease_seconds: int = 60,
                 due: bool = False) -> list[Path]:
    """Three newsletters, each over half of the feeds, overlapping: each feed is read by two of them."""
    n = len(feeds)
    shares = [feeds[: n // 2], feeds[n // 4 : 3 * n // 4], feeds[n // 2 :] + feeds[: n // 4]]
    paths = []
    for k, (title, share) in enumerate(zip(TITLES, shares)):
        data = config_data(
            newsletter={"title": title, "from": "brief@example.com", "to": [f"reader{k}@example.org"],
                        "max_age_hours": 0, "timezone": zone_at_noon(),
                        # due: overdue within grace, sent at once; else an hour ahead, nothing sent
                        **({"send_at": "00:00", "grace_hours": 24} if due else {"send_at": "13:00"})},
            topics=[{"name": "Local", "feeds": share}], store={"url": url},
            fetch={"lease_seconds": lease_seconds, "poll_minutes": 60},
            delivery={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"}})
        paths.append(write_config(folder, data, f"newsletter{k}.toml"))
    return paths


def _workers(cfgs: list[Path], cwd: Path, n: int = WORKERS) -> list[NewsletterProcess]:
    args = [a for c in cfgs for a in ("-c", c)]
    return [NewsletterProcess("--log-format", "json", "run", "--worker", *args, cwd=cwd) for _ in range(n)]


class _Leases:
    def __init__(self, url: str):
        self.engine = sa.create_engine(url)

    def rows(self) -> list:
        try:
            with self.engine.connect() as conn:
                return conn.execute(sa.text("SELECT url, owner, leased_until, polled_at FROM feed_leases")).all()
        except sa.exc.ProgrammingError:
            return []  # the table is not there yet: the workers are starting

    def polled(self) -> int:
        return sum(r.polled_at is not None for r in self.rows())

    def close(self) -> None:
        self.engine.dispose()


def _stop_all(procs: list[NewsletterProcess]) -> None:
    for p in procs:
        if p.proc.poll() is None:
            assert p.interrupt() == 0, p.stderr


def test_three_workers_fetch_each_of_2000_feeds_once_per_interval(tmp_path, postgres):
    url = postgres.database("workers_once")
    leases = _Leases(url)
    # Feeds answer once every worker holds a batch: on a loaded machine a worker that starts late would
    # otherwise find every feed polled, and say nothing (a worker with no feeds logs no poll line).
    gate = threading.Event()
    with FeedServer() as srv:
        paths = _serve_feeds(srv, FEEDS, gate)
        # A lease outlasts the wait for the slowest worker to start: no batch changes hands before the gate.
        cfgs = _newsletters(tmp_path, url, [srv.url(p) for p in paths], lease_seconds=10 * STATE_WAIT_S)
        procs = _workers(cfgs, tmp_path)
        try:
            wait_until(lambda: len({r.owner for r in leases.rows() if r.owner}) == WORKERS,
                       "every worker to hold a batch of feeds", timeout=STATE_WAIT_S)
            gate.set()
            wait_until(lambda: leases.polled() == FEEDS, "every feed to be polled", timeout=STATE_WAIT_S)
            # Each worker logs its poll once its last batch is in: wait until the lines account for every feed,
            # however many polls each took (one CI run saw 1,350 of 2,000 counted when it waited for one line each).
            wait_until(lambda: sum(_poll_shares(procs)) == FEEDS, "the poll lines to count every feed",
                       timeout=STATE_WAIT_S, said=lambda: _poll_story(procs))
            _stop_all(procs)
        finally:
            for p in procs:
                p.__exit__(None, None, None)
        hits = Counter({p: srv.hits(p) for p in paths})
    leases.close()
    assert set(hits.values()) == {1}, [p for p, n in hits.items() if n != 1][:10]  # and none twice, an hour on
    shares = _poll_shares(procs)
    assert sum(shares) == FEEDS and all(shares), _poll_story(procs)  # every worker took a share
    print(f"\nfeeds polled per worker: {shares}")


def _poll_shares(procs: list[NewsletterProcess]) -> list[int]:
    return [sum(x["feeds"] for x in log_lines(p.read_so_far()) if x.get("job") == "poll" and "feeds" in x)
            for p in procs]


def _poll_story(procs: list[NewsletterProcess]) -> str:
    """Each worker's poll lines, warnings and errors: what a failure needs to be understood."""
    return "; ".join(f"worker {n}: " + " | ".join(x["message"] for x in log_lines(p.read_so_far())
                                                  if x.get("job") == "poll" or x["level"] in ("warning", "error"))
                     for n, p in enumerate(procs))


def test_a_worker_killed_mid_poll_loses_its_feeds_only_until_its_lease_runs_out(tmp_path, postgres):
    url = postgres.database("workers_kill")
    leases = _Leases(url)
    gate = threading.Event()  # feeds answer only once the victim is dead: it dies holding its leases
    with FeedServer() as srv:
        paths = _serve_feeds(srv, KILL_FEEDS, gate)
        cfgs = _newsletters(tmp_path, url, [srv.url(p) for p in paths], lease_seconds=KILL_LEASE_S)
        # The others start once the victim is dead and the feeds answer: a lease of theirs then lasts as long
        # as its batch takes to fetch, not as long as the victim took to start, so a short lease is safe.
        procs = _workers(cfgs, tmp_path, 1)
        try:
            victim = procs[0]
            mine = f":{victim.proc.pid}:"

            def holding() -> bool:
                return any(r.owner and mine in r.owner for r in leases.rows()) and len(srv.requests) > 0

            wait_until(holding, "the first worker to hold a lease mid-poll", timeout=STATE_WAIT_S)
            victim.proc.kill()
            victim.wait()
            held = {r.url: r.leased_until for r in leases.rows() if r.owner and mine in r.owner}
            gate.set()
            procs += _workers(cfgs, tmp_path, WORKERS - 1)
            wait_until(lambda: leases.polled() == KILL_FEEDS, "every feed to be polled", timeout=STATE_WAIT_S)
            after = {r.url: r.polled_at for r in leases.rows()}
            _stop_all(procs[1:])
        finally:
            for p in procs:
                p.__exit__(None, None, None)
        hits = {p: srv.hits(p) for p in paths}
    leases.close()
    assert held  # the kill fell while the worker held feeds
    # Nobody took the dead worker's feeds before its lease ran out, and all of them were polled after.
    assert all(after[u] >= until for u, until in held.items())
    waited = max((after[u] - until).total_seconds() for u, until in held.items())
    print(f"\n{len(held)} feeds leased by the killed worker; polled at most {waited:.1f} s after the lease ran out")
    # Only the dead worker's batch can have been fetched twice (by it, then by the one that took over).
    twice = {srv_path for srv_path, n in hits.items() if n > 1}
    assert all(n >= 1 for n in hits.values()) and {srv.url(p) for p in twice} <= set(held)


def test_three_newsletters_go_out_once_each_from_three_workers(tmp_path, postgres):
    url = postgres.database("workers_send")

    class Inbox:
        received: list[tuple[str, str]] = []

        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received += [(r, msg["Subject"]) for r in envelope.rcpt_tos]
            return "250 Message accepted"

    inbox = Inbox()
    with FeedServer() as srv, mail_server(inbox) as port:
        paths = _serve_feeds(srv, 40)
        cfgs = _newsletters(tmp_path, url, [srv.url(p) for p in paths], smtp_port=port, due=True)
        procs = _workers(cfgs, tmp_path)
        try:
            wait_until(lambda: len(inbox.received) >= 3, "three newsletters to go out", timeout=STATE_WAIT_S,
                       said=lambda: f"received {inbox.received}; " + _send_story(procs))
            # Every catch-up booked has run, each seeing the issue claimed or delivered, so a second copy would
            # be in the inbox by now. A worker that started once an issue had reached its reader books none.
            wait_until(lambda: all(_catch_ups_done(p) for p in procs), "every worker's catch-up sends to run",
                       timeout=STATE_WAIT_S, said=lambda: _send_story(procs))
            _stop_all(procs)
        finally:
            for p in procs:
                p.__exit__(None, None, None)
    assert sorted(r for r, _ in inbox.received) == ["reader0@example.org", "reader1@example.org", "reader2@example.org"]
    # One issue each, and no claim left: a sender that built an issue recorded meanwhile left its claim.
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        issues = conn.execute(sa.text("SELECT COUNT(*) FROM issues")).scalar()
        claims = conn.execute(sa.text("SELECT key, owner FROM issue_claims")).all()
    engine.dispose()
    assert issues == 3 and not claims, (issues, claims)
    assert {r: s.startswith(TITLES[int(r[6])]) for r, s in inbox.received} == {
        f"reader{k}@example.org": True for k in range(3)}


def _catch_ups_done(proc: NewsletterProcess) -> bool:
    """Whether the worker has said, for each newsletter, its start line and, when that booked a catch-up
    ("sending today's overdue issue now"), the send's line; a start that found the issue delivered says only
    when the next one is."""
    said = [x["message"] for x in log_lines(proc.read_so_far())]
    for title in TITLES:
        start = next((m for m in said if m.startswith(f"{title}: ")), None)
        if start is None:
            return False
        if "overdue issue now" in start and not any(m.startswith(f"send [{title}]: ") for m in said):
            return False
    return True


def _send_story(procs: list[NewsletterProcess]) -> str:
    """Each worker's start, send lines, warnings and errors: what a failed send test needs to be understood."""
    return "; ".join(f"worker {n} (exit {p.proc.poll()}): " + " | ".join(
        x["message"] for x in log_lines(p.read_so_far())
        if x.get("job") == "send" or x["level"] in ("warning", "error") or any(t in x["message"] for t in TITLES))
        for n, p in enumerate(procs))


def test_worker_needs_a_postgresql_store(tmp_path):
    (tmp_path / "feed.xml").write_text(rss(item("A", "https://x.example/a", guid="a")))
    cfg = write_config(tmp_path, config_data(store={"url": "state.db"}))
    result = run_cli("run", "--worker", "--config", str(cfg), cwd=tmp_path)
    said = " ".join(result.stderr.split())
    assert result.exit_code != 0 and "[store] url" in said and "PostgreSQL" in said

