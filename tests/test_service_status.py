"""The operator's view: `newsletter status`, `newsletter feeds enable`, and the service's log lines."""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
import re
import shlex
import signal
import sqlite3
from datetime import datetime, timezone

import pytest

from conftest import NewsletterProcess, config_data, run_cli, write_config
from feedserver import FeedServer
from feeds_for_tests import item, rss
from newsletter.logs import HideSecrets, JSONFormatter
from service_helpers import STOP_LIMIT_S, zone_at_noon, log_lines

PASSWORD, API_KEY = "pw-Hunter2-very-secret", "sk-live-Abc123-very-secret"
NEWS = rss(*[item(f"Fenwick {what} reopens after repairs", f"https://g.example/{n}", guid=f"g{n}",
                  body=f"The Fenwick {what} reopened on Monday after two weeks of repairs.")
             for n, what in enumerate(["ferry", "library", "market"])], title="Fenwick Gazette")


def _config(tmp_path, srv: FeedServer, **newsletter):
    data = config_data(newsletter={"title": "Fenwick Morning", "from": "morning@fenwick.example", "max_age_hours": 0,
                                   "to": ["ann@example.org", "bob@example.org"], "timezone": "America/New_York",
                                   "send_at": "06:30", **newsletter},
                       topics=[{"name": "Local", "feeds": [srv.url("/ok.xml"), srv.url("/broken.xml"),
                                                           srv.url("/gone.xml")]}],
                       store={"url": "state.db"})
    return write_config(tmp_path, data)


def _run_config(tmp_path, srv: FeedServer):
    """A config for `run` that has no send due now (it is noon there, past 10:00 and its hour of grace):
    the service starts with a poll and waits."""
    return _config(tmp_path, srv, timezone=zone_at_noon(), send_at="10:00", grace_hours=1)


def _server() -> FeedServer:
    srv = FeedServer()
    srv.add("/ok.xml", NEWS)
    srv.add("/broken.xml", "boom", status=500)
    srv.add("/gone.xml", status=410)
    return srv


def _mail_server_down(cfg, **delivery) -> None:
    """Send ``cfg``'s issue over SMTP to a port nothing listens on."""
    from conftest import free_port

    lines = "".join(f"{k} = {v}\n" for k, v in delivery.items())
    cfg.write_text(cfg.read_text() + f'\n[delivery]\ntransport = "smtp"\n{lines}[delivery.smtp]\nhost = "127.0.0.1"\n'
                   f'port = {free_port()}\nsecurity = "none"\n')


def _status(cfg, tmp_path) -> dict:
    result = run_cli("status", "--json", "--config", str(cfg), cwd=tmp_path)
    report = json.loads(result.stdout)
    # 1 says a due send recorded no issue: these stores' issues are of fixed past days
    assert result.exit_code == (1 if report["missed"] else 0), result.stderr
    return report


def test_status_shows_the_next_send_the_last_issue_and_the_feeds_that_need_a_look(tmp_path):
    with _server() as srv:
        cfg = _config(tmp_path, srv)
        never_run = run_cli("status", "--config", str(cfg), cwd=tmp_path)
        assert never_run.exit_code == 2 and f"no store at {tmp_path / 'state.db'}" in never_run.stderr
        assert not (tmp_path / "state.db").exists()  # read-only: a status creates nothing

        assert run_cli("fetch", "--config", str(cfg), cwd=tmp_path).exit_code == 1  # two feeds fail
        sent = run_cli("send", "--config", str(cfg), cwd=tmp_path)
        assert sent.exit_code == 0, sent.stderr
        report = _status(cfg, tmp_path)
        text = " ".join(run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout.split())

    nxt = report["next_send"]
    local, utc = datetime.fromisoformat(nxt["local"]), datetime.fromisoformat(nxt["utc"])
    assert local == utc and local.strftime("%H:%M") == "06:30" and utc.utcoffset().total_seconds() == 0
    assert local.utcoffset().total_seconds() in (-5 * 3600, -4 * 3600)  # New York's own time, EST or EDT

    last = report["last_issue"]
    emails = list((tmp_path / "outbox").glob("*.eml"))
    assert len(emails) == 2 and last["recipients"] == {"sent": 2, "failed": 0, "owed": 0, "refused": []}
    said = re.search(r"(\d+) briefings?, (\d+) in Recent news", " ".join(sent.stdout.split()))
    assert (last["stories"], last["sidebar"]) == (int(said[1]), int(said[2])) and last["stories"] >= 1
    assert last["model_calls"] is None  # written extractively
    parsed = email.message_from_bytes(emails[0].read_bytes(), policy=email.policy.default)
    assert last["subject"] == parsed["Subject"]

    [failing] = report["failing_feeds"]
    assert failing["url"] == srv.url("/broken.xml") and "500" in failing["last_error"]
    assert failing["failures_in_a_row"] == 2 and failing["never_worked"] is True  # fetch, then send
    # "never fetched" stood where a date belongs, for a feed fetched twice: the first failure's time
    first_failure = datetime.fromisoformat(failing["failing_since"])
    assert first_failure < datetime.fromisoformat(failing["last_fetch_at"]) and failing["last_success_at"] is None
    [disabled] = report["disabled_feeds"]
    assert disabled["url"] == srv.url("/gone.xml")
    assert disabled["enable"] == f"newsletter feeds enable -c {cfg} {disabled['url']}"
    # When a feed was last fetched at all: the send's fetch, the latest (a service whose polls stopped shows)
    fetched = datetime.fromisoformat(report["last_fetch_at"])
    assert fetched == datetime.fromisoformat(failing["last_fetch_at"]) and fetched.replace(microsecond=0) <= datetime.fromisoformat(last["created_at"])

    assert "recipients: 2 sent, 0 failed, 0 owed" in text and "no model calls" in text
    # Human times: to the minute, with their zone; no "T", offsets or microseconds (the JSON keeps ISO)
    assert f"next issue: {local:%Y-%m-%d} 06:30 America/New_York ({utc:%Y-%m-%d %H}:30 UTC), days: every day" in text
    created = datetime.fromisoformat(last["created_at"])
    assert f"last issue: {created:%Y-%m-%d %H:%M} UTC, " in text and "+00:00" not in text
    assert f"failing: {srv.url('/broken.xml')}" in text and f"(2 in a row, failing since {first_failure:%Y-%m-%d %H:%M} UTC, never worked)" in text
    assert f"re-enable: newsletter feeds enable -c {cfg} {srv.url('/gone.xml')}" in text
    assert f"feeds: 3, 1 failing, 1 disabled; last fetched {fetched:%Y-%m-%d %H:%M} UTC" in text


