"""Grouping: same event -> one story, different events -> apart, deterministic, within the window."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from pathlib import Path

import pytest

from newsletter.config import GroupingSettings
from newsletter.group import group_stories
from newsletter.group.quality import load_labelled
from newsletter.models import Article

LABELLED = Path(__file__).parent / "data" / "grouping"
INDEPENDENT = Path(__file__).parent / "data" / "grouping_independent"


@pytest.fixture(scope="module")
def labelled() -> tuple[dict[str, Article], dict[str, str]]:
    articles, labels = load_labelled(LABELLED)
    return {a.id: a for a in articles}, labels


def _story_of(stories, article_id):
    return next(s for s in stories if article_id in {a.id for a in s.articles})


def _pick(arts: dict[str, Article], labels: dict[str, str], *clusters: str) -> list[Article]:
    return [a for aid, a in arts.items() if labels[aid] in clusters]


def test_wire_copies_and_paraphrases_of_one_event_make_one_story(labelled):
    arts, labels = labelled
    stories = group_stories(_pick(arts, labels, "veltrona-recall", "nimbus-outage"), GroupingSettings())
    assert sorted(len(s.articles) for s in stories) == [5, 5]
    recall = _story_of(stories, "b01")
    assert {a.id for a in recall.articles} == {"b01", "b02", "b03", "b04", "b05"}  # wire copy, rewrite, day-after piece


def test_same_company_different_events_stay_apart(labelled):
    arts, labels = labelled
    picked = _pick(arts, labels, "veltrona-recall", "veltrona-profit", "veltrona-plant", "swiftbox-jobs")
    stories = group_stories(picked, GroupingSettings())
    got = sorted(sorted(labels[a.id] for a in s.articles) for s in stories)
    assert got == sorted([["veltrona-recall"] * 5, ["veltrona-profit"] * 3, ["veltrona-plant"], ["swiftbox-jobs"] * 2])


def test_follow_up_days_later_is_its_own_story(labelled):
    arts, labels = labelled
    stories = group_stories(_pick(arts, labels, "tessaly-strike", "tessaly-deal", "tessaly-jets"), GroupingSettings())
    assert len(stories) == 3
    assert {labels[a.id] for a in _story_of(stories, "b28").articles} == {"tessaly-deal"}


def test_window_keeps_far_apart_copies_separate(labelled):
    arts, _ = labelled
    first = arts["b01"]
    again = dataclasses.replace(arts["b02"], id="late", published=first.published + timedelta(hours=100))
    assert len(group_stories([first, again], GroupingSettings(window_hours=72))) == 2
    assert len(group_stories([first, again], GroupingSettings(window_hours=120))) == 1


def test_one_outlet_counts_once_and_its_first_report_stays(labelled):
    arts, _ = labelled
    wire = arts["b01"]
    update = dataclasses.replace(wire, id="b01-update", published=wire.published + timedelta(hours=2),
                                 title=wire.title + " (updated)")
    stories = group_stories([wire, update, arts["b03"], arts["b04"]], GroupingSettings())
    assert len(stories) == 1
    story = stories[0]
    assert len(story.articles) == 3 and len(set(story.outlets)) == 3
    assert "b01" in {a.id for a in story.articles} and "b01-update" not in {a.id for a in story.articles}


def test_headline_is_the_informative_title_not_a_teaser(labelled):
    arts, labels = labelled
    stories = group_stories(_pick(arts, labels, "nimbus-outage", "veltrona-recall"), GroupingSettings())
    outage = _story_of(stories, "t03")
    assert outage.headline != "What went wrong at Nimbusware"
    assert "Nimbusware" in outage.headline and "outage" in outage.headline
    recall = _story_of(stories, "b04")
    assert recall.headline != arts["b04"].title  # not the aggregator's "what drivers need to know"
    assert "41,000" in recall.headline
    assert recall.articles[0].title == recall.headline  # the headline's source is source [1]


def test_story_carries_times_and_union_of_topics(labelled):
    arts, _ = labelled
    a = dataclasses.replace(arts["b19"], topics=("Business",))
    b = dataclasses.replace(arts["b20"], topics=("Health",))
    c = dataclasses.replace(arts["b21"], topics=("Business", "Markets"))
    [story] = group_stories([c, a, b], GroupingSettings())
    assert story.topics == ("Business", "Health", "Markets")
    assert story.first_published == a.published and story.last_published == c.published


def test_same_input_in_any_order_gives_same_stories(labelled):
    arts, _ = labelled
    items = list(arts.values())
    first = group_stories(items, GroupingSettings())
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    second = group_stories(shuffled, GroupingSettings())
    assert [(s.id, s.headline, [a.id for a in s.articles]) for s in first] == \
           [(s.id, s.headline, [a.id for a in s.articles]) for s in second]
    assert [len(s.articles) for s in first] == sorted((len(s.articles) for s in first), reverse=True)


def test_duplicates_and_empty_input(labelled):
    arts, _ = labelled
    assert group_stories([], GroupingSettings()) == []
    bare = [dataclasses.replace(arts["t13"], id=f"bare{k}", title="The", text="") for k in range(2)]
    assert [len(s.articles) for s in group_stories(bare, GroupingSettings())] == [1, 1]
    [story] = group_stories([arts["t13"], arts["t13"]], GroupingSettings())
    assert [a.id for a in story.articles] == ["t13"]


def test_articles_without_text_or_names_still_group_by_title():
    from datetime import datetime, timezone

    t = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)

    def art(i, outlet, title):
        return Article(id=i, feed_url="f", outlet=outlet, title=title, link=f"https://x.example/{i}", published=t, text="")

    stories = group_stories([
        art("1", "A", "tram fares rise 12% from january across the network"),
        art("2", "B", "tram fares to rise 12% in january"),
        art("3", "C", "heavy snow closes mountain pass for second day"),
    ], GroupingSettings())
    assert sorted(len(s.articles) for s in stories) == [1, 2]


def test_a_shared_number_alone_never_makes_one_story():
    """A feed of numbered station bulletins joined a journal's erratum on "3" and a study on "22%"."""
    from datetime import datetime, timezone

    t = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)

    def art(i, outlet, title, text):
        return Article(id=i, feed_url=outlet, outlet=outlet, title=title, link=f"https://{outlet}.example/{i}",
                       published=t, text=text)

    bulletins = [art(f"b{n}", "firehose", f"Bulletin number {n}: routine sensor report from station {n}",
                     f"Station {n} reported routine readings. " * 3) for n in range(1, 60)]
    journal = [art("e", "tarns", "Erratum: Figure 3 in 'Ice-out dates of northern tarns'",
                   "Figure 3 showed the wrong axis labels; the corrected version is online."),
               art("g", "hydrology", "Groundwater recharge under Osterlund farmland",
                   "Recharge rates fell by 22% over a decade, a new model of the Osterlund basin suggests."),
               # The control: the same recharge study from another outlet still joins it.
               art("g2", "lakes", "Osterlund farmland recharge fell 22% in a decade, model suggests",
                   "A model of the Osterlund basin finds groundwater recharge down 22% over ten years.")]
    stories = group_stories(bulletins + journal, GroupingSettings())
    assert [a.id for a in _story_of(stories, "e").articles] == ["e"]
    assert sorted(a.id for a in _story_of(stories, "g").articles) == ["g", "g2"]
    assert all(len(s.articles) == 1 for s in stories if s.articles[0].outlet == "firehose")


