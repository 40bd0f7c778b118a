"""The daily service's timetable, in the newsletter's own time zone."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from apscheduler.schedulers.background import BackgroundScheduler

from newsletter import schedule
from newsletter.config import load_config

from conftest import MINIMAL, make_config, write_config


def _cfg(tmp_path, tz="Europe/Berlin", at="07:00"):
    (tmp_path / "feed.xml").write_text("<rss/>")
    body = MINIMAL.replace("[newsletter]\n", f'[newsletter]\ntimezone = "{tz}"\nsend_at = "{at}"\n')
    return load_config(write_config(tmp_path, body + "\n[fetch]\npoll_minutes = 30\n"))


def test_send_fires_at_send_at_local_time_and_poll_every_interval(tmp_path):
    cfg = _cfg(tmp_path)
    scheduler = BackgroundScheduler(timezone=cfg.newsletter.tz)
    calls = []
    schedule.add_jobs(scheduler, cfg, poll=lambda: calls.append("poll"), send=lambda: calls.append("send"))
    # 06:30 UTC on 24 Nov is 07:30 in Berlin: the next send is 07:00 Berlin on the 25th, i.e. 06:00 UTC.
    now = datetime(2026, 11, 24, 6, 30, tzinfo=timezone.utc)
    send = scheduler.get_job("send")
    assert send.trigger.get_next_fire_time(None, now) == datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
    assert scheduler.get_job("poll").trigger.interval.total_seconds() == 30 * 60


def test_failed_job_is_logged_and_does_not_raise(tmp_path, caplog):
    cfg = _cfg(tmp_path)
    scheduler = BackgroundScheduler(timezone=cfg.newsletter.tz)

    def boom():
        raise RuntimeError("feed server on fire")

    schedule.add_jobs(scheduler, cfg, poll=boom, send=boom)
    scheduler.get_job("poll").func()  # must not raise
    assert "feed server on fire" in caplog.text


def test_restart_after_send_at_owes_todays_issue_unless_sent(tmp_path):
    cfg = _cfg(tmp_path, tz="America/New_York", at="07:00")
    before = datetime(2026, 11, 24, 11, 0, tzinfo=timezone.utc)  # 06:00 in New York
    after = datetime(2026, 11, 24, 13, 0, tzinfo=timezone.utc)  # 08:00 in New York
    assert not schedule.due_today(cfg, before, already_sent=False)
    assert schedule.due_today(cfg, after, already_sent=False)
    assert not schedule.due_today(cfg, after, already_sent=True)


# -- days, clock changes, missed sends --------------------------------------------------------------


def _at(tz="Europe/London", at="07:00", **newsletter):
    return make_config(newsletter={"timezone": tz, "send_at": at, **newsletter})


def _sends(cfg, start: datetime, days: int) -> list[datetime]:
    """Every time the scheduler's own send trigger fires from ``start`` for ``days`` days."""
    scheduler = BackgroundScheduler(timezone=cfg.newsletter.tz)
    schedule.add_jobs(scheduler, cfg, poll=lambda: None, send=lambda: None)
    trigger, fired, previous = scheduler.get_job("send").trigger, [], None
    while True:
        nxt = trigger.get_next_fire_time(previous, start)
        if nxt > start + timedelta(days=days):
            return fired
        fired.append(nxt.astimezone(timezone.utc))
        previous = nxt


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("tz, at, start, expected", [
    # London springs forward at 01:00 GMT on 29 March 2026: 01:30 does not exist, 02:00 BST (01:00 UTC) is first.
    ("Europe/London", "01:30", _utc(2026, 3, 28, 12), [_utc(2026, 3, 29, 1, 0), _utc(2026, 3, 30, 0, 30)]),
    # New York skips 02:00-03:00 on 8 March 2026: 02:30 goes out at 03:00 EDT (07:00 UTC).
    ("America/New_York", "02:30", _utc(2026, 3, 7, 12), [_utc(2026, 3, 8, 7, 0), _utc(2026, 3, 9, 6, 30)]),
    # London repeats 01:00-02:00 on 25 October 2026: 01:30 goes out once, at its first (BST) occurrence.
    ("Europe/London", "01:30", _utc(2026, 10, 24, 12), [_utc(2026, 10, 25, 0, 30), _utc(2026, 10, 26, 1, 30)]),
    # New York repeats 01:00-02:00 on 1 November 2026: once, at 01:30 EDT (05:30 UTC).
    ("America/New_York", "01:30", _utc(2026, 10, 31, 12), [_utc(2026, 11, 1, 5, 30), _utc(2026, 11, 2, 6, 30)]),
    # Berlin skips 02:00-03:00 on 28 March 2027: 02:30 goes out at 03:00 CEST (01:00 UTC).
    ("Europe/Berlin", "02:30", _utc(2027, 3, 27, 12), [_utc(2027, 3, 28, 1, 0), _utc(2027, 3, 29, 0, 30)]),
    # Berlin repeats 02:00-03:00 on 25 October 2026: 02:30 goes out once, at 02:30 CEST (00:30 UTC).
    ("Europe/Berlin", "02:30", _utc(2026, 10, 24, 12), [_utc(2026, 10, 25, 0, 30), _utc(2026, 10, 26, 1, 30)]),
])
def test_a_send_at_inside_a_clock_change_sends_once_that_day(tz, at, start, expected):
    cfg = _at(tz, at)
    fired = _sends(cfg, start, days=2)
    assert fired == expected
    assert fired == [schedule.next_send(cfg, start), schedule.next_send(cfg, expected[0])]


