"""Which way a number moved, as an English sentence says it: "fell 12%" is down, "a 12% rise" up.

    direction_at("Sales fell by 12% in May.", 13, 16)   # ("down", 5): "fell" starts at 5

A bullet that keeps a source's number but turns its change around ("sales rose 12%" where the
source says they fell) states a fact the source does not, and every number check passes it. So
the word of change nearest a number, within its clause (six words before it, or two after:
"a 12% drop"), is read on both sides, and a bullet's change must not be the opposite of every
change the cited source gives that number. A source that gives the number with no word of change
contradicts nothing, and neither does a bullet that gives none.

Only clear words of change count: "more than 300" and "up to 40" give an amount, not a change, and a
negation ("did not rise") makes the direction unknown. Profit and loss are no direction: a profit
can fall.
"""

from __future__ import annotations

import re

UP, DOWN = "up", "down"

_FORMS = {
    UP: """rise rises rising rose risen up increase increases increased increasing gain gains gained gaining
        grow grows grew grown growing growth climb climbs climbed climbing jump jumps jumped jumping surge surges
        surged surging soar soars soared soaring raise raises raised raising hike hikes hiked higher boost boosts
        boosted expand expands expanded expanding rebound rebounds rebounded add adds added
        adding upgrade upgrades upgraded lift lifts lifted lifting""",
    DOWN: """fall falls fell fallen falling down decrease decreases decreased decreasing decline declines declined
        declining drop drops dropped dropping dip dips dipped slip slips slipped slide slides slid slump slumps
        slumped plunge plunges plunged plunging tumble tumbles tumbled sink sinks sank sunk shrink shrinks shrank
        shrunk shrinking ease eases eased cut cuts cutting lower lowered lowers lowering reduce reduces reduced
        reducing reduction slash slashes slashed lose loses lost losing downgrade
        downgrades downgraded trim trims trimmed trimming""",
}
WORDS = {word: way for way, forms in _FORMS.items() for word in forms.split()}
OPPOSITE = {UP: DOWN, DOWN: UP}
BEFORE, AFTER = 6, 2  # words of the clause read on each side of a number: "raised its main rate to 3.5%"
_NEGATIONS = frozenset("not n't never no nor".split())
# A word of change that, followed by this word, says something else: "up to 40" is as many as 40, "added
# that 12 people" reports speech, "fell ill" is no fall. ("Contract" and "rally" are left out for the same
# reason: far more often a deal and a march.)
_NOT_A_CHANGE = {"up": "to", "add": "that", "adds": "that", "added": "that", "fell": "ill", "fall": "ill",
                 "falls": "ill", "fallen": "ill", "falling": "ill"}
_WORD = re.compile(r"[^\W\d_][\w’'-]*")
# A clause ends at a sentence mark, a comma, a colon or a dash: "Sales rose, and 12 people were hired"
# says nothing about the 12.
_CLAUSE_BREAK = re.compile(r"[!?;:—–()]|[.,](?!\d)|(?<!\d)[.,]|\s-\s")  # "3.5" and "1,200" go on


def direction_at(text: str, start: int, end: int) -> tuple[str, int] | None:
    """The direction (``UP`` or ``DOWN``) of the change word nearest the number at ``text[start:end]``
    in its clause, and where that word starts; None when there is none, or it is negated."""
    before = _clause_words(text[:start][::-1], reverse=True)
    after = _clause_words(text[end:], reverse=False)
    candidates = []
    for distance, (word, offset, previous, following) in enumerate(before[:BEFORE]):
        candidates.append((distance, 0, word, start - offset - len(word), previous, following))
    for distance, (word, offset, previous, following) in enumerate(after[:AFTER]):
        candidates.append((distance, 1, word, end + offset, previous, following))
    for _, _, word, at, previous, following in sorted(candidates, key=lambda c: (c[0], c[1])):
        way = WORDS.get(word.lower())
        if way is None or _NOT_A_CHANGE.get(word.lower()) == following:
            continue
        if previous in _NEGATIONS or previous.endswith("n't"):
            return None
        return way, at
    return None


def _clause_words(text: str, reverse: bool) -> list[tuple[str, int, str, str]]:
    """The words of ``text`` up to the first clause break, nearest first: (word, offset of its near end
    from the number, the word before it in reading order, the word after it), lower-cased neighbours.
    ``reverse``: ``text`` is what comes before the number, reversed."""
    stop = _CLAUSE_BREAK.search(text)
    clause = text[:stop.start()] if stop else text
    found = [(m.group()[::-1] if reverse else m.group(), m.start()) for m in _WORD.finditer(clause)]
    # Neighbours for the whole stretch read (the clause can begin before the window): in reading order.
    words = [w for w, _ in found]
    out = []
    for k, (word, offset) in enumerate(found):
        if reverse:
            previous = words[k + 1].lower() if k + 1 < len(words) else ""
            following = words[k - 1].lower() if k > 0 else ""
        else:
            previous = words[k - 1].lower() if k > 0 else ""
            following = words[k + 1].lower() if k + 1 < len(words) else ""
        out.append((word, offset, previous, following))
    return out
