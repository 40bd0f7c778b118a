"""Config loading: good files load with paths resolved; every mistake is one line naming file, key and fix.

The number checks are generated from the schema itself: every numeric key in
Config, wherever it sits, gets values just outside its range, huge ones,
non-finite ones and wrong types, and each must stop every command with exit 2.
"""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import pytest
from annotated_types import Ge, Gt, Le, Lt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.types import Strict

from newsletter.config import Config, check_feed_paths, load_config
from newsletter.config_explain import number_type
from newsletter.errors import ConfigError

from conftest import MINIMAL, REPO, CliResult, config_data, process_env, run_cli, write_config

COMMANDS = ("check", "preview", "send", "fetch", "run")
INT64 = 2**63 - 1  # TOML integers are 64-bit


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


def _error(tmp_path: Path, body: str | dict) -> ConfigError:
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
    assert "'five'" in e.problem and "whole number" in e.fix and "1 to 20" in e.fix


def test_unknown_transport_lists_the_choices(tmp_path):
    e = _error(tmp_path, MINIMAL + '\n[delivery]\ntransport = "pigeon"\n')
    assert e.key == "[delivery] transport"
    assert "'file'" in e.problem and "'smtp'" in e.problem


def test_misspelt_key_is_refused_with_the_likely_spelling(tmp_path):
    e = _error(tmp_path, MINIMAL.replace("[newsletter]\n", "[newsletter]\nsidebar_sise = 3\n"))
    assert e.key == "[newsletter] sidebar_sise" and "unknown key" in e.problem
    assert "'sidebar_size'" in e.fix


@pytest.mark.parametrize("body, key, right", [
    (MINIMAL.replace("[[topics]]", "[[topic]]"), "[[topic]]", "[[topics]]"),
    (MINIMAL + '\n[delivery]\ntransport = "smtp"\n[delivery.smtp]\nhostname = "mail.example.org"\n',
     "[delivery.smtp] hostname", "host"),
    (MINIMAL.replace('name = "Tech"', 'nmae = "Tech"'), "topics[0].nmae", "name"),
])
def test_a_misspelt_required_key_is_told_as_the_misspelling_not_as_missing(tmp_path, body, key, right):
    e = _error(tmp_path, body)
    assert e.key == key and "not a key here" in e.problem
    assert f"did you mean {right}?" in e.fix and "more problem" not in e.fix  # the pair is one mistake


@pytest.mark.parametrize("body, key, home", [
    # "unknown key 'outbox'. Fix: remove it" sent the user to delete a setting they needed
    (MINIMAL + '\n[delivery]\ntransport = "smtp"\n[delivery.smtp]\nhost = "h.example"\noutbox = "mail"\n',
     "[delivery.smtp] outbox", "'outbox' belongs under [delivery], not [delivery.smtp]"),
    (MINIMAL.replace("[newsletter]\n", "[newsletter]\npoll_minutes = 30\n"), "[newsletter] poll_minutes",
     "'poll_minutes' belongs under [fetch], not [newsletter]"),
    ("poll_minutes = 30\n" + MINIMAL, "[poll_minutes]",
     "'poll_minutes' belongs under [fetch], not at the top of the file, before any [table]"),
])
def test_a_key_of_another_table_says_where_it_belongs(tmp_path, body, key, home):
    e = _error(tmp_path, body)
    assert e.key == key and e.problem.startswith(home), e.problem
    assert e.fix.startswith("move it there") and "remove" not in e.fix


def test_a_feed_table_with_link_for_url_is_told_as_that_not_as_url_missing(tmp_path):
    """{ link = "https://..." } said "feeds[0].url: required key is missing", nothing about link."""
    e = _error(tmp_path, config_data(topics=[{"name": "Tech", "feeds": [{"link": "https://news.example/feed"}]}]))
    assert e.key == "topics[0].feeds[0].link" and "the required key url is missing" in e.problem
    assert e.fix == "did you mean url? Rename link to url."
    # A value that could not be the missing key's is no misspelling of it: starttls = true is no host.
    smtp = _error(tmp_path, config_data(delivery={"transport": "smtp", "smtp": {"starttls": True}}))
    assert smtp.key == "[delivery.smtp] host" and "did you mean" not in smtp.fix, (smtp.key, smtp.fix)


