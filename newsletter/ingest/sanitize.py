"""Feed HTML made safe to show (nh3) and flattened to plain text for summarising."""

from __future__ import annotations

import html as htmllib
import re

import nh3

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol",
    "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul",
}
_ALLOWED_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "time": {"datetime"},
}
_TAG = re.compile(r"<[^>]*>")
# Every run of space but a line break, in any script (an em space, an ideographic space), as one space:
# after it a line's ends hold at most one space each, so the patterns below stay linear (a run of 40,000
# em spaces around one line break took 20 s when they could hold any whitespace).
_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r" ?\n(?: ?\n)+ ?")  # a paragraph break: a blank line, whatever spaces it held
_LINE_END = re.compile(r" *\n *")
# Where a block starts or ends: "Intro<ul><li>One</li></ul>" is two lines, not "IntroOne".
_BLOCK_END = re.compile(r"</?(?:p|div|li|h[1-6]|blockquote|pre|tr|dd|dt|figcaption|table|ul|ol)\b[^>]*>|<br\s*/?>|<hr\s*/?>",
                        re.I)


MAX_ARTICLE_CHARS = 100_000  # text kept per article: no later stage reads more (about 15,000 words)


def cap_text(text: str, limit: int = MAX_ARTICLE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, at the last whitespace before the limit when there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > limit // 2 else cut).rstrip()


def paragraphs_html(text: str) -> str:
    """Safe HTML for plain text: one <p> per line."""
    return "".join(f"<p>{htmllib.escape(p)}</p>" for p in text.split("\n") if p.strip())


def clean_html(raw: str) -> str:
    """Only formatting tags, only http(s)/mailto links; script, style and event handlers are gone."""
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def to_text(clean: str) -> str:
    """Plain text of already-cleaned HTML: block ends (a paragraph, a <br>, a list item, a heading)
    become paragraph breaks, entities decoded.

    A paragraph break is a blank line, the mark that always ends a sentence (summarize/sentences.py):
    "Authors: A. Quist<br>Nitrogen loads rose." is two lines, never one sentence. A single line break
    (from the HTML source, or a plain-text description wrapped at 72 columns) stays a soft one.
    The input is nh3's output, well-formed with no script or style left, so a
    tag-stripping pass is safe here (it would not be on raw feed HTML).
    """
    if not clean:
        return ""
    text = _BLOCK_END.sub("\n\n", clean)
    text = htmllib.unescape(_TAG.sub("", text))
    text = _SPACE.sub(" ", text)
    return _LINE_END.sub("\n", _BLANK_LINES.sub("\n\n", text)).strip()


def plain(raw: str) -> str:
    """Plain text of untrusted HTML or text (titles, outlet names): one line."""
    if not raw:
        return ""
    if "<" not in raw and "&" not in raw:
        return " ".join(raw.split())
    return " ".join(to_text(nh3.clean(raw, tags=set())).split()) if "<" in raw else " ".join(htmllib.unescape(raw).split())
