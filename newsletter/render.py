"""Issue -> email: an email-safe HTML part, a plain-text part, a subject; and the issue as JSON.

    env = template_env(own_folder)       # your templates first, then the shipped ones
    email = render_issue(issue, env)     # RenderedEmail(subject, html, text, issue, warnings)
    doc = issue_document(issue)          # the JSON contract, for preview and the store

Templates are Jinja2 (``issue.html``, ``issue.txt``), looked up first in the
folder ``[newsletter] templates`` names, then in the shipped ``templates/``.
Every word they show comes from the issue's language (``Issue.language``, a
file in ``newsletter/locales``), as ``t``: ``{{ t.in_this_issue }}``.
HTML is autoescaped; feed text is never marked safe. A source's own words in
another language than the issue's (a bullet quoting an Urdu source, its title)
reach the templates as ``Text`` knowing its ``lang`` and ``dir``, which
``{{ x | lang_attrs }}`` writes on the element holding it. Only http(s) URLs become
links: a ``javascript:`` link from a feed is dropped, not rendered. CSS lives in
one <style> block that premailer inlines (mail clients drop <style> blocks);
media queries (the phone layout, dark mode) stay in the head for clients that
honour them. What the layout promises, and how each client is checked, is in the
README's "The email".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path

import jinja2
from markupsafe import Markup

import newsletter
from newsletter.errors import NewsletterError
from newsletter.locales import Locale, locale
from newsletter.models import Briefing, Issue, RenderedEmail
from newsletter.wrapping import wrap

log = logging.getLogger(__name__)

SHIPPED_TEMPLATES = Path(newsletter.__file__).resolve().parent / "templates"  # a link to the top-level templates/
# Gmail clips an HTML part past ~102 KB behind a link; the guard leaves room for the transfer
# encoding and the headers. Ten briefings and ten Recent news items fit well under it.
MAX_HTML_BYTES = 90_000
TEXT_WIDTH = 72  # the plain-text part's column limit; URLs stand on their own lines, never split


def safe_url(url: str | None) -> str | None:
    """The URL if it is plain http(s) with a host, else None (never a link)."""
    if not url:
        return None
    url = url.strip()
    if re.match(r"^https?://[^\s/?#]+", url, re.IGNORECASE) and not re.search(r"[\s<>\"']", url):
        return url
    return None


# -- the view the templates see ----------------------------------------------------------

class Text(str):
    """Text as templates see it: a plain string that also knows the ``lang`` and ``dir`` it needs in this
    issue (both None for the reader's own language; see ``Locale.marks``)."""

    lang: str | None = None
    dir: str | None = None

    @classmethod
    def of(cls, text: str, language: str | None, loc: Locale) -> Text:
        out = cls(text)
        out.lang, out.dir = loc.marks(language, text)
        return out


def lang_attrs(text: object) -> Markup:
    """' lang="ur" dir="rtl"' for text in another language than the page's; "" for everything else.

    Written on the block that holds the text (``<li>``, ``<p>``, ``<h2>``) or on a ``<span>``, never on
    ``<td>`` (Yahoo drops ``lang`` there) nor ``<a>`` (Outlook for Windows mishandles ``dir`` there).
    """
    lang, way = getattr(text, "lang", None), getattr(text, "dir", None)
    out = Markup(' lang="{}"').format(lang) if lang else Markup("")
    return out + Markup(' dir="{}"').format(way) if way else out


@dataclass
class _Cite:
    n: int
    url: str | None
    outlet: str = ""  # for the link's accessible name: "source 2: Harborline Dispatch"


@dataclass
class _BulletView:
    text: str
    cites: list[_Cite]


@dataclass
class _SourceView:
    n: int
    title: str
    outlet: str
    url: str | None
    day: str = ""  # the day it was published, in the reader's words: how fresh each source is


@dataclass
class _StoryView:
    headline: str
    dek: str
    url: str | None
    sources_count: int
    is_update: bool
    sections: list[tuple[str, list[_BulletView]]]
    sources: list[_SourceView]
    topic: str = ""
    anchor: str = ""  # the id "In this issue" links to


@dataclass
class _SidebarView:
    headline: str
    blurb: str
    outlet: str
    url: str | None


@dataclass
class _SectionView:
    name: str
    stories: list[_StoryView]


@dataclass
class _View:
    title: str
    date_label: str
    preheader: str
    sections: list[_SectionView]
    stories: list[_StoryView]  # every briefing in reading order, across the topics
    sidebar: list[_SidebarView]
    unsubscribe_url: str | None
    summarizers: list[str]
    models: list[str]  # the language models that wrote briefings, by name
    notes: list[str] = field(default_factory=list)
    max_bullets: int | None = None  # per section, when trimming for size
    lang: str = "en"  # the email's language and writing direction, from its locale file
    dir: str = "ltr"


def published_day(when: datetime | None, loc: Locale) -> str:
    """"23 Nov", "23. Nov.": the day ``when`` (already in the newsletter's time zone) in the reader's words,
    with no-break spaces: "23" at a line's end and "Nov" on the next reads as two things."""
    return loc.date(when.date(), "day").replace(" ", "\u00a0") if when is not None else ""


def _story_view(b: Briefing, max_bullets: int | None, loc: Locale, topic: str = "", anchor: str = "",
                tz: tzinfo | None = None) -> _StoryView:
    articles = b.story.articles
    sources = [_SourceView(i, Text.of(a.title, a.language, loc), a.outlet, safe_url(a.link),
                           published_day(a.published.astimezone(tz or timezone.utc), loc))
               for i, a in enumerate(articles, start=1)]

    def bullets(items) -> list[_BulletView]:
        kept = items[:max_bullets] if max_bullets else items
        return [_BulletView(Text.of(x.text, x.language, loc), [_Cite(c, sources[c - 1].url, sources[c - 1].outlet)
                                                               for c in x.cites if 1 <= c <= len(sources)])
                for x in kept]

    return _StoryView(
        headline=Text.of(b.headline, b.headline_language, loc),
        dek=Text.of(b.dek, b.dek_language, loc),
        url=sources[0].url if sources else None,
        sources_count=len(articles),
        is_update=b.story.is_update,
        sections=[(loc.title(kind), bullets(items)) for kind, items in b.sections()],
        sources=sources,
        topic=topic,
        anchor=anchor,
    )


def _preheader(stories: list[_StoryView], sidebar: list) -> str:
    """The inbox's preview line: what the first briefing is about, in its own dek."""
    if stories:
        return stories[0].dek or stories[0].headline
    return sidebar[0].headline if sidebar else ""


def wrap_text(text: str, indent: str = "", first: str = "") -> str:
    """``text`` on lines of at most 72 columns: the first indented by ``first``, the rest by ``indent``.
    A word longer than a line (a URL) stands whole on its own line rather than being split; Chinese
    and Japanese break between characters and count two columns each (``wrapping``)."""
    return wrap(str(text), TEXT_WIDTH, first=first, indent=indent)


def _view(issue: Issue, *, unsubscribe_url: str | None, sidebar_limit: int | None = None,
          max_bullets: int | None = None, notes: list[str] | None = None) -> _View:
    loc = locale(issue.language)
    sidebar = issue.sidebar if sidebar_limit is None else issue.sidebar[:sidebar_limit]
    sections = []
    for s in issue.sections:
        if s.briefings:
            first = sum(len(x.stories) for x in sections) + 1
            sections.append(_SectionView(s.name, [
                _story_view(b, max_bullets, loc, s.name, f"story-{n}", issue.timezone)
                for n, b in enumerate(s.briefings, start=first)]))
    stories = [story for section in sections for story in section.stories]
    return _View(
        title=issue.title,
        date_label=loc.date(issue.date, "long"),
        preheader=_preheader(stories, sidebar),
        sections=sections,
        stories=stories,
        sidebar=[_SidebarView(Text.of(i.headline, i.headline_language, loc), Text.of(i.blurb, i.blurb_language, loc),
                              i.outlet, safe_url(i.url)) for i in sidebar],
        unsubscribe_url=safe_url(unsubscribe_url),
        summarizers=sorted({b.summarizer for b in issue.briefings}),
        models=sorted({b.summarizer.removeprefix("llm:") for b in issue.briefings if b.summarizer.startswith("llm:")}),
        notes=list(notes or []),
        max_bullets=max_bullets,
        lang=loc.code,
        dir=loc.direction,
    )


# -- templates --------------------------------------------------------------------------------

class _CompiledTemplates(jinja2.BytecodeCache):
    """Each template's compiled code, kept for the process by file and source checksum: every build
    makes its own environment (its globals are that issue's), and compiling the email's templates
    again each time cost about 70 ms. An edited template has another checksum and is compiled anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> jinja2.bccache.Bucket:
        # Keyed by whether it escapes too: the same file compiles differently where the web's lookup
        # escapes .xml and the email's does not.
        escape = environment.autoescape(name) if callable(environment.autoescape) else environment.autoescape
        bucket = jinja2.bccache.Bucket(environment, f"{self.get_cache_key(name, filename)}|{escape}",
                                       self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def template_env(own_folder: Path | None = None) -> jinja2.Environment:
    """Templates from ``own_folder`` first (an existing folder), then the shipped ones."""
    folders = [own_folder] if own_folder is not None else []
    folders.append(SHIPPED_TEMPLATES)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_COMPILED,
    )
    env.filters["wrap"] = wrap_text
    env.filters["lang_attrs"] = lang_attrs
    return env


def _inline_css(html: str) -> str:
    import premailer  # lxml and cssutils: loaded by the commands that render, not by fetch or check

    return premailer.Premailer(
        html,
        allow_network=False,  # never fetch a stylesheet named by a template
        allow_loading_external_files=False,
        disable_link_rewrites=True,
        keep_style_tags=False,  # what cannot be inlined (media queries) stays in a <style>
        strip_important=False,  # media queries need !important to beat inline styles
        remove_classes=False,
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()


def _render(env: jinja2.Environment, view: _View) -> tuple[str, str]:
    try:
        t = locale(view.lang)
        html = _inline_css(env.get_template("issue.html").render(v=view, t=t))
        text = env.get_template("issue.txt").render(v=view, t=t)
    except jinja2.TemplateSyntaxError as e:
        raise NewsletterError(f"template {e.filename or e.name}, line {e.lineno}: {e.message}. "
                              "Fix the template, or remove it to use the shipped one.") from None
    except jinja2.UndefinedError as e:
        raise NewsletterError(f"a template uses something the issue does not have: {e.message}. "
                              "See templates/README.md for what templates can use.") from None
    return html, text


SUBJECT_HEADLINE_CHARS = 150  # of the lead headline in the subject: an inbox shows less; a feed may send 5,000


def _subject(issue: Issue) -> str:
    from newsletter.summarize.sentences import trim

    loc = locale(issue.language)
    subject = loc.say("subject", title=issue.title, date=loc.date(issue.date, "short"))
    top = issue.briefings[0].headline if issue.briefings else (issue.sidebar[0].headline if issue.sidebar else "")
    if top:
        subject = loc.say("subject_lead", subject=subject, headline=trim(top, SUBJECT_HEADLINE_CHARS))
    return " ".join(subject.split())  # a header must be one line


def render_issue(issue: Issue, env: jinja2.Environment, *, unsubscribe_url: str | None = None) -> RenderedEmail:
    view = _view(issue, unsubscribe_url=unsubscribe_url)
    html, text = _render(env, view)
    whole = html, text

    # Too big for Gmail: give up sidebar items first, then bullets, and say so in the email and the report.
    sidebar_limit = len(issue.sidebar)
    max_bullets: int | None = None
    while len(html.encode()) > MAX_HTML_BYTES:
        if sidebar_limit > 0:
            sidebar_limit = max(0, sidebar_limit - 2)
        elif max_bullets is None or max_bullets > 1:
            max_bullets = 2 if max_bullets is None else max_bullets - 1
        else:
            break
        note = locale(issue.language).shortened
        view = _view(issue, unsubscribe_url=unsubscribe_url, sidebar_limit=sidebar_limit, max_bullets=max_bullets,
                     notes=[note])
        html, text = _render(env, view)
    warnings = []
    if len(html.encode()) > MAX_HTML_BYTES:
        # Trimming cannot save it from Gmail's clip: cutting would cost every reader, in every client, Recent
        # news and bullets while Gmail's readers still got "View entire message". It goes whole instead.
        trimmed = len(html.encode())
        html, text = whole
        warnings.append(
            f"email is {len(html.encode()) // 1000} KB ({trimmed // 1000} KB even with Recent news and bullets "
            "trimmed), so it goes whole and Gmail clips it at about 102 KB: its readers see the first "
            "briefings and \"View entire message\". Fix: fewer [[topics]] or a lower [newsletter] max_stories.")
    elif view.notes:
        kept = f"{sidebar_limit} of {len(issue.sidebar)} Recent news items"
        bullets = f", at most {max_bullets} bullet(s) per section" if max_bullets else ""
        warnings.append(f"email trimmed to {len(html.encode()) // 1000} KB: kept {kept}{bullets}")
    return RenderedEmail(subject=_subject(issue), html=html, text=text, issue=issue, warnings=warnings)


# -- JSON ---------------------------------------------------------------------------------------

def issue_document(issue: Issue) -> dict:
    loc = locale(issue.language)

    def other(key: str, language: str | None) -> dict:
        """``{key: language}`` for a source's words in another language than the issue's (the web archive
        marks them as the email does); nothing for the issue's own, so a one-language document is as before."""
        code = loc.marks(language)[0]
        return {key: code} if code else {}

    def bullets(items) -> list[dict]:
        return [{"text": x.text, "cites": list(x.cites), **other("language", x.language)} for x in items]

    stories = []
    for section in issue.sections:
        for b in section.briefings:
            story = {
                "headline": b.headline,
                **other("headline_language", b.headline_language),
                "dek": b.dek,
                **other("dek_language", b.dek_language),
                "topic": section.name,
                "sources_count": len(b.story.articles),
                "update": b.story.is_update,  # sent before; back because new outlets joined
                "sources": [{"title": a.title, "url": safe_url(a.link), "outlet": a.outlet,
                             "published": a.published.astimezone(issue.timezone or timezone.utc).isoformat(),
                             **other("language", a.language)} for a in b.story.articles],
                # A model-titled extra section carries its title: {"title": ..., "bullets": [...]}.
                **{kind.key: {"title": kind.own_title, "bullets": bullets(items)} if kind.key == Briefing.EXTRA_KEY
                   else bullets(items) for kind, items in b.sections()},
            }
            if b.grounding is not None:  # a model wrote it: what the grounding gate checked and dropped
                story["grounding"] = {
                    "checked": b.grounding.checked,
                    "dropped": [{"section": d.section, "reason": d.reason, "claim": d.claim} for d in b.grounding.dropped],
                    "recited": b.grounding.recited,  # bullets kept with their cites moved to the sources that hold them
                }
            stories.append(story)
    doc = {
        "title": issue.title,
        "date": issue.date.isoformat(),
        **({"language": issue.language} if issue.language != "en" else {}),  # the archive shows it in its words
        "stories": stories,
        "sidebar": [{"headline": s.headline, "blurb": s.blurb, "url": safe_url(s.url), "outlet": s.outlet,
                     **other("headline_language", s.headline_language),
                     **other("blurb_language", s.blurb_language),
                     **({"grounding": {"checked": s.grounding.checked, "dropped": [
                         {"section": d.section, "reason": d.reason, "claim": d.claim} for d in s.grounding.dropped]}}
                        if s.grounding is not None else {})} for s in issue.sidebar],
    }
    if issue.usage is not None:
        doc["usage"] = issue.usage.figures()
    return doc

