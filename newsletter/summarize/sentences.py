"""Splitting news text into sentences, and trimming one to fit a line.

News prose is regular enough that a rule-based splitter does well: a sentence
ends at . ! or ? (optionally followed by closing quotes or brackets) when the
next word starts a new sentence. The rules below keep "Dr. Amara Quist",
"3.25%", "U.S." and "e.g. this" in one piece, and split after a closing quote
('..." Next') rather than inside it. Nothing here downloads models or data.

Splitting is linear and lazy: each candidate end looks only at a few
characters around it, and ``iter_sentences`` yields as it goes, so a reader
that needs the first sentences of a megabyte text pays for those alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Words that end with a period without ending the sentence (compared lower-case, without the dot).
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    inc ltd co corp plc llc bros dept univ assn est approx vs etc al fig no nos vol pp ed eds
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    e.g i.e a.m p.m u.s u.k u.n e.u ph.d b.a m.a d.c
    """.split()
)

_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«"
_TERMINALS = ".!?…"

# A candidate end: a whole run of terminal punctuation, any closing quotes/brackets, then whitespace.
# The lookbehind and possessive runs make each run one attempt: a hostile "......" of any length
# costs one pass, not one pass per dot.
_END = re.compile(rf"(?<![{_TERMINALS}])[{_TERMINALS}]++[{re.escape(_CLOSERS)}]*+(?=\s)")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\r?\n(?=\s*[-•*]\s)")
_NEXT_START = re.compile(r"\s*(\S)([\s\S]?)")  # the next sentence's first two characters
# The word before a period is read from a bounded window: abbreviations and initials are short, so a
# longer word is simply not one, and each candidate end costs the same however long the paragraph.
WORD_WINDOW = 32
_WORD_BEFORE = re.compile(r"[\w.]+$")
_INITIAL = re.compile(r"[A-Z]")
_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")


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
    nxt = _NEXT_START.match(para, end)
    if not nxt:
        return True
    first = nxt.group(1)
    # The next sentence starts with a capital, a digit or an opening quote; "e.g. this" does not.
    if first in _OPENERS:
        first = nxt.group(2) or first
    if not (first.isupper() or first.isdigit() or first in _OPENERS):
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
    if raw.lower().strip(".") in ABBREVIATIONS:
        return False
    # A single capital initial ("J. Smith") or an acronym with dots ("U.N.") is not an end.
    return not (_INITIAL.fullmatch(raw) or _DOTTED_ACRONYM.fullmatch(raw))


def trim(sentence: str, max_chars: int = 200) -> str:
    """Shorten a sentence to about ``max_chars`` at a clause or word boundary, marking the cut with …

    Only the sentence's own words are kept; nothing is rephrased.
    """
    s = " ".join(sentence.split())
    if len(s) <= max_chars:
        return s
    window = s[: max_chars + 1]
    # Prefer a clause boundary in the second half of the window, else a word boundary.
    for sep in ("; ", " — ", " – ", ", "):
        cut = window.rfind(sep)
        if cut >= max_chars // 2:
            return s[:cut].rstrip(" ,;—–") + "…"
    cut = window.rfind(" ")
    if cut <= 0:
        cut = max_chars
    return s[:cut].rstrip(" ,;:—–") + "…"


def word_count(sentence: str) -> int:
    return len(re.findall(r"\w+", sentence))
