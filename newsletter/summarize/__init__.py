"""Briefings for top stories and one-line blurbs for the sidebar.

    summarizer = make_summarizer(cfg)      # the model when one is configured, else extractive
    briefing = summarizer.brief(story)     # headline, dek, three cited sections
    lines, groundings = summarizer.blurbs(stories)  # a model's "Recent news" lines, one call (LLMSummarizer)
    line, language = extractive_summarizer().sourced_blurb(story)   # else the source's own first sentence

Two implementations share the protocol: ``ExtractiveSummarizer`` (embedded,
real source sentences only) and ``LLMSummarizer`` (any OpenAI-compatible
server). The pipeline falls back to the extractive one for a story whenever
the model's answer is unusable.

Importing this package is cheap: the extractive writer (numpy, scikit-learn)
loads on the first ``extractive_summarizer()`` call or ``ExtractiveSummarizer``
lookup, so commands that summarise nothing never pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.models import Briefing, Story
    from newsletter.summarize.extractive import ExtractiveSummarizer


class Summarizer(Protocol):
    name: str
    costly: bool  # each call is a paid, fallible request (a model): the pipeline guards and caches those

    def brief(self, story: Story) -> Briefing: ...


class BudgetSpent(Exception):
    """The issue's model budget ([llm] max_tokens_per_issue) is spent: ask the model nothing more."""


class PastDeadline(Exception):
    """The model stage's deadline ([llm] stage_seconds) passed while a story waited for room in the budget."""


class EndpointDown(Exception):
    """The model server refused the key (401/403) or cannot be reached: every story would fail the same
    way, so ask it nothing more. ``str(err)`` names the server and the likely fix."""


def make_summarizer(cfg: Config, *, cache: Any = None) -> Summarizer:
    """The model when one is configured (reusing answers from ``cache``), else the extractive writer."""
    if cfg.llm_enabled:
        from newsletter.summarize.llm import LLMSummarizer

        return LLMSummarizer.from_config(cfg, cache=cache)
    return extractive_summarizer()


def extractive_summarizer() -> ExtractiveSummarizer:
    """The embedded writer: real source sentences, no network."""
    from newsletter.summarize.extractive import ExtractiveSummarizer

    return ExtractiveSummarizer()


def __getattr__(name: str) -> Any:
    if name == "ExtractiveSummarizer":
        from newsletter.summarize.extractive import ExtractiveSummarizer

        return ExtractiveSummarizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BudgetSpent", "EndpointDown", "ExtractiveSummarizer", "Summarizer", "extractive_summarizer", "make_summarizer"]