@pytest.mark.parametrize("as_json", [False, True])
def test_status_of_a_store_that_does_not_exist_names_the_path_and_fails(tmp_path, as_json):
    """A mistyped [store] url said "last issue: none recorded yet", exit 0: as if all were well."""
    from newsletter.config import load_config
    from newsletter.store import Store

    with _server() as srv:
        cfg = _config(tmp_path, srv)
    Store.open(load_config(cfg).store_url).close()  # state.db exists, empty: nothing sent yet
    empty = run_cli("status", "--config", str(cfg), cwd=tmp_path)
    assert empty.exit_code == 0 and "last issue: none recorded yet" in empty.stdout, empty.stderr

    cfg.write_text(cfg.read_text().replace('url = "state.db"', 'url = "stat.db"'))
    result = run_cli("status", "--config", str(cfg), *(["--json"] if as_json else []), cwd=tmp_path)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    if as_json:  # `status --json | jq` printed nothing for jq to read: the error is JSON on stdout too
        error = json.loads(result.stdout)["error"]
        assert (error["key"], error["exit_code"], error["config"]) == ("[store] url", 2, str(cfg))
        assert error["problem"].startswith(f"no store at {tmp_path / 'stat.db'}") and "fetch" in error["fix"]
        assert line.endswith(error["message"])
    else:
        assert result.stdout == "", result.stdout
    assert f"{cfg}: [store] url: no store at {tmp_path / 'stat.db'} (" in line and "Fix:" in line, line
    assert f"newsletter fetch -c {cfg}" in line
    assert not (tmp_path / "stat.db").exists()


def test_feeds_enable_brings_a_gone_feed_back_into_the_next_poll(tmp_path):
    with _server() as srv:
        cfg = _config(tmp_path, srv)
        run_cli("fetch", "--config", str(cfg), cwd=tmp_path)
        run_cli("fetch", "--config", str(cfg), cwd=tmp_path)
        assert srv.hits("/gone.xml") == 1  # disabled after its 410: the second poll left it alone
        assert _status(cfg, tmp_path)["disabled_feeds"] != []

        enabled = run_cli("feeds", "enable", srv.url("/gone.xml"), "--config", str(cfg), cwd=tmp_path)
        assert enabled.exit_code == 0, enabled.stderr
        assert "the next poll fetches it" in enabled.stdout
        assert _status(cfg, tmp_path)["disabled_feeds"] == []
        run_cli("fetch", "--config", str(cfg), cwd=tmp_path)
        assert srv.hits("/gone.xml") == 2

        # "enabled …" for a feed that was never disabled said it had been
        again = run_cli("feeds", "enable", srv.url("/broken.xml"), "--config", str(cfg), cwd=tmp_path)
        assert again.exit_code == 0 and "enabled" not in again.stdout, again.stdout
        assert f"{srv.url('/broken.xml')} was not disabled; nothing to change" in again.stdout
        failing = [f["url"] for f in _status(cfg, tmp_path)["failing_feeds"]]
        assert srv.url("/broken.xml") in failing  # and its failures were not wiped: it still shows as failing

        unknown = run_cli("feeds", "enable", "https://nowhere.example/feed", "--config", str(cfg), cwd=tmp_path)
    assert unknown.exit_code == 1
    assert "no stored feed 'https://nowhere.example/feed'" in unknown.stderr and srv.url("/ok.xml") in unknown.stderr
    assert f"`newsletter status -c {cfg}` lists it" in unknown.stderr


def test_the_re_enable_command_status_prints_works_as_printed_for_the_config_given(tmp_path):
    """Copied as printed, the hint acted on the default config, not the one status was given."""
    with _server() as srv:
        cfg = _config(tmp_path, srv).rename(tmp_path / "g.toml")  # no ./newsletter.toml to fall back on
        assert run_cli("fetch", "-c", "g.toml", cwd=tmp_path).exit_code == 1  # the broken and the gone feed
        [hint] = [ln.split("re-enable: ", 1)[1] for ln in run_cli("status", "-c", "g.toml", cwd=tmp_path)
                  .stdout.splitlines() if "re-enable: " in ln]
        assert hint == f"newsletter feeds enable -c g.toml {srv.url('/gone.xml')}"
        program, *args = shlex.split(hint)
        assert program == "newsletter"
        enabled = run_cli(*args, cwd=tmp_path)
        assert enabled.exit_code == 0, enabled.stderr
        assert _status(cfg, tmp_path)["disabled_feeds"] == []
        assert run_cli("status", cwd=tmp_path).exit_code == 2  # no default config: without -c it cannot work


