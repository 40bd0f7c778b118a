"""Names: which capitalised words name someone or something, and how the sources write their words.

    vocab = Vocabulary.of(source_texts)
    name_runs("Okonkwo said the Bank of Valmere would wait.", vocab)   # ["Okonkwo", "Bank of Valmere"]
    name_tokens("Okonkwo's Valmere-Brücke")                           # ["okonkwo", "valmere", "brucke"]

A capitalised word opening a sentence is a name when the sources write it as one, or when it looks
like one and no source writes it in lower case (``Vocabulary``); titles, months and weekdays are never
names. Names are compared as folded tokens: diacritics, case, possessives and hyphens do not matter.
Which names in a bullet are claims is ``claims``'; who said a quote is ``quotes``'.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.summarize import lexicon
from newsletter.summarize.changes import WORD as _WORD
from newsletter.summarize.dates import MONTHS, RELATIVE_DAYS, WEEKDAYS
from newsletter.summarize.languages import fold
from newsletter.summarize.sentences import ABBREVIATIONS
from newsletter.text import stem as text_stem

# Articles, and prepositions merged with one: a run of capitalised words after one is an institution or a
# place ("la Maison Blanche", "im Weißen Haus"), not a person (``claims._full_names``).
ARTICLES = frozenset("""
    the a an der die das den dem des ein eine einen einem einer eines im am vom zum zur beim ins ans
    le la les l un une du au aux el los las una unos unas del al lo il gli i het een o os as um uma do da dos
    no na ao
    """.split())
# Words that join the parts of a name ("Bank of Valmere", "Ana de la Cruz").
NAME_CONNECTORS = frozenset("of de del la le van von der den du da al bin ibn y &".split())
# Capitalised words that are not names: titles go with a name, the rest are dates or grammar.
NOT_NAMES = frozenset(
    """
    mr mrs ms dr prof sir dame lord lady president minister prime chancellor secretary senator governor mayor
    judge justice chief ceo cfo chair chairman chairwoman director general commissioner spokesperson
    spokesman spokeswoman king queen prince princess pope rev i
    """.split()) | frozenset(MONTHS) | frozenset(WEEKDAYS) | frozenset(RELATIVE_DAYS)
# Words that often open a sentence: capitalised there by grammar, not because they name someone.
COMMON_STARTERS = frozenset(
    """
    a an the this that these those it its he she they we you his her their our my your there here
    in on at by for from with without after before during while when where why how what which who whom
    but and or so yet if as because although though since until unless once also still even only just
    some many most more few several all both each every any no none other another such much
    officials critics analysts experts residents workers police investigators regulators lawmakers
    authorities researchers scientists economists observers voters users customers patients
    meanwhile however instead now then today yesterday tomorrow later earlier first second third last next
    according under over about around among between despite including nearly almost roughly about
    new old big small high low major top local national international global
    """.split())

def name_tokens(text: str) -> list[str]:
    """Folded words for name matching: possessives dropped, hyphenated parts split."""
    out: list[str] = []
    for w in _WORD.findall(fold(text)):
        w = re.sub(r"'s?$", "", w)
        out += [p for p in w.split("-") if p]
    return out


def stem(word: str) -> str:
    """The stem every stage uses (newsletter.text), of the folded word without its possessive."""
    return text_stem(re.sub(r"'s?$", "", fold(word)))


@dataclass(frozen=True)
class Vocabulary:
    """How a story's sources write their words: what is grammar and what is a name."""

    lower: frozenset[str] = frozenset()  # stems the sources write in lower case: capitalised, still not names
    names: frozenset[str] = frozenset()  # stems the sources capitalise mid-sentence: names wherever they stand
    # The first WRITTEN_PREFIX letters of every folded word the sources write: "Quantisierung" is written
    # where a source says "quantization", "Pettersens" where it names Pettersen.
    prefixes: frozenset[str] = frozenset()
    # The scripts the sources are written in (at least MAIN_SCRIPT_SHARE of their words): a name in
    # another script is transliterated ("Okonkvo" from "Оконкво"), and no source can vouch for its spelling.
    scripts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, texts: list[str], tokens: Iterable[list[str]] = ()) -> Vocabulary:
        """``tokens``: each text's ``name_tokens``, where names are read across languages (``writes``)."""
        lower, names = set(), set()
        for text in texts:
            for m, at_start in words_with_starts(text):
                word = m.group(0)
                if word[0].islower():
                    lower.add(stem(word))
                elif not at_start:
                    names.update(stem(part) for part in word.split("-") if part)
        counts = Counter(token[:WRITTEN_PREFIX] for words in tokens for token in words)
        in_script = Counter()
        for prefix, n in counts.items():
            in_script[script(prefix)] += n
        total = sum(in_script.values())
        scripts = frozenset(s for s, n in in_script.items() if n >= MAIN_SCRIPT_SHARE * total)
        return cls(frozenset(lower), frozenset(names - lower), frozenset(counts), scripts)

    def writes(self, token: str) -> bool:
        """Whether a source writes this folded word, or one that begins the same way."""
        return token[:WRITTEN_PREFIX] in self.prefixes


