"""Ordinals: "the third vote", "die dritte Abstimmung", "die 3. Abstimmung", "son 3e vote", "su 3.ª votación".

    ordinals("Es war die 3. Abstimmung, der vierte Versuch.", reading("de"))   # [(3, span), (4, span)]
    english("its third vote in the 4th quarter")                             # {3, 4}

A bullet's ordinal is a claim (``claims``), held by a source that gives the same ordinal, in its own
language or in English, or the bare number ("Q3", "Platz 3"). Unread, "die vierte Abstimmung" passed where
the source says "third", and German "die 3. Abstimmung" was the number 3, which a source that says
"third" does not give. The words come from text2num (the languages whose number words are read, see
``languages``), the marks after digits from the locale file (``[grounding] ordinal_marks``: "." in German).
"First" and its kin are no claim, as "one" is none ("zum ersten Mal" paraphrases as often as it states);
an ordinal right after a number is a fraction ("tres cuartos", "un quinto": a fifth).
"""

from __future__ import annotations

import functools
import re

from newsletter.summarize.languages import _MISREAD_ORDINALS, _WORD_TOKEN, Reading, _alternation, _Token, fold

Span = tuple[int, int]

_ENGLISH = {w: n for n, w in enumerate("""zeroth first second third fourth fifth sixth seventh eighth ninth tenth
    eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth""".split())}
_ENGLISH.update(quarter=4, quarters=4)  # the fraction Spanish writes as its ordinal: "un cuarto", "a quarter"
_ENGLISH_RX = re.compile(rf"\b(?:(\d{{1,3}})(?:st|nd|rd|th)|({'|'.join(_ENGLISH)}))\b", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]{2}")


def english(text: str) -> set[int]:
    """The ordinals an English text gives, in words or digits ("third", "3rd")."""
    return {int(m.group(1)) if m.group(1) else _ENGLISH[m.group(2).lower()] for m in _ENGLISH_RX.finditer(text)}


def ordinals(text: str, r: Reading) -> list[tuple[int, Span]]:
    """Each ordinal of ``text`` as ``r``'s language writes it, with its span; none of value one in words."""
    rx = _marks(r.ordinal_marks)
    out = [(int(m.group(1)), m.span()) for m in rx.finditer(text)] if rx else []
    if r.spelled and _LETTERS.search(text):
        out += _words(text, r.spelled)
    return out


@functools.cache
def _marks(marks: tuple[str, ...]) -> re.Pattern | None:
    """Digits with one of ``marks`` before a word: "3. Abstimmung", "3e vote" (not "3.5", nor a sentence's end)."""
    if not marks:
        return None
    return re.compile(rf"(?<![\w.,])(\d{{1,3}})(?:{_alternation(marks)})(?=[^\S\n]+[^\W\d_])", re.IGNORECASE)


def _words(text: str, language: str) -> list[tuple[int, Span]]:
    from text_to_num import find_numbers

    tokens = [_Token(m.group(), m.start(), False) for m in _WORD_TOKEN.finditer(text)]
    out, after = [], -1
    for found in find_numbers(tokens, language, threshold=0):
        first, last = tokens[found.start], tokens[found.end - 1]
        misread = fold(first.word) in _MISREAD_ORDINALS.get(language, ())  # "tercer": third, read as 3
        whole = found.value > 1 and found.value == int(found.value)
        if (found.is_ordinal or misread) and whole and found.start != after:
            out.append((int(found.value), (first.start, last.start + len(last.word))))
        after = found.end
    return out
