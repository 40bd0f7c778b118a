"""Full text for feeds that carry only a teaser (``full_text = true``): fetch the page, extract with trafilatura.

Every limit leaves the teaser in place and says so in the feed's notes; nothing
here fails the feed:
  - a page over ``full_text_max_bytes``, or whose text is over MAX_ARTICLE_CHARS;
  - pages past ``full_text_pages_per_feed`` (the newest articles go first);
  - pages still pending when the poll's ``full_text_seconds`` run out (one deadline for all feeds);
  - an article link on a non-public address (see ingest.public), unless the feed has ``allow_private``;
  - trafilatura that cannot be imported (a partial install): reported once, every page keeps its teaser.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections import Counter
from datetime import datetime

import httpx

from newsletter.config import FetchSettings
from newsletter.controls import strip_controls
from newsletter.ingest.fetch import fetch_http, size_label
from newsletter.ingest.sanitize import MAX_ARTICLE_CHARS, paragraphs_html
from newsletter.models import Article

log = logging.getLogger(__name__)


class ExtractorMissing(Exception):
    """trafilatura (or a part of it, such as lxml_html_clean) cannot be imported."""


_FIRST_IMPORT = threading.Lock()


@functools.cache
def _trafilatura():
    """The module, imported once on first use (it is heavy); the import error is kept and logged once."""
    try:
        import trafilatura
    except ImportError as e:
        log.warning("full text unavailable: %s. Reinstall with `pip install -e .`; articles keep their teasers.",
                    str(e).rstrip("."))
        return e
    return trafilatura


def extract_text(page: bytes, url: str) -> str:
    """The page's main text, "" when there is none; ExtractorMissing when trafilatura cannot load."""
    with _FIRST_IMPORT:  # functools.cache lets two threads' first calls both run it: two warnings, two imports
        module = _trafilatura()
    if isinstance(module, ImportError):
        raise ExtractorMissing(str(module))
    try:
        text = module.extract(page, url=url, include_comments=False, include_tables=False, favor_precision=True)
    except Exception as e:  # noqa: BLE001 - a page trafilatura chokes on keeps its teaser
        log.info("full text extraction failed for %s: %s", url, e.__class__.__name__)
        return ""
    return strip_controls(text or "", keep_lines=True)


async def fill_full_text(client: httpx.AsyncClient, articles: list[Article], settings: FetchSettings,
                         limit: asyncio.Semaphore, *, now: datetime, deadline: float) -> list[str]:
    """Replace teasers by their page's main text when that is longer; returns the feed's notes.

    ``deadline`` is on the event loop's clock, shared by every feed of the poll.
    """
    kept: Counter[str] = Counter()  # why pages kept their teasers
    linked = sorted((a for a in articles if a.link), key=lambda a: a.published, reverse=True)
    over = len(linked) - settings.full_text_pages_per_feed
    if over > 0:
        kept[f"over the {settings.full_text_pages_per_feed} pages per feed per poll"] = over
        linked = linked[:settings.full_text_pages_per_feed]

    async def one(a: Article) -> None:
        try:
            async with asyncio.timeout_at(deadline):
                why = await _fill(client, a, settings, limit, now)
        except TimeoutError:
            why = f"out of the poll's {settings.full_text_seconds:g} s for full text"
        if why:
            kept[why] += 1

    await asyncio.gather(*(one(a) for a in linked))
    return [f"full text: {n} page{'s' if n > 1 else ''} kept the teaser ({why})" for why, n in sorted(kept.items())]


async def _fill(client: httpx.AsyncClient, a: Article, settings: FetchSettings, limit: asyncio.Semaphore,
                now: datetime) -> str | None:
    """None when the article got its page's text (or the teaser was as long); else why not."""
    async with limit:
        got = await fetch_http(client, a.link, settings, now=now, max_bytes=settings.full_text_max_bytes,
                               cap_key="full_text_max_bytes")
    if not got.ok or not got.body:
        reason = got.error or f"HTTP {got.status}"
        log.info("full text for %s: %s", a.link, reason)
        if got.too_big:
            return f"page over {size_label(settings.full_text_max_bytes)}, [fetch] full_text_max_bytes"
        return "refused: not a public address" if got.refused else "page not fetched"
    try:
        text = await asyncio.to_thread(extract_text, got.body, a.link)
    except ExtractorMissing:
        return "trafilatura cannot be imported"
    if len(text) > MAX_ARTICLE_CHARS:
        return f"text over {MAX_ARTICLE_CHARS // 1000} K characters"
    if len(text) > len(a.text):
        a.text = text
        a.html = paragraphs_html(text)
    return None
