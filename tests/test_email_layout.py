"""What the email promises without a browser: the top of the issue, each briefing's parts, dark-mode
and light-mode contrast computed from the CSS colours the email uses, accessibility, size, and a
plain-text part that holds everything at 72 columns."""

from __future__ import annotations

import copy
import re

import cssutils
import lxml.html
import pytest

from newsletter.models import Bullet
from newsletter.render import MAX_HTML_BYTES, TEXT_WIDTH

from email_demo import MIN_CONTRAST, contrast, demo_email
from issue_factory import make_issue, parse, render, sidebar_item, visible_text

GUARD_TARGET = 90_000  # the issue's promise: ten briefings and ten Recent news items under 90 KB
LINK_WORDS_THAT_SAY_NOTHING = {"here", "click here", "read more", "more", "link", "this"}


def _own_text(el) -> str:
    return "".join([el.text or ""] + [c.tail or "" for c in el]).strip()


def _hidden(el) -> bool:
    return any("display:none" in (a.get("style") or "").replace(" ", "") for a in el.iterancestors()) or \
        "display:none" in (el.get("style") or "").replace(" ", "")


def _inline(el, prop: str) -> str | None:
    m = re.search(rf"(?:^|;)\s*{prop}\s*:\s*([^;!]+)", el.get("style") or "")
    return m.group(1).strip() if m else None


def _text_elements(doc):
    body = doc.find("body")
    return [el for el in body.iter() if isinstance(el.tag, str) and _own_text(el) and not _hidden(el)]


def _dark_rules(html: str) -> dict[str, dict[str, str]]:
    """class -> {property: value} from the prefers-color-scheme: dark block the email carries."""
    rules: dict[str, dict[str, str]] = {}
    for block in re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL):
        for rule in cssutils.parseString(block):
            if rule.type == rule.MEDIA_RULE and "prefers-color-scheme: dark" in rule.media.mediaText:
                for inner in rule.cssRules:
                    for selector in inner.selectorList:
                        m = re.fullmatch(r"\.([\w-]+)", selector.selectorText.strip())
                        assert m, f"dark rules are single-class selectors, so this test can apply them: {selector.selectorText}"
                        rules.setdefault(m.group(1), {}).update(
                            {p.name: p.value for p in inner.style if p.name in ("color", "background-color")})
    return rules


def _colours(el, dark: dict | None) -> tuple[str, str, object]:
    """The text colour and the background colour an element gets, and the element giving the background."""
    color = bg = None
    holder = None
    for a in [el, *el.iterancestors()]:
        classes = (a.get("class") or "").split()
        if dark is not None:
            d = {k: v for c in classes for k, v in dark.get(c, {}).items()}
        else:
            d = {}
        if color is None:
            color = d.get("color") or _inline(a, "color")
        if bg is None:
            bg = d.get("background-color") or _inline(a, "background-color") or a.get("bgcolor")
            holder = a if bg else None
        if color and bg:
            break
    return color or "#000000", bg or "#ffffff", holder


# -- the top of the issue and each briefing ------------------------------------------------------

def test_preheader_is_the_first_briefings_dek_hidden_from_the_body():
    issue = make_issue()
    doc = parse(render(issue).html)
    pre = doc.find("body").find("div")
    assert pre.text_content().startswith(issue.briefings[0].dek)
    assert "display:none" in pre.get("style").replace(" ", "") and "mso-hide:all" in pre.get("style")


def test_the_top_names_the_issue_and_links_every_briefing_from_in_this_issue():
    issue = make_issue(n_stories=5)
    doc = parse(render(issue).html)
    assert doc.xpath('//h1')[0].text_content() == "The Meridian Brief"
    assert "Wednesday, 25 November 2026" in visible_text(doc)
    toc = doc.xpath('//*[normalize-space()="In this issue"]/following-sibling::ul[1]//a')
    assert [a.text_content() for a in toc] == [b.headline for b in issue.briefings]
    for a in toc:  # each entry jumps to its briefing, whose headline it names
        target = doc.get_element_by_id(a.get("href").removeprefix("#"))
        assert a.text_content() in target.text_content()


