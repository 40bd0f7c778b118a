"""The embedded summarizer: briefings made only of real sentences from the sources.

No network, no key, no randomness: the same story gives the same briefing.
Every bullet is a sentence one of the outlets actually wrote, and cites that
outlet's source number, plus every other outlet that wrote nearly the same
sentence with the same facts (the grounding gate's claims: numbers, names, dates). The three sections are filled by different tests of a sentence:

- The big picture: what the outlets agree on (similar sentences in several
  sources), leaning on lead sentences, which is where news puts the facts.
- Why this matters: consequence cues (will, could, means, because, numbers).
- Between the lines: what only one outlet noticed, quotes, caveats.

A sentence that opens pointing at the one before it in its article ("Their
union says...", "But it will...": ``leans_back`` in ``cues.toml``) reads as a
fragment out of it, so it is taken only when the briefing has no other.

Each source is read in its own language (``Article.language``, else detected):
its sentence ends, stop words and stems (``newsletter.text``); Chinese,
Japanese and Thai, written without spaces, are compared by character pairs.
The consequence and caveat cues are words of the source's language
(``cues.toml``: English, German, French, Spanish, Portuguese); in a language
without them those two sections lean on numbers, quotes and what only one
outlet says.

What counts as a sentence: a span of a source's text up to a sentence mark or
a paragraph end, of ``FRAGMENT_WORDS``-``RUN_ON_WORDS`` words, that is not boilerplate
(``boilerplate.toml``: prompts, bylines, citations), less the section label a journal's feed puts before it
("Abstract: ..."). Thai and Lao mark no sentence end, so a paragraph of
theirs is one span however long: it is judged as it would be shown, cut to
``FALLBACK_CHARS``. The writer prefers sentences of ``MIN_WORDS``-``MAX_WORDS``
words that end with a mark; a story whose sources hold none of those is written
from whatever sentences they hold, so any story with a sentence gets a bullet.
A story whose sources hold no sentence at all (headline-only items, a text that
is only "Read more" or one endless run-on) has its sources' titles as its only
lines: they become its big picture.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import islice

import numpy as np
import regex

from newsletter.language import language_of
from newsletter.models import SECTIONS, Briefing, Bullet, Story
from newsletter.boilerplate import is_boilerplate, without_lead
from newsletter.summarize.languages import fold
from newsletter.summarize.sentences import ends_finished, iter_sentences, trim, word_count
from newsletter.text import ENGLISH, UNSPACED, char_pairs, readable, stem, stop_words

MAX_BULLETS = max(kind.max_bullets for kind in SECTIONS)
SAME_SENTENCE = 0.3  # TF-IDF cosine above which two sentences say the same thing: cite both
REPEATS_DEK = 0.28  # looser: a bullet this close to the dek would read as a repeat of it
MIN_WORDS, MAX_WORDS = 6, 70
# Fewer words is a fragment ("Ok.", "Photos: Reuters"); more is a run-on or a page dump: neither is a sentence.
FRAGMENT_WORDS, RUN_ON_WORDS = 3, 250
FALLBACK_CHARS = 400  # a sentence taken only because nothing better exists is cut to this (a Thai paragraph)
# Scripts that mark no sentence end: a long paragraph of theirs is no run-on, only longer than a line.
_NO_SENTENCE_MARKS = regex.compile(r"[\p{Thai}\p{Lao}]")
DEK_CHARS, BLURB_CHARS = 220, 180
MAX_SENTENCES_PER_SOURCE = 40  # news puts the facts first; splitting stops here, however long the text

# How each section scores a sentence. The big picture: what the other outlets also report
# (agreement), leaning on lead sentences, plus a little for each outlet with nearly the same sentence.
AGREEMENT_WEIGHT = 2.0
LEAD_WEIGHT = 0.6
ECHO_WEIGHT = 0.1
# Why this matters: consequence cues, a number, capped so one wordy sentence cannot win on cues
# alone; then agreement, so a consequence several outlets report beats one only one outlet claims.
NUMBER_BONUS = 0.5
MAX_CONSEQUENCE_SCORE = 3
CONSEQUENCE_AGREEMENT_WEIGHT = 0.5
# Between the lines: what the others did not report (uniqueness), quotes, caveats, later sources.
QUOTE_BONUS = 1.0
CAVEAT_BONUS, MAX_CAVEATS = 0.5, 2
LATER_SOURCE_BONUS = 0.3
# A second or third bullet must earn its place: the score it needs, per section (the first is taken
# when there is anything left), and for the big picture a bar that rises with each bullet taken.
EXTRA_BULLET_FLOOR = (0.0, 1.0, 1.0)
BIG_PICTURE_FLOOR_STEP = 0.5
# Three agreed facts are worth reading when three or more outlets report the story;
# the other sections stay short so a whole issue reads in a few minutes.
WIDE_STORY_SOURCES = 3
NARROW_BIG_PICTURE_BULLETS = 2
OTHER_SECTION_BULLETS = 2

_NUMBER = re.compile(r"\d")
_QUOTE = re.compile(r"[\"“”«»„「」『』]")
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
# Any script's words; a run of Chinese, Japanese or Thai is one match, compared by its character pairs.
_ANY_WORD = regex.compile(rf"(?V1)(?P<run>[{UNSPACED}]+)|[\w--[{UNSPACED}]]+(?:[.,][0-9]+)?")


@dataclass(frozen=True)
class _Cues:
    """One language's consequence and caveat words (cues.toml), or none."""

    consequence: re.Pattern[str] | None
    caveat: re.Pattern[str] | None
    leans_back: re.Pattern[str] | None = None
    answers: re.Pattern[str] | None = None  # searched in the sentence's first clause

    def count(self, which: str, text: str) -> int:
        pattern = getattr(self, which)
        return len(pattern.findall(text)) if pattern is not None else 0

    def opens_leaning_back(self, text: str) -> bool:
        """Whether the sentence opens with a word pointing at the sentence before ("Their union..."); one
        opening with a quote is someone's words ("“It is a big cheque,” said...")."""
        text = text.lstrip()
        return ((self.leans_back is not None and self.leans_back.match(text) is not None)
                or (self.answers is not None and self.answers.search(text) is not None))


