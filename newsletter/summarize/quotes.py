"""Quotes, and who a text says spoke them.

    quote_key("We'll cut 320 Jobs,")                          # "well cut 320 jobs"
    speaking('"...," said Marta Quillon.', ["Marta Quillon"])   # ["Marta Quillon"]

Quotes are compared by their folded words (``quote_key``), so punctuation and case do not matter. A
speaker is read only where a sentence says so in so many words: a name within ``SPEECH_REACH`` words of a
word of speech, in its clause, and not where or to whom it was said ("told the Valmere Herald"); for "she
said", the subject of the sentences before. A bullet's quote and speaker are claims (``claims``); what a
source's quotes give to whom is what it can vouch for (``facts``).
"""

from __future__ import annotations

import re

from newsletter.summarize.changes import WORD as _WORD
from newsletter.summarize.languages import fold
from newsletter.summarize.names import ARTICLES, COMMON_STARTERS, NOT_NAMES, name_runs, name_tokens

# A quote is bounded: an unclosed quotation mark must not make each later one scan to the end.
MAX_QUOTE_CHARS = 600
_Q = f"{{2,{MAX_QUOTE_CHARS}}}"
QUOTE = re.compile(rf"“([^”]{_Q})”|\"([^\"]{_Q})\"|«([^»]{_Q})»|(?<![\w])‘([^’]{_Q}?)’(?![\w])|„([^“”]{_Q})[“”]")


def quote_key(quote: str) -> str:
    return " ".join(re.findall(r"\w+", fold(quote).replace("'", "")))


# Words that say someone spoke, in the languages bullets are written in.
SPEECH_WORDS = frozenset("""
    said says say told tells added adds argued warned wrote claimed insisted stated noted explained replied
    admitted according
    sagte sagt sagten erklärte erklärt betonte betont meinte warnte schrieb laut
    déclaré dit affirmé estimé ajouté souligné expliqué indiqué selon
    dijo dice afirmó declaró señaló explicó añadió aseguró advirtió según
    """.split())
# Words after which a name is where or to whom something was said, not who said it ("told the Valmere
# Herald", "said in Brindle", "from Velmouth Rail").
_NOT_A_SPEAKER_AFTER = frozenset("""to in at with from for on into by about against of told tells
    in im am an aus bei mit nach vor von zu zur zum gegenüber des à au aux en chez avec pour contre de du a
    con desde para ante del""".split())
SPEECH_REACH = 8  # words between a word of speech and a name it gives the words to


def speaking(text: str, names: list[str]) -> list[str]:
    """Of ``names`` (as written in ``text``), those within ``SPEECH_REACH`` words of a word of speech in
    their clause, and not right after a preposition."""
    words = [(m.group(0), m.start()) for m in _WORD.finditer(text)]
    speech = [k for k, (w, _) in enumerate(words) if w.lower() in SPEECH_WORDS]
    if not speech:
        return []
    out = []
    for name in names:
        at = text.find(name)
        if at < 0:
            continue
        k = next((i for i, (_, start) in enumerate(words) if start >= at), None)
        if k is None:
            continue
        before = k - 1
        while before >= 0 and fold(words[before][0]) in ARTICLES:  # "to the Valmere Herald"
            before -= 1
        if before >= 0 and fold(words[before][0]) in _NOT_A_SPEAKER_AFTER:
            continue
        if any(abs(k - v) <= SPEECH_REACH and not _CLAUSE_BETWEEN.search(text, *sorted((at, words[v][1])))
               for v in speech):
            out.append(name)
    return out


_CLAUSE_BETWEEN = re.compile(r"[;!?]")  # a bullet and a source sentence are one sentence each: "." is an abbreviation's


# Who a source sentence gives its quote to: every name near a word of speech in it, outside the quote and
# not where or to whom it was said ("...," said Velmouth Rail spokeswoman Ilse Marten; Edda Morn, 58, chief
# executive of Velmouth Rail, said). For "she said", the names of the sentence before that does not open
# with "she" or "his". A sentence with no word of speech, or one in another language, is not read: there
# the gate cannot tell who spoke, so it refuses no one.
_PRONOUN_SAID = re.compile(r"\b(?:he|she)\s+(?:said|says|told|added|warned|insisted)\b|"
                           r"\b(?:said|says|added|warned)\s+(?:he|she)\b", re.IGNORECASE)
_PRONOUN_START = re.compile(r"\s*(?:he|she|his|her)\b", re.IGNORECASE)
PRONOUN_REACH = 3  # sentences looked back through for the one a "she said" points at


def quoted_sentences(sentences: list[str]) -> list[tuple[str, frozenset[str], bool]]:
    """For each sentence holding a quote: its words as quotes are compared, the name words of whoever it
    gives the quote to, and whether it gives it to anyone by name."""
    out = []
    for k, sentence in enumerate(sentences):
        if not QUOTE.search(sentence):
            continue
        around = QUOTE.sub(" , ", sentence)
        speaker = _said_by(around)
        if not speaker and _PRONOUN_SAID.search(around):
            speaker = _subject_before(sentences[max(0, k - PRONOUN_REACH):k])
        out.append((f" {quote_key(sentence)} ", frozenset(speaker), bool(speaker)))
    return out


def _said_by(text: str) -> set[str]:
    """The name words near a word of speech in ``text`` (``speaking``)."""
    return {t for run in speaking(text, name_runs(text)) for t in name_tokens(run)
            if t not in NOT_NAMES and t not in COMMON_STARTERS}


def _subject_before(sentences: list[str]) -> set[str]:
    """The name words of the nearest of ``sentences`` (in order, the last nearest) that names anyone and
    does not open with "she" or "his" (which point further back); every name of it, as the source may
    name a place or a company beside the person."""
    for sentence in reversed(sentences):
        if _PRONOUN_START.match(sentence):
            continue
        return {t for run in name_runs(sentence) for t in name_tokens(run) if t not in NOT_NAMES}
    return set()
