"""Numbers as a text writes them, read into comparable quantities: value, percent sign, currency, unit.

    [n for _, n in english_numbers("Exports fell 4.2% to $1.31bn.")]
    # [Number(value=Decimal('4.2'), pct=True, ...), Number(value=Decimal('1.31E+9'), currency='dollar', ...)]

"$3.5T" = "3.5 trillion dollars" = "3,500 billion"; "four" = "4"; "47 per cent" = "47%". A range's
first end borrows what its second end carries ("from 141 to 118 million": 141 million); each number
has the change its words give it ("fell 12%": ``changes``), and two numbers may be a move ("from 52 to
41"). Scores ("31-9") are read here too. A bullet's numbers become claims (``claims``); a source's
sentences are read here whole (``sentence_numbers``), by English rules and by its own language's
(``languages``), for what it can vouch for (``facts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from newsletter.summarize.changes import DURATION, ENGLISH, MOVE_LINKS, YEAR, ChangeWords, direction_at, moves
from newsletter.summarize.changes import key as change_key
from newsletter.summarize.languages import CURRENCY_SYMBOLS, Reading

_MAGNITUDE_WORDS = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_MAGNITUDE_SHORT = {"k": 3, "m": 6, "mn": 6, "mln": 6, "b": 9, "bn": 9, "t": 12, "tn": 12, "trn": 12}
_SHORT_WITHOUT_CURRENCY = {"mn", "mln", "bn", "tn", "trn"}  # "100m" alone is as likely metres
CURRENCY_WORDS = {
    "dollar": "dollar", "dollars": "dollar", "usd": "dollar", "euro": "euro", "euros": "euro", "eur": "euro",
    "pound": "pound", "pounds": "pound", "gbp": "pound", "sterling": "pound", "yen": "yen", "jpy": "yen",
    "crown": "crown", "crowns": "crown", "krona": "crown", "kronor": "crown", "kroner": "crown",
    "franc": "franc", "francs": "franc", "chf": "franc", "yuan": "yuan", "rupee": "rupee", "rupees": "rupee",
}
_UNITS = {
    "year": "year", "years": "year", "yr": "year", "month": "month", "months": "month", "week": "week",
    "weeks": "week", "day": "day", "days": "day", "hour": "hour", "hours": "hour", "minute": "minute",
    "minutes": "minute", "second": "second", "seconds": "second", "km": "km", "kilometre": "km",
    "kilometres": "km", "kilometer": "km", "kilometers": "km", "mile": "mile", "miles": "mile",
    "metre": "metre", "metres": "metre", "meter": "metre", "meters": "metre", "kg": "kg", "kilogram": "kg",
    "kilograms": "kg", "tonne": "tonne", "tonnes": "tonne", "ton": "tonne", "tons": "tonne", "mw": "mw",
    "megawatt": "mw", "megawatts": "mw", "gw": "gw", "gigawatt": "gw", "gigawatts": "gw", "kwh": "kwh",
    "degree": "degree", "degrees": "degree", "point": "point", "points": "point", "seat": "seat",
    "seats": "seat", "vote": "vote", "votes": "vote",
}
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                      "ninety": 90, "hundred": 100, "dozen": 12})
# Too often not a quantity ("one analyst", "no one") to be a claim in model text; still matched in sources.
NOT_CLAIMED_NUMBER_WORDS = {"zero", "one", "hundred"}

# Words after a number that are grammar, not what it counts ("14 of them", "5 to 7").
_NOT_COUNTED = frozenset("""
    of to in on at by and or the a an from for with per than as more less over under into up down
    were was are is have has had be been will would could may might said says after before since
    last next this that these those now then earlier later ago previously each every apiece overall
    instead respectively today yesterday tomorrow
    """.split())
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORDNUM = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_UNITS_DIGIT = "one|two|three|four|five|six|seven|eight|nine"  # the "-five" of "twenty-five"
_NUMBER = re.compile(
    rf"(?P<cur>US\$|[$€£¥])?\s?(?P<num>{_NUM}|\b(?:{_WORDNUM})(?:[- ](?:{_UNITS_DIGIT}))?\b)"
    rf"(?:[\s-]?(?P<magw>thousand|million|billion|trillion)\b|(?P<mags>trn|mln|mn|bn|tn|[kmbt])\b)?"
    rf"(?P<pct>\s?%|\s(?:per\s?cent|percent)\b)?"
    rf"(?:[\s-](?:(?:percentage|basis)\s)?(?P<unit>(?!(?:{_WORDNUM})\b)[A-Za-z]+))?",
    re.IGNORECASE)


@dataclass(frozen=True)
class Number:
    value: Decimal
    pct: bool
    currency: str | None
    unit: str | None  # a measurement unit: hours, km, tonnes, points
    noun: str | None = None  # any other word it counts: "14 sites"
    direction: str | None = None  # the change the text gives it ("fell 12%": changes.DOWN); not part of matches
    # Read as a range's first end ("from 141 to 118 million": 141 million), the number as written (141):
    # a source may hold either (``_ranges``).
    plain: Number | None = field(default=None, compare=False)

    def matches(self, other: Number) -> bool:
        """The same quantity: equal value, percent both or neither, no clash of currency or unit.

        A number counting a measured unit on one side and something else on the other
        ("14 hours" against "14 sleeper cars") is not the same quantity.
        """
        return (self.value == other.value and self.pct == other.pct
                and not (self.currency and other.currency and self.currency != other.currency)
                and not (self.unit and other.unit and self.unit != other.unit)
                and not (self.unit and other.noun) and not (self.noun and other.unit))


def _parse_number(m: re.Match) -> Number | None:
    raw = m.group("num").lower()
    try:
        if raw[0].isdigit():
            value = Decimal(raw.replace(",", ""))
        else:
            value = Decimal(sum(_NUMBER_WORDS[p] for p in re.split(r"[- ]", raw)))
    except (InvalidOperation, KeyError):
        return None
    cur = CURRENCY_SYMBOLS.get((m.group("cur") or "").lower())
    exponent = 0
    if m.group("magw"):
        exponent = _MAGNITUDE_WORDS[m.group("magw").lower()]
    elif m.group("mags"):
        short = m.group("mags").lower()
        if cur or short in _SHORT_WITHOUT_CURRENCY:
            exponent = _MAGNITUDE_SHORT[short]
    unit_word = (m.group("unit") or "").lower()
    cur = cur or CURRENCY_WORDS.get(unit_word)
    unit = _UNITS.get(unit_word) if not m.group("pct") else None
    if unit and m.string[m.end():m.end() + 4].lower() in ("-old", " old"):
        unit = unit_word = None  # "16-year-olds": an age, which "at age 16" gives as a bare number
    noun = unit_word if unit_word and not (unit or cur or m.group("pct") or unit_word in _NOT_COUNTED) else None
    return Number(value.scaleb(exponent).normalize(), bool(m.group("pct")), cur, unit, noun)


def english_numbers(text: str) -> list[tuple[re.Match, Number]]:
    out = []
    for m in _NUMBER.finditer(text):
        n = _parse_number(m)
        if n is not None:
            out.append((m, n))
    return out


# What joins a range's two ends: "from 141 to 118 million", "von 5,8 auf 5,1 Prozent", "de 310 à 455 millions".
_RANGE_JOIN = re.compile(rf"\s*(?:{'|'.join(sorted(MOVE_LINKS | {'and', 'or', 'und', 'oder', 'al', 'et', 'ou', 'y', 'o'}))}|[-–—])"
                         r"(?:\s*\b(?:un|el)\b)?\s*", re.IGNORECASE)  # "entre un 5 y un 7 %"


def _ranges(text: str, found: list[tuple[int, int, Number | None, Decimal | None]]) -> list[Number | None]:
    """For each number, what it reads as when it is the first end of a range whose second end carries
    the magnitude, percent sign, currency or unit for both ("from 141 to 118 million litres"), else None.
    ``found``: each number's start and the end of its figure, its value, and the value of its digits alone."""
    out: list[Number | None] = [None] * len(found)
    for k, ((_, a_end, a, a_digits), (b_start, _, b, b_digits)) in enumerate(zip(found, found[1:])):
        if (a is None or b is None or not a_digits or not b_digits or a.value != a_digits or a.pct
                or not _RANGE_JOIN.fullmatch(text[a_end:b_start])):
            continue
        bare = not (a.currency or a.unit)
        borrowed = replace(a, value=(a.value * (b.value / b_digits)).normalize(), pct=bare and b.pct,
                           currency=a.currency or b.currency, unit=a.unit or (b.unit if bare else None), plain=a)
        out[k] = borrowed if borrowed != a else None
    return out