def test_include_only_without_keywords_is_refused(tmp_path):
    """It kept every article, silently: the filter asked for did nothing."""
    e = _error(tmp_path, config_data(topics=[{"name": "Tech", "feeds": ["feed.xml"], "include_only": True}]))
    assert e.key == "topics[0]" and "include_only = true but no keywords" in e.problem
    assert "add keywords" in e.fix
    assert load_config(write_config(tmp_path, config_data(topics=[{"name": "Tech", "feeds": ["feed.xml"],
                                                                   "include_only": True, "keywords": ["x"]}])))


def test_a_feed_listed_twice_in_one_topic_is_refused_naming_both_places(tmp_path):
    """Accepted in silence before; which entry's name and full_text counted was anyone's guess."""
    same = _error(tmp_path, config_data(topics=[{"name": "Tech", "feeds": ["feed.xml", "./feed.xml"]}]))
    assert "'./feed.xml' is listed twice in topic 'Tech': topics[0].feeds[0] and topics[0].feeds[1]" in same.problem
    assert same.fix == "remove topics[0].feeds[1]."
    url = "https://news.example/feed"  # in two topics it is allowed: README, "A feed in several topics"
    assert load_config(write_config(tmp_path, config_data(topics=[{"name": "Tech", "feeds": [url]},
                                                                  {"name": "Science", "feeds": [{"url": url}]}])))


def test_misspelt_key_in_a_feed_table_is_an_unknown_key_not_a_string_problem(tmp_path):
    e = _error(tmp_path, config_data(topics=[{"name": "Tech", "feeds": [{"url": "feed.xml", "fulltext": True}]}]))
    assert e.key == "topics[0].feeds[0].fulltext"
    assert "unknown key 'fulltext'" in e.problem and "'full_text'" in e.fix
    assert "quoted string" not in str(e)


def test_missing_feed_file_is_named_with_where_it_looked(tmp_path):
    cfg = load_config(write_config(tmp_path, MINIMAL.replace("feed.xml", "feeds/nope.xml")))  # loads: not fatal
    with pytest.raises(ConfigError) as raised:
        check_feed_paths(cfg)  # what `check` runs
    e = raised.value
    assert e.key == "topics[0].feeds[0]"
    assert str(tmp_path / "feeds" / "nope.xml") in e.problem


@pytest.mark.parametrize("url", ["http://news.example:99999/feed.xml", "https://:443/feed", "ftp://news.example/feed"])
def test_an_impossible_feed_url_is_refused_before_any_fetch(tmp_path, url):
    e = _error(tmp_path, config_data(topics=[{"name": "Tech", "feeds": [url]}]))
    assert e.key == "topics[0].feeds[0]" and repr(url) in e.problem and e.fix


@pytest.mark.parametrize("section, key, url", [
    ("llm", "base_url", "http://127.0.0.1:99999/v1"),  # would surface later as a model failure per story
    ("llm", "base_url", "localhost:8080"),
    ("newsletter", "unsubscribe_url", "https://example.org/unsub scribe"),  # the email would drop the link silently
    ("newsletter", "unsubscribe_url", "mailto:leave@example.org"),
])
def test_an_unusable_url_in_the_config_is_refused(tmp_path, section, key, url):
    e = _error(tmp_path, config_data(**{section: {key: url}}))
    assert e.key == f"[{section}] {key}" and repr(url) in e.problem and "http(s)" in e.fix


def test_an_unsupported_language_lists_the_ones_there_are(tmp_path):
    e = _error(tmp_path, config_data(newsletter={"language": "tlh"}))
    assert e.key == "[newsletter] language" and "'tlh'" in e.problem
    assert all(code in e.fix for code in ("de", "en", "es", "fr")) and "newsletter/locales" in e.fix


@pytest.mark.parametrize("written, used", [("de", "de"), ("de-AT", "de-AT"), ("fr_CA", "fr-CA"), ("ES", "es")])
def test_a_regional_code_uses_its_language(tmp_path, written, used):
    # Its language's file, keeping the region: the pages' lang, CLDR's dates there, its spelling (de-CH).
    (tmp_path / "feed.xml").write_text("<rss/>")
    assert load_config(write_config(tmp_path, config_data(newsletter={"language": written}))).newsletter.language == used


