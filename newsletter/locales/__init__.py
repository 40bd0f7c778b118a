"""The reader's language: every word the email, the text part and the web archive show, one file per language.

    loc = locale("de")                         # newsletter/locales/de.toml
    loc.in_this_issue                          # 'In dieser Ausgabe'
    loc.say("unsubscribe_from", title="X")     # 'X abbestellen'
    loc.count("sources", 3)                    # '3 Quellen' (CLDR plural rules, through Babel)
    loc.date(day, "long")                      # 'Freitag, 27. November 2026' (CLDR names, through Babel)
    loc.title(BIG_PICTURE)                     # 'Das große Bild'
    loc.marks("ur", text)                      # ('ur', 'rtl'): how this Urdu text is marked in its pages
    direction("ur")                            # 'rtl' (CLDR's character order, through Babel)
    available()                                # ['de', 'en', 'es', 'fr']

A language is a file: ``CODE.toml`` in this folder, or in the folder a config names as ``[newsletter]
locales`` (read before this one, so a user adds a language, or rewords a shipped one, without touching
the installed package). Dropping one in makes ``[newsletter] language = "CODE"`` valid (en.toml says
what goes in it) once it is complete and CLDR knows its code: the config's check loads it
(``checked``), so a broken file stops ``check`` rather than a send. A regional code with no file of its
own ("de-AT") uses its language's file. Babel (CLDR's month and day names, plural rules and number
symbols) is imported on first use, not with this module.
"""

from __future__ import annotations

import datetime
import functools
import string
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.language import babel_code, cldr, language_tag

FOLDER = Path(__file__).resolve().parent
DEFAULT = "en"
# Date styles added after language files were first written: a file without one gets CLDR's own form of it
# (a skeleton), so a user's file from before still works.
OPTIONAL_DATES = {"day": "MMMd"}


# A config's own files by code ([newsletter] locales), read before the shipped ones. One table for the
# process: newsletters run together share a language's words, so two different files for one code are
# refused (``use_folder``) rather than one newsletter silently getting the other's.
_own: dict[str, Path] = {}


def use_folder(folder: Path) -> None:
    """Read the ``CODE.toml`` files in ``folder`` before the shipped ones, from now on in this process.

    Called while a config loads, before anything is written in its language. LocaleError when the folder
    gives a code another config's folder already gave with different words."""
    found = {p.stem: p.resolve() for p in sorted(folder.glob("*.toml"))}
    for code, path in found.items():
        other = _own.get(code)
        if other is not None and other != path and other.is_file() and other.read_bytes() != path.read_bytes():
            raise LocaleError(f"{path} and {other} both give the words of {code!r}, and they differ",
                              "newsletters run in one process share a language's file: keep one of them")
    if any(_own.get(code) != path for code, path in found.items()):
        _own.update(found)
        changed()


# What other modules derive from a language's words and keep (the model's instructions, the gate's
# reading of numbers): cleared with the words, so no part of an issue reads a file the config replaced.
_DERIVED: list = []


def derived(cache_clear) -> None:
    """Have ``cache_clear`` called whenever the words of a language may have changed."""
    _DERIVED.append(cache_clear)


def changed() -> None:
    locale.cache_clear()
    for clear in _DERIVED:
        clear()


def file(code: str) -> Path:
    """The file that holds ``code``'s words (a code ``available`` lists): a config's own, else the shipped one."""
    return _own.get(code) or FOLDER / f"{code}.toml"


def available() -> list[str]:
    """The language codes that have a file here or in a config's own folder, sorted."""
    return sorted({p.stem for p in FOLDER.glob("*.toml")} | set(_own))


def resolve(code: str) -> str | None:
    """The file's code for ``code`` ("de_DE", "DE-de" and "de" all give "de"), or None if none fits."""
    have = {babel_code(c).casefold(): c for c in available()}
    wanted = babel_code(code).casefold()
    return have.get(wanted) or have.get(language_tag(code) or "")


