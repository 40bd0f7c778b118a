"""The checkable facts in a sentence, and the facts a source holds, in one comparable form.

    claims = extract_claims("Okonkwo said bills fell 47% on Monday.", Vocabulary.of(source_texts))
    facts = SourceFacts.of(text, published)   # ``facts``: what a source holds
    facts.supports(claims[0])

A claim is a number (with its currency, unit and percent sign), an ordinal
("die dritte Abstimmung": ``ordinals``), a score ("31-9"), a clock time, a date,
a weekday, a month, a proper name, a quote and who said it;
the change a number went through ("fell 12%": ``changes``), the order of a move between two
("from 52 to 41") and how many times over a thing grew or shrank ("tripled", "verdreifacht":
``multiples``), in English and in the languages whose locale file gives their words.
Both sides are normalised the same way so that paraphrase does not matter:
"$3.5T" = "3.5 trillion dollars" = "3,500 billion"; "31-9" = "31 to 9"; "four" =
"4"; "47 per cent" = "47%"; diacritics, case, possessives and hyphens are folded;
a surname alone stands for the full name. Everything is rules and small word
lists: deterministic, no model, nothing downloaded.

Model text in another language (``language``: the reader's) is read the way
that language writes numbers, dates and days (``languages``): "3,5 Prozent" =
"3.5%", "27 de noviembre" = "November 27", "Freitag" = "Friday". A source is
read in English and in its own language too. Across languages a capitalised
word is a name when the sources write it as one (``known_names``), or when no
source writes it and it is no ordinary word of the text's language
(``lexicon``): every German noun is capitalised, and "Zentralbank" is no name
an English source must hold, but "Pettersen" is; so is a run of words common in
many languages ("Klaus Weber") that no article leads ("das Weiße Haus").

Each kind is read in its own module, the same way for a bullet and a source: ``numbers``,
``dates`` (times, weekdays and months too), ``names``, ``quotes`` (and who said them). This module
decides which of them a bullet claims; ``facts`` holds what a source can vouch for.

What this cannot check is meaning beyond that: "fell" for "rose" with no number
passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from newsletter.summarize import lexicon, multiples, ordinals
from newsletter.summarize.changes import DOWN, ENGLISH, UP, ChangeWords
from newsletter.summarize.dates import MONTH_ALONE, MONTHS, WEEKDAY, WEEKDAYS, bare_hours, times, written_dates
from newsletter.summarize.languages import Reading, fold, reading
from newsletter.summarize.names import (ARTICLES, NAME_CONNECTORS, NOT_NAMES, Vocabulary, is_known_name, name_runs,
                                        name_tokens, script, words_with_starts)
from newsletter.summarize.numbers import (CURRENCY_WORDS, NOT_CLAIMED_NUMBER_WORDS, End, Number, change_at, core_end,
                                          english_numbers, english_ranges, move_kind, moves_between, read_ranges,
                                          scores)
from newsletter.summarize.quotes import QUOTE, quote_key, speaking


@dataclass(frozen=True)
class Claim:
    kind: str  # number, ordinal, score, time, hour, date, weekday, month, name, surname, quote, speaker, change, move,
    # direction
    text: str  # as written, for the report
    key: object = None  # the normalised value the source must hold


def _change_claim(text: str, span: tuple[int, int], n: Number, found: tuple[str, int, int]) -> Claim:
    """A change claim, shown from its word to its number or the other way: "fell by 12%", "12% drop"."""
    _, at, stop = found
    return Claim("change", text[min(at, span[0]):max(span[1], stop)].strip(" -"), replace(n, direction=found[0]))


def _move_claims(text: str, ends: list[End], words: ChangeWords | None) -> list[Claim]:
    return [Claim("move", text[span[0]:span[1]].strip(" -"), move)
            for move, span in moves_between(text, ends, words).found]


_SINCE_WAY = re.compile(r"\b(up|down) from\b", re.IGNORECASE)


_WORD_TO = re.compile(r"[^\W\d_]+ (?:to|from)\b", re.IGNORECASE)


def _since_ways(moved: list[Claim], changes: list[Claim]) -> list[Claim]:
    """"38 percent, down from 3 percent" or "fell to 38 percent from 3 percent" calls the move from 3 to 38 a
    fall: the way it names, checked against the way the cited source's own move between those numbers goes
    (``facts``). Only a word that leads straight into the move ("fell to", "fell from") names its way."""
    out = []
    for c in moved:
        way = _SINCE_WAY.search(c.text)
        if way:
            out.append(Claim("direction", c.text, (*c.key, UP if way.group(1).lower() == "up" else DOWN)))
            continue
        end = c.key[1]
        led = next((ch for ch in changes if ch.kind == "change" and _WORD_TO.match(ch.text)
                    and ch.key.value == end.value and ch.key.pct == end.pct), None)
        if led is not None:
            shared = next((k for k in range(min(len(led.text), len(c.text)), 0, -1)
                           if led.text.endswith(c.text[:k])), 0)  # "fell to 38%" + "38% from 3%"
            out.append(Claim("direction", led.text + c.text[shared:], (*c.key, led.key.direction)))
    return out


def extract_claims(text: str, vocab: Vocabulary | None = None, language: str = "en",
                   known_names: bool = False) -> list[Claim]:
    """Every checkable claim in model text written in ``language``; ``vocab`` tells names from grammar
    (see ``Vocabulary``); ``known_names`` (across languages): what the sources write as a name is one, and so
    is a capitalised word no source writes that is no ordinary word of the language (``_unknown_words``)."""
    vocab = vocab or Vocabulary()
    other = reading(language) if language != "en" else None
    if other is not None:
        return _claims_read(text, vocab, other)
    claims = _quote_claims(text)
    taken = _Taken()
    for md, year, span in written_dates(text):
        claims.append(Claim("date", text[span[0]:span[1]], (md, year)))
        taken.append(span)
    claims += _free_claims("time", text, times(text), taken)
    claims += _free_claims("score", text, scores(text), taken)
    changes: list[Claim] = []
    ends: list[End] = []  # the numbers a move may join
    numbers = english_numbers(text)
    for (m, n), ranged in zip(numbers, english_ranges(text, numbers)):
        if m.group("num").lower() in NOT_CLAIMED_NUMBER_WORDS and not (m.group("pct") or m.group("cur")):
            continue
        if not taken.take(m.span("num")):
            continue
        n = ranged or n
        ends.append(((m.start(), core_end(m), move_kind(m.group("num"), n)), n))
        shown = m.group(0) if ((n.unit and not ranged) or CURRENCY_WORDS.get((m.group("unit") or "").lower())) \
            else text[m.start():m.start("unit") if m.group("unit") else m.end()]  # "5 to 7 months": "5"
        claims.append(Claim("number", shown.strip(" -"), n))
        found = change_at(text, (m.start(), core_end(m)), n, m.span("num"))
        if found:
            changes.append(_change_claim(text, (m.start(), core_end(m)), n, found))
    moved = _move_claims(text, ends, ENGLISH)
    changes += moved + _since_ways(moved, changes)
    for m in MONTH_ALONE.finditer(text):
        if taken.free(m.span()):
            claims.append(Claim("month", m.group(0), (MONTHS[m.group("m").lower()], int(m.group("y") or 0) or None)))
    for m in WEEKDAY.finditer(text):
        if m.group(0)[0].isupper():
            claims.append(Claim("weekday", m.group(0), WEEKDAYS[m.group(1).lower()]))
    claims += [Claim("name", run, tuple(name_tokens(run))) for run in name_runs(text, vocab, known_names)]
    if known_names:
        claims += _unknown_words(text, vocab, "en")
    claims += [Claim("multiple", text[a:b], factor) for (a, b), factor in multiples.claimed(text)]
    return claims + changes + _speaker_claims(text, claims)  # after its number: a number no source holds is the fault


_PLACE_BEFORE = re.compile(r"\b(?:Platz|Rang|Tabellenplatz)\s*$")


def _claims_read(text: str, vocab: Vocabulary, r: Reading) -> list[Claim]:
    """``extract_claims`` for text in another language than English, read as ``r`` says."""
    claims = _quote_claims(text)
    taken = _Taken()
    claims += _free_claims("date", text, [((md, year), span) for md, year, span in r.dates(text)], taken)
    claims += _free_claims("time", text, r.times(text) + times(text), taken)
    claims += _free_claims("hour", text, bare_hours(text), taken)
    claims += _free_claims("score", text, scores(text), taken)
    claims += _free_claims("ordinal", text, ordinals.ordinals(text, r), taken)
    found = r.multiples.claimed_in(text, r.numbers) if r.multiples is not None else []
    # Taken before the numbers: the three of "multiplié par trois" is the multiple's, no number a source must give.
    multiplied = _free_claims("multiple", text, [(factor, span) for span, factor in found], taken)
    changes: list[Claim] = []
    ends: list[End] = []
    numbers = r.numbers(text)
    for (whole, digits, value, pct, cur, unit), ranged in zip(numbers, read_ranges(text, numbers, r)):
        if _PLACE_BEFORE.search(text, max(0, whole[0] - 12), whole[0]):
            continue  # "auf Platz fünf": a rank, which a source gives as "fifth", no number to hold
        if taken.take(digits):
            # Digits the language would not write so ("1,5" where "." is the decimal mark) have no value
            # to compare: a source must show the same digits.
            key = ranged or (Number(value, pct, cur, unit) if value is not None else text[digits[0]:digits[1]])
            claims.append(Claim("number", text[whole[0]:whole[1]].strip(" -"), key))
            found = change_at(text, whole, key, digits, r.changes) if value is not None else None
            if found:
                changes.append(_change_claim(text, whole, key, found))
            if value is not None:
                ends.append(((whole[0], whole[1], move_kind(text[digits[0]:digits[1]], key)), key))
    changes += _move_claims(text, ends, r.changes)
    for month, year, span in r.months_alone(text):
        if taken.free(span):
            claims.append(Claim("month", text[span[0]:span[1]] + (f" {year}" if year else ""), (month, year)))
    claims += [Claim("weekday", shown, day) for day, shown in r.weekdays_named(text)]
    claims += [Claim("name", run, tuple(name_tokens(run))) for run in name_runs(text, vocab, known_only=True)]
    claims += _unknown_words(text, vocab, r.code) + _particle_names(text, vocab) + multiplied
    return claims + changes + _speaker_claims(text, claims)


TITLE_CASE_SHARE = 0.6  # of an English text's ordinary words capitalised: a headline in title case


def _title_case(words: list) -> bool:
    """Whether an English text capitalises its ordinary words (a headline in title case): most of those
    not opening a sentence are capitalised. "On Monday Merkel met Zorvath in Paris" is no headline."""
    plain = [m.group(0) for m, at_start in words if not at_start and lexicon.ordinary(m.group(0), "en")]
    return len(plain) >= 2 and sum(w[0].isupper() for w in plain) > TITLE_CASE_SHARE * len(plain)


def _unknown_words(text: str, vocab: Vocabulary, language: str) -> list[Claim]:
    """A name claim for each capitalised word that no source writes and that is no ordinary word of
    ``language``: what a model invents across languages (see ``lexicon``). No source holds it. A word
    in a script the sources are not written in is a transliteration, and left alone."""
    language = language.split("-")[0].lower()
    if not lexicon.knows(language):
        return []
    words = list(words_with_starts(text))
    # English capitalises names, a sentence's first word and a headline's words. A first word made of
    # ordinary words ("Chipmaker Nvidia said...") and a headline in title case are no evidence of a name.
    english = language == "en"
    if english and _title_case(words):
        return []
    claims = []
    places = reading(language) if not english else None
    for k, (m, at_start) in enumerate(words):
        word = re.sub(r"['’]s?$", "", m.group(0))
        if len(word) < 2 or not word[0].isupper() or fold(word) in NOT_NAMES or (
                english and at_start and lexicon.ordinary(word, language, compounds=True)):
            continue
        tokens = name_tokens(word)
        if script(tokens[0] if tokens else "") not in vocab.scripts:
            continue
        # A word ordinary only as a compound, where a name stands, is a name: the cited source must write it
        # (five letters a source writes are no evidence here: "Stein|müller" begins as "Steinbruch" does).
        if places and places.titles and lexicon.by_parts(word, language) and _name_place(text, words, k, places):
            claims.append(Claim("name", word, tuple(tokens)))
            continue
        if lexicon.ordinary(word, language):
            continue
        # Each part of "Valmere-Brücke" on its own: a name the sources write, or a word of the language.
        if all(all(vocab.writes(t) for t in name_tokens(part)) or lexicon.ordinary(part, language)
               for part in word.split("-") if part):
            continue
        claims.append(Claim("name", word, tuple(tokens)))
    # English capitalises an institution without its article ("Valmer's Health Ministry", "the Red Cross"):
    # there two common words side by side are as often a translated name as someone.
    return claims if english else claims + _full_names(text, words, vocab, language)


def _name_place(text: str, words: list, k: int, r: Reading) -> bool:
    """Whether the ``k``-th of ``words`` stands where a name does, as ``r``'s language writes it: right after
    a first name (a word of many languages, ``lexicon.international``), a title or a word ending in one
    ("Anna Hollerbach", "Stadtbaurat Hollerbach"), or next to a verb of speech ("sagte Hollerbach",
    "Hollerbach erklärte", when nothing leads into it). Before another capitalised word it is a title itself
    ("sagte Stadtsprecher Weller")."""
    m = words[k][0]
    after = words[k + 1][0] if k + 1 < len(words) and text[m.end():words[k + 1][0].start()] == " " else None
    if after is not None and after.group(0)[0].isupper():
        # A title before a name ("sagte Stadtsprecher Weller"), unless a genitive: only a name takes one
        # before its noun ("Hollerbachs Vorgängerin"; a noun's follows it: "die Kosten des Programms").
        return m.group(0).endswith("s")
    before = words[k - 1][0] if k and text[words[k - 1][0].end():m.start()] == " " else None
    if before is not None:
        word, folded = before.group(0), fold(before.group(0))
        if folded in r.said or (word[0].isupper() and folded not in ARTICLES and (
                folded.endswith(r.titles) or lexicon.international(word))):
            return True
    # Before a verb of speech only where no word leads into it: "Der Hafenmeister sagte" is no one's name.
    return before is None and after is not None and fold(after.group(0)) in r.said


def _full_names(text: str, words: list, vocab: Vocabulary, language: str) -> list[Claim]:
    """A name claim for each run of two or more capitalised words, side by side, that no source writes
    and that are each words of several languages (``lexicon.international``): "Jürgen Becker", "Marie
    Dubois". Each word on its own passes ``_unknown_words`` as ordinary; together they are someone.
    A run after an article is a translated institution or place ("la Casa Blanca", "das Weiße Haus")."""
    calendar = reading(language)
    dates = set(calendar.months) | set(calendar.weekdays) if calendar else set()
    claims: list[Claim] = []
    run: list[str] = []
    prev_end, prev_word = 0, ""
    for m, _ in words:
        word = re.sub(r"['’]s?$", "", m.group(0))
        if run and text[prev_end:m.start()] != " ":
            claims += _run_claim(run)
        folded = fold(word)
        tokens = name_tokens(word)
        if (word[0].isupper() and folded not in NOT_NAMES and folded not in dates and folded not in ARTICLES
                and (run or fold(prev_word) not in ARTICLES) and not lexicon.grammar(word, language)
                and tokens and script(tokens[0]) in vocab.scripts
                and not any(vocab.writes(t) for t in tokens) and lexicon.international(word)):
            run.append(word)
        else:
            claims += _run_claim(run)
        prev_end, prev_word = m.end(), m.group(0)
    return claims + _run_claim(run)


def _run_claim(run: list[str]) -> list[Claim]:
    """The run as a name claim when it is two words or more and no title of a saint or a ruler is among
    them ("Plaza de San Pedro", "Paris Saint-Germain", "Papa León": a place, a club, an office, told in
    the bullet's language); the run is emptied."""
    titled = any(fold(part) in _TITLES for word in run for part in word.split("-"))
    found = [Claim("name", " ".join(run), tuple(t for w in run for t in name_tokens(w)))] if len(run) > 1 and not titled else []
    run.clear()
    return found


_TITLES = frozenset("""san santa santo sao saint sainte st sankt papa pope papst pape rey reina roi reine
    konig konigin principe princesa prince princesse prinz prinzessin""".split())


# The particles of a surname ("Ursula von der Leyen", "Ana de la Cruz", "Pieter van den Berg").
SURNAME_PARTICLES = frozenset("von van der den de del la le du da dos das di".split())
# Read overlapping ("Ursula von der Lind und Ana de la Vega": "Lind und" is no name, "Ana de la Vega" one).
_PARTICLE_NAME = re.compile(
    rf"(?<![\w'’-])(?=(([^\W\d_][\w'’-]*)((?:\s(?:{'|'.join(SURNAME_PARTICLES)}))*)\s([^\W\d_][\w'’-]*)))")


def _particle_names(text: str, vocab: Vocabulary) -> list[Claim]:
    """A surname claim for each name with particles ("Ana de la Vega"): a first name the sources write or one
    of many languages, its particles and the capitalised word after them; or, without particles, a first name
    of many languages and the capitalised word after it ("Olaf Schmitt", even where a source names a Petra
    Schmitt). In a language that
    capitalises nouns that word is rarely told from an ordinary one ("Heyden", "Vega", "Schmitt"), and a
    name known from the sources ("Ana", "Olaf") hid it; the source must give the name with the same last
    word (``facts.SourceFacts._surname``)."""
    out = []
    for m in _PARTICLE_NAME.finditer(text):
        first, last = m.group(2), re.sub(r"['’]s?$", "", m.group(4))
        plain = not m.group(3)
        if (first[0].isupper() and last[0].isupper() and len(last) > 1 and fold(first) not in NOT_NAMES
                and (is_known_name(first, vocab) or lexicon.international(first))
                and not (plain and (not lexicon.international(first) or fold(first) in ARTICLES
                                    or fold(last) in NOT_NAMES))):
            out.append(Claim("surname", m.group(1), (fold(first), tuple(m.group(3).split()), fold(last))))
    return out


class _Taken(list):
    """The spans of text already read as a claim: a looser pattern must not claim the same characters
    again ("May 5" is a date, not also the number 5)."""

    def free(self, span: tuple[int, int]) -> bool:
        return not any(a < span[1] and span[0] < b for a, b in self)

    def take(self, span: tuple[int, int]) -> bool:
        """Whether ``span`` was free; if it was, it is taken now."""
        if not self.free(span):
            return False
        self.append(span)
        return True


def _free_claims(kind: str, text: str, found, taken: _Taken) -> list[Claim]:
    """A ``kind`` claim, as written, for each (key, span) of ``found`` whose span is still free; takes them."""
    return [Claim(kind, text[span[0]:span[1]], key) for key, span in found if taken.take(span)]


def _quote_claims(text: str) -> list[Claim]:
    quotes = (next(g for g in m.groups() if g) for m in QUOTE.finditer(text))
    return [Claim("quote", q.strip(), quote_key(q)) for q in quotes]


def _speaker_claims(text: str, claims: list[Claim]) -> list[Claim]:
    """Who the bullet says spoke its one quote: the names beside a word of speech outside the quote
    ("...," said Idris Fennimore; Fennimore sagte: „...“; según Marta Quillon), which must be among those
    the source gives the quote to (``facts.SourceFacts._speaker``). A quote given to a role ("the union leader
    said") or with no word of speech near a name is not judged."""
    quotes = [c for c in claims if c.kind == "quote"]
    if len(quotes) != 1:
        return []
    names = [c for c in claims if c.kind == "name"]
    speakers = speaking(QUOTE.sub(" , ", text), [c.text for c in names])
    if not speakers:
        return []
    return [Claim("speaker", ", ".join(speakers),
                  (quotes[0].key, tuple(frozenset(t for t in name_tokens(n) if t not in NAME_CONNECTORS)
                                        for n in speakers)))]


