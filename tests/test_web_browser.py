"""The served archive in a real browser (Debian's headless Chromium): the index, an issue page at
desktop and phone widths and in dark mode, and the unsubscribe page with its button clicked.

One Chromium and one served site for the module. Screenshots go to the test's folder; with
UPDATE_GOLDEN=1 they also replace the README's pictures (docs/web-*.png).
"""

from __future__ import annotations

import os
import shutil

import pytest
from email_demo import MIN_CONTRAST, REPO, contrast
from web_demo import SECRET, record_demo_issues, served, web_config

from newsletter.store import Store
from newsletter.web.app import make_app
from newsletter.web.archive import write_archive
from newsletter.web.tokens import unsubscribe_token

DESKTOP = {"width": 1024, "height": 1000}
PHONE = {"width": 375, "height": 900}
SIDEBAR_MIN_PX = 240  # the desktop sidebar is a real column, not a sliver
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
TITLE, READER = "The Meridian Brief", "reader@example.org"

# Text elements of a page: their colour and the first opaque background behind them.
COLOURS_JS = """sel => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length).map(el => {
  let bg = null;
  for (let p = el; p && !bg; p = p.parentElement) {
    const b = getComputedStyle(p).backgroundColor;
    if (b && b !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(b)) bg = b;
  }
  return {text: el.textContent.trim().slice(0, 40), color: getComputedStyle(el).color, bg: bg || 'rgb(255, 255, 255)'};
})"""
TEXT = (".brand, .date, .toc-item a, .meta, .headline, .dek, .label, .b, .src, .side-title, .recent a, .recent-blurb, "
        ".nav a")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo's two issues archived and served: (store, base URL)."""
    tmp = tmp_path_factory.mktemp("web")
    cfg = web_config(tmp, base_url="https://news.example.org/brief/")
    store = Store.open(cfg.store_url)
    record_demo_issues(cfg, store)
    write_archive(cfg, store, tmp / "site")
    with served(make_app(cfg, store, tmp / "site", SECRET)) as url:
        yield store, url
    store.close()


def box(page, selector: str) -> dict:
    b = page.locator(selector).first.bounding_box()
    assert b is not None, f"{selector} is not displayed"
    return b


def screenshot(page, tmp_path, name: str, *, full: bool = False) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=full)
    if UPDATE:
        shutil.copyfile(shot, REPO / "docs" / name)


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


def test_the_index_lists_issues_newest_first_and_opens_one(browser, site):
    _, url = site
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url + "/")
    dates = page.locator(".issues .when").all_inner_texts()
    assert dates == ["Thursday, 26 November 2026", "Wednesday, 25 November 2026"]
    page.locator(".issues a").nth(1).click()
    page.wait_for_url("**/issues/2026-11-25.html")
    assert page.locator(".masthead .date").inner_text() == "Wednesday, 25 November 2026"
    page.close()


def test_on_a_desktop_recent_news_is_a_sidebar_beside_the_briefings(browser, site, tmp_path):
    _, url = site
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url + "/issues/2026-11-25.html")
    main, side = box(page, ".main"), box(page, ".side")
    assert side["x"] >= main["x"] + main["width"], f"Recent news {side} is not right of the briefings {main}"
    assert abs(side["y"] - main["y"]) < 1 and side["width"] >= SIDEBAR_MIN_PX
    assert main["width"] >= 2 * side["width"], "briefings get the larger part of the width"
    assert page.locator(".briefing").count() == page.locator(".toc-item").count() >= 1
    fits(page, DESKTOP["width"])
    screenshot(page, tmp_path, "web-desktop.png")
    page.close()


def test_on_a_phone_it_is_one_column_with_recent_news_after_the_briefings(browser, site, tmp_path):
    _, url = site
    page = browser.new_page(viewport=PHONE)
    page.goto(url + "/issues/2026-11-25.html")
    main, side = box(page, ".main"), box(page, ".side")
    assert side["y"] >= main["y"] + main["height"], "Recent news comes after the briefings"
    assert main["width"] >= PHONE["width"] - 1 and side["width"] >= PHONE["width"] - 1
    fits(page, PHONE["width"])
    screenshot(page, tmp_path, "web-phone.png")
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_is_readable_in_light_and_dark(browser, site, tmp_path, scheme):
    _, url = site
    page = browser.new_page(viewport=DESKTOP, color_scheme=scheme)
    page.goto(url + "/issues/2026-11-25.html")
    found = page.evaluate(COLOURS_JS, TEXT)
    assert len(found) > 20
    low = [f"{t['text']!r}: {t['color']} on {t['bg']}" for t in found if contrast(t["color"], t["bg"]) < MIN_CONTRAST]
    assert not low, low
    body = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (body == "rgb(15, 17, 21)") == (scheme == "dark"), body
    if scheme == "dark":
        screenshot(page, tmp_path, "web-dark.png")
    page.close()


def test_the_unsubscribe_page_asks_first_and_the_button_records_it(browser, site, tmp_path):
    store, url = site
    page = browser.new_page(viewport={"width": PHONE["width"], "height": 380})
    page.goto(f"{url}/u/{unsubscribe_token(SECRET, TITLE, READER)}")
    assert page.locator("h1").inner_text() == f"Unsubscribe from {TITLE}?"
    assert store.unsubscribed(TITLE) == set()  # opening the link changed nothing
    screenshot(page, tmp_path, "web-unsubscribe.png")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("status").wait_for()
    assert page.locator("h1").inner_text() == "You are unsubscribed"
    assert store.unsubscribed(TITLE) == {READER}
    page.close()
