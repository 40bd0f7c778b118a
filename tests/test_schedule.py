"""The daily service's timetable, in the newsletter's own time zone."""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from newsletter import schedule
from newsletter.config import load_config

from conftest import MINIMAL, write_config


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
