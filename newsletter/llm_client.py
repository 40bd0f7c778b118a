"""The model edge: one OpenAI-compatible client, built from config and environment.

Any server that speaks the Chat Completions protocol works: OpenAI, DeepSeek,
Qwen, vLLM, Ollama, llama.cpp. The key is read from the environment variable
the config names (``OPENAI_API_KEY`` by default) and is never logged.

``[llm] timeout`` is a total deadline per HTTP attempt. HTTP client timeouts
are per socket operation, so a server that drips one byte a second never trips
them. ``DeadlineTransport`` arms a timer per attempt; when it fires it shuts
the attempt's socket down, which ends the blocked read at once, and the error
surfaces as a timeout (the openai client then retries or gives up, as for any
timeout). The socket comes from the transport's public ``trace`` extension,
and connections are not kept alive so that every attempt announces its socket;
a TCP handshake is nothing next to a model's answer.

Retries are the openai client's own: connection errors, 408, 409, 429 and
5xx, exponential backoff, ``Retry-After`` honoured up to two minutes, ``[llm]
max_retries`` times. An attempt the deadline ended is not repeated: a server
too slow for the timeout once (a local model on a CPU) is as slow the second
time, and asking again only held the story, and the server's queue, another
``timeout``. The deadline raises the client's own ``APITimeoutError``, which
the client passes on without retrying; so does the socket's own read timeout
(also ``timeout``), which on a busy machine can fire before the deadline's timer.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Iterator

import httpx2
import openai

from newsletter.config import Config

# Events of the transport's trace extension that hand over a freshly opened network stream.
_STREAM_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete",
                  "connection.connect_unix_socket.complete")


def base_url(cfg: Config) -> str | None:
    """Where the model is served: ``[llm] base_url``, else OPENAI_BASE_URL, else None (OpenAI's own)."""
    return cfg.llm.base_url or os.environ.get("OPENAI_BASE_URL") or None


def key_withheld(cfg: Config) -> bool:
    """Whether the default ``OPENAI_API_KEY`` stays home: a key the config did not name is not sent
    in clear over plain http to another machine. Naming the variable in ``[llm] api_key_env`` sends it."""
    url = base_url(cfg)
    if not url or "api_key_env" in cfg.llm.model_fields_set or not cfg.api_key():
        return False
    parts = httpx2.URL(url)
    return parts.scheme == "http" and not _loopback(parts.host)


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def shown_url(url: str) -> str:
    """An address as messages may print it: without a user and password written into it."""
    parts = httpx2.URL(url)
    return str(parts.copy_with(username=None, password=None)) if parts.userinfo else url


def withheld_note(cfg: Config) -> str:
    """What a refused key's message adds when ``key_withheld``: why nothing was sent, and how to send it."""
    if not key_withheld(cfg):
        return ""
    return (f" The key in ${cfg.llm.api_key_env} was not sent: {shown_url(base_url(cfg))} is plain http to "
            "another machine, where anyone on the way could read it. To send it anyway, write api_key_env = "
            f"\"{cfg.llm.api_key_env}\" under [llm]; better, serve the model over https.")


def openai_client(cfg: Config) -> openai.OpenAI:
    base_url_ = base_url(cfg)
    # Local servers (Ollama, llama.cpp) accept any key; the client insists on one.
    key = (None if key_withheld(cfg) else cfg.api_key()) or ("unused" if base_url_ else None)
    http = openai.DefaultHttpxClient(transport=DeadlineTransport(cfg.llm.timeout), timeout=cfg.llm.timeout)
    return openai.OpenAI(api_key=key, base_url=base_url_, timeout=cfg.llm.timeout,
                         max_retries=cfg.llm.max_retries, http_client=http)


def model_name(cfg: Config) -> str:
    return cfg.llm.model or os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"


class DeadlineTransport(httpx2.BaseTransport):
    """An HTTP transport whose every attempt, body included, ends within ``total`` seconds."""

    def __init__(self, total: float, inner: httpx2.BaseTransport | None = None):
        self.total = total
        self.inner = inner or httpx2.HTTPTransport(limits=httpx2.Limits(max_keepalive_connections=0))

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        watch = _Watchdog(self.total, request.extensions.get("trace"))
        request.extensions = {**request.extensions, "trace": watch.trace}
        watch.start()
        try:
            response = self.inner.handle_request(request)
        except httpx2.TransportError as e:
            watch.cancel()
            # The socket's own timeout is the deadline too, and can fire before the timer's thread does.
            if watch.fired or isinstance(e, httpx2.TimeoutException):
                raise openai.APITimeoutError(request=request) from e
            raise
        except BaseException:
            watch.cancel()
            raise
        return httpx2.Response(status_code=response.status_code, headers=response.headers,
                               stream=_WatchedStream(response.stream, watch, request),
                               extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()


class _Watchdog:
    def __init__(self, total: float, chained_trace=None):
        self.total = total
        self.fired = False
        self._chained = chained_trace
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(total, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict) -> None:
        if event in _STREAM_EVENTS:
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with self._lock:
                    self._sockets.append(sock)
                    late = self.fired
                if late:
                    _shutdown(sock)
        if self._chained is not None:
            self._chained(event, info)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: the attempt is over either way


class _WatchedStream(httpx2.SyncByteStream):
    """The response body, still under the attempt's deadline until it is read or closed."""

    def __init__(self, inner, watch: _Watchdog, request: httpx2.Request):
        self._inner, self._watch, self._request = inner, watch, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx2.TransportError as e:
            if self._watch.fired or isinstance(e, httpx2.TimeoutException):
                raise openai.APITimeoutError(request=self._request) from e
            raise
        if self._watch.fired:  # a shut-down socket can also read as a clean, short end
            raise openai.APITimeoutError(request=self._request)

    def close(self) -> None:
        self._watch.cancel()
        close = getattr(self._inner, "close", None)
        if close:
            close()
