"""Feed bytes -> Articles: feedparser does the XML, we do ids, links, times and text.

feedparser gets the bytes (wrapped in BytesIO, so no string is ever taken for a
path or URL) and the response headers (charset, language): it does no I/O.
Its own sanitizer is off because nh3 does that job, faster, right after.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import feedparser

from newsletter.ingest.links import canonical_link
from newsletter.ingest.sanitize import clean_html, plain, to_text
from newsletter.models import Article, is_remote

_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
TITLE_WORDS = 14


@dataclass
class ParsedFeed:
    title: str = ""
    link: str = ""
    articles: list[Article] = field(default_factory=list)
    entries: int = 0  # entries in the document, kept or not
    error: str | None = None  # set when the document is not a feed at all


def parse_feed(body: bytes, headers: dict[str, str] | None, *, feed_url: str, outlet: str | None,
               now: datetime) -> ParsedFeed:
    headers = {k.lower(): v for k, v in (headers or {}).items() if k.lower() in ("content-type", "content-language")}
    # No Content-Location: feedparser would then resolve every element against it (a sixth of
    # the parse time); the few URLs we keep are resolved below instead.
    base = feed_url if is_remote(feed_url) else ""
    d = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    feed = d.get("feed", {})
    title = plain(feed.get("title", ""))
    feed_link = (feed.get("link") or "").strip()
    site = canonical_link(urljoin(base, feed_link) if base and feed_link else feed_link) or canonical_link(base)
    entries = d.get("entries", [])
    result = ParsedFeed(title=title, link=site, entries=len(entries))
    if not entries and not d.get("version"):  # an empty feed is still a feed; a page is not
        result.error = _not_a_feed(body, headers, d)
        return result
    name = outlet or title or outlet_from_url(feed_url)
    guids = [e.get("id") or "" for e in entries]
    counts = Counter(g for g in guids if g)
    trust_guids = all(n == 1 for n in counts.values())  # one duplicate and no GUID of this feed is an identity
    seen: set[str] = set()
    for entry, guid in zip(entries, guids):
        art = _article(entry, guid if trust_guids else "", feed_url=feed_url, outlet=name, site=site,
                       base=base, now=now)
        if art is not None and art.id not in seen:
            seen.add(art.id)
            result.articles.append(art)
    return result


def _not_a_feed(body: bytes, headers: dict[str, str], d) -> str:
    if not body.strip():
        return "empty response"
    if _HTML_START.match(body[:4096]) or "html" in headers.get("content-type", "").lower() and b"<rss" not in body[:4096]:
        return "not a feed (HTML page)"
    exc = d.get("bozo_exception")
    why = str(exc).splitlines()[0][:80] if exc else "no RSS or Atom found"
    return f"not a feed ({why})"


def outlet_from_url(url: str) -> str:
    """The outlet name of last resort: the host, or a local file's name."""
    if is_remote(url):
        return (urlsplit(url).hostname or url).removeprefix("www.")
    return url.rsplit("/", 1)[-1].rsplit(".", 1)[0] or url


def article_id(feed_url: str, *, guid: str = "", link: str = "", title: str = "", text: str = "") -> str:
    """Stable across fetches: the feed's GUID when trustworthy, else the canonical link, else title+content.

    Scoped by feed, so one article carried by two feeds (two topics) keeps both.
    """
    if guid:
        key = "guid\0" + guid.strip()
    elif link:
        key = "link\0" + link
    else:
        key = "hash\0" + title + "\0" + text
    return hashlib.sha256(f"{feed_url}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _entry_html(entry) -> str:
    best = ""
    for c in entry.get("content") or ():
        value = c.get("value") or ""
        if len(value) > len(best):
            best = value
    summary = entry.get("summary") or ""
    raw = best if len(best) >= len(summary) else summary
    return raw


def _entry_time(entry, now: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            try:
                when = datetime(*t[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError, OverflowError):
                continue
            return min(when, now)  # a date in the future is a clock or a lie; cap it
    return now  # no date: first seen


def _article(entry, guid: str, *, feed_url: str, outlet: str, site: str, base: str,
             now: datetime) -> Article | None:
    raw = _entry_html(entry)
    html = clean_html(_absolute(raw, base) if base and raw else raw)
    text = to_text(html) if html else ""
    title = plain(entry.get("title") or "")
    raw_link = (entry.get("link") or "").strip()
    link = canonical_link(urljoin(base, raw_link) if base and raw_link else raw_link)
    if not link and guid and entry.get("guidislink", False):
        link = canonical_link(guid)
    if not title:
        if not text:
            return None  # nothing to show or summarise
        words = text.split()
        title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return Article(
        id=article_id(feed_url, guid=guid, link=link, title=title, text=text),
        feed_url=feed_url,
        outlet=outlet,
        title=title,
        link=link or site,
        published=_entry_time(entry, now),
        text=text,
        html=html,
        first_seen=now,
    )


_REL_ATTR = re.compile(r"""(\s(?:href|src)\s*=\s*)(["'])(?!https?:|mailto:|#)([^"']*)\2""", re.I)


def _absolute(raw: str, base: str) -> str:
    """Relative href/src made absolute against the feed's URL before sanitising (which drops what is left)."""
    if "=" not in raw:
        return raw
    return _REL_ATTR.sub(lambda m: f"{m.group(1)}{m.group(2)}{urljoin(base, m.group(3))}{m.group(2)}", raw)
