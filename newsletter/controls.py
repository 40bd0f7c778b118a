"""Characters that must not reach a terminal, a mail header or a database as they are.

C0 and C1 controls and DEL move cursors, retitle terminals, inject header lines (CR, LF) and
break PostgreSQL (NUL); bidi overrides and isolates make text read in another order than it is
stored. One definition for every place that refuses, strips or shows them.

    strip_controls(text)                   # feed text at parse time
    has_controls(address)                  # an address in a config or on the command line
    escape_controls(text)                  # what a terminal table prints: visible, inert
"""

from __future__ import annotations

import re

_CODES = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_LINES = (0x09, 0x0A)  # tab and newline: harmless, and bodies need them
_DROP_ALL = dict.fromkeys(_CODES)
_DROP_KEEP_LINES = dict.fromkeys(c for c in _CODES if c not in _LINES)
_ANY = re.compile("[" + "".join(re.escape(chr(c)) for c in _CODES) + "]")
_ANY_BUT_LINES = re.compile("[" + "".join(re.escape(chr(c)) for c in _CODES if c not in _LINES) + "]")


def strip_controls(text: str, *, keep_lines: bool = False) -> str:
    r"""``text`` without control and bidi-override characters; ``keep_lines`` keeps tab and newline (bodies).

    >>> strip_controls("a\x1b]0;pwned\x07b\u202ec\x00")
    'a]0;pwnedbc'
    """
    return text.translate(_DROP_KEEP_LINES if keep_lines else _DROP_ALL) if text else text


def has_controls(text: str) -> bool:
    return _ANY.search(text) is not None


def escape_controls(text: str) -> str:
    r"""Each control character (but tab and newline) as a visible escape such as ``\x1b``."""
    return _ANY_BUT_LINES.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
