"""The demo email against caniemail's client-support data (the npm package, run through node).

A feature a client does not support at all is an error; one it supports in part is a
warning. Nothing that shapes the layout may be an error, except where the email carries
that client's own fallback (Outlook for Windows ignores @media: its columns come from the
MSO ghost tables). Every finding left is listed in the README with why it is harmless.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from email_demo import REPO, demo_email

CHECKER = REPO / "tools" / "caniemail-check.mjs"
CLIENTS = {
    "gmail.desktop-webmail": "Gmail (web)", "gmail.android": "Gmail (Android)", "gmail.ios": "Gmail (iOS)",
    "outlook.windows": "Outlook (Windows)", "outlook.macos": "Outlook (macOS)", "outlook.outlook-com": "Outlook.com",
    "apple-mail.macos": "Apple Mail (macOS)", "apple-mail.ios": "Apple Mail (iOS)", "yahoo.desktop-webmail": "Yahoo",
}
# caniemail's titles of the features that place or size boxes: an error on one of them is a broken layout.
LAYOUT_FEATURES = {
    "@media", "display", "display:flex", "display:grid", "float", "position", "width property", "max-width",
    "min-width property", "height property", "margin", "padding", "box-sizing", "vertical-align", "text-align",
    "table-layout", "column-count", "css column properties", "gap, column-gap, row-gap", "flex-wrap: wrap",
    "flex-direction:column", "<table> element", "width attribute", "align attribute", "valign attribute",
    "cellpadding attribute", "<style> element",
}
# The only layout errors allowed, each because the email has that client's own way round it.
OWN_FALLBACK = {("@media", "outlook.windows"): "<!--[if mso]>"}


def check(html: str) -> list[dict]:
    """caniemail's findings on ``html`` for CLIENTS (skips where node or the package is missing)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the caniemail check runs through node")
    if not (REPO / "tools" / "node_modules" / "caniemail").is_dir():
        pytest.skip("caniemail is not installed: run `npm ci --prefix tools` (.ci/run does)")
    done = subprocess.run([node, str(CHECKER), *CLIENTS], input=html, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, f"caniemail check failed: {done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def findings() -> list[dict]:
    return check(demo_email().html)


def readme_email_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## The email")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_every_client_was_checked(findings):
    # The checker answers for each client it knows; a misspelt client name would silently check nothing.
    assert {f["client"] for f in findings} == set(CLIENTS)


def test_no_client_lacks_a_feature_that_shapes_the_layout(findings):
    html = demo_email().html
    broken = []
    for f in findings:
        if f["level"] != "error" or f["title"] not in LAYOUT_FEATURES:
            continue
        fallback = OWN_FALLBACK.get((f["title"], f["client"]))
        if fallback is None or fallback not in html:
            broken.append(f"{CLIENTS[f['client']]}: {f['title']} ({f['support']})")
    assert not broken, "layout features these clients do not support: " + "; ".join(broken)


def test_outlook_for_windows_gets_the_columns_from_ghost_tables():
    # What makes the @media error harmless there: fixed-width MSO tables around both columns.
    html = demo_email().html
    ghosts = re.findall(r"<!--\[if mso\]>(.*?)<!\[endif\]-->", html, re.DOTALL)
    widths = [int(w) for g in ghosts for w in re.findall(r'<td[^>]*\bwidth="(\d+)"', g)]
    assert len(widths) >= 2 and sum(sorted(widths)[:2]) <= 600, f"ghost table cell widths: {widths}"


def test_readme_lists_every_remaining_finding_with_why_it_is_harmless(findings):
    section = readme_email_section()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([^`]+)` \|.*\|(.*)\|\s*$", section, re.MULTILINE)}
    missing = sorted({f["title"] for f in findings} - set(rows))
    assert not missing, f"README '## The email' does not explain: {missing}"
    assert all(len(why.split()) >= 4 for why in rows.values()), "each README row says why it is harmless"
    stale = sorted(set(rows) - {f["title"] for f in findings})
    assert not stale, f"README lists findings caniemail no longer reports: {stale}"


def test_marking_sources_in_other_languages_raises_nothing_new(findings):
    # lang and dir="rtl" on the bullets, titles and blurbs of an Urdu and a German source (tests/mixed_issue.py):
    # the same findings as the demo's, so the README's table holds for such an email too.
    from mixed_issue import mixed_issue
    from newsletter.render import render_issue, template_env

    html = render_issue(mixed_issue(), template_env()).html
    assert 'lang="ur" dir="rtl"' in html
    key = lambda f: (f["client"], f["level"], f["title"], f["support"])  # noqa: E731
    assert sorted(map(key, check(html))) == sorted(map(key, findings))
