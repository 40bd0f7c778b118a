"""Event vocabulary: the many words outlets use for one kind of happening.

Outlets covering one event from different angles rarely share the verb: one
has drivers "walk out", the next a "stoppage", a third "industrial action";
a carmaker "recalls" SUVs in one headline and "calls them back" in another.
Stems cannot see that these are one thing, so each phrase below maps to an
event kind, and an article carries a term ``v:<kind>`` for every kind it
mentions. Kinds are broad on purpose: they say *what sort* of thing
happened, never *to whom*. Two strikes in two towns share the kind but not
the names, and the entity guard keeps them apart; the kind only lets
different wordings of one event count as agreement on *what* happened.

The list is general news vocabulary, written from how news is worded, not
from any test set.
"""

from __future__ import annotations

import re
from itertools import pairwise

# kind -> the words and phrases (lower case, comma-separated) that report it
_KINDS: dict[str, str] = {
    "strike": """strike, strikes, striking, walkout, walkouts, walk-out, walk out, walks out, walked out,
        walking out, stoppage, stoppages, down tools, downed tools, downing tools, industrial action, picket,
        pickets, picket line, stopped work, stop work, pay dispute, wage dispute, pay row, pay claim""",
    "recall": "recall, recalls, recalled, recalling, callback, callbacks, call back, calls back, called back, calling back",
    "flood": """flood, floods, flooded, flooding, floodwater, floodwaters, deluge, inundated, inundation,
        burst its banks, burst their banks, under water, underwater, cloudburst""",
    "evacuation": """evacuate, evacuated, evacuates, evacuating, evacuation, evacuations, rest centre, rest centres,
        rest center, left their homes, moved out, forced from their homes""",
    "robbery": """robbed, robbery, robberies, robber, robbers, rob, robs, heist, heists, raid, raids, raided,
        smash-and-grab, stole, stolen, theft, thefts, burglary, burglaries, burglar, burglars, looted, looting, haul""",
    "arrest": "arrest, arrests, arrested, arresting, detained, detain, in custody, charged with, suspect, suspects",
    "fire": "fire, fires, blaze, blazes, ablaze, inferno, firefighter, firefighters, flames, fire crews, fire service",
    "shipwreck": "capsize, capsizes, capsized, capsizing, overturned, overturns, sank, sunk, sinking, shipwreck, ran aground",
    "crash": "crash, crashes, crashed, collision, collided, derailed, derailment, pile-up",
    "quake": "earthquake, earthquakes, quake, quakes, tremor, tremors, aftershock, aftershocks",
    "storm": "storm, storms, hurricane, hurricanes, typhoon, typhoons, cyclone, cyclones, gale, gales, tornado, tornadoes",
    "election": """elect, elects, elected, election, elections, president-elect, presidency, run-off, runoff, ballot,
        ballots, concede, concedes, conceded, polls, voters, re-elected, landslide""",
    "resignation": """resign, resigns, resigned, resignation, step down, steps down, stepping down, stepped down,
        quit, quits, departure, exit, ousted, sacked""",
    "launch": """launch, launches, launched, launching, unveil, unveils, unveiled, unveiling, debut, debuts,
        lift-off, liftoff, blast off, blasted off, on sale, first look, showed off, shows off""",
    "earnings": """profit, profits, earnings, revenue, revenues, quarterly, first-quarter, second-quarter,
        third-quarter, fourth-quarter, outlook, guidance, profit warning, profit margin,
        operating margin, margin target, margin goal""",
    "job_cuts": """job cuts, jobs cuts, cut jobs, layoff, layoffs, lay off, lays off, laid off, redundancy,
        redundancies, restructuring""",
    "rates": """interest rate, interest rates, lending rate, rate rise, rate hike, rate cut, rate decision,
        base rate, rate-setters, monetary policy""",
    "privatisation": """privatise, privatised, privatisation, privatize, privatized, privatization, sell-off,
        selloff, stake sale, share offering, share sale, flotation, float, floated, ipo, stock market listing""",
    "tax": "tax, taxes, duty, duties, levy, levies, tariff, tariffs, vat",
    # Not "win" or "victory": elections, contracts and votes are won too.
    "sport_result": """beat, beats, knock out, knocked out, knocks out, comeback, goals, scored, brace,
        hat-trick, penalty shoot-out, full-time, half-time""",
    "injury": "injury, injuries, injured, ligament, sidelined, ruled out, hamstring, ankle, knee",
    "breach": "hack, hacked, hacker, hackers, hacking, breach, breaches, cyberattack, cyber-attack, data leak, ransomware",
    "deaths": "killed, dead, died, death toll, bodies, missing, fatality, fatalities",
    "inquiry": "inquiry, inquiries, investigation, investigations, probe, inquest",
    "court": "sentenced, convicted, acquitted, verdict, jailed, court case, pleaded guilty",
    "merger": "takeover, acquisition, acquire, acquires, acquired, merger, buyout, bid for",
    "lawsuit": "lawsuit, lawsuits, sue, sues, sued, legal action",
    "outage": "outage, outages, went down, service disruption, blackout, power cut",
    "protest": "protest, protests, protesters, protested, demonstration, demonstrations, demonstrators, marched",
    "approval": "approve, approves, approved, green light, green-light, planning permission, voted to, votes to",
    "vaccine": "vaccine, vaccines, jab, jabs, immunisation, immunization",
    "talks": "talks, negotiate, negotiators, negotiations, negotiating, summit, ceasefire, peace deal",
    "markets": "bond, bonds, yield, yields, currency, stock market, traders, trading",
}

_TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_ORDER = {kind: k for k, kind in enumerate(_KINDS)}
_WORDS: dict[str, set[str]] = {}  # one word -> kinds
_PHRASES: dict[tuple[str, str], list[tuple[tuple[str, ...], str]]] = {}  # first two words -> (words, kind)
for _kind, _table in _KINDS.items():
    for _entry in (tuple(e.split()) for e in _table.split(",")):
        if len(_entry) == 1:
            _WORDS.setdefault(_entry[0], set()).add(_kind)
        elif _entry:
            _PHRASES.setdefault(_entry[:2], []).append((_entry, _kind))
_WORD_KEYS = frozenset(_WORDS)
_PHRASE_KEYS = frozenset(_PHRASES)


def event_kinds(text: str) -> list[str]:
    """The event kinds a text mentions, in a fixed order, each once."""
    tokens = _TOKEN.findall(text.lower())
    found: set[str] = set()
    for w in _WORD_KEYS.intersection(tokens):
        found |= _WORDS[w]
    hits = _PHRASE_KEYS.intersection(pairwise(tokens))  # set operations: no per-token Python loop
    if hits:
        longer: dict[int, set[tuple[str, ...]]] = {}  # n -> the text's n-grams, built only when needed
        for pair in hits:
            for words, kind in _PHRASES[pair]:
                n = len(words)
                if n > 2 and n not in longer:
                    longer[n] = set(zip(*(tokens[k:] for k in range(n))))
                if n == 2 or words in longer[n]:
                    found.add(kind)
    return sorted(found, key=_ORDER.__getitem__)
