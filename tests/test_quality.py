"""Grouping quality on the labelled set: the figures must not fall.

The floors are the figures measured when the set was written (1.000 on every
measure, thresholds chosen on this set and the demo feeds), less one article's
worth of slack; never below the aim (F1 >= 0.95 with precision >= 0.97).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from newsletter.config import GroupingSettings
from newsletter.group import group_stories
from newsletter.group.quality import (
    bcubed, ecbplus_halves, ecbplus_own_days, load_ecbplus, load_labelled, missed_joins, pairwise, predicted_clusters,
    wrong_merges,
)

LABELLED = Path(__file__).parent / "data" / "grouping"
HELD_OUT = Path(__file__).parent / "data" / "grouping_heldout"  # written after tuning, never tuned on
# Written by another author without sight of the algorithm; the event vocabulary and anchored joins
# were then designed with its misses in view, so it is no longer unseen (tests/data/grouping_validation is).
INDEPENDENT = Path(__file__).parent / "data" / "grouping_independent"
# Written by a third author, also without sight of the algorithm or the other sets, and never tuned on.
VALIDATION = Path(__file__).parent / "data" / "grouping_validation"
OTHER_AUTHORS = {  # set: {measure: (precision, recall, f1) floors}, a little under what was measured
    INDEPENDENT: {"pairwise": (0.97, 0.78, 0.87), "bcubed": (0.97, 0.87, 0.92)},  # 1/.817/.899, 1/.898/.946
    VALIDATION: {"pairwise": (0.97, 0.83, 0.90), "bcubed": (0.97, 0.92, 0.95)},  # 1/.864/.927, 1/.950/.974
}
# Real news (ECB+: 43 topics of two look-alike events each, all put on one day), beside the repository
# as in CI. Odd topics were tuned on, even ones held out; pairwise (precision, recall) floors, a little
# under what was measured (odd .973/.786, even .945/.778; before the guards for established stories
# and headline figures .729/.901 and .684/.906). With each event on a day of its own, the realistic
# case: 1.000/.799 and 1.000/.789.
ECBPLUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecbplus" / "ecbplus_events.jsonl"
ECBPLUS_FLOORS = {"ECB+ odd topics (tuned on)": (0.96, 0.76), "ECB+ even topics (held out)": (0.94, 0.76)}
ECBPLUS_OWN_DAYS_FLOORS = (0.99, 0.77)
AIM_F1, AIM_PRECISION = 0.95, 0.97
FLOORS = {  # measure: (precision, recall, f1)
    "pairwise": (0.98, 0.96, 0.97),
    "bcubed": (0.98, 0.97, 0.98),
}


@pytest.fixture(scope="module")
def measured():
    articles, gold = load_labelled(LABELLED)
    pred = predicted_clusters(group_stories(articles, GroupingSettings()), [a.id for a in articles])
    return articles, gold, pred


def test_labelled_set_is_big_enough_and_has_every_cluster_size(measured):
    articles, gold, _ = measured
    assert len(articles) >= 60
    sizes = Counter(Counter(gold.values()).values())
    assert set(sizes) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("name,measure", [("pairwise", pairwise), ("bcubed", bcubed)])
def test_quality_stays_at_or_above_the_floor(measured, name, measure):
    _, gold, pred = measured
    s = measure(pred, gold)
    p_floor, r_floor, f_floor = FLOORS[name]
    detail = f"wrong merges {wrong_merges(pred, gold)[:5]}, missed {missed_joins(pred, gold)[:5]}"
    assert s.precision >= max(p_floor, AIM_PRECISION), f"{name} precision {s.precision:.3f}; {detail}"
    assert s.recall >= r_floor, f"{name} recall {s.recall:.3f}; {detail}"
    assert s.f1 >= max(f_floor, AIM_F1), f"{name} F1 {s.f1:.3f}; {detail}"


def test_metrics_notice_a_wrong_merge_and_a_split():
    gold = {"a": "x", "b": "x", "c": "y", "d": "y"}
    perfect = {"a": 0, "b": 0, "c": 1, "d": 1}
    assert pairwise(perfect, gold).f1 == 1.0 and bcubed(perfect, gold).f1 == 1.0
    merged = {"a": 0, "b": 0, "c": 0, "d": 0}
    assert pairwise(merged, gold).precision == pytest.approx(2 / 6) and pairwise(merged, gold).recall == 1.0
    split = {"a": 0, "b": 1, "c": 2, "d": 2}
    assert pairwise(split, gold).recall == pytest.approx(0.5) and pairwise(split, gold).precision == 1.0
    assert bcubed(split, gold).recall == pytest.approx(0.75)


@pytest.mark.parametrize("measure", [pairwise, bcubed])
def test_held_out_set_meets_the_aim(measure):
    articles, gold = load_labelled(HELD_OUT)
    pred = predicted_clusters(group_stories(articles, GroupingSettings()), [a.id for a in articles])
    s = measure(pred, gold)
    assert s.precision >= AIM_PRECISION and s.f1 >= AIM_F1, (s, wrong_merges(pred, gold), missed_joins(pred, gold))


@pytest.mark.parametrize("folder", list(OTHER_AUTHORS), ids=lambda p: p.name)
@pytest.mark.parametrize("name,measure", [("pairwise", pairwise), ("bcubed", bcubed)])
def test_sets_by_other_authors_keep_different_angles_together_and_hard_negatives_apart(folder, name, measure):
    articles, gold = load_labelled(folder)
    pred = predicted_clusters(group_stories(articles, GroupingSettings()), [a.id for a in articles])
    s = measure(pred, gold)
    p_floor, r_floor, f_floor = OTHER_AUTHORS[folder][name]
    detail = f"wrong merges {wrong_merges(pred, gold)[:5]}, missed {missed_joins(pred, gold)[:5]}"
    assert s.precision >= p_floor, f"{name} precision {s.precision:.3f}; {detail}"
    assert s.recall >= r_floor and s.f1 >= f_floor, f"{name} recall {s.recall:.3f} F1 {s.f1:.3f}; {detail}"


@pytest.mark.long
@pytest.mark.skipif(not ECBPLUS.is_file(), reason=f"ECB+ not found at {ECBPLUS}")
def test_real_news_keeps_look_alike_events_apart():
    articles, gold = load_ecbplus(ECBPLUS)
    for name, half, labels in ecbplus_halves(articles, gold):
        pred = predicted_clusters(group_stories(half, GroupingSettings()), [a.id for a in half])
        s = pairwise(pred, labels)
        p_floor, r_floor = ECBPLUS_FLOORS[name]
        assert s.precision >= p_floor and s.recall >= r_floor, (name, s)
    for name, half, labels in ecbplus_halves(ecbplus_own_days(articles, gold), gold):
        pred = predicted_clusters(group_stories(half, GroupingSettings()), [a.id for a in half])
        s = pairwise(pred, labels)
        assert s.precision >= ECBPLUS_OWN_DAYS_FLOORS[0] and s.recall >= ECBPLUS_OWN_DAYS_FLOORS[1], (name, s)


def test_the_realistic_ecbplus_case_puts_each_event_on_one_day_and_no_two_events_on_the_same_day():
    from datetime import datetime, timedelta, timezone

    from newsletter.models import Article

    day = datetime(2026, 1, 15, 8, tzinfo=timezone.utc)
    labels = {f"a{k}": f"ecbplus-t{k % 3 + 1}-{'ecb' if k % 2 else 'ecbplus'}" for k in range(12)}
    articles = [Article(id=i, feed_url="ecbplus:", outlet=i, title=i, link=f"https://example.invalid/{i}",
                        published=day, text="") for i in labels]
    moved = {a.id: a.published for a in ecbplus_own_days(articles, labels)}
    days_of = {event: {moved[i] for i in labels if labels[i] == event} for event in set(labels.values())}
    assert all(len(days) == 1 for days in days_of.values())  # one event, one day
    assert len({next(iter(days)) for days in days_of.values()}) == len(days_of)  # no two events share one
    assert all(abs(d - day) < timedelta(days=len(days_of)) for d in moved.values())
