"""What a model server said, in one line for a person, and the probe ``check`` makes of one.

    short(error)                      # 'NotFoundError (HTTP 404): the server said "..." Fix: check [llm] model ...'
    probe_endpoint(cfg, "gpt-4o-mini")   # EndpointProbe(what, ok, note): GET /models, no tokens spent

A send's refusal and ``check``'s probe word a refused key and an unreachable server the same way
(``key_refused``, ``not_reached``); a server's own words are shown without anything shaped like a key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import openai

from newsletter.config import Config
from newsletter.controls import escape_controls
from newsletter.llm_client import openai_client, shown_url, withheld_note


def short(e: Exception) -> str:
    """The failure in a line: its kind and status, the server's own words, and what to check."""
    status = getattr(e, "status_code", None)
    kind = e.__class__.__name__
    if not status:
        return kind
    said = server_words(getattr(e, "body", None))
    fix = _STATUS_FIX.get(status, "")
    if status == 429 and _QUOTA.search(said):
        fix = " Fix: the account's quota is spent: check its plan and billing."
    return f"{kind} (HTTP {status})" + (f': the server said "{said}"' if said else "") + ("." if said and fix else "") + fix


def timed_out(client) -> str:
    """A story the server did not answer in time: the deadline, that it was asked once (an attempt past the
    deadline is not repeated: see ``llm_client``), and the key to raise."""
    timeout = getattr(getattr(client, "timeout", None), "read", None) or getattr(client, "timeout", None)
    within = f"within [llm] timeout = {timeout:g} s" if isinstance(timeout, (int, float)) else "in time"
    return (f"model request failed: no answer {within}, asked once. Fix: raise [llm] timeout if the server is "
            "slow (a local model on a CPU), or lower [llm] concurrency if it is busy.")


def quota_spent(e: Exception) -> bool:
    """A 429 that says the account's quota or credit is spent, not that requests came too fast."""
    return getattr(e, "status_code", None) == 429 and bool(_QUOTA.search(server_words(getattr(e, "body", None))))


_QUOTA = re.compile(r"quota|billing|credit", re.IGNORECASE)
_STATUS_FIX = {404: " Fix: check [llm] model (the server's own name for it) and [llm] base_url (most end in /v1)."}
SERVER_WORDS = 160  # characters of a server's error message shown
_KEYLIKE = re.compile(r"\b(sk|pk|key|token)[-_][A-Za-z0-9_*\-]{6,}", re.IGNORECASE)


def server_words(body) -> str:
    """The message in an error answer's body, on one line, without anything shaped like a key."""
    if isinstance(body, dict):
        body = body.get("error", body)
        body = body.get("message") if isinstance(body, dict) else body
    if not isinstance(body, str):
        return ""
    text = _KEYLIKE.sub("[key]", " ".join(escape_controls(body).split()))
    return text if len(text) <= SERVER_WORDS else text[:SERVER_WORDS - 1] + "…"


def _cause(e: Exception) -> str:
    """The network's own words for a failed connection ("Connection refused"), not the client's wrapper."""
    inner = e.__cause__ or e.__context__
    while inner is not None and (inner.__cause__ or inner.__context__) is not None:
        inner = inner.__cause__ or inner.__context__
    return f"{inner.__class__.__name__}: {inner}" if inner is not None else e.__class__.__name__


@dataclass(frozen=True)
class EndpointProbe:
    """What ``check`` found at a model endpoint: ``ok`` False fails the check; ``note`` is said either way."""

    what: str  # "model gpt-4o-mini at https://…"
    ok: bool
    note: str


PROBE_SECONDS = 15.0  # check waits this long at most for the model list


def probe_endpoint(cfg: Config, model: str, *, what: str = "model") -> EndpointProbe:
    """List the endpoint's models (GET /models: free, no tokens spent) to learn, before a morning's
    issue does, whether the server is up, takes the key, and serves ``model``."""
    client = openai_client(cfg).with_options(max_retries=0, timeout=min(cfg.llm.timeout, PROBE_SECONDS))
    where = shown_url(str(client.base_url)).rstrip("/")
    label = f"{what} {model} at {where}"
    try:
        served = [m.id for m in client.models.list()]
    except openai.NotFoundError:
        if not where.endswith("/v1"):  # the usual cause: the address lacks its /v1, and so would every request
            return EndpointProbe(label, False, f"{where}/models is not there (HTTP 404). Fix: check [llm] base_url "
                                               "(most end in /v1; a server without a model list answers so too)")
        return EndpointProbe(label, True, "reachable; the server does not list its models, so the name is unchecked")
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        return EndpointProbe(label, False, f"the server {key_refused(e, cfg.llm.api_key_env, withheld_note(cfg))}")
    except openai.APIConnectionError as e:
        return EndpointProbe(label, False, f"cannot reach it {not_reached(e)}")
    except openai.APIError as e:
        return EndpointProbe(label, False, f"the server answered {short(e)}")
    except ValueError as e:  # a 200 that is no model list (a proxy's page, say)
        return EndpointProbe(label, False, f"the answer is not a model list ({e.__class__.__name__}). "
                                           "Fix: check [llm] base_url (most end in /v1)")
    if _serves(served, model):
        return EndpointProbe(label, True, "ok")
    listed = ", ".join(served[:5]) + (f" and {len(served) - 5} more" if len(served) > 5 else "")
    key = "embeddings_model" if what == "embeddings" else "model"
    # Not a failure: some servers (llama.cpp's) answer to any name whatever they list.
    return EndpointProbe(label, True, f"not among the models it lists ({listed or 'none'}); unless the server "
                                      f"takes any name, requests will fail. Fix: check [llm] {key}")


def key_refused(e: Exception, key_env: str, note: str = "") -> str:
    """A refused key, said the same by a send and by ``check``: the server's words and where the key goes."""
    return (f"refused the key ({short(e)}). Fix: put a valid key in ${key_env} (the variable [llm] api_key_env "
            f"names), or check [llm] base_url.{note}")


def not_reached(e: Exception) -> str:
    return f"({_cause(e)}). Fix: check [llm] base_url, and that the server is running."


def _serves(served: list[str], model: str) -> bool:
    """Ollama lists "llama3:latest" and answers to "llama3" too."""
    return any(m == model or m == f"{model}:latest" for m in served)
