"""Config loading: good files load with paths resolved; mistakes name file, key and fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import ConfigError

from conftest import MINIMAL, REPO, write_config


def test_minimal_config_loads_with_defaults_and_resolves_paths(minimal_config: Path):
    cfg = load_config(minimal_config)
    assert cfg.newsletter.title == "Test Brief"
    assert cfg.newsletter.sender == "Brief <brief@example.com>"
    assert cfg.delivery.transport == "file"
    [feed] = cfg.feeds
    assert Path(feed.url) == minimal_config.parent / "feed.xml"
    assert cfg.store_url == f"sqlite:///{minimal_config.parent / 'state' / 'newsletter.db'}"


def test_demo_config_is_valid():
    cfg = load_config(REPO / "config" / "newsletter.toml")
    assert len(cfg.feeds) >= 3
    assert all(Path(f.url).is_file() for f in cfg.feeds)


def test_environment_variable_names_the_config(minimal_config: Path, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(minimal_config))
    assert load_config().path == minimal_config.resolve()


def _error(tmp_path: Path, body: str) -> ConfigError:
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    return info.value


def test_missing_key_is_named(tmp_path):
    e = _error(tmp_path, MINIMAL.replace('title = "Test Brief"\n', ""))
    assert e.key == "[newsletter] title"
    assert "missing" in e.problem and e.fix


def test_wrong_type_is_named_with_the_bad_value(tmp_path):
    e = _error(tmp_path, MINIMAL.replace("[newsletter]\n", '[newsletter]\nmax_stories = "five"\n'))
    assert e.key == "[newsletter] max_stories"
    assert "'five'" in e.problem and "whole number" in e.fix


def test_unknown_transport_lists_the_choices(tmp_path):
    e = _error(tmp_path, MINIMAL + '\n[delivery]\ntransport = "pigeon"\n')
    assert e.key == "[delivery] transport"
    assert "'file'" in e.problem and "'smtp'" in e.problem


def test_misspelt_key_is_refused(tmp_path):
    e = _error(tmp_path, MINIMAL.replace("[newsletter]\n", "[newsletter]\nsidebar_sise = 3\n"))
    assert e.key == "[newsletter] sidebar_sise" and "unknown key" in e.problem


def test_missing_feed_file_is_named_with_where_it_looked(tmp_path):
    e = _error(tmp_path, MINIMAL.replace("feed.xml", "feeds/nope.xml"))
    assert e.key == "topics[0].feeds[0]"
    assert str(tmp_path / "feeds" / "nope.xml") in e.problem


def test_bad_time_zone_and_send_time(tmp_path):
    e = _error(tmp_path, MINIMAL.replace("[newsletter]\n", '[newsletter]\ntimezone = "Mars/Olympus"\n'))
    assert e.key == "[newsletter] timezone" and "IANA" in e.problem
    e = _error(tmp_path, MINIMAL.replace("[newsletter]\n", '[newsletter]\nsend_at = "7am"\n'))
    assert e.key == "[newsletter] send_at" and "HH:MM" in e.problem


def test_invalid_toml_names_the_line(tmp_path):
    e = _error(tmp_path, MINIMAL + "\n[llm\nmodel = 1\n")
    assert "not valid TOML" in e.problem and "line" in e.problem


def test_smtp_transport_needs_its_table(tmp_path):
    e = _error(tmp_path, MINIMAL + '\n[delivery]\ntransport = "smtp"\n')
    assert e.key == "[delivery]" and "[delivery.smtp]" in e.problem


@pytest.mark.parametrize(
    "body, key",
    [
        (MINIMAL.replace('title = "Test Brief"\n', ""), "[newsletter] title"),
        (MINIMAL.replace("[newsletter]\n", '[newsletter]\nmax_stories = "five"\n'), "[newsletter] max_stories"),
        (MINIMAL.replace("feed.xml", "missing.xml"), "topics[0].feeds[0]"),
        (MINIMAL + '\n[delivery]\ntransport = "pigeon"\n', "[delivery] transport"),
    ],
)
@pytest.mark.parametrize("command", ["check", "preview", "send", "fetch"])
def test_cli_reports_config_mistakes_without_traceback(tmp_path, body, key, command):
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, body)
    proc = subprocess.run([sys.executable, "-m", "newsletter", command, "--config", str(path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    message = " ".join(proc.stderr.split())
    assert str(path) in message and key in message and "Fix:" in message


def test_cli_reports_a_missing_config_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "newsletter", "preview", "--config", str(tmp_path / "nope.toml")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "nope.toml" in proc.stderr and "not found" in proc.stderr
