"""`check` asks the model server what it serves, so a wrong key, model name or address shows the
evening before, not as a morning's issue quietly written extractively."""

from __future__ import annotations

import socket

import pytest
from openai_server import OpenAIServer

from conftest import CliResult, config_data, run_cli, write_config

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Fenwick Gazette</title>
<item><title>Harbour fees rise</title><link>https://gazette.example/1</link><guid>g1</guid>
<description>The harbour board raised mooring fees.</description></item></channel></rss>"""

KEY = "sk-test-3f9c2a7b1d"


def _check(tmp_path, llm: dict, env: dict | None = None) -> CliResult:
    (tmp_path / "feed.xml").write_text(FEED)
    cfg = write_config(tmp_path, config_data(llm=llm))
    return run_cli("check", "--config", str(cfg), cwd=tmp_path, env=env)


def _line(out: str, start: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith(start)]
    assert len(lines) == 1, out
    return " ".join(lines[0].split())


def test_a_served_model_with_a_good_key_is_ok_and_no_token_is_spent(tmp_path):
    with OpenAIServer(model="brief-model", key=KEY) as srv:
        proc = _check(tmp_path, {"model": "brief-model", "base_url": srv.base_url}, {"OPENAI_API_KEY": KEY})
    assert proc.exit_code == 0, proc.stdout + proc.stderr
    assert _line(proc.stdout, "model brief-model") == f"model brief-model at {srv.base_url}: ok"
    assert srv.chat_requests == [] and [r.path for r in srv.requests] == ["/v1/models"]


def test_a_refused_key_fails_the_check_naming_the_variable_and_never_the_key(tmp_path):
    wrong = "sk-wrong-8e1d44c0aa"
    with OpenAIServer(model="brief-model", key=KEY) as srv:
        proc = _check(tmp_path, {"model": "brief-model", "base_url": srv.base_url}, {"OPENAI_API_KEY": wrong})
    assert proc.exit_code == 1, proc.stdout + proc.stderr
    line = _line(proc.stdout, "model brief-model")
    assert "refused the key" in line and "401" in line and "$OPENAI_API_KEY" in line
    assert wrong not in proc.stdout + proc.stderr


def test_a_model_the_server_does_not_list_is_named_with_what_it_does_list(tmp_path):
    with OpenAIServer(models=["qwen2.5-7b-instruct", "llama3:latest"]) as srv:
        wrong = _check(tmp_path, {"model": "qwen-2.5-7b", "base_url": srv.base_url})
        tagged = _check(tmp_path, {"model": "llama3", "base_url": srv.base_url})  # Ollama answers to it
    assert wrong.exit_code == 0, wrong.stdout  # some servers (llama.cpp's) take any name: a warning only
    line = _line(wrong.stdout, "model qwen-2.5-7b")
    assert "qwen2.5-7b-instruct, llama3:latest" in line and "[llm] model" in line
    assert _line(tagged.stdout, "model llama3").endswith(": ok")


def test_a_server_that_is_down_fails_the_check_with_the_address_to_fix(tmp_path):
    with socket.socket() as s:  # a port that nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _check(tmp_path, {"model": "brief-model", "base_url": f"http://127.0.0.1:{port}/v1"})
    assert proc.exit_code == 1, proc.stdout + proc.stderr
    line = _line(proc.stdout, "model brief-model")
    assert "cannot reach it" in line and "[llm] base_url" in line
    assert "Traceback" not in proc.stderr


def test_a_server_without_a_model_list_passes_with_the_name_unchecked(tmp_path):
    with OpenAIServer(lists_models=False) as srv:
        proc = _check(tmp_path, {"model": "brief-model", "base_url": srv.base_url})
    assert proc.exit_code == 0, proc.stdout
    assert "name is unchecked" in _line(proc.stdout, "model brief-model")


def test_an_address_without_its_v1_fails_the_check_and_no_password_in_it_is_printed(tmp_path):
    """A base_url missing /v1 answers 404 at /models, as every chat request would the next morning."""
    with OpenAIServer(lists_models=False) as srv:
        bare = srv.base_url.removesuffix("/v1").replace("http://", "http://ops:hunter2pass@")
        proc = _check(tmp_path, {"model": "brief-model", "base_url": bare})
    assert proc.exit_code == 1, proc.stdout
    line = _line(proc.stdout, "model brief-model")
    assert "(HTTP 404)" in line and "most end in /v1" in line
    assert "hunter2pass" not in proc.stdout + proc.stderr


def test_an_embeddings_server_of_its_own_is_checked_too(tmp_path):
    with OpenAIServer(model="brief-model") as chat, OpenAIServer(models=["multilingual-e5-small-q4"]) as vectors:
        proc = _check(tmp_path, {"model": "brief-model", "base_url": chat.base_url,
                                 "embeddings_model": "multilingual-e5-small", "embeddings_base_url": vectors.base_url})
    assert proc.exit_code == 0, proc.stdout
    assert _line(proc.stdout, "model brief-model").endswith(": ok")
    line = _line(proc.stdout, "embeddings multilingual-e5-small")
    assert vectors.base_url in line and "multilingual-e5-small-q4" in line and "[llm] embeddings_model" in line


@pytest.mark.parametrize("llm", [{}, {"model": "brief-model"}])
def test_without_an_endpoint_check_contacts_no_model_server(tmp_path, llm):
    proc = _check(tmp_path, llm)
    assert proc.exit_code == 0, proc.stdout + proc.stderr
    assert "summarizer: extractive" in proc.stdout
    assert not any(line.startswith(("model ", "embeddings ")) for line in proc.stdout.splitlines())


def _own_address() -> str:
    """This machine's address on its network (not loopback), or a skip: the route is looked up, no packet sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("198.51.100.1", 9))  # a documentation address: only the route is looked up
            address = s.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        pytest.skip("this machine has no network address besides loopback to serve plain http on")
    return address


