"""Ingestion: feeds in, normalised articles out, stored; one report per configured feed.

    fetch.py     bytes from HTTP (shared async client, caps, timeouts, conditional GET) or a local file
    parse.py     feedparser -> Article: stable ids, UTC times, canonical links, sanitised text
    links.py     canonical URLs (no tracking parameters, no fragment)
    sanitize.py  nh3 cleaning and plain text
    fulltext.py  page text for teaser-only feeds (trafilatura)
    workers.py   parsing on every core once a run brings in enough bytes
    run.py       many feeds at once, feed health, the store
"""

from newsletter.ingest.run import ingest_feeds, probe_feeds

__all__ = ["ingest_feeds", "probe_feeds"]
