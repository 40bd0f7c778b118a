"""Lexical features of articles: what grouping compares.

Each article becomes L2-normalised sparse TF-IDF vectors over its title
(counted twice: headlines carry the event) and the lead of its text
(``newsletter.text.lead``):

- ``full``: content-word stems, named entities and numbers;
- ``content``: content-word stems and numbers, no names: *what* happened;
- ``entities``: names alone: *who* and *where*.

Two articles about the same company share its name but not, unless they
report the same event, what happened to it; requiring the content vectors to
agree as well keeps a carmaker's recall and the same carmaker's results apart.
Symmetrically, two recalls by different carmakers share the words but not
the names; requiring some agreement on entities keeps those apart.

Each article also carries event-kind terms (``v:strike``, ``v:recall``; see
``events``) for the happenings it mentions, however worded, as content
terms; those in its title are kept apart too, for anchored joins.

Entities are found by case at corpus level: a word counts as a name when,
in the middle of sentences, it is mostly written with a capital. That
survives Title Case headlines and sentence-initial names alike.

Each article is read in its own language (``Article.language``). English, and
an article whose language is unknown (None), are read as described above. Any
other language gets its own stop words and Snowball stemmer
(``newsletter.text``), and its day and month names count as stop words, as
English's do; words are split with marks kept (a Devanagari vowel sign
stays in its word); runs of a script written without spaces (Chinese,
Japanese, Thai: ``UNSPACED``, as the extractive writer splits them) become
their character pairs, so a Chinese headline is several terms rather than one;
numbers in any digits (Devanagari, Arabic-Indic, full-width) become ASCII
terms, "41.000" and "41,000" both 41000. The event vocabulary is English, so
these articles carry no event kinds.

Names where case says nothing: scripts without capitals (Chinese, Arabic,
Devanagari...) and languages that capitalise every noun (German) give no
entity terms. Their entity evidence is then *absent*, which the clustering
treats as agreeing with anything (``cluster._Sparse``): it neither blocks nor
joins, and the content and full similarities decide; anchored joins, which
need headline names and event kinds, never apply to them. A cased language
(Portuguese, Spanish, Russian...) finds names by case, as English does.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache

import numpy as np
import regex
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from newsletter.group.events import event_kinds
from newsletter.group.figures import figures, plain_number
from newsletter.language import cldr
from newsletter.models import Article
from newsletter.boilerplate import without_lead
from newsletter.text import ENGLISH, UNSPACED, UNSPACED_RUN, char_pairs, lead, stem, stop_words, title

ENTITY_WEIGHT = 1.5  # column scale of entity terms in ``full``, before normalising
NUMBER_WEIGHT = 2.0  # column scale of number terms: a shared "41,000" is strong evidence
EVENT_WEIGHT = 1.0  # column scale of event kinds ("v:strike"): the same happening, however worded

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+|\s[-–—]\s")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*")
_POSSESSIVE = re.compile(r"['’]s?$")
# Any script: a run written without spaces, a word (its marks kept), or a number with its separators
# (Arabic-script text may use the Arabic decimal and thousands signs).
_ANY_TOKEN = regex.compile(rf"(?V1)(?P<run>[{UNSPACED}]+)|[\w--[\d_{UNSPACED}]]+|\d+(?:[.,\u066b\u066c]\d+)*")
# Languages that capitalise every noun: a capital there says nothing about names.
NOUNS_CAPITALISED = frozenset({"de", "lb"})


@dataclass
class Features:
    full: sp.csr_matrix
    content: sp.csr_matrix  # no entity terms
    entities: sp.csr_matrix  # entity terms only; rows without names are all zero
    terms: np.ndarray  # column index -> term ("w:stem", "e:name", "n:number")
    term_kinds: np.ndarray  # column index -> the term's kind, its first letter ("w", "e", "n", "v")
    idf: np.ndarray
    title_terms: list[frozenset[int]]  # column ids of each title's terms, for headline choice
    title_entities: list[frozenset[int]]  # column ids of the names in each title: who or where it is about
    title_kinds: list[frozenset[int]]  # column ids of the event kinds in each title: what happened
    title_figures: list[dict[str, frozenset[str]]]  # each title's key figures by kind of quantity (``figures``)
    languages: list[str | None]  # each article's reading: None for English (and unknown), else its language


def _normalise(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def _local_number(tok: str) -> str:
    """A number in any digits and either convention: "४१" -> "41", "41.000" and "41,000" -> "41000",
    "1,2" -> "1.2", "1.234,5" -> "1234.5", "1,00,000" -> "100000"."""
    digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in tok)
    digits = digits.replace("\u066b", ".").replace("\u066c", ",")
    seps = [c for c in digits if c in ".,"]
    if not seps:
        return plain_number(digits)
    last = seps[-1]
    groups = re.split(r"[.,]", digits)[1:]
    # A decimal separator appears once and last; repeated, or before the other kind, or followed by
    # groups of exactly three digits, a separator groups thousands.
    if seps.count(last) == 1 and not all(len(g) == 3 for g in groups):
        whole, frac = digits.rsplit(last, 1)
        digits = whole.replace(".", "").replace(",", "") + "." + frac
    else:
        digits = digits.replace(".", "").replace(",", "")
    return plain_number(digits)


def _count_case(text: str, upper: Counter[str], lower: Counter[str]) -> None:
    """Tally mid-sentence words by case; sentence-initial capitals say nothing about names."""
    ups: list[str] = []
    lows: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        for tok in _TOKEN.findall(sentence)[1:]:
            c = tok[0]
            if c.isupper():
                ups.append(_bare(tok.lower()))
            elif not c.isdigit():
                lows.append(_bare(tok.lower()))
    upper.update(ups)  # Counter.update counts a list in C
    lower.update(lows)


def _bare(word: str) -> str:
    """Drop a possessive: "company's" -> "company"."""
    if "'" in word or "’" in word:
        return _POSSESSIVE.sub("", word)
    return word


@cache
def stop_words_and_dates(lang: str) -> frozenset[str]:
    """Another language's stop words (``newsletter.text``), and its day and month names from CLDR (Babel):
    what English's news words do for the weekday every same-day report shares."""
    cal = cldr(lang)
    if cal is None:
        return stop_words(lang)
    names = [*cal.days["format"]["wide"].values(), *cal.months["format"]["wide"].values()]
    names += [d for d in cal.days["format"]["abbreviated"].values() if UNSPACED_RUN.match(d)]  # 周一
    words = set()
    for name in names:
        for m in _ANY_TOKEN.finditer(name.lower()):
            tok = m.group()
            if not m.group("run"):
                words.add(tok)
            elif len(tok) > 1:  # a lone character ("月") is a word of its own in other uses
                words.update(char_pairs(tok))
    return stop_words(lang) | words