def _digits_value(raw: str) -> Decimal | None:
    """The value of a number as written, without its magnitude word: "1,250" 1250, "twenty-five" 25."""
    try:
        if raw[0].isdigit():
            return Decimal(raw.replace(",", ""))
        return Decimal(sum(_NUMBER_WORDS[p] for p in re.split(r"[- ]", raw.lower())))
    except (InvalidOperation, KeyError):
        return None


def english_ranges(text: str, found: list[tuple[re.Match, Number]]) -> list[Number | None]:
    return _ranges(text, [(m.start(), core_end(m), n, _digits_value(m.group("num"))) for m, n in found])


def read_ranges(text: str, found: list, r: Reading) -> list[Number | None]:
    return _ranges(text, [(whole[0], digits[1], Number(value, pct, cur, unit) if value is not None else None,
                           r.digits_value(text[digits[0]:digits[1]])) for whole, digits, value, pct, cur, unit in found])


def core_end(m: re.Match) -> int:
    """Where the number itself ends, before the word it counts ("12% drop": after the "%")."""
    return max(m.end(group) for group in ("num", "magw", "mags", "pct") if m.group(group))


_YEAR = re.compile(r"(?:1[89]|2[01])\d\d")
# What stands before four digits that are a year ("in 2025", "seit 2019", "depuis 2020", "of 2024").
_BEFORE_A_YEAR = re.compile(r"\b(?:in|since|until|by|during|of|im|seit|bis|en|depuis|desde|hasta|de|del)\s+$",
                            re.IGNORECASE)


