"""The embedded summarizer: real sentences, cited, in three sections, the same every time."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone

import pytest

from newsletter.config import Config
from newsletter.models import Article, Story
from newsletter.summarize import extractive_summarizer, make_summarizer
from newsletter.summarize.sentences import split_sentences, trim

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def article(n: int, outlet: str, title: str, text: str) -> Article:
    slug = re.sub(r"\W+", "-", outlet.lower())
    return Article(id=f"{slug}-{n}", feed_url=f"https://{slug}.example/feed", outlet=outlet, title=title,
                   link=f"https://{slug}.example/{n}", published=T0, text=text)


# Three invented outlets on one invented event, in different words.
GAZETTE = article(1, "Ferncliff Gazette", "Ferncliff bridge to close for a year", (
    "The Ferncliff river bridge will close to all traffic for twelve months from March, the county said on Monday. "
    "Engineers found corrosion in two of its steel piers during a routine inspection in October. "
    "\"We had no choice once we saw the piers,\" said county engineer Dr. Lotte Ambrose. "
    "The bridge carries about 18,000 vehicles a day. "
    "The county estimates the repairs will cost about 14 million crowns."
))
POST = article(2, "Dunmere Post", "Year-long bridge closure to add 40 minutes to commutes", (
    "Drivers face detours of up to 40 minutes after the county decided to shut the Ferncliff bridge for a year. "
    "The bridge will close in March so engineers can repair corroded steel piers. "
    "Bus operator Greenline said it would run a free shuttle ferry during the closure. "
    "Shop owners on the south bank warned that they could lose a third of their trade."
))
HERALD = article(3, "Ambervale Herald", "County shuts Ferncliff bridge over corrosion", (
    "Ferncliff's main bridge is to be closed for twelve months starting in March because of corroded piers. "
    "The repairs are expected to cost 14 million crowns. "
    "Critics say the county ignored warnings about the piers as far back as 2019, though the county denies this."
))


def bridge_story() -> Story:
    return Story(articles=[GAZETTE, POST, HERALD], headline=GAZETTE.title)


def test_every_bullet_is_a_real_sentence_of_a_source_it_cites():
    b = extractive_summarizer().brief(bridge_story())
    story = b.story
    bullets = [x for _, bs in b.sections() for x in bs]
    assert bullets
    for bullet in bullets:
        assert bullet.cites and all(1 <= c <= len(story.articles) for c in bullet.cites)
        sources = [story.articles[c - 1].text for c in bullet.cites]
        assert any(bullet.text in text for text in sources), bullet


def test_three_sections_each_with_one_to_three_bullets_and_no_repeats():
    b = extractive_summarizer().brief(bridge_story())
    assert [kind.title for kind, _ in b.sections()] == ["The big picture", "Why this matters", "Between the lines"]
    for name, bullets in b.sections():
        assert 1 <= len(bullets) <= 3, name
    texts = [b.dek] + [x.text for _, bs in b.sections() for x in bs]
    assert len(texts) == len(set(texts))


def test_headline_and_dek_come_from_the_lead_source():
    b = extractive_summarizer().brief(bridge_story())
    assert b.headline == GAZETTE.title
    assert b.dek == split_sentences(GAZETTE.text)[0]
    assert b.summarizer == "extractive"


def test_a_fact_several_outlets_report_is_cited_to_all_of_them():
    # The Gazette and the Herald both put the repairs at 14 million crowns, in different words.
    b = extractive_summarizer().brief(bridge_story())
    cost = [x for _, bs in b.sections() for x in bs if "14 million" in x.text]
    assert len(cost) == 1, "the cost should appear once, not once per outlet"
    assert cost[0].cites == [1, 3]


def test_sections_get_the_sentences_that_fit_them():
    b = extractive_summarizer().brief(bridge_story())
    why = " ".join(x.text for x in b.bullets["why_this_matters"])
    between = " ".join(x.text for x in b.bullets["between_the_lines"])
    # Consequences (detours, lost trade, cost) in "why"; the quote or the critics in "between".
    assert re.search(r"40 minutes|a third of their trade|14 million|18,000", why)
    assert re.search(r"Critics|\"We had no choice", between)


def test_same_input_same_briefing():
    s = extractive_summarizer()
    first = s.brief(bridge_story())
    again = s.brief(copy.deepcopy(bridge_story()))
    assert [(n, [(x.text, x.cites) for x in bs]) for n, bs in first.sections()] == \
           [(n, [(x.text, x.cites) for x in bs]) for n, bs in again.sections()]
    assert first.dek == again.dek


def test_short_story_repeats_nothing_and_still_has_a_bullet():
    one = article(9, "Tiny Times", "Pier reopens", "The old pier in Saltmere reopened on Tuesday after repairs. "
                  "Fishing from the pier is allowed again from dawn to dusk.")
    b = extractive_summarizer().brief(Story(articles=[one], headline=one.title))
    texts = [b.dek] + [x.text for _, bs in b.sections() for x in bs]
    assert len(texts) == len(set(texts))
    assert sum(len(bs) for _, bs in b.sections()) >= 1


LEANING = {  # (the article's other sentences, a sentence opening with a word that points back), per language
    "en": (["A 48-hour strike began on Tuesday at the Greywater Bank wind farm in the north sea.",
            "The farm's 96 turbines will get no repairs until Thursday, the operator said on Tuesday.",
            "Helicopter transfers to the accommodation platform were cancelled for the whole day."],
           "Their union says the new rotas would keep crews at sea for three weeks at a time."),
    "de": (["Im Windpark Greywater Bank hat am Dienstag ein Streik der Techniker begonnen.",
            "Die 96 Turbinen des Parks werden nach Angaben des Betreibers bis Donnerstag nicht repariert.",
            "Die Hubschrauberflüge zur Wohnplattform wurden für den ganzen Tag gestrichen."],
           "Ihre Gewerkschaft sagt, die neuen Schichtpläne würden die Crews drei Wochen auf See halten."),
    # A verb that answers the sentence before, with nothing after it in its clause: disagrees with what?
    "en-answer": (["A 48-hour strike began on Tuesday at the Greywater Bank wind farm in the north sea.",
                   "The operator says households will notice no difference while its technicians are out.",
                   "Helicopter transfers to the accommodation platform were cancelled for the whole day."],
                  "The technicians' union disagrees, warning that faults will pile up until Thursday."),
    "fr-answer": (["Une grève de 48 heures a commencé mardi au parc éolien de Greywater Bank.",
                   "L'exploitant assure que les ménages ne remarqueront aucune différence pendant la grève.",
                   "Les vols d'hélicoptère vers la plateforme ont été annulés pour toute la journée."],
                  "Le syndicat des techniciens conteste, et prévient que les pannes vont s'accumuler."),
}


@pytest.mark.parametrize("language", sorted(LEANING))
def test_a_sentence_leaning_on_the_one_before_it_is_taken_only_when_nothing_else_is_left(language):
    others, leaning = LEANING[language]
    lead = article(1, "Saltmere Courier", "Greywater Bank", " ".join([others[0], leaning, *others[1:]]))
    b = extractive_summarizer().brief(Story(articles=[lead], headline=lead.title))
    bullets = [x.text for _, bs in b.sections() for x in bs]
    assert bullets and leaning not in bullets
    alone = article(3, "Tiny Times", "Greywater Bank", " ".join([others[0], leaning]))
    only = extractive_summarizer().brief(Story(articles=[alone], headline=alone.title))
    assert [x.text for _, bs in only.sections() for x in bs] == [leaning]  # still better than no bullet


def test_a_bullet_cites_another_outlet_only_when_that_outlet_states_the_same_facts():
    ribbon = article(11, "Dunnel Post", "Dunnel bridge reopens", (
        "The Dunnel river bridge reopened on Tuesday after eight months of repairs. Mayor Alvira Tansey cut the "
        "ribbon in front of about 300 residents. Buses will use the bridge again from Monday."))
    cost = article(12, "Valley Herald", "Bridge back in service", (
        "The Dunnel river bridge is open again after repairs that took eight months. Mayor Alvira Tansey said "
        "the work cost 4.2 million crowns. Cyclists get a new lane on the east side."))
    b = extractive_summarizer().brief(Story(articles=[ribbon, cost], headline=ribbon.title))
    cited = {x.text: x.cites for _, bs in b.sections() for x in bs}
    # Alike in words (the bridge, the mayor), but only the Post gives the 300 residents.
    assert cited["Mayor Alvira Tansey cut the ribbon in front of about 300 residents."] == [1]


def test_a_headline_only_story_gets_its_titles_as_its_one_cited_bullet():
    empty = article(10, "Tiny Times", "Photo gallery: the storm", "")
    s = extractive_summarizer()
    b = s.brief(Story(articles=[empty], headline=empty.title))
    assert b.headline == "Photo gallery: the storm" and b.dek == ""
    big_picture, *others = [bs for _, bs in b.sections()]
    assert [(x.text, x.cites) for x in big_picture] == [("Photo gallery: the storm", [1])]
    assert not any(others)
    assert s.sourced_blurb(Story(articles=[empty], headline=empty.title))[0] == "Photo gallery: the storm"


def test_blurb_is_one_short_real_sentence():
    long_lead = article(11, "Long Read", "Tram line opens", (
        "The new tram line between the harbour, the university and the northern suburbs, which took six years "
        "to build and was delayed twice by disputes over the route through the old town, finally opened to "
        "passengers on Sunday morning with free rides all day. It cost 300 million crowns."))
    blurb = extractive_summarizer().sourced_blurb(Story(articles=[long_lead], headline=long_lead.title))[0]
    assert len(blurb) <= 181
    assert blurb.endswith("…")
    assert long_lead.text.startswith(blurb.rstrip("…"))


def test_sentence_splitter_keeps_abbreviations_decimals_and_quotes_together():
    text = ('Dr. Amara Quist led the survey. The rate stays at 3.25% for now. '
            '"We saw them," said Dr. Quist. "It is real." The U.S. office agreed.\n\nA new paragraph')
    assert split_sentences(text) == [
        "Dr. Amara Quist led the survey.",
        "The rate stays at 3.25% for now.",
        '"We saw them," said Dr. Quist.',
        '"It is real."',
        "The U.S. office agreed.",
        "A new paragraph",
    ]


def test_trim_cuts_at_a_boundary_and_keeps_short_text():
    assert trim("Short sentence.", 50) == "Short sentence."
    cut = trim("One two three, four five six seven eight nine ten eleven twelve.", 40)
    assert cut == "One two three, four five six seven eight…"


def _cfg(**llm) -> Config:
    return Config.model_validate({
        "newsletter": {"title": "T", "from": "a@example.com", "to": ["b@example.org"]},
        "topics": [{"name": "X", "feeds": ["f.xml"]}],
        "llm": llm,
    })


def test_make_summarizer_picks_extractive_without_an_endpoint(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert make_summarizer(_cfg()).name == "extractive"
    llm = make_summarizer(_cfg(base_url="http://127.0.0.1:9/v1", model="local-model"))
    assert llm.name == "llm:local-model"


@pytest.mark.parametrize("text", ["Read more here. Subscribe to our newsletter for updates!", "Ok. Yes. No."])
def test_boilerplate_and_fragments_never_become_bullets_the_title_does(text):
    junk = article(12, "Junk Wire", "Something happened", text)
    b = extractive_summarizer().brief(Story(articles=[junk], headline=junk.title))
    assert b.dek == ""
    assert [[(x.text, x.cites) for x in bs] for _, bs in b.sections()] == [[("Something happened", [1])], [], []]


def test_a_source_whose_only_text_is_one_run_on_sentence_gets_its_title_as_its_bullet():
    # Over RUN_ON_WORDS words without a sentence mark: a run-on or a page dump, not a line to quote.
    streets = ", ".join(f"Harbour Lane section {n} between the old mill and the ferry pier" for n in range(1, 28))
    text = f"The Kellmoor council (fictional) named the streets it will resurface next year: {streets}."
    assert len(text.split()) > 300
    long_one = article(13, "Kellmoor Notices", "Kellmoor to resurface 27 streets", text)
    b = extractive_summarizer().brief(Story(articles=[long_one], headline=long_one.title))
    assert b.dek == ""
    assert [[(x.text, x.cites) for x in bs] for _, bs in b.sections()] == [
        [("Kellmoor to resurface 27 streets", [1])], [], []]


PLAIN = "The council met again on Monday to discuss the new harbour plan. "
TWO_MB = 2_000_000


def test_a_two_megabyte_article_is_split_only_as_far_as_the_briefing_reads(monkeypatch):
    from newsletter.summarize import extractive

    produced = []

    def counting(text):
        for sentence in split_sentences_lazily(text):
            produced.append(sentence)
            yield sentence

    split_sentences_lazily = extractive.iter_sentences
    monkeypatch.setattr(extractive, "iter_sentences", counting)
    huge = article(13, "Long Wire", "Harbour plan debated", PLAIN * (TWO_MB // len(PLAIN)))
    story = Story(articles=[huge, GAZETTE], headline=huge.title)
    b = extractive_summarizer().brief(story)
    assert b.dek == PLAIN.strip()
    assert len(produced) <= 2 * extractive.MAX_SENTENCES_PER_SOURCE  # not the 30,000 sentences there are
    produced.clear()
    assert extractive_summarizer().sourced_blurb(story)[0] == PLAIN.strip()
    assert len(produced) == 1


def test_text_past_the_read_cap_is_never_read():
    from newsletter.text import MAX_TEXT_CHARS

    # One endless run-on sentence, then a real one: only the cap's worth of the run is looked at.
    filler = "and then " * (TWO_MB // 9)
    assert len(filler) > MAX_TEXT_CHARS
    late = article(14, "Long Wire", "Run-on report", filler + ". The real news came at the very end of the page.")
    s = extractive_summarizer()
    b = s.brief(Story(articles=[late], headline=late.title))
    assert b.dek == "" and [[x.text for x in bs] for _, bs in b.sections()] == [[late.title], [], []]
    assert s.sourced_blurb(Story(articles=[late], headline=late.title))[0] == late.title


def test_splitting_a_two_megabyte_paragraph_finds_every_sentence():
    sentences = split_sentences(PLAIN * (TWO_MB // len(PLAIN)))
    assert len(sentences) == TWO_MB // len(PLAIN) and set(sentences) == {PLAIN.strip()}
    # A hostile run of dots or closers is one candidate end, not one per character.
    assert split_sentences("Wait" + "." * TWO_MB + " Then more.") == ["Wait" + "." * TWO_MB, "Then more."]
