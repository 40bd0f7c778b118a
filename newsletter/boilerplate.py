"""Lines publishers and podcast hosts add to entries ("Read more", "See ... for privacy information"):
never a bullet, a dek or a blurb. What they say is data, per language, in boilerplate.toml.

    is_boilerplate("Weiterlesen")                                  # True
    is_boilerplate("The regulator fined the bank for privacy breaches.")   # False: news, not a prompt

Every sentence the extractive writer considers goes through here, so the check is built to be cheap:
the word-edged patterns become one pattern tried only at word edges, shaped as a tree of their
literal beginnings ("read more", "re(view|ad) our ...") so that a word edge costs a character test or
two rather than one attempt per pattern; the few others (scripts without word edges) are another
pattern, and whole-line entries a set lookup. Lines that are boilerplate by how they start (a byline,
"Publication date: ...") are one more pattern, tried at the sentence's start alone.

Journal and preprint feeds put a label before the first sentence ("Abstract: We introduce ...",
"<b>Background</b> The survey began ..."): ``without_lead`` drops it and keeps the sentence.

    without_lead("arXiv:2611.04411v1 Announce Type: new Abstract: We introduce a method.")
    # "We introduce a method."
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

DATA = "boilerplate.toml"
_WORD_EDGE = r"\b"


@dataclass(frozen=True)
class _Rules:
    edged: re.Pattern[str] | None  # found anywhere, tried at word edges only
    other: re.Pattern[str] | None  # found anywhere (scripts without word edges)
    starts: re.Pattern[str] | None  # matched at the sentence's start
    lines: frozenset[str]  # whole sentences, bare
    leads: re.Pattern[str] | None  # a label before a sentence: dropped, the sentence kept


@cache
def _rules() -> _Rules:
    data = tomllib.loads(resources.files(__package__).joinpath(DATA).read_text(encoding="utf-8"))

    def every(key: str) -> list[str]:
        return [p for lang in data.values() for p in lang.get(key, ())]

    def either(patterns: list[str], flags: int = 0) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{p})" for p in patterns), flags) if patterns else None

    patterns, labels = every("patterns"), every("labels")
    edged = [e for p in patterns if p.startswith(_WORD_EDGE) for e in _expanded(p.removeprefix(_WORD_EDGE))]
    # Longest first: "graphical abstract" is dropped whole, not as "graphical" left over.
    leads = sorted([re.escape(label) for label in labels] + every("leads"), key=len, reverse=True)
    return _Rules(edged=re.compile(_WORD_EDGE + _tree(edged)) if edged else None,
                  other=either([p for p in patterns if not p.startswith(_WORD_EDGE)]),
                  starts=either(every("starts")),
                  lines=frozenset(_bare(line) for line in every("lines") + labels),
                  leads=either(leads, re.I))


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
    rules = _rules()
    text = sentence.lower()
    return bool((rules.edged and rules.edged.search(text)) or (rules.other and rules.other.search(text))
                or (rules.starts and rules.starts.match(text))
                or (len(text) < 40 and _bare(text) in rules.lines))


# What parts a label from its sentence: a colon, a bullet or a spaced dash; or a space alone when the
# sentence goes on with a capital or a digit ("Abstract Daphnia grazed ..."), which "Background checks
# will be required" does not.
_MARKED_END = re.compile(r"\s*:\s*|\s*[•·]\s*|\s+[-–—]\s+")
_SPACE_END = re.compile(r"\s+")
MAX_LEADS = 3  # "arXiv:… Announce Type: new", then "Abstract:": a few, never a loop over hostile text


def without_lead(sentence: str) -> str:
    """``sentence`` without the section labels and announce lines it starts with (``leads`` and
    ``labels`` in boilerplate.toml); unchanged when it has none, or when nothing would be left."""
    leads = _rules().leads
    for _ in range(MAX_LEADS):
        m = leads.match(sentence) if leads else None
        if not m:
            break
        marked = _MARKED_END.match(sentence, m.end())
        spaced = None if marked else _SPACE_END.match(sentence, m.end())
        end = marked or spaced
        rest = sentence[end.end():] if end else ""
        if not rest or (spaced and not (rest[0].isupper() or rest[0].isdigit())):
            break
        sentence = rest
    return sentence