def test_an_ordinary_send_at_keeps_its_local_time_across_the_change():
    cfg = _at("America/New_York", "07:00")
    fired = _sends(cfg, _utc(2026, 10, 31, 0), days=3)
    assert [f.astimezone(cfg.newsletter.tz).strftime("%d %H:%M") for f in fired] == ["31 07:00", "01 07:00", "02 07:00"]
    assert [f.hour for f in fired] == [11, 12, 12]  # EDT, then EST


@pytest.mark.parametrize("days, expected", [
    ("every day", ["Fri 27", "Sat 28", "Sun 29", "Mon 30", "Tue 01", "Wed 02", "Thu 03"]),
    ("weekdays", ["Fri 27", "Mon 30", "Tue 01", "Wed 02", "Thu 03"]),
    (["mon", "thu"], ["Mon 30", "Thu 03"]),
])
def test_days_choose_which_local_days_an_issue_goes_out(days, expected):
    cfg = _at("Europe/Berlin", "07:00", days=days)
    fired = _sends(cfg, _utc(2026, 11, 27, 0), days=7)  # Friday 27 November, before 07:00 in Berlin
    assert [f.astimezone(cfg.newsletter.tz).strftime("%a %d") for f in fired] == expected
    assert all(f.astimezone(cfg.newsletter.tz).strftime("%H:%M") == "07:00" for f in fired)


def test_a_missed_send_is_caught_up_within_grace_hours_and_skipped_after():
    cfg = _at("America/New_York", "07:00", grace_hours=6)
    due = _utc(2026, 11, 24, 12)  # 07:00 in New York
    assert schedule.missed_send(cfg, due - timedelta(minutes=1), already_sent=False) is None  # not yet due
    within = schedule.missed_send(cfg, due + timedelta(hours=5, minutes=59), already_sent=False)
    assert within.catch_up and within.due_at == due
    late = schedule.missed_send(cfg, due + timedelta(hours=6, minutes=1), already_sent=False)
    assert not late.catch_up and late.late == timedelta(hours=6, minutes=1)
    assert schedule.missed_send(cfg, due + timedelta(hours=1), already_sent=True) is None
    # Yesterday's send is never caught up after midnight: today's issue carries its news.
    assert schedule.missed_send(_at("UTC", "23:00", grace_hours=24), _utc(2026, 11, 25, 0, 30), False) is None


