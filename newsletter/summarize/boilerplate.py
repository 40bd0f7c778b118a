"""Lines publishers and podcast hosts add to entries ("Read more", "See ... for privacy information"):
never a bullet, a dek or a blurb. What they say is data, per language, in boilerplate.toml.

    is_boilerplate("Weiterlesen")                                  # True
    is_boilerplate("The regulator fined the bank for privacy breaches.")   # False: news, not a prompt

Every sentence the extractive writer considers goes through here, so the check is built to be cheap:
the word-edged patterns become one pattern tried only at word edges, shaped as a tree of their
literal beginnings ("read more", "re(view|ad) our ...") so that a word edge costs a character test or
two rather than one attempt per pattern; the few others (scripts without word edges) are another
pattern, and whole-line entries a set lookup.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

DATA = "boilerplate.toml"
_WORD_EDGE = r"\b"


@cache
def _rules() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None, frozenset[str]]:
    data = tomllib.loads(resources.files(__package__).joinpath(DATA).read_text(encoding="utf-8"))
    patterns = [p for lang in data.values() for p in lang.get("patterns", ())]
    edged = [e for p in patterns if p.startswith(_WORD_EDGE) for e in _expanded(p.removeprefix(_WORD_EDGE))]
    other = [p for p in patterns if not p.startswith(_WORD_EDGE)]
    lines = frozenset(_bare(line) for lang in data.values() for line in lang.get("lines", ()))
    return (re.compile(_WORD_EDGE + _tree(edged)) if edged else None,
            re.compile("|".join(f"(?:{p})" for p in other)) if other else None,
            lines)


_META = frozenset("\\()[].?*+{}|^$")
_QUANTIFIERS = "?*+{"
# A pattern that starts with a choice of plain words, "(see|read) our ...": one pattern per word.
_LEADING_CHOICE = re.compile(r"\(([^\\()\[\].?*+{}|^$]+(?:\|[^\\()\[\].?*+{}|^$]+)+)\)(?![?*+{])")


def _expanded(pattern: str) -> list[str]:
    m = _LEADING_CHOICE.match(pattern)
    if not m:
        return [pattern]
    return [e for word in m.group(1).split("|") for e in _expanded(word + pattern[m.end():])]


def _literal_start(pattern: str) -> tuple[str, str]:
    """``pattern`` split into its leading plain characters and the rest."""
    i = 0
    while i < len(pattern) and pattern[i] not in _META:
        i += 1
    if 0 < i < len(pattern) and pattern[i] in _QUANTIFIERS:
        i -= 1  # "ad ?choices": the quantifier belongs to the last plain character
    return pattern[:i], pattern[i:]


def _tree(patterns: list[str]) -> str:
    """One pattern matching what any of ``patterns`` matches, their literal beginnings shared as a tree."""
    root: dict = {}
    for p in patterns:
        start, rest = _literal_start(p)
        node = root
        for ch in start:
            node = node.setdefault(ch, {})
        node.setdefault("", []).append(rest)

    def emit(node: dict) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        alts += [f"(?:{rest})" if rest else "" for rest in node.get("", [])]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


def _bare(line: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", line.lower()).split())


def is_boilerplate(sentence: str) -> bool:
    """Whether ``sentence`` is (or carries) a publisher's prompt or notice rather than news."""
    edged, other, lines = _rules()
    text = sentence.lower()
    return bool((edged and edged.search(text)) or (other and other.search(text))
                or (len(text) < 40 and _bare(text) in lines))
