"""The reading stages' shared view of text: how much of an article they read, and which words count.

    from newsletter.text import lead, readable, stem, stop_words
    lead(article.text)       # the first LEAD_CHARS, cut at a word: what grouping and embeddings compare
    readable(article.text)   # at most MAX_TEXT_CHARS: all that summarising reads of one article
    title(article.title)     # at most MAX_TITLE_CHARS of a headline
    stop_words()             # words that say nothing about what happened: one list for every stage
    stem("barriers")         # "barrier": one stemmer (Snowball English) for every stage
    stop_words("de")         # the same for an article's own language (stopwords-iso), empty if none
    stem("brücken", "de")    # "bruck": Snowball's German; a language Snowball lacks is left unstemmed
    char_pairs("北京大学")    # ["北京", "京大", "大学"]: how a run written without spaces is compared
    UNSPACED_RUN.match(word)  # a word in a script written without spaces (Chinese, Japanese, Thai...)

Feed text is hostile and can be megabytes long. Every stage that reads an
article's text goes through these, so none can be made to work in proportion
to what a publisher chooses to send, whatever ingestion kept.

Grouping and the extractive writer compare words the same way: a word that
tells two stories apart tells two sentences apart too.
"""

from __future__ import annotations

import threading
from functools import cache

import regex
import snowballstemmer

LEAD_CHARS = 1200  # the lead names the event; a long full text would only dilute it
# About 8,000 words: far more than the extractive writer's first sentences per source or
# a model prompt's share need, and little enough that reading it costs milliseconds.
MAX_TEXT_CHARS = 50_000
MAX_TITLE_CHARS = 500  # a headline is a line; anything longer is not one

# Scripts written without spaces between words: a run of them is several words, not one.
UNSPACED = (r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}")
UNSPACED_RUN = regex.compile(rf"[{UNSPACED}]")  # .match: a word in those scripts


def char_pairs(run: str) -> list[str]:
    """A run of a script written without spaces (Chinese, Japanese, Thai) as the words it stands for:
    its overlapping character pairs ("北京大学" -> "北京", "京大", "大学"), most such words being two
    characters; a single character is itself."""
    return [run[k:k + 2] for k in range(max(1, len(run) - 1))]


def readable(text: str) -> str:
    """The part of an article's text that stages read."""
    return text[:MAX_TEXT_CHARS]


def title(text: str) -> str:
    """The part of an article's title that stages read."""
    return text[:MAX_TITLE_CHARS]


def lead(text: str, chars: int = LEAD_CHARS) -> str:
    """The first ``chars`` of ``text``, cut at the last space before them."""
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[: cut if cut > 0 else chars]


# Words every news story uses, whatever happened: reporting verbs and titles, days, months, vague time.
NEWS_WORDS = frozenset(
    """said says say told tell according reports reported report reuters spokesperson spokesman spokeswoman
    chief executive week weeks day days today yesterday tomorrow monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october november december
    year years month months percent new news also would could just like mr mrs ms""".split()
)
# Number words carry the facts outlets agree on ("three nights a week", "twelve carriages"), as digits
# do: they are never stop words, though the general English list has them.
NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve fifteen twenty forty fifty sixty
    hundred first second third""".split()
)


ENGLISH = "en"


@cache
def stop_words(lang: str | None = ENGLISH) -> frozenset[str]:
    """English (and None): scikit-learn's list plus ``NEWS_WORDS``, less ``NUMBER_WORDS``. Another
    language: the stopwords-iso list for it, or none when it has no list."""
    if lang in (None, ENGLISH):
        # Imported here: scikit-learn costs seconds, and only the stages that compare words need it.
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return (frozenset(ENGLISH_STOP_WORDS) | NEWS_WORDS) - NUMBER_WORDS
    import stopwordsiso

    return frozenset(w.lower() for w in stopwordsiso.stopwords(lang)) if stopwordsiso.has_lang(lang) else frozenset()


_STEMMERS = threading.local()  # a Snowball stemmer keeps state while it works: one per thread
# News vocabulary repeats endlessly; a dict lookup is atomic under the GIL. One cache for every language,
# keyed by (language, word).
_STEMS: dict[tuple[str, str], str] = {}
STEM_CACHE_SIZE = 200_000  # words remembered; feeds can invent words forever, so the cache starts over
# Snowball's algorithms by the languages' ISO 639-1 codes (snowballstemmer names them in English).
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "fa": "persian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "st": "sesotho", "es": "spanish",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}


@cache
def _algorithms() -> dict[str, str]:
    """``SNOWBALL`` less what the installed snowballstemmer lacks (pyproject requires the release that
    has them all): a missing algorithm means no stemming for that language, never an error mid-issue."""
    installed = frozenset(snowballstemmer.algorithms())
    return {lang: a for lang, a in SNOWBALL.items() if a in installed}


def stem(word: str, lang: str | None = ENGLISH) -> str:
    """The Snowball stem of a lower-case word in ``lang``: "barriers" -> "barrier" (English, also for
    None); the word itself in a language Snowball has no algorithm for."""
    key = (lang or ENGLISH, word)
    s = _STEMS.get(key)
    if s is None:
        s = _stem_new(key)
    return s


def _stem_new(key: tuple[str, str]) -> str:
    lang, word = key
    algorithm = _algorithms().get(lang)
    if algorithm is None:
        return word
    stemmer = getattr(_STEMMERS, algorithm, None)
    if stemmer is None:
        stemmer = snowballstemmer.stemmer(algorithm)
        setattr(_STEMMERS, algorithm, stemmer)
    if len(_STEMS) >= STEM_CACHE_SIZE:
        _STEMS.clear()
    s = _STEMS[key] = stemmer.stemWord(word)
    return s