# A number a move goes on from: "lost $2.10 to $41.30", "verlor 2,10 Euro auf 41,30 Euro".
_MOVE_ON = re.compile(rf"[^\S\n]*(?:[A-Za-zÀ-ÿ]+[^\S\n]+)?(?:{'|'.join(sorted(MOVE_LINKS))})[^\S\n]+\D{{0,3}}\d")


def change_at(text: str, span: tuple[int, int], n: Number, digits: tuple[int, int],
            words: ChangeWords | None = ENGLISH) -> tuple[str, int, int] | None:
    """The change ``text`` gives the number at ``span`` (its ``digits``: ``changes.direction_at``), or
    None. A year moves with nothing ("rose 4% in 2025"), whatever word stands near it; "add 1900 jobs" is
    a count."""
    if words is None:
        return None
    if (_YEAR.fullmatch(text[digits[0]:digits[1]]) and not (n.pct or n.currency or n.noun)
            and _BEFORE_A_YEAR.search(text[max(0, digits[0] - 12):digits[0]])):
        return None
    found = direction_at(text, *span, words)
    if (found and n.currency and change_key(text[found[1]:found[2]]) in words.amounts
            and not _MOVE_ON.match(text, span[1])):
        return None  # "lost $300 million": the size of a loss, not a fall ("lost $2.10 to $41.30" is one)
    return found


def _way(sentence: str, span: tuple[int, int], n: Number, digits: tuple[int, int],
         words: ChangeWords | None) -> Number:
    """``n`` with the direction of the change a source's ``sentence`` gives it, if any."""
    found = change_at(sentence, span, n, digits, words)
    return replace(n, direction=found[0]) if found else n


def sentence_numbers(sentence: str, own: tuple[_Own, ...] = ()) -> tuple[list[Number], _Moves]:
    """A source sentence's numbers, read by English rules, each with its change (a sentence without a
    word of change, most of them, is not looked at for one), and the moves between them; ``own``: the
    sentence as its own language reads it (``_read_alike``)."""
    words = ENGLISH if ENGLISH.mentions(sentence) else None
    found = english_numbers(sentence)
    if own:
        found = [(m, n) for m, n in found if _read_alike(sentence, m, own)]
    read = [_way(sentence, (m.start(), core_end(m)), n, m.span("num"), words) for m, n in found]
    ranged = english_ranges(sentence, found)
    ends = [((m.start(), core_end(m), move_kind(m.group("num"), n)), r or n) for (m, n), r in zip(found, ranged)]
    return read + _ranged(read, ranged), moves_between(sentence, ends, ENGLISH)


# A sentence as its own language reads it: the reading, its numbers, and the spans of the days and months
# of its dates written in figures ("am 17.5." is the 17th of May, not 17.5).
_Own = tuple[Reading, list, list[tuple[int, int]]]


def own_reading(sentence: str, r: Reading) -> _Own:
    dated = [(m.start(), m.end("mo")) for rx in r.numeric_date_rxs for m in rx.finditer(sentence)]  # the year is one
    numbers = r.numbers(sentence)
    if dated:
        numbers = [n for n in numbers if not any(a < n[1][1] and n[1][0] < b for a, b in dated)]
    return r, numbers, dated


