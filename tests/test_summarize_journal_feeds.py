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
from newsletter.boilerplate import is_boilerplate

from conftest import article

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)

ARXIV = ("arXiv:2611.04411v1 Announce Type: new \nAbstract: We introduce a way to count Daphnia in a pond from "
         "a single photograph of a water sample. The counts agree with counts by hand to within 4% across 30 ponds.")
AUTHORS = ("<p>Authors: A. Quist, B. Morrow<br/>Nitrogen loads into Lake Pellam rose by 40% between 2019 and 2025. "
           "Most of the rise came from two dairy farms upstream of the inlet.</p>")
CITATION = ("<p>Publication date: December 2026</p><p><b>Source:</b> Journal of Pond Biology, Volume 12</p>"
            "<p>Author(s): C. Lindqvist, D. Okafor</p><p>Journal of Pond Biology, Volume 12, Issue 4, December 2026.</p>"
            "<p>Duckweed cover on the farm ponds doubled over three summers of warmer water. "
            "Ponds shaded by willows stayed clear, the survey found.</p>")
ERRATUM = ("<p>An error in Eq.&#160;(3) is corrected; see Sec. 2 and Refs. [12, 14] of the original. "
           "The conclusions, cf. Fig. 4, are unchanged.</p>")
LABEL = ("<p><b>Abstract</b> Daphnia pulex grazed 18% less algae in ponds warmed by 3 degrees. "
         "Grazing recovered within a week once the ponds cooled again.</p>")


@pytest.fixture
def briefings(tmp_path, store) -> dict[str, tuple[str, list[str]]]:
    """Each entry's dek and bullets, by title, after a fetch of the feed and an extractive write-up."""
    feed = tmp_path / "journal.xml"
    entries = {"Counting Daphnia from photographs": ARXIV, "Nitrogen in Lake Pellam": AUTHORS,
               "Duckweed on farm ponds": CITATION, "Warm ponds and grazing": LABEL, "Erratum: counting Daphnia": ERRATUM}
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


def test_an_arxiv_announce_line_is_dropped_and_the_dek_starts_at_the_abstract(briefings):
    dek, bullets = briefings["Counting Daphnia from photographs"]
    assert dek == "We introduce a way to count Daphnia in a pond from a single photograph of a water sample."
    assert not any("arXiv" in line or "Announce" in line or "Abstract" in line for line in [dek, *bullets])


def test_a_line_break_ends_the_author_line_which_is_never_a_bullet(briefings):
    dek, bullets = briefings["Nitrogen in Lake Pellam"]
    assert dek == "Nitrogen loads into Lake Pellam rose by 40% between 2019 and 2025."
    assert bullets == ["Most of the rise came from two dairy farms upstream of the inlet."]


def test_citation_lines_are_never_the_dek_or_a_bullet(briefings):
    dek, bullets = briefings["Duckweed on farm ponds"]
    assert dek == "Duckweed cover on the farm ponds doubled over three summers of warmer water."
    assert bullets == ["Ponds shaded by willows stayed clear, the survey found."]


def test_a_bold_section_label_is_not_glued_to_the_first_sentence(briefings):
    dek, _ = briefings["Warm ponds and grazing"]
    assert dek == "Daphnia pulex grazed 18% less algae in ponds warmed by 3 degrees."


def test_a_reference_to_an_equation_section_or_paper_does_not_end_the_sentence(briefings):
    """An erratum's blurb read "(3) is corrected; conclusions are unchanged.": "Eq." was taken for an end."""
    dek, bullets = briefings["Erratum: counting Daphnia"]
    assert dek == "An error in Eq. (3) is corrected; see Sec. 2 and Refs. [12, 14] of the original."
    assert bullets == ["The conclusions, cf. Fig. 4, are unchanged."]


@pytest.mark.parametrize("language, text, dek", [
    ("en", "Background: The pond survey began in 2019 with 30 ponds on six farms.",
     "The pond survey began in 2019 with 30 ponds on six farms."),
    ("en", "Highlights • Warm ponds lost a fifth of their water fleas in two summers.",
     "Warm ponds lost a fifth of their water fleas in two summers."),
    ("de", "Zusammenfassung: Die Zahl der Wasserflöhe sank in den warmen Teichen um ein Fünftel.",
     "Die Zahl der Wasserflöhe sank in den warmen Teichen um ein Fünftel."),
    ("fr", "Résumé Le nombre de daphnies a baissé d'un cinquième dans les étangs chauds.",
     "Le nombre de daphnies a baissé d'un cinquième dans les étangs chauds."),
    ("es", "Resumen: El número de pulgas de agua cayó una quinta parte en los estanques cálidos.",
     "El número de pulgas de agua cayó una quinta parte en los estanques cálidos."),
])
def test_a_leading_section_label_is_dropped_in_each_language(language, text, dek):
    a = article("p1", outlet="Pond Letters", title="Water fleas", text=text, language=language)
    assert _said(extractive_summarizer().brief(Story(articles=[a], headline=a.title))) == dek


@pytest.mark.parametrize("news", [
    "Background checks will be required for all 300 new hires, the city said on Monday.",
    "Highlights of the plan include a new ferry pier and 40 more buses.",
    "Summary judgment was granted to the fictional dairy on Tuesday.",
])
def test_a_news_sentence_that_opens_with_a_label_word_is_kept_whole(news):
    a = article("p2", outlet="City Wire", title="News", text=news, language="en")
    assert _said(extractive_summarizer().brief(Story(articles=[a], headline=a.title))) == news


def _said(b) -> str:
    """What a one-sentence briefing says: its one bullet (no dek repeats it)."""
    [bullet] = [x for _, bs in b.sections() for x in bs]
    assert b.dek == ""
    return bullet.text


@pytest.mark.parametrize("line", [
    "Authors: A. Quist, B. Morrow", "By Amara Quist and Ben Morrow", "Author(s): C. Lindqvist, D. Okafor",
    "Publication date: December 2026", "Source: Journal of Pond Biology, Volume 12",
    "Journal of Pond Biology, Volume 12, Issue 4, December 2026.",
    "Water Research 268 (2027), pp. 122-131, doi:10.1016/j.watres.2026.122731.",
    "Graphical abstract", "Von Lotte Ambrose",
])
def test_bylines_and_citations_are_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("news", [
    "By 2030, the lake's nitrogen load must fall by half, the regulator said.",
    "The volume of water in the reservoir fell by 12% in November.",
    "The source of the leak was a cracked pipe under the dairy, inspectors said.",
])
def test_news_that_mentions_a_volume_a_source_or_opens_with_by_is_not_boilerplate(news):
    assert not is_boilerplate(news)
