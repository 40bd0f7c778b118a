"""Recorded issues -> a static site: an index (newest first), a page per issue, an Atom feed, a JSON Feed.

    write_archive(cfg, store, Path("site"))   # the paths it wrote (or found already up to date)

Everything is made from what the store recorded (each issue's JSON document and its creation
time), never from the clock or the feeds, so archiving twice writes the same bytes to the same
files: links, Atom ids and updated times never move. A page's briefings and Recent news come from
the same partials as the email (``_briefing.html``, ``_sidebar.html``), with a web layout around
them (``web/*.html``). Pages are plain files: any web host serves them, and ``newsletter serve``
does too.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.folders import write_whole
from newsletter.locales import Locale, locale, resolve
from newsletter.models import SECTIONS, Briefing, issue_key_prefix
from newsletter.render import Text, published_day, safe_url, template_env
from newsletter.web.tokens import site_root

if TYPE_CHECKING:
    from newsletter.store import Store

ISSUES_DIR = "issues"
FEED_FILE, JSON_FEED_FILE, INDEX_FILE = "feed.xml", "feed.json", "index.html"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Atom ids are made once from the newsletter's title and the issue's date: they survive a move of the site.
ID_NAMESPACE = uuid.UUID("6f1c0d3e-8a57-4c1e-9b0a-4e7d2c5b9a11")


def issue_path(day: date) -> str:
    """An issue's page, relative to the site's root: one file per newsletter day, for good."""
    return f"{ISSUES_DIR}/{day.isoformat()}.html"


def issue_url(cfg: Config, day: date) -> str | None:
    """The issue's page on the published site, when ``[web] base_url`` says where that is."""
    return site_root(cfg) + issue_path(day) if cfg.web.base_url else None


