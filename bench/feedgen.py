"""Synthetic feeds for the ingestion benchmarks: fictional outlets, realistic shape (HTML bodies, GUIDs, dates)."""

from __future__ import annotations

import random
from xml.sax.saxutils import escape

WORDS = ("harbour council ferry budget tram plant chip grid storm river school hospital port vote mayor "
         "union strike price rent water energy wind solar bridge rail market bank loan court ruling "
         "district transit museum library festival drought flood report survey minister agency").split()


def paragraph(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def feed(index: int, entries: int = 50, seed: int = 7) -> bytes:
    rng = random.Random(seed * 100_003 + index)
    host = f"outlet{index}.example"
    items = []
    for i in range(entries):
        body = "".join(f"<p>{paragraph(rng, 40)} <a href=\"https://{host}/ref/{i}?utm_source=rss\">more</a></p>"
                       for _ in range(3))
        items.append(
            "<item>"
            f"<title>{escape(paragraph(rng, 9))}</title>"
            f"<link>https://{host}/news/{index}/{i}?utm_source=rss&amp;utm_medium=feed</link>"
            f"<guid isPermaLink=\"false\">tag:{host},2026:{i}</guid>"
            f"<pubDate>Tue, 24 Nov 2026 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate>"
            f"<description>{escape(body)}</description>"
            "</item>"
        )
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {index} Gazette</title><link>https://{host}/</link>"
            + "".join(items) + "</channel></rss>").encode()