WRITTEN_PREFIX = 5
MAIN_SCRIPT_SHARE = 0.2  # a Russian text's few Latin brand names do not make Latin one of its scripts


def script(word: str) -> str:
    """The script a word's first letter is written in, as Unicode names it: "LATIN", "CYRILLIC", "GREEK"."""
    return unicodedata.name(word[0], "?").split(" ", 1)[0] if word else "?"


_SENTENCE_BREAK = re.compile(r"[.!?:;\"“”«»(\[—–]|\s[-]\s")


def words_with_starts(text: str):
    """Each word with whether it opens a sentence (or a quote, or a clause after a colon)."""
    prev_end, prev_word = 0, ""
    for m in _WORD.finditer(text):
        gap = text[prev_end:m.start()]
        after_abbreviation = gap.strip() == "." and prev_word.lower() in ABBREVIATIONS  # "Dr. Quist"
        yield m, prev_end == 0 or (bool(_SENTENCE_BREAK.search(gap)) and not after_abbreviation)
        prev_end, prev_word = m.end(), m.group(0)


def name_runs(text: str, vocab: Vocabulary = Vocabulary(), known_only: bool = False) -> list[str]:
    """Runs of capitalised words that name someone or something, as written; ``known_only``: only
    words the sources capitalise mid-sentence (``vocab.names``) count."""
    runs: list[str] = []
    current: list[str] = []
    prev_end = 0
    for m, at_start in words_with_starts(text):
        word = m.group(0)
        joined = text[prev_end:m.start()].strip() in ("", "-") and not at_start
        if current and not joined:
            runs.append(_trim(current))
            current = []
        opens_attribution = at_start and (bool(_ATTRIBUTION.match(text, m.end())) or bool(_POSSESSIVE.search(word)))
        is_name = is_known_name(word, vocab) if known_only else _is_name_word(
            word, at_start and not opens_attribution, vocab)
        if is_name:
            current.append(word)
        elif current and word.lower() in NAME_CONNECTORS and joined:
            current.append(word)
        elif current:
            runs.append(_trim(current))
            current = []
        prev_end = m.end()
    if current:
        runs.append(_trim(current))
    return [r for r in runs if r]


# "Okonkwo said", "Okonkwo's office": a sentence-opening word that is someone, whoever the source names.
_POSSESSIVE = re.compile(r"['’]s?$")
_ATTRIBUTION = re.compile(r"\s(?:said|says|told|tells|announced|added|argued|warned|wrote|claimed|"
                          r"confirmed|denied|insisted|stated|noted|explained|replied|admitted)\b")


def _trim(words: list[str]) -> str:
    while words and words[-1].lower() in NAME_CONNECTORS:
        words = words[:-1]
    return " ".join(words)


def is_known_name(word: str, vocab: Vocabulary) -> bool:
    bare = re.sub(r"['’]s?$", "", word)
    return (word[0].isupper() and len(word) > 1 and fold(bare) not in NOT_NAMES
            and all(stem(part) in vocab.names for part in bare.split("-") if part))


def _is_name_word(word: str, at_start: bool, vocab: Vocabulary) -> bool:
    if not word[0].isupper() or len(word) < 2:
        return False
    bare = re.sub(r"['’]s?$", "", word)
    low = fold(bare)
    if low in NOT_NAMES or (at_start and low in COMMON_STARTERS):
        return False
    if bare.isupper():
        return True  # an acronym: NATO, VPN
    if at_start:  # capitalised by grammar, unless a source writes it as a name
        if any(stem(part) in vocab.names for part in bare.split("-") if part):
            return True
        # ...or it looks like one and no source writes it in lower case: "Samsung also bid" and "Brennick
        # approved" open sentences as names do. A name is a word of none of the languages ("Brennick") or as
        # common in each as in English ("Samsung", "Tesla": ``lexicon.name_like``); an ordinary word opening
        # a sentence ("Analysts", "Shipping") is commonest in English.
        return (bool(vocab.lower or vocab.names) and stem(bare) not in vocab.lower
                and (not lexicon.ordinary(bare, "en") or lexicon.name_like(bare)))
    return stem(bare) not in vocab.lower
