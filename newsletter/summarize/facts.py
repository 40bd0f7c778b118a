"""What a source can vouch for: every fact of its text, read once per story, to check claims against.

    facts = SourceFacts.of(text, published)
    facts.supports(extract_claims("Okonkwo said bills fell 47% on Monday.", vocab)[0])

A source is read in English and in its own language (``languages``), so a German source's "3,5 Prozent"
holds a bullet's "3.5%". A claim is held when the source gives the same value in any form
(``claims``): a number with no clash of currency or unit, a date whose year is unsure, a weekday as the
date it names, a surname for a full name, the quote in its words and given to the bullet's speaker. A
change or a move is refused only when the source gives it the other way round. A multiple ("tripled")
is held by the same multiple in English or the source's own language, or by a move of the source's
whose two numbers make it; a source in a language whose locale file gives no words of multiples is not
judged on one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from newsletter.summarize import multiples, ordinals
from newsletter.summarize.claims import Claim
from newsletter.summarize.changes import UP
from newsletter.summarize.dates import (MONTH_ALONE, MONTHS, RELATIVE, RELATIVE_DAYS, TIME, WEEKDAY,
                                         WEEKDAY_LOOKBACK_DAYS, WEEKDAYS, resolve_year, time_key, written_dates)
from newsletter.summarize.languages import Reading, fold
from newsletter.summarize.names import NAME_CONNECTORS, name_tokens, stem
from newsletter.summarize.numbers import Move, Number, own_reading, sentence_numbers, sentence_numbers_read
from newsletter.summarize.quotes import quote_key, quoted_sentences
from newsletter.summarize.sentences import split_sentences

_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
# Two capitalised words side by side: a first name and a surname, where a source writes them ("Olaf Brandt").
# Read overlapping, from word starts only: "sprach Petra Schmitt" gives (sprach, Petra) and (Petra, Schmitt);
# read without overlap the second pair was lost, and trying inside each word made a long one quadratic.
_NAME_PAIR = re.compile(r"(?<![\w'’-])(?=([^\W\d_][\w'’-]+)[^\S\n]+([^\W\d_][\w'’-]+))")


@dataclass
class SourceFacts:
    """What one source can vouch for, precomputed once per story."""

    numbers: list[Number] = field(default_factory=list)
    sentences_numbers: list[set[Decimal]] = field(default_factory=list)
    times: set[str] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    loose_dates: set[tuple[int, int]] = field(default_factory=set)
    weekdays: set[int] = field(default_factory=set)
    months: set[int] = field(default_factory=set)
    tokens: list[str] = field(default_factory=list)
    quote_text: str = ""
    sentences: list[str] = field(default_factory=list)
    english: bool = True  # read by English rules alone (no reading of another language)
    figures: set[str] = field(default_factory=set)  # every run of digits and marks as written: "1,5"
    moves: list[Move] = field(default_factory=list)
    move_ends: list[Number] = field(default_factory=list)  # every number given as where a move ended
    readings: tuple[Reading, ...] = ()

    @classmethod
    def of(cls, text: str, published: datetime | None = None, readings: tuple[Reading, ...] = ()) -> SourceFacts:
        """What ``text`` holds, read in English and in each of ``readings`` (its own language's)."""
        day = published.date() if published else None
        f = cls()
        sentences = split_sentences(text)
        # Read sentence by sentence, once: the text's numbers are its sentences' numbers. Its own
        # language's reading goes first, as English rules keep only the figures it reads alike.
        own = [[own_reading(sentence, r) for sentence in sentences] for r in readings]
        found = [sentence_numbers(sentence, tuple(read[k] for read in own)) for k, sentence in enumerate(sentences)]
        f.numbers = [n for numbers, _ in found for n in numbers]
        f.moves = [move for _, moves in found for move, _ in moves.found]
        f.move_ends = [n for _, moves in found for n in moves.ends]
        f.sentences_numbers = [{n.value for n in numbers} for numbers, _ in found]
        f.times = {time_key(m) for m in TIME.finditer(text)}
        for md, year, _ in written_dates(text):
            f._add_date(md, year, day)
        for m in MONTH_ALONE.finditer(text):
            f.months.add(MONTHS[m.group("m").lower()])
        for m in WEEKDAY.finditer(text):
            f._add_weekday(WEEKDAYS[m.group(1).lower()], day)
        if day:
            for m in RELATIVE.finditer(text):
                f.dates.add(day + timedelta(days=RELATIVE_DAYS[m.group(1).lower()]))
        for r, read in zip(readings, own):
            f._read(text, sentences, [numbers for _, numbers, _ in read], day, r)
        f.months |= {d.month for d in f.dates} | {md[0] for md in f.loose_dates}
        f.weekdays |= {d.weekday() for d in f.dates}
        f.tokens = name_tokens(text)
        f.quote_text = f" {quote_key(text)} "
        f.sentences, f.english, f.readings = sentences, not readings, readings
        f.figures = set(_FIGURE.findall(text))
        return f

    def _read(self, text: str, sentences: list[str], numbers: list[list], day: date | None, r: Reading) -> None:
        """Add what ``text`` (split into ``sentences``, whose ``numbers`` ``r`` read) holds when read as ``r`` says."""
        found = [sentence_numbers_read(sentence, r, read) for sentence, read in zip(sentences, numbers)]
        self.numbers += [n for numbers, _ in found for n in numbers]
        self.moves += [move for _, moves in found for move, _ in moves.found]
        self.move_ends += [n for _, moves in found for n in moves.ends]
        for values, (numbers, _) in zip(self.sentences_numbers, found):
            values |= {n.value for n in numbers}
        self.times |= {key for key, _ in r.times(text)}
        for md, year, _ in r.dates(text):
            self._add_date(md, year, day)
        self.months |= {month for month, _, _ in r.months_alone(text)}
        for wd, _ in r.weekdays_named(text):
            self._add_weekday(wd, day)
        if day:
            self.dates |= {day + timedelta(days=offset) for offset in r.relative(text)}

    def _add_date(self, md: tuple[int, int], year: int | None, day: date | None) -> None:
        """A written date, which a claim of the same day and month matches even when its year is unsure."""
        self.loose_dates.add(md)
        resolved = resolve_year(*md, year, day)
        if resolved:
            self.dates.add(resolved)

    def _add_weekday(self, wd: int, day: date | None) -> None:
        self.weekdays.add(wd)
        if day:  # also the date it names, for a claim that gives the date instead
            self.dates.add(day - timedelta(days=(day.weekday() - wd) % WEEKDAY_LOOKBACK_DAYS))

    def supports(self, claim: Claim) -> bool:
        check = getattr(self, f"_{claim.kind}")
        return check(claim)

    def _number(self, c: Claim) -> bool:
        if isinstance(c.key, str):  # digits with no value to compare (see claims._claims_read): as written
            return c.key in self.figures
        return any(n.matches(key) for key in _readings(c.key) for n in self.numbers)

    def _change(self, c: Claim) -> bool:
        """The number with the same change, or with none: only a source that gives it the opposite
        change throughout contradicts the bullet."""
        return any(n.matches(key) and n.direction in (None, c.key.direction)
                   for key in _readings(c.key) for n in self.numbers)

    def _move(self, c: Claim) -> bool:
        """A move the other way round ("from 41 to 52" where the source went from 52 to 41) is refused,
        unless the source also gives it this way, or gives its end as where some move ended ("rose from 3
        to 4, then fell back to 3"); a source without the move contradicts nothing."""
        start, end = c.key
        if not any(_same(start, b) and _same(end, a) for a, b in self.moves):
            return True
        return any(_same(start, a) and _same(end, b) for a, b in self.moves) or any(
            _same(end, n) for n in self.move_ends)

    def _direction(self, c: Claim) -> bool:
        """"38 percent, down from 3 percent" where the source moves from 3 to 38 is refused: its numbers
        go up. A source without that move contradicts nothing."""
        start, end, way = c.key
        return not any(_same(start, a) and _same(end, b) and a.value != b.value
                       and (b.value > a.value) != (way == UP) for a, b in self.moves)

    def _multiple(self, c: Claim) -> bool:
        """"Revenue tripled" needs a source that says three times over, in any words of English or of its
        own language; "doubled" is no tripling. A source in a language whose words of multiples are unknown
        (its locale file gives none) is not judged."""
        if any(r.multiples is None for r in self.readings):
            return True
        return c.key in self.multiples or any(_about(b.value / a.value, c.key)
                                              for a, b in self.moves if a.value > 0 < b.value)

    @cached_property
    def multiples(self) -> frozenset[float]:
        """The factors the source says, in English and its own language (read when a bullet has a multiple)."""
        found = {factor for sentence in self.sentences for _, factor in multiples.said(sentence)}
        for r in self.readings:
            found |= {factor for sentence in self.sentences for _, factor in r.multiples.said_in(sentence, r.numbers)}
        return frozenset(found)

    @cached_property
    def name_pairs(self) -> frozenset[tuple[str, str]]:
        """Each two capitalised words the source writes side by side, folded (read when a bullet has a surname)."""
        return frozenset((fold(a), fold(b)) for sentence in self.sentences
                         for a, b in _NAME_PAIR.findall(sentence) if a[0].isupper() and b[0].isupper())

    @cached_property
    def ordinals(self) -> frozenset[int]:
        """The ordinals the source gives, in English and its own language (read the first time a bullet has one)."""
        text = " ".join(self.sentences)
        found = ordinals.english(text)
        for r in self.readings:
            found |= {n for n, _ in ordinals.ordinals(text, r)}
        return frozenset(found)

    def _ordinal(self, c: Claim) -> bool:
        """The same ordinal, or the number bare ("Q3", "Platz 3" for "das 3. Quartal", "der dritte Platz")."""
        return c.key in self.ordinals or any(n.value == c.key and not (n.pct or n.currency) for n in self.numbers)

    def _hour(self, c: Claim) -> bool:
        """"21 h": the time 21:00, or 21 hours ("9 p.m.", "21 hours"; not a bare 21, nor the 9 of "9 p.m.")."""
        return f"{c.key % 24}:00" in self.times or any(n.value == c.key and n.unit == "hour" for n in self.numbers)

    def _score(self, c: Claim) -> bool:
        return any(c.key <= s for s in self.sentences_numbers)

    def _time(self, c: Claim) -> bool:
        return c.key in self.times

    def _date(self, c: Claim) -> bool:
        (month, day), year = c.key
        return any(d.month == month and d.day == day and (year is None or d.year == year) for d in self.dates) or (
            year is None and (month, day) in self.loose_dates)

    def _weekday(self, c: Claim) -> bool:
        return c.key in self.weekdays

    def _month(self, c: Claim) -> bool:
        month, year = c.key
        return month in self.months and (year is None or any(d.year == year for d in self.dates) or
                                         str(year) in self.quote_text)

    @cached_property
    def token_stems(self) -> frozenset[str]:
        """The stems of ``tokens``, for a one-word name told in another form (read when one is checked)."""
        return frozenset(stem(t) for t in set(self.tokens))

    @cached_property
    def quoted(self) -> list[tuple[str, frozenset[str], bool]]:
        """Each sentence that quotes someone: its words, the name words around the quote, and whether
        there are any (read the first time a bullet gives a quote to someone)."""
        return quoted_sentences(self.sentences)

    def _speaker(self, c: Claim) -> bool:
        """The quote's sentence gives it to one of the bullet's speakers, or says of no one that they said
        it (a pronoun, a role: the source's speaker cannot be told, and a misattribution cannot either)."""
        quote, speakers = c.key
        if f" {quote} " not in self.quote_text:
            return False  # the quote is no one's here: another source must hold it
        if not self.english:
            return True  # its speech verbs are not read: who spoke cannot be told
        found = [(words, named) for key, words, named in self.quoted if f" {quote} " in key]
        if not found:  # a quote over several sentences is not judged
            return True
        return any(not named or any(s & words for s in speakers) for words, named in found)

    def _quote(self, c: Claim) -> bool:
        return bool(c.key) and f" {c.key} " in self.quote_text

    def _surname(self, c: Claim) -> bool:
        """The name with its particles and last word, unless the source never gives the first name those particles
        ("Olaf Brandt von der Stadtverwaltung": someone from somewhere, whom other claims check)."""
        first, particles, last = c.key
        if not particles:  # a source that writes the first name beside a surname must write this one
            given = {b for a, b in self.name_pairs if a == first}
            return not given or last in given or stem(last) in {stem(b) for b in given}
        n = len(particles) + 1
        given = [i for i, t in enumerate(self.tokens) if t == first and tuple(self.tokens[i + 1:i + n]) == particles]
        return not given or any(self.tokens[i + n:i + n + 1] == [last] for i in given) or any(
            stem(t) == stem(last) for i in given for t in self.tokens[i + n:i + n + 1])

    def _name(self, c: Claim) -> bool:
        # "Leyen y Ana de la Cruz" is two names ("y" joins "Ortega y Gasset", and two people); "Olaf Brandts
        # Rede" gives Olaf Brandt's speech: each name is the source's, with or without the genitive.
        parts = _split_at(c.key, _AND)
        if len(parts) > 1:
            return all(self._name(replace(c, key=part)) for part in parts)
        if self._name_as_given(c.key):
            return True
        bare = tuple(w[:-1] if w.endswith("s") and len(w) > 3 and w not in self.tokens else w for w in c.key)
        if bare == c.key:
            return False
        # A genitive ends its name: "Brandts Rede" is Brandt and, apart, a word the source capitalises.
        cut = next((k + 1 for k in range(len(c.key) - 1) if bare[k] != c.key[k]), len(c.key))
        return all(self._name_as_given(part) for part in (bare[:cut], bare[cut:]) if part)

    def _name_as_given(self, key: tuple[str, ...]) -> bool:
        c = Claim("name", "", key)
        words = [w for w in c.key if w not in NAME_CONNECTORS] if len(c.key) > 1 else list(c.key)
        if not words:
            return True
        if len(words) == 1:  # "Pellbrooker" (of Pellbrook), "Juli" for July: one stem, one name
            return words[0] in self.tokens or stem(words[0]) in self.token_stems
        n = len(c.key)
        return any(self.tokens[i:i + n] == list(c.key) for i in range(len(self.tokens) - n + 1)) or _in_order(
            words, self.tokens)


_AND = frozenset({"y", "&"})


def _split_at(key: tuple[str, ...], joins: frozenset[str]) -> list[tuple[str, ...]]:
    """``key`` cut at each of ``joins``, into its non-empty parts."""
    parts: list[list[str]] = [[]]
    for token in key:
        if token in joins:
            parts.append([])
        else:
            parts[-1].append(token)
    return [tuple(p) for p in parts if p]


def _readings(n: Number) -> tuple[Number, ...]:
    """A claimed number, and when it is a range's first end, also as written (``numbers._ranges``)."""
    return (n,) if n.plain is None else (n, n.plain)


def _same(x: Number, y: Number) -> bool:
    """Two numbers that may be one quantity, either read as a range's first end or as written."""
    return any(p.matches(q) for p in _readings(x) for q in _readings(y))


# A name may skip a middle name or initial the source gives ("Maria Okonkwo" for "Maria L. Okonkwo").
_NAME_GAP_TOKENS = 1


def _in_order(words: list[str], tokens: list[str]) -> bool:
    for i, t in enumerate(tokens):
        if t != words[0]:
            continue
        j, k = i + 1, 1
        while k < len(words) and j < len(tokens) and j - i <= len(words) + _NAME_GAP_TOKENS:
            if tokens[j] == words[k]:
                k += 1
            j += 1
        if k == len(words) and j - i <= len(words) + _NAME_GAP_TOKENS:
            return True
    return False


# A move's own two numbers state its multiple: "to 300 from 100" is a tripling, "to 50 from 20" more than a
# doubling, "to 19 from 10" nearly one, "to 4 from 9" more than a halving. Within this share either way of the
# factor, as a bullet's "more than" or "nearly" may put it; "tripled" for "to 250 from 100" is no tripling.
MULTIPLE_SLACK = (0.9, 1.3)


def _about(ratio: Decimal, factor: float) -> bool:
    """Whether a move by ``ratio`` (end over start) is ``factor``'s, a shrinking read as its inverse."""
    ratio = float(ratio)
    if factor < 1:
        if ratio >= 1:
            return False
        ratio, factor = 1 / ratio, 1 / factor
    return MULTIPLE_SLACK[0] <= ratio / factor <= MULTIPLE_SLACK[1]
