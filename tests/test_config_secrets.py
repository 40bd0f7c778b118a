"""A secret pasted into the config is refused without being printed.

A new user wrote ``password = "hunter2"`` under [delivery.smtp]; the message said to rename it
to password_env, and then "export hunter2secret=..." put the password in the terminal (and in
journald, under the service). Every message here must name the file and the key, say that the
secret goes in an environment variable and its NAME in the file, and never show the value.
"""

from __future__ import annotations

import pytest

from conftest import config_data, run_cli, write_config

PASTED = "hunter2secret"  # a valid variable name, and a password
KEY = "sk-proj-abc123XYZ"  # no variable could be named this

SMTP = {"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": 9}}


def _smtp(**keys) -> dict:
    return config_data(delivery={**SMTP, "smtp": {**SMTP["smtp"], **keys}})


def _refused(tmp_path, data: dict, command: str = "check", env: dict | None = None) -> str:
    """The one line of a config error, after checking that no trace of a secret is in the output."""
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, data)
    result = run_cli(command, "--config", str(path), cwd=tmp_path, env=env)
    said = result.stdout + result.stderr
    assert result.exit_code == 2, said
    assert PASTED not in said and KEY not in said and "123456" not in said, said
    [line] = result.stderr.strip().splitlines()
    assert str(path) in line and "Traceback" not in said
    return line


@pytest.mark.parametrize("key, section, env_key", [
    ("password", "[delivery.smtp]", "password_env"),
    ("api_key", "[llm]", "api_key_env"),
    ("secret", "[web]", "secret_env"),
])
def test_an_unknown_key_holding_a_secret_is_not_told_to_become_the_env_key(tmp_path, key, section, env_key):
    """"did you mean 'password_env'? Rename it" made the password the variable's name."""
    data = _smtp(password=PASTED) if section == "[delivery.smtp]" else config_data(**{section.strip("[]"): {key: PASTED}})
    line = _refused(tmp_path, data)
    assert f"{section} {key}: unknown key '{key}'" in line
    assert "Rename it" not in line and "never goes in this file" in line
    assert f"NAME in {env_key}" in line and f"remove {key}" in line


@pytest.mark.parametrize("section, key", [("delivery", "password_env"), ("llm", "api_key_env"), ("web", "secret_env")])
@pytest.mark.parametrize("value", [KEY, "hunter 2", "", "2fast"])
def test_a_value_no_variable_could_be_named_is_refused_by_every_command_unprinted(tmp_path, section, key, value):
    data = _smtp(password_env=value) if key == "password_env" else config_data(**{section: {key: value}})
    for command in ("check", "status", "preview"):
        line = _refused(tmp_path, data, command)
        shown_key = "[delivery.smtp] password_env" if key == "password_env" else f"[{section}] {key}"
        assert f"{shown_key}: its value is not the name of an environment variable" in line, line
        assert "never goes in this file" in line and f"NAME in {key}" in line


def test_a_number_where_the_variable_name_goes_is_not_printed(tmp_path):
    line = _refused(tmp_path, _smtp(password_env=123456))
    assert "[delivery.smtp] password_env" in line and "never goes in this file" in line


@pytest.mark.parametrize("command", ["check", "send"])
def test_a_password_pasted_as_password_env_is_not_echoed_as_a_variable_to_export(tmp_path, command):
    """"hunter2secret" is a valid name, so only when it names nothing set can it be told apart, and
    then it is not printed; once such a variable exists, it is a name like any other."""
    line = _refused(tmp_path, _smtp(password_env=PASTED), command)
    assert "[delivery.smtp] password_env: names no environment variable that is set" in line
    assert "export SMTP_PASSWORD=..." in line and "never goes in this file" in line
    path = tmp_path / "newsletter.toml"
    ok = run_cli("check", "--config", str(path), cwd=tmp_path, env={PASTED: "pw"})
    assert ok.exit_code == 0 and "config ok" in ok.stdout, ok.stderr


def test_a_key_pasted_as_api_key_env_is_not_echoed(tmp_path):
    line = _refused(tmp_path, config_data(llm={"api_key_env": PASTED}), "preview")
    assert "[llm] api_key_env: names no environment variable that is set" in line and "OPENAI_API_KEY" in line


def test_the_unsubscribe_key_pasted_as_secret_env_is_not_echoed(tmp_path):
    line = _refused(tmp_path, config_data(web={"base_url": "https://news.example.org/", "secret_env": PASTED}))
    assert "[web] secret_env: names no environment variable that is set" in line


def test_a_variable_written_like_a_name_is_still_named_when_it_is_not_set(tmp_path):
    """SMTP_PASSWORD is no secret: the message says which variable to export, as before."""
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, _smtp(password_env="MY_SMTP_PASSWORD"))
    result = run_cli("check", "--config", str(path), cwd=tmp_path)
    assert result.exit_code == 2 and "export MY_SMTP_PASSWORD=..." in result.stderr, result.stderr


def test_a_token_shaped_name_is_not_printed_either():
    from newsletter.variables import holds_secret, printable

    assert printable("SMTP_PASSWORD") and printable("DEEPSEEK_API_KEY") and printable("NEWSLETTER_WEB_SECRET")
    assert not printable("AKIAIOSFODNN7EXAMPLE") and not printable(PASTED) and not printable("smtp_password")
    assert holds_secret("password") and holds_secret("api_key") and holds_secret("password_env")
    assert not holds_secret("max_tokens_per_issue") and not holds_secret("keywords")
