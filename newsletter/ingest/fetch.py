"""Getting a feed's bytes: HTTP with one shared async client, or a local file.

Everything a hostile or broken server can do ends here as a ``Fetched`` with a
short human ``error``: never an exception, never unbounded memory or time.
Decompression is done here rather than by httpx so that the size cap counts
decompressed bytes as they are produced (a gzip bomb stops at the cap).
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import re
import ssl
import zlib
from dataclasses import dataclass, field
from functools import cache
from datetime import datetime, timedelta, timezone
from http import HTTPStatus

import httpx

from newsletter import __version__
from newsletter.config import FetchSettings
from newsletter.ingest.public import NotPublicAddress, PublicOnlyTransport

USER_AGENT = f"newsletter/{__version__} (RSS/Atom newsletter generator; httpx/{httpx.__version__})"
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
MAX_WAIT = timedelta(hours=24)  # a server asking us to stay away longer is capped, not obeyed forever
REASON_CHARS = 80  # a library's reason for a failed request, in a report, cut to this


class FetchFailed(Exception):
    """One short, human reason: shown as-is in reports."""


class BodyTooBig(FetchFailed):
    pass


class _BodyCut(Exception):
    """The connection ended mid-body, after some of it came."""


@dataclass
class Fetched:
    status: int = 0  # HTTP status; 200 for a local file read, 304 for "not modified"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    error: str | None = None
    wait_until: datetime | None = None  # Retry-After or Cache-Control max-age
    stamp: str | None = None  # a local file's mtime+size, stored as its "last modified"
    too_big: bool = False  # the body went over the size cap
    refused: bool = False  # the address is not public (a client made with public_only)
    moved_to: str | None = None  # where a permanent redirect (301, 308) sent it: the URL to configure
    # Why the body stopped short ("transfer cut off by the server"), with ``error`` set and ``body`` holding
    # what came before: a feed reads its whole entries, a caller that needs the whole body sees the error.
    cut: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status in (200, 203)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default context, built once per process: building one reads the whole CA bundle (about
    20 ms), and a worker makes a client per leased batch of feeds."""
    return httpx.create_ssl_context(trust_env=False)


def make_client(settings: FetchSettings, *, public_only: bool = False) -> httpx.AsyncClient:
    """``public_only`` for URLs taken from feed content: see ingest.public."""
    # Few idle connections kept: feeds mostly live on different hosts, and httpcore's pool
    # bookkeeping grows with idle connections times all connections (measured in bench/).
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=min(8, settings.concurrency))
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        follow_redirects=True,  # with public_only, each hop's connection is judged again
        max_redirects=settings.max_redirects,
        limits=limits,
        verify=_tls_context(),
        transport=PublicOnlyTransport(limits=limits) if public_only else None,
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )


def size_label(n: int) -> str:
    """Binary units, as the caps are set (10 * 1024 * 1024 is 10 MiB; "10 MB" read as 10,000,000)."""
    mib = n / (1024 * 1024)
    if mib >= 1:
        return f"{mib:g} MiB"
    return f"{n / 1024:g} KiB"


def _seconds(x: float) -> str:
    return f"{x:g} s"


async def fetch_http(client: httpx.AsyncClient, url: str, settings: FetchSettings, *, now: datetime,
                     etag: str | None = None, last_modified: str | None = None,
                     max_bytes: int | None = None, cap_key: str = "max_bytes") -> Fetched:
    """``max_bytes`` overrides the settings' cap (article pages have their own); ``cap_key`` is the
    [fetch] setting that holds it, named by the error so the user knows what to raise."""
    cap = settings.max_bytes if max_bytes is None else max_bytes
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    got, body = None, bytearray()  # what came, kept when the transfer stops short
    try:
        async with asyncio.timeout(settings.timeout):
            async with client.stream("GET", url, headers=headers) as resp:
                got = Fetched(status=resp.status_code, headers={k.lower(): v for k, v in resp.headers.items()})
                got.moved_to = _moved_permanently(resp)
                if resp.status_code in (200, 203):
                    await _read_capped(resp, cap, cap_key, body)
                    got.body = bytes(body)
    except httpx.ConnectTimeout:
        return Fetched(error=f"could not connect within {_seconds(settings.connect_timeout)}")
    except (TimeoutError, httpx.TimeoutException):
        timed_out = f"timed out after {_seconds(settings.timeout)}"
        if got and body:  # a slow server's first entries are news too
            return _cut(got, body, f"transfer timed out after {_seconds(settings.timeout)} ([fetch] timeout)",
                        timed_out)
        return Fetched(error=timed_out)
    except httpx.TooManyRedirects:
        return Fetched(error=f"too many redirects (over [fetch] max_redirects = {settings.max_redirects}; "
                             "a redirect loop?)")
    except httpx.ConnectError as e:
        if isinstance(e.__cause__, NotPublicAddress):
            return Fetched(error=f"refused: {e.__cause__}", refused=True)
        return Fetched(error=f"cannot connect ({_reason(e)})")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        return Fetched(error="not a valid http(s) URL")
    except httpx.HTTPError as e:
        return Fetched(error=f"connection failed ({_reason(e)})")
    except _BodyCut as e:
        return _cut(got, body, "transfer cut off by the server", f"connection failed ({_reason(e.__cause__)})")
    except BodyTooBig as e:
        return Fetched(error=str(e), too_big=True)
    except FetchFailed as e:
        return Fetched(error=str(e))
    return _judge(got, now)


