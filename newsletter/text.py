"""How much of an article the reading stages look at: one lead, one cap.

    from newsletter.text import lead, readable
    lead(article.text)       # the first LEAD_CHARS, cut at a word: what grouping and embeddings compare
    readable(article.text)   # at most MAX_TEXT_CHARS: all that summarising reads of one article

Feed text is hostile and can be megabytes long. Every stage that reads an
article's text goes through these, so none can be made to work in proportion
to what a publisher chooses to send, whatever ingestion kept.
"""

from __future__ import annotations

LEAD_CHARS = 1200  # the lead names the event; a long full text would only dilute it
# About 8,000 words: far more than the extractive writer's first sentences per source or
# a model prompt's share need, and little enough that reading it costs milliseconds.
MAX_TEXT_CHARS = 50_000
MAX_TITLE_CHARS = 500  # a headline is a line; anything longer is not one


def readable(text: str) -> str:
    """The part of an article's text that stages read."""
    return text[:MAX_TEXT_CHARS]


def title(text: str) -> str:
    """The part of an article's title that stages read."""
    return text[:MAX_TITLE_CHARS]


def lead(text: str) -> str:
    """The first ``LEAD_CHARS`` of ``text``, cut at the last space before them."""
    if len(text) <= LEAD_CHARS:
        return text
    cut = text.rfind(" ", 0, LEAD_CHARS)
    return text[: cut if cut > 0 else LEAD_CHARS]