@pytest.mark.parametrize("written", ["Europe/Londn", "europe/london", "Europe/Lodnon"])
def test_a_misspelt_time_zone_gets_the_likely_spelling(tmp_path, written):
    e = _error(tmp_path, config_data(newsletter={"timezone": written}))
    assert e.key == "[newsletter] timezone" and f"{written!r} is not an IANA time zone name" in e.problem
    assert e.fix == "did you mean 'Europe/London'?"


def test_environment_variable_names_itself_when_its_path_is_wrong(tmp_path):
    """NEWSLETTER_CONFIG=/tmp/nope.toml newsletter check said "file not found", as if the user had typed it."""
    missing = tmp_path / "nope.toml"
    for command in ("check", "run", "status"):
        result = run_cli(command, cwd=tmp_path, env={"NEWSLETTER_CONFIG": str(missing)})
        line = assert_one_line_config_error(result, missing, str(missing))
        assert "file not found (the path came from $NEWSLETTER_CONFIG)" in line and "unset it" in line, line
    given = run_cli("check", "--config", str(missing), cwd=tmp_path, env={"NEWSLETTER_CONFIG": str(missing)})
    assert "NEWSLETTER_CONFIG" not in given.stderr  # typed on the command line: nothing to explain


def test_a_command_printed_for_a_config_from_the_environment_carries_it(minimal_config, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(minimal_config))
    assert load_config().command("status") == f"newsletter status -c {minimal_config}"


def test_bad_time_zone_and_send_time(tmp_path):
    e = _error(tmp_path, MINIMAL.replace("[newsletter]\n", '[newsletter]\ntimezone = "Mars/Olympus"\n'))
    assert e.key == "[newsletter] timezone" and "IANA" in e.problem
    e = _error(tmp_path, MINIMAL.replace("[newsletter]\n", '[newsletter]\nsend_at = "7am"\n'))
    assert e.key == "[newsletter] send_at" and "HH:MM" in e.problem


@pytest.mark.parametrize("days, wrong", [
    (["mon", "thurs"], "'thurs' is no day"),
    (["Mon", "Thu"], "'Mon' is no day"),
    ("weekday", "'weekday' is neither"),
    ([], "names no day"),
])
def test_a_wrong_day_is_named_with_the_forms_there_are(tmp_path, days, wrong):
    e = _error(tmp_path, config_data(newsletter={"days": days}))
    assert e.key == "[newsletter] days" and wrong in e.problem
    assert all(form in e.fix for form in ('["mon", "thu"]', "mon, tue, wed, thu, fri, sat, sun", '"every day"',
                                          '"weekdays"'))
    assert "literal" not in str(e) and "Input should" not in str(e)


@pytest.mark.parametrize("days", ["every day", "weekdays", ["mon", "thu"], ["sun"]])
def test_every_form_of_days_is_accepted(tmp_path, days):
    (tmp_path / "feed.xml").write_text("<rss/>")
    assert load_config(write_config(tmp_path, config_data(newsletter={"days": days}))).newsletter.days == days


def test_invalid_toml_names_the_line(tmp_path):
    e = _error(tmp_path, MINIMAL + "\n[llm\nmodel = 1\n")
    assert "not valid TOML" in e.problem and "line" in e.problem


def test_smtp_transport_needs_its_table(tmp_path):
    e = _error(tmp_path, MINIMAL + '\n[delivery]\ntransport = "smtp"\n')
    assert e.key == "[delivery]" and "[delivery.smtp]" in e.problem


# -- addresses --------------------------------------------------------------


def test_recipients_are_normalised_and_each_mailbox_is_listed_once(tmp_path):
    (tmp_path / "feed.xml").write_text("<rss/>")
    to = ["a@x", "a@x", "A@X", " a@x", "Editor <Editor@Example.ORG>", "editor@example.org", "b@x"]
    cfg = load_config(write_config(tmp_path, config_data(newsletter={"to": to})))
    # The first spelling of each mailbox stays; the domain is lower-cased; case in the local part is one mailbox.
    assert cfg.newsletter.to == ["a@x", "Editor <Editor@example.org>", "b@x"]


@pytest.mark.parametrize("key, value", [
    ("to", ["reader@example.org\r\nBcc: everyone@example.net"]),
    ("to", ["reader@example.org\n"]),
    ("to", ["reader@example.org\x1b[2J"]),
    ("from", "Brief <brief@example.com>\r\nBcc: everyone@example.net"),
])
def test_a_line_break_or_control_character_in_an_address_is_refused(tmp_path, key, value):
    e = _error(tmp_path, config_data(newsletter={key: value}))
    assert e.key == f"[newsletter] {key}[0]" if key == "to" else e.key == f"[newsletter] {key}"
    assert "control character" in e.problem and "e.g." in e.fix


