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
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit
from xml.parsers import expat
from xml.sax import SAXParseException

import feedparser

from newsletter.controls import strip_controls
from newsletter.ingest.dates import entry_date
from newsletter.ingest.links import canonical_link
from newsletter.ingest.sanitize import MAX_ARTICLE_CHARS, cap_text, clean_html, paragraphs_html, plain, to_text
from newsletter.language import article_language
from newsletter.models import Article, is_remote

_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
TITLE_WORDS = 14
TRUSTED_AHEAD = timedelta(days=1)  # a date further ahead of the fetch than this is noted as untrusted


@dataclass
class ParsedFeed:
    title: str = ""
    link: str = ""
    articles: list[Article] = field(default_factory=list)
    entries: int = 0  # entries in the document, kept or not
    error: str | None = None  # set when the document is not a feed at all
    broken: str | None = None  # a feed read only as far as its XML holds ("cut short at line 7")
    undated: int = 0  # entries without a readable date: stamped with the time they were first seen
    ahead: int = 0  # entries dated more than TRUSTED_AHEAD after the fetch: stamped likewise

    def notes(self) -> list[str]:
        """What the user should hear of a feed that was read, but not wholly as it should be."""
        out = [self.broken] if self.broken else []
        if self.undated:
            out.append(f"{_entries(self.undated)} without a readable date: first seen time used")
        if self.ahead:
            out.append(f"{_entries(self.ahead)} dated more than a day ahead: first seen time used")
        return out


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def parse_feed(body: bytes, headers: dict[str, str] | None, *, feed_url: str, outlet: str | None,
               now: datetime, max_entries: int | None = None) -> ParsedFeed:
    """Articles of the newest ``max_entries`` entries (all when None), in the feed's order."""
    headers = {k.lower(): v for k, v in (headers or {}).items() if k.lower() in ("content-type", "content-language")}
    # No Content-Location: feedparser would then resolve every element against it (a sixth of
    # the parse time); the few URLs we keep are resolved below instead.
    base = feed_url if is_remote(feed_url) else ""
    d = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    feed = d.get("feed", {})
    title = strip_controls(plain(feed.get("title", "")))
    feed_link = (feed.get("link") or "").strip()
    site = canonical_link(urljoin(base, feed_link) if base and feed_link else feed_link) or canonical_link(base)
    entries = d.get("entries", [])
    broken = _broken(d)
    if broken and entries and _ends_inside_an_entry(body):
        # Stored as far as it went, the entry would stay so: the whole one, come later, has an id already known.
        entries = entries[:-1]
    result = ParsedFeed(title=title, link=site, entries=len(entries))
    if not entries and not d.get("version"):  # an empty feed is still a feed; a page is not
        result.error = _not_a_feed(body, headers, d, base)
        return result
    result.broken = broken
    name = strip_controls(outlet or title or outlet_from_url(feed_url))
    header_language = headers.get("content-language")
    feed_language = feed.get("language") or header_language
    guids = [e.get("id") or "" for e in entries]
    links = [_entry_link(e, g, base) for e, g in zip(entries, guids)]
    dates = [entry_date(e) for e in entries]
    times = [_trusted(d, now) for d in dates]
    result.undated = dates.count(None)
    result.ahead = sum(d is not None and d > now + TRUSTED_AHEAD for d in dates)
    owners = _guid_owners(guids, times)
    newest = sorted(range(len(entries)), key=times.__getitem__, reverse=True)[:max_entries]
    seen: set[str] = set()
    for i in sorted(newest):  # the feed's own order
        guid = guids[i]
        # A repeated GUID identifies nothing for the entries that repeat it: they add their link.
        shared = guid in owners and links[i] != links[owners[guid]]
        art = _article(entries[i], guid, shared_guid=shared, link=links[i], published=times[i], feed_url=feed_url,
                       outlet=name, site=site, base=base, now=now,
                       declared_language=_entry_language(entries[i], header_language) or feed_language)
        if art is not None and art.id not in seen:
            seen.add(art.id)
            result.articles.append(art)
    return result


def _guid_owners(guids: list[str], times: list[datetime]) -> dict[str, int]:
    """For each GUID used by several entries: the entry that keeps the GUID's own id.

    The oldest one (the last in the feed on a tie): it had the GUID first, so its id was
    stored under the GUID alone, and a newer entry repeating the GUID cannot change it.
    Unique GUIDs are not listed: they keep their id whatever the other entries do.
    """
    counts = Counter(g for g in guids if g)
    groups: dict[str, list[int]] = {}
    for i, g in enumerate(guids):
        if counts[g] > 1:
            groups.setdefault(g, []).append(i)
    return {g: min(idx, key=lambda i: (times[i], -i)) for g, idx in groups.items()}


def _entry_link(entry, guid: str, base: str) -> str:
    raw_link = strip_controls((entry.get("link") or "").strip())
    link = canonical_link(urljoin(base, raw_link) if base and raw_link else raw_link)
    if not link and guid and entry.get("guidislink", False):
        link = canonical_link(strip_controls(guid))
    return link


def _broken(d) -> str | None:
    """Where a feed stops being well-formed XML, when it does: feedparser's lenient parser reads on, so the
    feed still counts, but a feed cut off in transfer or by its server loses its last entries silently."""
    exc = d.get("bozo_exception")
    if not isinstance(exc, SAXParseException):
        return None
    why = str(exc.getMessage()).splitlines()[0][:60]
    return f"not well-formed XML at line {exc.getLineNumber()} ({why}): read as far as it goes"