def test_a_day_without_a_send_owes_nothing_at_start():
    cfg = _at("Europe/Berlin", "07:00", days=["mon", "thu"])
    saturday_noon = _utc(2026, 11, 28, 11)
    assert schedule.missed_send(cfg, saturday_noon, already_sent=False) is None
    assert schedule.next_send(cfg, saturday_noon) == _utc(2026, 11, 30, 6)


def test_a_retry_booked_while_the_service_stops_does_not_hold_up_the_stop():
    """A send that ends with recipients owed books a retry; when the stop began meanwhile, booking it waited
    for the scheduler's job-store lock, which the stop held while it waited for that very send (8 s, exit 1)."""
    import threading
    from types import SimpleNamespace

    from apscheduler.schedulers.base import STATE_STOPPED

    from service_helpers import wait_until, zone_at_noon

    cfg = make_config(newsletter={"timezone": zone_at_noon()})  # noon: a retry is always left today
    scheduler = BackgroundScheduler(timezone=cfg.newsletter.tz)
    sending = threading.Event()

    def send():
        sending.set()
        wait_until(lambda: scheduler.state == STATE_STOPPED, "the stop to begin")
        return SimpleNamespace(owed=True)

    run_now = schedule.add_jobs(scheduler, cfg, poll=None, send=send)
    scheduler.start()
    run_now()
    assert sending.wait(30)
    # The scheduler's own loop forgets the one-off job once it has handed it over; stopping before that races
    # APScheduler's loop (a JobLookupError in its thread), which is not what this test is about.
    wait_until(lambda: scheduler.get_job("catch-up") is None, "the scheduler to hand the send over")
    stop = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True)
    stop.start()
    stop.join(30)
    assert not stop.is_alive(), "the stop waited on the retry it was holding up"


@pytest.mark.parametrize("start", [_utc(2027, 3, 25, 12), _utc(2026, 10, 22, 12)])
def test_berlin_0230_goes_out_once_on_every_local_day_around_a_clock_change(start):
    """Neither zero nor two issues on the day 02:30 does not exist or happens twice."""
    cfg = _at("Europe/Berlin", "02:30")
    days = [f.astimezone(cfg.newsletter.tz).date() for f in _sends(cfg, start, days=6)]
    assert len(days) == 6 and len(set(days)) == 6
    assert all(b - a == timedelta(days=1) for a, b in zip(days, days[1:]))
    # A restart at 02:45 of the repeated hour, after the 02:30 send of its first occurrence, sends nothing again.
    if start.month == 10:
        second_0245 = _utc(2026, 10, 25, 1, 45)  # 02:45 CET, the hour's second time round
        assert schedule.missed_send(cfg, second_0245, already_sent=True) is None
        assert schedule.next_send(cfg, second_0245) == _utc(2026, 10, 26, 1, 30)