@cache
def _cues(language: str | None) -> _Cues:
    tables = tomllib.loads(resources.files(__package__).joinpath("cues.toml").read_text(encoding="utf-8"))
    table = tables.get(language or ENGLISH, {})

    def words(key: str) -> re.Pattern[str] | None:
        found = table.get(key)
        return re.compile(r"\b(" + "|".join(found) + r")\b", re.IGNORECASE) if found else None

    found = table.get("leans_back")
    opening = re.compile(r"(?:" + "|".join(found) + r")\b", re.IGNORECASE) if found else None
    found = table.get("answers")
    # In the first clause, with the clause ending right after it: "The union disagrees, warning..." answers;
    # "The union disagrees with the plan" and "..., which the union disputes" say what about.
    answers = re.compile(r"^[^,;:.!?\"“”]*\b(?:" + "|".join(found) + r")\s*(?:[,;:.!?]|$)", re.IGNORECASE) \
        if found else None
    return _Cues(words("consequence"), words("caveat"), opening, answers)


@dataclass
class _Sentence:
    text: str
    source: int  # 1-based, into story.articles
    position: int  # index within its article
    same_as: set[int] = field(default_factory=set)  # indexes of sentences saying nearly the same
    language: str | None = None  # its article's
    facts: object = None  # what it states, read the grounding gate's way (facts.SourceFacts), once asked for


class ExtractiveSummarizer:
    name = "extractive"
    costly = False

    def brief(self, story: Story) -> Briefing:
        sentences = _sentences(story, _usable) or _sentences(story, _a_sentence)
        if not sentences:
            return self._from_titles(story)
        dek_index = _dek_index(sentences)
        sections, dek_is_bullet = _fill_sections(story, sentences, dek_index)
        if dek_is_bullet:  # said once, cited, rather than twice in a row
            dek_index = None
        dek = trim(sentences[dek_index].text, DEK_CHARS) if dek_index is not None else ""
        return Briefing(
            story=story,
            headline=story.headline,
            dek=dek,
            bullets={kind.key: bullets for kind, bullets in zip(SECTIONS, sections)},
            summarizer=self.name,
            headline_language=story.headline_language,
            dek_language=sentences[dek_index].language if dek_index is not None else None,
        )

    def _from_titles(self, story: Story) -> Briefing:
        """Sources without a sentence (headline-only items): each distinct title, cited to the sources that carry it."""
        cites: dict[str, list[int]] = {}
        for i, article in enumerate(story.articles, start=1):
            line = " ".join(article.title.split())
            if line and not is_boilerplate(line):
                cites.setdefault(line, []).append(i)
        bullets = [Bullet(text=line, cites=c, language=language_of(story.articles[c[0] - 1]))
                   for line, c in cites.items()][:NARROW_BIG_PICTURE_BULLETS]
        return Briefing(story=story, headline=story.headline, dek="",
                        bullets={kind.key: bullets if kind is SECTIONS[0] else [] for kind in SECTIONS},
                        summarizer=self.name, headline_language=story.headline_language)

    def sourced_blurb(self, story: Story) -> tuple[str, str | None]:
        """The blurb and the language of the source it is taken from."""
        for test in (_usable, _a_sentence):
            for article in story.articles:
                first = next((s for s in _source_sentences(article.text) if test(s)), None)
                if first is not None:
                    return trim(first, BLURB_CHARS), language_of(article)
        # A story with no usable text: its lead's title is the only real line there is.
        if not story.articles:
            return "", None
        return trim(story.articles[0].title, BLURB_CHARS), language_of(story.articles[0])


