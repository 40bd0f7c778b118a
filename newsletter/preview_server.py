"""``newsletter preview --serve``: the latest preview in a browser, as desktop, phone, dark or text.

    with PreviewServer(Path("preview"), "issue-*.html", port=0) as server:
        print(server.url)          # http://127.0.0.1:PORT/
        server.serve_forever()     # until Ctrl-C

Only 127.0.0.1 is bound: an issue may hold text nobody has published yet, so no other
machine, and no other local address, can reach it. Requests naming another host are
refused too, so a web page that rebinds a DNS name to 127.0.0.1 cannot read it. The page
asks for the preview's version every second and reloads the email when a rebuild (another
``newsletter preview``) writes a new one; nothing is rebuilt here.

    GET /              the viewer: Desktop, Phone, Dark and Text views of the email
    GET /email.html    the latest preview's HTML part (?dark=1: its dark-mode styles forced on)
    GET /email.txt     its plain-text part
    GET /version       {"name": ..., "version": ...}, which changes whenever the preview is rewritten
"""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from newsletter.errors import NewsletterError

HOST = "127.0.0.1"
DEFAULT_PORT = 8025
POLL_MS = 1000  # how often the viewer asks whether the preview was rebuilt
STOP_POLL_S = 0.05  # how soon a background server notices close()
_DARK_QUERY = re.compile(r"\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)
_LIGHT_QUERY = re.compile(r"\(\s*prefers-color-scheme\s*:\s*light\s*\)", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def latest_preview(folder: Path, pattern: str) -> Path | None:
    """The most recently written file in ``folder`` matching ``pattern``, or None."""
    found = [p for p in folder.glob(pattern) if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns, default=None)


def force_dark(html: str) -> str:
    """The email with its dark-mode media queries always on, as a dark-mode client shows it."""
    html = _DARK_QUERY.sub("(min-width: 0px)", html)
    return _LIGHT_QUERY.sub("(max-width: 0px)", html)


def _links_leave_the_frame(html: str) -> str:
    # A click on a source link opens it beside the preview instead of inside the small frame.
    return _HEAD.sub(lambda m: m.group(0) + '<base target="_blank">', html, count=1)


VIEWER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Preview: {name}</title>
<style>
body {{ margin: 0; font: 14px/1.4 system-ui, sans-serif; background: #d9dce1; color: #1f2430; }}
header {{ position: sticky; top: 0; display: flex; gap: 8px; align-items: center; padding: 8px 16px;
          background: #1f2430; color: #fff; }}
button {{ font: inherit; padding: 4px 12px; border: 1px solid #8a93a3; border-radius: 4px; background: #2e3545;
          color: #fff; cursor: pointer; }}
button[aria-pressed="true"] {{ background: #fff; color: #1f2430; }}
#status {{ margin-left: auto; opacity: .8; }}
main {{ display: flex; justify-content: center; padding: 16px; }}
iframe {{ border: 0; background: #fff; box-shadow: 0 2px 12px rgba(0,0,0,.25); height: calc(100vh - 80px); }}
</style></head>
<body>
<header>
  <strong>Preview</strong>
  <button data-view="desktop">Desktop</button>
  <button data-view="phone">Phone</button>
  <button data-view="dark">Dark</button>
  <button data-view="text">Text</button>
  <span id="status">{name}</span>
</header>
<main><iframe id="email" title="The email"></iframe></main>
<script>
const views = {{
  desktop: {{src: "email.html", width: 1024}},
  phone: {{src: "email.html", width: 375}},
  dark: {{src: "email.html?dark=1", width: 1024}},
  text: {{src: "email.txt", width: 760}},
}};
const frame = document.getElementById("email");
let view = views[location.hash.slice(1)] ? location.hash.slice(1) : "desktop";
let version = null;
function show(name) {{
  view = name;
  location.hash = name;
  frame.style.width = views[name].width + "px";
  frame.src = views[name].src + (views[name].src.includes("?") ? "&" : "?") + "v=" + encodeURIComponent(version);
  for (const b of document.querySelectorAll("button")) b.setAttribute("aria-pressed", b.dataset.view === name);
}}
for (const b of document.querySelectorAll("button")) b.onclick = () => show(b.dataset.view);
async function poll() {{
  try {{
    const r = await (await fetch("version", {{cache: "no-store"}})).json();
    if (r.version !== version) {{
      const first = version === null;
      version = r.version;
      show(view);
      document.getElementById("status").textContent = (r.name || "no preview yet") +
        (first ? "" : " · rebuilt " + new Date().toLocaleTimeString());
    }}
  }} catch (e) {{
    document.getElementById("status").textContent = "the preview server stopped";
  }}
  setTimeout(poll, {poll_ms});
}}
poll();
</script>
</body></html>
"""


class PreviewServer:
    """Serves the newest ``pattern`` file in ``folder`` (and its .txt) on 127.0.0.1 only."""

    def __init__(self, folder: Path, pattern: str, *, port: int = DEFAULT_PORT):
        self.folder, self.pattern = folder, pattern
        try:
            self._httpd = ThreadingHTTPServer((HOST, port), _handler_for(self))
        except OSError as e:
            raise NewsletterError(f"cannot serve the preview on {HOST}:{port} ({e.strerror}). "
                                  "Fix: pass --port with another number (0 picks a free one).") from None
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def latest(self) -> Path | None:
        return latest_preview(self.folder, self.pattern)

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def start(self) -> PreviewServer:
        """Serve from a background thread (for tests and embedding); ``close`` stops it."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": STOP_POLL_S},
                                        name="preview-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> PreviewServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _handler_for(server: PreviewServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            if self.headers.get("Host", "").lower() not in {f"{HOST}:{server.port}", f"localhost:{server.port}"}:
                return self._send(HTTPStatus.FORBIDDEN, b"the preview answers only to 127.0.0.1\n", "text/plain")
            url = urlsplit(self.path)
            latest = server.latest()
            if url.path == "/":
                page = VIEWER.format(name=latest.name if latest else "no preview yet", poll_ms=POLL_MS)
                return self._send(HTTPStatus.OK, page.encode(), "text/html")
            if url.path == "/version":
                stat = latest.stat() if latest else None
                body = {"name": latest.name if latest else None,
                        "version": f"{latest.name}:{stat.st_mtime_ns}:{stat.st_size}" if stat else None}
                return self._send(HTTPStatus.OK, json.dumps(body).encode(), "application/json")
            if url.path in ("/email.html", "/email.txt") and latest is not None:
                path = latest if url.path.endswith(".html") else latest.with_suffix(".txt")
                try:
                    text = path.read_text(encoding="utf-8")
                except OSError:
                    return self._send(HTTPStatus.NOT_FOUND, b"no preview part here yet\n", "text/plain")
                if url.path.endswith(".txt"):
                    return self._send(HTTPStatus.OK, text.encode(), "text/plain")
                if parse_qs(url.query).get("dark") == ["1"]:
                    text = force_dark(text)
                return self._send(HTTPStatus.OK, _links_leave_the_frame(text).encode(), "text/html")
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

        def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
            pass  # the terminal shows the URL once, not a line per poll

    return Handler
