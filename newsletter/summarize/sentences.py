"""Splitting news text into sentences, and trimming one to fit a line.

News prose is regular enough that a rule-based splitter does well: a sentence
ends at . ! or ? (optionally followed by closing quotes or brackets) when the
next word starts a new sentence. The rules below keep "Dr. Amara Quist",
"3.25%", "U.S." and "e.g. this" in one piece, and split after a closing quote
('..." Next') rather than inside it. Nothing here downloads models or data.

Other scripts end sentences with their own marks, followed by a space like
the Latin ones: Urdu ۔ and Arabic ؟, Devanagari and Bengali । ॥, Armenian ։,
Ethiopic ። ፧, Myanmar ။, Tibetan ། ༎, Khmer ។, the Greek question mark (U+037E,
drawn like a semicolon, and also typed as a plain semicolon after a Greek letter). In the scripts without
capitals (Arabic, the Indic ones, ...) any letter may start the next sentence. Chinese and Japanese end
at 。！？ with no space after, closing brackets 」』） kept with the sentence; a
quote followed by its attribution (「…。」と述べた。) splits after the quote, as a
quote standing alone would, and the writer skips the short attribution.
Thai and Lao mark no sentence end at all: their paragraphs stay whole.

Splitting is linear and lazy: each candidate end looks only at a few
characters around it, and ``iter_sentences`` yields as it goes, so a reader
that needs the first sentences of a megabyte text pays for those alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import regex

from newsletter.text import UNSPACED, UNSPACED_RUN

# Words that end with a period without ending the sentence (compared lower-case, without the dot).
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    inc ltd co corp plc llc bros dept univ assn est approx vs etc al fig vol pp ed eds
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    e.g i.e a.m p.m u.s u.k u.n e.u ph.d b.a m.a d.c
    """.split()
)
# Other languages' titles and units, and what papers cite with: abbreviations as they write them ("Hr.",
# "Ing.", "Sig.", "cf."), but in capitals English's acronyms ("head of HR.", "arranged by ING.").
CASED_ABBREVIATIONS = frozenset(
    """
    sra srta sres sras dra dras lic lcdo lcda ing arq avda dña excmo excma núm
    mme mmes mlle mlles sig sigg dott avv hr mio mrd tsd bzw vgl
    figs cf suppl
    """.split()
)
# Ordinary words elsewhere ("the art.", Spanish "dijo que no.", "booed the ref.", "filed with the SEC."),
# abbreviations only before a number: "art. 5", "No. 10", and what papers point with, "Eq. (3)", "Ref. [12]".
NUMBER_ABBREVIATIONS = frozenset("no nos art arts nr pág págs ca eq eqs eqn eqns ref refs sec secs ch".split())

# German closes a quote with the mark English opens one with ("„Ja.“ Dann"), and opens it low („ ‚).
_CLOSERS = "\"'”’“‘)]»›"
_OPENERS = "\"'“‘„‚([«‹"
_TERMINALS = ".!?…"
# Ends in other scripts, each followed by a space as in Latin text (see the module's docstring).
_SCRIPT_TERMINALS = "\u06d4\u061f\u0964\u0965\u0589\u1362\u1367\u104b\u0f0d\u0f0e\u17d4\u037e"
# Chinese and Japanese ends, which need no space after them, and the brackets and quotes that close on them.
_CJK_TERMINALS = "。！？｡"
_CJK_CLOSERS = "」』）〕】》〉”’\"'"
_SPACED = _TERMINALS + _SCRIPT_TERMINALS
_GREEK_QUESTION = ";"  # the Greek question mark as most keyboards type it: an end only after a Greek letter
_GREEK_LETTERS = "\u0370-\u03ff\u1f00-\u1fff"
_GREEK_LETTER = re.compile(f"[{_GREEK_LETTERS}]")
# What a finished sentence ends with: a mark of any script, or a quote or bracket closing on one. Not
# the ellipsis nor "]": a feed marks a cut with them ("…", "[…]").
_FINISHED = frozenset(_SPACED + _CJK_TERMINALS + _CLOSERS + _CJK_CLOSERS) - set("…]")

