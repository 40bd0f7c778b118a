"""A small local model behind an OpenAI-compatible server (Ollama, llama.cpp, vLLM), as a new user meets it:
reasoning blocks and sloppy JSON in the answers, small context windows, missing usage figures."""

from __future__ import annotations

import json

import pytest

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
