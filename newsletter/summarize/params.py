"""Which sampling parameters and answer format a model server takes, learnt from its refusals.

OpenAI's reasoning models (the o-series, gpt-5) refuse ``max_tokens`` ("Use 'max_completion_tokens'
instead") and any temperature but their own default, and count their thinking in the answer's cap.
Asked the usual way, they refused every story and the whole issue went extractive. Each refusal is
learnt once per endpoint (base URL and model), for the life of the process, and the request is made
again without what was refused:

    args = request_args(endpoint, temperature=0.2, cap=1500)   # max_tokens=1500, temperature=0.2
    learn(endpoint, error)      # "max_completion_tokens": now max_completion_tokens, reasoning_effort "low"

Other servers are asked exactly as before: nothing here is sent until a server has asked for it.

The answer's format is learnt the same way, best first: strict JSON schema, a plain JSON object, the
prompt alone (``answer_format``, ``step_down``), so a scheduled `newsletter run` asks a server without
json_schema once, not once per issue.
"""

from __future__ import annotations

import threading

# A briefing needs little thinking, and every reasoning token is paid as an answer's.
REASONING_EFFORT = "low"
# Room for that thinking beside the answer's own cap, since the cap counts both.
REASONING_TOKENS = 2000

COMPLETION_CAP = "max_completion_tokens"  # the cap goes by that name, and counts reasoning too
DEFAULT_TEMPERATURE = "default temperature"  # the model takes only its own
NO_EFFORT = "no reasoning_effort"  # a server that wants max_completion_tokens but not reasoning_effort

# Best first: the ways of asking for JSON, down to the prompt alone.
ANSWER_FORMATS = ("json_schema", "json_object", "plain")

_LEARNT: dict[str, set[str]] = {}
_FORMATS: dict[str, str] = {}
_LOCK = threading.Lock()


def answer_format(endpoint: str) -> str:
    with _LOCK:
        return _FORMATS.get(endpoint, ANSWER_FORMATS[0])


def step_down(endpoint: str, rejected: str) -> str | None:
    """The next format after ``rejected``, now learnt; None when a story asked beside this one stepped
    down already (its own try then asks the format learnt)."""
    with _LOCK:
        if _FORMATS.get(endpoint, ANSWER_FORMATS[0]) != rejected:
            return None
        _FORMATS[endpoint] = ANSWER_FORMATS[ANSWER_FORMATS.index(rejected) + 1]
        return _FORMATS[endpoint]


def reasons(endpoint: str) -> bool:
    """Whether the endpoint was found to be a reasoning model's: its cap must leave room for thinking."""
    with _LOCK:
        return COMPLETION_CAP in _LEARNT.get(endpoint, ())


def request_args(endpoint: str, *, temperature: float, cap: int) -> dict:
    with _LOCK:
        learnt = set(_LEARNT.get(endpoint, ()))
    args: dict = {} if DEFAULT_TEMPERATURE in learnt else {"temperature": temperature}
    if COMPLETION_CAP not in learnt:
        return {**args, "max_tokens": cap}
    args[COMPLETION_CAP] = cap
    if NO_EFFORT not in learnt:
        args["reasoning_effort"] = REASONING_EFFORT
    return args


def learn(endpoint: str, error: Exception) -> str | None:
    """What the refusal ``error`` (a 400) says the endpoint will not take, now learnt; None when it is
    about nothing here, or about something learnt already (asking again would be refused again)."""
    said = str(error).lower()
    param = str(getattr(error, "param", None) or "").lower()
    if COMPLETION_CAP in said and (param == "max_tokens" or "max_tokens" in said.replace(COMPLETION_CAP, "")):
        found = COMPLETION_CAP
    elif param == "temperature" or ("temperature" in said and any(
            word in said for word in ("unsupported", "does not support", "not supported", "only the default"))):
        found = DEFAULT_TEMPERATURE
    elif param == "reasoning_effort" or "reasoning_effort" in said:
        found = NO_EFFORT
    else:
        return None
    with _LOCK:
        learnt = _LEARNT.setdefault(endpoint, set())
        if found in learnt:
            return None
        learnt.add(found)
    return found


def forget() -> None:
    """Forget every endpoint (tests: each test's server is a new endpoint)."""
    with _LOCK:
        _LEARNT.clear()
        _FORMATS.clear()
