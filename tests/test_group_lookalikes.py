"""Look-alike events stay apart: the same kind of event with other figures, one company doing two
things of one kind on one day; while one event told in other words still makes one story.

Real news is full of look-alikes (ECB+ measures it: see BENCHMARKS.md, "Grouping"). Every article
here is invented, with plainly fictional towns, companies and outlets.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newsletter.config import GroupingSettings
from newsletter.group import group_stories
from newsletter.group.figures import contradict, figures
from newsletter.models import Article

T0 = datetime(2026, 3, 4, 6, tzinfo=timezone.utc)


def _art(aid: str, outlet: str, title: str, text: str, hours: float = 0.0) -> Article:
    return Article(id=aid, feed_url=f"https://{outlet}.example/feed", outlet=outlet, title=title,
                   link=f"https://{outlet}.example/{aid}", published=T0 + timedelta(hours=hours), text=text)


def _groups(articles: list[Article], settings: GroupingSettings | None = None) -> list[set[str]]:
    stories = group_stories(articles, settings or GroupingSettings())
    return sorted(({a.id for a in s.articles} for s in stories), key=sorted)


# Two quakes in one fictional province on one morning: the same words, the same place, other magnitudes.
QUAKE_A = [
    _art("qa1", "varn-courier", "Magnitude 6.1 earthquake shakes Orrisdale province",
         "A magnitude 6.1 earthquake shook Orrisdale province before dawn on Wednesday, the national "
         "seismology office said. Buildings swayed in the provincial capital and power failed in several "
         "villages; there were no early reports of casualties."),
    _art("qa2", "northgate-ledger", "6.1-magnitude quake hits Orrisdale, power cut in villages",
         "An earthquake of magnitude 6.1 struck Orrisdale province early on Wednesday, cutting power to "
         "villages across the hills, according to the seismology office. Residents ran into the streets "
         "as buildings swayed.", hours=1),
]
QUAKE_B = [
    _art("qb1", "harlow-gazette", "Magnitude 7.2 earthquake shakes Orrisdale province",
         "A magnitude 7.2 earthquake shook Orrisdale province on Wednesday morning, the national seismology "
         "office said. Buildings swayed in the provincial capital and power failed in several villages; "
         "rescue teams were sent to the hills.", hours=2),
]


def test_one_place_two_quakes_with_other_magnitudes_stay_apart_and_one_quake_in_other_words_joins():
    assert _groups(QUAKE_A + QUAKE_B) == [{"qa1", "qa2"}, {"qb1"}]


def test_the_magnitude_is_what_tells_the_two_quakes_apart():
    # The same second report, giving the same magnitude as the first: one quake, one story.
    same = _art("qb1", "harlow-gazette", "Magnitude 6.1 earthquake shakes Orrisdale province",
                QUAKE_B[0].text.replace("7.2", "6.1"), hours=2)
    assert _groups(QUAKE_A + [same]) == [{"qa1", "qa2", "qb1"}]


# One quake's toll, revised as the day goes on: the same lead, a rising count in each new headline.
TOLL = "A magnitude 6.4 earthquake struck Varnholm in Orrisdale province before dawn on Wednesday, " \
       "bringing down apartment blocks in the old town; rescue teams are searching the rubble."
RISING_TOLL = [
    _art("d1", "varn-courier", "Orrisdale earthquake: 12 killed in Varnholm", TOLL),
    _art("d2", "northgate-ledger", "Orrisdale earthquake: 27 killed in Varnholm", TOLL, hours=3),
    _art("d3", "harlow-gazette", "Varnholm quake kills 41 people as rescuers dig through rubble", TOLL, hours=6),
    _art("d4", "fenwick-times", "60 people injured in Varnholm quake, hospitals full", TOLL, hours=7),
]


def test_a_rising_toll_does_not_hide_a_second_quake():
    other = _art("e1", "ostry-post", "Magnitude 5.1 earthquake: 12 killed in Varnholm",
                 TOLL.replace("6.4", "5.1"), hours=4)
    assert _groups([_art("d0", "carrow-daily", "Magnitude 6.4 earthquake: 12 killed in Varnholm", TOLL),
                    *RISING_TOLL, other]) == [{"d0", "d1", "d2", "d3", "d4"}, {"e1"}]


# One storm's damage, estimated again as the day goes on.
STORM = "Storm Ilse tore through Calder Bay overnight, flooding the harbour district and cutting power to " \
        "40,000 homes; insurers and the regional government began counting the damage on Wednesday."
GROWING_ESTIMATE = [
    _art("s1", "varn-courier", "Storm Ilse: Calder Bay damage put at $1bn", STORM),
    _art("s2", "northgate-ledger", "Calder Bay counts the cost as Storm Ilse losses climb to $3bn", STORM, hours=4),
    _art("s3", "harlow-gazette", "Insurers face $3.5 billion in Storm Ilse losses at Calder Bay", STORM, hours=7),
]


@pytest.mark.parametrize("reports", [RISING_TOLL, GROWING_ESTIMATE], ids=["rising-toll", "growing-estimate"])
def test_a_figure_revised_as_the_day_goes_on_keeps_one_story(reports):
    # Counts and estimates of what one event cost are revised all day: they never tell two events apart,
    # as a magnitude or a deal's price does.
    assert _groups(reports) == [{a.id for a in reports}]


def test_two_quakes_in_two_towns_stay_apart():
    quakes = [
        _art("t1", "varn-courier", "Magnitude 5.4 earthquake rattles Tiverlee",
             "A magnitude 5.4 earthquake rattled the town of Tiverlee on Wednesday, the seismology office "
             "said. Chimneys fell and a school was evacuated; nobody was hurt."),
        _art("t2", "northgate-ledger", "Magnitude 6.8 earthquake rattles Brumholt",
             "A magnitude 6.8 earthquake rattled the town of Brumholt on Wednesday, the seismology office "
             "said. Chimneys fell and a school was evacuated; two people were hurt.", hours=1),
    ]
    assert _groups(quakes) == [{"t1"}, {"t2"}]


# One fictional company ships two emergency security patches on one day: one for its browser, one for
# its mail program. Each is covered by several outlets, in words that overlap a lot.
BROWSER_PATCH = [
    ("bp1", "varn-courier", "Quillmark rushes out emergency patch for Tessel browser flaw",
     "Quillmark released an emergency security patch for its Tessel web browser on Wednesday after attackers "
     "exploited a flaw that lets a booby-trapped web page take over a computer. The company urged every "
     "Tessel user to install the update at once."),
    ("bp2", "northgate-ledger", "Quillmark patches Tessel browser after attacks on web users",
     "Quillmark has patched a critical flaw in the Tessel browser that attackers were using to hijack "
     "computers through booby-trapped web pages. The emergency update reaches Tessel users automatically."),
    ("bp3", "harlow-gazette", "Emergency Tessel update: Quillmark fixes browser hole hackers used",
     "Hackers used a hole in the Tessel web browser to take over computers from rigged web pages, Quillmark "
     "said as it shipped an emergency fix. Tessel users should restart the browser to finish the update."),
    ("bp4", "fenwick-times", "Quillmark fixes Tessel browser bug exploited by attackers",
     "Quillmark issued a fix for a Tessel browser bug that attackers exploited to control computers via "
     "rigged web pages. The company called the emergency patch critical for every Tessel user."),
]
MAIL_PATCH = [
    ("mp1", "ostry-post", "Quillmark rushes out emergency patch for Postbox mail flaw",
     "Quillmark released an emergency security patch for its Postbox mail program on Wednesday after "
     "attackers exploited a flaw to steal saved passwords through booby-trapped attachments. The company "
     "urged every Postbox user to install the update at once."),
    ("mp2", "lindell-herald", "Quillmark patches Postbox mail program after password thefts",
     "Password thieves exploited a flaw in Postbox, Quillmark's mail program, by mailing rigged attachments; "
     "the company shipped an emergency fix and told Postbox users to install the update and change their "
     "passwords."),
    ("mp3", "carrow-daily", "Quillmark fixes Postbox mail flaw exploited by attackers",
     "Quillmark has fixed a critical flaw in the Postbox mail program after attackers used rigged attachments "
     "to steal saved passwords. The company called the emergency patch critical for every Postbox user."),
    ("mp4", "pellam-record", "Change your Postbox password, Quillmark says after mail attacks",
     "Quillmark told Postbox users to change their passwords after attackers exploited a flaw, using "
     "booby-trapped mail attachments to steal them, and released an emergency security patch."),
]


@pytest.fixture(scope="module")
def patches() -> list[Article]:
    # Interleaved, as a day's fetch would bring them.
    rows = [r for pair in zip(BROWSER_PATCH, MAIL_PATCH) for r in pair]
    return [_art(aid, outlet, title, text, hours=k * 0.5) for k, (aid, outlet, title, text) in enumerate(rows)]


def test_one_company_two_patches_on_one_day_are_two_stories(patches):
    assert _groups(patches) == [{"bp1", "bp2", "bp3", "bp4"}, {"mp1", "mp2", "mp3", "mp4"}]


def test_what_keeps_the_two_patches_apart_is_the_bar_for_established_stories(patches):
    # Without it, the two stories' shared words (Quillmark, emergency patch, attackers, flaw) merge them:
    # the reader would get one story about two different fixes.
    merged = _groups(patches, GroupingSettings(established_min_similarity=0))
    assert len(merged) == 1


def test_one_story_still_grows_article_by_article(patches):
    browser = [a for a in patches if a.id.startswith("bp")]
    late = _art("bp5", "ostry-post", "Tessel browser users told to update now",
                "Users of Quillmark's Tessel browser are being told to install an emergency update now: "
                "attackers exploited a flaw to take over computers through rigged web pages.", hours=5)
    assert _groups(browser + [late]) == [{"bp1", "bp2", "bp3", "bp4", "bp5"}]


@pytest.mark.parametrize("a,b,differ", [
    ("Magnitude 6.1 quake hits Orrisdale", "7.2-magnitude earthquake strikes Orrisdale", True),
    ("Magnitude 6.1 quake hits Orrisdale", "Orrisdale quake of magnitude 6.1 cuts power", False),
    ("Pelmont to buy Corvane for $334M", "Pelmont buys Corvane in $5.4 billion deal", True),
    ("Pelmont to buy Corvane for $334 million", "Pelmont's $334M Corvane deal", False),
    # Two facts about one takeover, not two takeovers: a total and a price per share.
    ("Orbis to buy Lumen for $6.2 billion", "Lumen shares soar on $48-a-share offer", False),
    ("Riverside votes again in 2008 election", "Riverside election of 2013 called", True),
    ("Harwick beat Castmere 20-13", "Castmere lose 13-20 at Harwick", False),
    ("Harwick beat Castmere 20-13", "Harwick beat Castmere 24-10", True),
    # Times of day and figures of different kinds contradict nothing.
    ("Flood warning issued at 05:30", "Flood warning for 3 rivers", False),
    ("12 killed as bus crashes", "Bus crash: driver, 45, arrested", False),
    # Counts and changes that one event revises all day.
    ("Orrisdale earthquake: 12 killed in Varnholm", "Orrisdale earthquake: 27 killed in Varnholm", False),
    ("Varnholm quake kills 12 people", "40 people injured in Varnholm quake", False),
    ("Corvane shares fall 3% on recall", "Corvane shares close 7% down after recall", False),
    ("300 evacuated as Tessel river floods", "Tessel floods: 1,200 evacuated", False),
    ("Storm Ilse: Calder Bay damage put at $1bn", "Storm Ilse losses climb to $3bn", False),
    ("Tessel flood could cost up to $2 billion", "Insured losses from Tessel flood put at $900m", False),
    ("Regulator fines Corvane $20 million", "Regulator fines Corvane $45 million", True),
    # Fixed amounts that look like estimates: two bills, two quarters' results, two court awards.
    ("Senate passes $1.2 trillion roads bill", "Senate passes $3.5 trillion spending bill", True),
    ("Corvane posts $2bn quarterly loss", "Corvane posts $3bn quarterly loss", True),
    ("Jury awards Pelmont $5m in damages", "Jury awards Pelmont $9m in damages", True),
    # What names the event does not change: its magnitude, which round, the price per share.
    ("Magnitude 6.1 quake: 12 killed", "6.4 quake: 12 killed", True),
    ("Harwick stops Castmere in 6th round", "Harwick stops Castmere in the 7th round", True),
    ("Lumen shares soar on $48-a-share offer", "Orbis bids $52 a share for Lumen", True),
])
def test_headline_figures_contradict_only_on_one_kind_of_quantity(a, b, differ):
    assert contradict(figures(a), figures(b)) is differ
