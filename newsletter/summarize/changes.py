"""Which way a number moved, as a sentence says it: "fell 12%" is down, "a 12% rise" up.

    direction_at("Sales fell by 12% in May.", 14, 17)   # ("down", 6): "fell" starts at 6

A bullet that keeps a source's number but turns its change around ("sales rose 12%" where the
source says they fell) states a fact the source does not, and every number check passes it. So
the word of change nearest a number within its clause is read on both sides: up to ten words
before it ("raised fares on the Wexmoor crossing by 7%") or two after ("a 12% drop"). A bullet's
change must not be the opposite of every change the cited source gives that number. A source that
gives the number with no word of change contradicts nothing, and neither does a bullet that gives
none.

Only clear words of change count: "more than 300" and "up to 40" give an amount, not a change, a
"growth forecast" is a topic, and a negation ("did not rise") makes the direction unknown. Profit and
loss are no direction: a profit can fall.

English's words are here; another language's come from its locale file (``[grounding] up``, ``down``,
``negations`` and ``change_words_after``: German, French and Spanish ship them), so a German bullet's
"stieg um 3 Prozent" is held to an English source's "fell 3%". A language without them has its
numbers checked, not their changes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

UP, DOWN = "up", "down"

_FORMS = {
    UP: """rise rises rising rose risen up increase increases increased increasing gain gains gained gaining
        grow grows grew grown growing growth climb climbs climbed climbing jump jumps jumped jumping surge surges
        surged surging soar soars soared soaring raise raises raised raising hike hikes hiked higher boost boosts
        boosted expand expands expanded expanding rebound rebounds rebounded add adds added
        adding upgrade upgrades upgraded lift lifts lifted lifting hire hires hired hiring more""",
    DOWN: """fall falls fell fallen falling down decrease decreases decreased decreasing decline declines declined
        declining drop drops dropped dropping dip dips dipped slip slips slipped slide slides slid slump slumps
        slumped plunge plunges plunged plunging tumble tumbles tumbled sink sinks sank sunk shrink shrinks shrank
        shrunk shrinking ease eases eased cut cuts cutting lower lowered lowers lowering reduce reduces reduced
        reducing reduction slash slashes slashed lose loses lost losing downgrade
        downgrades downgraded trim trims trimmed trimming layoffs lay-offs fewer less""",
}
WORDS = {word: way for way, forms in _FORMS.items() for word in forms.split()}

BEFORE, AFTER = 10, 2  # words of the clause read on each side of a number: "raised its main rate to 3.5%"
_REACH = 160  # characters read on each side: more than ten words of news prose and the word before them
_NEGATIONS = frozenset("not n't never no nor".split())
# A word of change that, followed by one of these words, says something else: "up to 40" and "more than
# 300" are amounts (while "2,300 more hectares" is a change), "added that 12 people" reports speech, "fell
# ill" is no fall, and a "growth forecast" is a topic, not a rise. ("Contract" and "rally" are left out of
# the words for the same reason: far more often a deal and a march.)
_TOPICS = frozenset("forecast forecasts rate rates target targets outlook estimate estimates figures".split())
_NOT_A_CHANGE = {"up": frozenset({"to"}), **{w: frozenset({"that"}) for w in ("add", "adds", "added")},
                 **{w: frozenset({"than"}) for w in ("more", "fewer", "less")},
                 **{w: frozenset({"ill"}) for w in ("fell", "fall", "falls", "fallen", "falling")},
                 "growth": _TOPICS}
_WORD = re.compile(r"[^\W\d_][\w’'-]*")
# A clause ends at a sentence mark, a comma, a colon or a dash: "Sales rose, and 12 people were hired"
# says nothing about the 12.
_CLAUSE_BREAK = re.compile(r"[!?;:—–()]|[.,](?!\d)|(?<!\d)[.,]|\s-\s")  # "3.5" and "1,200" go on


@dataclass(frozen=True)
class ChangeWords:
    """A language's words of change and the words that negate one, each ``key``-ed (lower case, accents
    kept: German "Fällen", cases, is not "fallen")."""

    words: dict[str, str]  # word -> UP or DOWN
    negations: frozenset[str]
    not_a_change: dict[str, frozenset[str]] = field(default_factory=dict)  # word -> next words that unmake it
    after: int = AFTER  # words read after a number: German puts the verb last ("von 7 auf 3 verringern")

    def mentions(self, text: str) -> bool:
        """Whether ``text`` holds any word of change: most sentences do not, and their numbers need no look."""
        return not self.words.keys().isdisjoint(_WORD.findall(key(text)))


def key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


ENGLISH = ChangeWords(WORDS, _NEGATIONS, _NOT_A_CHANGE)


def direction_at(text: str, start: int, end: int, lang: ChangeWords = ENGLISH) -> tuple[str, int] | None:
    """The direction (``UP`` or ``DOWN``) of the change word nearest the number at ``text[start:end]``
    in its clause, and where that word starts; None when there is none, or it is negated. ``lang``:
    the words of the text's language (English's by default)."""
    # Nearest first on each side, one word more than is read: the neighbour of the farthest.
    before = [(key(w[::-1]), start - at - len(w)) for w, at in
              _clause_words(text[max(0, start - _REACH):start][::-1], BEFORE + 1)]
    after = [(key(w), end + at) for w, at in _clause_words(text[end:end + _REACH], lang.after + 1)]
    for distance in range(max(BEFORE, lang.after)):
        for words, reach, leftward in ((before, BEFORE, True), (after, lang.after, False)):
            if distance >= min(len(words), reach):
                continue
            word, at = words[distance]
            way = lang.words.get(word)
            if way is None:
                continue
            # In reading order: before the number the farther word comes first, after it the nearer.
            far = words[distance + 1][0] if distance + 1 < len(words) else ""
            near = words[distance - 1][0] if distance else ""
            previous, following = (far, near) if leftward else (near, far)
            if following in lang.not_a_change.get(word, ()):
                continue
            if previous in lang.negations or previous.endswith("n't"):
                return None
            return way, at
    return None


def _clause_words(text: str, limit: int) -> list[tuple[str, int]]:
    """The first ``limit`` words of ``text`` and where they start, up to the first clause break."""
    stop = _CLAUSE_BREAK.search(text)
    words = []
    for m in _WORD.finditer(text, 0, stop.start() if stop else len(text)):
        words.append((m.group(), m.start()))
        if len(words) == limit:
            break
    return words