def _usable(sentence: str) -> bool:
    """A sentence the writer takes first: of a readable length, ending with a mark."""
    n = word_count(sentence)
    return MIN_WORDS <= n <= MAX_WORDS and ends_finished(sentence) and not is_boilerplate(sentence)


def _a_sentence(sentence: str) -> bool:
    """Any sentence at all (see the module's docstring): what a story with nothing better is written from."""
    if _NO_SENTENCE_MARKS.search(sentence, 0, FALLBACK_CHARS):
        sentence = trim(sentence, FALLBACK_CHARS)  # a Thai paragraph: judged as it is shown
    return FRAGMENT_WORDS <= word_count(sentence) <= RUN_ON_WORDS and not is_boilerplate(sentence)


def _source_sentences(text: str) -> Iterator[str]:
    """The sentences the writer reads of one source: the first few, split only that far, each without
    the section label or announce line a journal's feed puts before it ("Abstract: ...")."""
    return map(without_lead, islice(iter_sentences(readable(text)), MAX_SENTENCES_PER_SOURCE))


def _sentences(story: Story, test: Callable[[str], bool]) -> list[_Sentence]:
    out: list[_Sentence] = []
    seen: set[str] = set()
    for i, article in enumerate(story.articles, start=1):
        language = language_of(article)
        for pos, text in enumerate(_source_sentences(article.text)):
            key = text.lower()
            if test(text) and key not in seen:
                seen.add(key)
                shown = text if test is _usable else trim(text, FALLBACK_CHARS)
                out.append(_Sentence(shown, i, pos, language=language))
    return out


def _similarity(sentences: list[_Sentence]) -> np.ndarray:
    # Imported here, not above: sklearn costs over a second, and a send of an issue already built
    # (a restart, a retry) makes this writer without ever comparing a sentence.
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not sentences:
        return np.zeros((0, 0))
    terms = [_terms(s.text, s.language) for s in sentences]
    try:
        matrix = TfidfVectorizer(analyzer=_as_is, sublinear_tf=True).fit_transform(terms)
    except ValueError:  # only stop words: nothing to compare on
        return np.eye(len(sentences))
    sim = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sim, 1.0)
    return sim


def _as_is(terms: list[str]) -> list[str]:
    return terms


def _terms(text: str, language: str | None = ENGLISH) -> list[str]:
    # Stemmed so "barrier"/"barriers" and "votes"/"voted" meet.
    if language in (None, ENGLISH):
        stop = stop_words()
        return [stem(w) for w in _WORD.findall(text.lower()) if w not in stop]
    stop = stop_words(language)
    out = []
    for m in _ANY_WORD.finditer(text.lower()):
        word = m.group()
        if m.group("run"):  # no spaces between words: its character pairs stand for them
            out.extend(p for p in char_pairs(word) if p not in stop)
        elif word not in stop:
            out.append(stem(word, language))
    return out


def _dek_index(sentences: list[_Sentence]) -> int | None:
    """The lead sentence of the best source (the first usable one of the lowest source number)."""
    if not sentences:
        return None
    return min(range(len(sentences)), key=lambda k: (sentences[k].source, sentences[k].position))


