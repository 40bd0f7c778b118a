"""Splitting news text into sentences, and trimming one to fit a line.

News prose is regular enough that a rule-based splitter does well: a sentence
ends at . ! or ? (optionally followed by closing quotes or brackets) when the
next word starts a new sentence. The rules below keep "Dr. Amara Quist",
"3.25%", "U.S." and "e.g. this" in one piece, and split after a closing quote
('..." Next') rather than inside it. Nothing here downloads models or data.
"""

from __future__ import annotations

import re

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

# A candidate end: terminal punctuation, any closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s+)")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, whitespace normalised, in order. Paragraph breaks always split."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\r?\n(?=\s*[-•*]\s)", text or ""):
        para = " ".join(paragraph.split())
        if para:
            out.extend(_split_paragraph(para))
    return out


def _split_paragraph(para: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for m in _END.finditer(para):
        end = m.end()
        if not _is_boundary(para, m.start(), end):
            continue
        piece = para[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = para[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_boundary(para: str, punct_at: int, end: int) -> bool:
    nxt = para[end:].lstrip()
    if not nxt:
        return True
    first = nxt[0]
    # The next sentence starts with a capital, a digit or an opening quote; "e.g. this" does not.
    if first in _OPENERS:
        first = nxt[1:2] or first
    if not (first.isupper() or first.isdigit() or first in _OPENERS):
        return False
    if para[punct_at] != ".":
        return True  # ! ? … end a sentence even before a capital name
    word = _WORD_BEFORE.search(para[:punct_at])
    if not word:
        return True
    token = word.group(1).lower().strip(".")
    if token in ABBREVIATIONS:
        return False
    # A single capital initial ("J. Smith") or an acronym with dots ("U.N.") is not an end.
    raw = word.group(1)
    if re.fullmatch(r"[A-Z]", raw) or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", raw):
        return False
    return True


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