# -- log lines -------------------------------------------------------------------------------------

def test_json_log_lines_carry_job_fields_and_never_a_secret():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(HideSecrets([PASSWORD, API_KEY, ""]))
    log = logging.getLogger("newsletter.test_logs")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("login with %s refused", PASSWORD, extra={"job": "send", "sent": 0, "detail": f"key={API_KEY}"})
        try:
            raise RuntimeError(f"server said: bad key {API_KEY}")
        except RuntimeError:
            log.exception("model call failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert PASSWORD not in out and API_KEY not in out
    first, second = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    assert first["message"] == "login with *** refused" and first["level"] == "warning"
    assert first["logger"] == "newsletter.test_logs" and first["job"] == "send" and first["sent"] == 0
    assert first["detail"] == "key=***" and datetime.fromisoformat(first["time"]).tzinfo is not None
    assert "bad key ***" in second["exception"]


@pytest.mark.long
def test_the_service_logs_one_json_line_per_job_without_secrets(tmp_path):
    secrets = {"SMTP_PASSWORD": PASSWORD, "OPENAI_API_KEY": API_KEY}
    with _server() as srv:
        cfg = _run_config(tmp_path, srv)
        data = cfg.read_text() + ('\n[delivery]\ntransport = "smtp"\n[delivery.smtp]\nhost = "127.0.0.1"\nport = 9\n'
                                  'username = "brief"\npassword_env = "SMTP_PASSWORD"\nsecurity = "none"\n')
        cfg.write_text(data)
        with NewsletterProcess("-vv", "--log-format", "json", "run", "--config", cfg, cwd=tmp_path,
                               env=secrets) as proc:
            proc.wait_for('"job": "poll"', stream="stderr")
            proc.proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=STOP_LIMIT_S) == 0, proc.stderr
    lines = log_lines(proc)
    assert len(lines) == len(proc.stderr.splitlines())  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    [poll] = [line for line in lines if line.get("job") == "poll"]
    assert (poll["feeds"], poll["new_articles"], poll["failed"], poll["outcome"]) == (3, 3, 2, "failed")
    broken, gone = srv.url("/broken.xml"), srv.url("/gone.xml")
    assert poll["message"] == (f"poll: 3 feeds, 3 new articles, 2 failed ({broken}: HTTP 500 Internal Server Error; "
                               f"{gone}: gone (HTTP 410): disabled)")
    assert poll["failed_feeds"] == [
        {"url": broken, "name": None, "error": "HTTP 500 Internal Server Error"},
        {"url": gone, "name": None, "error": "gone (HTTP 410): disabled"}]
    for secret in secrets.values():
        assert secret not in proc.stderr and secret not in proc.stdout


@pytest.mark.long
def test_with_json_logs_the_start_line_and_a_fatal_error_are_json_too(tmp_path):
    # journald takes stdout and stderr: a collector parsing each line choked on the plain "newsletter
    # running" line and on the last words of a service that could not start (no password, a bad key).
    with _server() as srv:
        cfg = _run_config(tmp_path, srv)
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
            proc.wait_for("newsletter running")
            proc.proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=STOP_LIMIT_S) == 0, proc.stderr
        [start] = [json.loads(line) for line in proc.stdout.splitlines()]
        assert start["message"].startswith("newsletter running") and start["time"].endswith("+00:00")
        cfg.write_text(cfg.read_text() + '\n[delivery]\ntransport = "smtp"\n[delivery.smtp]\nhost = "127.0.0.1"\n'
                       'username = "brief"\npassword_env = "SMTP_PASSWORD"\n')
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
            assert proc.wait() == 2
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith("{") for line in lines), lines
    [error] = [json.loads(line) for line in lines]
    assert error["level"] == "error" and error["exit_code"] == 2, error
    assert error["key"] == "[delivery.smtp] password_env" and "SMTP_PASSWORD" in error["fix"], error


def test_a_send_that_recorded_no_issue_is_missed_and_status_exits_1_for_a_monitor(tmp_path):
    # The service down at send_at: status said "next issue: tomorrow" and exited 0, so a monitoring
    # check on it could not tell a day without an issue from a good one.
    from datetime import timedelta

    from newsletter.config import load_config
    from newsletter.models import issue_key
    from newsletter.store import Store

    with _server() as srv:
        cfg_path = _config(tmp_path, srv, timezone=zone_at_noon(), send_at="10:00")  # two hours ago
    cfg = load_config(cfg_path)
    today = datetime.now(cfg.newsletter.tz).date()
    store = Store.open(cfg.store_url)
    store.record_issue(issue_key("Fenwick Morning", today - timedelta(days=1)), created_at=datetime.now(cfg.newsletter.tz)
                       - timedelta(days=1), subject="S", document={}, html="<p>x</p>", text="x", placements=[])
    result = run_cli("status", "--config", str(cfg_path), cwd=tmp_path)
    said = " ".join(result.stdout.split())
    assert result.exit_code == 1 and f"missed: the {today} issue, due {today} 10:00" in said, said
    # No service has used this store: there is no `run` to be down, nor its log to read.
    assert "was never made; no `newsletter run` has used this store: the `send` meant to make it" in said, said
    store.service_seen("host:1:t", {"Fenwick Morning": "d"}, worker=False, started_at=datetime.now(timezone.utc)
                       - timedelta(days=2), at=datetime.now(timezone.utc) - timedelta(days=1))
    said = " ".join(run_cli("status", "--config", str(cfg_path), cwd=tmp_path).stdout.split())
    assert "was never made; `newsletter run` is not running now; its log says why" in said, said
    report = json.loads(run_cli("status", "--json", "--config", str(cfg_path), cwd=tmp_path).stdout)
    assert report["missed"]["issue_date"] == today.isoformat(), report
    store.record_issue(issue_key("Fenwick Morning", today), created_at=datetime.now(cfg.newsletter.tz), subject="S",
                       document={}, html="<p>x</p>", text="x", placements=[])
    store.close()
    result = run_cli("status", "--config", str(cfg_path), cwd=tmp_path)
    assert result.exit_code == 0 and "missed" not in result.stdout, result.stdout



