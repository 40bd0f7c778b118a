"""Rendering: what a reader of the email (HTML or plain text) would see, and the JSON of the issue."""

from __future__ import annotations

import json
from datetime import date

import pytest

from issue_factory import HOSTILE_TITLE, T0, briefing, make_issue, parse, render, sidebar_item, visible_text
from newsletter.config import Config
from newsletter.errors import ConfigError, NewsletterError
from newsletter.models import Bullet, Issue, TopicSection
from newsletter.pipeline import templates_folder
from newsletter.render import MAX_HTML_BYTES, issue_document


def test_reader_sees_every_story_with_sources_sections_and_recent_news():
    issue = make_issue()
    email = render(issue)
    doc = parse(email.html)
    text = visible_text(doc)
    assert "The Meridian Brief" in text and "Wednesday, 25 November 2026" in text
    assert "Cities & Climate" in text and "Technology" in text
    for b in issue.briefings:
        assert b.headline in text and b.dek in text
    assert text.count("3 sources") == 4
    for label in ("The big picture", "Why this matters", "Between the lines"):
        assert text.count(label) == 4
    assert "Recent news" in text
    for item in issue.sidebar:
        assert item.headline in text and item.blurb in text
        assert doc.xpath(f'//a[@href="{item.url}"]'), f"sidebar item {item.headline} is not linked"


def test_citation_markers_and_numbered_sources_link_to_the_articles():
    issue = make_issue(n_stories=1, n_sidebar=0)
    doc = parse(render(issue).html)
    story = issue.briefings[0].story
    markers = {(a.text_content(), a.get("href")) for a in doc.xpath("//a") if a.text_content().startswith("[")}
    assert ("[1]", story.articles[0].link) in markers
    assert ("[2]", story.articles[1].link) in markers
    assert ("[3]", story.articles[2].link) in markers  # the "why" bullet cites the last source
    text = visible_text(doc)
    for i, a in enumerate(story.articles, start=1):
        assert f"{i}. {a.title} — {a.outlet}" in text
        assert doc.xpath(f'//a[@href="{a.link}" and normalize-space()="{a.title}"]')


def test_hostile_feed_text_is_shown_as_text_and_javascript_links_are_not_links():
    bad = briefing(1, title_of_first=HOSTILE_TITLE, link_of_first="javascript:alert(document.cookie)")
    issue = Issue(title="The Meridian Brief", date=date(2026, 11, 25), generated_at=T0,
                  sections=[TopicSection("Cities & Climate", [bad])],
                  sidebar=[sidebar_item(1, url="javascript:alert(1)"), sidebar_item(2, url=" JaVaScRiPt:alert(2)")])
    email = render(issue)
    doc = parse(email.html)
    assert not doc.xpath("//script") and not doc.xpath("//body//b") and not doc.xpath("//body//i")
    assert "javascript:" not in email.html.lower()
    # Every link goes to an http(s) page, or to a briefing further down ("In this issue").
    assert all(a.get("href", "").startswith(("https://", "http://", "#story-")) for a in doc.xpath("//a"))
    text = visible_text(doc)
    assert '<script>alert("x")</script>' in text  # shown, escaped, harmless
    assert "Side story 1" in text  # still listed, just not linked
    assert "javascript:" not in email.text.lower()
    assert issue_document(issue)["stories"][0]["sources"][0]["url"] is None
    assert issue_document(issue)["sidebar"][0]["url"] is None


def test_key_styles_are_inline_and_nothing_loads_from_outside():
    html = render(make_issue()).html
    doc = parse(html)
    headline = doc.xpath('//h2[contains(@class, "headline")]')[0]
    assert "font-size" in (headline.get("style") or "")
    bullet = doc.xpath('//li[contains(@class, "b")]')[0]
    assert "font-size" in (bullet.get("style") or "")
    container = doc.xpath('//div[contains(@class, "container")]')[0]
    assert "max-width:600px" in container.get("style").replace(" ", "")
    assert not doc.xpath("//img | //link[@rel='stylesheet'] | //script | //iframe")
    assert "@import" not in html and "display:flex" not in html.replace(" ", "") and "grid" not in html


def test_demo_sized_issue_fits_under_gmail_clipping():
    email = render(make_issue(n_stories=9, n_sidebar=8))
    assert len(email.html.encode()) < MAX_HTML_BYTES


def test_oversized_issue_is_trimmed_and_says_so():
    issue = make_issue(n_stories=6, n_sidebar=50)
    for b in issue.briefings:  # very long bullets: far past 100 KB as rendered
        for _, bullets in b.sections():
            bullets.extend(Bullet("A very long bullet. " * 40, [1]) for _ in range(3))
    email = render(issue)
    assert len(email.html.encode()) < MAX_HTML_BYTES
    assert "shortened to fit email size limits" in visible_text(parse(email.html))
    assert any("trimmed" in w for w in email.warnings)
    for b in issue.briefings:  # every story still there
        assert b.headline in email.text


def test_text_part_has_the_same_headlines_and_source_urls():
    issue = make_issue()
    text = render(issue).text
    assert "<" not in text.replace("<i>", "").replace("</i>", "")  # no markup apart from feed text itself
    for b in issue.briefings:
        assert b.headline in text
        for i, a in enumerate(b.story.articles, start=1):
            assert f"[{i}] {a.title} — {a.outlet}" in text
            assert a.link in text
    assert "RECENT NEWS" in text
    for item in issue.sidebar:
        assert item.url in text
    assert "- Big fact 1a shared by outlets. [1] [2]" in text


