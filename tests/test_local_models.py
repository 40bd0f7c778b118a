"""A small local model behind an OpenAI-compatible server (Ollama, llama.cpp, vLLM), as a new user meets it:
reasoning blocks and sloppy JSON in the answers, small context windows, missing usage figures."""

from __future__ import annotations

import json
import logging
import tomllib

import pytest
import tomli_w

from conftest import run_cli
from openai_server import OpenAIServer, Reply
from test_model_issue import (FERRY_HEADLINE, WALL_HEADLINE, Model, _fresh_endpoint_memory,  # noqa: F401
                              ferry_answer, newsletter, preview, sources_of, story, told, wall_answer)


def _by_story(wrap):
    """A model whose every answer (both stories') is the faithful one, passed through ``wrap``."""
    def answer(payload: dict) -> str:
        n = sources_of(payload)
        body = wall_answer(n) if "sea wall" in payload["messages"][1]["content"] else ferry_answer(n)
        return wrap(body)
    return answer


def test_a_reasoning_models_think_block_before_the_json_is_not_read_as_the_answer(newsletter):
    """DeepSeek-R1 and Qwen3 think aloud first, braces and all; every story went extractive."""
    thinking = ('<think>\nThe user wants JSON like {"headline": ...}. Draft: {headline: x, cites: [1]}.\n'
                "Check the numbers once more.\n</think>\n\n")
    with OpenAIServer(_by_story(lambda body: thinking + body)) as srv:
        result, page, txt, doc = preview(newsletter(), srv)
    assert {s["headline"] for s in doc["stories"]} == {WALL_HEADLINE, FERRY_HEADLINE}
    assert WALL_HEADLINE in page and WALL_HEADLINE in txt
    assert "think" not in page + txt and "failed" not in told(result)


def test_a_think_block_closed_without_its_opening_tag_is_not_read_as_the_answer(newsletter):
    """Some chat templates put the opening <think> in the prompt: the answer starts inside it."""
    with OpenAIServer(_by_story(lambda body: "Let me write {the JSON}.\n</think>\n" + body)) as srv:
        result, page, txt, doc = preview(newsletter(), srv)
    assert {s["headline"] for s in doc["stories"]} == {WALL_HEADLINE, FERRY_HEADLINE}


def _sloppy(body: str) -> str:
    """Trailing commas after the last item of every list and object, as small models write them."""
    return body.replace("]", ", ]").replace("}", ",}")


def _single_quoted(body: str) -> str:
    data = json.loads(body)
    return repr(data).replace("None", "null")  # {'headline': 'Dunmere ...', ... "Orrin's" stays in double quotes}


@pytest.mark.parametrize("wrap", [_sloppy, _single_quoted], ids=["trailing commas", "single quotes"])
def test_trailing_commas_and_single_quotes_in_a_small_models_json_are_read(newsletter, wrap):
    """A 3B model's JSON with trailing commas, or in single quotes, cost every story its briefing."""
    with OpenAIServer(_by_story(wrap)) as srv:
        result, page, txt, doc = preview(newsletter(), srv)
    assert {s["headline"] for s in doc["stories"]} == {WALL_HEADLINE, FERRY_HEADLINE}, told(result)
    assert "not valid JSON" not in told(result)
    wall = story(doc, "sea wall")
    assert wall["dek"] == "Councillors voted 31-9 for the wall, which should be finished in 2029."
    assert "The wall will cost 640 million crowns." in page and "Opponents said" in txt


def _small_window(window: int, say: str, wrap=lambda body: body):
    """A server with a context window of ``window`` tokens (4 characters a token) that refuses a request whose
    prompt and answer cap do not fit, in its own words (``say``: "vllm" or "llama.cpp")."""
    answer = _by_story(wrap)

    def model(payload: dict):
        asked = sum(len(m["content"]) for m in payload["messages"]) // 4 + (payload.get("max_tokens") or 0)
        if asked <= window:
            return answer(payload)
        if say == "vllm":
            error = {"message": f"This model's maximum context length is {window} tokens. However, you requested "
                                f"{asked} tokens. Please reduce the length of the messages or completion.",
                     "type": "BadRequestError", "code": 400}
        else:
            error = {"code": 400, "message": "the request exceeds the available context size, try increasing it",
                     "type": "exceed_context_size_error", "n_prompt_tokens": asked, "n_ctx": window}
        return Reply(status=400, body=json.dumps({"error": error}))
    return model