def test_a_send_day_before_the_first_issue_ever_is_not_missed(tmp_path):
    # A fresh install whose first issue went out by the start's catch-up, minutes after send_at: for
    # 30 minutes status looked at yesterday's send, from before the install, and exited 1 for it.
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from newsletter.config import load_config
    from newsletter.models import issue_key
    from newsletter.store import Store

    zone = zone_at_noon()
    now = datetime.now(ZoneInfo(zone))
    with _server() as srv:  # due 10 minutes ago, sent a minute ago; nothing was due before the install
        cfg_path = _config(tmp_path, srv, timezone=zone, send_at=(now - timedelta(minutes=10)).strftime("%H:%M"))
    cfg = load_config(cfg_path)
    store = Store.open(cfg.store_url)
    store.record_issue(issue_key("Fenwick Morning", now.date()), created_at=now, subject="S", document={},
                       html="<p>x</p>", text="x", placements=[])
    store.close()
    result = run_cli("status", "--config", str(cfg_path), cwd=tmp_path)
    assert result.exit_code == 0 and "missed" not in result.stdout, result.stdout


def test_status_shows_what_the_last_issue_cost_and_who_is_still_owed(tmp_path):
    from newsletter.config import load_config
    from newsletter.models import DeliveryStatus, issue_key
    from newsletter.store import Store

    with _server() as srv:
        cfg_path = _config(tmp_path, srv)
    cfg = load_config(cfg_path)
    store = Store.open(cfg.store_url)
    made = datetime.fromisoformat("2026-11-24T11:30:00+00:00")
    issue = store.record_issue(issue_key("Fenwick Morning", made.date()), created_at=made, subject="S",
                               document={"stories": [{}, {}], "sidebar": [{}]}, html="<p>x</p>", text="x",
                               placements=[], usage=(5, 9000, 800, 0, 0))
    store.owe(issue, ["ann@example.org", "bob@example.org"], message_ids={"ann@example.org": "<1@x>",
              "bob@example.org": "<2@x>"}, transport="smtp", at=made)
    store.mark_delivery(issue, "ann@example.org", status=DeliveryStatus.SENT, at=made)
    store.close()

    last = _status(cfg_path, tmp_path)["last_issue"]
    assert (last["model_calls"], last["prompt_tokens"], last["completion_tokens"]) == (5, 9000, 800)
    assert last["recipients"] == {"sent": 1, "failed": 0, "owed": 1, "refused": []}
    assert last["created_at"] == made.isoformat()
    text = " ".join(run_cli("status", "--config", str(cfg_path), cwd=tmp_path).stdout.split())
    assert "last issue: 2026-11-24 11:30 UTC, 2 stories + 1 in Recent news, 5 model calls, 9000 prompt + 800 " \
           "completion tokens" in text
    assert "recipients: 1 sent, 0 failed, 1 owed" in text


PRICES = "\n[llm]\nprice_per_million_prompt = {}\nprice_per_million_completion = {}\n"