def test_a_link_in_two_feeds_is_one_source_but_a_feeds_home_page_link_tells_nothing():
    """A preprint cross-listed in two categories' feeds showed as "2 sources", its link listed twice."""
    from datetime import datetime, timezone

    t = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
    title = "Tidal tokenizers: sub-word units that follow the moon"
    text = "We propose tidal tokenizers, sub-word units whose merges follow a lunar schedule."
    cl = Article(id="cl-1", feed_url="cs-cl.atom", outlet="Preprint Stack: cs.CL", title=title, text=text,
                 link="https://preprints.example/abs/2611.0441", published=t, topics=("Language",))
    lg = dataclasses.replace(cl, id="lg-1", feed_url="cs-lg.atom", outlet="Preprint Stack: cs.LG",
                             topics=("Learning",), published=t + timedelta(minutes=5))
    blog = Article(id="blog-1", feed_url="blog.rss", outlet="Moonlit ML Blog", published=t + timedelta(hours=2),
                   title="Tidal tokenizers make sub-word units follow the moon",
                   text="A new preprint proposes tidal tokenizers, whose sub-word merges follow the lunar schedule.",
                   link="https://moonlit.example/tidal", topics=("Learning",))
    [story] = group_stories([cl, lg, blog], GroupingSettings())
    assert sorted(a.link for a in story.articles) == ["https://moonlit.example/tidal", cl.link]
    assert set(story.topics) == {"Language", "Learning"}  # the cross-listing keeps both topics

    home = [Article(id=f"h{k}", feed_url="lazy.rss", outlet="Lazy Gazette", title=f"Item {k}: {w}",
                    text=f"The {w} story.", link="https://lazy.example/", published=t)
            for k, w in enumerate(["harbour fees", "school board", "bridge repairs"])]
    assert len(group_stories(home, GroupingSettings())) == 3