def test_each_briefing_shows_topic_sources_headline_dek_sections_cites_and_outlets():
    issue = make_issue(n_stories=2)
    doc = parse(render(issue).html)
    boxes = doc.xpath('//td[contains(concat(" ", @class, " "), " briefing ")]')
    assert len(boxes) == 2
    for box, b, topic in zip(boxes, issue.briefings, ["Cities & Climate", "Technology"]):
        text = " ".join(box.text_content().split())
        assert text.startswith(f"{topic} · 3 sources")
        assert box.xpath('.//h2')[0].text_content() == b.headline and b.dek in text
        labels = [h.text_content() for h in box.xpath(".//h3")]
        assert labels == ["The big picture", "Why this matters", "Between the lines"]
        first = box.xpath(".//li")[0]
        assert [a.text_content() for a in first.xpath(".//a")] == ["[1]", "[2]"]
        for i, a in enumerate(b.story.articles, start=1):
            assert f"{i}. {a.title} — {a.outlet}" in text


def test_a_story_back_with_new_outlets_carries_a_visible_update_mark():
    issue = make_issue(n_stories=2)
    issue.briefings[1].story.is_update = True
    email = render(issue)
    boxes = parse(email.html).xpath('//td[contains(concat(" ", @class, " "), " briefing ")]')
    assert "Update" not in boxes[0].text_content()
    mark = boxes[1].xpath('.//span[normalize-space()="Update"]')
    assert mark and "background-color" in mark[0].get("style")
    assert "TECHNOLOGY · 3 sources · UPDATE" in email.text
    assert email.text.count("UPDATE") == 1


def test_a_model_titled_extra_section_shows_after_the_big_picture_in_both_parts():
    issue = make_issue(n_stories=1)
    issue.briefings[0].extra = ("Key policy supports", [Bullet("Grants cover half the cost.", [2]),
                                                         Bullet("Loans cover the rest.", [1])])
    email = render(issue)
    box = parse(email.html).xpath('//td[contains(concat(" ", @class, " "), " briefing ")]')[0]
    labels = [h.text_content() for h in box.xpath(".//h3")]
    assert labels == ["The big picture", "Key policy supports", "Why this matters", "Between the lines"]
    assert "Key policy supports:\n- Grants cover half the cost. [2]\n- Loans cover the rest. [1]" in email.text


def test_recent_news_is_a_column_after_the_briefings_with_outlets():
    issue = make_issue(n_stories=3, n_sidebar=4)
    doc = parse(render(issue).html)
    main, side = doc.xpath('//div[contains(@class, "col-main")]'), doc.xpath('//div[contains(@class, "col-side")]')
    assert main and side and main[0].getnext() is side[0] or side[0] in main[0].itersiblings()
    assert side[0].xpath('.//h2')[0].text_content() == "Recent news"
    for item in issue.sidebar:
        assert f"{item.blurb} — {item.outlet}" in " ".join(side[0].text_content().split())
    no_side = parse(render(make_issue(n_stories=3, n_sidebar=0)).html)
    assert not no_side.xpath('//div[contains(@class, "col-side")]')
    assert "max-width:600px" in no_side.xpath('//div[contains(@class, "col-main")]')[0].get("style").replace(" ", "")


# -- colours ------------------------------------------------------------------------------------

