"""An English issue whose story cites an Urdu source, and one citing a German source: what the
mixed-language tests render, archive and open in a browser.

Every outlet, town and event here is FICTIONAL (the Urdu and German reports are tests/multilingual_feeds.py's).

    issue = mixed_issue()              # English newsletter: a bridge story told in English and Urdu, one in English
                                       # and German, and the Urdu story again in Recent news
    issue = mixed_issue("de")          # the same, for a German newsletter
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from multilingual_feeds import FEEDS, Feed
from newsletter.models import Article, Issue, SidebarItem, Story, TopicSection
from newsletter.summarize import extractive_summarizer

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)

# The Roshan Nagar bridge closure as a fictional English-language outlet tells it.
ENGLISH_BRIDGE = Article(
    id="en-bridge", feed_url="https://lantern-post.example/feed", outlet="Lantern Post (fictional)",
    title="Roshan Nagar shuts its old wooden bridge for three months",
    link="https://lantern-post.example/bridge", published=T0, language="en",
    text=("The council of Roshan Nagar said on Tuesday that the town's old wooden bridge will close for three months. "
          "Engineers found deep cracks in two of its pillars during an inspection last week. "
          "Repairs will cost about four million rupees and start next week, the council said. "
          "Traders in the bazaar fear that their takings will halve while the bridge is shut."))
ENGLISH_HOLZBRUECKE = Article(
    id="en-neuheim", feed_url="https://lantern-post.example/feed", outlet="Lantern Post (fictional)",
    title="Neuheim closes the old timber bridge over the Lauter",
    link="https://lantern-post.example/neuheim", published=T0, language="en",
    text=("The town of Neuheim will close its old timber bridge over the Lauter to all vehicles from Monday. "
          "Inspectors found rotten beams in two of the bridge's piers, the town said. "
          "The repairs are expected to take four months and cost around 1.2 million euros."))


def source(feed: Feed) -> Article:
    """The feed's first report as the fetch stores it: its own language, its own title and text."""
    item = feed.items[0]
    return Article(id=item.guid, feed_url=f"https://{feed.slug}.example/feed", outlet=feed.outlet, title=item.title,
                   link=f"https://{feed.slug}.example/{item.guid}", published=T0, text=feed.text(item),
                   language=feed.language)


def mixed_issue(language: str = "en") -> Issue:
    writer = extractive_summarizer()
    urdu = Story([ENGLISH_BRIDGE, source(FEEDS["ur"])], ENGLISH_BRIDGE.title)
    german = Story([ENGLISH_HOLZBRUECKE, source(FEEDS["de"])], ENGLISH_HOLZBRUECKE.title)
    only_urdu = Story([source(FEEDS["ur"])], FEEDS["ur"].items[0].title)
    blurb, blurb_language = writer.sourced_blurb(only_urdu)
    side = SidebarItem(headline=only_urdu.headline, blurb=blurb, url=only_urdu.articles[0].link,
                       outlet=only_urdu.articles[0].outlet, story=only_urdu,
                       headline_language=only_urdu.headline_language, blurb_language=blurb_language)
    return Issue(title="The Meridian Brief", date=date(2026, 11, 25), generated_at=T0, language=language,
                 sections=[TopicSection("Cities", [writer.brief(urdu), writer.brief(german)])], sidebar=[side])
