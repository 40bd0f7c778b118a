"""Issues made to order for the rendering tests, and how to read what they render to."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import lxml.html

from conftest import article
from newsletter.models import Article, Briefing, Bullet, Issue, RenderedEmail, SidebarItem, Story, TopicSection
from newsletter.render import render_issue, template_env

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
HOSTILE_TITLE = '<script>alert("x")</script> Harbour "news" & <b>more</b>'


def art(key: str, outlet: str, title: str, link: str | None = None) -> Article:
    return article(key, outlet=outlet, title=title, feed_url=f"https://{key}.example/feed",
                   link=link or f"https://{key}.example/story/{key}", published=T0,
                   text=f"{title}. Some text from {outlet}.")


def briefing(n: int, n_sources: int = 3, *, title_of_first: str | None = None, link_of_first: str | None = None) -> Briefing:
    arts = [art(f"s{n}o{i}", f"Outlet {i}", f"Story {n} as told by outlet {i}") for i in range(1, n_sources + 1)]
    if title_of_first:
        arts[0].title = title_of_first
    if link_of_first:
        arts[0].link = link_of_first
    story = Story(articles=arts, headline=arts[0].title)
    return Briefing(
        story=story,
        headline=title_of_first or f"Headline number {n} about the harbour",
        dek=f"Dek line for story {n}.",
        bullets={
            "big_picture": [Bullet(f"Big fact {n}a shared by outlets.", [1, 2] if n_sources > 1 else [1]),
                            Bullet(f"Big fact {n}b.", [1])],
            "why_this_matters": [Bullet(f"Consequence {n}: bills will rise.", [n_sources])],
            "between_the_lines": [Bullet(f"Caveat {n}: \"a quote\" & <i>markup</i>.", [1])],
        },
    )


def sidebar_item(n: int, url: str | None = None) -> SidebarItem:
    a = art(f"side{n}", f"Side Outlet {n}", f"Side story {n}")
    return SidebarItem(headline=f"Side story {n}", blurb=f"One line about side story {n}.",
                       url=url or a.link, outlet=a.outlet, story=Story([a], a.title))


def make_issue(n_stories: int = 4, n_sidebar: int = 6, **kw) -> Issue:
    bs = [briefing(i) for i in range(1, n_stories + 1)]
    half = (len(bs) + 1) // 2
    return Issue(title="The Meridian Brief", date=date(2026, 11, 25), generated_at=T0,
                 sections=[TopicSection("Cities & Climate", bs[:half]), TopicSection("Technology", bs[half:])],
                 sidebar=[sidebar_item(i) for i in range(1, n_sidebar + 1)], **kw)


def render(issue: Issue, *, templates: Path | None = None, unsubscribe_url: str | None = None) -> RenderedEmail:
    return render_issue(issue, template_env(templates), unsubscribe_url=unsubscribe_url)


def parse(html: str):
    return lxml.html.fromstring(html)


def visible_text(doc) -> str:
    body = doc.find("body")
    return " ".join(body.text_content().split())
