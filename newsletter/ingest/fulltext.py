"""Full text for feeds that carry only a teaser (``full_text = true``): fetch the page, extract with trafilatura.

Same client, timeouts and size cap as the feed itself; a page that fails
leaves the teaser in place, it never fails the feed.
"""

from __future__ import annotations

import asyncio
import html as htmllib
import logging
from datetime import datetime

import httpx

from newsletter.config import FetchSettings
from newsletter.ingest.fetch import fetch_http
from newsletter.models import Article

log = logging.getLogger(__name__)


def extract_text(page: bytes, url: str) -> str:
    import trafilatura  # heavy import, only for feeds that ask for it

    try:
        return trafilatura.extract(page, url=url, include_comments=False, include_tables=False, favor_precision=True) or ""
    except Exception as e:  # noqa: BLE001 - a page trafilatura chokes on keeps its teaser
        log.info("full text extraction failed for %s: %s", url, e)
        return ""


async def fill_full_text(client: httpx.AsyncClient, articles: list[Article], settings: FetchSettings,
                         limit: asyncio.Semaphore, *, now: datetime) -> int:
    """Replace each teaser by the page's main text when that is longer; returns how many were filled."""

    async def one(a: Article) -> bool:
        if not a.link:
            return False
        async with limit:
            got = await fetch_http(client, a.link, settings, now=now)
        if not got.ok or not got.body:
            log.info("full text for %s: %s", a.link, got.error or f"HTTP {got.status}")
            return False
        text = await asyncio.to_thread(extract_text, got.body, a.link)
        if len(text) <= len(a.text):
            return False
        a.text = text
        a.html = "".join(f"<p>{htmllib.escape(p)}</p>" for p in text.split("\n") if p.strip())
        return True

    done = await asyncio.gather(*(one(a) for a in articles))
    return sum(done)