def test_the_default_key_is_not_sent_in_clear_to_another_machine_unless_the_config_names_it(tmp_path):
    """OPENAI_API_KEY, set for OpenAI, went to any base_url: over plain http to a LAN box, readable on the way."""
    with OpenAIServer(model="brief-model", key=KEY, host=_own_address()) as srv:
        withheld = _check(tmp_path, {"model": "brief-model", "base_url": srv.base_url}, {"OPENAI_API_KEY": KEY})
        sent_then = [r.headers.get("Authorization") for r in srv.requests]
        named = _check(tmp_path, {"model": "brief-model", "base_url": srv.base_url, "api_key_env": "OPENAI_API_KEY"},
                       {"OPENAI_API_KEY": KEY})
    assert KEY not in str(sent_then)
    assert withheld.exit_code == 1, withheld.stdout
    line = _line(withheld.stdout, "model brief-model")
    assert "was not sent" in line and "plain http to another machine" in line and 'api_key_env = "OPENAI_API_KEY"' in line
    assert named.exit_code == 0 and _line(named.stdout, "model brief-model").endswith(": ok"), named.stdout


def test_a_config_copied_from_the_reference_does_not_send_the_default_key_in_clear(demo, monkeypatch):
    """README: copy config/newsletter.toml and edit it. The copy named OPENAI_API_KEY under [llm], which is
    how one asks for that key to go over plain http to another machine: a researcher pointing the copy at
    the Ollama box down the hall sent her OpenAI key there in clear. No packet is sent here: the client's key
    is what the requests would carry."""
    from newsletter.config import load_config
    from newsletter.llm_client import key_withheld, openai_client

    text = demo.read_text().replace("[llm]\n", '[llm]\nbase_url = "http://192.0.2.10:11434/v1"\n', 1)
    demo.write_text(text)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    cfg = load_config(demo)
    assert key_withheld(cfg)
    assert openai_client(cfg).api_key != KEY