def _update_and_note_html() -> str:
    """An email with what the demo lacks: an Update mark, and the note that it was shortened."""
    issue = make_issue(n_stories=2, n_sidebar=12)
    issue.briefings[0].story.is_update = True
    for item in issue.sidebar:
        item.blurb = "A long Recent news blurb that takes room. " * 200
    email = render(issue)
    assert "Update" in email.html and "shortened" in email.html
    return email.html


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("which", ["demo", "update-and-note"])
def test_every_text_has_contrast_of_4_5_against_its_own_background(mode, which):
    html = demo_email().html if which == "demo" else _update_and_note_html()
    doc = lxml.html.fromstring(html)
    dark = _dark_rules(html) if mode == "dark" else None
    if dark is not None:
        assert dark, "the email has no prefers-color-scheme: dark styles"
    low = []
    for el in _text_elements(doc):
        fg, bg, _ = _colours(el, dark)
        if contrast(fg, bg) < MIN_CONTRAST:
            low.append(f"{_own_text(el)[:40]!r}: {fg} on {bg} = {contrast(fg, bg):.2f}")
    assert not low, low[:10]


def test_no_text_relies_on_the_body_background_which_gmail_drops():
    # A dark-mode client that inverts colours inverts a cell's text and its background together;
    # text whose background comes from <body> (dropped by Gmail) would be inverted alone.
    doc = lxml.html.fromstring(demo_email().html)
    for el in _text_elements(doc):
        _, _, holder = _colours(el, None)
        assert holder is not None and holder.tag != "body", f"{_own_text(el)[:40]!r} has no background of its own"


# -- accessibility ------------------------------------------------------------------------------

def test_language_direction_layout_tables_headings_and_link_names():
    html = demo_email().html
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "en" and doc.get("dir") == "ltr"
    assert all(t.get("role") == "presentation" for t in doc.iter("table"))
    # Ghost tables for Outlook live in comments; they are layout tables too.
    for ghost in re.findall(r"<!--\[if mso\]>(.*?)<!\[endif\]-->", html, re.DOTALL):
        for t in re.findall(r"<table\b[^>]*>", ghost):
            assert 'role="presentation"' in t, t
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), f"a heading level is skipped: {levels}"
    for a in doc.iter("a"):
        name = (a.get("aria-label") or a.text_content()).strip()
        assert name and name.lower() not in LINK_WORDS_THAT_SAY_NOTHING, f"link {a.get('href')} says {name!r}"
        if re.fullmatch(r"\[\d+\]", a.text_content()):  # a cite names its source's outlet
            assert re.fullmatch(r"source \d+: .+", a.get("aria-label") or ""), a.get("aria-label")


# -- size -----------------------------------------------------------------------------------------

def _ten_and_ten():
    """The demo issue grown to ten briefings and ten Recent news items of its own kind."""
    issue = copy.deepcopy(demo_email().issue)
    while len(issue.briefings) < 10:
        issue.sections[0].briefings.append(copy.deepcopy(issue.briefings[len(issue.briefings) % 3]))
    while len(issue.sidebar) < 10:
        issue.sidebar.append(copy.deepcopy(issue.sidebar[0]))
    return issue


