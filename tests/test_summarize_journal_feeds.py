"""arXiv and journal feeds: what they wrap around an abstract (announce lines, author lines, citations,
section labels) never reaches a briefing. Entries are read from a real feed file, stored in SQLite and
written up by the extractive writer, as a morning issue would be. The feeds and papers are invented."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from feeds_for_tests import item, rss

from newsletter.clock import FixedClock
from newsletter.config import FetchSettings
from newsletter.ingest import ingest_feeds
from newsletter.models import FeedSource, Story
from newsletter.summarize import extractive_summarizer


NOW = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)

ARXIV = ("arXiv:2611.04411v1 Announce Type: new \nAbstract: We introduce a way to count Daphnia in a pond from "
         "a single photograph of a water sample. The counts agree with counts by hand to within 4% across 30 ponds.")
AUTHORS = ("<p>Authors: A. Quist, B. Morrow<br/>Nitrogen loads into Lake Pellam rose by 40% between 2019 and 2025. "
           "Most of the rise came from two dairy farms upstream of the inlet.</p>")
CITATION = ("<p>Publication date: December 2026</p><p><b>Source:</b> Journal of Pond Biology, Volume 12</p>"
            "<p>Author(s): C. Lindqvist, D. Okafor</p><p>Journal of Pond Biology, Volume 12, Issue 4, December 2026.</p>"
            "<p>Duckweed cover on the farm ponds doubled over three summers of warmer water. "
            "Ponds shaded by willows stayed clear, the survey found.</p>")
LABEL = ("<p><b>Abstract</b> Daphnia pulex grazed 18% less algae in ponds warmed by 3 degrees. "
         "Grazing recovered within a week once the ponds cooled again.</p>")


@pytest.fixture
def briefings(tmp_path, store) -> dict[str, tuple[str, list[str]]]:
    """Each entry's dek and bullets, by title, after a fetch of the feed and an extractive write-up."""
    feed = tmp_path / "journal.xml"
    entries = {"Counting Daphnia from photographs": ARXIV, "Nitrogen in Lake Pellam": AUTHORS,
               "Duckweed on farm ponds": CITATION, "Warm ponds and grazing": LABEL}
    feed.write_text(rss(*(item(title, f"https://journal.example/{n}", body=body)
                          for n, (title, body) in enumerate(entries.items()))), encoding="utf-8")
    [report] = ingest_feeds([FeedSource(url=str(feed), topic="Ponds")], store,
                            settings=FetchSettings(timeout=3, connect_timeout=1), clock=FixedClock(NOW))
    assert report.new == len(entries)
    out = {}
    for a in store.articles_between(None):
        b = extractive_summarizer().brief(Story(articles=[a], headline=a.title))
        out[a.title] = (b.dek, [x.text for _, bs in b.sections() for x in bs])
    return out


def test_a_line_break_ends_the_author_line_which_is_never_a_bullet(briefings):
    dek, bullets = briefings["Nitrogen in Lake Pellam"]
    assert dek == "Nitrogen loads into Lake Pellam rose by 40% between 2019 and 2025."
    assert bullets == ["Most of the rise came from two dairy farms upstream of the inlet."]
