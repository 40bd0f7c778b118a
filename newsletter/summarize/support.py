"""Whether a bullet's own words are in the sources it cites: the gate's check of what a bullet says.

    words = SourceWords.of(text, "en")                 # one source, read once per story
    unsupported("Crews struck because pay was cut.", [words], "en")   # a Claim("cause", ...) or None
    better_source(text, cited, others, "en")           # the other source a wrongly cited bullet is from

A bullet may hold no number, name, date or quote and still say what no source says. Words are compared
as Snowball stems of content words (``newsletter.text``: the stop words of the bullet's language out,
diacritics folded), and a word is held when a cited source has its stem, a stem with the same first
five letters ("restrict" for "restrictions") or, in a language that compounds, a part of it
("Stadtverwaltung" by "Verwaltung", "Strecke" by "Straßenbahnstrecke"). What a source holds is its
whole text (outlet, title and body): a faithful summary joins sentences, so only a bag of the whole
source keeps it. Four things are refused; everything else passes:

- ``wording``: the cited sources hold under half of the bullet's words while another source of the
  story holds four fifths of them, three of them ones the cited sources lack: a sentence cited to
  the wrong source. The gate re-cites it there (``better_source``);
- ``content``: the cited sources hold under a fifth of four or more words. Real paraphrase keeps more:
  every faithful bullet of the sets it was built on keeps a quarter or more (BENCHMARKS.md, "Meaning");
- ``cause``: a clause after a word that gives a reason ("because", "weil", "parce que", "porque")
  whose words the cited sources hold under half of (two words or more): an invented motive. A clause
  is the words after its cue up to the next comma or stop;
- ``stance``: the bullet says someone welcomed what the source sentence most like it says they
  opposed, or the other way round ("approve" and "oppose" word beginnings), neither negated.

English's words are here; another language's come from its locale file (``[grounding] cause``,
``approve``, ``oppose``, with its ``negations``); a language with none of
them gets only ``wording`` and ``content``. A bullet in another language than a source it cites is not
judged here at all: its words cannot be compared with the source's (the reader's language differs from
the sources' often, ``[newsletter] language``); nor is one mostly in a script written without spaces (Chinese,
Japanese, Thai), whose clauses would read as words no source writes.

What word overlap cannot see, and this does not catch: a reversal or overstatement in the story's own
words ("Greyfin refused talks" where it offered them), an invented claim made of words the source uses
elsewhere, a cause whose words are the source's, and speculation. A forecast is not judged by its cue
("could", "likely", "könnte", "pourrait"), nor an overstatement by a word that makes a claim total
("all", "every"): "every night" is a faithful "nightly", and "cada semana" a faithful "semanal". A
faithful "why this matters" bullet is a hedged inference in new words ("the project could encourage more
homes on disused land"), and the clause after a forecast word refused two such of 13 in
meaning_heldout.json's first run; only a forecast so far from the source that the whole bullet falls
under ``content``'s floor is refused. That needs a model of entailment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from newsletter import locales
from newsletter.language import language_tag
from newsletter.summarize.claims import Claim
from newsletter.summarize.languages import fold
from newsletter.summarize.lexicon import COMPOUNDING
from newsletter.text import UNSPACED_RUN

LOW_SHARE = 0.2  # under this share of a bullet's words in its cited sources, it says something else
LOW_MIN_WORDS = 4  # fewer words than this are too few to judge by share ("A crowd of 41,200 watched.")
WRONG_CITE_SHARE = 0.5  # a bullet whose cited sources hold less than this...
OTHER_SOURCE_SHARE = 0.8  # ...and another source this much...
MOVED_WORDS = 3  # ...with this many of its words that only the other one has, is that other one's
CLAUSE_SHARE = 0.5  # a reason's clause needs this share of its words in the cited sources
CLAUSE_MIN_WORDS = 2
PREFIX = 5  # letters two stems must share to count as one word in two forms
PART = 4  # shortest part of a compound that holds it

ENGLISH = {
    "cause": ["because", "due to", "owing to", "as a result of", "in order to", "so that", "in a bid to", "aimed at",
              "meant to", "blamed", "blames", "driven by", "caused by", "in response to"],
    # Word beginnings, so whole enough to start no other word: "hail" began "hailstorm", "oppos" "opposite",
    # "object" "objective".
    "approve": ["welcom", "approv", "prais", "hailed", "applaud", "celebrat", "endors", "embrac"],
    "oppose": ["oppose", "opposing", "opposition", "reject", "refus", "criticis", "criticiz", "condemn", "denounc",
               "objected", "objecting", "objection", "protest"],
    "negations": ["not", "no", "never", "without"],  # "didn't" is read as "did not" (``_polarity``)
}
REASONS = {
    "wording": "words from another source than the cited one",
    "content": "words not in the cited source",
    "cause": "reason not in the cited source",
    "stance": "stance the cited source takes the other way",
}


def reason(kind: str) -> str:
    """How the run report names a refused bullet's failure of ``kind`` (a claim's or one of the above)."""
    return REASONS.get(kind, f"{kind} not in the cited source")

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_LETTERS = re.compile(r"[^\W\d_]+")
_CLAUSE_END = re.compile(r"[,;:.!?()\"“”«»]")
# Split at its apostrophe, "didn't" would be "didn" and "t", neither a negation.
_CONTRACTED_NOT = re.compile(r"n['’]t(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Words:
    """A language's words for the rules above."""

    cause: re.Pattern | None
    approve: tuple[str, ...]
    oppose: tuple[str, ...]
    negations: frozenset[str]