def test_arxivs_announce_line_is_not_a_name_two_papers_share():
    """Every entry of arXiv's RSS opens "arXiv:ID Announce Type: new", whose capitalised words read as
    names all entries share: a sparse-parity paper and a PAC-Bayes paper became one story, each
    feed's copy of the other shown as its source."""
    from datetime import datetime, timezone

    t = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
    papers = {
        "20001": ("Gradient descent learns sparse parities in $\\mathcal{O}(n^2)$ steps",
                  "We prove that two-layer networks trained by SGD learn $k$-sparse parities on $n$ bits in "
                  "$\\mathcal{O}(n^{k-1})$ iterations, improving on prior $\\mathcal{O}(n^k)$ bounds."),
        "20002": ("A PAC-Bayes bound for in-context learning with $\\ell_2$-regularized transformers",
                  "We derive a generalization bound scaling as $\\tilde{O}(\\sqrt{d/m})$ for transformers "
                  "trained with weight decay $\\lambda$. The bound is non-vacuous on in-context regression."),
    }
    arts = [Article(id=f"{feed}-{n}", feed_url=feed, outlet=feed, title=title, published=t,
                    link=f"https://{feed}.example/abs/2611.{n}",
                    text=f"arXiv:2611.{n}v1 Announce Type: new\nAbstract: {abstract}")
            for feed in ("cs-lg", "stat-ml") for n, (title, abstract) in papers.items()]
    stories = group_stories(arts, GroupingSettings())
    assert sorted(sorted(a.id for a in s.articles) for s in stories) == [
        ["cs-lg-20001", "stat-ml-20001"], ["cs-lg-20002", "stat-ml-20002"]]


def test_a_paper_linked_by_arxivs_api_and_by_its_rss_is_one_source():
    """A cross-listed paper showed as "2 sources": arXiv's API feed links it as http://arxiv.org/abs/IDv1,
    the category's RSS as https://arxiv.org/abs/ID. Another paper, or a page of another site, stays apart."""
    from datetime import datetime, timezone

    t = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
    title = "Flat bands and fractional Chern insulators in twisted MoTe$_2$"
    text = "Using exact diagonalization on 27-site clusters we find fractional Chern insulator states."
    api = Article(id="api-1", feed_url="cond-mat.atom", outlet="arXiv cond-mat", title=title, text=text,
                  link="http://arxiv.org/abs/2611.10002v1", published=t, topics=("Condensed matter",))
    rss = dataclasses.replace(api, id="rss-1", feed_url="cs-lg.rss", outlet="arXiv cs.LG", topics=("ML",),
                              link="https://arxiv.org/abs/2611.10002", published=t + timedelta(minutes=5))
    [story] = group_stories([api, rss], GroupingSettings())
    assert [a.id for a in story.articles] == ["api-1"] and set(story.topics) == {"Condensed matter", "ML"}

    other = dataclasses.replace(rss, id="rss-2", link="https://arxiv.org/abs/2611.1000")
    elsewhere = dataclasses.replace(rss, id="blog-1", outlet="Moire Notes", link="https://moire.example/abs/2611.10002")
    stories = group_stories([api, other, elsewhere], GroupingSettings())
    assert sorted(a.id for s in stories for a in s.articles) == ["api-1", "blog-1", "rss-2"]