@dataclass(frozen=True)
class Locale:
    """One language's words, read from its file; attribute access gives a word (``loc.update``)."""

    code: str
    name: str  # in English: "German", as the model is told
    direction: str  # "ltr" or "rtl": the email's and the pages' dir
    words: dict[str, str]
    sections: dict[str, str]
    counts: dict[str, dict[str, str]]
    dates: dict[str, str]
    grounding: dict[str, Any] = field(default_factory=dict)  # how the language writes facts: see summarize.languages

    def __getattr__(self, key: str) -> str:
        # Only called for what is not a field: the words, so templates write {{ t.in_this_issue }}.
        try:
            return self.__dict__["words"][key]
        except KeyError:
            raise AttributeError(f"locale {self.__dict__.get('code')!r} has no word {key!r}") from None

    def say(self, key: str, **values: Any) -> str:
        """A word with its {placeholders} filled in."""
        return self.words[key].format(**values)

    def count(self, key: str, n: int) -> str:
        """'1 source', '3 sources': the form CLDR's plural rules pick for ``n`` (else "other")."""
        forms = self.counts[key]
        return forms.get(cldr(self.code).plural_form(n), forms["other"]).format(n=n)

    def date(self, day: datetime.date, style: str = "long") -> str:
        from babel.dates import format_date, format_skeleton

        if style not in self.dates and style in OPTIONAL_DATES:  # a file written before the style was
            return format_skeleton(OPTIONAL_DATES[style], day, locale=cldr(self.code))
        return format_date(day, self.dates[style], locale=cldr(self.code))

    def marks(self, language: str | None, text: str = "") -> tuple[str | None, str | None]:
        """The ``lang`` and ``dir`` a piece of ``text`` in ``language`` needs inside this language's pages.

        Both None for the reader's own language or an unknown one (nothing to say); ``dir`` only when
        the text runs the other way: ("ur", "rtl") in an English email, ("de", None), and (None, None)
        for German in a German one. The way is the text's own (its letters' Unicode direction) where
        it has letters, so Sorani Kurdish (detected as "ku", which CLDR writes left to right) is rtl;
        else the language's, as CLDR says.
        """
        code = language_tag(language)
        if code is None or code == language_tag(self.code):
            return None, None
        way = text_direction(text) or direction(language)
        return code, way if way is not None and way != self.direction else None

    def title(self, kind) -> str:
        """A section's heading: the fixed ones in this language, a model-titled one as written."""
        return self.sections.get(kind.key) or kind.title


class LocaleError(ValueError):
    """A locale that cannot be used: ``problem`` names its file (and key), ``fix`` says what to do."""

    def __init__(self, problem: str, fix: str = "compare it with en.toml, which has every key"):
        super().__init__(f"{problem}; {fix}")
        self.problem, self.fix = problem, fix


@functools.cache
def direction(code: str) -> str | None:
    """"ltr" or "rtl": how CLDR says ``code`` is written ("pa-Arab": rtl); None for a code CLDR does not know."""
    found = cldr(code)
    return found.text_direction if found is not None else None


_DIRECTION_CHARS = 200  # a headline or the start of a sentence says which way it runs
_RIGHT_TO_LEFT = frozenset({"R", "AL"})  # Hebrew-like and Arabic-like letters (Unicode's bidi classes)


def text_direction(text: str) -> str | None:
    """"rtl" when most of the text's letters run right to left, "ltr" when most run left to right, None
    without letters. Most, not the first: an Urdu headline may open with a Latin outlet's name."""
    left = right = 0
    for c in text[:_DIRECTION_CHARS]:
        kind = unicodedata.bidirectional(c)
        left += kind == "L"
        right += kind in _RIGHT_TO_LEFT
    return None if left == right == 0 else "rtl" if right > left else "ltr"


@functools.cache
def locale(code: str = DEFAULT) -> Locale:
    """The words for ``code`` (see ``resolve``); LocaleError when no file fits or the file is broken."""
    found = resolve(code)
    if found is None:
        raise LocaleError(f"no locale file for {code!r}", f"use one of {', '.join(available())}")
    return _regional(_read(file(found), found), code)


def _read(path: Path, code: str) -> Locale:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Locale(code=code, name=raw["name"], direction=raw.get("direction") or direction(code) or "ltr",
                      words=raw["words"], sections=raw["sections"], counts=raw["counts"], dates=raw["dates"],
                      grounding=raw.get("grounding", {}))
    except (tomllib.TOMLDecodeError, KeyError) as e:
        missing = f"has no key {e}" if isinstance(e, KeyError) else f"is not valid TOML ({e})"
        raise LocaleError(f"{path} {missing}") from None


