"""Plain text on lines of at most a given number of terminal columns, in any script.

``textwrap`` counts characters and breaks only at spaces, so a Japanese or Chinese
sentence (two columns a character, no spaces) ran on as one line of 260 columns.
Here widths are display columns (``rich.cells``), and a line may also break
between two wide characters, except before closing punctuation ("。", "」") and
after opening punctuation ("「"), which stay with the character they belong to.
A URL wider than a line stands whole on a line of its own (cut, it would no longer open); any other
word wider than a line (a feed's 5,000-letter "word") is cut into lines.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

# Wide scripts written without spaces: CJK ideographs and punctuation, kana, Hangul, full-width forms.
_WIDE = "\u2e80-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
# Marks that stay with the character before them, or (opening) the one after: full-width and Western.
_CLOSING = ("\u3001\u3002\u300d\u300f\u3009\u300b\u3011\uff09\uff0c\uff0e\uff01\uff1f\uff1a\uff1b\u30fc"
            ".,;:!?)]}%”’»")
_OPENING = "\u300c\u300e\u3008\u300a\u3010\uff08" + "([{“‘«"
# Where a run without spaces may break: beside a wide character, never before a closing mark or after
# an opening one.
_BREAK = re.compile(rf"(?:(?<=[{_WIDE}])|(?=[{_WIDE}]))(?<=.)(?=.)"
                    rf"(?<![{re.escape(_OPENING)}])(?![{re.escape(_CLOSING)}])")


# Whitespace a line may break at: not the no-break spaces, which keep "24 Nov" or French "10 %" on one line.
_SPACES = re.compile(r"[^\S\u00a0\u202f]+")


def wrap(text: str, width: int, *, first: str = "", indent: str = "") -> str:
    """``text`` with its whitespace folded, on lines of at most ``width`` columns: the first starts
    with ``first``, the rest with ``indent``. A no-break space joins two words on one line, and is
    written as a plain space."""
    lines: list[str] = []
    line, used = first, cell_len(first)
    empty = True  # nothing but the indent on this line yet
    room = max(1, width - cell_len(indent))
    for word in filter(None, _SPACES.split(text)):
        for k, piece in enumerate(_pieces(word, room)):
            gap = "" if empty or k > 0 else " "
            size = cell_len(piece)
            if not empty and used + len(gap) + size > width:
                lines.append(line)
                line, used, empty, gap = indent, cell_len(indent), True, ""
            line += gap + piece
            used += len(gap) + size
            empty = False
    if not empty:
        lines.append(line)
    return "\n".join(lines).replace("\u00a0", " ").replace("\u202f", " ")


_URL = re.compile(r"(?i)[a-z][a-z0-9+.-]*://|www\.")


def _pieces(word: str, room: int) -> list[str]:
    """Where ``word`` may break: between wide characters, and within a run wider than ``room`` that is
    not a URL, every ``room`` columns."""
    pieces = _BREAK.split(word)
    if _URL.search(word) or all(cell_len(p) <= room for p in pieces):
        return pieces
    cut: list[str] = []
    for piece in pieces:
        while cell_len(piece) > room:
            n, used = 0, 0
            while n < len(piece) and used + cell_len(piece[n]) <= room:
                used += cell_len(piece[n])
                n += 1
            n = max(n, 1)
            cut.append(piece[:n])
            piece = piece[n:]
        cut.append(piece)
    return cut
