"""How a language other than English writes the facts the grounding gate checks.

    r = reading("de")
    r.numbers("Der Leitzins stieg auf 3,5 Prozent.")   # [(whole, digits, Decimal('3.5'), True, None, None)]
    r.dates("am 27. November")                         # [((11, 27), None, span)]

English is read by ``numbers`` and ``dates``; this module gives every other language the same shapes.
What CLDR knows comes from Babel: month and weekday names (wide and abbreviated), the decimal
and grouping symbols ("3,5" and "1.500" in German, "1 500" in French). What it does not
know (the words for percent, million and billion, currencies and units, "yesterday") is in the
language's locale file, ``[grounding]`` (see newsletter/locales/de.toml). A language without
that table still gets digits, dates and day names. Words are compared with case and diacritics
folded (``fold``: "Milliarden" = "milliarden", "años" = "anos", "MAYIS" = "mayıs").

Numbers written as words ("drei Verletzte", "vingt-trois", "dos millones") are read by text2num,
as if written in digits, in the languages it knows whose locale file gives the words for million
and percent (German, French, Spanish; Portuguese, Italian, Dutch and Danish once theirs exists);
"one" ("ein", "un"), ordinals and a word that alone is another ("neuf": new) are not read, as
English's rules leave "one".

Digits are read only as the language groups them: where the decimal mark is "." (Chinese,
Hebrew, Hindi), a comma groups thousands ("1,500"), or in India's way hundreds above them
("1,00,000") where CLDR says so; "1,5" there is no number one can read, and a briefing that
writes one must show it as its source does (its value is ``None``).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from newsletter import locales

if TYPE_CHECKING:
    from newsletter.summarize.changes import ChangeWords
    from newsletter.summarize.multiples import MultipleWords

Span = tuple[int, int]
# whole, digits, value (None: digits no reading of the language can read), pct, currency, unit
NumberFound = tuple[Span, Span, "Decimal | None", bool, "str | None", "str | None"]

CURRENCY_SYMBOLS = {"$": "dollar", "us$": "dollar", "€": "euro", "£": "pound", "¥": "yen"}
_SPACES = "\u00a0\u202f"  # no-break and narrow no-break: how CLDR groups thousands in French

# Letters that carry no combining mark to strip: "Sørensen" is written "Sorensen" without one, and
# Turkish "MAYIS" is "mayıs" (case-insensitive matching finds it; the folded key must too).
_PLAIN_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ß": "ss",
                                "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ð": "d",
                                "ı": "i"})


def fold(text: str) -> str:
    """Case, diacritics, typographic apostrophes and dashes folded away: how every word here is compared."""
    text = unicodedata.normalize("NFKD", text.translate(_PLAIN_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-").casefold()


def _alternation(words) -> str:
    """A regex alternation of ``words``, longest first, as written and diacritics-folded (keys of the
    tables here are folded, so a caller passes the names as written where it has them)."""
    forms = {w for word in words for w in (word, fold(word))}
    return "|".join(re.escape(w) for w in sorted(forms, key=len, reverse=True) if w)


@dataclass(frozen=True)
class Reading:
    code: str
    magnitudes: dict[str, int]
    currencies: dict[str, str]
    units: dict[str, str]
    months: dict[str, int]
    weekdays: dict[str, int]
    relative_days: dict[str, int]
    number_rx: re.Pattern
    date_rx: re.Pattern
    numeric_date_rxs: tuple[re.Pattern, ...]
    month_rx: re.Pattern
    weekday_rx: re.Pattern
    relative_rx: re.Pattern | None
    time_rx: re.Pattern
    decimal: str

    grouping: tuple[int, int]  # CLDR's: (3, 3) "1,500,000"; (3, 2) "15,00,000"
    spelled: str | None = None  # text2num's name of the language, when it reads its number words
    percent_rx: re.Pattern | None = None
    changes: ChangeWords | None = None  # its words of change ("stieg", "baisse"), when its file gives them
    # Where a name stands (``claims._name_place``): after a title or a word ending in one, next to a verb of speech.
    titles: tuple[str, ...] = ()
    said: frozenset[str] = frozenset()
    ordinal_marks: tuple[str, ...] = ()  # after digits, an ordinal: "." in German ("3. Quartal"), "e" in French
    multiples: MultipleWords | None = None  # its words of multiples ("verdreifacht"), when its file gives them

    def numbers(self, text: str) -> list[NumberFound]:
        """Each number in ``text``: spans are of ``text`` as given, number words included."""
        if self.spelled is None:
            return self._numbers(text)
        digits, back = _Respelled.of(text, self)
        if back is None:
            return self._numbers(text)
        return [((back(w[0]), back(w[1], end=True)), (back(d[0]), back(d[1], end=True)), *rest)
                for w, d, *rest in self._numbers(digits)]

    def _numbers(self, text: str) -> list[NumberFound]:
        out = []
        for m in self.number_rx.finditer(text):
            value = self._value(m.group("num"))
            cur = CURRENCY_SYMBOLS.get((m.group("cur") or m.group("cur2") or "").lower())
            exponent = self.magnitudes.get(" ".join(fold(m.group("mag") or "").rstrip(".").split()), 0)
            word = fold(m.group("unit") or "")
            cur = cur or self.currencies.get(word)
            unit = self.units.get(word) if not m.group("pct") else None
            # What the report shows: up to the unit or currency when there is one, not the next word.
            end = m.end() if (unit or word in self.currencies) else m.start("unit") if m.group("unit") else m.end()
            out.append(((m.start(), end), m.span("num"), value.scaleb(exponent).normalize() if value is not None
                        else None, bool(m.group("pct")), cur, unit))
        return out

    def digits_value(self, raw: str) -> Decimal | None:
        """The value of digits as written, without a magnitude word ("1,31" 1.31); None for number words."""
        return self._value(raw)

    def _value(self, raw: str) -> Decimal | None:
        """The digits' value as this language groups them; None for digits it would not write so."""
        digits = re.sub(rf"[\s{_SPACES}’']", "", raw)  # the spaces and apostrophes that group thousands
        if self.decimal == ",":
            if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", digits):
                digits = digits.replace(".", "")  # 1.500 = 1500
            digits = digits.replace(",", ".")
        elif any(re.fullmatch(rf"{_grouped_with_commas(g)}(?:\.\d+)?", digits) for g in {(3, 3), self.grouping}):
            digits = digits.replace(",", "")
        elif "," in digits:
            return None  # "1,5" where "." is the decimal mark: neither 1.5 nor 15
        try:
            return Decimal(digits)
        except InvalidOperation:
            return None

    def dates(self, text: str) -> list[tuple[tuple[int, int], int | None, Span]]:
        out = []
        for m in self.date_rx.finditer(text):
            day = int(m.group("d"))
            if 1 <= day <= 31:
                year = int(m.group("y")) if m.group("y") else None
                month = self.months.get(fold(m.group("m")).rstrip("."))
                if month is not None:
                    out.append(((month, day), year, m.span()))
        for rx in self.numeric_date_rxs:
            for m in rx.finditer(text):
                day, month = int(m.group("d")), int(m.group("mo"))
                if 1 <= day <= 31 and 1 <= month <= 12:
                    out.append(((month, day), int(m.group("y")) if m.group("y") else None, m.span()))
        return out

    def months_alone(self, text: str) -> list[tuple[int, int | None, Span]]:
        """(month, year or None, the name's span): the year's digits are a number of their own."""
        # Lookups by .get: a name the pattern matched case-insensitively but that folds to no key is no claim.
        found = [(self.months.get(fold(m.group("m"))), m) for m in self.month_rx.finditer(text)]
        return [(month, int(m.group("y")) if m.group("y") else None, m.span("m")) for month, m in found
                if month is not None]

    def weekdays_named(self, text: str) -> list[tuple[int, str]]:
        found = [(self.weekdays.get(fold(m.group(1))), m.group(0)) for m in self.weekday_rx.finditer(text)]
        return [(day, shown) for day, shown in found if day is not None]

    def relative(self, text: str) -> list[int]:
        if self.relative_rx is None:
            return []
        found = [self.relative_days.get(fold(m.group(1))) for m in self.relative_rx.finditer(text)]
        return [offset for offset in found if offset is not None]

    def times(self, text: str) -> list[tuple[str, Span]]:
        out = []
        for m in self.time_rx.finditer(text):
            hour, minutes = m.group("h") or m.group("h2"), m.group("min") or m.group("min2") or "00"
            if int(hour) < 24:
                out.append((f"{int(hour)}:{minutes}", m.span()))
        return out


