"""A scripted OpenAI-compatible server on 127.0.0.1: our own test double for the model edge.

    from openai_server import OpenAIServer, Reply

    with OpenAIServer([Reply(content='{"headline": ...}'), Reply(status=500), "plain text answer"]) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="test", max_retries=0)
        ...
        srv.requests[0].json["messages"]      # what the client sent
        srv.requests[0].headers["Authorization"]

It speaks real HTTP and the Chat Completions wire format (POST /v1/chat/completions),
so the real ``openai`` client is what gets tested. Each chat request takes the next
entry of the script: a string (the answer's content), a ``Reply`` (content, HTTP
status, raw body, delay, drip, usage figures), or a callable ``f(request_json) -> str | Reply``. When the
script runs out, the server answers 500 "script exhausted", which a test will notice.
A script that is a single callable answers every request.

POST /v1/embeddings answers from ``embeddings``, an ``Embeddings`` (or a callable
``f(text) -> vector``). By default each text's words are hashed into buckets, so
texts that share words get close vectors; a test that needs meaning gives its own
``embed``, a failing endpoint a ``status``, a slow one a ``delay`` (for every request after
the first ``slow_after``), and ``reverse=True`` lists the vectors last first (each keeps its
index, as the API allows):

    with OpenAIServer(embeddings=Embeddings(embed=lambda text: [1.0, 0.0], reverse=True)) as srv:
        ...
        srv.embedding_requests[0].json["input"]

Threaded; stopping it ends any slow reply.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMBEDDING_DIM = 64


@dataclass
class Reply:
    content: str | None = None  # the assistant message text
    status: int = 200
    body: bytes | str | None = None  # a raw body instead of a proper completion (e.g. broken JSON)
    delay: float = 0.0  # seconds to wait before answering
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0  # seconds between single bytes of the body: a server that answers, slowly
    usage: dict | None = None  # the usage figures to report, e.g. {"prompt_tokens": 900, "completion_tokens": 80}


@dataclass
class Request:
    path: str
    headers: object  # email.message.Message: case-insensitive lookup
    json: dict | None
    raw: bytes
    received: float = 0.0  # time.monotonic() when it arrived
    answered: float | None = None  # time.monotonic() when its answer was written, if one was


Script = list | Callable[[dict], "str | Reply"]


def embed_text(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """Deterministic unit vector: each word adds 1 to a bucket chosen by its hash."""
    vec = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()):
        bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dim
        vec[bucket] += 1.0
    norm = math.sqrt(sum(x * x for x in vec))
    return [x / norm for x in vec] if norm else [0.0] * (dim - 1) + [1.0]


@dataclass
class Embeddings:
    """How POST /embeddings answers."""

    embed: Callable[[str], list[float]] = embed_text  # one text's vector
    status: int = 200  # anything else: an OpenAI-style error body with this status
    reverse: bool = False  # list the vectors last first; each still carries its index
    delay: float = 0.0  # seconds before answering (the server's stop ends the wait)...
    slow_after: int = 0  # ...for each request after this many

    def response(self, payload: dict) -> dict:
        inputs = payload.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        data = [{"object": "embedding", "index": i, "embedding": self.embed(str(t))} for i, t in enumerate(inputs)]
        tokens = sum(len(str(t).split()) for t in inputs)
        return {"object": "list", "data": data[::-1] if self.reverse else data,
                "model": payload.get("model", "scripted-embedding"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


class OpenAIServer:
    def __init__(self, script: Script | None = None, *, model: str = "scripted-model",
                 embeddings: Embeddings | Callable[[str], list[float]] | None = None,
                 models: list[str] | None = None, lists_models: bool = True, key: str | None = None,
                 host: str = "127.0.0.1"):
        self.script = script if script is not None else []
        self.model = model
        self.models = [model] if models is None else models  # what GET /models lists
        self.lists_models = lists_models  # False: a server without that route (404), as some are
        self.key = key  # when set, a request without "Authorization: Bearer KEY" gets a 401, as OpenAI answers
        self.embeddings = embeddings if isinstance(embeddings, Embeddings) else Embeddings(embed=embeddings or embed_text)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._served = 0
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/embeddings")]

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    # -- answers -------------------------------------------------------------

    def _next_reply(self, payload: dict) -> Reply:
        with self._lock:
            if callable(self.script):
                entry = self.script
            elif self._served < len(self.script):
                entry = self.script[self._served]
            else:
                entry = Reply(status=500, body=json.dumps({"error": {"message": "script exhausted"}}))
            self._served += 1
        if callable(entry) and not isinstance(entry, Reply):
            entry = entry(payload)
        return Reply(content=entry) if isinstance(entry, str) else entry

    def _completion(self, reply: Reply, payload: dict) -> dict:
        prompt_chars = sum(len(str(m.get("content", ""))) for m in payload.get("messages", []))
        prompt_tokens = (reply.usage or {}).get("prompt_tokens", prompt_chars // 4)
        completion_tokens = (reply.usage or {}).get("completion_tokens", max(1, len(reply.content or "") // 4))
        return {
            "id": f"chatcmpl-test-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model", self.model),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _handler(self):
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self.request_record = Request(self.path, self.headers, None, b"", received=time.monotonic())
                with srv._lock:
                    srv.requests.append(self.request_record)
                if not self._key_taken():
                    return
                if self.path.rstrip("/").endswith("/models") and srv.lists_models:
                    return self._send(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in srv.models]})
                self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _key_taken(self) -> bool:
                if srv.key is None or self.headers.get("Authorization") == f"Bearer {srv.key}":
                    return True
                self._send(401, {"error": {"message": "Incorrect API key provided: sk-wro****ong.",
                                           "type": "invalid_request_error", "code": "invalid_api_key"}})
                return False

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    payload = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    payload = None
                self.request_record = Request(self.path, self.headers, payload, raw, received=time.monotonic())
                with srv._lock:
                    srv.requests.append(self.request_record)
                if not self._key_taken():
                    return
                if not isinstance(payload, dict):
                    return self._send(400, {"error": {"message": "body is not a JSON object"}})
                if self.path.rstrip("/").endswith("/chat/completions"):
                    return self._chat(payload)
                if self.path.rstrip("/").endswith("/embeddings"):
                    return self._embeddings(payload)
                self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _chat(self, payload: dict):
                reply = srv._next_reply(payload)
                if reply.delay and srv._stop.wait(reply.delay):
                    return  # server stopping: drop the connection
                if reply.drip:
                    return self._drip(reply, srv._completion(reply, payload))
                if reply.body is not None:
                    return self._send(reply.status, reply.body, reply.headers)
                if reply.status != 200:
                    return self._send(reply.status, {"error": {"message": f"scripted {reply.status}",
                                                               "type": "server_error"}}, reply.headers)
                self._send(200, srv._completion(reply, payload), reply.headers)

            def _embeddings(self, payload: dict):
                answer = srv.embeddings
                if answer.delay and len(srv.embedding_requests) > answer.slow_after and srv._stop.wait(answer.delay):
                    return  # server stopping: drop the connection
                if answer.status != 200:
                    return self._send(answer.status, {"error": {"message": f"scripted {answer.status}",
                                                                "type": "server_error"}})
                self._send(200, answer.response(payload))

            def _drip(self, reply: Reply, body: dict):
                data = json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    for i in range(len(data)):
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                        if srv._stop.wait(reply.drip):
                            return
                except OSError:
                    pass  # the client hung up: what a deadline is for

            def _send(self, status: int, body, headers: dict | None = None):
                data = body if isinstance(body, bytes) else (
                    body.encode() if isinstance(body, str) else json.dumps(body).encode())
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    self.request_record.answered = time.monotonic()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to tell it

        return Handler