# Where a language's file serves a region that writes it differently: Swiss and Liechtenstein German
# have no ß ("Das grosse Bild").
_REGIONAL_SPELLING = {("de", "CH"): {"ß": "ss"}, ("de", "LI"): {"ß": "ss"}}


def _regional(loc: Locale, code: str) -> Locale:
    """``loc`` for a regional ``code`` ("de-CH"): the region's tag on the pages (lang="de-CH"), its dates
    as CLDR gives them there, and its spelling where it differs."""
    parts = babel_code(code).split("_")
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    if region is None or loc.code != parts[0].lower() or cldr(f"{loc.code}-{region}") is None:
        return loc
    spelling = _REGIONAL_SPELLING.get((loc.code, region), {})

    def spelt(text: str) -> str:
        for old, new in spelling.items():
            text = text.replace(old, new)
        return text

    return Locale(code=f"{loc.code}-{region}", name=loc.name, direction=loc.direction,
                  words={k: spelt(v) for k, v in loc.words.items()},
                  sections={k: spelt(v) for k, v in loc.sections.items()},
                  counts={k: {f: spelt(v) for f, v in forms.items()} for k, forms in loc.counts.items()},
                  dates=loc.dates, grounding=loc.grounding)


def checked(code: str) -> Locale:
    """``locale(code)``, proved usable before anything is rendered with it (the config's check calls this).

    CLDR must know the file's code (plural rules, month names and date formats come from it), and the
    file must have every word, section, count and date en.toml has, with no placeholder en.toml's
    does not fill, and date patterns Babel can format. LocaleError names the file and the key.
    """
    from babel.dates import format_date

    loc = locale(code)
    path = file(loc.code)
    found = cldr(loc.code)
    if found is None:
        raise LocaleError(f"{path} is named by a code CLDR (Babel) does not know, {loc.code!r}",
                          "name the file by an ISO 639 language code, with a region if need be: de.toml, pt-BR.toml")
    reference = shipped(DEFAULT)  # what the templates need, whatever a user's own en.toml says
    for table in ("words", "sections", "counts", "dates"):
        ours, theirs = getattr(loc, table), getattr(reference, table)
        for key in theirs:
            if key not in ours and not (table == "dates" and key in OPTIONAL_DATES):
                raise LocaleError(f"{path} has no key {table}.{key}")
            if table == "words" and not _placeholders(ours[key]) <= _placeholders(theirs[key]):
                raise LocaleError(f"{path} key words.{key} names a placeholder the newsletter does not fill",
                                  f"use only those en.toml's words.{key} uses")
    for key, forms in loc.counts.items():
        if not isinstance(forms, dict) or "other" not in forms:
            raise LocaleError(f"{path} key counts.{key} has no 'other' form", 'give it one: other = "..."')
    for style, pattern in loc.dates.items():
        try:
            format_date(datetime.date(2026, 11, 27), pattern, locale=found)
        except (ValueError, TypeError, KeyError) as e:
            raise LocaleError(f"{path} key dates.{style} is no date pattern Babel can use ({e})",
                              "write a CLDR date pattern such as 'd MMMM y'") from None
    _check_grounding(loc.grounding, path)
    return loc


