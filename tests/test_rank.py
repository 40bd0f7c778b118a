"""Ranking and placement: top N per topic, sidebar next, each story once, never repeat, updates."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from conftest import article, make_config
from newsletter.config import Config
from newsletter.models import Briefing, Bullet, DeliveryStatus, Issue, SentArticle, SidebarItem, Story, TopicSection
from newsletter.pipeline import placements
from newsletter.rank import Slots, place_stories
from newsletter.store import Store

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


def place(stories, cfg: Config, sent, now):
    slots = Slots(per_topic=cfg.newsletter.max_stories, sidebar=cfg.newsletter.sidebar_size)
    return place_stories(stories, cfg.topics, cfg.ranking, slots, sent, now)


def make_cfg(max_stories=2, sidebar_size=3, **ranking) -> Config:
    return make_config(newsletter={"max_stories": max_stories, "sidebar_size": sidebar_size}, ranking=ranking, topics=[
        {"name": "Business", "feeds": ["b.xml"], "keywords": ["merger", "rate"]},
        {"name": "Transport", "feeds": ["t.xml"], "keywords": ["rail", "ferry"]},
    ])


def story(key: str, outlets: int, hours_ago: float, topics=("Business",), title: str | None = None,
          text: str = "") -> Story:
    when = NOW - timedelta(hours=hours_ago)
    arts = [article(f"{key}-{k}", outlet=f"Outlet {k}", title=title or f"Story {key}", published=when, text=text,
                    topics=topics) for k in range(outlets)]
    return Story(articles=arts, headline=arts[0].title, topics=topics)


def ids(stories):
    return [s.articles[0].id.split("-")[0] for s in stories]


def test_top_n_per_topic_then_sidebar_each_story_once():
    stories = [story("a", 5, 1), story("b", 4, 1), story("c", 3, 1), story("d", 2, 1), story("e", 1, 1),
               story("f", 1, 2)]
    p = place(stories, make_cfg(max_stories=2, sidebar_size=3), {}, NOW)
    assert ids(p.sections["Business"]) == ["a", "b"]
    assert ids(p.sidebar) == ["c", "d", "e"]  # next best; "f" does not fit
    placed = [s.id for s in p.sections["Business"]] + [s.id for s in p.sidebar]
    assert len(placed) == len(set(placed))
    scores = [s.score for s in p.sections["Business"] + p.sidebar]
    assert scores == sorted(scores, reverse=True)


def test_more_outlets_and_newer_rank_higher_and_weights_change_the_order():
    many_old = story("old", 6, 30)
    one_new = story("new", 1, 0)
    default = place([many_old, one_new], make_cfg(max_stories=1), {}, NOW)
    assert ids(default.sections["Business"]) == ["old"]
    fresh_first = place([many_old, one_new], make_cfg(max_stories=1, outlets=0.1, recency=3.0), {}, NOW)
    assert ids(fresh_first.sections["Business"]) == ["new"]


def test_topic_keywords_whole_word_raise_rank():
    plain = story("p", 2, 1, text="The council met on Monday.")
    merger = story("m", 2, 1, text="The merger was approved.")
    railway = story("r", 2, 1, text="A merger-free railway report.")  # "merger" whole word counts, "rail" is not "railway"
    p = place([plain, railway, merger], make_cfg(max_stories=3), {}, NOW)
    order = ids(p.sections["Business"])
    assert order.index("m") < order.index("p") and order.index("r") < order.index("p")
    scores = {ids([s])[0]: s.score for s in p.sections["Business"]}
    assert scores["m"] == pytest.approx(scores["r"])  # one keyword each


def test_multi_topic_story_is_placed_once_where_it_ranks_best():
    both = story("x", 3, 1, topics=("Business", "Transport"), text="The night ferry and rail link will run in May.")
    others = [story(k, 4, 1) for k in "bc"]
    p = place([both, *others], make_cfg(max_stories=2), {}, NOW)
    assert ids(p.sections["Transport"]) == ["x"]  # its keywords are Transport's
    assert "x" not in ids(p.sections["Business"]) + ids(p.sidebar)
    # With no room in its best topic it goes to the next one, still once.
    full = [story(k, 6, 0, topics=("Transport",), text="rail ferry") for k in "mn"]
    p2 = place([both, *full], make_cfg(max_stories=2), {}, NOW)
    assert ids(p2.sections["Business"]) == ["x"] and "x" not in ids(p2.sections["Transport"]) + ids(p2.sidebar)


def _sent(*article_ids: str) -> dict[str, SentArticle]:
    return {a: SentArticle(a, "old-story", 1, NOW - timedelta(days=1)) for a in article_ids}


def test_sent_story_is_not_repeated_but_comes_back_as_update_with_new_outlets():
    s = story("s", 3, 2)
    all_sent = _sent("s-0", "s-1", "s-2")
    p = place([s], make_cfg(), all_sent, NOW)
    assert not p.sections and not p.sidebar and [x.id for x in p.dropped] == [s.id]

    grown = story("s", 4, 2)  # a fourth outlet joined since
    p = place([grown], make_cfg(), all_sent, NOW)
    [back] = p.sections["Business"]
    assert back.is_update and back.score < place([story("s", 4, 2)], make_cfg(), {}, NOW).sections["Business"][0].score

    strict = place([grown], make_cfg(update_min_new_outlets=2), all_sent, NOW)
    assert not strict.sections and not strict.sidebar


def test_new_article_from_an_outlet_already_sent_is_not_an_update():
    s = story("s", 2, 2)
    same_outlet = article("s-late", outlet="Outlet 0", title="Story s, later", published=NOW)
    s.articles.append(same_outlet)
    p = place([s], make_cfg(), _sent("s-0", "s-1"), NOW)
    assert not p.sections and not p.sidebar


def test_ties_break_deterministically_whatever_the_input_order():
    stories = [story(k, 2, 1) for k in "pqrstu"]
    first = place(stories, make_cfg(max_stories=2, sidebar_size=4), {}, NOW)
    shuffled = stories[:]
    random.Random(5).shuffle(shuffled)
    again = place(shuffled, make_cfg(max_stories=2, sidebar_size=4), {}, NOW)
    assert ids(first.sections["Business"]) == ids(again.sections["Business"])
    assert ids(first.sidebar) == ids(again.sidebar)
    assert ids(first.sections["Business"]) + ids(first.sidebar) == [ids([s])[0] for s in sorted(stories, key=lambda s: s.id)]


def test_never_repeat_across_issues_through_the_store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    cfg = make_cfg(max_stories=1, sidebar_size=2)
    day1 = [story("a", 3, 1), story("b", 2, 1), story("c", 1, 1)]
    first = place(day1, cfg, store.sent_articles(), NOW)
    lead = first.sections["Business"][0]
    bullet = [Bullet("x", [1])]
    issue = Issue(title="T", date=NOW.date(), generated_at=NOW,
                  sections=[TopicSection("Business", [Briefing(lead, lead.headline, "dek", {"big_picture": bullet})])],
                  sidebar=[SidebarItem(s.headline, "blurb", s.articles[0].link, s.articles[0].outlet, s) for s in first.sidebar])
    issue_id = store.record_issue("T:day1", created_at=NOW, subject="subject", document={}, html="", text="",
                                  placements=placements(issue))
    # An issue counts as sent once it reached someone: recorded alone, it leaves its stories to the next.
    assert store.sent_articles() == {}
    store.owe(issue_id, ["r@example.org"], message_ids={"r@example.org": "<m@x>"}, transport="file", at=NOW)
    store.mark_delivery(issue_id, "r@example.org", status=DeliveryStatus.SENT, at=NOW)

    later = NOW + timedelta(days=1)
    day2 = [story("a", 4, 1), story("b", 2, 1), story("c", 1, 1), story("d", 1, 0)]  # "a" gained an outlet
    second = place(day2, cfg, store.sent_articles(), later)
    shown = ids(second.sections.get("Business", [])) + ids(second.sidebar)
    assert "b" not in shown and "c" not in shown  # sent yesterday, nothing new
    assert sorted(shown) == ["a", "d"]
    assert next(s for s in second.sections["Business"] + second.sidebar if ids([s]) == ["a"]).is_update
    store.close()


def test_story_from_a_topic_no_longer_configured_only_reaches_the_sidebar():
    orphan = story("o", 6, 0, topics=("Gone",))
    p = place([orphan, story("a", 1, 5)], make_cfg(max_stories=2), {}, NOW)
    assert ids(p.sections["Business"]) == ["a"] and ids(p.sidebar) == ["o"]


def _solo(key: str, outlet: str, hours_ago: float) -> Story:
    a = article(key, outlet=outlet, title=f"Story {key}", published=NOW - timedelta(hours=hours_ago),
                topics=("Business",))
    return Story(articles=[a], headline=a.title, topics=("Business",))


def test_one_busy_feed_does_not_fill_the_issue_but_fills_what_is_left():
    """A feed of 200 bulletins a day took 6 of 8 Recent news items and 5 of 12 briefings; the journals'
    articles it pushed out were never in any issue."""
    busy = [_solo(f"fire{k}", "Firehose Digest", k * 0.1) for k in range(30)]  # the newest of all
    journals = [_solo(f"jour{k}", f"Journal {k}", 5 + k) for k in range(4)]
    shared = story("big", 3, 8)  # three outlets carry it
    p = place(busy + journals + [shared], make_cfg(max_stories=4, sidebar_size=4), {}, NOW)
    shown = p.sections["Business"] + p.sidebar
    assert {s.articles[0].id for s in journals} <= {s.articles[0].id for s in shown}  # every journal article
    assert any(s.id == shared.id for s in shown)
    assert sum(s.articles[0].outlet == "Firehose Digest" for s in shown) == 8 - 5  # the room that was left
    assert p.left_out == 35 - 8
    for placed in (p.sections["Business"], p.sidebar):  # the rounds choose; each list is still best first
        assert [s.score for s in placed] == sorted((s.score for s in placed), reverse=True)

    # A newsletter of one feed still fills every place, newest first.
    alone = place(busy, make_cfg(max_stories=4, sidebar_size=4), {}, NOW)
    assert [s.articles[0].id for s in alone.sections["Business"] + alone.sidebar] == [f"fire{k}" for k in range(8)]


def test_a_newsletter_of_one_feed_over_two_topics_fills_every_place_in_score_order():
    """The rounds' room was counted from the last story's topics, not the config's: 8 of 12 places filled."""
    def solo(key: str, topic: str, hours_ago: float) -> Story:
        a = article(key, outlet="Only Feed", title=f"Story {key}", published=NOW - timedelta(hours=hours_ago),
                    topics=(topic,))
        return Story(articles=[a], headline=a.title, topics=(topic,))

    stories = [solo(f"b{k}", "Business", k) for k in range(10)] + [solo(f"t{k}", "Transport", k + 0.5)
                                                                    for k in range(10)]
    p = place(stories, make_cfg(max_stories=4, sidebar_size=4), {}, NOW)
    assert [len(p.sections["Business"]), len(p.sections["Transport"]), len(p.sidebar)] == [4, 4, 4]
    assert p.left_out == 20 - 12
    for placed in (p.sections["Business"], p.sections["Transport"], p.sidebar):  # best first, as promised
        assert [s.score for s in placed] == sorted((s.score for s in placed), reverse=True)
