"""``newsletter serve``: the archive's files and the one-click unsubscribe endpoint, as a Starlette app.

    app = make_app(cfg, store, Path("site"), secret)
    GET  /, /index.html, /issues/2026-11-25.html, /feed.xml ...   the archive folder, read-only
    GET  /u/TOKEN    a page with an Unsubscribe button: a link scanner that follows links unsubscribes no one
    POST /u/TOKEN    records the unsubscription (RFC 8058 one-click, or the button); again: the same answer

What it refuses: a token that is not ours (forged, cut short, another newsletter's) gets 403 and
changes nothing; a body over ``[web] max_body_bytes`` gets 413; a path out of the archive folder
is not found. No answer says whether an address is subscribed; the pages never name one. The
app writes only to the store, and tokens never reach a log (the access log is off: a path
carries a token).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter.clock import Clock, SystemClock
from newsletter.config import Config
from newsletter.locales import locale
from newsletter.models import issue_key_prefix
from newsletter.web.archive import Site, web_env
from newsletter.web.tokens import TokenIndex, address_key, site_root

if TYPE_CHECKING:
    from newsletter.store import Store

log = logging.getLogger(__name__)
# Refused links are logged at the first and then at every power of ten: the operator learns that readers'
# links fail (a [web] secret_env other than the one `send` signed them with) without a scanner filling the log.
_REFUSALS_LOGGED = frozenset(10 ** k for k in range(9))

# Every answer: no scripts, no framing, no referrer (a page's URL holds a token), no MIME sniffing.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


class BodyTooLarge(Exception):
    pass


class LimitBody:
    """ASGI middleware: 413 for a body declared or found larger than ``limit`` bytes, before any handler
    reads it; and the security headers on every answer."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            return await _too_large(scope, receive, send)
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # chunked: no length declared, so count what arrives (the app answers 413)
                raise BodyTooLarge
            return message

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
            await send(message)

        await self.app(scope, counted, with_headers)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("request body too large\n", status_code=413,
                            headers={"connection": "close", **SECURITY_HEADERS})(scope, receive, send)


def make_app(cfg: Config, store: Store, archive: Path, secret: str, *, clock: Clock | None = None,
             own_templates: Path | None = None) -> ASGIApp:
    """The app over one newsletter: its archive folder (read-only) and its store (unsubscriptions).
    ``own_templates``: the ``[newsletter] templates`` folder, whose ``web/unsubscribe.html`` wins."""
    clock = clock or SystemClock()
    newsletter = cfg.newsletter.title
    env = web_env(own_templates)
    site = Site(newsletter, site_root(cfg) if cfg.web.base_url else None)
    words = locale(cfg.newsletter.language)

    def page(state: str, status: int) -> HTMLResponse:
        html = env.get_template("web/unsubscribe.html").render(site=site, state=state, root="../", t=words,
                                                               lang=words.code, dir=words.direction)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    tokens = TokenIndex(secret, newsletter)
    refused = [0]

    def owner(token: str) -> str | None:
        # Everyone a token could have gone to: today's list, and everyone an issue was ever owed to.
        who = tokens.owner(token, set(cfg.newsletter.to) | store.recipients_of(issue_key_prefix(newsletter)))
        if who is None and token:
            refused[0] += 1
            if refused[0] in _REFUSALS_LOGGED:
                links = "1 link" if refused[0] == 1 else f"{refused[0]} links"
                log.warning("unsubscribe: %s refused as not this newsletter's (forged or cut short, or signed "
                            "with another key: is %s the variable `send` ran with?)", links, cfg.web.secret_env)
        return who

    async def confirm(request: Request) -> Response:
        who = await run_in_threadpool(owner, request.path_params["token"])
        return page("confirm" if who else "invalid", 200 if who else 403)

    async def unsubscribe(request: Request) -> Response:
        async for _ in request.stream():  # read (and so size-check) the body; its content changes nothing
            pass
        who = await run_in_threadpool(owner, request.path_params["token"])
        if who is None:
            return page("invalid", 403)
        await run_in_threadpool(store.unsubscribe, newsletter, address_key(who), clock.now())
        return page("done", 200)

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("not found\n", status_code=404)

    async def too_large(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("request body too large\n", status_code=413, headers={"connection": "close"})

    routes = [
        Route("/u/{token}", confirm, methods=["GET", "HEAD"]),
        Route("/u/{token}", unsubscribe, methods=["POST"]),
        Mount("/", StaticFiles(directory=archive, html=True, check_dir=False)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, BodyTooLarge: too_large})
    return LimitBody(app, cfg.web.max_body_bytes)
