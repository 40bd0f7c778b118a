"""The reader's language: every word the email, the text part and the web archive show, one file per language.

    loc = locale("de")                         # newsletter/locales/de.toml
    loc.in_this_issue                          # 'In dieser Ausgabe'
    loc.say("unsubscribe_from", title="X")     # 'X abbestellen'
    loc.count("sources", 3)                    # '3 Quellen' (CLDR plural rules, through Babel)
    loc.date(day, "long")                      # 'Freitag, 27. November 2026' (CLDR names, through Babel)
    loc.title(BIG_PICTURE)                     # 'Das große Bild'
    loc.marks("ur")                            # ('ur', 'rtl'): how text in Urdu is marked in its pages
    direction("ur")                            # 'rtl' (CLDR's character order, through Babel)
    available()                                # ['de', 'en', 'es', 'fr']

A language is a file: ``CODE.toml`` in this folder, named by a code Babel knows; dropping one
in makes ``[newsletter] language = "CODE"`` valid (en.toml says what goes in it). A regional
code the folder has no file for ("de-AT") uses its language's file. Babel (CLDR's month and day
names, plural rules and number symbols) is imported on first use, not with this module, so
``check`` and ``fetch`` never load it.
"""

from __future__ import annotations

import datetime
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent
DEFAULT = "en"


def available() -> list[str]:
    """The language codes that have a file here, sorted."""
    return sorted(p.stem for p in FOLDER.glob("*.toml"))


def resolve(code: str) -> str | None:
    """The file's code for ``code`` ("de_DE", "DE-de" and "de" all give "de"), or None if none fits."""
    have = {c.casefold(): c for c in available()}
    wanted = code.strip().replace("_", "-").casefold()
    return have.get(wanted) or have.get(wanted.split("-")[0])


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
        from babel import Locale as CLDR

        forms = self.counts[key]
        return forms.get(CLDR.parse(self.code).plural_form(n), forms["other"]).format(n=n)

    def date(self, day: datetime.date, style: str = "long") -> str:
        from babel.dates import format_date

        return format_date(day, self.dates[style], locale=self.code)

    def marks(self, language: str | None) -> tuple[str | None, str | None]:
        """The ``lang`` and ``dir`` a piece of text in ``language`` needs inside this language's pages.

        Both None for the reader's own language or an unknown one (nothing to say); ``dir`` only when
        the language is written the other way: ("ur", "rtl") in an English email, ("de", None), and
        (None, None) for German in a German one.
        """
        from newsletter.language import language_tag

        code = language_tag(language)
        if code is None or code == language_tag(self.code):
            return None, None
        way = direction(code)
        return code, way if way is not None and way != self.direction else None

    def title(self, kind) -> str:
        """A section's heading: the fixed ones in this language, a model-titled one as written."""
        return self.sections.get(kind.key) or kind.title


class LocaleError(ValueError):
    pass


@functools.cache
def direction(code: str) -> str | None:
    """"ltr" or "rtl": how CLDR says ``code`` is written; None for a code CLDR does not know."""
    from babel import Locale as CLDR, UnknownLocaleError

    try:
        return CLDR.parse(code.replace("-", "_")).text_direction
    except (UnknownLocaleError, ValueError):
        return None


@functools.cache
def locale(code: str = DEFAULT) -> Locale:
    """The words for ``code`` (see ``resolve``); LocaleError when no file fits or the file is broken."""
    found = resolve(code)
    if found is None:
        raise LocaleError(f"no locale file for {code!r}; available: {', '.join(available())}")
    path = FOLDER / f"{found}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Locale(code=found, name=raw["name"], direction=raw.get("direction") or direction(found) or "ltr",
                      words=raw["words"],
                      sections=raw["sections"], counts=raw["counts"], dates=raw["dates"],
                      grounding=raw.get("grounding", {}))
    except (tomllib.TOMLDecodeError, KeyError) as e:
        raise LocaleError(f"{path} is not a complete locale file ({e.__class__.__name__}: {e}); "
                          "compare it with en.toml") from None


def english() -> Locale:
    return locale(DEFAULT)
