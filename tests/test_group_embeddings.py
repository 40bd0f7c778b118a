"""Semantic grouping through a real OpenAI-compatible embeddings endpoint on 127.0.0.1.

The server stands in for an embedding model: it answers POST /v1/embeddings
with vectors that encode which event a text is about (by a marker phrase),
so paraphrases with no words in common get the same meaning.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter.config import Config, GroupingSettings
from newsletter.group import group_stories
from newsletter.group.embeddings import OpenAIEmbedder
from newsletter.models import Article

T = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
MEANINGS = {  # marker phrase -> the "meaning" the fake model gives it
    "lifeboat": [1.0, 0.0, 0.0],
    "rescue": [1.0, 0.0, 0.0],
    "museum": [0.0, 1.0, 0.0],
}


class _EmbeddingServer:
    def __init__(self, status: int = 200):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if status != 200 or not self.path.endswith("/embeddings"):
                    self.send_response(status if status != 200 else 404)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "down"}}')
                    return
                data = [{"object": "embedding", "index": i, "embedding": _meaning(t)}
                        for i, t in reversed(list(enumerate(body["input"])))]  # out of order on purpose
                out = json.dumps({"object": "list", "data": data, "model": body["model"],
                                  "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def _meaning(text: str) -> list[float]:
    for marker, vec in MEANINGS.items():
        if marker in text.lower():
            return vec
    return [0.0, 0.0, 1.0]


def _cfg(base_url: str) -> Config:
    return Config.model_validate({
        "newsletter": {"title": "T", "from": "t@example.com", "to": ["r@example.org"]},
        "topics": [{"name": "News", "feeds": ["f.xml"]}],
        "llm": {"base_url": base_url, "embeddings_model": "test-embed", "max_retries": 0, "timeout": 5},
    })


def _art(i: str, outlet: str, title: str, text: str) -> Article:
    return Article(id=i, feed_url="f", outlet=outlet, title=title, link=f"https://x.example/{i}", published=T, text=text)


ARTICLES = [
    _art("1", "Harbor Ledger", "Lifeboat crew pulls six fishermen from Kestrel Sound",
         "Volunteers of the Kestrel Sound lifeboat station saved six fishermen whose trawler sank at dawn."),
    _art("2", "Ridgeback News", "Trawler sinks off Kestrel Sound; all aboard safe after rescue",
         "All six men aboard a trawler that went down off Kestrel Sound were brought ashore by volunteers."),
    _art("3", "Plainsview Post", "Kestrel Sound museum reopens after roof repairs",
         "The maritime museum at Kestrel Sound reopened its doors after a year of roof repairs."),
]


def test_embedder_talks_to_an_openai_compatible_server():
    with _EmbeddingServer() as srv:
        embedder = OpenAIEmbedder.from_config(_cfg(srv.base_url))
        embedder.batch = 2
        vectors = embedder.embed(["lifeboat one", "museum two", "something else"])
    assert vectors == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]  # in input order, across batches
    assert [len(r["input"]) for r in srv.requests] == [2, 1]
    assert all(r["model"] == "test-embed" and r["encoding_format"] == "float" for r in srv.requests)


def test_semantic_mode_joins_paraphrases_lexical_mode_keeps_apart():
    settings = GroupingSettings(threshold=0.9)
    lexical = group_stories(ARTICLES, settings)
    assert sorted(len(s.articles) for s in lexical) == [1, 1, 1]  # few shared words beyond the place name
    with _EmbeddingServer() as srv:
        semantic = group_stories(ARTICLES, settings, embedder=OpenAIEmbedder.from_config(_cfg(srv.base_url)))
    assert sorted(sorted(a.id for a in s.articles) for s in semantic) == [["1", "2"], ["3"]]


def test_failing_endpoint_falls_back_to_lexical_grouping(caplog):
    with _EmbeddingServer(status=500) as srv:
        stories = group_stories(ARTICLES, GroupingSettings(threshold=0.9),
                                embedder=OpenAIEmbedder.from_config(_cfg(srv.base_url)))
    assert sorted(len(s.articles) for s in stories) == [1, 1, 1]
    assert "embeddings failed" in caplog.text


def test_embedder_needs_a_model_name():
    cfg = _cfg("http://127.0.0.1:9/v1")
    cfg.llm.embeddings_model = None
    with pytest.raises(ValueError, match="embeddings_model"):
        OpenAIEmbedder.from_config(cfg)