def _phrases(words: list[str]) -> re.Pattern | None:
    if not words:
        return None
    # A phrase that ends in an apostrophe ("parce qu'") runs into the next word.
    alternatives = "|".join(re.escape(w) + ("" if w.endswith("'") else r"(?![\w'])")
                            for w in sorted((fold(w) for w in words), key=len, reverse=True))
    return re.compile(rf"(?<![\w'])(?:{alternatives})", re.IGNORECASE)


@cache
def words_of(language: str) -> Words:
    tag = language_tag(language) or "en"
    if tag == "en":
        table = ENGLISH
    else:
        found = locales.resolve(tag)
        table = locales.locale(found).grounding if found else {}
    return Words(_phrases(table.get("cause", [])), tuple(fold(w.lower()) for w in table.get("approve", [])),
                 tuple(fold(w.lower()) for w in table.get("oppose", [])),
                 frozenset(fold(w.lower()).replace("'", "").replace("’", "") for w in table.get("negations", [])))


locales.derived(words_of.cache_clear)  # a config's own language file replaces these words


@cache
def _stops(language: str) -> frozenset[str]:
    from newsletter.group.features import stop_words_and_dates
    from newsletter.text import stop_words

    return frozenset(fold(w) for w in (stop_words("en") if language == "en" else stop_words_and_dates(language)))


def stems(text: str, language: str) -> list[str]:
    """The stems of the content words of ``text``, in order, read in ``language``."""
    from newsletter.text import stem

    stops = _stops(language)
    out = []
    for m in _WORD.finditer(fold(text.lower())):
        word = re.split(r"['’]", re.sub(r"['’]s$", "", m.group()))[-1]  # "council's", "l'agence"
        if len(word) > 1 and word not in stops:
            out.append(stem(word, language))
    return out


@dataclass(frozen=True)
class SourceWords:
    """What one source's words can vouch for."""

    language: str
    stems: frozenset[str]
    prefixes: frozenset[str]
    sentences: tuple[str, ...]

    @classmethod
    def of(cls, text: str, language: str | None, sentences: list[str] | None = None) -> SourceWords:
        tag = language_tag(language or "en") or "en"
        found = frozenset(stems(text, tag))
        return cls(tag, found, frozenset(s[:PREFIX] for s in found if len(s) >= PREFIX), tuple(sentences or ()))

    def holds(self, stem: str) -> bool:
        if stem in self.stems or (len(stem) >= PREFIX and stem[:PREFIX] in self.prefixes):
            return True
        if self.language in COMPOUNDING and len(stem) >= PART:
            # A part of the bullet's word is the source's ("Stadtverwaltung": "Verwaltung"), or the bullet's word
            # is a part of one ("Strecke" in "Straßenbahnstrecke").
            if any(stem[:k] in self.stems or stem[k:] in self.stems for k in range(PART, len(stem) - PART + 1)):
                return True
            return any(len(s) > len(stem) and stem in s for s in self.stems)
        return False


def _share(found: list[str], sources: list[SourceWords]) -> float:
    if not found:
        return 1.0
    return sum(any(s.holds(w) for s in sources) for w in found) / len(found)


def judged(text: str, language: str, sources: list[SourceWords]) -> bool:
    """Whether ``text``, a bullet in ``language``, can be compared word for word with every one of ``sources``:
    not in a script written without spaces, where a clause would read as one word no source writes. A bullet
    mostly in another script is judged: a name in Chinese characters in an English one is one word of many."""
    tag = language_tag(language) or "en"
    return bool(sources) and all(s.language == tag for s in sources) and not _mostly_unspaced(text)


