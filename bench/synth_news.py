"""Synthetic news for the grouping benchmark: many distinct fictional events, each told by 1-5 outlets.

Names are built from invented syllables, so every company, person and place is
fictional; the same company recurs in different events (as in real news), and
each event has its own numbers. Articles are 40-130 words: a lead, event
details in the outlet's own words, and background sentences.

    from synth_news import synth_articles
    articles, labels = synth_articles(50_000, seed=7)
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from newsletter.models import Article

_A = "vel tor mar quil bren cas dor fen gal hal ist jor kel lum nor orb pel ros sar tes ul var wen xan yor zel".split()
_B = "trona mora vane feather wick stead holm bury crest field gate haven lin mont ridge shaw ton vale well ward".split()
_FIRST = "Aldra Joric Hanne Liane Tomas Ines Petra Teo Mirela Oskar Bryn Calla Dario Edda Fenna Gideon Hollis Ivo Jana Kasimir".split()
_LAST = "Venn Palassi Morrow Osterberg Reyke Corvo Hollin Abrantes Standt Quill Marrow Dunleavy Ashby Tarrant Wexley Brandt".split()
_OUTLETS = [f"The {a.title()}{b} {k}" for a, b, k in zip(_A, _B, ["Ledger", "Courier", "Post", "Times", "Wire", "Daily", "Signal", "Herald"] * 4)]

# Event kinds: (title variants, lead variants, detail sentences). Slots: {co} company, {p} person,
# {pl} place, {n1} {n2} numbers, {prod} product.
_KINDS = [
    (["{co} recalls {n1} {prod} over brake fault", "Brake defect forces {co} to call back {prod}",
      "{prod} owners told to book repairs after {co} recall"],
     ["{co} is recalling {n1} {prod} because a faulty brake part can fail, the company said.",
      "Owners of {n1} {prod} are being asked to visit dealers after {co} found a brake defect."],
     ["Dealers will replace the part free of charge.", "The company knew of {n2} minor accidents linked to the fault.",
      "The fix takes about an hour, {co} said.", "Fleet operators said the timing was unwelcome."]),
    (["{co} profit rises {n2}% as sales grow", "{co} beats forecasts with {n2}% profit jump",
      "Shares in {co} climb after strong quarter"],
     ["{co} reported a {n2}% rise in quarterly profit to {n1} million crowns.",
      "Quarterly profit at {co} climbed {n2}% to {n1} million crowns, beating analysts' forecasts."],
     ["Chief executive {p} said demand stayed strong.", "Revenue also rose, helped by new contracts.",
      "Shares gained in early trading.", "The company raised its outlook for the year."]),
    (["{co} workers strike at {pl} plant", "Walkout halts production at {co} in {pl}",
      "{co} staff down tools over pay"],
     ["Workers at {co}'s plant in {pl} went on strike over pay, halting production for {n2} hours.",
      "Production at {co} in {pl} stopped as {n1} workers walked out in a pay dispute."],
     ["The union wants a {n2}% raise.", "Management said its offer was fair.",
      "Talks are due to resume next week.", "Deliveries to customers were delayed."]),
    (["{co} to buy rival for {n1} million crowns", "{co} agrees {n1} million crown takeover",
      "Deal: {co} snaps up competitor"],
     ["{co} agreed to acquire a smaller rival for {n1} million crowns in cash.",
      "In a {n1} million crown deal, {co} will take over a competitor, the companies said."],
     ["The price is a {n2}% premium to the last close.", "Regulators must approve the purchase.",
      "{p} will lead the combined company.", "The deal should close next year."]),
    (["Floods force {n1} from homes in {pl}", "River bursts banks in {pl}, thousands evacuated",
      "Rooftop rescues as {pl} floods"],
     ["Heavy rain flooded low-lying parts of {pl}, forcing about {n1} people to leave their homes.",
      "About {n1} residents of {pl} were evacuated after the river overflowed."],
     ["Rescue teams used boats to reach stranded families.", "Schools will stay shut for {n2} days.",
      "Forecasters expect more rain.", "Damage is estimated in the millions."]),
    (["{p} wins {pl} mayoral election", "Voters in {pl} elect {p} as mayor",
      "{p} takes {pl} in landslide"],
     ["{p} won the mayoral election in {pl} with {n2}% of the vote.",
      "With {n2}% of ballots, {p} was elected mayor of {pl} on Sunday."],
     ["Turnout was higher than at the last election.", "The result is a blow to the governing party.",
      "{p} promised to fix the city's roads.", "Rivals conceded defeat late in the evening."]),
    (["{co} data breach exposes {n1} customer records", "Hackers steal data of {n1} {co} customers",
      "{co} admits cyberattack"],
     ["Hackers stole personal data of {n1} customers from {co}, the company said.",
      "{co} said attackers accessed records of about {n1} people."],
     ["Customers will be offered free credit monitoring.", "The data protection authority is investigating.",
      "The intrusion was found {n2} days ago.", "No payment details were taken, the firm said."]),
    (["{co} launches {prod}", "{co} unveils new {prod}", "{co} takes aim at rivals with {prod}"],
     ["{co} launched its {prod}, saying it is {n2}% faster than the previous model.",
      "The new {prod} from {co} is {n2}% faster, the company claims."],
     ["It goes on sale next month.", "Analysts said the price was aggressive.",
      "{p} presented it at an event in {pl}.", "Early reviews were positive."]),
    (["{co} to cut {n1} jobs", "{co} plans {n1} job cuts as demand falls", "Unions vow to fight {co} layoffs"],
     ["{co} will cut {n1} jobs, about {n2}% of its workforce, the company said.",
      "About {n1} people will lose their jobs at {co} under a restructuring plan."],
     ["Two sites near {pl} will close.", "Unions said they would fight the cuts.",
      "The company blamed weaker demand.", "{p} said the decision was painful."]),
    (["{pl} council approves {n1} million crown bridge", "Bridge plan for {pl} wins council vote",
      "{pl} to build new bridge"],
     ["The council of {pl} approved a {n1} million crown bridge by {n2} votes.",
      "A new bridge costing {n1} million crowns will be built in {pl} after a council vote."],
     ["Construction starts next spring.", "Residents had campaigned for years.",
      "{p} called it a historic day.", "Opponents said the money was needed elsewhere."]),
]
_PRODUCTS = ["vans", "laptops", "heat pumps", "e-bikes", "tablets", "tractors", "routers", "scooters", "phones", "drills"]
_BACKGROUND = [
    "The decision comes at a busy time for the sector.", "Markets were otherwise quiet on the day.",
    "Officials declined to comment further.", "More details are expected in the coming days.",
    "The news was first reported by local media.", "Observers said the move had been expected for some time.",
    "It was not immediately clear how many people were affected.", "A spokesperson said an update would follow.",
    "Critics questioned whether enough had been done.", "The wider region has seen similar problems this year.",
    "Analysts will watch the next set of figures closely.", "The government has promised to review the rules.",
    "Similar cases in the past took months to resolve.", "Local businesses said they were worried about the impact.",
    "Opposition politicians called for an independent inquiry.", "The figures have not been independently verified.",
    "Several residents said they had heard nothing official.", "Industry groups welcomed the clarity.",
    "The issue has divided opinion for years.", "A final decision is expected before the end of the year.",
]


_NOUNS = """harbour tunnel depot warehouse bridge station airport clinic school library stadium market pier
canal factory mill quarry reservoir dam hospital court prison barracks observatory laboratory refinery
shipyard foundry bakery brewery vineyard orchard farm ranch forest valley ridge island peninsula lagoon
delta estuary glacier volcano desert plateau meadow marsh cove bay strait channel lighthouse beacon ferry
tram railway motorway junction roundabout viaduct aqueduct pipeline substation turbine reactor grid cable
satellite antenna server router ledger contract tender licence permit subsidy levy tariff bond loan pension
wage bonus dividend warrant patent trademark prototype blueprint survey census ballot petition referendum
ordinance statute treaty charter mandate inquiry audit tribunal verdict appeal settlement ceasefire convoy
drill exercise parade festival exhibition auction concert premiere marathon regatta tournament derby""".split()


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_A) for _ in range(parts - 1)).title() + rng.choice(_B)


def synth_articles(n: int, seed: int = 7, days: float = 7.0) -> tuple[list[Article], dict[str, int]]:
    """``n`` articles and their true event numbers; deterministic for a seed."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    # Big name pools, drawn with a skew: a few companies and people are in the news all the time.
    bases = list(dict.fromkeys(_name(rng, 3) for _ in range(6000)))[:5000]  # one company per base name
    companies = [b + rng.choice([" Motors", " Group", " Systems", " Energy", " Bank", " Foods"]) for b in bases]
    people = [f"{rng.choice(_FIRST)} {rng.choice(_LAST + [_name(rng) for _ in range(200)])}" for _ in range(3000)]
    places = ["Port " + _name(rng) for _ in range(300)] + [_name(rng, 3) for _ in range(3000)]
    skew = lambda pool: pool[rng.randrange(50) if rng.random() < 0.2 else rng.randrange(len(pool))]  # noqa: E731
    articles: list[Article] = []
    labels: dict[str, int] = {}
    last_used: dict[tuple[int, str], datetime] = {}
    event = 0
    while len(articles) < n:
        kind = rng.randrange(len(_KINDS))
        titles, leads, details = _KINDS[kind]
        when = start + timedelta(hours=rng.uniform(0, days * 24))
        # Real news does not report the same kind of event for the same company, person or
        # place twice in a few days (two quarterly results in one week); redraw such names.
        for attempt in range(20):
            pick = skew if attempt < 5 else rng.choice  # the frequent names are taken: anyone else
            slots = dict(co=pick(companies), p=pick(people), pl=pick(places))
            if all(abs((when - last_used.get((kind, v), start - timedelta(days=99))).total_seconds()) > 4 * 86400
                   for v in slots.values()):
                break
        for v in slots.values():
            last_used[(kind, v)] = when
        slots.update(n1=f"{rng.randint(2, 900) * 100:,}", n2=str(rng.randint(3, 60)), prod=rng.choice(_PRODUCTS))
        # What makes this event itself: the particulars each outlet mentions in its own order.
        things = rng.sample(_NOUNS, k=4)
        specifics = [f"Officials said the {things[0]} near the {things[1]} was part of it.",
                     f"Witnesses described the {things[2]} as the centre of attention.",
                     f"The {things[3]} was mentioned by several of those involved.",
                     f"Questions remain about the {things[0]} and the {things[2]}."]
        outlets = rng.sample(_OUTLETS, k=min(n - len(articles), rng.choice([1, 1, 2, 2, 3, 3, 4, 5])))
        for o in outlets:
            body = [rng.choice(leads)] + rng.sample(details, k=rng.randint(2, 4)) + rng.sample(specifics, k=2) \
                + rng.sample(_BACKGROUND, k=rng.randint(2, 6))
            aid = f"syn{len(articles):06d}"
            articles.append(Article(
                id=aid, feed_url=f"synthetic:{o}", outlet=o, title=rng.choice(titles).format(**slots),
                link=f"https://example.invalid/{aid}", published=when + timedelta(minutes=rng.uniform(0, 600)),
                text=" ".join(body).format(**slots), topics=("News",),
            ))
            labels[aid] = event
        event += 1
    return articles, labels
