"""Running the web app: bind first, say so, then let uvicorn answer until Ctrl-C or SIGTERM."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.web.app import make_app
from newsletter.web.tokens import web_secret

MAX_HEADER_BYTES = 16 * 1024  # request line and headers together; a longer request is refused by the server
SHUTDOWN_GRACE_S = 5  # on SIGTERM, how long answers in flight may take to finish
LISTEN_BACKLOG = 128


def serve_forever(cfg: Config, archive: Path, host: str, port: int, *,
                  on_ready: Callable[[str], object] | None = None) -> None:
    from newsletter import pipeline
    from newsletter.edges import open_store

    secret = web_secret(cfg)  # before binding: no key, no service
    try:
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                    backlog=LISTEN_BACKLOG)
    except OSError as e:
        raise NewsletterError(f"cannot listen on {host}:{port} ({e.strerror or e}). Fix: pass another --port "
                              "(or set [web] port), or stop what listens there.") from None
    store = open_store(cfg)
    try:
        bound = sock.getsockname()
        shown_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        app = make_app(cfg, store, archive, secret, own_templates=pipeline.templates_folder(cfg))
        config = uvicorn.Config(
            app, log_level="warning", access_log=False,  # the access log is off: paths carry tokens
            server_header=False, proxy_headers=False, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S, lifespan="off")
        server = uvicorn.Server(config)
        if on_ready is not None:
            on_ready(f"http://{shown_host}:{bound[1]}/")  # already listening: a client now is queued, not refused
        server.run(sockets=[sock])
    finally:
        sock.close()
        store.close()