# Each Latin letter as an Arabic one: the text then runs right to left (its direction is read from its
# letters), at the same length and twice the bytes.
_ARABIC_LETTERS = str.maketrans({c: "ب" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"})


def _all_right_to_left(issue):
    """Every source's words in Arabic letters and marked as Urdu: each bullet, title, dek and blurb then carries
    lang, dir and its right-aligned style, the most markup (and bytes) an issue of this size can have."""
    for b in issue.briefings:
        b.headline_language = b.dek_language = "ur"
        b.headline, b.dek = b.headline.translate(_ARABIC_LETTERS), b.dek.translate(_ARABIC_LETTERS)
        for _, bullets in b.sections():
            for x in bullets:
                x.language, x.text = "ur", x.text.translate(_ARABIC_LETTERS)
        for a in b.story.articles:
            a.language, a.title = "ur", a.title.translate(_ARABIC_LETTERS)
    for item in issue.sidebar:
        item.headline_language = item.blurb_language = "ur"
        item.headline, item.blurb = item.headline.translate(_ARABIC_LETTERS), item.blurb.translate(_ARABIC_LETTERS)
    return issue


@pytest.mark.parametrize("marked", [False, True], ids=["demo", "all-right-to-left"])
def test_ten_briefings_and_ten_recent_news_items_stay_under_90_kb_untrimmed(marked):
    issue = _ten_and_ten()
    email = render(_all_right_to_left(issue) if marked else issue)
    assert email.html.count('dir="rtl"') >= (100 if marked else 0)
    size = len(email.html.encode())
    assert size < GUARD_TARGET, f"{size} bytes"
    assert not email.warnings and email.html.count('class="recent"') == 10


def test_over_the_guard_recent_news_goes_first_and_the_report_says_so():
    issue = make_issue(n_stories=10, n_sidebar=10)
    for item in issue.sidebar:
        item.blurb = "A long Recent news blurb that takes room. " * 200
    email = render(issue)
    assert len(email.html.encode()) <= MAX_HTML_BYTES
    kept = email.html.count('class="recent"')
    assert kept < 10
    assert all(len(box.xpath(".//li")) == 4 for box in
               parse(email.html).xpath('//td[contains(concat(" ", @class, " "), " briefing ")]')), \
        "bullets were cut while Recent news could still give way"
    assert [w for w in email.warnings if f"kept {kept} of 10 Recent news items" in w]


def test_an_issue_too_big_even_trimmed_goes_whole_and_the_operator_is_told_what_to_change():
    """Thirty topics of three briefings: Recent news and all but one bullet a section were cut, and the email
    was still over three times Gmail's clip, so every reader (in Apple Mail and Outlook too) lost them for
    nothing, and Gmail's readers still got "View entire message"."""
    issue = make_issue(n_stories=90, n_sidebar=8)
    email = render(issue)
    doc = parse(email.html)
    assert len(email.html.encode()) > MAX_HTML_BYTES
    assert email.html.count('class="recent"') == 8
    assert all(len(box.xpath(".//li")) == 4 for box in doc.xpath('//td[contains(concat(" ", @class, " "), " briefing ")]'))
    assert "shortened" not in visible_text(doc) and "shortened" not in email.text
    assert not [w for w in email.warnings if "trimmed to" in w]
    [warning] = email.warnings
    assert "Gmail" in warning and "View entire message" in warning and "max_stories" in warning, warning


# -- the plain-text part ---------------------------------------------------------------------------

def test_text_part_is_complete_wrapped_and_ends_with_recent_news():
    email = demo_email()
    text, issue = email.text, email.issue
    for line in text.splitlines():
        assert len(line) <= TEXT_WIDTH or len(line.split()) == 1, f"line over {TEXT_WIDTH} columns: {line!r}"
    for url in re.findall(r"https?://\S+", text):  # each URL alone on its line, whole
        assert any(line.strip() == url for line in text.splitlines()), url
    flat = " ".join(text.split())
    last_story_at = 0
    for b in issue.briefings:
        assert " ".join(b.headline.split()) in flat
        for kind, bullets in b.sections():
            if bullets:
                assert f"{kind.title}:" in flat
            for x in bullets:
                marks = " ".join(f"[{c}]" for c in x.cites)
                assert " ".join(f"- {x.text} {marks}".split()) in flat
        for i, a in enumerate(b.story.articles, start=1):
            assert " ".join(f"[{i}] {a.title} — {a.outlet}".split()) in flat
            last_story_at = max(last_story_at, text.index(a.link))
    recent_at = text.index("RECENT NEWS")
    assert recent_at > last_story_at, "Recent news comes after the last briefing"
    for item in issue.sidebar:
        assert text.index(item.url) > recent_at and " ".join(item.blurb.split()) in flat


def test_in_this_issue_lines_up_its_headlines_past_nine_stories():
    """Three topics of four briefings: from "10." on, a headline's second line started a column left of
    its first, and "1." to "9." stood a column left of "10."."""
    issue = make_issue(n_stories=12, n_sidebar=0)
    for b in issue.briefings:
        b.headline = "Flat bands and fractional Chern insulators in twisted bilayers at a magic angle " + b.headline
    text = render(issue).text
    contents = text.split("\n\n")[1].splitlines()[1:]  # under its heading
    starts = {len(line) - len(line.lstrip(" 0123456789.")) for line in contents}
    assert starts == {5}, contents
    assert contents[0].startswith("  1. ") and any(line.startswith(" 12. ") for line in contents)


def test_a_long_url_in_the_text_part_is_never_split():
    long = "https://example.com/" + "a" * 90
    issue = make_issue(n_stories=1, n_sidebar=1)
    issue.sidebar[0] = sidebar_item(1, url=long)
    issue.briefings[0].story.articles[0].link = long
    text = render(issue).text
    assert text.count(long) == 2 and all(line.strip() == long for line in text.splitlines() if long in line)


def test_a_word_wider_than_a_line_that_is_no_url_is_cut_into_lines_and_loses_nothing():
    # A feed's 5,000-letter "word" made a 5,000-column line of the text part, its number alone above it.
    word = "Z" * 5000
    issue = make_issue(n_stories=2, n_sidebar=1)
    issue.briefings[1].headline = f"Harbour {word} reopens"
    issue.sidebar[0].blurb = word
    text = render(issue).text
    assert max(len(line) for line in text.splitlines()) <= TEXT_WIDTH
    assert re.sub(r"\n\s*", "", text).count(word) >= 3  # the contents, the story and the blurb, whole
    assert re.search(r"\n *2\. Harbour\n", text)  # its number is on the line where the headline starts


def test_chinese_and_japanese_lines_of_the_text_part_fit_72_columns_and_lose_nothing():
    """A Japanese bullet ran on as one line of 264 columns: textwrap breaks only at spaces, and counts
    a character as one column where these scripts take two."""
    from rich.cells import cell_len

    japanese = ("清水町は27日、新しい水道料金を発表した。「値上げは避けられない」と担当者は述べた。"
                "料金は来年4月から平均で12%上がり、町の浄水場の改修に充てられる。")
    chinese = "清水镇图书馆将从下月起全天开放，镇政府称此举是为了方便夜班工人和学生使用阅览室。"
    issue = make_issue(n_stories=2, n_sidebar=2)
    issue.briefings[0].bullets["big_picture"] = [Bullet(japanese, [1], language="ja")]
    issue.briefings[1].dek = chinese
    issue.sidebar[0].blurb = japanese
    text = render(issue).text
    for line in text.splitlines():
        unbreakable = len(line.split()) == 1 and cell_len(line) == len(line)  # a URL; never a run of wide text
        assert cell_len(line) <= TEXT_WIDTH or unbreakable, f"{cell_len(line)} columns: {line!r}"
    unwrapped = re.sub(r"\n\s*", "", text)
    assert japanese in unwrapped and chinese in unwrapped  # broken between characters, never a space added
    assert not re.search(r"\n\s*[。、」）]", text)  # closing punctuation stays with its character
    from newsletter.render import wrap_text

    for n in range(30, 40):  # wherever the line ends, Western marks stay with their characters too
        for line in wrap_text("あ" * n + ".い (う) “え” 100%お", indent="  ").splitlines():
            assert not re.match(r"\s*[.,;:!?)\]}%”’]", line) and not re.search(r"[(\[{“‘]$", line), line


@pytest.mark.parametrize("summarizers, says", [
    (["extractive"], "made of sentences quoted from the sources"),
    (["llm:brief-model"], "check the linked sources before relying on them"),
    (["llm:brief-model", "extractive"], "(some are sentences quoted from them)"),
])
def test_the_text_part_tells_how_the_briefings_were_made_as_the_html_does(summarizers, says):
    """A text-only reader was not told that quoted lines come in their sources' languages, or to check
    the sources of a model's briefings: the text footer said less than the HTML one."""
    issue = make_issue(n_stories=2, n_sidebar=1)
    for b, name in zip(issue.briefings, summarizers * 2):
        b.summarizer = name
    email = render(issue)
    assert says in " ".join(email.text.split()) and says in " ".join(visible_text(parse(email.html)).split())