@pytest.mark.parametrize("address", ["nobody", "a@x, b@y", "a@x b@y", "@example.org", "a@", "a@@x", "a@x..org",
                                     "a@-x.org", "a b@x.org", "a@x.org>", "Name <>"])
def test_something_that_is_not_one_address_is_refused(tmp_path, address):
    e = _error(tmp_path, config_data(newsletter={"to": ["ok@example.org", address]}))
    assert e.key == "[newsletter] to[1]" and repr(address) in e.problem and "not one email address" in e.problem


# -- every command, in-process ----------------------------------------------

ISSUE_MISTAKES = {  # the mistakes people made, each with the key the message must name
    "crlf in to": (config_data(newsletter={"to": ["a@example.org\r\nBcc: b@example.org"]}), "[newsletter] to[0]"),
    "crlf in from": (config_data(newsletter={"from": "a@example.org\r\nBcc: b@example.org"}), "[newsletter] from"),
    "negative retries": (config_data(llm={"max_retries": -3}), "[llm] max_retries"),
    "negative model timeout": (config_data(llm={"timeout": -5}), "[llm] timeout"),
    "huge max_age_hours": (config_data(newsletter={"max_age_hours": 1e300}), "[newsletter] max_age_hours"),
    "huge poll_minutes": (config_data(fetch={"poll_minutes": 99999999999}), "[fetch] poll_minutes"),
    "huge max_bytes": (config_data(fetch={"max_bytes": 1e20}), "[fetch] max_bytes"),
    "port 99999": (config_data(topics=[{"name": "T", "feeds": ["http://news.example:99999/f"]}]), "topics[0].feeds[0]"),
    "mistyped feed key": (config_data(topics=[{"name": "T", "feeds": [{"url": "feed.xml", "fulltext": True}]}]),
                          "topics[0].feeds[0].fulltext"),
    "misspelt [[topics]]": (MINIMAL.replace("[[topics]]", "[[topic]]"), "[[topic]]"),
    "misspelt day": (config_data(newsletter={"days": ["mon", "thurs"]}), "[newsletter] days"),
    "quoted boolean": (config_data(topics=[{"name": "T", "feeds": ["feed.xml"], "include_only": "no"}]),
                       "topics[0].include_only"),
    "missing title": (MINIMAL.replace('title = "Test Brief"\n', ""), "[newsletter] title"),
    "quoted number": (MINIMAL.replace("[newsletter]\n", '[newsletter]\nmax_stories = "five"\n'), "[newsletter] max_stories"),
    "unknown transport": (MINIMAL + '\n[delivery]\ntransport = "pigeon"\n', "[delivery] transport"),
    "unsupported language": (config_data(newsletter={"language": "tlh"}), "[newsletter] language"),
}