def _mostly_unspaced(text: str) -> bool:
    unspaced = len(UNSPACED_RUN.findall(text))
    return unspaced > 0 and 2 * unspaced >= sum(map(len, _LETTERS.findall(text)))


def unsupported(text: str, cited: list[SourceWords], language: str) -> Claim | None:
    """The first of ``text``'s statements that ``cited`` does not hold (see the module's doc), or None. Not
    judged (None) when a cited source is in another language than the bullet."""
    if not judged(text, language, cited):
        return None
    tag = language_tag(language) or "en"
    found = stems(text, tag)
    if len(found) >= LOW_MIN_WORDS and _share(found, cited) < LOW_SHARE:
        return Claim("content", ", ".join(w for w in found if not any(s.holds(w) for s in cited)))
    words = words_of(tag)
    folded, at = _folded(text)
    for m in words.cause.finditer(folded) if words.cause else ():
        clause = _CLAUSE_END.split(folded[m.end():], maxsplit=1)[0]
        said = stems(clause, tag)
        if len(said) >= CLAUSE_MIN_WORDS and _share(said, cited) < CLAUSE_SHARE:
            return Claim("cause", text[at[m.start()]:at[m.end() + len(clause)]].strip())
    clash = _stance_clash(text, found, cited, words, tag)
    return Claim("stance", clash) if clash else None


def _folded(text: str) -> tuple[str, list[int]]:
    """``fold(text)``, with the place in ``text`` of each of its characters: a span found in it is shown as written."""
    out, at = [], []
    for k, c in enumerate(text):
        f = fold(c)
        out.append(f)
        at += [k] * len(f)
    return "".join(out), at + [len(text)]


def _polarity(text: str, words: Words) -> set[int]:
    """1 for a word of approval, -1 of opposition; {0} when a negation stands in the three words before one."""
    found: set[int] = set()
    letters = [w.lower() for w in _LETTERS.findall(_CONTRACTED_NOT.sub(" not", fold(text)))]
    for k, w in enumerate(letters):
        sign = 1 if words.approve and w.startswith(words.approve) else -1 if words.oppose and w.startswith(
            words.oppose) else 0
        if sign:
            if words.negations & set(letters[max(0, k - 3):k]):
                return {0}
            found.add(sign)
    return found


def _stance_clash(text: str, found: list[str], cited: list[SourceWords], words: Words, language: str) -> str | None:
    """The cited sentence most like the bullet, where it takes the other side than the bullet does."""
    said = _polarity(text, words)
    if len(said) != 1 or 0 in said:
        return None
    mine = set(found)
    best, overlap = None, 1  # a sentence sharing two words or more
    for source in cited:
        for sentence in source.sentences:
            shared = len(mine & set(stems(sentence, language)))
            if shared > overlap:
                best, overlap = sentence, shared
    if best is None:
        return None
    theirs = _polarity(best, words)
    return text if theirs and 0 not in theirs and not theirs & said else None


def better_source(text: str, cited: list[SourceWords], others: dict[int, SourceWords], language: str) -> int | None:
    """The one other source (its number) that holds a bullet its cited sources do not: see ``wording``."""
    if not judged(text, language, cited):
        return None
    tag = language_tag(language) or "en"
    found = stems(text, tag)
    if not found or _share(found, cited) >= WRONG_CITE_SHARE:
        return None
    lacking = [w for w in found if not any(s.holds(w) for s in cited)]
    best, best_share = None, OTHER_SOURCE_SHARE
    for n, source in others.items():
        if source.language != tag:
            continue
        share = _share(found, [source])
        if share >= best_share and sum(source.holds(w) for w in lacking) >= MOVED_WORDS:
            best, best_share = (n, share) if share > best_share or best is None else (best, best_share)
    return best


def misplaced(text: str, cited: list[SourceWords], others: dict[int, SourceWords], language: str) -> Claim | None:
    """A ``wording`` claim when another source holds the bullet its cited sources do not: the words they
    lack, and as its key that source's number (``better_source``)."""
    holder = better_source(text, cited, others, language)
    if holder is None:
        return None
    tag = language_tag(language) or "en"
    return Claim("wording", ", ".join(w for w in stems(text, tag) if not any(s.holds(w) for s in cited)), holder)