def _ends_inside_an_entry(body: bytes) -> bool:
    """Whether the document is well-formed as far as it goes (cut off, not broken on the way) and ends
    inside an <item> or <entry>."""
    parser = expat.ParserCreate()
    parser.UseForeignDTD(True)  # an HTML entity (&nbsp;) is no error here
    open_entries = 0

    def start(name, _attrs):
        nonlocal open_entries
        open_entries += name.rpartition(":")[2] in ("item", "entry")

    def end(name):
        nonlocal open_entries
        open_entries -= name.rpartition(":")[2] in ("item", "entry")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(body, False)  # not final: a document cut short is no error yet
    except (expat.ExpatError, ValueError, LookupError):  # broken on the way, or an encoding expat cannot read
        return False
    return open_entries > 0


def _not_a_feed(body: bytes, headers: dict[str, str], d, base: str = "") -> str:
    if not body.strip():
        return "empty response"
    if _HTML_START.match(body[:4096]) or "html" in headers.get("content-type", "").lower() and b"<rss" not in body[:4096]:
        # A site's address given for its feed's: most pages name their feed in the head, so say which. A page
        # that names the address it was fetched from (a site's error page, served for the feed) has none to give.
        named = advertised_feed(body, base)
        return f"not a feed (HTML page); the page names its feed: {named}: put that in the config" \
            if named and named != base else "not a feed (HTML page)"
    exc = d.get("bozo_exception")
    why = str(exc).splitlines()[0][:80] if exc else "no RSS or Atom found"
    return f"not a feed ({why})"


_FEED_TYPES = ("application/rss+xml", "application/atom+xml")
ADVERTISED_SCAN_BYTES = 256 * 1024  # a page's head; the rest of a big page is not read for it
MAX_ADVERTISED_URL = 300


def advertised_feed(page: bytes, base: str = "") -> str | None:
    """The first RSS or Atom feed a web page names in a ``<link rel="alternate">`` (feed autodiscovery),
    as an absolute http(s) address, or None."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag != "link" or found:
                return
            a = {k.lower(): (v or "") for k, v in attrs}
            if "alternate" in a.get("rel", "").lower().split() and a.get("type", "").lower().strip() in _FEED_TYPES:
                href = strip_controls(a.get("href", "")).strip()
                url = urljoin(base, href) if href else ""
                if urlsplit(url).scheme in ("http", "https") and len(url) <= MAX_ADVERTISED_URL and " " not in url:
                    found.append(url)

    parser = Links(convert_charrefs=True)
    try:
        parser.feed(page[:ADVERTISED_SCAN_BYTES].decode("utf-8", "replace"))
        parser.close()
    except Exception:  # noqa: BLE001 - a page too broken to read names no feed
        return None
    return found[0] if found else None


def outlet_from_url(url: str) -> str:
    """The outlet name of last resort: the host, or a local file's name."""
    if is_remote(url):
        return (urlsplit(url).hostname or url).removeprefix("www.")
    return url.rsplit("/", 1)[-1].rsplit(".", 1)[0] or url


def article_id(feed_url: str, *, guid: str = "", link: str = "", title: str = "", text: str = "",
               shared_guid: bool = False) -> str:
    """Stable across fetches: the entry's GUID, else the canonical link, else title+content.

    A ``shared_guid`` (one the feed gives to several entries) is completed by the link, or
    title+content. Scoped by feed, so one article carried by two feeds (two topics) keeps both.
    """
    if guid and shared_guid:
        key = "guid+\0" + guid.strip() + "\0" + (link or title + "\0" + text)
    elif guid:
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


def _trusted(date: datetime | None, now: datetime) -> datetime:
    """The time an entry is stored with. Undated, it is the time it was first seen (noted, see ParsedFeed).
    A date ahead of the fetch is capped: hours ahead is a wrong zone, more than TRUSTED_AHEAD a wrong
    clock or a bid for the top of the issue (noted too)."""
    return now if date is None else min(date, now)


def _article(entry, guid: str, *, shared_guid: bool, link: str, published: datetime, feed_url: str, outlet: str,
             site: str, base: str, now: datetime, declared_language: str | None = None) -> Article | None:
    raw = _entry_html(entry)
    html = strip_controls(clean_html(_absolute(raw, base) if base and raw else raw), keep_lines=True)
    text = to_text(html) if html else ""
    if len(text) > MAX_ARTICLE_CHARS:
        text = cap_text(text)
        html = paragraphs_html(text)  # cut HTML would be broken markup: rebuilt from the kept text
    title = strip_controls(plain(entry.get("title") or ""))
    if not title:
        if not text:
            return None  # nothing to show or summarise
        words = text.split()
        title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return Article(
        id=article_id(feed_url, guid=guid, link=link, title=title, text=text, shared_guid=shared_guid),
        feed_url=feed_url,
        outlet=outlet,
        title=title,
        link=link or site,
        published=published,
        text=text,
        html=html,
        first_seen=now,
        language=article_language(declared_language, title, text),
    )


def _entry_language(entry, header_language: str | None) -> str | None:
    """The xml:lang in force on the entry's content, summary or title. feedparser fills these in from the
    enclosing elements and, failing those, from the Content-Language header, which says least: a feed's
    own <language> beats it, so a value equal to the header's counts as none."""
    details = [*(entry.get("content") or ()), entry.get("summary_detail") or {}, entry.get("title_detail") or {}]
    found = next((d.get("language") for d in details if d.get("language")), None)
    return None if found == header_language else found


_REL_ATTR = re.compile(r"""(\s(?:href|src)\s*=\s*)(["'])(?!https?:|mailto:|#)([^"']*)\2""", re.I)


def _absolute(raw: str, base: str) -> str:
    """Relative href/src made absolute against the feed's URL before sanitising (which drops what is left)."""
    if "=" not in raw:
        return raw
    return _REL_ATTR.sub(lambda m: f"{m.group(1)}{m.group(2)}{urljoin(base, m.group(3))}{m.group(2)}", raw)