@pytest.mark.parametrize("say", ["vllm", "llama.cpp"])
def test_a_small_context_window_is_learnt_once_and_the_stories_are_still_written(newsletter, say):
    """A 2048-token window answered 400 to every story (prompt plus a 1,500-token answer cap): every
    story went extractive, each after a wasted call, with no word of the window or how to widen it."""
    with OpenAIServer(_small_window(2048, say)) as srv:
        result, page, txt, doc = preview(newsletter(concurrency=1), srv)
        asked = srv.chat_requests
    assert {s["headline"] for s in doc["stories"]} == {WALL_HEADLINE, FERRY_HEADLINE}, told(result)
    assert WALL_HEADLINE in page and FERRY_HEADLINE in txt
    assert len(asked) == 3  # one refused, then each story once, fitted to the window
    assert all(r.json["max_tokens"] + sum(len(m["content"]) for m in r.json["messages"]) // 4 <= 2048
               for r in asked[1:])
    said = told(result)
    assert "context window of 2048 tokens" in said and "used the extractive briefing" not in said
    assert "Fix: raise the server's context size" in said


SEA_WALL_LINE = "Dunmere approved a 640 million crown sea wall."
FERRY_LINE = "Pellow Yards will build four electric ferries."


def test_the_recent_news_lines_fit_a_4096_token_window(newsletter):
    """The sidebar's one call asked for a 4,000-token answer: a 4096-token window refused it every issue, and
    Recent news fell back to the sources' sentences."""
    config = newsletter(concurrency=1)
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    data["newsletter"].update(max_stories=1, sidebar_size=1)
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    briefing = _small_window(4096, "vllm")

    def model(payload: dict):
        if "<<<STORY 1>>>" not in payload["messages"][1]["content"]:
            return briefing(payload)
        asked = sum(len(m["content"]) for m in payload["messages"]) // 4 + payload["max_tokens"]
        if asked > 4096:
            return briefing(payload)  # refused in vLLM's words
        line = SEA_WALL_LINE if "sea wall" in payload["messages"][1]["content"] else FERRY_LINE
        return json.dumps({"blurbs": [{"story": 1, "text": line}]})

    with OpenAIServer(model) as srv:
        result, page, txt, doc = preview(config, srv)
    line = doc["sidebar"][0]["blurb"]
    assert line in (SEA_WALL_LINE, FERRY_LINE), told(result)  # the model's line, not a source's sentence
    assert line in page and line in txt and "failed" not in told(result)


