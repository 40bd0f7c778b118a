"""The grounding gate on our labelled bullets: faithful paraphrases kept, unfaithful variants caught.

pairs.json was written alongside the rules (measured 60/60 kept, 45/45 caught);
heldout.json after they were fixed, never tuned on (measured 24/24 kept, 19/21
caught: a name cut short of its second part, and a fact with no number or name
in it, which the gate cannot see); crosslang.json (German, French and Spanish bullets
over English sources, written alongside the cross-language rules) 42/42 kept, 45/47
caught (an invented name no source mentions, and a fact with no number or name);
crosslang_heldout.json (written after those rules, run once, never tuned on; ten number-word cases
added after that rule, run once: all ten right) 23/23 kept, 22/24 caught (twice a changed weekday
that the other source holds through a date, "12 January" being a Tuesday, so the bullet was
re-cited there). crosslang.json caught 46/47 once a capitalised word no source writes and no
ordinary word of the bullet's language became a name (lexicon). crosslang_names_heldout.json
(invented, swapped and translated names, written without reading the rules, after they were fixed,
run once): 19/19 kept, 9/17 caught (4/17 before that rule); what passes are invented names that look
like ordinary words of the language: "Stefan Krüger", "Lucía Herrera", "Rheinwerk Motoren", Sheffield.
direction_heldout.json (English changes turned round, "rose" for "fell", with paraphrases that keep
them; written without reading the rules, after the direction rule was committed): first run 27/27
kept, 20/22 caught (6/22 before the rule: none of the 16 turned changes); the two misses were a change
word more than six words before its number ("raised its profit forecast for next year to ...") and a
"growth forecast" read as a rise, both mended since (22/22), so it is tuning data now.
crosslang_direction_heldout.json (German, French and Spanish changes, blind, first run 21/22 kept,
11/20 caught) and direction_blind2.json (four languages, blind, written after mends that followed the
first two sets; first run 27/28, 22/28) were each mended against after their first run, so they are
tuning data now: 22/22, 16/20 and 28/28, 24/28 since German split verbs (22/28 before; a move's start, "from 3", is
read for no change since a second review: a start may have got there by another move). gate_blind3.json (changes and names in four languages,
written after the last mends, run once, never mended against): 30/30 kept, 19/30 caught (10/30 at the
start of that work); its misses are change words no list has ("lengthened", "rebajará", "über dem
Vorjahresniveau"), a change across a comma, and invented names that look ordinary ("Jürgen Becker").
gate_blind4.json (changes, ordinary-looking names and German separable verbs in four languages, blind):
first run 29/37 kept, 25/40 caught; its misses were mended against (a range's shared magnitude, "70% two
years", "An|landungen", two common names side by side, a quote given to the wrong speaker, German
verbs whose particle ends the clause, depreciation, widened and narrowed): 36/37, 35/40; 34/40 once a
one-word name matched a source word of its stem ("Textile" for "Textiles").
gate_blind3.json then caught 21/30, so it is no longer untouched by mends either. gate_blind5.json
(changes, ranges, names, quotes and their speakers; written blind after those mends, run once, never
mended against): 36/37 kept, 23/35 caught (30/37 and 12/35 with the gate as it was before them); then a
review found true speakers, English institutions, saints' places, German prepositions and sports leads
refused, and after those mends it is 36/37, 21/35 (two swapped speakers told by "she said" or a role are
no longer judged). gate_blind6.json (directions of change in four languages, blind; first run 26/30,
20/30) was mended against (Spanish plural verbs, "büßte ... ein", "tercer" read as 3, "Juli" and
"Pellbrooker" as names the sources lack, "16-year-olds" as years): 30/30, 24/30.
gate_blind7.json (moves between two values in four languages, "from 52 to 41" however worded, with ranges,
votes and years that are no moves; written blind before the move rule): 38/42 kept, 19/43 caught with the
gate before it; the move rule, run once against it, 38/42 and 34/43; then mended against ("from 210 pounds
to 185" is no score, "de 6 h à 21 h" are clock times, "31,000 last year" counts no "last", the marker
nearest a number is its): 42/42, 38/43; a review then found comparisons read as moves ("contre",
"frente a" name another thing as often as an earlier value) and narrowed the rule: 42/42, 35/43.
review_moves.json is that review's 279 bullets at the rule's edges: 179/187 kept, 48/92 caught.
gate_blind8.json (a general exam, every kind of model error in four languages; written blind after all
the above, run once, never mended against): 46/48 kept, 37/48 caught. Its misses are claims with no
number or name (0/4) and the story's real numbers and names put on the wrong thing; it refused two true
translations ("Conrad Haskell von der Civic Union" read as one name, "les deux parties" for "both sides"). With the move rule direction_blind2.json went to 27/28,
crosslang_direction_heldout.json to 18/20 and gate_blind5.json to 26/35.
gate_blind9.json holds only bullets with no number, name, date or quote (paraphrases, summaries and
cautious inferences against invented claims, motives, overstatements, reversed meanings and wrong
cites; English, German and French; written blind): 50/50 kept, 0/50 caught, which is what the gate could
do there. A share of the bullet's content words in the cited source did not separate them alone (see
BENCHMARKS.md). The support rule (summarize/support.py: wrong cites re-cited by their words, wording far
from the source, invented reasons, reversed stances) was built on meaning_tuning.json (bullets of that
kind, written before it: 73/74 kept, 3/55 caught before, 30/55 after) and checked on meaning_heldout.json
(written after it, first run 47/49 kept, 22/38 caught; 2/38 before; mended against since: 49/49, 20/38).
Run once on gate_blind9.json after it was fixed: 50/50 kept, 1/50 caught. Its sweeping words ("all",
"every") were taken out on review, as they refuse a faithful "every night" for "nightly": 22/55 and
15/38, gate_blind9.json unchanged; a court's and a calendar's words taken out of the stance lists
then, 14/38. Its
floors guard what matters: no faithful bullet of that kind refused.
Floors sit a little under what was measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.summarize.grounding_quality import load_cases, measure

DATA = Path(__file__).parent / "data" / "grounding"
FLOORS = {  # set: (faithful kept, unfaithful caught)
    "pairs.json": (0.95, 1.0),
    "heldout.json": (0.95, 0.85),
    "crosslang.json": (0.95, 0.9),
    "crosslang_heldout.json": (0.95, 0.85),
    "crosslang_names_heldout.json": (0.95, 0.5),
    "direction_heldout.json": (0.95, 0.95),
    "crosslang_direction_heldout.json": (0.95, 0.85),
    "direction_blind2.json": (0.95, 0.9),
    "gate_blind3.json": (0.95, 0.65),
    "gate_blind4.json": (0.95, 0.8),
    "gate_blind5.json": (0.95, 0.7),
    "gate_blind6.json": (0.95, 0.75),
    "gate_blind7.json": (0.95, 0.8),
    "review_moves.json": (0.95, 0.45),
    "gate_blind8.json": (0.9, 0.7),
    "gate_blind9.json": (1.0, 0.0),  # nothing to catch by numbers or names; nothing faithful may be refused
    "meaning_tuning.json": (0.95, 0.35),
    "meaning_heldout.json": (1.0, 0.35),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_faithful_bullets_are_kept_and_unfaithful_ones_caught(name):
    cases = load_cases(DATA / name)
    figures = measure(cases)
    kept_floor, caught_floor = FLOORS[name]
    misses = "\n".join(f"{c.kind}: {c.bullet} -> {outcome}" for c, outcome in figures.misses)
    assert figures.kept_share >= kept_floor, misses
    assert figures.caught_share >= caught_floor, misses


def test_the_set_is_big_enough_and_covers_every_kind_the_issue_names():
    cases = load_cases(DATA / "pairs.json")
    assert sum(c.faithful for c in cases) >= 60
    kinds = {c.kind for c in cases if not c.faithful}
    assert {"changed number", "swapped name", "invented quote", "wrong cite"} <= kinds
    assert any(c.faithful and c.kind == "unit change kept" for c in cases)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_a_sentence_copied_from_its_source_always_passes(name):
    """The floor under every rule: what the source says, cited to it, is never refused."""
    from newsletter.models import BIG_PICTURE, Briefing, Bullet
    from newsletter.summarize.grounding import Evidence, ground
    from newsletter.summarize.sentences import split_sentences

    stories = {id(c.story): c.story for c in load_cases(DATA / name)}.values()
    refused = []
    for story in stories:
        evidence = Evidence.of(story)
        for n, article in enumerate(story.articles, start=1):
            for sentence in [article.title, *split_sentences(article.text)]:
                briefing = Briefing(story, story.headline, story.headline, {BIG_PICTURE.key: [Bullet(sentence, [n])]})
                refused += [(sentence, d.claim) for d in ground(briefing, evidence).grounding.dropped]
    assert refused == []