def test_status_prices_the_last_issue_and_the_last_7_and_30_days_at_todays_prices(tmp_path):
    """A team lead paying a hosted model read tokens and did the sums; with [llm] prices status does them."""
    from datetime import timedelta

    from newsletter.config import load_config
    from newsletter.models import issue_key
    from newsletter.store import Store

    with _server() as srv:
        cfg_path = _config(tmp_path, srv)
    plain = cfg_path.read_text()
    store = Store.open(load_config(cfg_path).store_url)
    now = datetime.now(timezone.utc)
    for days_ago, usage in [(40, (3, 1_000_000, 100_000, 0, 0)),  # in neither span
                            (20, (4, 2_000_000, 200_000, 1, 0)),  # one call of it without token counts
                            (5, None),  # written extractively: no tokens
                            (1, (5, 9000, 800, 0, 0))]:  # the last issue
        made = now - timedelta(days=days_ago)
        store.record_issue(issue_key("Fenwick Morning", made.date()), created_at=made, subject="S",
                           document={"stories": [{}]}, html="<p>x</p>", text="x", placements=[], usage=usage)
    store.close()

    def status(prices: str) -> tuple[dict, str]:
        cfg_path.write_text(plain + prices)
        text = " ".join(run_cli("status", "--config", str(cfg_path), cwd=tmp_path).stdout.split())
        return _status(cfg_path, tmp_path), text

    report, text = status(PRICES.format(0.15, 0.60))
    # 9000 × 0.15 + 800 × 0.60 per million: 0.00183
    assert report["last_issue"]["cost"] == {"amount": 0.00183, "currency": "USD"}
    assert "5 model calls, 9000 prompt + 800 completion tokens ≈ 0.0018 USD; recipients:" in text, text
    # 30 days: 2 009 000 × 0.15 + 200 800 × 0.60 per million = 0.42183, rounded once, from the summed tokens
    spans = report["model_cost"]
    assert spans["last_7_days"] == {"amount": 0.00183, "currency": "USD", "issues": 2, "prompt_tokens": 9000,
                                    "completion_tokens": 800, "model_calls_without_token_counts": 0}
    assert (spans["last_30_days"]["amount"], spans["last_30_days"]["issues"]) == (0.42183, 3)
    assert spans["last_30_days"]["model_calls_without_token_counts"] == 1
    assert "model cost: last 7 days ≈ 0.0018 USD (2 issues), last 30 days ≈ 0.42 USD (3 issues), from their " \
           "tokens at today's [llm] prices (0.15 prompt + 0.6 completion USD per million tokens); 1 call of the " \
           "last 30 days without token counts: not in these figures" in text, text

    # The store keeps tokens, not money: new prices reprice every issue, and status says which it used.
    report, text = status(PRICES.format(3, 12) + 'currency = "EUR"\n')
    assert report["last_issue"]["cost"] == {"amount": 0.0366, "currency": "EUR"}
    assert "800 completion tokens ≈ 0.037 EUR;" in text and "last 30 days ≈ 8.44 EUR (3 issues)" in text, text
    assert "(3 prompt + 12 completion EUR per million tokens)" in text

    # No prices (a local model, say): tokens only, as before
    report, text = status("")
    assert "cost" not in report["last_issue"] and "model_cost" not in report
    assert "5 model calls, 9000 prompt + 800 completion tokens; recipients:" in text and "≈" not in text, text
    assert "model cost" not in text


def test_status_says_times_to_the_minute_and_a_utc_newsletters_once(tmp_path):
    """"(UTC; 2026-11-28T07:00:00+00:00 UTC)" and "after 2026-11-27T21:27:21.123798+00:00" were ISO for people."""
    with _server() as srv:
        cfg = _config(tmp_path, srv, timezone="UTC", send_at="07:00")
        assert run_cli("fetch", "--config", str(cfg), cwd=tmp_path).exit_code == 1  # fetch exits 1 on a failed feed
        srv.add("/ok.xml", "boom", status=500)  # worked once, failing now
        assert run_cli("fetch", "--config", str(cfg), cwd=tmp_path).exit_code == 1
        report = _status(cfg, tmp_path)
        lines = run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout.splitlines()
    [nxt] = [line for line in lines if line.startswith("next issue: ")]
    assert re.fullmatch(r"next issue: \d{4}-\d\d-\d\d 07:00 UTC, days: every day", nxt), nxt
    [ok] = [f for f in report["failing_feeds"] if f["url"] == srv.url("/ok.xml")]
    worked = datetime.fromisoformat(ok["last_success_at"])
    [line] = [line for line in lines if f"failing: {srv.url('/ok.xml')}" in line]
    since = datetime.fromisoformat(ok["failing_since"])
    assert ok["never_worked"] is False and since > worked
    assert line.endswith(f"(1 in a row, failing since {since:%Y-%m-%d %H:%M} UTC, last worked {worked:%Y-%m-%d %H:%M} UTC)"), line


@pytest.mark.long
def test_text_logs_into_a_file_are_one_unpadded_line_per_message(tmp_path):
    """`newsletter run 2> log`: rich padded every line to 200 columns and split a long SMTP error in two."""
    with _server() as srv:
        # Two hours after today's send_at, within the grace: the send goes at once, to no mail server.
        cfg = _config(tmp_path, srv, timezone=zone_at_noon(), send_at="10:00", grace_hours=6)
        _mail_server_down(cfg)
        with NewsletterProcess("run", "--config", cfg, cwd=tmp_path) as proc:
            proc.wait_for("failed before any delivery", stream="stderr")
            # A SIGTERM right after the failed send, while it books its retry, once deadlocked the stop
            # (test_schedule's test of that race): it stops cleanly now.
            proc.proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=STOP_LIMIT_S) == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and not [line for line in lines if line != line.rstrip()], proc.stderr
    [failed] = [line for line in lines if "failed before any delivery" in line]
    assert len(failed) > 200 and "[delivery.smtp]" in failed and failed.endswith("owed"), failed
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC WARNING send: failed before any delivery", failed), failed


def test_the_poll_line_names_a_few_failing_feeds_and_counts_the_rest(tmp_path, caplog):
    """"poll: 4 feeds, 0 new articles, 1 failed" left the operator to find out which one."""
    from newsletter.config import load_config
    from newsletter.service import Service

    (tmp_path / "ok.xml").write_text(NEWS)
    feeds = ["ok.xml", {"url": "harbour.xml", "name": "Harbour Gazette"}, *[f"gone-{n}.xml" for n in range(4)]]
    cfg = load_config(write_config(tmp_path, config_data(topics=[{"name": "Local", "feeds": feeds}],
                                                         store={"url": "state.db"})))
    with caplog.at_level(logging.INFO, logger="newsletter.service"):
        Service([cfg]).poll()
    [poll] = [r for r in caplog.records if getattr(r, "job", None) == "poll"]
    assert poll.getMessage() == (f"poll: 6 feeds, 3 new articles, 5 failed (Harbour Gazette: file not found; "
                                 f"{tmp_path / 'gone-0.xml'}: file not found; {tmp_path / 'gone-1.xml'}: file not "
                                 "found; and 2 more)")
    assert poll.failed == 5 and [f["name"] for f in poll.failed_feeds] == ["Harbour Gazette", None, None]
    assert poll.failed_feeds[0] == {"url": str(tmp_path / "harbour.xml"), "name": "Harbour Gazette",
                                    "error": "file not found"}