# A candidate end: a whole run of terminal punctuation, any closing quotes/brackets, then whitespace
# (a CJK end needs none). The lookbehinds and possessive runs make each run one attempt: a hostile
# "......" of any length costs one pass, not one pass per dot. Each branch starts with its mark and
# looks behind only then, so the many positions that hold no mark fail at their first character.
_END = re.compile(
    rf"[{_SPACED}](?<![{_SPACED}].)[{_SPACED}]*+(?:[{re.escape(_CLOSERS)}]| [»›])*+(?=\s)"
    rf"|[{_CJK_TERMINALS}](?<![{_CJK_TERMINALS}].)[{_CJK_TERMINALS}]*+[{re.escape(_CJK_CLOSERS)}]*+"
    rf"|{_GREEK_QUESTION}(?<=[{_GREEK_LETTERS}]{_GREEK_QUESTION})(?=\s)"
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\r?\n(?=\s*[-•*]\s)")
# The next sentence's first character and the one after it, past a space: French writes "« Nous".
_NEXT_START = re.compile(r"\s*(\S) ?([\s\S]?)")
# The word before a period is read from a bounded window: abbreviations and initials are short, so a
# longer word is simply not one, and each candidate end costs the same however long the paragraph.
WORD_WINDOW = 32
_WORD_BEFORE = re.compile(r"[\w.]+$")
_INITIAL = re.compile(r"[A-Z]")
_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
# Spanish writes a plural's initial twice, in pairs: "EE. UU.", "FF. AA."; one alone is "World War II." or "AA."
_DOUBLED_INITIAL = re.compile(r"([A-Z])\1")
_DOUBLED_AFTER = re.compile(r"\s?([A-Z])\1\.")
_DOUBLED_BEFORE = re.compile(r"(?<![\w.])([A-Z])\1\.\s$")
# German abbreviates with a pair of spaced initials, the first lower-case: "z. B.", "d. h.", "u. a.".
_SECOND_INITIAL = re.compile(r"\s?[^\W\d_]\.")
_FIRST_INITIAL = re.compile(r"(?<![\w.])([^\W\d_])\.\s$")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, whitespace normalised, in order. Paragraph breaks always split."""
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[str]:
    """``split_sentences`` one at a time, in time linear in what is consumed: a reader that needs the
    first few sentences of a long text stops splitting there."""
    start = 0
    text = text or ""
    for brk in _PARAGRAPH_BREAK.finditer(text):
        yield from _paragraph_sentences(text[start:brk.start()])
        start = brk.end()
    yield from _paragraph_sentences(text[start:])


def _paragraph_sentences(paragraph: str) -> Iterator[str]:
    para = " ".join(paragraph.split())
    if not para:
        return
    start = 0
    for m in _END.finditer(para):
        end = m.end()
        if not _is_boundary(para, m.start(), end):
            continue
        piece = para[start:end].strip()
        if piece:
            yield piece
        start = end
    tail = para[start:].strip()
    if tail:
        yield tail


def _is_boundary(para: str, punct_at: int, end: int) -> bool:
    if para[punct_at] in _CJK_TERMINALS:
        return True  # no abbreviations, no capitals: 。 always ends a sentence
    nxt = _NEXT_START.match(para, end)
    if not nxt:
        return True
    first = nxt.group(1)
    # The next sentence starts with a capital, a digit, an opening quote or a letter of a script
    # without capitals (Arabic, Devanagari, ...); "e.g. this" does not.
    if first in _OPENERS:
        first = nxt.group(2) or first
    uncased = first.isalpha() and not first.islower() and not first.isupper()
    if not (first.isupper() or first.isdigit() or first in _OPENERS or uncased):
        return False
    if para[punct_at] != ".":
        return True  # ! ? … end a sentence even before a capital name
    window_at = max(0, punct_at - WORD_WINDOW)
    word = _WORD_BEFORE.search(para, window_at, punct_at)
    if not word:
        return True
    if word.start() == window_at and window_at > 0 and _WORD_BEFORE.match(para, window_at - 1, window_at):
        return True  # longer than the window: no abbreviation or initial is that long
    raw = word.group()
    low = raw.lower().strip(".")
    if low in ABBREVIATIONS or (first.isdigit() and low in NUMBER_ABBREVIATIONS):
        return False
    if low in CASED_ABBREVIATIONS and not (len(low) > 1 and raw.isupper()):
        return False
    if len(raw) == 1 and _initial_pair(para, word.start(), end, raw):
        return False
    if _DOUBLED_INITIAL.fullmatch(raw) and _doubled_pair(para, word.start(), end):
        return False
    # A single capital initial ("J. Smith") or an acronym with dots ("U.N.") is not an end.
    return not (_INITIAL.fullmatch(raw) or _DOTTED_ACRONYM.fullmatch(raw))


def _doubled_pair(para: str, at: int, end: int) -> bool:
    """Whether the doubled initial at ``at`` ("UU") is half of a Spanish pair ("EE. UU.")."""
    return bool(_DOUBLED_AFTER.match(para, end) or _DOUBLED_BEFORE.search(para, max(0, at - 5), at))


def _initial_pair(para: str, at: int, end: int, letter: str) -> bool:
    """Whether the one letter at ``at`` is half of a pair of spaced initials ("z. B.", "u. a."):
    a lower-case one followed by a letter and a period, or any one after a lower-case initial."""
    if letter.islower() and _SECOND_INITIAL.match(para, end):
        return True
    first = _FIRST_INITIAL.search(para, max(0, at - 4), at)
    return first is not None and first.group(1).islower()


def ends_finished(sentence: str) -> bool:
    """Whether ``sentence`` ends as a finished sentence does: with a sentence mark of its script (a plain
    semicolon only after a Greek letter), or a quote or bracket closing on one; not with a cut (…)."""
    s = sentence.rstrip()
    if s.endswith(_GREEK_QUESTION):
        return len(s) > 1 and _GREEK_LETTER.match(s[-2]) is not None
    return bool(s) and s[-1] in _FINISHED


def trim(sentence: str, max_chars: int = 200) -> str:
    """Shorten a sentence to about ``max_chars`` at a clause or word boundary, marking the cut with …

    Only the sentence's own words are kept; nothing is rephrased.
    """
    s = " ".join(sentence.split())
    if len(s) <= max_chars:
        return s
    window = s[: max_chars + 1]
    # Prefer a clause boundary in the second half of the window, else a word boundary.
    for sep in ("; ", " — ", " – ", ", ", "；", "，", "、", "؛ ", "، "):
        cut = window.rfind(sep)
        if cut >= max_chars // 2:
            return s[:cut].rstrip(" ,;—–") + "…"
    return _at_word(window, max_chars)


def _at_word(window: str, max_chars: int) -> str:
    """``window`` (``max_chars`` and one more) cut after its last whole word, marked …; cut at ``max_chars``
    when it has no space."""
    cut = max(window.rfind(" "), window.rfind("\n"))
    return (window[:cut] if cut > 0 else window[:max_chars]).rstrip(" ,;:—–") + "…"


def head(text: str, max_chars: int) -> str:
    """The start of ``text`` in at most ``max_chars``, ending where a sentence ends (else after a whole
    word, marked …), its lines and paragraphs as written. A source cut mid-word ("71.2 perc") gave a
    model a fragment to repeat, which the grounding gate then refused."""
    if len(text) <= max_chars:
        return text
    window = text[:max_chars + 1]  # one more: whether a sentence's end is followed by the next's start
    end = 0
    for m in _END.finditer(window):
        if m.end() <= max_chars and _is_boundary(window, m.start(), m.end()):
            end = m.end()
    return window[:end] if end >= max_chars // 2 else _at_word(window, max_chars)


CHARS_PER_WORD = 2  # Chinese and Japanese words are one to three characters; two is the usual count
# regex's \w keeps vowel signs (Devanagari ि) in their word, as re's does not.
_WORDS = regex.compile(rf"(?V1)[{UNSPACED}]+|[\w--[{UNSPACED}]]+")
_ASCII_WORDS = re.compile(r"\w+")


def word_count(sentence: str) -> int:
    """Words in ``sentence``; a run of Chinese, Japanese or Thai counts one word per ``CHARS_PER_WORD``."""
    if sentence.isascii():
        return len(_ASCII_WORDS.findall(sentence))  # the same count, at re's speed: most news text
    if not UNSPACED_RUN.search(sentence):
        return len(_WORDS.findall(sentence))
    return sum(-(-len(w) // CHARS_PER_WORD) if UNSPACED_RUN.match(w) else 1 for w in _WORDS.findall(sentence))
