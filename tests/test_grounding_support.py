"""The gate's check of what a bullet says in its own words (summarize/support.py), at its edges.

Each case is a bullet with no number, name, date or quote that the gate could check before: a faithful
paraphrase in new words is kept; a sentence cited to the wrong source is re-cited; invented wording, an
invented reason and a reversed stance are dropped with their reason; a word that makes a claim total is not
judged, since a faithful paraphrase uses one as often ("every night" for "nightly"); a bullet in another
language than its source is not judged. Invented places, outlets and events.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from newsletter.models import BIG_PICTURE, Article, Briefing, Bullet, Story
from newsletter.summarize.grounding import Evidence, ground
from newsletter.summarize.support import SourceWords, stems, unsupported

DAY = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)


def _article(n: int, outlet: str, title: str, text: str) -> Article:
    return Article(id=f"s{n}", feed_url=f"https://s{n}.example/feed", outlet=outlet, title=title,
                   link=f"https://s{n}.example/story", published=DAY, text=text)


def library_story() -> Story:
    return Story(headline="Tollbridge keeps its branch libraries", articles=[
        _article(1, "Tollbridge Courier", "Tollbridge reverses plan to close branch libraries",
                 "The council of Tollbridge voted to keep its four branch libraries open, reversing a plan to close "
                 "them to save money. Councillors said a petition signed by thousands of residents had changed "
                 "their minds. The libraries will open one fewer day each week. Staff unions welcomed the decision "
                 "but warned that shorter hours would still hurt students who rely on the computers."),
        _article(2, "Quarry Lane Gazette", "Branch libraries saved after petition",
                 "The branch libraries in Tollbridge will stay open after a public campaign. Parents and pensioners "
                 "had organised readings outside the buildings every Saturday. The council said it would consult on "
                 "raising parking charges in the town centre."),
    ])


def german_story() -> Story:
    return Story(headline="Kornfeld verlängert die Straßenbahn", articles=[
        _article(1, "Kornfelder Rundschau", "Kornfeld verlängert Straßenbahn bis zum Klinikum",
                 "Der Stadtrat von Kornfeld hat beschlossen, die Straßenbahn bis zum Klinikum zu verlängern. Die "
                 "Verwaltung erwartet, dass dadurch deutlich weniger Autos in die Innenstadt fahren. Anwohner "
                 "hatten sich gegen die Pläne gewehrt, weil sie mehr Lärm befürchten. Die Stadt will deshalb "
                 "leisere Fahrzeuge anschaffen."),
    ])


def _grounded(story: Story, text: str, cites: list[int], language: str = "en") -> Briefing:
    briefing = Briefing(story, story.headline, story.headline, {BIG_PICTURE.key: [Bullet(text, cites)]})
    return ground(briefing, Evidence.of(story, language))


def _outcome(story: Story, text: str, cites: list[int], language: str = "en") -> str | list[int]:
    """The cites the bullet kept, or the reason it was dropped."""
    out = _grounded(story, text, cites, language)
    kept = out.bullets[BIG_PICTURE.key]
    return kept[0].cites if kept else out.grounding.dropped[0].reason


@pytest.mark.parametrize("text", [
    "Tollbridge's council has dropped its plan to shut the town's branch libraries.",  # synonyms
    "Councillors credited a petition backed by thousands of residents with changing their minds.",
    "Unions welcomed the move but warned that shorter hours could hurt students who depend on the computers.",
    "Public pressure changed the council's mind on a cost-cutting plan.",  # a "why this matters" that generalizes
    "Library users will get shorter opening hours even though no branch closes.",
    "All four branches will stay open.",
    "Every one of the town's branch libraries will stay open.",  # "every" for the source's "its four"
    "The reversal was meant to answer residents' anger at a plan to save money.",  # cue, and the words are there
])
def test_a_faithful_paraphrase_is_kept_as_cited(text):
    assert _outcome(library_story(), text, [1]) == [1]


def test_a_sentence_cited_to_the_wrong_source_is_recited_to_the_one_holding_its_words():
    out = _grounded(library_story(), "Parents and pensioners held readings outside the buildings.", [1])
    assert out.bullets[BIG_PICTURE.key][0].cites == [2] and out.grounding.recited == 1
    assert out.grounding.dropped == []


def test_a_bullet_that_shares_only_a_few_words_with_the_other_source_is_not_moved_there():
    """A paraphrase cited to the source it paraphrases stays, though the other source shares some words."""
    assert _outcome(library_story(), "The branch libraries survive after a campaign by residents.", [1]) == [1]


@pytest.mark.parametrize("text, reason", [
    ("Hotels along the coast have begun laying off seasonal staff.", "words not in the cited source"),
    ("Councillors changed course because they feared losing their seats at the election.",
     "reason not in the cited source"),
    ("Staff unions opposed the decision to keep the branches open.", "stance the cited source takes the other way"),
])
def test_what_the_cited_source_does_not_say_is_dropped_with_its_reason(text, reason):
    out = _grounded(library_story(), text, [1])
    assert out.bullets[BIG_PICTURE.key] == []
    assert [d.reason for d in out.grounding.dropped] == [reason]


def test_the_drop_names_the_words_as_the_model_wrote_them():
    out = _grounded(library_story(), "Councillors changed course because they feared losing their seats.", [1])
    assert out.grounding.dropped[0].claim == "because they feared losing their seats"


@pytest.mark.parametrize("text", ["Staff unions did not oppose the decision to keep the branches open.",
                                  "Staff unions didn't oppose the decision to keep the branches open.",
                                  "Staff unions didn’t oppose the decision to keep the branches open."])
def test_a_negated_stance_is_not_judged(text):
    """"didn't" is read as "did not": its stance was taken for a plain "oppose", and the faithful bullet
    dropped for a stance the source takes the other way."""
    assert _outcome(library_story(), text, [1]) == [1]


def test_too_few_words_are_not_judged_by_share():
    assert _outcome(library_story(), "A quiet triumph.", [1]) == [1]


def test_a_bullet_in_another_language_than_its_source_is_not_judged():
    # Nothing of these words is in the English source; the reader's language is German.
    assert _outcome(library_story(), "Die Gewerkschaften lehnten die Entscheidung entschieden ab.", [1], "de") == [1]


def test_german_compounds_are_held_by_their_parts_and_an_invented_reason_is_not():
    story = german_story()
    assert _outcome(story, "Die Stadtverwaltung rechnet mit weniger Autos in der Innenstadt.", [1], "de") == [1]
    assert _outcome(story, "Anwohner wehrten sich, weil sie mehr Lärm befürchten.", [1], "de") == [1]
    assert _outcome(story, "Der Stadtrat stimmte zu, weil das Klinikum mit dem Umzug gedroht hatte.", [1],
                    "de") == "reason not in the cited source"


def test_the_words_compared_are_content_stems_with_diacritics_folded():
    assert stems("The councils' libraries were closing.", "en") == ["council", "librari", "close"]
    source = SourceWords.of("Die Brücken wurden geschlossen.", "de")
    assert unsupported("Die Brucken sind geschlossen.", [source], "de") is None


@pytest.mark.parametrize("language, source, bullet", [
    ("ja", "東京都は、新しい橋の建設を決めた。工事は来年の春に始まり、三年かかる見込みだ。住民の多くは、交通渋滞が減ることを期待している。",
     "東京都が、橋を新たに建設することを決定し、工事は来春に始まる見通しで、住民は渋滞の緩和を期待している。"),
    ("zh", "上海市政府决定修建一座新桥。工程将于明年春天开始，预计需要三年。许多居民希望交通拥堵会减少。",
     "上海市决定建新桥，工程明年春季开工，预计三年完工，居民期待拥堵缓解。"),
])
def test_a_bullet_in_a_script_written_without_spaces_is_not_judged_by_its_words(language, source, bullet):
    """Chinese and Japanese write no space between words: each clause read as one word no source writes, and
    a faithful paraphrase of four clauses was dropped for words not in the cited source."""
    story = Story(headline=source[:8],
                  articles=[replace(_article(1, "Harbour Daily", source[:12], source), language=language)])
    assert _outcome(story, bullet, [1], language) == [1]


@pytest.mark.parametrize("source, bullet", [
    ("The minister welcomed the plan to cut emissions from ports by half. Harbour operators will get grants for "
     "electric cranes.", "The plan's objective is to cut emissions from ports."),
    ("Residents welcomed the new footbridge across the Lenne. It will join the two banks of the river at the old "
     "ferry landing.", "The new footbridge will join the opposite banks of the Lenne."),
    ("Residents protested against the second runway at Marrow Field. The airport said it would open in May.",
     "A hailstorm delayed work on Marrow Field's second runway, which the airport says opens in May."),
])
def test_a_word_that_only_begins_like_a_stance_takes_none(source, bullet):
    """"objective" is no objection, "opposite" no opposition, a hailstorm no hailing: read by their first
    letters, each was a stance the source sentence most like the bullet took the other way."""
    story = Story(headline="Ports", articles=[_article(1, "Harbour Daily", "News", source)])
    assert _outcome(story, bullet, [1]) == [1]


@pytest.mark.parametrize("language, source, bullet", [
    ("de", "Das Gericht hat den Fahrer des Unfallwagens zu drei Jahren Haft verurteilt. Die Angehörigen zeigten "
           "sich zufrieden.",
     "Die Angehörigen begrüßten die Haft für den Fahrer des Unfallwagens."),
    ("es", "El tribunal condenó al conductor del camión a tres años de prisión. Los familiares se mostraron "
           "satisfechos.",
     "Los familiares aplaudieron la prisión para el conductor del camión."),
    ("es", "Las elecciones municipales de la provincia se celebrarán el domingo. Los vecinos lo critican.",
     "Los vecinos critican que las elecciones municipales de la provincia sean el domingo."),
])
def test_a_courts_sentence_or_an_election_held_is_no_stance(language, source, bullet):
    """A court "verurteilt", "condena"; an election "se celebra": words of stance by their letters, which set a
    faithful bullet against the source sentence most like it."""
    words = SourceWords.of(source, language, sentences=source.split(". "))
    assert unsupported(bullet, [words], language) is None


def test_an_english_bullet_with_a_name_in_chinese_characters_is_still_judged():
    """Any one Han or kana character put a whole bullet out of the rule: a reversed stance passed for an English
    bullet that gave a name in its own script ("the city's mayor, 李明")."""
    bullet = "Staff unions, led by 李明, opposed the decision to keep the branches open."
    assert _outcome(library_story(), bullet, [1]) == "stance the cited source takes the other way"
