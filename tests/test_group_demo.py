"""The demo feeds group as their README says: six multi-source stories, distractors alone."""

from __future__ import annotations

from newsletter.config import load_config
from newsletter.group import group_stories

from demo_feeds import DEMO_CONFIG, DEMO_DISTRACTORS, DEMO_STORIES, demo_articles


def test_demo_stories_group_and_distractors_stay_apart():
    cfg = load_config(DEMO_CONFIG)
    articles, ids = demo_articles(cfg)
    stories = group_stories(articles, cfg.grouping)
    story_of = {a.id: k for k, s in enumerate(stories) for a in s.articles}

    for name, guids in DEMO_STORIES.items():
        got = {story_of[ids[g]] for g in guids}
        assert len(got) == 1, f"{name} split across {len(got)} stories"
        assert len(stories[got.pop()].articles) == len(guids), f"{name} picked up an extra article"
    for guid in DEMO_DISTRACTORS:
        story = stories[story_of[ids[guid]]]
        assert len(story.articles) == 1, f"distractor {guid} merged into {story.headline!r}"
    assert len(stories) == 20
    assert [len(s.articles) for s in stories[:6]] == [4, 3, 3, 3, 3, 2]