def test_subject_names_title_date_and_top_story():
    issue = make_issue()
    assert render(issue).subject == \
        "The Meridian Brief — 25 Nov 2026: Headline number 1 about the harbour"
    empty = Issue(title="The Meridian Brief", date=date(2026, 11, 25), generated_at=T0, sections=[], sidebar=[])
    email = render(empty)
    assert email.subject == "The Meridian Brief — 25 Nov 2026"
    assert "No new stories" in visible_text(parse(email.html))


def test_a_headline_of_thousands_of_characters_is_cut_in_the_subject_at_a_word():
    # A feed's 5,000-character title became a 5,000-character subject: an inbox shows a line of it.
    issue = make_issue()
    long = "Harbour " + " ".join(f"pier{n}" for n in range(1000))
    issue.briefings[0].headline = long
    subject = render(issue).subject
    shown = subject.removeprefix("The Meridian Brief — 25 Nov 2026: ")
    assert shown.endswith("…") and 100 < len(shown) <= 151 and long.startswith(shown[:-1])
    assert long[len(shown) - 1] == " "  # cut after a whole word, not inside one


def test_unsubscribe_link_only_when_configured():
    plain = render(make_issue())
    assert "Unsubscribe" not in plain.html
    url = "https://meridian-brief.example.com/unsubscribe?u=1"
    with_link = render(make_issue(), unsubscribe_url=url)
    assert parse(with_link.html).xpath(f'//a[@href="{url}" and normalize-space()="Unsubscribe from The Meridian Brief"]')
    assert f"Unsubscribe:\n{url}\n" in with_link.text  # the URL on a line of its own


def test_own_templates_come_first_and_shipped_ones_fill_the_gaps(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "issue.html").write_text(
        "<html><body><h1>{{ v.title }} custom</h1>{% for s in v.sections %}{{ s.name }}{% endfor %}</body></html>")
    email = render(make_issue(), templates=tmp_path / "mine")
    assert "The Meridian Brief custom" in email.html
    assert "RECENT NEWS" in email.text  # issue.txt came from the shipped folder


def test_template_mistakes_get_a_one_line_answer(tmp_path):
    cfg = Config.model_validate({
        "newsletter": {"title": "T", "from": "a@example.com", "to": ["b@example.org"], "templates": "no-such-folder"},
        "topics": [{"name": "Cities & Climate", "feeds": ["f.xml"]}],
    })
    cfg.path = tmp_path / "newsletter.toml"
    with pytest.raises(ConfigError, match=r"templates.*not found"):
        templates_folder(cfg)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "issue.html").write_text("<html>\n{% for s in v.sections %}\n</html>")
    with pytest.raises(NewsletterError, match=r"issue.html, line \d+"):
        render(make_issue(), templates=tmp_path / "broken")


def test_issue_document_matches_the_json_contract():
    issue = make_issue(n_stories=2, n_sidebar=1)
    doc = json.loads(json.dumps(issue_document(issue)))  # plain JSON types only
    assert set(doc) == {"title", "date", "stories", "sidebar"}
    assert doc["date"] == "2026-11-25"
    story = doc["stories"][0]
    assert set(story) == {"headline", "dek", "topic", "sources_count", "update", "sources",
                          "big_picture", "why_this_matters", "between_the_lines"}
    assert story["topic"] == "Cities & Climate" and story["sources_count"] == 3 and story["update"] is False
    assert story["sources"][0] == {"title": "Story 1 as told by outlet 1", "outlet": "Outlet 1",
                                   "url": "https://s1o1.example/story/s1o1", "published": "2026-11-24T08:00:00+00:00"}
    assert story["big_picture"][0] == {"text": "Big fact 1a shared by outlets.", "cites": [1, 2]}
    assert doc["stories"][1]["topic"] == "Technology"
    assert doc["sidebar"] == [{"headline": "Side story 1", "blurb": "One line about side story 1.",
                               "url": "https://side1.example/story/side1", "outlet": "Side Outlet 1"}]


@pytest.mark.parametrize("language, zone, day", [("en", "UTC", "23 Nov"), ("en", "Europe/Berlin", "24 Nov"),
                                                  ("de", "Europe/Berlin", "24. Nov."), ("fr", "UTC", "23 nov.")])
def test_each_source_says_the_day_it_was_published_in_the_readers_zone_and_words(language, zone, day):
    """Sources named no date, so a reader could not tell a report from this morning from one three days old."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    issue = make_issue(n_stories=1, n_sidebar=0, language=language, timezone=ZoneInfo(zone))
    late = issue.briefings[0].story.articles[0]
    late.published = datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)  # already the 24th in Berlin
    email = render(issue)
    [first] = parse(email.html).xpath('//p[@class="src"]')[:1]
    assert " ".join(first.text_content().split()).endswith(f"— {late.outlet}, {day}"), first.text_content()
    assert f"— {late.outlet}, {day}\n" in email.text, email.text
    assert issue_document(issue)["stories"][0]["sources"][0]["published"] == late.published.astimezone(
        ZoneInfo(zone)).isoformat()


def test_a_sources_day_is_never_split_over_two_lines_of_the_text_part():
    issue = make_issue(n_stories=1, n_sidebar=0)
    arts = issue.briefings[0].story.articles
    for k in range(40):  # one of these lengths puts the day at the end of a line
        arts[0].title = "Story told " + "x" * k
        for line in render(issue).text.splitlines():
            assert not line.rstrip().endswith(", 24"), line


@pytest.mark.parametrize("n_sources, label", [(1, "1 source"), (4, "4 sources")])
def test_source_count_label_reads_naturally(n_sources, label):
    issue = Issue(title="T", date=date(2026, 11, 25), generated_at=T0,
                  sections=[TopicSection("X", [briefing(1, n_sources)])], sidebar=[])
    assert label in visible_text(parse(render(issue).html))
