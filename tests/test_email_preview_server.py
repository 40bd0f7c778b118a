"""``newsletter preview --serve``: the latest preview on 127.0.0.1 only, in four views, reloading on rebuild."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from newsletter.preview_server import PreviewServer, force_dark

from conftest import NewsletterProcess
from email_demo import chromium_or_skip

EMAIL = """<!DOCTYPE html><html><head><style>
@media (prefers-color-scheme: dark) {{ .page {{ background-color: #121417 !important; }} }}
</style></head><body><div class="page">{text}</div><a href="https://example.com/a">A source</a></body></html>"""


def write_issue(folder: Path, name: str, text: str, *, age_s: float = 0) -> Path:
    html = folder / name
    html.write_text(EMAIL.format(text=text), encoding="utf-8")
    html.with_suffix(".txt").write_text(f"{text}\n", encoding="utf-8")
    if age_s:
        then = time.time() - age_s
        os.utime(html, (then, then))
    return html


@pytest.fixture
def server(tmp_path):
    with PreviewServer(tmp_path, "issue-*.html", port=0).start() as srv:
        yield srv


def test_serves_the_newest_preview_and_its_text_part(server, tmp_path):
    write_issue(tmp_path, "issue-2026-11-24.html", "Monday's issue", age_s=3600)
    write_issue(tmp_path, "issue-2026-11-25.html", "Tuesday's issue")
    (tmp_path / "notes.html").write_text("not a preview")
    viewer = httpx.get(server.url)
    assert viewer.status_code == 200
    for view in ("Desktop", "Phone", "Dark", "Text"):
        assert f">{view}</button>" in viewer.text
    assert "issue-2026-11-25.html" in viewer.text
    email = httpx.get(server.url + "email.html")
    assert "Tuesday's issue" in email.text and email.headers["content-type"].startswith("text/html")
    assert '<base target="_blank">' in email.text  # source links open beside the preview, not in its frame
    assert httpx.get(server.url + "email.txt").text == "Tuesday's issue\n"


def test_version_changes_when_the_issue_is_rebuilt(server, tmp_path):
    html = write_issue(tmp_path, "issue-2026-11-25.html", "First build")
    before = httpx.get(server.url + "version").json()
    assert before["name"] == "issue-2026-11-25.html" and before["version"]
    html.write_text(EMAIL.format(text="Second build, a little longer"), encoding="utf-8")
    after = httpx.get(server.url + "version").json()
    assert after["version"] != before["version"]


def test_dark_view_turns_the_dark_mode_styles_on():
    html = EMAIL.format(text="x")
    assert "(prefers-color-scheme: dark)" in html
    forced = force_dark(html)
    assert "prefers-color-scheme" not in forced and "@media (min-width: 0px)" in forced


def test_nothing_but_the_preview_is_served(server, tmp_path):
    write_issue(tmp_path, "issue-2026-11-25.html", "Issue")
    (tmp_path / "secret.toml").write_text("password = 'x'")
    for path in ("secret.toml", "../secret.toml", "issue-2026-11-25.json", "email.json", "%2e%2e/secret.toml"):
        assert httpx.get(server.url + path).status_code == 404, path


def test_binds_only_127_0_0_1_and_refuses_other_host_names(server, tmp_path):
    write_issue(tmp_path, "issue-2026-11-25.html", "Issue")
    assert server.url.startswith("http://127.0.0.1:")
    # Another loopback address on this machine: a server bound to 0.0.0.0 would answer it.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", server.port), timeout=5).close()
    # A page that rebinds its own DNS name to 127.0.0.1 still names its own host: refused.
    rebound = httpx.get(server.url + "email.html", headers={"Host": f"attacker.example:{server.port}"})
    assert rebound.status_code == 403 and "Issue" not in rebound.text
    assert httpx.get(f"http://localhost:{server.port}/version").status_code == 200


def test_a_taken_port_gets_a_message_with_the_fix(server, tmp_path):
    from newsletter.errors import NewsletterError

    with pytest.raises(NewsletterError, match=r"--port"):
        PreviewServer(tmp_path, "issue-*.html", port=server.port)


def _opened_url(record: Path, deadline_s: float = 30) -> str:
    deadline = time.monotonic() + deadline_s
    while not (record.exists() and record.read_text()):
        assert time.monotonic() < deadline, "--open opened nothing"
        time.sleep(0.05)  # polling for the browser command's file, not waiting a fixed time
    return record.read_text()


@pytest.mark.long
@pytest.mark.parametrize("ctrl_c_ignored", [False, True], ids=["foreground", "started-with-&"])
def test_the_command_builds_then_serves_until_ctrl_c_and_open_shows_the_viewer(demo, tmp_path, ctrl_c_ignored):
    out = tmp_path / "preview" / "today.html"
    record = tmp_path / "opened.txt"
    # webbrowser runs $BROWSER with the URL for %s: a stand-in browser that writes down what it was given.
    browser = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'w').write(sys.argv[2])\" {record} %s"
    with NewsletterProcess("preview", "--config", demo, "--out", out, "--serve", "--port", "0", "--open",
                           cwd=tmp_path, env={"BROWSER": browser}, ctrl_c_ignored=ctrl_c_ignored) as proc:
        line = proc.wait_for("serving the preview on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].split()[0]
        email = httpx.get(url + "email.html")
        assert email.status_code == 200 and "The Meridian Brief" in email.text
        assert email.text.replace('<base target="_blank">', "", 1) == out.read_text(encoding="utf-8")
        assert _opened_url(record) == url
        assert proc.interrupt() == 0
    assert "preview server stopped" in proc.stdout


@pytest.mark.long
def test_the_viewer_switches_views_and_reloads_after_a_rebuild(server, tmp_path, browser):
    sync_api = chromium_or_skip()
    html = write_issue(tmp_path, "issue-2026-11-25.html", "First build")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url)
    frame = page.frame_locator("#email")
    sync_api.expect(frame.locator(".page")).to_have_text("First build")
    page.get_by_role("button", name="Phone").click()
    sync_api.expect(page.locator("#email")).to_have_css("width", "375px")
    page.get_by_role("button", name="Dark").click()
    sync_api.expect(frame.locator(".page")).to_have_css("background-color", "rgb(18, 20, 23)")
    html.write_text(EMAIL.format(text="Second build"), encoding="utf-8")  # another `newsletter preview`
    sync_api.expect(frame.locator(".page")).to_have_text("Second build", timeout=15_000)
    assert page.url.endswith("#dark")  # the reload keeps the view


def test_open_without_a_browser_says_so(demo, tmp_path, monkeypatch):
    import webbrowser

    from conftest import run_cli

    # webbrowser looks for browsers ($BROWSER, a display, console browsers) once per process: make it look
    # again, in this test's environment, and forget what it finds afterwards.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    done = run_cli("preview", "--config", str(demo), "--out", str(tmp_path / "today.html"), "--open",
                   cwd=tmp_path, env={"BROWSER": str(tmp_path / "no-such-browser"), "DISPLAY": "",
                                      "WAYLAND_DISPLAY": ""})
    assert done.exit_code == 0 and (tmp_path / "today.html").is_file()
    assert "no web browser found" in done.stderr, done.stderr
