"""How many times over a thing grew or shrank, as a sentence says it: "revenue tripled", "halved".

    claimed("Revenue tripled and costs halved.")   # [((8, 15), 3.0), ((26, 32), 0.5)]
    said("Sales were twice last year's.")          # [((11, 16), 2.0)]

A bullet that keeps every number and name but says "tripled" where its source says "doubled" states
what the source does not, and no number check sees it. So a bullet's multiple is a claim (``claims``),
held by a cited source that says the same multiple in any words or whose own move makes it ("to 300
from 100": ``facts``). Only verbs and "-fold" are a bullet's claim: "a double win" and "twice a week"
state no multiple. A source is read for every way of saying one ("twice", "half", "3x").
"""

from __future__ import annotations

import re

Span = tuple[int, int]

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