@functools.cache
def reading(code: str) -> Reading | None:
    """How ``code`` writes numbers, dates and days; None for English (read by ``numbers`` and ``dates``) or a code
    Babel does not know."""
    from babel.dates import get_day_names, get_month_names
    from babel.numbers import get_decimal_symbol, get_group_symbol

    from newsletter.language import cldr, language_tag
    from newsletter.locales import locale, resolve

    cldr_locale = cldr(code)
    if language_tag(code) == "en" or cldr_locale is None:
        return None
    code = str(cldr_locale)
    found = resolve(code)
    words = locale(found).grounding if found else {}

    month_names = [(n, name.rstrip(".")) for width in ("wide", "abbreviated") for context in ("format", "stand-alone")
                   for n, name in get_month_names(width, context, code).items()]
    months = {fold(name): n for n, name in month_names}
    wide_months = [name for name in get_month_names("wide", "format", code).values()]
    day_names = [(n, name) for context in ("format", "stand-alone") for n, name in get_day_names("wide", context, code).items()]
    weekdays = {fold(name): n for n, name in day_names}
    decimal, group = get_decimal_symbol(code), get_group_symbol(code)
    groups = re.escape(group) + _SPACES + (" " if group.isspace() else "")
    # A decimal point written the English way stays one where the language's mark is the comma; where
    # it is the point already, a comma is only ever grouping.
    point = "."

    magnitudes = {fold(k): v for k, v in words.get("magnitudes", {}).items()}
    percent = words.get("percent", [])
    currencies = {fold(k): v for k, v in words.get("currencies", {}).items()}
    units = {fold(k): v for k, v in words.get("units", {}).items()}
    relative = {fold(k): v for k, v in words.get("relative_days", {}).items()}

    grouping = cldr_locale.decimal_formats[None].grouping
    # The whole run of digits and marks is one number: "1,5" is never read as "1" and "5". The last
    # alternative takes a run the language would not write, whose value is then None.
    num = (rf"(?:\d{{1,3}}(?:[{groups}]\d{{3}})+(?:{re.escape(decimal)}\d+)?|\d+{re.escape(decimal)}\d+"
           rf"|\d+(?:{re.escape(point)}\d+)?)(?![.,]?\d)|\d+(?:[.,]\d+)+")
    if decimal == "." and grouping[1] != grouping[0]:  # "1,00,000": CLDR's secondary grouping
        num = rf"{_grouped_with_commas(grouping)}(?:\.\d+)?(?![.,]?\d)|{num}"
    mag = rf"(?:\s?(?P<mag>{_alternation(magnitudes)})\b\.?)?" if magnitudes else r"(?P<mag>(?!))?"
    pct = rf"(?P<pct>\s?%|\s(?:{_alternation(percent)})\b)?" if percent else r"(?P<pct>\s?%)?"
    number_rx = re.compile(
        rf"(?P<cur>US\$|[$€£¥])?\s?(?<![\d.,])(?P<num>{num}){mag}{pct}(?:\s?(?P<cur2>[$€£¥]))?"
        rf"(?:[\s-](?:(?:de|del)\s|d['’]\s?)?(?P<unit>[^\W\d_][\w'-]*))?", re.IGNORECASE)
    date_rx = re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:\.|er|º|°)?\s(?:de\s)?(?P<m>{_alternation(name for _, name in month_names)})\b\.?(?:,?\s(?:de\s)?(?P<y>\d{{4}})\b)?",
        re.IGNORECASE)
    numeric_dates = (re.compile(r"\b(?P<d>\d{1,2})\.(?P<mo>\d{1,2})\.(?P<y>\d{4})?(?!\d)"),  # 27.11.(2026)
                     re.compile(r"\b(?P<d>\d{1,2})/(?P<mo>\d{1,2})/(?P<y>\d{4})\b"))  # 27/11/2026
    month_rx = re.compile(rf"\b(?P<m>{_alternation(wide_months)})\b(?:\s(?:de\s)?(?P<y>\d{{4}})\b)?", re.IGNORECASE)
    weekday_rx = re.compile(rf"\b({_alternation(name for _, name in day_names)})s?\b", re.IGNORECASE)
    relative_rx = re.compile(rf"(?<!\w)({_alternation(relative)})(?!\w)", re.IGNORECASE) if relative else None
    # "14 Uhr", "14.30 Uhr", "14h30" (a bare "12 h" is as often twelve hours as noon)
    time_rx = re.compile(r"\b(?P<h>\d{1,2})(?:[:.](?P<min>\d{2}))?\s?uhr\b|\b(?P<h2>\d{1,2})h(?P<min2>\d{2})\b",
                         re.IGNORECASE)
    language = language_tag(code)
    changes = None
    if words.get("up") and words.get("down"):
        from newsletter.summarize.changes import AFTER, ChangeWords, MoveWords

        moves = (MoveWords.of(words["move_from"], words["move_to"], words.get("move_since", []),
                              words.get("move_spread", []))
                 if words.get("move_from") and words.get("move_to") else None)
        changes = ChangeWords.of(words["up"], words["down"], words.get("negations", []),
                                 words.get("change_words_after", AFTER), words.get("up_split", []),
                                 words.get("down_split", []), words.get("amounts", []), moves)
    multiples = None
    if words.get("multiples"):
        from newsletter.summarize.multiples import MultipleWords

        multiples = MultipleWords.of(words["multiples"], words.get("source_multiples"), words.get("multiplied_by", []),
                                     words.get("divided_by", []), words.get("multiples_not_after", []), language)
    return Reading(found or code, magnitudes, currencies, units, months, weekdays, relative, number_rx, date_rx,
                   numeric_dates, month_rx, weekday_rx, relative_rx, time_rx, decimal, (grouping[0], grouping[1]),
                   # Only with the file's words: "3 milhões" and "por cento" need the magnitudes and percent.
                   language if language in _SPELLED and magnitudes and percent else None,
                   re.compile(rf"(?<!\w)(?:{_alternation(percent)})(?!\w)", re.IGNORECASE) if percent else None,
                   changes, tuple(fold(w) for w in words.get("titles", [])),
                   frozenset(fold(w) for w in words.get("said", [])),
                   tuple(words.get("ordinal_marks", [])), multiples)


