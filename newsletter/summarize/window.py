"""A model server's context window, learnt from its refusals, and a prompt fitted to it.

Local servers run small windows (llama.cpp and vLLM as started, 2048-8192 tokens) and answer 400
to a request whose prompt and answer cap do not fit: vLLM "This model's maximum context length is
4096 tokens", llama.cpp "the request exceeds the available context size" with ``n_ctx`` in the
body. The window that refusal names (else a guess below what was asked) is kept per endpoint for
the life of the process; from then on each story's sources are shortened, and each answer's cap
lowered, to fit it, so one refusal costs one call, not every story of every issue.

    refused = context_refusal(error)         # a ContextTooSmall for a window refusal, else None
    window = learn(endpoint, refused, fitted)   # the window to fit from now on; None: no smaller one helps
    chars = source_chars(window, system_tokens, n_sources)   # what the sources may take of the prompt
"""

from __future__ import annotations

import json
import re
import threading

from newsletter.summarize.modeltext import LLMSummaryError

MIN_WINDOW = 1024  # below this no briefing fits beside the instructions: the story goes extractive
ANSWER_SHARE = 3  # a fitted prompt leaves a third of the window for the answer (a briefing is 500-900 tokens)
FRAME_TOKENS = 60  # the user message's own words, and each source's delimiters, outlet, title and date
PER_SOURCE_TOKENS = 50
MIN_SOURCE_CHARS = 80
FIX = ("Fix: raise the server's context size (llama-server -c 8192, Ollama's num_ctx, "
       "vLLM --max-model-len) for fuller briefings.")

_SAYS_CONTEXT = re.compile(r"context (?:length|size|window)|maximum context|context_length_exceeded|"
                           r"exceed_context_size|too many tokens|prompt is too long", re.IGNORECASE)
_SAYS_WINDOW = re.compile(r"(?:maximum context length is|context length of only|context size of|"
                          r"context window of|\"?n_ctx\"?\W{0,3})\s*(\d{3,7})", re.IGNORECASE)


class ContextTooSmall(LLMSummaryError):
    """The server refused a request that does not fit its context window. ``window`` is the window it
    named (None when it did not say); ``sent`` is set by the caller: the tokens the request asked for.
    ``ours``: refused before it was sent, by our own estimate against the window already known; it says
    nothing new of the server's window, so nothing is learnt from it."""

    def __init__(self, message: str, window: int | None = None, *, ours: bool = False):
        super().__init__(message)
        self.window = window
        self.sent = 0
        self.ours = ours


def context_refusal(e: Exception, said: str) -> ContextTooSmall | None:
    """A ContextTooSmall for a server's 400 about its context window (``said``: its words), else None."""
    body = getattr(e, "body", None)
    raw = json.dumps(body) if isinstance(body, (dict, list)) else str(body or "")
    if not _SAYS_CONTEXT.search(said) and not _SAYS_CONTEXT.search(raw):
        return None
    found = _SAYS_WINDOW.search(said) or _SAYS_WINDOW.search(raw)
    window = int(found.group(1)) if found else None
    of = f" of {window} tokens" if window else ""
    return ContextTooSmall(f"the prompt does not fit the model's context window{of}: the server said "
                           f"\"{said}\". {FIX}", window)


_WINDOWS: dict[str, int] = {}
_LOCK = threading.Lock()


def known(endpoint: str) -> int | None:
    with _LOCK:
        return _WINDOWS.get(endpoint)


def learn(endpoint: str, refused: ContextTooSmall, fitted: int | None) -> int | None:
    """The window to fit at ``endpoint`` from now on, after ``refused`` a request fitted to ``fitted`` (None:
    not fitted); None when there is no smaller one worth trying (the story then goes extractive)."""
    with _LOCK:
        before = _WINDOWS.get(endpoint)
        window = refused.window or _below(refused.sent)
        if before is not None and fitted != before:
            window = min(window, before)  # learnt meanwhile, by a story asked beside this one: try that
        elif before is not None and window >= before:
            window = before * 3 // 4  # fitted to it and still refused: our estimate ran short
        if window < MIN_WINDOW:
            return None
        _WINDOWS[endpoint] = window
        return window


def _below(tokens: int) -> int:
    """A guess at a window the server did not name: the largest power of two under what it refused."""
    window = MIN_WINDOW
    while window * 2 < tokens:
        window *= 2
    return window


def forget() -> None:
    with _LOCK:
        _WINDOWS.clear()


def answer_cap(window: int | None, prompt: int, cap: int) -> int:
    """The answer's cap for a prompt of ``prompt`` tokens: ``cap``, or what the window leaves."""
    return cap if window is None else min(cap, window - prompt)


def source_chars(window: int | None, system_tokens: int, n_sources: int, chars_per_token: int) -> int | None:
    """Characters of text each source may bring so that the prompt leaves room for the answer; None: no limit."""
    if window is None:
        return None
    room = window - window // ANSWER_SHARE - system_tokens - FRAME_TOKENS - PER_SOURCE_TOKENS * n_sources
    return max(MIN_SOURCE_CHARS, room * chars_per_token // max(1, n_sources))