def _fill_sections(story: Story, sentences: list[_Sentence],
                   dek_index: int | None) -> tuple[list[list[Bullet]], bool]:
    """The sections' bullets, and whether the dek's sentence had to be the only one."""
    sim = _similarity(sentences)
    n_sources = len(story.articles)
    n = len(sentences)
    src = np.array([s.source for s in sentences], dtype=int)
    same = (sim >= SAME_SENTENCE) & (src[:, None] != src[None, :])
    for a, s in enumerate(sentences):
        s.same_as = set(np.flatnonzero(same[a]).tolist())
    for a, b in _same_facts_across_languages(sentences):
        sentences[a].same_as.add(b)
        sentences[b].same_as.add(a)

    # How much of the sentence the other outlets also report: the mean over other
    # sources of the best match in each. A lead-position bonus settles single-source stories.
    best_in = np.zeros((n, n_sources))
    for k in range(n_sources):
        cols = src == k + 1
        if cols.any():
            best_in[:, k] = sim[:, cols].max(axis=1)
    others = src[:, None] != np.arange(1, n_sources + 1)[None, :]
    if n_sources > 1:
        agreement = np.where(others, best_in, 0.0).sum(axis=1) / (n_sources - 1)
        uniqueness = 1.0 - np.where(others, best_in, 0.0).max(axis=1)
    else:
        agreement, uniqueness = np.zeros(n), np.ones(n)
    lead = np.array([1.0 / (1 + s.position) for s in sentences])

    big_picture = AGREEMENT_WEIGHT * agreement + LEAD_WEIGHT * lead + ECHO_WEIGHT * np.array(
        [len(s.same_as) for s in sentences])
    why_matters = np.array([
        min(_cues(s.language).count("consequence", s.text) + (NUMBER_BONUS if _NUMBER.search(s.text) else 0.0),
            MAX_CONSEQUENCE_SCORE)
        for s in sentences
    ]) + CONSEQUENCE_AGREEMENT_WEIGHT * agreement
    between_lines = uniqueness + np.array([
        (QUOTE_BONUS if _QUOTE.search(s.text) else 0.0) + min(_cues(s.language).count("caveat", s.text), MAX_CAVEATS) * CAVEAT_BONUS
        + (LATER_SOURCE_BONUS if s.source != 1 else 0.0)
        for s in sentences
    ])
    scorers = (big_picture, why_matters, between_lines)
    # A sentence leaning on the one before it in its article reads as a fragment here: taken only when the
    # briefing would otherwise have no bullet of its own.
    leaning = {a for a, s in enumerate(sentences) if _cues(s.language).opens_leaning_back(s.text)}

    taken: set[int] = set()
    if dek_index is not None:
        taken |= {dek_index} | {b for b in range(len(sentences)) if sim[dek_index, b] >= REPEATS_DEK}

    caps = (MAX_BULLETS if n_sources >= WIDE_STORY_SOURCES else NARROW_BIG_PICTURE_BULLETS,
            OTHER_SECTION_BULLETS, OTHER_SECTION_BULLETS)
    sections = _pick(sentences, scorers, caps, taken | leaning)
    if not any(sections):
        sections = _pick(sentences, scorers, caps, taken)
    dek_is_bullet = dek_index is not None and not any(sections)
    if dek_is_bullet:
        # Only one usable sentence: better a cited bullet than an empty briefing (and then no dek).
        sections[0].append(dek_index)

    return [[_bullet(sentences, a, sim[a]) for a in idxs] for idxs in sections], dek_is_bullet


def _pick(sentences: list[_Sentence], scorers: tuple[np.ndarray, ...], caps: tuple[int, ...],
          barred: set[int]) -> list[list[int]]:
    """Each section's sentences, best first, a round of one bullet per section at a time; never one of
    ``barred`` (the dek, sentences repeating it, and those left for a last resort)."""
    taken = set(barred)
    sections: list[list[int]] = [[] for _ in scorers]
    for round_ in range(MAX_BULLETS):
        for k, score in enumerate(scorers):
            if len(sections[k]) >= caps[k]:
                continue
            left = [a for a in range(len(sentences)) if a not in taken]
            if not left:
                break
            # Deterministic: score, then earlier source, then earlier sentence.
            best = max(left, key=lambda a: (score[a], -sentences[a].source, -sentences[a].position))
            step = BIG_PICTURE_FLOOR_STEP if k == 0 else 0.0
            if round_ > 0 and score[best] < EXTRA_BULLET_FLOOR[k] + step * round_:
                continue
            sections[k].append(best)
            taken.add(best)
            taken |= sentences[best].same_as
    return sections


