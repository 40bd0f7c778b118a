"""feedparser's own ill-formed and encoding fixtures, served over HTTP with the headers each one
declares, go through our whole ingestion (fetch, parse, sanitize, store): none may crash it.

The fixtures come from feedparser's sdist, never from this repo: run ``.ci/feedparser-fixtures``
(unpacks into .cache/feedparser-sdist) or point FEEDPARSER_SDIST_DIR at an unpacked sdist.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from feedserver import FeedServer

from newsletter.clock import FixedClock
from newsletter.config import FetchSettings
from newsletter.ingest import ingest_feeds
from newsletter.models import FeedSource
from newsletter.store import Store

REPO = Path(__file__).resolve().parent.parent
SDIST = Path(os.environ.get("FEEDPARSER_SDIST_DIR") or REPO / ".cache" / "feedparser-sdist")
HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.M)
KNOWN_REASONS = ("not a feed", "empty response")


def fixtures(kind: str) -> list[Path]:
    folder = SDIST / "tests" / kind
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".xml", ".rdf", ".rss", ".atom"))


needs_sdist = pytest.mark.skipif(
    not (SDIST / "tests" / "illformed").is_dir(),
    reason=f"feedparser's sdist fixtures not found at {SDIST}: run .ci/feedparser-fixtures or set FEEDPARSER_SDIST_DIR",
)


@needs_sdist
@pytest.mark.parametrize("kind", ["illformed", "encoding"])
def test_feedparser_fixtures_never_crash_ingestion(kind: str, tmp_path):
    files = fixtures(kind)
    assert files, f"no fixtures under {SDIST / 'tests' / kind}"
    store = Store.open(f"sqlite:///{tmp_path / 'fx.db'}")
    with FeedServer() as srv:
        sources = []
        for i, path in enumerate(files):
            body = path.read_bytes()
            headers = {k.decode(): v.decode("latin-1") for k, v in HEADER.findall(body[:2048])}
            sources.append(FeedSource(url=srv.add(f"/{i}/{path.name}", body, headers=headers), topic="T"))
        reports = ingest_feeds(sources, store, settings=FetchSettings(concurrency=16, timeout=10),
                               clock=FixedClock(datetime(2026, 11, 25, tzinfo=timezone.utc)))
    store_articles = store.articles_between(None)
    store.close()

    assert len(reports) == len(files)
    odd = [(p.name, r.status, r.error) for p, r in zip(files, reports)
           if not (r.status == "new" or (r.status == "failed" and r.error.startswith(KNOWN_REASONS)))]
    assert not odd, f"fixtures that ended in something other than a feed or a clear 'not a feed': {odd[:5]}"
    assert any(r.status == "new" for r in reports)
    for a in store_articles:
        assert "<script" not in a.html.lower() and "javascript:" not in a.html.lower()
        assert a.published.tzinfo is not None and a.id
