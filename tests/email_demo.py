"""The demo issue as the email checks see it: built once per test process, on a pinned morning.

    from email_demo import demo_email, DEMO_MORNING
    email = demo_email()            # RenderedEmail of the demo feeds on 25 November 2026, 07:00 Berlin
    html_without_style(email.html)  # what Gmail shows a non-Google account: inlined styles only

The email checks (clients, browser, golden files) all look at this one email, so
building it once keeps them fast; nothing in it depends on today's date.
"""

from __future__ import annotations

import contextlib

import functools
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from newsletter.clock import FixedClock
from newsletter.config import load_config
from newsletter.models import RenderedEmail
from newsletter.edges import Edges
from newsletter.pipeline import build, fetch
from newsletter.store import Store
from newsletter.summarize import extractive_summarizer

REPO = Path(__file__).resolve().parent.parent
DEMO_MORNING = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; .ci/run installs it
# Flags for a quiet, reproducible headless Chromium: no network chatter of its own, no GPU, no profile sync.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@functools.cache
def demo_email() -> RenderedEmail:
    """The demo issue, fetched from the demo's feed files and written by the extractive writer."""
    with tempfile.TemporaryDirectory(prefix="newsletter-demo-") as tmp:
        return build_demo_email(Path(tmp))


def build_demo_email(folder: Path, language: str = "en", locales: str | None = None) -> RenderedEmail:
    """The demo issue built in ``folder`` (a copy of config/ and a store), for readers of ``language``,
    with the config's own language files in its folder ``locales`` if given."""
    shutil.copytree(REPO / "config", folder / "config", dirs_exist_ok=True)
    path = folder / "config" / "newsletter.toml"
    text = path.read_text(encoding="utf-8").replace('language = "en"', f'language = "{language}"')
    if locales is not None:
        text = text.replace("[newsletter]\n", f'[newsletter]\nlocales = "{locales}"\n', 1)
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    store = Store.open(f"sqlite:///{folder / f'{language}.db'}")
    try:
        edges = Edges(store, FixedClock(DEMO_MORNING), extractive_summarizer())
        return build(cfg, edges, fetch(cfg, edges).feeds).email
    finally:
        store.close()


_STYLE_BLOCK = re.compile(r"<style\b[^>]*>.*?</style>", re.IGNORECASE | re.DOTALL)


def html_without_style(html: str) -> str:
    """The email with every <style> block removed, as Gmail shows it to a non-Google account."""
    return _STYLE_BLOCK.sub("", html)


def chromium_or_skip():
    """Playwright's Chromium driver for /usr/bin/chromium, or a skip that says what is missing."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    return sync_api


# -- colour contrast (WCAG 2) -------------------------------------------------------------------

MIN_CONTRAST = 4.5  # WCAG AA for body text


def parse_colour(value: str) -> tuple[float, float, float, float] | None:
    """#rgb, #rrggbb, rgb(...) or rgba(...) as (r, g, b, alpha) in 0..255 / 0..1; None if not a colour."""
    value = value.strip().lower()
    if m := re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", value):
        h = m.group(1)
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0
    if m := re.fullmatch(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+))?\s*\)", value):
        r, g, b = (float(x) for x in m.groups()[:3])
        return r, g, b, float(m.group(4)) if m.group(4) is not None else 1.0
    return None


def luminance(colour: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour[:3]
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: str, bg: str) -> float:
    """The WCAG contrast ratio of two CSS colours (1 to 21)."""
    a, b = luminance(parse_colour(fg)), luminance(parse_colour(bg))
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@contextlib.contextmanager
def launched_chromium():
    """One headless Debian Chromium, driven by playwright (which downloads no browser of its own)."""
    sync_api = chromium_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