def _bullet(sentences: list[_Sentence], a: int, sim: np.ndarray) -> Bullet:
    """Sentence ``a`` as a bullet, citing its outlet and each other outlet whose sentence most like it
    (``sim``: its similarities) says nearly the same with the same facts."""
    s = sentences[a]
    closest: dict[int, int] = {}
    for b in s.same_as:
        source = sentences[b].source
        if source not in closest or (sim[b], -b) > (sim[closest[source]], -closest[source]):
            closest[source] = b
    alike = [sentences[b] for _, b in sorted(closest.items())]
    return Bullet(text=s.text, cites=sorted({s.source} | {o.source for o in _holding(s, alike)}), language=s.language)


def _holding(s: _Sentence, alike: list[_Sentence]) -> list[_Sentence]:
    """The sentences of ``alike`` that state every checkable fact of ``s`` (numbers, names, dates, quotes:
    the grounding gate's claims): only their outlets may be cited too. Sentences that read alike can differ
    in the fact a reader would check ("Mayor Tansey cut the ribbon before 300 residents" against "Mayor
    Tansey put the cost at 4 million crowns")."""
    if not alike:
        return []
    from newsletter.summarize.claims import extract_claims
    from newsletter.summarize.names import Vocabulary

    own = s.language or "en"
    vocab = Vocabulary.of([s.text] + [o.text for o in alike])
    claims: dict[bool, list] = {}  # across languages only the sources' own names are names
    held = []
    for other in alike:
        across = (other.language or "en") != own
        if across not in claims:
            claims[across] = extract_claims(s.text, vocab, own, known_names=across)
        if _states(other, claims[across]):
            held.append(other)
    return held


def _same_facts_across_languages(sentences: list[_Sentence]) -> list[tuple[int, int]]:
    """Pairs of sentences from two outlets in two languages that state the same facts, a number among
    them, each holding every claim of the other, and that share a word's stem besides ("The team used
    1,200 sonar transects." and "A equipe usou 1.200 transectos de sonar."): TF-IDF never pairs them,
    and the briefing said the one fact twice. A number alone is not enough: "A polícia prendeu 1.200
    agricultores" holds the same claims and says something else."""
    by_language: dict[str, list[int]] = {}
    for a, s in enumerate(sentences):
        by_language.setdefault(s.language or "en", []).append(a)
    if len(by_language) < 2:
        return []
    from newsletter.summarize.claims import extract_claims
    from newsletter.summarize.names import Vocabulary

    vocab = Vocabulary.of([s.text for s in sentences])
    claims = [extract_claims(s.text, vocab, s.language or "en", known_names=True) for s in sentences]
    with_numbers = [a for a, c in enumerate(claims) if any(x.kind == "number" for x in c)]
    kin = {a: _kin_stems(sentences[a].text) for a in with_numbers}
    pairs = []
    for k, a in enumerate(with_numbers):
        for b in with_numbers[k + 1:]:
            sa, sb = sentences[a], sentences[b]
            if sa.source != sb.source and (sa.language or "en") != (sb.language or "en") and kin[a] & kin[b] \
                    and _states(sb, claims[a]) and _states(sa, claims[b]):
                pairs.append((a, b))
    return pairs


KIN_LETTERS = 5  # "transects" and "transectos", "Lindqvist" and "Lindqvist's": the first five letters agree


def _kin_stems(text: str) -> set[str]:
    """The first letters of a sentence's longer words, folded (case, accents, ø, ß): what a fact's terms, names and
    cognates share across languages (sonar, transect-, Varnholm), as grammar words seldom do."""
    return {w[:KIN_LETTERS] for w in re.findall(r"[^\W\d_]+", fold(text)) if len(w) >= KIN_LETTERS + 1}


def _states(s: _Sentence, claims: list) -> bool:
    if s.facts is None:
        from newsletter.summarize.facts import SourceFacts
        from newsletter.summarize.languages import reading

        found = reading(s.language) if s.language else None
        s.facts = SourceFacts.of(s.text, readings=(found,) if found is not None else ())
    return all(s.facts.supports(c) for c in claims)


def extractive_summarizer() -> ExtractiveSummarizer:
    return ExtractiveSummarizer()
