"""Small feed documents for ingestion tests (fictional outlets, written for these tests)."""

from __future__ import annotations

from xml.sax.saxutils import escape


def item(title: str | None = "Story", link: str | None = "https://news.example/a", guid: str | None = None,
         date: str | None = "Tue, 24 Nov 2026 10:00:00 GMT", body: str | None = "<p>Body text.</p>") -> str:
    parts = []
    if title is not None:
        parts.append(f"<title>{escape(title)}</title>")
    if link is not None:
        parts.append(f"<link>{escape(link)}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    if body is not None:
        parts.append(f"<description>{escape(body)}</description>")
    return "<item>" + "".join(parts) + "</item>"


def rss(*items: str, title: str | None = "Test Wire", link: str = "https://wire.example/") -> str:
    head = (f"<title>{escape(title)}</title>" if title is not None else "") + f"<link>{link}</link>"
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            + head + "".join(items) + "</channel></rss>")


def numbered(n: int, start: int = 1, host: str = "news.example") -> str:
    """A feed of items start..start+n-1, each with its own GUID, link and date."""
    return rss(*(item(f"Story number {i}", f"https://{host}/story/{i}", guid=f"tag:{host},2026:{i}",
                      date=f"Tue, 24 Nov 2026 {i % 24:02d}:{i % 60:02d}:00 GMT", body=f"<p>Text of story {i}.</p>")
                 for i in range(start, start + n)))