def test_a_failing_feeds_reason_is_one_short_line():
    from newsletter.service import REASON_CHARS, _short

    assert _short("HTTP 500\nInternal\x1b[2J error") == "HTTP 500 Internal\\x1b[2J error"
    long = _short("cannot connect " * 40)
    assert len(long) == REASON_CHARS and long.endswith("…")


def _today_and_tomorrow(zone: str) -> tuple[str, str]:
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    today = datetime.now(timezone.utc).astimezone(ZoneInfo(zone)).date()
    return today.isoformat(), (today + timedelta(days=1)).isoformat()


def test_status_names_failing_and_disabled_feeds_as_the_config_does(tmp_path):
    """check and fetch call a feed by the name the config gives it; status gave its URL alone."""
    with _server() as srv:
        data = config_data(newsletter={"title": "Fenwick Morning", "from": "morning@fenwick.example"},
                           topics=[{"name": "Local", "feeds": [
                               srv.url("/ok.xml"), {"url": srv.url("/broken.xml"), "name": "Fenwick Gazette"},
                               {"url": srv.url("/gone.xml"), "name": "Harbour Post"}]}],
                           store={"url": "state.db"})
        cfg = write_config(tmp_path, data)
        assert run_cli("fetch", "--config", str(cfg), cwd=tmp_path).exit_code == 1
        report = _status(cfg, tmp_path)
        text = " ".join(run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout.split())
    assert [f["name"] for f in report["failing_feeds"]] == ["Fenwick Gazette"]
    assert [f["name"] for f in report["disabled_feeds"]] == ["Harbour Post"]
    assert f"failing: Fenwick Gazette ({srv.url('/broken.xml')}): HTTP 500" in text, text
    assert f"disabled: Harbour Post ({srv.url('/gone.xml')}): gone (HTTP 410)" in text, text


def test_after_a_manual_send_the_next_issue_is_the_next_day_and_owed_recipients_are_a_retry(tmp_path):
    """A `send` by hand delivered today's issue before send_at; status still said "next issue: today 18:00",
    when at 18:00 only the recipients still owed are served (and none were)."""
    zone = zone_at_noon()
    today, tomorrow = _today_and_tomorrow(zone)
    with _server() as srv:
        cfg = _config(tmp_path, srv, timezone=zone, send_at="18:00")
        assert run_cli("send", "--config", str(cfg), cwd=tmp_path).exit_code == 0
        report = _status(cfg, tmp_path)
        text = run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout
        assert report["next_send"]["local"].startswith(f"{tomorrow}T18:00") and report["retry"] is None, report
        assert f"next issue: {tomorrow} 18:00 {zone}" in text and "retry" not in text, text

        # A recipient added since: today's 18:00 send delivers today's issue to that one only.
        cfg.write_text(cfg.read_text().replace('"bob@example.org"', '"bob@example.org", "cy@example.org"'))
        report = _status(cfg, tmp_path)
        text = " ".join(run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout.split())
    assert report["next_send"]["local"].startswith(f"{tomorrow}T18:00"), report
    assert report["retry"]["local"].startswith(f"{today}T18:00"), report
    assert (report["retry"]["owed"], report["retry"]["issue_date"]) == (1, today)
    assert f"next issue: {tomorrow} 18:00 {zone}" in text
    assert f"retry for 1 owed recipient of the {today} issue: {today} 18:00 {zone}" in text, text


def test_run_names_the_next_issue_after_a_manual_send_and_the_zone_of_every_time(tmp_path):
    zone = zone_at_noon()
    _, tomorrow = _today_and_tomorrow(zone)
    with _server() as srv:
        cfg = _config(tmp_path, srv, timezone=zone, send_at="18:00")
        assert run_cli("send", "--config", str(cfg), cwd=tmp_path).exit_code == 0
        with NewsletterProcess("run", "--config", cfg, cwd=tmp_path) as proc:
            line = proc.wait_for("next issue at", stream="stderr")
            assert proc.interrupt() == 0, proc.stderr
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC INFO next issue at {tomorrow} 18:00 {re.escape(zone)}",
                        line.strip()), line