locales.derived(reading.cache_clear)  # a config's own language file replaces these words


def _grouped_with_commas(grouping: tuple[int, int]) -> str:
    """Digits grouped with commas as CLDR's (primary, secondary) grouping says: "1,500,000" or "15,00,000"."""
    primary, secondary = grouping
    return rf"\d{{1,{secondary}}}(?:,\d{{{secondary}}})*,\d{{{primary}}}"


# The languages whose number words text2num reads, and, as written, words of theirs that standing alone
# are as often no number: "un stade neuf" (new), "die deutsche Elf" (the team), "außer Acht lassen".
# In a compound they are ("dix-neuf"). A language is read so once its locale file gives its [grounding] words.
_SPELLED = {"de": frozenset({"Elf", "Acht"}), "fr": frozenset({"neuf"}), "es": frozenset(), "pt": frozenset(),
            "it": frozenset(), "nl": frozenset(), "da": frozenset()}
# Ordinals text2num reads as cardinals: "el tercer trimestre" is the third quarter, not 3.
_MISREAD_ORDINALS = {"es": frozenset({"tercer"})}
# Plurals that give no number, which text2num reads as one: "miles de personas" is thousands, not 1,000.
_VAGUE = {"es": frozenset({"miles", "cientos", "centenares", "millares", "decenas"}),
          "pt": frozenset({"milhares", "centenas", "dezenas"})}
