"""`newsletter run` when its SQLite store goes away while it runs (a folder renamed, a disk unmounted,
the file replaced by a folder): one line naming [store] url and the fix, no fresh empty store made
in its place (which would send today's issue a second time), and the old one used again when it is back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from conftest import config_data, write_config
from newsletter.config import load_config
from newsletter.errors import ConfigError
from newsletter.schedule import guarded
from newsletter.service import Service
from service_helpers import feed_file


def _service(tmp_path: Path) -> tuple[Service, Path]:
    feed_file(tmp_path)
    data = config_data(newsletter={"title": "Fenwick Morning", "from": "morning@fenwick.example",
                                   "to": ["ann@example.org"], "max_age_hours": 0},
                       topics=[{"name": "Local", "feeds": ["gazette.xml"]}], store={"url": "state/news.db"})
    service = Service([load_config(write_config(tmp_path, data))])
    service.poll()  # the start: the store is made on first use
    return service, tmp_path / "state"


def test_a_store_folder_moved_away_mid_run_is_named_not_replaced_by_an_empty_store(tmp_path):
    service, state = _service(tmp_path)
    state.rename(tmp_path / "state.away")
    with pytest.raises(ConfigError) as failed:
        service.poll()
    said = str(failed.value)
    assert "[store] url" in said and str(state / "news.db") in said and "Fix: put" in said
    assert not state.exists()  # no fresh store that would not know today's issue was sent
    (tmp_path / "state.away").rename(state)
    assert service.poll()[0].new == 0  # the same store again: its articles are known


def test_a_store_file_replaced_by_a_folder_says_so(tmp_path):
    service, state = _service(tmp_path)
    (state / "news.db").unlink()
    (state / "news.db").mkdir()
    with pytest.raises(ConfigError, match=r"\[store\] url: .*news.db is a folder, not a file"):
        service.poll()


def test_a_job_failing_on_a_config_error_logs_one_line_without_a_traceback(tmp_path, caplog):
    def job():
        raise ConfigError(tmp_path / "a.toml", "[store] url", "the store is gone.", "put it back.")

    with caplog.at_level(logging.ERROR):
        guarded("poll", job)()
    [record] = caplog.records
    assert record.exc_info is None
    assert record.getMessage() == (f"poll job failed (it runs again at its next turn): {tmp_path / 'a.toml'}: "
                                   "[store] url: the store is gone. Fix: put it back.")