@pytest.mark.long
def test_run_says_it_sends_an_overdue_issue_now_and_when_it_retries_in_which_zone_and_status_says_it_too(tmp_path):
    """"next issue at …T10:00" came right before a send at noon, and "trying again at 00:51:46" named no zone
    beside lines stamped in UTC. And the retry lived in the service's scheduler alone: status showed "2 owed"
    and the next day's issue, and an operator could not tell whether, or when, the owed readers would get
    today's."""
    zone = zone_at_noon()
    today, tomorrow = _today_and_tomorrow(zone)
    with _server() as srv:
        cfg = _config(tmp_path, srv, timezone=zone, send_at="10:00", grace_hours=6)
        _mail_server_down(cfg, retry_minutes=60)
        with NewsletterProcess("run", "--config", cfg, cwd=tmp_path) as proc:
            retry = proc.wait_for("trying again at", stream="stderr")
            report = _status(cfg, tmp_path)
            text = run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout
            assert proc.interrupt() == 0, proc.stderr
        stopped = _status(cfg, tmp_path)
    [start] = [line for line in proc.stderr.splitlines() if "overdue" in line]
    assert f"sending today's overdue issue now (due {today} 10:00 {zone}, " in start, start
    assert start.endswith(f"next issue at {tomorrow} 10:00 {zone}"), start
    assert re.search(rf"trying again at \d\d:\d\d:\d\d {re.escape(zone)}$", retry.strip()), retry
    at = re.search(r"trying again at (\d\d:\d\d):\d\d", retry).group(1)
    assert (report["retry"]["issue_date"], report["retry"]["owed"]) == (today, 2), report
    assert report["retry"]["local"].startswith(f"{today}T{at}"), (report["retry"], retry)
    assert f"retry for 2 owed recipients of the {today} issue: {today} {at} {zone}" in text, text
    assert report["owed_unretried"] is None and "no `newsletter run` is at work to retry" not in text
    assert stopped["retry"] is None  # a stopped service retries nothing: the next start sends to those owed


def test_status_says_when_nothing_will_retry_the_readers_a_cron_send_left_owed(tmp_path):
    """A `send` from cron whose mail server was down left both readers owed; status said "2 owed" and exited
    0, and nothing said that no retry would come."""

    with _server() as srv:
        # Noon there, past send_at: the next scheduled send is tomorrow's, which makes a new issue.
        cfg = _config(tmp_path, srv, timezone=zone_at_noon(), send_at="10:00")
        _mail_server_down(cfg)
        sent = run_cli("send", "--config", str(cfg), cwd=tmp_path)
        assert sent.exit_code != 0 and "cannot reach" in sent.stderr, sent.stderr
        report = _status(cfg, tmp_path)
        text = " ".join(run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout.split())
    assert report["owed_unretried"] == 2 and report["retry"] is None
    assert ("2 recipients still owed today's issue, and no `newsletter run` is at work to retry: another "
            "`newsletter send` delivers it to them") in text, text


def test_status_reads_a_store_from_before_failing_since_beside_an_older_daemon(tmp_path):
    """status opens the store read-only and never migrates it: a store at version 10 has no failing_since."""
    import sqlalchemy as sa

    from conftest import migrate_to

    with _server() as srv:
        cfg = _config(tmp_path, srv)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with engine.begin() as conn:
        migrate_to(conn, 10)
        conn.execute(sa.text("INSERT INTO feeds (url, consecutive_failures, gone, last_error) "
                             "VALUES (:url, 3, false, 'HTTP 500')"), {"url": srv.url("/broken.xml")})
    engine.dispose()
    report = _status(cfg, tmp_path)
    [failing] = report["failing_feeds"]
    assert (failing["failing_since"], failing["never_worked"], failing["failures_in_a_row"]) == (None, True, 3)
    assert report["service"] is None  # no services table yet: whether one runs is unknown, so nothing is said
    text = run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout
    assert "(3 in a row, never worked)" in " ".join(text.split()) and "service:" not in text


def test_status_reads_a_store_from_before_booked_retries_beside_an_older_daemon(tmp_path):
    """A store at version 14 has the services table but not its retries column: read without it."""
    import sqlalchemy as sa

    from conftest import migrate_to

    with _server() as srv:
        cfg = _config(tmp_path, srv)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        migrate_to(conn, 14)
        conn.execute(sa.text("INSERT INTO services (owner, newsletters, worker, started_at, seen_at, stopped_at) "
                             "VALUES ('elsewhere:41:ab12cd34', :titles, false, :at, :at, :at)"),
                     {"titles": json.dumps(["Fenwick Morning"]), "at": now.replace(tzinfo=None)})
    engine.dispose()
    report = _status(cfg, tmp_path)
    assert report["retry"] is None and report["service"]["last"]["pid"] == 41, report["service"]


def _status_text(cfg, tmp_path) -> str:
    return " ".join(run_cli("status", "--config", str(cfg), cwd=tmp_path).stdout.split())


def _service_line(cfg, tmp_path) -> str:
    result = run_cli("status", "--config", str(cfg), cwd=tmp_path)
    [line] = [x for x in result.stdout.splitlines() if x.startswith("service:")]
    return line


@pytest.mark.long
def test_status_says_whether_the_service_runs_and_how_it_last_stopped(tmp_path):
    # status asked "is `newsletter run` running?" and could not know; a monitor had to look elsewhere.
    with _server() as srv:
        cfg = _run_config(tmp_path, srv)
        assert run_cli("fetch", "--config", str(cfg), cwd=tmp_path).exit_code == 1  # two feeds fail
        assert _service_line(cfg, tmp_path).startswith("service: no `newsletter run` has used this store")
        with NewsletterProcess("run", "--config", cfg, cwd=tmp_path) as proc:
            proc.wait_for("newsletter running")
            [running] = _status(cfg, tmp_path)["service"]["running"]
            assert running["pid"] == proc.proc.pid and running["stopped_at"] is None
            assert running["config_current"] is True
            assert f"(pid {proc.proc.pid} on " in _service_line(cfg, tmp_path)
            # An edit waits for a restart: a reader added to `to` got nothing, and status said all was well.
            cfg.write_text(cfg.read_text() + "\n# a comment changes no setting\n")
            assert "was changed since the service started" not in _status_text(cfg, tmp_path)
            cfg.write_text(cfg.read_text().replace('"bob@example.org"', '"bob@example.org", "cy@example.org"'))
            [running] = _status(cfg, tmp_path)["service"]["running"]
            assert running["config_current"] is False
            said = _status_text(cfg, tmp_path)
            assert f"{cfg} was changed since the service started, which read it then: restart the service" in said
            assert proc.interrupt() == 0, proc.stderr
        assert _service_line(cfg, tmp_path).endswith("(stopped cleanly)")
        with NewsletterProcess("run", "--config", cfg, cwd=tmp_path) as proc:
            proc.wait_for("newsletter running")
            proc.proc.kill()
            proc.wait()
        report = _status(cfg, tmp_path)["service"]
        assert report["running"] == [] and report["last"]["pid"] == proc.proc.pid
        assert "ended without a clean stop" in _service_line(cfg, tmp_path)


