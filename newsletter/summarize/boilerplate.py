"""Lines publishers and podcast hosts add to entries ("Read more", "See ... for privacy information"):
never a bullet, a dek or a blurb. What they say is data, per language, in boilerplate.toml.

    is_boilerplate("Weiterlesen")                                  # True
    is_boilerplate("The regulator fined the bank for privacy breaches.")   # False: news, not a prompt

Every sentence the extractive writer considers goes through here, so the check is built to be cheap:
the word-edged patterns form one alternation tried only at word edges, the few others (scripts
without word edges) another, and whole-line entries are a set lookup.
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
    edged = [p.removeprefix(_WORD_EDGE) for p in patterns if p.startswith(_WORD_EDGE)]
    other = [p for p in patterns if not p.startswith(_WORD_EDGE)]
    lines = frozenset(_bare(line) for lang in data.values() for line in lang.get("lines", ()))
    return (re.compile(rf"\b(?:{'|'.join(edged)})") if edged else None,
            re.compile("|".join(f"(?:{p})" for p in other)) if other else None,
            lines)


def _bare(line: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", line.lower()).split())


def is_boilerplate(sentence: str) -> bool:
    """Whether ``sentence`` is (or carries) a publisher's prompt or notice rather than news."""
    edged, other, lines = _rules()
    text = sentence.lower()
    return bool((edged and edged.search(text)) or (other and other.search(text))
                or (len(text) < 40 and _bare(text) in lines))