# What the grounding gate reads from a [grounding] table (summarize.languages, summarize.changes): each
# key's shape, and an example for the message that names a wrong one.
_GROUNDING = {
    "percent": (list, str, 'percent = ["Prozent"]'),
    "up": (list, str, 'up = ["stieg", "erhöht"]'),
    "down": (list, str, 'down = ["sank", "gesenkt"]'),
    "negations": (list, str, 'negations = ["nicht"]'),
    "up_split": (list, str, 'up_split = ["legte zu", "stieg an"]'),
    "down_split": (list, str, 'down_split = ["ging zurück"]'),
    "amounts": (list, str, 'amounts = ["verlor", "verloren"]'),
    "move_from": (list, str, 'move_from = ["von"]'),
    "move_to": (list, str, 'move_to = ["auf"]'),
    "move_since": (list, str, 'move_since = ["nach"]'),
    "move_spread": (list, str, 'move_spread = ["schwankte"]'),
    "magnitudes": (dict, int, "magnitudes = { million = 6, milliarde = 9 }"),
    "relative_days": (dict, int, "relative_days = { heute = 0, gestern = -1 }"),
    "currencies": (dict, str, 'currencies = { euro = "euro" }'),
    "units": (dict, str, 'units = { stunde = "hour" }'),
    "change_words_after": (int, None, "change_words_after = 6"),
    "link_words": (list, str, 'link_words = ["siehe", "mehr"]'),  # read by modeltext: what leads into a link
    "titles": (list, str, 'titles = ["rat", "ministerin", "herr"]'),  # read by claims: where a name stands
    "said": (list, str, 'said = ["sagte", "zufolge"]'),
    "ordinal_marks": (list, str, 'ordinal_marks = ["."]'),  # read by summarize.ordinals
    # Read by summarize.multiples: forms with their factors, and the words before a number that multiply by it.
    "multiples": (dict, (int, float), 'multiples = { "verdoppel*" = 2, "halbier*" = 0.5 }'),
    "source_multiples": (dict, (int, float), 'source_multiples = { "doppelt so" = 2, "hälfte" = 0.5 }'),
    "multiplied_by": (list, str, 'multiplied_by = ["multipli* par"]'),
    "divided_by": (list, str, 'divided_by = ["divis* par"]'),
    "multiples_not_after": (list, str, 'multiples_not_after = ["un", "le"]'),
    # read by summarize.support: what a bullet says beyond its facts
    "cause": (list, str, 'cause = ["weil", "wegen"]'),
    "approve": (list, str, 'approve = ["begrüß", "lobt"]'),
    "oppose": (list, str, 'oppose = ["ablehn", "kritisier"]'),
}
_FACTORS = frozenset({"multiples", "source_multiples"})
# Keys read only beside another: without "multiples" a language's multiples are not read at all.
_BESIDE = {"source_multiples": "multiples", "multiplied_by": "multiples", "divided_by": "multiples",
           "multiples_not_after": "multiples"}


def _check_grounding(table: dict[str, Any], path: Path) -> None:
    """Each key of a [grounding] table is one the gate reads, in the shape it reads (see de.toml)."""
    for first, second, what in (("up", "down", "change"), ("move_from", "move_to", "move")):
        if (first in table) != (second in table):
            given, missing = (first, second) if first in table else (second, first)
            raise LocaleError(f"{path} key grounding.{given} has no grounding.{missing} beside it",
                              f"give both word lists (see de.toml): with one alone no {what} is checked")
    for key, needed in _BESIDE.items():
        if key in table and needed not in table:
            raise LocaleError(f"{path} key grounding.{key} has no grounding.{needed} beside it",
                              f"give grounding.{needed} too (see de.toml): without it grounding.{key} is not read")
    for key, value in table.items():
        if key not in _GROUNDING:
            raise LocaleError(f"{path} key grounding.{key} is none the grounding gate reads",
                              f"use one of {', '.join(_GROUNDING)} (see de.toml)")
        kind, item, example = _GROUNDING[key]
        if kind is int:
            fits = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif kind is list:
            fits = isinstance(value, list) and all(isinstance(v, item) for v in value)
        else:
            # A factor is above zero: "halbier*" = 0.5, not 0 or -2.
            fits = isinstance(value, dict) and all(isinstance(v, item) and not isinstance(v, bool)
                                                   and (key not in _FACTORS or v > 0)
                                                   for v in value.values())
        if not fits:
            raise LocaleError(f"{path} key grounding.{key} is not in the shape the gate reads",
                              f"write it as: {example}")


def _placeholders(word: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(word) if name is not None}
    except ValueError:  # an unpaired brace: a placeholder nobody fills
        return {"{"}


def english() -> Locale:
    return locale(DEFAULT)


@functools.cache
def shipped(code: str) -> Locale:
    """The words in the package's own file for ``code``, even where a config's folder has its own."""
    return _read(FOLDER / f"{code}.toml", code)
