"""The demo feeds, parsed for real and grouped by their ground truth (config/feeds/README.md),
summarized by the extractive summarizer and rendered: what the demo issue's reader gets."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.ingest.parse import article_id, parse_feed
from newsletter.models import Issue, Story, TopicSection
from newsletter.render import MAX_HTML_BYTES, render_issue, template_env
from newsletter.summarize import extractive_summarizer

CONFIG = Path(__file__).resolve().parent.parent / "config" / "newsletter.toml"
FEEDS = CONFIG.parent / "feeds"
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)


def ground_truth() -> dict[str, list[str]]:
    """Story label -> guids, from the README table the grouping tests also use."""
    groups = {}
    for line in (FEEDS / "README.md").read_text().splitlines():
        m = re.match(r"\| (S\d) \(\d sources\) \|[^|]*\| (.*) \|$", line)
        if m:
            groups[m.group(1)] = re.findall(r"`([^`]+)`", m.group(2))
    return groups


@pytest.fixture(scope="module")
def demo_stories() -> dict[str, Story]:
    by_id = {}
    for path in sorted(FEEDS.glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), None, feed_url=str(path), outlet=None, now=NOW)
        for a in parsed.articles:
            by_id[a.id] = (str(path), a)
    stories = {}
    for label, guids in ground_truth().items():
        articles = []
        for guid in guids:
            matches = [a for (feed, a) in by_id.values() if a.id == article_id(feed, guid=guid)]
            assert len(matches) == 1, f"{label}: guid {guid} not found in the demo feeds"
            articles.append(matches[0])
        stories[label] = Story(articles=articles, headline=articles[0].title)
    return stories


def test_ground_truth_names_six_multi_source_stories(demo_stories):
    assert sorted(demo_stories) == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert all(2 <= len(s.articles) <= 4 for s in demo_stories.values())
    assert len({a.outlet for a in demo_stories["S1"].articles}) == 4


def test_demo_briefings_are_full_real_and_clean(demo_stories):
    s = extractive_summarizer()
    for label, story in demo_stories.items():
        b = s.brief(story)
        assert b.dek, label
        for name, bullets in b.sections():
            assert 1 <= len(bullets) <= 3, (label, name)
            for x in bullets:
                assert any(x.text in story.articles[c - 1].text for c in x.cites), (label, x)
                assert not re.search(r"<script|onerror|javascript:", x.text, re.IGNORECASE)
    # The four-outlet story agrees on something, and says so with several citations.
    s1 = s.brief(demo_stories["S1"])
    assert any(len(x.cites) >= 2 for _, bs in s1.sections() for x in bs)


def test_demo_issue_renders_clean_and_under_the_size_limit(demo_stories):
    cfg = load_config(CONFIG)
    s = extractive_summarizer()
    briefings = [s.brief(st) for st in demo_stories.values()]
    issue = Issue(title=cfg.newsletter.title, date=date(2026, 11, 25), generated_at=NOW,
                  sections=[TopicSection("Cities & Climate", briefings[:3]),
                            TopicSection("Technology & Business", briefings[3:])], sidebar=[])
    email = render_issue(issue, template_env())
    assert len(email.html.encode()) < MAX_HTML_BYTES
    assert "<script" not in email.html.lower() and "onerror" not in email.html.lower()
    assert "evil.example" not in email.html and "evil.example" not in email.text