def web_env(own_folder: Path | None) -> jinja2.Environment:
    """The email's template lookup (your folder first, then the shipped one), escaping XML too."""
    return template_env(own_folder).overlay(
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml"), default_for_string=False))


# -- the view: the shape the shared partials expect, made from a stored document ------------------

@dataclass
class _Cite:
    n: int
    url: str | None
    outlet: str = ""


@dataclass
class _Bullet:
    text: str
    cites: list[_Cite]


@dataclass
class _Source:
    n: int
    title: str
    outlet: str
    url: str | None
    day: str = ""


@dataclass
class _Story:
    headline: str
    dek: str
    topic: str
    anchor: str
    sources_count: int
    sections: list[tuple[str, list[_Bullet]]]
    sources: list[_Source]
    is_update: bool = False  # from the stored document; issues recorded before it said so show no mark
    url: str | None = None


@dataclass
class _SidebarItem:
    headline: str
    blurb: str
    outlet: str
    url: str | None


@dataclass
class WebIssue:
    """One archived issue as the web templates see it (``v``)."""

    key: str
    day: date
    created_at: datetime
    title: str
    subject: str
    path: str  # relative to the site's root
    stories: list[_Story]
    sidebar: list[_SidebarItem]
    notes: list[str] = field(default_factory=list)
    lang: str = "en"  # the language it was written in (its document's "language"): its words and dates
    dir: str = "ltr"
    newer: WebIssue | None = None
    older: WebIssue | None = None

    @property
    def t(self) -> Locale:
        return locale(self.lang)

    @property
    def date_label(self) -> str:
        return self.t.date(self.day, "long")

    @property
    def lead(self) -> str:
        """What the index shows under the date: the first briefing's headline."""
        if self.stories:
            return self.stories[0].headline
        return self.sidebar[0].headline if self.sidebar else self.t.lead_none

    def lead_on(self, page: Locale) -> Text:
        """The lead marked for a page in ``page``'s language (the index, in today's language), not the issue's:
        a headline in the issue's own language is no longer the page's."""
        lead = self.lead
        return Text.of(str(lead), getattr(lead, "lang", None) or self.lang, page)

    @property
    def atom_id(self) -> str:
        return uuid.uuid5(ID_NAMESPACE, self.key).urn


def _text(doc: dict, key: str, language_key: str, loc: Locale) -> Text:
    """``doc[key]`` marked with the language the document records for it (see render.issue_document)."""
    language = doc.get(language_key)
    return Text.of(str(doc.get(key, "")), language if isinstance(language, str) else None, loc)


def _when(value: object) -> datetime | None:
    """A source's recorded time, or None: issues recorded before sources had one, or an edited document."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _story(doc: dict, n: int, loc: Locale) -> _Story:
    sources = [_Source(i, _text(s, "title", "language", loc), str(s.get("outlet", "")), safe_url(s.get("url")),
                       published_day(_when(s.get("published")), loc))
               for i, s in enumerate(doc.get("sources", []), start=1)]

    def cites(numbers: list) -> list[_Cite]:
        return [_Cite(c, sources[c - 1].url, sources[c - 1].outlet)
                for c in numbers if isinstance(c, int) and 1 <= c <= len(sources)]

    def bullets(items: list[dict]) -> list[_Bullet]:
        return [_Bullet(_text(b, "text", "language", loc), cites(b.get("cites", []))) for b in items]

    sections = [(loc.title(kind), bullets(doc.get(kind.key, []))) for kind in SECTIONS]
    extra = doc.get(Briefing.EXTRA_KEY)
    if isinstance(extra, dict):
        sections.insert(1, (str(extra.get("title", "")), bullets(extra.get("bullets", []))))
    return _Story(headline=_text(doc, "headline", "headline_language", loc), dek=_text(doc, "dek", "dek_language", loc),
                  topic=str(doc.get("topic", "")),
                  anchor=f"story-{n}", sources_count=int(doc.get("sources_count", len(sources))), sections=sections,
                  sources=sources, url=sources[0].url if sources else None, is_update=bool(doc.get("update", False)))


def web_issue(row: dict) -> WebIssue:
    """A recorded issue (a row of ``Store.archived_issues``) as the templates see it."""
    doc = row["document"]
    day = date.fromisoformat(doc["date"])
    # Recorded before languages, or in one whose file has since gone: English words around it.
    loc = locale(resolve(str(doc.get("language", "en"))) or "en")
    return WebIssue(
        key=row["key"], day=day, created_at=row["created_at"], title=str(doc.get("title", "")),
        subject=row["subject"], path=issue_path(day),
        stories=[_story(s, n, loc) for n, s in enumerate(doc.get("stories", []), start=1)],
        sidebar=[_SidebarItem(_text(i, "headline", "headline_language", loc), _text(i, "blurb", "blurb_language", loc),
                              str(i.get("outlet", "")), safe_url(i.get("url"))) for i in doc.get("sidebar", [])],
        lang=loc.code, dir=loc.direction,
    )


def archived(cfg: Config, store: Store) -> list[WebIssue]:
    """This newsletter's recorded issues, newest first, each knowing its neighbours."""
    found = [web_issue(r) for r in store.archived_issues(issue_key_prefix(cfg.newsletter.title))]
    for newer, older in zip(found, found[1:]):
        newer.older, older.newer = older, newer
    return found


# -- writing ----------------------------------------------------------------------------------------

def _rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Site:
    """What every page needs to link: the title, where the site lives (None: links stay relative)."""

    title: str
    base_url: str | None

    def url(self, path: str) -> str:
        return (self.base_url or "") + path


def render_site(cfg: Config, issues: list[WebIssue], env: jinja2.Environment) -> dict[str, str]:
    """Path (relative to the site's root) -> content, for every file of the archive."""
    site = Site(cfg.newsletter.title, site_root(cfg) if cfg.web.base_url else None)
    here = locale(cfg.newsletter.language)  # the index's words; each issue's page keeps its own language's
    files = {INDEX_FILE: env.get_template("web/index.html").render(site=site, issues=issues, root="", t=here,
                                                                   lang=here.code, dir=here.direction)}
    for issue in issues:
        files[issue.path] = env.get_template("web/issue.html").render(site=site, v=issue, root="../", lang=issue.lang,
                                                                        dir=issue.dir, t=issue.t)
    in_feed = issues[:cfg.web.feed_issues]
    content = {i.key: env.get_template("web/entry.html").render(v=i, t=i.t) for i in in_feed}
    files[FEED_FILE] = env.get_template("web/feed.xml").render(
        site=site, issues=in_feed, content=content, rfc3339=_rfc3339, lang=here.code,
        feed_id=uuid.uuid5(ID_NAMESPACE, cfg.newsletter.title).urn)
    if cfg.web.json_feed:
        # JSON Feed 1.1 names the language of the feed and of each item, as Atom's xml:lang does.
        feed = {"version": JSON_FEED_VERSION, "title": cfg.newsletter.title, "language": here.code, "items": [
            {"id": i.atom_id, "url": site.url(i.path), "title": f"{i.title} — {i.date_label}",
             "content_html": content[i.key], "summary": i.lead, "date_published": _rfc3339(i.created_at),
             "language": i.lang}
            for i in in_feed]}
        if site.base_url:
            feed |= {"home_page_url": site.base_url, "feed_url": site.url(JSON_FEED_FILE)}
        files[JSON_FEED_FILE] = json.dumps(feed, indent=2, ensure_ascii=False) + "\n"
    return files


def relative_feeds(cfg: Config) -> str | None:
    """The warning an archive without ``[web] base_url`` gets, or None. Its pages work anywhere with
    relative links, but a feed is read away from the site: a reader subscribed to it has no page to
    resolve "issues/..." against. The files are still written."""
    if cfg.web.base_url:
        return None
    feeds = f"{FEED_FILE} and {JSON_FEED_FILE} link" if cfg.web.json_feed else f"{FEED_FILE} links"
    return (f"no [web] base_url, so {feeds} to relative addresses (index.html, issues/...) that feed readers "
            "cannot follow. Fix: set [web] base_url to where the archive will be published.")


def write_archive(cfg: Config, store: Store, folder: Path, own_templates: Path | None = None) -> list[Path]:
    """Write (or leave as they are, when unchanged) every file of the archive into ``folder``."""
    files = render_site(cfg, archived(cfg, store), web_env(own_templates))
    written = []
    try:
        for rel, text in sorted(files.items()):
            path = folder / rel
            write_whole(path, text.encode("utf-8"))
            written.append(path)
    except OSError as e:
        raise NewsletterError(f"cannot write the archive to {folder} ({e.strerror}). "
                              "Fix: set [web] archive to a writable folder (or give `newsletter archive` "
                              "--out FOLDER).") from None
    return written