_WORD_TOKEN = re.compile(r"\w+|[^\w\s]")
# Text without a word (a figure, a date, a time) holds no number word: no need to cut it into tokens.
_HAS_LETTERS = re.compile(r"[^\W\d_]{2}")


class _Token:
    """A word or mark of the text, as text2num's ``find_numbers`` reads a token stream."""

    __slots__ = ("word", "start", "kept")

    def __init__(self, word: str, start: int, kept: bool):
        self.word, self.start, self.kept = word, start, kept

    def text(self) -> str:
        return self.word

    def nt_separated(self, previous: _Token) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return self.kept


class _Respelled:
    """``text`` with its number words written as digits, and the way back to ``text``'s offsets."""

    def __init__(self, pieces: list[tuple[int, int, int, int]]):
        # (start, end) in the new text, (start, end) in the old, of each number written anew
        self.pieces = pieces
        self.starts = [p[0] for p in pieces]

    @classmethod
    def of(cls, text: str, r: Reading):
        """(text with digits, offset mapper back), or (text, None) when it holds no number word to read."""
        if not _HAS_LETTERS.search(text):
            return text, None
        from text_to_num import find_numbers

        tokens = [_Token(m.group(), m.start(), False) for m in _WORD_TOKEN.finditer(text)]
        if r.percent_rx:  # "pour cent" is no hundred
            starts = [t.start for t in tokens]
            for m in r.percent_rx.finditer(text):
                for t in tokens[bisect.bisect_left(starts, m.start()):bisect.bisect_left(starts, m.end())]:
                    t.kept = True
        out, pieces, at = [], [], 0
        length = 0
        for found in find_numbers(tokens, r.spelled, threshold=2):
            stop = found.end
            if found.value != int(found.value):
                # text2num drops the magnitude after a spelled decimal ("dos coma cinco millones" is 2.5):
                # leave the magnitude words as words, so that they scale the digits as they do "2,5 millones"
                while stop - 1 > found.start and fold(tokens[stop - 1].word) in r.magnitudes:
                    stop -= 1
            first, last = tokens[found.start], tokens[stop - 1]
            start, end = first.start, last.start + len(last.word)
            written = [t.word for t in tokens[found.start:stop] if t.word.isalpha()]
            if (found.is_ordinal or found.value in (0, 1) or all(fold(w) in r.magnitudes for w in written)
                    or all(w in _SPELLED[r.spelled] for w in written) or start < at
                    or any(fold(w) in _MISREAD_ORDINALS.get(r.spelled, ()) for w in written)
                    or all(fold(w) in _VAGUE.get(r.spelled, ()) for w in written)
                    or (written and fold(written[0]) in r.magnitudes)):  # "120 millions un an": the digits' word
                continue  # "ein", "dritte", "Milliarden" after digits, "neuf" alone: English's rules leave them too
            digits = (str(int(found.value)) if found.value == int(found.value)
                      else repr(found.value).replace(".", r.decimal))  # "3,125" where the comma is the mark
            out.append(text[at:start])
            length += start - at
            pieces.append((length, length + len(digits), start, end))
            out.append(digits)
            length += len(digits)
            at = end
        if not pieces:
            return text, None
        out.append(text[at:])
        return "".join(out), cls(pieces).back

    def back(self, offset: int, end: bool = False) -> int:
        """``offset`` of the new text in the old: a position inside a number's digits is its words' start
        (or their end, for the ``end`` of a span)."""
        k = bisect.bisect_right(self.starts, offset) - 1
        if k < 0:
            return offset
        new_start, new_end, old_start, old_end = self.pieces[k]
        if offset >= new_end:
            return old_end + offset - new_end
        return old_end if end and offset > new_start else old_start