def test_one_feeds_papers_on_one_subject_stay_apart_and_none_is_lost():
    """A preprint feed's papers share their field's wording and subjects: three papers on sea-ice
    forecasting became one story, which shows one piece per outlet, so two papers vanished from the issue
    without a count. Two pieces of one outlet make one story only as the same piece under two links, or
    when another outlet's report joins them."""
    from datetime import datetime, timezone

    t = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
    lead = "arXiv:2611.{n}v1 Announce Type: new\nAbstract: "
    papers = [
        ("Sea-ice forecasting with graph neural networks over the Varland Sea",
         "We forecast Varland Sea ice concentration two weeks ahead with a graph neural network trained on "
         "satellite passive-microwave records. Sea-ice forecasting skill improves over persistence."),
        ("Probabilistic sea-ice forecasting from satellite records with diffusion models",
         "We train a diffusion model on satellite passive-microwave records of sea ice concentration and "
         "issue probabilistic sea-ice forecasting ensembles that beat persistence at two weeks."),
        ("Calibrating sea-ice forecasting ensembles for the Varland Sea",
         "Sea-ice forecasting ensembles for the Varland Sea are overconfident. We calibrate them against "
         "satellite records of ice concentration and improve skill over persistence."),
    ]
    arts = [Article(id=f"p{k}", feed_url="physics.ao-ph", outlet="Preprints ao-ph", title=title,
                    text=lead.format(n=20010 + k) + abstract, link=f"https://preprints.example/abs/2611.{20010 + k}",
                    published=t + timedelta(minutes=k)) for k, (title, abstract) in enumerate(papers)]
    stories = group_stories(arts, GroupingSettings())
    assert sorted(a.id for s in stories for a in s.articles) == ["p0", "p1", "p2"] and len(stories) == 3

    again = dataclasses.replace(arts[0], id="p0-mirror", link="https://mirror.preprints.example/abs/2611.20010",
                                published=t + timedelta(hours=1))
    [story] = group_stories([arts[0], again], GroupingSettings())
    assert [a.id for a in story.articles] == ["p0"]  # one piece under two links is one source


def test_one_article_in_two_topics_feeds_is_one_story_in_both_topics(labelled):
    arts, _ = labelled
    tech = dataclasses.replace(arts["t10"], id="t10-tech", feed_url="tech.xml", topics=("Technology",))
    health = dataclasses.replace(arts["t10"], id="t10-health", feed_url="health.xml", topics=("Health",))
    [story] = group_stories([tech, health, arts["t11"]], GroupingSettings())
    assert len(story.articles) == 2 and set(story.topics) == {"Technology", "Health"}


@pytest.fixture(scope="module")
def independent() -> tuple[dict[str, Article], dict[str, str]]:
    articles, labels = load_labelled(INDEPENDENT)
    return {a.id: a for a in articles}, labels


def test_different_angles_on_one_strike_make_one_story_and_other_strikes_stay_apart(independent):
    arts, labels = independent
    # "buses halted as drivers walk out" / "commuters scramble ... transit stoppage" / "pay dispute stops
    # entire city network"; a bin strike elsewhere the same day; a market next day that mentions the strike.
    picked = _pick(arts, labels, "lorrow-bus-strike", "castmere-refuse-strike", "lorrow-christmas-market")
    got = sorted(sorted(labels[a.id] for a in s.articles) for s in group_stories(picked, GroupingSettings()))
    assert got == sorted([["lorrow-bus-strike"] * 3, ["castmere-refuse-strike"] * 2, ["lorrow-christmas-market"]])
    # Without anchored joins the angles share too few words: the reader would get the strike three times.
    off = group_stories(picked, GroupingSettings(anchored_min_similarity=0))
    assert len({id(_story_of(off, aid)) for aid in ("i042", "i043", "i044")}) > 1


def test_one_town_or_one_storm_is_not_one_event(independent):
    arts, labels = independent
    picked = _pick(arts, labels, "harnwick-leme-flood", "tolsey-flash-flood", "harnwick-library-approved",
                   "rilby-beat-harnwick-league", "grenmouth-warehouse-fire", "audleby-warehouse-fire")
    for story in group_stories(picked, GroupingSettings()):
        assert len({labels[a.id] for a in story.articles}) == 1, [a.title for a in story.articles]


def test_grouping_reads_a_bounded_part_of_hostile_megabyte_titles_and_texts(labelled, monkeypatch):
    from newsletter.group import features
    from newsletter.text import LEAD_CHARS, MAX_TITLE_CHARS

    read: list[int] = []
    scan = features.event_kinds
    monkeypatch.setattr(features, "event_kinds", lambda text: read.append(len(text)) or scan(text))
    arts, _ = labelled
    huge = dataclasses.replace(arts["b01"], id="huge", title="Recall " * 300_000, text="Recall of vans. " * 150_000)
    stories = group_stories([huge, arts["b02"], arts["t13"]], GroupingSettings())
    assert sum(len(s.articles) for s in stories) == 3
    assert read and max(read) <= max(LEAD_CHARS, MAX_TITLE_CHARS)  # every title and text scan is bounded
    assert {s.headline for s in stories} >= {arts["t13"].title}