def _read_alike(sentence: str, m: re.Match, own: tuple[_Own, ...]) -> bool:
    """Whether the figure English rules read at ``m`` is one the source's own language reads the same.
    English splits "17,5" into 17 and 5 and French "1 200" into 1 and 200, and reads German "17.500" as
    17.5 and the date "17.5." as a number: each would vouch for a number the source does not give. A
    figure its language gives no value ("27.11.2026" unless a date) is left to English."""
    a, b = m.span("num")
    if not sentence[a].isdigit():
        return True
    for r, numbers, dated in own:
        if any(start < b and a < end for start, end in dated):
            return False
        for _, (start, end), *_ in numbers:
            if start < b and a < end:
                value = r.digits_value(sentence[start:end])
                if value is not None and ((start, end) != (a, b) or value != _digits_value(m.group("num"))):
                    return False
    return True


def sentence_numbers_read(sentence: str, r: Reading, found: list | None = None) -> tuple[list[Number], _Moves]:
    """The same, read as ``r`` says (``found``: ``r.numbers(sentence)``, if read already); numbers it
    cannot give a value are left out."""
    words = r.changes if r.changes is not None and r.changes.mentions(sentence) else None
    found = r.numbers(sentence) if found is None else found
    read = [_way(sentence, whole, Number(value, pct, cur, unit), digits, words) if value is not None else None
            for whole, digits, value, pct, cur, unit in found]
    ranged = read_ranges(sentence, found, r)
    ends = [((whole[0], whole[1], move_kind(sentence[digits[0]:digits[1]], n)), b or n)
            for (whole, digits, *_), n, b in zip(found, read, ranged) if n is not None]
    return [n for n in read if n] + _ranged(read, ranged), moves_between(sentence, ends, r.changes)


# A move between two numbers: where it started, where it ended ("cut to 41 million from 52 million": 52, 41).
Move = tuple[Number, Number]
End = tuple[tuple[int, int, "str | None"], Number]  # a number's span, its kind for a move, its value


@dataclass(frozen=True)
class _Moves:
    """A text's moves, each with its span from first number to last, and every number it gives as where a
    move ended ("to 41"), paired with a start or not."""

    found: list[tuple[Move, tuple[int, int]]] = field(default_factory=list)
    ends: list[Number] = field(default_factory=list)


_DURATIONS = frozenset("year month week day hour minute second".split())


def move_kind(digits: str, n: Number) -> str | None:
    """``changes.YEAR``, ``changes.DURATION`` or None: what the number may be in a move."""
    if _YEAR.fullmatch(digits) and not (n.pct or n.currency or n.unit):
        return YEAR
    return DURATION if n.unit in _DURATIONS else None


def moves_between(text: str, ends: list[End], words: ChangeWords | None) -> _Moves:
    """The moves ``text`` states between its numbers, in the words of its language (``changes.moves``)."""
    if words is None or words.moves is None or len(ends) < 2:
        return _Moves()
    spans = [span for span, _ in ends]
    pairs, marked = moves(text, spans, words.moves)
    return _Moves([((ends[a][1], ends[b][1]), (min(spans[a][0], spans[b][0]), max(spans[a][1], spans[b][1])))
                   for a, b in pairs], [ends[k][1] for k in sorted(marked)])


def _ranged(read: list[Number | None], ranged: list[Number | None]) -> list[Number]:
    """A source's range ends read the short way too ("from 141 to 118 million": also 141 million), with
    the change read for the number as written."""
    return [replace(borrowed, direction=n.direction) for n, borrowed in zip(read, ranged) if n and borrowed]


# Not inside a longer figure: "from 1,250 to 1,480" holds no score "250 to 1"; "141 to 118 million"
# or "5 to 7%" is a range of quantities (``_ranges``), not a score; and "from 210 pounds to 185" is a move
# (``scores``).
_SCORE = re.compile(r"(?<![\d,.])\b(\d{1,3})\s?(?:[-–—]|\s(?:\w+\s)?(?P<to>to)\s)\s?(\d{1,3})\b(?![-–—/:.,]\d)"
                    r"(?!\s?(?:%|per\s?cent|percent|thousand|million|billion|trillion|bn|mn|m|k)\b)", re.IGNORECASE)


_FROM_BEFORE = re.compile(r"\bfrom\s*$", re.IGNORECASE)


def scores(text: str) -> list[tuple[frozenset[int], tuple[int, int]]]:
    return [(frozenset({int(m.group(1)), int(m.group(3))}), m.span()) for m in _SCORE.finditer(text)
            if not (m.group("to") and _FROM_BEFORE.search(text, max(0, m.start() - 6), m.start()))]