def test_a_poll_still_running_at_its_next_turn_is_said_once_in_our_words_with_the_fix(caplog):
    """A [fetch] timeout or budget the interval cannot hold: APScheduler skipped every other turn, saying so each
    time in its words ("maximum number of running instances reached"). The turn comes when the test says, not
    when a clock does: the poll holds until released."""
    import threading

    from apscheduler.events import EVENT_JOB_MAX_INSTANCES
    from apscheduler.triggers.interval import IntervalTrigger

    from service_helpers import STATE_WAIT_S, wait_until

    cfg = make_config(fetch={"poll_minutes": 1, "timeout": 90}, llm={"embeddings_model": "scripted-embedding"})
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    polling, release = threading.Event(), threading.Event()
    skipped = []
    overrun = schedule.PollOverrun({"poll-0": [cfg]})
    overrun.watch(scheduler)
    scheduler.add_listener(skipped.append, EVENT_JOB_MAX_INSTANCES)  # after ours: each event seen has been said
    scheduler.add_job(lambda: (polling.set(), release.wait(STATE_WAIT_S)), IntervalTrigger(minutes=1), id="poll-0",
                      coalesce=True, max_instances=1, next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    try:
        assert polling.wait(STATE_WAIT_S)
        for turn in (1, 2):  # the next turns, while the first poll still runs
            scheduler.modify_job("poll-0", next_run_time=datetime.now(timezone.utc))
            wait_until(lambda: len(skipped) == turn, f"turn {turn} to be skipped")
    finally:
        release.set()
        scheduler.shutdown()
        overrun.unwatch()
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 1, said
    assert said[0].startswith("poll: the previous poll is still running after ")
    assert "at its next turn ([fetch] poll_minutes = 1): this turn is skipped" in said[0]
    assert said[0].endswith("Fix: set [fetch] poll_minutes to 4 or more, above what one poll may take "
                            "([fetch] timeout = 90 s + [fetch] embeddings_seconds = 120 s), or lower those."), said[0]


def test_the_catch_up_send_runs_however_late_the_scheduler_starts():
    """A restart decides at its start that today's issue is overdue, books the catch-up send, and starts the
    scheduler once its other newsletters and stores are looked at. On a loaded machine that took over a second,
    and APScheduler dropped the catch-up as missed (its default grace is one second): today's issue never went
    out from that process. The late start is set here (the catch-up's turn 5 s in the past), not waited for."""
    import queue
    from types import SimpleNamespace

    from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    from service_helpers import STATE_WAIT_S, zone_at_noon

    cfg = make_config(newsletter={"timezone": zone_at_noon()})
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    outcomes: queue.Queue[int] = queue.Queue()
    scheduler.add_listener(lambda e: outcomes.put(e.code), EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    sent = []

    def send():
        sent.append(1)
        return SimpleNamespace(owed=False)  # everyone served: no retry booked

    run_now = schedule.add_jobs(scheduler, cfg, poll=None, send=send)
    run_now()
    scheduler.modify_job("catch-up", next_run_time=datetime.now(timezone.utc) - timedelta(seconds=5))
    scheduler.start()
    try:
        outcome = outcomes.get(timeout=STATE_WAIT_S)  # the catch-up's turn came: run, or dropped as missed
    finally:
        scheduler.shutdown()
    assert outcome == EVENT_JOB_EXECUTED and sent == [1], "the catch-up send was dropped as missed"


def test_the_first_poll_at_start_runs_however_late_the_scheduler_starts(tmp_path, monkeypatch):
    """A fresh `run` polls at once, unless it sends at once. Its start books that poll, then looks at each store
    and starts the scheduler; on a loaded machine that took over a second, and APScheduler dropped the poll as
    missed: the news waited a whole [fetch] poll_minutes. The late start is set here, not waited for."""
    import os
    import queue
    import signal

    from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    from conftest import config_data
    from newsletter.service import serve
    from service_helpers import STATE_WAIT_S, feed_file, zone_at_noon

    feed_file(tmp_path)
    data = config_data(newsletter={"title": "Fenwick Morning", "from": "morning@fenwick.example",
                                   "to": ["ann@example.org"], "timezone": zone_at_noon(), "send_at": "13:00"},
                       topics=[{"name": "Local", "feeds": ["gazette.xml"]}], store={"url": "news.db"},
                       delivery={"transport": "file"})
    cfg = load_config(write_config(tmp_path, data))
    outcomes: queue.Queue[int] = queue.Queue()
    start = BackgroundScheduler.start

    def late_start(scheduler, *args, **kwargs):
        scheduler.modify_job("poll-0", next_run_time=datetime.now(timezone.utc) - timedelta(seconds=5))
        scheduler.add_listener(lambda e: e.job_id == "poll-0" and outcomes.put(e.code),
                               EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
        return start(scheduler, *args, **kwargs)

    def stop_when_the_poll_is_done() -> None:
        try:
            outcomes.put(outcomes.get(timeout=STATE_WAIT_S))  # put back for the test to read
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # the service's own stop, as Ctrl-C

    monkeypatch.setattr(BackgroundScheduler, "start", late_start)
    assert serve(cfg, on_ready=lambda: threading.Thread(target=stop_when_the_poll_is_done, daemon=True).start()) == 0
    assert outcomes.get_nowait() == EVENT_JOB_EXECUTED, "the first poll was dropped as missed"