def _language(a: Article) -> str | None:
    """None for the English reading (English, or not known); else the article's language."""
    return None if a.language in (None, ENGLISH) else a.language


def extract(articles: list[Article]) -> Features:
    # Two passes over the text rather than one that keeps every token: at 50,000
    # articles the kept token objects alone would cost hundreds of megabytes.
    # A feed's label before every abstract (arXiv's "arXiv:ID Announce Type: new") is no part of the
    # event: its capitalised words read as names every entry shares, so any two papers agreed on names.
    leads = [_normalise(lead(without_lead(a.text))) for a in articles]
    langs = [_language(a) for a in articles]
    upper: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for text, lang in zip(leads, langs):
        if lang not in NOUNS_CAPITALISED:
            _count_case(text, upper, lower)
    stop = stop_words()
    # By (language, token); the English reading, most tokens by far, by the token alone: no tuple per token.
    cache: dict[str | tuple[str, str], str | None] = {}

    def term(tok: str, lang: str | None) -> str | None:
        """The term ``tok`` stands for in an article read as ``lang`` (see the module docstring), or None."""
        key = tok if lang is None else (lang, tok)
        t = cache.get(key, "")
        if t != "":
            return t
        if tok[0].isdigit():
            t = "n:" + (plain_number(tok) if lang is None else _local_number(tok))
        elif lang is not None and UNSPACED_RUN.match(tok):
            t = None if tok in stop_words_and_dates(lang) else "w:" + tok
        else:
            w = _bare(tok.lower())
            if len(w) < 2 or w in (stop if lang is None else stop_words_and_dates(lang)):
                t = None
            elif lang not in NOUNS_CAPITALISED and upper[w] > lower[w]:
                t = "e:" + w
            else:
                t = "w:" + stem(w, lang)
        cache[key] = t
        return t

    def tokens(text: str, lang: str | None) -> list[tuple[str, str]]:
        """(token, term) for each token of ``text`` that is a term."""
        if lang is None:
            return [(tok, t) for tok in _TOKEN.findall(text) if (t := term(tok, None))]
        out = []
        for m in _ANY_TOKEN.finditer(text):
            tok = m.group()
            if m.group("run"):  # no spaces between words: its character pairs stand for them
                out += [(p, t) for p in char_pairs(tok) if (t := term(p, lang))]
            elif t := term(tok, lang):
                out.append((tok, t))
        return out

    def is_name(tok: str, t: str, lang: str | None) -> bool:
        return lang not in NOUNS_CAPITALISED and _is_name(tok, t, lower)

    docs: list[list[str]] = []
    title_docs: list[list[str]] = []
    title_kind_docs: list[list[str]] = []
    title_name_docs: list[list[str]] = []
    title_figures: list[dict[str, frozenset[str]]] = []
    for a, text, lang in zip(articles, leads, langs):
        headline = title(a.title)
        title_tokens = tokens(_normalise(headline), lang)
        tt = [t for _, t in title_tokens]
        title_docs.append(tt)
        title_name_docs.append([t for tok, t in title_tokens if is_name(tok, t, lang)])
        title_figures.append(figures(headline))
        # The event vocabulary is English: another language's words would only match it by accident.
        tk = ["v:" + k for k in event_kinds(headline)] if lang is None else []
        title_kind_docs.append(tk)
        vk = ["v:" + k for k in event_kinds(text)] if lang is None else []
        if lang is None:  # most articles: no (token, term) pairs built for a lead
            words = [t for tok in _TOKEN.findall(text) if (t := term(tok, None))]
        else:
            words = [t for _, t in tokens(text, lang)]
        docs.append(tt + tt + tk + tk + vk + words)

    if not any(docs):  # nothing but stop words anywhere: keep TF-IDF defined, match nothing
        docs = [[f"x:{k}"] for k in range(len(docs))]
    vec = TfidfVectorizer(analyzer=_identity, lowercase=False, sublinear_tf=True, norm=None, dtype=np.float32)
    raw = vec.fit_transform(docs).tocsr()
    terms = vec.get_feature_names_out()
    kinds = np.array([t[0] for t in terms])
    scale = np.select([kinds == "e", kinds == "n", kinds == "v"], [ENTITY_WEIGHT, NUMBER_WEIGHT, EVENT_WEIGHT], 1.0)
    scale = scale.astype(np.float32)
    full = _l2(raw @ sp.diags(scale))
    content = _l2(raw @ sp.diags(np.where(kinds == "e", 0.0, scale).astype(np.float32)))
    index = vec.vocabulary_
    title_terms = [frozenset(index[t] for t in tt if t in index) for tt in title_docs]
    title_entities = [frozenset(index[t] for t in tn if t in index) for tn in title_name_docs]
    title_kinds = [frozenset(index[t] for t in tk if t in index) for tk in title_kind_docs]
    entities = _l2(raw @ sp.diags((kinds == "e").astype(np.float32)))
    return Features(full=full, content=content, entities=entities, terms=terms, term_kinds=kinds,
                    idf=vec.idf_.astype(np.float32),
                    title_terms=title_terms, title_entities=title_entities, title_kinds=title_kinds,
                    title_figures=title_figures, languages=langs)


def _is_name(tok: str, term: str, lower: Counter[str]) -> bool:
    """A headline word that names someone or somewhere: a name by the corpus count, or a
    capitalised word never written in lower case (a company seen only at sentence starts)."""
    return term[0] == "e" or (term[0] == "w" and tok[0].isupper() and lower[_bare(tok.lower())] == 0)


def _identity(doc: list[str]) -> list[str]:
    return doc


def _l2(m: sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m, dtype=np.float32)
    m.eliminate_zeros()
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms).astype(np.float32) @ m)
