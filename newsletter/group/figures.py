"""Key figures of a headline, by the kind of quantity they measure.

Look-alike events (two earthquakes, two takeovers, two title fights) are told
in the same words; what tells them apart in a headline is often a figure: a
magnitude of 6.1 against 7.2, a $334 million deal against a $5.4 billion one,
a sixth round against a seventh, 2008 against 2013. Two headlines contradict
each other only when they measure the *same kind* of quantity and disagree on
it: "$6.2 billion" and "$48 a share" are two facts about one takeover, not a
contradiction.

Only figures *fixed for one event* are kept, because one event's figures are
otherwise revised all day: a death toll rises from 12 to 27, the injured,
the evacuated and the arrested are counted again, shares fall 3% and then
close 7% down, a vote share moves as the count goes on. Those are counts and
changes, and two reports of one event disagree on them as often as two events
do. What stays fixed is what names the event itself:

- a year ("2008 election" against "2013"): when it happened;
- a score ("20-13", told either way round): a result, once reported;
- a magnitude ("magnitude 6.1", "7.2-magnitude", "6.1 quake"): one quake has one;
- an ordinal with its neighbouring word ("6th round", "85th awards", "3rd term"):
  which occurrence it is;
- money, scaled by "million", "bn"... ("$334 million"), and a price per unit
  with a currency ("$48 a share"): a headline's amount is the price of a deal,
  a bid, a fine or an award, agreed or imposed once.

Not kept: percentages, plain counts next to a word ("12 killed", "40 people
injured"), versions and other numbers after names; and money that a word
near it calls an estimate of damage, losses or cost ("damage put at $1bn",
"$3bn in losses", "could cost up to $2bn"): like a toll, one event's estimate
grows as the day goes on.
"""

from __future__ import annotations

import re

from newsletter.text import stem

# A number with its currency sign, any ordinal or plural suffix, and the word after it (skipping
# small words: "$48-a-share").
_FIGURE = re.compile(
    r"(?P<cur>[$£€¥])?\s?(?<![\d:.,/-])(?P<num>\d+(?:[.,]\d+)*)(?![:/-]\d)"
    r"(?P<suffix>st|nd|rd|th|s|k|m|mn|bn|b|tn)?\b(?P<pct>\s?%|\s?per ?cent)?"
    r"(?:[\s-]+(?:(?P<per>a|an|per)[\s-]+|(?:the|of|to)[\s-]+)?(?P<after>[^\W\d_]+))?",
    re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_BEFORE = re.compile(r"([^\W\d_]+)[\s-]+$")  # the word just before a figure
_WORDS = re.compile(r"[^\W\d_]+")
# Words near an amount that make it an estimate of what an event costs, which grows as it is counted; as
# written, not stemmed: "losses" (a storm's) but not "loss" (a quarter's result), "damage" but not
# "damages" (a court's award), and never "bill" (a law's price) or "claims" ("to settle claims").
_ESTIMATE = frozenset("""estimate estimated estimates damage losses cost costs toll insured uninsured""".split())
_ESTIMATE_WORDS_BEFORE, _ESTIMATE_WORDS_AFTER = 4, 2  # "damage from the storm put at $1bn", "$3bn in losses"
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6,
          "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9, "trillion": 1e12, "tn": 1e12}
_ORDINAL = frozenset(("st", "nd", "rd", "th"))
_MAGNITUDE = frozenset(("magnitude", "richter"))
_QUAKE = frozenset(("quake", "earthquake", "tremor", "temblor"))
# Words next to an ordinal that say nothing about what it counts.
_VAGUE = frozenset("""and or in on at by for from with as after over than more less up down
    is are was were be has have had says said will would new""".split())


def plain_number(tok: str) -> str:
    """A number as one spelling: "41,000" -> "41000", "4.50" -> "4.5", "007" -> "7". A comma groups
    thousands when every group after it has three digits, else it is a decimal comma ("1,5")."""
    if "," in tok:
        parts = tok.split(",")
        tok = "".join(parts) if all(len(p) == 3 for p in parts[1:]) else tok.replace(",", ".")
    if "." in tok:
        tok = tok.rstrip("0").rstrip(".") or "0"
    return tok.lstrip("0") or "0"


def _value(num: str) -> float | None:
    try:
        return float(plain_number(num))
    except ValueError:  # "1.2.3": a version or a date, not a quantity
        return None


_SCORE = re.compile(r"(?<![\d:.,/-])(\d{1,3})-(\d{1,3})(?![\d:.,/-]\d)")


def figures(headline: str) -> dict[str, frozenset[str]]:
    """Kind of quantity -> the values the headline gives for it: {"year": {"2013"}, "round": {"6"}}."""
    out: dict[str, set[str]] = {}
    if not _DIGIT.search(headline):  # most headlines give no figure
        return {}
    for m in _SCORE.finditer(headline):  # a result, "20-13", told either way round
        out.setdefault("score", set()).add("-".join(sorted(m.groups(), key=int)))
    for m in _FIGURE.finditer(headline):
        value = _value(m["num"])
        if value is None:
            continue
        after = (m["after"] or "").lower()
        start = m.start("cur") if m["cur"] else m.start("num")
        b = _BEFORE.search(headline, max(0, start - 30), start)
        before = b[1].lower() if b else ""
        suffix = (m["suffix"] or "").lower()
        kinds: list[str] = []
        if m["per"] and after:  # "$48 a share": a price per unit, not a total; "3 a day" is a count
            if m["cur"]:
                kinds.append("per:" + stem(after))
        elif m["cur"] or (after in _SCALE or suffix in _SCALE) and before in ("", "us", "usd"):
            if not _estimate(headline, start, m.end()):
                kinds.append("money")
                value *= _SCALE.get(suffix, 1.0) * _SCALE.get(after, 1.0)
        elif m["pct"]:
            pass  # a change or a share, revised as the day goes on
        elif 1900 <= value <= 2099 and m["num"].isdigit() and not suffix:
            kinds.append("year")
        elif suffix in _ORDINAL:
            # Either neighbour names what is counted: "6th round", "the 85th Academy Awards".
            kinds += ["w:" + stem(w) for w in (before, after) if w and w not in _VAGUE and len(w) > 1]
        elif before in _MAGNITUDE or after in _MAGNITUDE or "." in m["num"] and (before in _QUAKE or after in _QUAKE):
            kinds.append("magnitude")  # "magnitude 6.1", "7.2-magnitude", "6.1 quake" (not "2 quakes")
        for kind in kinds:
            out.setdefault(kind, set()).add(f"{value:.6g}")
    return {k: frozenset(v) for k, v in out.items()}


def _estimate(headline: str, start: int, end: int) -> bool:
    """Whether a word just before or after the amount at ``start:end`` calls it an estimate of damage,
    losses or cost."""
    near = (_WORDS.findall(headline, 0, start)[-_ESTIMATE_WORDS_BEFORE:]
            + _WORDS.findall(headline, end)[:_ESTIMATE_WORDS_AFTER])
    return any(w.lower() in _ESTIMATE for w in near)


def contradict(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> bool:
    """Both give figures of one kind that disagree, and no figure of theirs agrees."""
    shared = [k for k in a if k in b]
    return bool(shared) and not any(a[k] & b[k] for k in shared)


def merged_figures(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """A story's figures: every value any of its headlines gives, by kind."""
    if not b:
        return a
    out = dict(a)
    for k, v in b.items():
        out[k] = out[k] | v if k in out else v
    return out
