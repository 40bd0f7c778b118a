"""Which way a number moved, as a sentence says it: "fell 12%" is down, "a 12% rise" up.

    direction_at("Sales fell by 12% in May.", 14, 17)   # ("down", 6, 10): "fell" is text[6:10]

A bullet that keeps a source's number but turns its change around ("sales rose 12%" where the
source says they fell) states a fact the source does not, and every number check passes it. So
the word of change nearest a number within its clause is read on both sides: up to ten words
before it ("raised fares on the Wexmoor crossing by 7%") or two after ("a 12% drop"). A bullet's
change must not be the opposite of every change the cited source gives that number. A source that
gives the number with no word of change contradicts nothing, and neither does a bullet that gives
none. A loss "widened" is up, a profit "narrowed" down; "lost $300 million" is a sum, not a fall.

Only clear words of change count: "more than 300" and "up to 40" give an amount, not a change, a
"growth forecast" is a topic, and a negation ("did not rise") makes the direction unknown. Profit and
loss are no direction: a profit can fall.

English's words are here; another language's come from its locale file (``[grounding] up``, ``down``,
``negations`` and ``change_words_after``: German, French and Spanish ship them), so a German bullet's
"stieg um 3 Prozent" is held to an English source's "fell 3%". A language without them has its
numbers checked, not their changes. Multiples ("verdoppelt", "a triplé") are read the same way, from
the same file, in ``multiples``.

A move between two numbers has an order: "cut from 52 million to 41 million", "cut to 41 million from
52 million" and "41 million, down from 52 million" all go from 52 to 41 (``moves``). A bullet that gives
a source's two numbers the other way round ("von 41 auf 52 Millionen") has the move turned round even
where its word of change agrees, or where it has none ("passant de 4,8 à 9,3 millions").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

UP, DOWN = "up", "down"

_FORMS = {
    UP: """rise rises rising rose risen up increase increases increased increasing gain gains gained gaining
        grow grows grew grown growing growth climb climbs climbed climbing jump jumps jumped jumping surge surges
        surged surging soar soars soared soaring raise raises raised raising hike hikes hiked higher boost boosts
        boosted expand expands expanded expanding rebound rebounds rebounded add adds added
        adding upgrade upgrades upgraded lift lifts lifted lifting hire hires hired hiring more
        accelerates accelerated accelerating quickens quickened doubles doubled doubling tripled lengthened
        strengthened appreciated widened widens widening""",
    DOWN: """fall falls fell fallen falling down decrease decreases decreased decreasing decline declines declined
        declining drop drops dropped dropping dip dips dipped slip slips slipped slide slides slid slump slumps
        slumped plunge plunges plunged plunging tumble tumbles tumbled sink sinks sank sunk shrink shrinks shrank
        shrunk shrinking ease eases eased cut cuts cutting lower lowered lowers lowering reduce reduces reduced
        reducing reduction slash slashes slashed lose loses lost losing downgrade
        downgrades downgraded trim trims trimmed trimming layoffs lay-offs fewer less
        slows slowed slowing cools cooled cooling moderated moderating halves halved shortened weakens weakened
        shed sheds shedding depreciated depreciates depreciating narrowed narrows narrowing""",
}
WORDS = {word: way for way, forms in _FORMS.items() for word in forms.split()}
# Left out on purpose: adjectives ("a moderate 2% rise", "a slow", "a narrow 51% majority", "a cool $1
# million") and "win/earn" words. "Widened" and "narrowed" are in: a loss, a deficit or a gap widens as it
# grows, a profit narrows as it shrinks; so losing money is a sum, not a fall (``AMOUNTS``).
# Words of change that before a sum of money state the sum, not a change: "lost $300 million" is a loss of
# that size, which may have widened; "shares lost 5%" and "lost 200 jobs" are falls.
AMOUNTS = frozenset("lose loses lost losing".split())
# Words of change that are only nouns: they name the change of a number next to them ("growth of 3%",
# "3% growth"), not of one a verb further on moves ("growth slowed to 1.2%": that is the verb's). Before
# its number a noun counts only with a link word between ("ein Minus von 5 Prozent"): right before it, it
# is a sign ("minus 5 Grad").
NOUNS = frozenset("growth reduction layoffs lay-offs hiring".split())
# Nouns that make a word of change after them a noun ("job cuts", "tax rises", "rate increases").
_MODIFIERS = frozenset("job jobs spending tax rate price pay wage budget benefit staff service".split())
# What may stand between such a noun and its number: "growth of 3%", "Anstieg um 3 Prozent", "hausse de 3 %".
_NOUN_LINKS = frozenset("of by um von de du des d' del".split())
# A number after these is where a move started ("down from 2.9%", "fell from 4.1% in February to 3.9%"),
# not what moved: the change is its end's, and the start may have got there by another.
_FROM = frozenset("from desde".split())
# What joins the two numbers of a move ("rose from 3% to 4%", "von 7 auf 3"): the change word before the
# first is also the second's. Not "and": "rose 8% and 1,200 jobs will be cut" are two changes.
MOVE_LINKS = frozenset("to bis auf à a hasta".split())

BEFORE, AFTER = 10, 2  # words of the clause read on each side of a number: "raised its main rate to 3.5%"
_REACH = 160  # characters read on each side: more than ten words of news prose and the word before them
_NEGATIONS = frozenset("not n't never no nor".split())
# A word of change that, followed by one of these words, says something else: "up to 40" is an amount,
# "added that 12 people" reports speech, "fell ill" is no fall, and a "growth forecast" is a topic, not a rise.
# ("Contract" and "rally" are left out of the words for the same reason: far more often a deal and a march.)
_TOPICS = frozenset("forecast forecasts rate rates target targets outlook estimate estimates figures".split())
_NOT_A_CHANGE = {"up": frozenset({"to"}), **{w: frozenset({"that"}) for w in ("add", "adds", "added")},
                 **{w: frozenset({"ill"}) for w in ("fell", "fall", "falls", "fallen", "falling")},
                 "growth": _TOPICS}
# A lead, a gap or a margin is between two sides: one side's gain narrows it, and "widened their lead to 5
# points" is told of the side whose rival "fell five points behind". Read with these, no word has a way.
_SIDED = frozenset("widen widens widened widening narrow narrows narrowed narrowing".split())
_BETWEEN_SIDES = frozenset("lead gap margin advantage".split())
# The same for a word before its number only: "more than 300" and "higher than 3%" are an amount and a level,
# while "300 more than last year" and "3% lower than a year earlier" are changes.
_NOT_A_CHANGE_BEFORE = {w: frozenset({"than"}) for w in ("more", "fewer", "less", "higher", "lower")}
WORD = re.compile(r"[^\W\d_][\w’'-]*")
# French and Italian elide articles and "ne" into the next word: "l'augmentation", "n'augmente".
_ELIDED = re.compile(r"^([^\W\d_]{1,2}['’])(?=[^\W\d_])")
# A clause ends at a sentence mark, a comma, a colon or a dash: "Sales rose, and 12 people were hired"
# says nothing about the 12.
_CLAUSE_BREAK = re.compile(r"[!?;:—–()]|[.,](?!\d)|(?<!\d)[.,]|\s-\s")  # "3.5" and "1,200" go on
_DIGITS = re.compile(r"\d[\d.,]*")
_JOINERS = frozenset("and or but while whereas und oder aber während et ou mais alors tandis y o pero mientras".split())
_CLAUSE_END = re.compile(rf"\s*(?:{_CLAUSE_BREAK.pattern}|[\"“”„«»]|$)")  # a clause break, a quote's end, or the text's


@dataclass(frozen=True)
class MoveWords:
    """The words that mark a move's two ends in a language, each a tuple of ``key``-ed words: ``start``
    before its first number ("from", "von", "de"), ``end`` before its last ("to", "auf", "à"), ``since``
    after a comma before the number it came from ("420, up from 260"; "1.980, nach 2.310"), and
    ``spread`` before a "from ... to" that is a spread, not a move ("ranged from 5 to 12")."""

    start: tuple[tuple[str, ...], ...]
    end: tuple[tuple[str, ...], ...]
    since: tuple[tuple[str, ...], ...] = ()
    spread: frozenset[str] = frozenset()

    @classmethod
    def of(cls, start: list[str], end: list[str], since: list[str] = (), spread: list[str] = ()) -> MoveWords:
        def words(found) -> tuple[tuple[str, ...], ...]:
            return tuple(tuple(key(m).split()) for m in found)
        return cls(words(start), words(end), words(since), frozenset(key(w) for w in spread))


@dataclass(frozen=True)
class ChangeWords:
    """A language's words of change, the nouns among them, and the words that negate one, each ``key``-ed
    (case-folded, accents kept: German "Fällen", cases, is not "fallen")."""

    words: dict[str, str]  # word -> UP or DOWN
    negations: frozenset[str]
    not_a_change: dict[str, frozenset[str]] = field(default_factory=dict)  # word -> next words that unmake it
    not_a_change_before: dict[str, frozenset[str]] = field(default_factory=dict)  # the same, before its number
    after: int = AFTER  # words read after a number: German puts the verb last ("von 7 auf 3 verringern")
    nouns: frozenset[str] = frozenset()
    amounts: frozenset[str] = frozenset()  # before money, a sum and not a change (``AMOUNTS``)
    # Verbs whose particle stands apart, after the number ("ging ... auf 5,3 Prozent zurück"): (verb,
    # particle) -> UP or DOWN. Read only when no word of change stands nearer.
    split: dict[tuple[str, str], str] = field(default_factory=dict)
    moves: MoveWords | None = None

    @classmethod
    def of(cls, up: list[str], down: list[str], negations: list[str], after: int = AFTER,
           up_split: list[str] = (), down_split: list[str] = (), amounts: list[str] = (),
           moves: MoveWords | None = None) -> ChangeWords:
        """A locale file's lists (``[grounding] up``, ``down``, ``negations``, and ``up_split``/``down_split``:
        "ging zurück"): a word written with a capital is a noun ("Anstieg", "Croissance"), read only next to
        its number."""
        words = {**{key(w): UP for w in up}, **{key(w): DOWN for w in down}}
        nouns = frozenset(key(w) for w in (*up, *down) if w[:1].isupper())
        split = {**{tuple(key(w).split()): UP for w in up_split}, **{tuple(key(w).split()): DOWN for w in down_split}}
        return cls(words, frozenset(key(w) for w in negations), after=after, nouns=nouns, split=split,
                   amounts=frozenset(key(w) for w in amounts), moves=moves)

    @cached_property
    def _mentioned(self) -> frozenset[str]:
        """Every word that makes a sentence worth reading for a change: built once, read per sentence."""
        return frozenset(self.words) | {verb for verb, _ in self.split}

    def mentions(self, text: str) -> bool:
        """Whether ``text`` holds any word of change: most sentences do not, and their numbers need no look."""
        found = (_ELIDED.sub("", w) if "'" in w else w for w in WORD.findall(key(text)))  # "l'augmentation"
        return not self._mentioned.isdisjoint(found)


def key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().replace("’", "'")


# Only markers that always name an earlier value: "compared with", "against" and "versus" as often
# compare two things at one time ("women earned 41,000, compared with 52,000 for men").
_ENGLISH_MOVES = MoveWords.of(["from"], ["to"], ["up from", "down from", "from"],
                              ["range", "ranges", "ranged", "ranging", "vary", "varies", "varied", "varying",
                               "span", "spans", "spanned", "spanning", "between"])
ENGLISH = ChangeWords(WORDS, _NEGATIONS, _NOT_A_CHANGE, _NOT_A_CHANGE_BEFORE, nouns=NOUNS, amounts=AMOUNTS,
                      moves=_ENGLISH_MOVES)

MOVE_GAP = 4  # words a marker may stand before its number: "up from an early estimate of 260"
MOVE_SPAN = 8  # words between a move's first number and its second end's marker: "from 310 in 2022 to 455"
_MARK_REACH = 72  # characters read before a number for its marker: the gap's words and a three-word marker
SINCE_SPAN = 16  # words between a number and ", up from": "2,310 crowns a tonne in August, up from 1,980"


# What a number is, for a move: a year is never one of its ends ("from 310 in 2022 to 455"), and a length
# of time is never where one started after a comma ("12 clubs, nach 3 Jahren nur noch 3": "after").
YEAR, DURATION = "year", "duration"


def moves(text: str, numbers: list[tuple[int, int, str | None]], words: MoveWords
          ) -> tuple[list[tuple[int, int]], set[int]]:
    """The moves ``text`` states between its numbers, as (index of where it started, index of where it
    ended) in ``numbers`` (each number's start, end and ``YEAR``, ``DURATION`` or None), and the indices of
    every number marked as where a move ended, paired or not ("and then fell back to 3")."""
    marks = [_marks(text, start, numbers[k - 1][1] if k else 0, words) for k, (start, _, _) in enumerate(numbers)]
    ends = [k for k, (start, _, kind) in enumerate(numbers) if kind != YEAR and not _numbered_name(text, start)]
    found: list[tuple[int, int]] = []
    marked_ends = {k for k in ends if "end" in marks[k]}
    for at, k in enumerate(ends):
        following = ends[at + 1] if at + 1 < len(ends) else None
        if following is not None:
            if ("start" in marks[k] and "end" in marks[following]
                    and _joined(text, numbers[k][1], marks[following]["end"])
                    and not _spread(text, numbers[ends[at - 1]][1] if at else 0, marks[k]["start"], words)):
                found.append((k, following))  # "from 52 to 41"
                continue
            if "end" in marks[k] and "start" in marks[following] and _joined(
                    text, numbers[k][1], marks[following]["start"]):
                found.append((following, k))  # "to 41 from 52"
                continue
        if at and "since" in marks[k] and numbers[k][2] != DURATION:
            previous = ends[at - 1]
            segment = text[numbers[previous][1]:marks[k]["since"]].rstrip()
            if (segment.endswith(",") and not _CLAUSE_BREAK.search(segment[:-1])
                    and len(WORD.findall(segment)) <= SINCE_SPAN and (k, previous) not in found):
                found.append((k, previous))  # "420, up from 260"
                marked_ends.add(previous)
    return found, marked_ends


_LAST_WORD = re.compile(r"([^\W\d_][\w'’-]*)\s*$")


def _numbered_name(text: str, start: int) -> bool:
    """A number that is part of a name ("from Platform 2 to Platform 9", "Mill 9"): a capitalised word right
    before it, not the text's first."""
    before = text[max(0, start - 40):start]
    m = _LAST_WORD.search(before)
    return bool(m and m.group(1)[0].isupper() and text[:start - len(before) + m.start(1)].strip())


def _spread(text: str, lo: int, marker: int, words: MoveWords) -> bool:
    """A word of spread in the three words before a "from" ("ranged from 5 to 12", "schwankte zwischen")."""
    return not words.spread.isdisjoint(key(w) for w, _, _ in list(_tokens(text[lo:marker]))[-3:])


def _marks(text: str, start: int, lo: int, words: MoveWords) -> dict[str, int]:
    """Which ends of a move the number at ``start`` is marked as ("start", "end", "since"), each with
    where its marker starts: the marker nearest before it, at most ``MOVE_GAP`` words before it and in its
    clause, after the number before it (``lo``). One word may mark two ends ("from": "start", "since")."""
    offset = max(lo, start - _MARK_REACH)
    tokens = list(_tokens(text[offset:start]))
    keyed = [key(w) for w, _, _ in tokens]
    for gap in range(min(MOVE_GAP, len(tokens)) + 1):
        stop = len(keyed) - gap
        found = {}
        for role, markers in (("start", words.start), ("end", words.end), ("since", words.since)):
            hit = next((m for m in markers if len(m) <= stop and tuple(keyed[stop - len(m):stop]) == m), None)
            if hit is not None:
                found[role] = offset + tokens[stop - len(hit)][1]
        if found:
            return {} if _CLAUSE_BREAK.search(text, offset + tokens[stop - 1][2], start) else found
    return {}


def _joined(text: str, first_end: int, marker: int) -> bool:
    """A move's first number and the marker of its other end stand in one clause, close together."""
    segment = text[first_end:marker]
    return not _CLAUSE_BREAK.search(segment) and len(WORD.findall(segment)) <= MOVE_SPAN


def direction_at(text: str, start: int, end: int, lang: ChangeWords = ENGLISH) -> tuple[str, int, int] | None:
    """The direction (``UP`` or ``DOWN``) of the change word nearest the number at ``text[start:end]``
    in its clause, and where that word starts and ends; None when there is none, when it is negated, or
    when the number is where a move started ("from 2.9%"). ``lang``: the words of the text's language."""
    before = _before(text, start)
    if before and before[0][0] in _FROM:
        return None
    after = _after(text, end, lang.after + 2)
    for distance in range(max(BEFORE, lang.after)):
        for words, reach, leftward in ((before, BEFORE, True), (after, lang.after, False)):
            if distance >= min(len(words), reach):
                continue
            word, at, stop = words[distance]
            way = lang.words.get(word)
            if way is None:
                continue
            # "job cuts", "rate rises": a noun made by the word before it, which counts the changes: "raised the
            # number of job cuts to 2,000" is a rise.
            modified = (leftward and word.endswith("s") and distance + 1 < len(words)
                        and words[distance + 1][0] in _MODIFIERS)  # "rate rose" is a verb still
            if (word in lang.nouns or modified) and not (
                    (distance == 0 and not leftward) or (distance == 1 and words[0][0] in _NOUN_LINKS)
                    or (distance == 1 and not leftward and words[0][0] in _MODIFIERS)):
                continue
            # In reading order: before the number the farther words come first, after it the nearer.
            farther = [w for w, _, _ in words[distance + 1:distance + 3]]
            nearer = [words[distance - 1][0]] if distance else []
            previous, following = (farther, nearer) if leftward else (nearer, farther[:1])
            if following and (following[0] in lang.not_a_change.get(word, ()) or (
                    leftward and following[0] in lang.not_a_change_before.get(word, ()))):
                continue
            if word in _SIDED and not _BETWEEN_SIDES.isdisjoint(w for w, _, _ in words[:distance]):
                continue
            if any(p in lang.negations or p.endswith("n't") for p in previous) or (
                    following and following[0] in lang.negations):
                return None
            return way, at, stop
    return _split_verb(text, before[:BEFORE], after[:lang.after], lang) if lang.split else None


def _split_verb(text: str, before: list[tuple[str, int, int]], after: list[tuple[str, int, int]],
                lang: ChangeWords) -> tuple[str, int, int] | None:
    """A verb before the number whose particle follows it and ends the clause ("ging ... auf 5,3 Prozent
    zurück."), unless a negation stands between them ("ging nicht ... zurück"). A particle with more of
    the clause after it is a preposition ("gab 12 Tote nach dem Erdbeben", "nimmt 40 Züge ab Montag")."""
    for k, (verb, at, _) in enumerate(before):
        for j, (particle, _, stop) in enumerate(after):
            way = lang.split.get((verb, particle))
            if way is None or not _CLAUSE_END.match(text, stop):
                continue
            between = [w for w, _, _ in before[:k]] + [w for w, _, _ in after[:j]]
            return None if any(w in lang.negations for w in between) else (way, at, stop)
    return None


def _tokens(text: str):
    """(word, start, end) for each word of ``text``, an elided article or "ne" its own word ("l'", "n'")."""
    for m in WORD.finditer(text):
        elided = _ELIDED.match(m.group())
        if elided:
            yield elided.group(1), m.start(), m.start() + elided.end()
            yield m.group()[elided.end():], m.start() + elided.end(), m.end()
        else:
            yield m.group(), m.start(), m.end()


def _before(text: str, start: int) -> list[tuple[str, int, int]]:
    """The clause's words before ``start``, nearest first: up to a clause break, or another number unless
    that one started a move to this one ("from 3% to 4%")."""
    lo = max(0, start - _REACH)
    segment = text[lo:start]
    breaks = list(_CLAUSE_BREAK.finditer(segment))
    cut = breaks[-1].end() if breaks else 0
    numbers = [m for m in _DIGITS.finditer(segment, cut)]
    if numbers:
        between = [w for w, _, _ in _tokens(key(segment[numbers[-1].end():]))]
        if not (between and between[-1] in MOVE_LINKS and len(between) <= 3):
            cut = numbers[-1].end()
        elif len(numbers) > 1:
            cut = numbers[-2].end()
    return [(key(w), lo + cut + a, lo + cut + b) for w, a, b in _tokens(segment[cut:])][::-1][:BEFORE + 2]


def _after(text: str, end: int, limit: int) -> list[tuple[str, int, int]]:
    """The clause's first ``limit`` words after ``end``, up to a clause break, another number or a word
    that joins another clause on ("cut spending by €2.1 billion and raise taxes": the rise is the taxes')."""
    segment = text[end:end + _REACH]
    stops = [m.start() for m in (_CLAUSE_BREAK.search(segment), _DIGITS.search(segment)) if m]
    segment = segment[:min(stops)] if stops else segment
    words = []
    for w, a, b in _tokens(segment):
        if key(w) in _JOINERS:
            break
        words.append((key(w), end + a, end + b))
    return words[:limit]