def _without_usage(payload: dict) -> Reply:
    """A completion with no "usage" object, as some local servers answer."""
    n = sources_of(payload)
    content = wall_answer(n) if "sea wall" in payload["messages"][1]["content"] else ferry_answer(n)
    return Reply(body=json.dumps({"id": "c1", "object": "chat.completion", "created": 0, "model": "test-model",
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": content}}]}))


def test_a_server_that_reports_no_token_counts_is_said_so(newsletter):
    """The cost line read "2 answered calls, 0 prompt + 0 completion tokens", as if they were free, and
    max_tokens_per_issue never stopped a server that sends no usage figures."""
    with OpenAIServer(_without_usage) as srv:
        result, _, _, doc = preview(newsletter(concurrency=1), srv)
    said = told(result)
    assert "model: 2 answered calls, 0 prompt + 0 completion tokens" in said
    assert "the server gave no token counts for 2 calls" in said
    assert doc["usage"]["model_calls_without_token_counts"] == 2


def test_status_says_how_many_of_the_last_issues_calls_had_no_token_counts(newsletter):
    """The store kept "2 model calls, 0 prompt + 0 completion tokens" for such an issue: free, by status."""
    config = newsletter(concurrency=1)
    with OpenAIServer(_without_usage) as srv:
        sent = run_cli("send", "--config", str(config), cwd=config.parent,
                       env={"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": srv.base_url})
    assert sent.exit_code == 0, sent.stdout + sent.stderr
    shown = run_cli("status", "--config", str(config), cwd=config.parent)
    assert "2 model calls, 0 prompt + 0 completion tokens (2 calls without token counts: not in these " \
           "figures)" in " ".join(shown.stdout.split()), shown.stdout
    report = json.loads(run_cli("status", "--config", str(config), "--json", cwd=config.parent).stdout)
    assert report["last_issue"]["model_calls_without_token_counts"] == 2


def test_with_prices_calls_without_token_counts_are_still_said_to_be_outside_the_cost(newsletter):
    """Priced, such an issue must not read as free: the cost comes with the same note as the tokens."""
    config = newsletter(concurrency=1, price_per_million_prompt=0.15, price_per_million_completion=0.60)
    with OpenAIServer(_without_usage) as srv:
        sent = run_cli("send", "--config", str(config), cwd=config.parent,
                       env={"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": srv.base_url})
    assert "0 prompt + 0 completion tokens, cost unknown (the server gave no token counts for 2 calls: not in " \
           "these figures)" in told(sent), told(sent)
    shown = " ".join(run_cli("status", "--config", str(config), cwd=config.parent).stdout.split())
    assert "2 model calls, 0 prompt + 0 completion tokens, cost unknown (2 calls without token counts: not in " \
           "these figures)" in shown, shown
    assert "2 calls of the last 30 days without token counts: not in these figures" in shown, shown
    # Nor do the days whose calls all lacked them: "last 7 days 0 USD" read as free.
    assert "model cost: last 7 days cost unknown (1 issue), last 30 days cost unknown (1 issue)" in shown, shown
    assert "0 USD" not in shown, shown
    report = json.loads(run_cli("status", "--config", str(config), "--json", cwd=config.parent).stdout)
    assert report["model_cost"]["last_7_days"]["amount"] is None


def test_calls_without_token_counts_are_held_to_the_budget_by_estimate(newsletter):
    with OpenAIServer(_without_usage) as srv:
        result, _, _, doc = preview(newsletter(concurrency=1, max_tokens_per_issue=1800), srv, name="capped")
        assert len(srv.chat_requests) == 1  # the first answer's estimated tokens spent the budget
    assert "max_tokens_per_issue = 1800" in told(result)


def test_a_base_url_without_v1_is_told_once_and_not_asked_for_every_story(newsletter):
    """Ollama answers "404 page not found" at http://127.0.0.1:11434/chat/completions: every story was asked,
    each failing alike, until give_up_after; one line naming the URL and the /v1 fix is enough."""
    with OpenAIServer(lambda payload: Reply(status=404, body="404 page not found")) as srv:
        result, page, txt, doc = preview(newsletter(concurrency=1), srv)
        asked = len(srv.chat_requests)
    said = told(result)
    assert asked == 1, said
    assert said.count("HTTP 404") == 1 and "most end in /v1" in said and srv.base_url.rstrip("/") in said
    assert "not asked again" in said and len(doc["stories"]) == 2  # both written extractively


def test_a_reasoning_model_cut_off_while_thinking_is_told_how_to_turn_thinking_off(newsletter):
    """Qwen3 thought past the 1,500-token cap: each story said only "cut off at its cap", with no word of why."""
    still_thinking = Reply(content="<think>\nFirst, list every number in source 1. " + "Then check it. " * 300,
                           finish_reason="length")
    with OpenAIServer(lambda payload: still_thinking) as srv:
        result, page, txt, doc = preview(newsletter(concurrency=1), srv)
    said = told(result)
    assert "still reasoning (<think>) at its cap of 1500 tokens" in said, said
    assert "Fix: turn the model's thinking off" in said


def test_a_server_that_silently_cuts_the_prompt_is_told(newsletter):
    """Ollama cuts a prompt longer than its num_ctx (2048 by default in many installs) without a word: the
    model saw part of the sources and of the instructions, and nothing said so."""
    with OpenAIServer(Model(usage={"prompt_tokens": 200, "completion_tokens": 90})) as srv:
        result, page, txt, doc = preview(newsletter(concurrency=1), srv)
    said = told(result)
    assert said.count("counted 200 prompt tokens for a prompt of about") == 1, said
    assert "num_ctx" in said and "Fix:" in said
    assert WALL_HEADLINE in page  # the answers themselves still went through the gate as ever


def test_a_server_counting_the_whole_prompt_gets_no_such_note(newsletter):
    with OpenAIServer(Model(usage={"prompt_tokens": 800, "completion_tokens": 90})) as srv:
        result, page, txt, doc = preview(newsletter(concurrency=1), srv)
    assert "prompt tokens for a prompt of about" not in told(result)


def test_a_server_that_answers_past_the_cap_is_told_once_in_the_run_report(newsletter):
    with OpenAIServer(Model(usage={"prompt_tokens": 800, "completion_tokens": 5000})) as srv:
        result, page, txt, doc = preview(newsletter(concurrency=1), srv)
    said = " ".join(told(result).split())
    told_once = "the server answered 5,000 tokens where the answer's cap was 1,500: it ignores max_tokens"
    assert said.count(told_once) == 1, said
    assert WALL_HEADLINE in page  # the answers were still used: only the budget's arithmetic changed


def test_a_failed_recent_news_call_is_told_once(newsletter, caplog):
    """preview printed a failed sidebar call twice: a WARNING log line, then the run report's warning."""
    caplog.set_level(logging.DEBUG)
    config = newsletter(concurrency=1)
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    data["newsletter"].update(max_stories=1, sidebar_size=1)
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    answer = _by_story(lambda body: body)

    def model(payload: dict):
        if "<<<STORY 1>>>" in payload["messages"][1]["content"]:
            return Reply(status=500, body=json.dumps({"error": {"message": "blurb trouble"}}))
        return answer(payload)

    with OpenAIServer(model) as srv:
        result, *_ = preview(config, srv)
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert told(result).count("blurb trouble") + sum("blurb trouble" in m for m in logged) == 1, (logged, told(result))
    assert "Recent news:" in told(result)


def test_a_model_that_answers_in_english_for_a_german_issue_is_told_the_fix(newsletter):
    """A 3B model often writes English whatever it is asked: the warning said so but not what to do."""
    config = newsletter(concurrency=1)
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    data["newsletter"]["language"] = "de"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    with OpenAIServer(_by_story(lambda body: body)) as srv:
        result, *_ = preview(config, srv)
    said = told(result)
    assert "model answered in English, not in German ([newsletter] language)" in said
    assert "Fix: use a model that writes German" in said


def test_a_request_past_the_timeout_is_not_asked_again(newsletter):
    """A CPU model slower than [llm] timeout was asked max_retries more times, each as slow: with the README's
    recipe (timeout = 120, max_retries = 2) a story held the issue six minutes, and the server's queue with it."""
    slow = Model(Reply(content="{}", delay=60))  # the sea wall story never comes in time; the server's stop ends it
    with OpenAIServer(slow) as srv:
        result, *_ = preview(newsletter(timeout=0.5, max_retries=2, concurrency=1), srv)
    assert slow.asked["wall"] == 1, told(result)
    assert "no answer within [llm] timeout = 0.5 s, asked once" in told(result)
    assert "used the extractive briefing" in told(result)


def test_a_source_shortened_for_a_small_window_ends_where_a_sentence_ends():
    """Cut at a character count, "... rose 71.2 percent" reached the model as "71.2 perc", a fragment a
    small model repeated and the gate then refused, so the story went extractive."""
    from email_demo import DEMO_MORNING

    from newsletter.models import Article, Story
    from newsletter.summarize.llm import build_messages
    from newsletter.summarize.sentences import head

    text = ("Turnout rose 71.2 percent in Dunmere, the fictional harbour town.\n\nThe count ended at 9 p.m. "
            "on Friday. Officials said the new ballot boxes, bought for 4,100 crowns, worked.")
    article = Article(id="a", feed_url="https://dunmere.example/feed", outlet="Dunmere Post (fictional)",
                      title="Turnout up", link="https://dunmere.example/a", published=DEMO_MORNING, text=text)
    for limit in range(60, len(text)):
        shortened = head(text, limit)
        assert len(shortened) <= limit + 1 and text.startswith(shortened.rstrip("…"))
        assert shortened.endswith((".", "…")), shortened
    assert head(text, 100) == "Turnout rose 71.2 percent in Dunmere, the fictional harbour town."
    assert head(text, 125) == text[:text.index("Friday.") + len("Friday.")]  # "p.m." before a lower case is no end
    assert head(text, 50) == "Turnout rose 71.2 percent in Dunmere, the…"  # no sentence ends in the first half
    assert head("港口的投票率上升了百分之七十一。计票在周五晚上九点结束。", 20) == "港口的投票率上升了百分之七十一。"
    user = build_messages(Story(articles=[article], headline="Turnout up"), per_source=90)[1]["content"]
    assert "in Dunmere, the fictional harbour town.\n<<<END SOURCE 1>>>" in user and "perc\n" not in user


def test_a_prompt_too_long_for_a_learnt_window_does_not_shrink_it_for_every_later_story():
    """Once a 2048-token window was learnt, a Recent news prompt longer than the window itself was refused
    before it was sent (no answer cap fits), and each such refusal of our own was taken for the server's:
    the window learnt fell to 1152 tokens, and every later story was cut to fit a window the server never had."""
    from datetime import datetime, timezone

    from model_helpers import summarizer
    from newsletter.models import Article, Story
    from newsletter.summarize import window as windows

    t0 = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)

    def a_story(n: int) -> Story:
        text = f"The council of town {n} approved a 640 million crown sea wall on Tuesday. " * 12
        return Story(headline=f"Town {n} builds a sea wall", articles=[Article(
            id=f"a{n}", feed_url=f"https://o{n}.example/feed", outlet=f"Outlet {n}", title=f"Town {n} sea wall",
            link=f"https://o{n}.example/story", published=t0, text=text)])

    def model(payload: dict):
        asked = sum(len(m["content"]) for m in payload["messages"]) // 4 + (payload.get("max_tokens") or 0)
        if asked > 2048:
            return Reply(status=400, body=json.dumps({"error": {
                "message": f"This model's maximum context length is 2048 tokens. However, you requested {asked} "
                           "tokens.", "type": "BadRequestError", "code": 400}}))
        return json.dumps({"blurbs": []})

    with OpenAIServer(model) as srv:
        s = summarizer(srv)
        with pytest.raises(windows.ContextTooSmall):
            s._fitting(lambda _: s._complete([{"role": "user", "content": "x" * 9000}], s.usage))
        assert windows.known(s._endpoint) == 2048  # learnt from the server's own words
        with pytest.raises(Exception):
            s.blurbs([a_story(n) for n in range(1, 21)])  # a prompt of about 4,000 tokens: fits no 2048 window
        assert windows.known(s._endpoint) == 2048, "a refusal of our own taught the endpoint a smaller window"
        assert len(srv.chat_requests) == 1


def test_a_read_timeout_that_beats_the_deadline_timer_is_not_asked_again_either():
    """The socket's own read timeout is [llm] timeout too, and on a busy machine it fired before the
    deadline's timer thread did: httpx's ReadTimeout reached the openai client, which asked the slow server
    max_retries more times (the run report still said "asked once"). Here the socket's timeout is shorter
    than the deadline, so it always wins."""
    import httpx2
    import openai

    from newsletter.llm_client import DeadlineTransport

    with OpenAIServer(lambda payload: Reply(content="{}", delay=60)) as srv:
        http = openai.DefaultHttpxClient(transport=DeadlineTransport(60), timeout=httpx2.Timeout(0.3))
        client = openai.OpenAI(api_key="k", base_url=srv.base_url, max_retries=2, http_client=http)
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "hi"}])
        assert len(srv.chat_requests) == 1
