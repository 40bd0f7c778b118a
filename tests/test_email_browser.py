"""The demo email in a real browser (Debian's headless Chromium): where the boxes land, dark mode,
and what is left when a client strips every <style> block.

One Chromium for the whole module; each test opens a page in it. The screenshots go to the
test's folder; with UPDATE_GOLDEN=1 they also replace the README's pictures in docs/.
"""

from __future__ import annotations

import os
import shutil

import pytest

from email_demo import MIN_CONTRAST, REPO, contrast, demo_email, \
    html_without_style, luminance, parse_colour

DESKTOP = {"width": 1024, "height": 1300}
PHONE = {"width": 375, "height": 1100}
EMAIL_WIDTH = 600  # the widest the email may be, in any client
MIN_FONT_PX = 12  # the smallest text the email uses (the uppercase "Sources" label); body text is 15-16px
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# Every visible element with text of its own: its colour, the colour behind it (the first opaque
# background up the tree) and its font size, as the browser computed them.
TEXT_COLOURS_JS = """() => {
  const out = [];
  const opaque = c => c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c);
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || parseFloat(s.fontSize) <= 1) continue;
    let bg = null;
    for (let p = el; p && !bg; p = p.parentElement) {
      const b = getComputedStyle(p).backgroundColor;
      if (opaque(b)) bg = b;
    }
    out.push({text: el.textContent.trim().slice(0, 60), color: s.color, bg: bg || 'rgb(255, 255, 255)',
              size: parseFloat(s.fontSize)});
  }
  return out;
}"""


# Boxes in the email with a light background of their own, by class and colour.
LIGHT_PATCHES_JS = """() => [...document.querySelectorAll('.container, .container *')]
  .filter(e => e.getClientRects().length && !e.classList.contains('update'))
  .map(e => [e.className || e.tagName, getComputedStyle(e).backgroundColor])
  .filter(([, bg]) => { const m = bg.match(/\\d+(\\.\\d+)?/g).map(Number);
                        return (m.length < 4 || m[3] > 0) && (m[0] + m[1] + m[2]) / 3 > 128; })"""


def open_email(browser, html: str, viewport: dict, *, dark: bool = False):
    page = browser.new_page(viewport=viewport, color_scheme="dark" if dark else "light")
    page.set_content(html, wait_until="load")
    return page


def box(page, selector: str, which: int = 0) -> dict:
    handles = page.query_selector_all(selector)
    assert handles, f"no {selector} in the email"
    b = handles[which].bounding_box()
    assert b is not None, f"{selector} is not displayed"
    return b


def screenshot(page, tmp_path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    if UPDATE:
        shutil.copyfile(shot, REPO / "docs" / name)


def low_contrast(page) -> list[str]:
    return [f"{t['text']!r}: {t['color']} on {t['bg']} = {contrast(t['color'], t['bg']):.2f}"
            for t in page.evaluate(TEXT_COLOURS_JS) if contrast(t["color"], t["bg"]) < MIN_CONTRAST]


def test_on_a_desktop_the_sidebar_sits_beside_the_first_briefing(browser, tmp_path):
    page = open_email(browser, demo_email().html, DESKTOP)
    first, side = box(page, ".briefing"), box(page, ".col-side")
    assert side["x"] >= first["x"] + first["width"] - 1, f"sidebar {side} is not right of the briefing {first}"
    assert side["y"] < first["y"] + first["height"], f"sidebar {side} starts below the first briefing {first}"
    main = box(page, ".col-main")
    assert main["width"] >= 1.8 * side["width"], "briefings get about two thirds of the width"
    assert box(page, ".container")["width"] <= EMAIL_WIDTH
    screenshot(page, tmp_path, "email-desktop.png")
    page.close()


def test_on_a_phone_the_sidebar_comes_after_the_last_briefing(browser, tmp_path):
    page = open_email(browser, demo_email().html, PHONE)
    last = box(page, ".briefing", -1)
    side = box(page, ".col-side")
    assert side["y"] >= last["y"] + last["height"] - 1, f"sidebar {side} is not below the last briefing {last}"
    assert side["width"] >= 0.9 * PHONE["width"], "the stacked sidebar uses the phone's width"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the email scrolls sideways"
    screenshot(page, tmp_path, "email-phone.png")
    page.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_text_is_readable_against_what_is_behind_it(browser, tmp_path, dark):
    page = open_email(browser, demo_email().html, DESKTOP, dark=dark)
    bad = low_contrast(page)
    assert not bad, f"text below {MIN_CONTRAST}:1: {bad[:10]}"
    behind = page.evaluate("getComputedStyle(document.querySelector('.briefing')).backgroundColor")
    assert (luminance(parse_colour(behind)) < 0.1) == dark, f"briefings background {behind} in {'dark' if dark else 'light'} mode"
    if dark:  # no light patch left anywhere in the email (the Update mark is a light badge on purpose)
        light = page.evaluate(LIGHT_PATCHES_JS)
        assert not light, f"light backgrounds in dark mode: {light[:5]}"
        screenshot(page, tmp_path, "email-dark.png")
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_without_any_style_block_the_email_stays_readable_and_within_600px(browser, viewport):
    page = open_email(browser, html_without_style(demo_email().html), viewport)
    widest = page.evaluate("""() => Math.max(...[...document.querySelectorAll('.container, .container *')]
        .filter(e => e.getClientRects().length).map(e => e.getBoundingClientRect().width))""")
    assert widest <= min(EMAIL_WIDTH, viewport["width"]) + 0.5, f"a box is {widest:.0f}px wide"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], "the email scrolls sideways"
    texts = page.evaluate(TEXT_COLOURS_JS)
    assert texts and min(t["size"] for t in texts) >= MIN_FONT_PX
    assert not low_contrast(page)
    page.close()


def test_a_long_german_compound_wraps_instead_of_widening_the_email(browser):
    """„Grundstücksverkehrsgenehmigungszuständigkeitsübertragungsverordnung“ in a Recent news headline made
    the whole email scroll sideways on a phone and pushed the sidebar past the 600px frame on a desktop."""
    from issue_factory import make_issue, render

    from newsletter.models import Bullet

    word = "Grundstücksverkehrsgenehmigungszuständigkeitsübertragungsverordnung"
    issue = make_issue(n_stories=2, n_sidebar=3)
    issue.language = "de"
    issue.sidebar[0].headline = f"{word} sorgt für Ärger"
    issue.briefings[0].headline = f"Streit um die {word}"
    issue.briefings[0].bullets["big_picture"] = [Bullet(f"Die {word} gilt ab Januar.", [1])]
    html = render(issue).html
    for viewport, width in ((DESKTOP, DESKTOP["width"]), (PHONE, PHONE["width"])):
        page = browser.new_page(viewport=viewport)
        page.set_content(html, wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"scrolls sideways at {width}px"
        frame = page.evaluate("document.querySelector('.container').getBoundingClientRect().width")
        assert frame <= EMAIL_WIDTH
        widest = page.evaluate("Math.max(...[...document.querySelectorAll('.container *')]"
                               ".map(e => e.getBoundingClientRect().right))")
        assert widest <= page.evaluate("document.querySelector('.container').getBoundingClientRect().right") + 1
        page.close()