@pytest.mark.long
def test_a_second_run_for_the_same_newsletter_is_warned_of_the_first(tmp_path):
    # Started twice by mistake (systemd, and again in a terminal), both polled every feed without a word.
    with _server() as srv:
        cfg = _run_config(tmp_path, srv)
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as one:
            one.wait_for("newsletter running")
            with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as two:
                two.wait_for('"outcome": "another service"', stream="stderr")
                assert "2 `newsletter run` processes at work" in _service_line(cfg, tmp_path)
                assert two.interrupt() == 0, two.stderr
            assert one.interrupt() == 0, one.stderr
    [warning] = [line for line in log_lines(two) if line.get("outcome") == "another service"]
    assert warning["level"] == "warning" and f"pid {one.proc.pid} on " in warning["message"]
    assert "Fenwick Morning" in warning["message"] and "stop one" in warning["message"]


def test_two_runs_whose_host_and_pid_read_the_same_are_two_services(tmp_path, caplog):
    """Each `run` in its own container is pid 1, and containers on the host's network share its name: both
    were "host:1" in the store, one row that each overwrote, so the second heard nothing of the first,
    status counted one service, and the first's clean stop read as "not running" beside the second."""
    from newsletter.config import load_config
    from newsletter.service import Service

    (tmp_path / "ok.xml").write_text(NEWS)
    path = write_config(tmp_path, config_data(newsletter={"title": "Fenwick Morning"},
                                              topics=[{"name": "Local", "feeds": ["ok.xml"]}], store={"url": "state.db"}))
    cfg = load_config(path)
    one, two = Service([cfg]), Service([cfg])  # one process here: the same host and pid, as in the containers
    one.beat([cfg])
    with caplog.at_level(logging.WARNING, logger="newsletter.service"):
        two.beat([cfg])
    assert [r.outcome for r in caplog.records if getattr(r, "job", None) == "start"] == ["another service"]
    assert len(_status(path, tmp_path)["service"]["running"]) == 2
    one.beat([cfg], stopped=True)
    [running] = _status(path, tmp_path)["service"]["running"]
    assert running["stopped_at"] is None


@pytest.mark.long
def test_a_store_locked_at_the_stop_does_not_hold_the_stop_past_its_promise(tmp_path):
    """The stop's last word to the store ("stopped cleanly") waited out SQLite's 30 s busy timeout behind
    another process's write (or a PostgreSQL server gone quiet, without end): past the 10 s promised, and
    past systemd's TimeoutStopSec, whose SIGKILL then made the stop read as one without a clean stop."""
    with _server() as srv:
        cfg = _run_config(tmp_path, srv)
        with NewsletterProcess("--log-format", "json", "run", "--config", cfg, cwd=tmp_path) as proc:
            proc.wait_for("newsletter running")
            proc.wait_for('"job": "poll"', stream="stderr")  # the first poll is done: no job needs the store
            other = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")  # another process writing, a VACUUM say
                proc.proc.send_signal(signal.SIGINT)
                assert proc.wait(timeout=STOP_LIMIT_S) == 0, proc.stderr
            finally:
                other.close()


def test_a_retry_whose_turn_was_missed_past_the_grace_is_not_shown_as_due(tmp_path):
    """A machine that slept through a booked retry for longer than grace_hours: the scheduler dropped it, and
    status kept saying the owed readers would be retried at a time long past."""
    from datetime import timedelta

    from newsletter.config import load_config
    from newsletter.models import issue_key
    from newsletter.status import status_report
    from newsletter.store import Store

    with _server() as srv:
        cfg = load_config(_config(tmp_path, srv, timezone="UTC", grace_hours=2))
    now = datetime.now(timezone.utc).replace(hour=20, minute=0, second=0, microsecond=0)
    store = Store.open(cfg.store_url)
    try:
        store.record_issue(issue_key("Fenwick Morning", now.date()), created_at=now.replace(hour=6), subject="S",
                           document={}, html="<p>x</p>", text="x", placements=[])
        owner = "elsewhere.example:41:ab12cd34"  # another host's service: at work while it writes
        store.service_seen(owner, {"Fenwick Morning": "d"}, worker=False, started_at=now.replace(hour=5), at=now)
        store.service_retry(owner, "Fenwick Morning", now - timedelta(hours=3))
        assert status_report(cfg, store, now)["retry"] is None
        store.service_retry(owner, "Fenwick Morning", now - timedelta(minutes=1))  # its turn, running now
        assert status_report(cfg, store, now)["retry"]["owed"] == 2
    finally:
        store.close()
