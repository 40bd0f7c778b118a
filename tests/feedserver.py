"""A real HTTP server on 127.0.0.1 for tests: register paths, get URLs.

    from feedserver import FeedServer, Response

    with FeedServer() as srv:
        srv.add("/feed.xml", RSS_BYTES, headers={"Content-Type": "application/rss+xml"})
        srv.add("/gone", status=410)
        srv.add("/slow", RSS_BYTES, delay=5)                 # wait before answering
        srv.add("/drip", chunks=[b"<rss>"] * 100, chunk_delay=0.5)   # chunked, slowly
        srv.add("/dyn", handler=lambda req: Response(200, b"hi"))  # compute per request
        srv.add("/cut", RSS_BYTES, cut_at=500)    # hang up after 500 bytes of the body (chunks too: mid-chunk)
        srv.add("/rst", handler=lambda req: Response(200, RSS_BYTES, cut_at=500, reset=True))  # ... with a reset
        fetch(srv.url("/feed.xml"))
        srv.hits("/feed.xml")            # how many requests that path got
        srv.requests[-1].headers         # what the client sent (a Message: case-insensitive)

Paths not registered answer 404. ``chunks`` may be any iterable, even an
endless generator (the server stops when the client hangs up). Every wait is
cut short when the server stops, so a test never hangs on its own server.
Threaded: one thread per connection, HTTP/1.1 keep-alive.

Pytest: ``feed_server`` below is a fixture; import it into a test module or conftest.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: object  # email.message.Message: headers["If-None-Match"], case-insensitive


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    chunks: Iterable[bytes] | None = None  # sent with chunked encoding instead of body
    chunk_delay: float = 0.0  # seconds between chunks
    cut_at: int | None = None  # hang up after this many bytes of the body (a chunk's header promises all of it)
    reset: bool = False  # hang up with a reset ("connection reset by peer"), not a close


class FeedServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Callable[[Request], Response]] = {}
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), _handler_class(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes | str = b"", *, status: int = 200, headers: dict[str, str] | None = None,
            delay: float = 0.0, chunks: Iterable[bytes] | None = None, chunk_delay: float = 0.0,
            cut_at: int | None = None, handler: Callable[[Request], Response] | None = None) -> str:
        """Register ``path`` (exact, query string included if you give one); returns its full URL."""
        if handler is None:
            data = body.encode() if isinstance(body, str) else body
            fixed = Response(status, data, dict(headers or {}), delay, chunks, chunk_delay, cut_at)
            handler = lambda _req: fixed  # noqa: E731
        self.routes[path] = handler
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 drops connections under a concurrent client


def _handler_class(server: FeedServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet test output
            pass

        def do_GET(self):
            self._serve(send_body=True)

        def do_HEAD(self):
            self._serve(send_body=False)

        def _serve(self, send_body: bool):
            req = Request(self.command, self.path, self.headers)
            with server._lock:
                server.requests.append(req)
            handler = server.routes.get(self.path)
            resp = handler(req) if handler else Response(404, b"not found", {"Content-Type": "text/plain"})
            if resp.delay and server._stop.wait(resp.delay):
                return
            try:
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                if resp.chunks is not None:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if send_body:
                        left = resp.cut_at
                        for chunk in resp.chunks:
                            if resp.chunk_delay and server._stop.wait(resp.chunk_delay):
                                return
                            if left is not None and len(chunk) >= left:
                                self.wfile.write(b"%x\r\n%s" % (len(chunk), chunk[:left]))
                                self._hang_up(resp.reset)
                                return
                            if chunk:
                                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            left = None if left is None else left - len(chunk)
                        self.wfile.write(b"0\r\n\r\n")
                else:
                    if not any(k.lower() == "content-length" for k in resp.headers):
                        self.send_header("Content-Length", str(len(resp.body)))
                    self.end_headers()
                    if send_body and resp.body and resp.status not in (204, 304):
                        self.wfile.write(resp.body[:resp.cut_at])
                    if resp.cut_at is not None:
                        self._hang_up(resp.reset)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _hang_up(self, reset: bool) -> None:
            self.close_connection = True
            if reset:  # a zero linger makes the close send RST, not FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()

    return Handler


@pytest.fixture
def feed_server():
    """A started FeedServer, stopped after the test."""
    with FeedServer() as srv:
        yield srv
