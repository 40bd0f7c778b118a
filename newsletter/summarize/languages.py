"""How a language other than English writes the facts the grounding gate checks.

    r = reading("de")
    r.numbers("Der Leitzins stieg auf 3,5 Prozent.")   # [((start, end), Decimal('3.5'), True, None, None)]
    r.dates("am 27. November")                         # [((11, 27), None, span)]

English is ``claims``' own rules; this module gives every other language the same shapes.
What CLDR knows comes from Babel: month and weekday names (wide and abbreviated), the decimal
and grouping symbols ("3,5" and "1.500" in German, "1 500" in French). What it does not
know (the words for percent, million and billion, currencies and units, "yesterday") is in the
language's locale file, ``[grounding]`` (see newsletter/locales/de.toml). A language without
that table still gets digits, dates and day names. Words are compared with case and diacritics
folded ("Milliarden" = "milliarden", "años" = "anos").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

Span = tuple[int, int]
NumberFound = tuple[Span, Span, Decimal, bool, "str | None", "str | None"]  # whole, digits, value, pct, currency, unit

_CURRENCY_SYMBOLS = {"$": "dollar", "us$": "dollar", "€": "euro", "£": "pound", "¥": "yen"}
_SPACES = "\u00a0\u202f"  # no-break and narrow no-break: how CLDR groups thousands in French


def fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.replace("ß", "ss"))
    return "".join(c for c in word if not unicodedata.combining(c)).replace("’", "'").casefold()


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

    def numbers(self, text: str) -> list[NumberFound]:
        out = []
        for m in self.number_rx.finditer(text):
            value = self._value(m.group("num"))
            if value is None:
                continue
            cur = _CURRENCY_SYMBOLS.get((m.group("cur") or m.group("cur2") or "").lower())
            exponent = self.magnitudes.get(" ".join(fold(m.group("mag") or "").rstrip(".").split()), 0)
            word = fold(m.group("unit") or "")
            cur = cur or self.currencies.get(word)
            unit = self.units.get(word) if not m.group("pct") else None
            # What the report shows: up to the unit or currency when there is one, not the next word.
            end = m.end() if (unit or word in self.currencies) else m.start("unit") if m.group("unit") else m.end()
            out.append(((m.start(), end), m.span("num"), value.scaleb(exponent).normalize(), bool(m.group("pct")),
                        cur, unit))
        return out

    def _value(self, raw: str) -> Decimal | None:
        digits = re.sub(rf"[\s{_SPACES}]", "", raw)
        if self.decimal == "," and re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", digits):
            digits = digits.replace(".", "")  # 1.500 = 1500
        digits = digits.replace(",", ".") if self.decimal == "," else digits.replace(",", "")
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
                out.append(((self.months[fold(m.group("m")).rstrip(".")], day), year, m.span()))
        for rx in self.numeric_date_rxs:
            for m in rx.finditer(text):
                day, month = int(m.group("d")), int(m.group("mo"))
                if 1 <= day <= 31 and 1 <= month <= 12:
                    out.append(((month, day), int(m.group("y")) if m.group("y") else None, m.span()))
        return out

    def months_alone(self, text: str) -> list[tuple[int, int | None, Span]]:
        """(month, year or None, the name's span): the year's digits are a number of their own."""
        return [(self.months[fold(m.group("m"))], int(m.group("y")) if m.group("y") else None, m.span("m"))
                for m in self.month_rx.finditer(text)]

    def weekdays_named(self, text: str) -> list[tuple[int, str]]:
        return [(self.weekdays[fold(m.group(1))], m.group(0)) for m in self.weekday_rx.finditer(text)]

    def relative(self, text: str) -> list[int]:
        if self.relative_rx is None:
            return []
        return [self.relative_days[fold(m.group(1))] for m in self.relative_rx.finditer(text)]

    def times(self, text: str) -> list[tuple[str, Span]]:
        out = []
        for m in self.time_rx.finditer(text):
            hour, minutes = m.group("h") or m.group("h2"), m.group("min") or m.group("min2") or "00"
            if int(hour) < 24:
                out.append((f"{int(hour)}:{minutes}", m.span()))
        return out


@functools.cache
def reading(code: str) -> Reading | None:
    """How ``code`` writes numbers, dates and days; None for English (``claims``' own rules) or a code
    Babel does not know."""
    from babel import Locale as CLDR, UnknownLocaleError
    from babel.dates import get_day_names, get_month_names
    from babel.numbers import get_decimal_symbol, get_group_symbol

    from newsletter.locales import locale, resolve

    if code.split("-")[0].casefold() == "en":
        return None
    try:
        CLDR.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
    code = code.replace("-", "_")
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
    point = "," if decimal == "." else "."  # the other mark: a decimal point written the English way stays one

    magnitudes = {fold(k): v for k, v in words.get("magnitudes", {}).items()}
    percent = words.get("percent", [])
    currencies = {fold(k): v for k, v in words.get("currencies", {}).items()}
    units = {fold(k): v for k, v in words.get("units", {}).items()}
    relative = {fold(k): v for k, v in words.get("relative_days", {}).items()}

    num = rf"\d{{1,3}}(?:[{groups}]\d{{3}})+(?:{re.escape(decimal)}\d+)?|\d+{re.escape(decimal)}\d+|\d+(?:{re.escape(point)}\d+)?"
    mag = rf"(?:\s?(?P<mag>{_alternation(magnitudes)})\b\.?)?" if magnitudes else r"(?P<mag>(?!))?"
    pct = rf"(?P<pct>\s?%|\s(?:{_alternation(percent)})\b)?" if percent else r"(?P<pct>\s?%)?"
    number_rx = re.compile(
        rf"(?P<cur>US\$|[$€£¥])?\s?(?<![\d.,])(?P<num>{num}){mag}{pct}(?:\s?(?P<cur2>[$€£¥]))?"
        rf"(?:[\s-](?:(?:de|del|d['’])\s?)?(?P<unit>[^\W\d_][\w'-]*))?", re.IGNORECASE)
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
    return Reading(found or code, magnitudes, currencies, units, months, weekdays, relative, number_rx, date_rx,
                   numeric_dates, month_rx, weekday_rx, relative_rx, time_rx, decimal)