def assert_one_line_config_error(result, path: Path, key: str) -> str:
    """Exit 2 and one line on stderr naming the file, the key and the fix; nothing else."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and key in lines[0] and "Fix:" in lines[0], lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


@pytest.mark.parametrize("mistake", ISSUE_MISTAKES)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_reports_a_config_mistake_in_one_line(tmp_path, mistake, command):
    body, key = ISSUE_MISTAKES[mistake]
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, body)
    assert_one_line_config_error(run_cli(command, "--config", str(path), cwd=tmp_path), path, key)


def test_a_missing_config_file_is_named(tmp_path):
    result = run_cli("preview", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    line = assert_one_line_config_error(result, tmp_path / "nope.toml", "nope.toml")
    assert "not found" in line


def test_the_installed_command_reports_a_mistake_in_one_line(tmp_path):
    """The console script itself, in a real process: the entry point wires errors to exit codes."""
    script = Path(sys.executable).with_name("newsletter")
    if not script.is_file():
        pytest.skip("the newsletter script is not installed in this environment (pip install -e .)")
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, config_data(llm={"max_retries": -3}))
    proc = subprocess.run([str(script), "check", "--config", str(path)], capture_output=True, text=True,
                          cwd=tmp_path, env=process_env(), timeout=120)
    assert_one_line_config_error(CliResult(proc.returncode, proc.stdout, proc.stderr), path, "[llm] max_retries")


# -- every number in the schema ---------------------------------------------


@dataclass(frozen=True)
class SchemaKey:
    where: tuple[str, ...]  # the tables above it: ("fetch",), ("delivery", "smtp"), ("topics", "feeds")
    key: str

    def __str__(self) -> str:
        return ".".join((*self.where, self.key))

    @property
    def shown(self) -> str:
        """The key as the error message names it."""
        if self.where[:1] == ("topics",):
            return ".".join(f"{part}[0]" for part in self.where) + f".{self.key}"
        return f"[{'.'.join(self.where)}] {self.key}"

    def place(self, value: Any) -> dict:
        """The minimal config with this key set to ``value``, and whatever its table needs beside it."""
        data = config_data(delivery={"smtp": {"host": "mail.example.org"}})
        table: dict = data
        for part in self.where:
            table = table.setdefault(part, {})
            table = table[0] if isinstance(table, list) else table
            if part == "feeds" and not isinstance(table, dict):
                table = data["topics"][0]["feeds"][0] = {"url": table}
        if self.key.startswith("price_per_million_"):  # the prices come in pairs
            table.update(price_per_million_prompt=1.0, price_per_million_completion=1.0)
        table[self.key] = value
        if self.key == "include_only":
            table["keywords"] = ["harbour"]  # a filter needs a word to filter by
        return data


@dataclass(frozen=True)
class NumberKey(SchemaKey):
    whole: bool
    low: float | None
    low_inclusive: bool
    high: float | None
    high_inclusive: bool
    strict: bool


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_model_in, get_args(annotation)) if m), None)


def leaf_keys(model: type[BaseModel] = Config, where: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str, Any]]:
    """(tables above, key, field) for every key of the schema that is not a table itself."""
    found = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        inner = _model_in(field.annotation)
        found += leaf_keys(inner, (*where, key)) if inner is not None else [(where, key, field)]
    return found


def number_keys() -> list[NumberKey]:
    found = []
    for where, key, field in leaf_keys():
        of = number_type(field.annotation)  # an optional one too: max_tokens_per_issue, unset for no budget
        if of is not None:
            meta = {type(m): m for m in field.metadata}
            # StrictInt | None carries Strict inside its own Annotated, not on the field
            inner = [type(m) for a in get_args(field.annotation) for m in getattr(a, "__metadata__", ())]
            low = meta[Ge].ge if Ge in meta else meta[Gt].gt if Gt in meta else None
            high = meta[Le].le if Le in meta else meta[Lt].lt if Lt in meta else None
            found.append(NumberKey(where, key, of is int, low, Ge in meta, high, Le in meta,
                                   Strict in meta or Strict in inner))
    return found


NUMBER_KEYS = number_keys()
BOOL_KEYS = [SchemaKey(where, key) for where, key, field in leaf_keys() if field.annotation is bool]


def test_the_schema_walk_finds_the_numbers_in_every_table():
    tables = {k.where for k in NUMBER_KEYS}
    assert {("newsletter",), ("llm",), ("fetch",), ("grouping",), ("ranking",), ("delivery", "smtp")} <= tables
    assert len(NUMBER_KEYS) >= 30


@pytest.mark.parametrize("number", NUMBER_KEYS, ids=str)
def test_every_number_has_a_range_and_a_type(number: NumberKey):
    assert number.low is not None and number.high is not None, f"{number} needs ge/gt and le/lt in newsletter/config.py"
    assert number.strict, f"{number}: a quoted or boolean value must be refused (StrictInt/StrictFloat)"


def out_of_range(number: NumberKey) -> st.SearchStrategy:
    """Values just outside the range, far outside it, and not finite."""
    if number.whole:
        below = number.low - 1 if number.low_inclusive else number.low
        above = number.high + 1 if number.high_inclusive else number.high
        edges = st.sampled_from([below, above, -1, -INT64, INT64])
        near = st.integers(-INT64, below) | st.integers(above, INT64)
        return (edges | near).filter(lambda v: not number.low <= v <= number.high)
    below = math.nextafter(number.low, -math.inf) if number.low_inclusive else number.low
    above = math.nextafter(number.high, math.inf) if number.high_inclusive else number.high
    edges = st.sampled_from([below, above, -1.0, 1e300, -1e300, math.inf, -math.inf, math.nan])
    near = st.floats(max_value=below, allow_nan=False) | st.floats(min_value=above, allow_nan=False)
    return edges | near


def wrong_type(number: NumberKey) -> st.SearchStrategy:
    """What TOML can hold that is not this number: strings (even "5"), booleans, lists, fractions for a whole number."""
    others = st.booleans() | st.text(st.characters(codec="utf-8"), max_size=6) | st.lists(st.integers(0, 9), max_size=2)
    if number.whole:
        others |= st.floats(allow_nan=False, allow_infinity=False)
    return others


def assert_refused(tmp_path: Path, number: NumberKey, value: Any) -> None:
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, number.place(value))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    e = info.value
    assert e.key == number.shown, (value, str(e))
    assert str(path) in str(e) and e.fix
    # The fix gives the range itself, read from the schema: a user need not look it up.
    assert str(number.low) in e.fix and str(number.high) in e.fix, (value, str(e))


HYPOTHESIS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("number", NUMBER_KEYS, ids=str)
@HYPOTHESIS
@given(data=st.data())
def test_every_number_outside_its_range_or_of_the_wrong_type_is_refused(tmp_path, number: NumberKey, data):
    value = data.draw(out_of_range(number) | wrong_type(number), label="value")
    assert_refused(tmp_path, number, value)


@pytest.mark.parametrize("number", NUMBER_KEYS, ids=str)
def test_every_number_inside_its_range_is_accepted(tmp_path, number: NumberKey):
    (tmp_path / "feed.xml").write_text("<rss/>")
    for value in {number.low if number.low_inclusive else None, number.high if number.high_inclusive else None} - {None}:
        value = int(value) if number.whole else float(value)
        load_config(write_config(tmp_path, number.place(value)))  # raises if refused


@settings(HYPOTHESIS, max_examples=40)
@given(data=st.data())
def test_a_bad_number_stops_any_command_with_one_line(tmp_path, data):
    number = data.draw(st.sampled_from(NUMBER_KEYS), label="key")
    value = data.draw(out_of_range(number) | wrong_type(number), label="value")
    command = data.draw(st.sampled_from(COMMANDS[:-1]), label="command")  # `run` is in the matrix above
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, number.place(value))
    assert_one_line_config_error(run_cli(command, "--config", str(path), cwd=tmp_path), path, number.shown)


def test_check_stops_on_a_feed_file_that_does_not_exist(tmp_path):
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, MINIMAL.replace("feed.xml", "missing.xml"))
    said = assert_one_line_config_error(run_cli("check", "--config", str(path), cwd=tmp_path), path,
                                        "topics[0].feeds[0]")
    assert "missing.xml" in said


# -- every true/false setting in the schema -----------------------------------


def test_the_schema_walk_finds_the_true_false_settings():
    assert {"topics.include_only", "topics.feeds.full_text", "topics.feeds.allow_private",
            "web.one_click_unsubscribe", "web.json_feed"} <= {str(k) for k in BOOL_KEYS}


@pytest.mark.parametrize("flag", BOOL_KEYS, ids=str)
@pytest.mark.parametrize("value", ["no", "true", 1, 0, "1"])
def test_every_true_false_setting_refuses_anything_but_true_or_false(tmp_path, flag: SchemaKey, value):
    e = _error(tmp_path, flag.place(value))
    assert e.key == flag.shown and repr(value) in e.problem
    assert "true or false without quotes" in e.fix


@pytest.mark.parametrize("flag", BOOL_KEYS, ids=str)
def test_every_true_false_setting_takes_true_and_false(tmp_path, flag: SchemaKey):
    (tmp_path / "feed.xml").write_text("<rss/>")
    for value in (True, False):
        load_config(write_config(tmp_path, flag.place(value)))  # raises if refused


def test_the_readme_names_every_config_key():
    """The README's table of sections and keys is the reference a user reads: a key missing there is a
    setting nobody finds (`[fetch] lease_seconds` was)."""
    import re

    from newsletter.config import Config, _Section

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `\[+([a-z_.]+)\]+` \| (.+) \|$", readme, re.M))
    for name, field in Config.model_fields.items():
        section = field.annotation
        inner = getattr(section, "__args__", (section,))[0] if not isinstance(section, type) else section
        if not (isinstance(inner, type) and issubclass(inner, _Section)):
            continue
        keys = set(re.findall(r"`([a-z_]+)`", rows.get(name, "")))
        missing = {f.alias or k for k, f in inner.model_fields.items() if not f.exclude} - keys
        assert not missing, f"README's [{name}] row lacks {sorted(missing)}"


@pytest.mark.parametrize("section, key, shown", [
    ({"newsletter": {"title": ""}}, "[newsletter] title", 'title = "'),
    ({"newsletter": {"title": "   "}}, "[newsletter] title", 'title = "'),
    ({"topics": [{"name": "", "feeds": ["feed.xml"]}]}, "topics[0].name", 'name = "'),
])
def test_an_empty_title_or_topic_name_is_refused_before_it_reaches_a_subject_or_heading(tmp_path, section, key, shown):
    """Accepted, an empty topic name gave the email a heading of just "1. · 1 source", an empty title a subject
    that opened with " — "."""
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, config_data(**section))
    result = run_cli("check", "--config", str(path))
    assert result.exit_code == 2 and "config ok" not in result.stdout
    said = " ".join(result.stderr.split())
    assert f"{key}: " in said and "is empty. Fix: write" in said and shown in said


def test_two_topics_of_one_name_say_how_to_fix_it(tmp_path):
    (tmp_path / "feed.xml").write_text("<rss/>")
    topics = [{"name": "Local", "feeds": ["feed.xml"]}, {"name": "Local", "feeds": ["feed.xml"]}]
    result = run_cli("check", "--config", str(write_config(tmp_path, config_data(topics=topics))))
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and "'Local' appears more than once" in said
    assert "Fix: give each [[topics]] table its own name" in said and "README" not in said


# -- model prices ----------------------------------------------------------------


def test_model_prices_are_read_as_the_file_writes_them(tmp_path):
    (tmp_path / "feed.xml").write_text("<rss/>")
    llm = load_config(write_config(tmp_path, config_data(llm={"price_per_million_prompt": 0.15,
                                                               "price_per_million_completion": 0.6}))).llm
    assert llm.currency == "USD"
    assert str(llm.cost(1300, 140)) == "0.000279"  # 1300 × 0.15 + 140 × 0.60 per million, with no float crumbs
    assert llm.cost(0, 0) == 0
    whole = load_config(write_config(tmp_path, config_data(llm={"price_per_million_prompt": 3,  # TOML integers
                                                                 "price_per_million_completion": 15, "currency": "EUR"})))
    assert (str(whole.llm.cost(1_000_000, 100_000)), whole.llm.currency) == ("4.5", "EUR")
    assert load_config(write_config(tmp_path, config_data())).llm.cost(1300, 140) is None  # unset: tokens only


@pytest.mark.parametrize("llm, key, problem, fix", [
    ({"price_per_million_prompt": 0.15}, "[llm]",
     "price_per_million_prompt is set but price_per_million_completion is not",
     "add price_per_million_completion = ..."),
    ({"price_per_million_completion": 0.6}, "[llm]",
     "price_per_million_completion is set but price_per_million_prompt is not",
     "add price_per_million_prompt = ..."),
    ({"currency": "EUR"}, "[llm]", "currency is set but no prices are", "add price_per_million_prompt and"),
    ({"price_per_million_prompt": 0.15, "price_per_million_completion": 0.6, "currency": "US dollars"},
     "[llm] currency", "'US dollars' is not a short currency label", 'write a code or sign of 1 to 8 characters'),
    ({"price_per_million_prompt": -0.15, "price_per_million_completion": 0.6}, "[llm] price_per_million_prompt",
     "greater than or equal to 0 (got -0.15)", "use a number from 0 to 10000."),
    ({"price_per_million_prompt": "0.15", "price_per_million_completion": 0.6}, "[llm] price_per_million_prompt",
     "(got '0.15')", "write a number without quotes from 0 to 10000."),
    ({"price_per_milion_prompt": 0.15, "price_per_million_completion": 0.6}, "[llm] price_per_milion_prompt",
     "unknown key", "did you mean 'price_per_million_prompt'?"),
])
def test_a_price_mistake_is_one_line_naming_the_key_and_the_fix(tmp_path, llm, key, problem, fix):
    """One price alone would show a cost that leaves out half the bill; a currency alone labels nothing."""
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, config_data(llm=llm))
    said = assert_one_line_config_error(run_cli("check", "--config", str(path), cwd=tmp_path), path, key)
    assert problem in said and f"Fix: {fix}" in said, said
