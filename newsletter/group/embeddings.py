"""Semantic embeddings through the openai client's embeddings API, at any OpenAI-compatible server.

    embedder = OpenAIEmbedder.from_config(cfg)   # cfg.llm.embeddings_model names the model
    vectors = embedder.embed(["title and lead", ...])

Texts go in batches (servers cap the inputs per request) and are cut to
what grouping compares: a title and its lead (``newsletter.text``).
"""

from __future__ import annotations

from dataclasses import dataclass

import openai

from newsletter.config import Config
from newsletter.llm_client import openai_client
from newsletter.text import LEAD_CHARS, MAX_TITLE_CHARS

BATCH = 256
MAX_CHARS = MAX_TITLE_CHARS + 1 + LEAD_CHARS  # title, newline, lead


@dataclass
class OpenAIEmbedder:
    client: openai.OpenAI
    model: str
    batch: int = BATCH

    @classmethod
    def from_config(cls, cfg: Config) -> OpenAIEmbedder:
        if not cfg.llm.embeddings_model:
            raise ValueError("[llm] embeddings_model is not set; semantic grouping needs it")
        return cls(openai_client(cfg), cfg.llm.embeddings_model)

    def embed(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch):
            chunk = [(t or " ")[:MAX_CHARS] for t in texts[start : start + self.batch]]
            # "float", not the client's default base64: not every compatible server speaks base64.
            resp = self.client.embeddings.create(model=self.model, input=chunk, encoding_format="float")
            # The API may answer out of order; each item carries its input index.
            out += [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]
        return out
