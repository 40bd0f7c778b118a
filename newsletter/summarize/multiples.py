"""How many times over a thing grew or shrank, as a sentence says it: "revenue tripled", "halbiert".

    claimed("Revenue tripled and costs halved.")   # [((8, 15), 3.0), ((26, 32), 0.5)]
    said("Sales were twice last year's.")          # [((11, 16), 2.0)]
    r = reading("fr")
    r.multiples.claimed_in("Le trafic a été multiplié par trois, il a signé un triplé.", r.numbers)
                                                   # [((16, 35), 3.0)]: "un triplé" is a hat-trick

A bullet that keeps every number and name but says "tripled" where its source says "doubled" states
what the source does not, and no number check sees it. So a bullet's multiple is a claim (``claims``),
held by a cited source that says the same multiple in any words or whose own move makes it ("to 300
from 100": ``facts``). Only forms that state a multiple are a bullet's claim: verbs and "-fold", not
"a double win" or "twice a week". A source is read for every way of saying one ("twice", "half", "3x").

English's words are here; another language's come from its locale file (``[grounding] multiples``,
with ``source_multiples``, ``multiplied_by``, ``divided_by`` and ``multiples_not_after``: German, French
and Spanish ship them, see de.toml), so a German bullet's "verdreifachte sich" is held to an English
source's "doubled", and an English bullet's "tripled" to a French source's "a doublé". Each language
needs its own forms: German's verbs and "das Dreifache" but not "dreifacher Weltmeister"; French's
participles but not "un triplé" (a hat-trick), and a number after "multiplié par" or "divisé par deux",
which no source need give as a number; Spanish's "se duplicó" and "se redujo a la mitad", but not "a la
mitad del partido" (half-time). A bullet in a language without these words claims no multiple, and a
source in one is not judged on a bullet's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from newsletter.summarize import lexicon
from newsletter.summarize.languages import NumberFound, fold

Span = tuple[int, int]
Numbers = Callable[[str], list[NumberFound]]  # a language's reading of the numbers in a text (``Reading.numbers``)

_FACTORS = {"doubl": 2, "tripl": 3, "trebl": 3, "quadrupl": 4, "quintupl": 5, "halv": 0.5,
            "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
            "twice": 2, "half": 0.5}
_CLAIMED = re.compile(r"\b(doubl|tripl|trebl|quadrupl|quintupl|halv)(?:ed|es|ing)\b"
                      r"|\b(two|three|four|five|six|seven|eight|nine|ten)[- ]?fold\b", re.IGNORECASE)
# The same in a source, said any way: "doubled", "double", "twice", "two times", "2x", "twofold".
_SAID = re.compile(r"\b(doubl|tripl|trebl|quadrupl|quintupl|halv)\w*"
                   r"|\b(two|three|four|five|six|seven|eight|nine|ten)[- ]?(?:fold|times)\b"
                   r"|\b(twice|half)\b|\b(\d+(?:\.\d+)?)[- ]?(?:x|fold|times)\b", re.IGNORECASE)


def claimed(text: str) -> list[tuple[Span, float]]:
    """Each multiple English ``text`` states as a claim, with its factor."""
    return _found(text, _CLAIMED)


def said(text: str) -> list[tuple[Span, float]]:
    """Each multiple English ``text`` says in any words, with its factor."""
    return _found(text, _SAID)


def _found(text: str, pattern: re.Pattern) -> list[tuple[Span, float]]:
    out = []
    for m in pattern.finditer(text):
        word = next(g for g in m.groups() if g)
        factor = _FACTORS.get(word.lower())
        out.append((m.span(), float(factor if factor is not None else word)))
    return out


# What a locale file's entry reads as, in its ``Pattern``'s group: a factor, or a number the text gives after
# the words, times which (1: "multiplié par trois") or divided by which (-1: "divisé par deux") it goes.
_TIMES, _DIVIDED = 1, -1
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\W*$")
_NUMBER_GAP = re.compile(r"\s*")
_WORD_AFTER = re.compile(r"\s+([^\W\d_]+)")


@dataclass(frozen=True)
class MultipleWords:
    """A language's words of multiples, from its locale file (``[grounding] multiples`` and the keys beside
    it, see de.toml): ``claimed`` finds the forms that state one (a bullet's claims), ``said`` those and every
    other way a source says one. Group ``k`` of either is ``entries[k - 1]``: (factor or number's power,
    whether a number follows)."""

    claimed: re.Pattern
    said: re.Pattern
    entries: tuple[tuple[float, bool], ...]
    not_after: frozenset[str]  # before a form, these make it a noun: "un triplé" is a hat-trick
    language: str  # whose commonest words may follow a number that multiplies (``_number_after``)

    @classmethod
    def of(cls, multiples: dict[str, float], source_multiples: dict[str, float] | None = None,
           multiplied_by: list[str] = (), divided_by: list[str] = (), not_after: list[str] = (),
           language: str = "") -> MultipleWords:
        """A word ending in "*" is a word's start ("verdoppel*": "verdoppelt", "Verdopplung" needs its own)."""
        stated = [*((k, (float(v), False)) for k, v in multiples.items()),
                  *((k, (_TIMES, True)) for k in multiplied_by), *((k, (_DIVIDED, True)) for k in divided_by)]
        stated.sort(key=lambda entry: len(entry[0]), reverse=True)  # "das dreifache" before a word it holds
        extra = sorted(((k, (float(v), False)) for k, v in (source_multiples or {}).items()),
                       key=lambda entry: len(entry[0]), reverse=True)
        return cls(_pattern([k for k, _ in stated]), _pattern([k for k, _ in stated + extra]),
                   tuple(e for _, e in stated + extra), frozenset(fold(w) for w in not_after), language)

    def claimed_in(self, text: str, numbers: Numbers) -> list[tuple[Span, float]]:
        """Each multiple ``text`` states as a claim, with its factor; ``numbers`` reads the language's numbers."""
        return self._found(text, self.claimed, numbers, self.not_after)

    def said_in(self, text: str, numbers: Numbers) -> list[tuple[Span, float]]:
        """Each multiple ``text`` says in any of the language's words, with its factor: "el doble", "le doublé"
        too, as English sources' "double" is read."""
        return self._found(text, self.said, numbers, frozenset())

    def _found(self, text: str, pattern: re.Pattern, numbers: Numbers,
               not_after: frozenset[str]) -> list[tuple[Span, float]]:
        out, read = [], None
        for m in pattern.finditer(text):
            before = _WORD_BEFORE.search(text, max(0, m.start() - 40), m.start()) if not_after else None
            if before and fold(before.group(1)) in not_after:
                continue
            factor, numbered = self.entries[m.lastindex - 1]
            if not numbered:
                out.append((m.span(), factor))
                continue
            read = numbers(text) if read is None else read
            found = _number_after(text, m.end(), read, self.language)
            if found is not None and found[1] > 0:
                out.append(((m.start(), found[0]), float(found[1]) ** factor))
        return out


def _number_after(text: str, end: int, read: list[NumberFound], language: str) -> tuple[int, Decimal] | None:
    """The number that follows ``end`` with only space between, not a percentage: where its digits end,
    and its value. A number with a word after it that is no grammar counts that word's things: "divisée
    par deux fleuves" is split by rivers; "divisé par deux ses émissions", "par trois en un an" are not."""
    start = _NUMBER_GAP.match(text, end).end()
    found = next(((digits[1], value) for _, digits, value, pct, _, _ in read
                  if digits[0] == start and value is not None and not pct), None)
    following = _WORD_AFTER.match(text, found[0]) if found else None
    counts = following and lexicon.knows(language) and not lexicon.grammar(following.group(1), language)
    return None if counts else found


def _pattern(keys: list[str]) -> re.Pattern:
    """One group per key, in order, each matched as whole words, a word ending in "*" as a word's start."""
    def word(w: str) -> str:
        return re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else r"(?!\w)")
    phrases = (r"\s+".join(word(w) for w in key.split()) for key in keys)
    return re.compile("|".join(rf"((?<!\w){phrase})" for phrase in phrases), re.IGNORECASE)