def _cut(got: Fetched, body: bytearray, why: str, error: str) -> Fetched:
    # Failed, as ever, for a caller that needs it whole (an article page); a feed can read what came.
    got.body, got.cut, got.error = bytes(body), why, error
    return got  # unjudged: a max-age is for the whole body, and would keep the rest away


def _moved_permanently(resp: httpx.Response) -> str | None:
    """The URL the permanent redirects at the start of the chain lead to: the one the config should name
    now. A temporary hop (302, 307) after them ends it: the URL before a temporary redirect is the one to keep."""
    moved = None
    for hop, after in zip(resp.history, [*resp.history[1:], resp]):
        if hop.status_code not in (301, 308):
            break
        moved = str(after.url)
    return moved


def _reason(e: Exception) -> str:
    text = str(e) or e.__class__.__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    # Marked when cut: "(received 9227 byte)" read as the whole of what the library said.
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1] + "…"


def _judge(got: Fetched, now: datetime) -> Fetched:
    """Turn a status code into what the run does next."""
    status, h = got.status, got.headers
    if status in (200, 203, 304):
        got.wait_until = _max_age_until(h, now)
        return got
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    got.error = f"HTTP {status} {phrase}".rstrip()
    if status in (429, 503):
        got.wait_until = _retry_after_until(h.get("retry-after"), now)
        if got.wait_until:
            got.error += f"; retry after {got.wait_until:%H:%M} UTC"
    elif status == 410:
        got.error = "gone (HTTP 410): disabled"
    return got


def _retry_after_until(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        until = now + timedelta(seconds=int(value))
    else:
        try:
            until = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if until.tzinfo is None:
            until = until.replace(tzinfo=timezone.utc)
    return min(until, now + MAX_WAIT) if until > now else None


def _max_age_until(h: dict[str, str], now: datetime) -> datetime | None:
    cc = h.get("cache-control", "").lower()
    if not cc or "no-cache" in cc or "no-store" in cc:
        return None
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cc)
    if not m:
        return None
    age = int(h["age"]) if h.get("age", "").isdigit() else 0
    left = int(m.group(1)) - age
    return min(now + timedelta(seconds=left), now + MAX_WAIT) if left > 0 else None


async def _read_capped(resp: httpx.Response, cap: int, cap_key: str, out: bytearray) -> None:
    """Read the body into ``out``, which holds what came if the transfer stops short."""
    encoding = resp.headers.get("content-encoding", "identity").lower().strip()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = "deflate"  # zlib-wrapped or raw: decided on the first bytes
    else:
        raise FetchFailed(f"unsupported content encoding {encoding!r}")
    too_big = BodyTooBig(over_cap("body", cap, cap_key))
    try:
        async for chunk in resp.aiter_raw():
            if decoder is None:
                out += chunk
                if len(out) > cap:
                    raise too_big
                continue
            if decoder == "deflate":
                zlib_header = len(chunk) >= 2 and (chunk[0] & 0x0F) == 8 and ((chunk[0] << 8) | chunk[1]) % 31 == 0
                decoder = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
            buf = chunk
            while buf and not decoder.eof:
                # max_length bounds each step, so a bomb never inflates past the cap in memory
                out += decoder.decompress(buf, cap - len(out) + 1)
                if len(out) > cap:
                    raise too_big
                buf = decoder.unconsumed_tail
    except zlib.error:
        raise FetchFailed(f"corrupt {encoding} body") from None
    except (httpx.RemoteProtocolError, httpx.ReadError) as e:  # a short Content-Length, a chunk cut off, a reset
        if not out:
            raise
        raise _BodyCut() from e


def over_cap(what: str, cap: int, key: str) -> str:
    return f"{what} over the {size_label(cap)} cap ([fetch] {key}; raise it for a bigger feed)"


def read_file(path: str, settings: FetchSettings, *, known_stamp: str | None = None) -> Fetched:
    """A local feed file, under the same size cap; an unchanged mtime+size counts as "not modified"."""
    try:
        st = os.stat(path)
        if not os.path.isfile(path):
            return Fetched(error="not a file")
        if st.st_size > settings.max_bytes:
            return Fetched(error=over_cap("file", settings.max_bytes, "max_bytes"))
        stamp = f"mtime:{st.st_mtime_ns}:{st.st_size}"
        if known_stamp == stamp:
            return Fetched(status=304, stamp=stamp)
        with open(path, "rb") as f:
            body = f.read(settings.max_bytes + 1)
    except FileNotFoundError:
        return Fetched(error="file not found")
    except PermissionError:
        return Fetched(error="file not readable (permission denied)")
    except OSError as e:
        return Fetched(error=f"cannot read file ({_reason(e)})")
    if len(body) > settings.max_bytes:
        return Fetched(error=over_cap("file", settings.max_bytes, "max_bytes"))
    return Fetched(status=200, body=body, stamp=stamp)
