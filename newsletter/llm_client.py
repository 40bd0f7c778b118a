"""The model edge: one OpenAI-compatible client, built from config and environment.

Any server that speaks the Chat Completions protocol works: OpenAI, DeepSeek,
Qwen, vLLM, Ollama, llama.cpp. The key is read from the environment variable
the config names (``OPENAI_API_KEY`` by default) and is never logged.
"""

from __future__ import annotations

import os

import openai

from newsletter.config import Config


def openai_client(cfg: Config) -> openai.OpenAI:
    base_url = cfg.llm.base_url or os.environ.get("OPENAI_BASE_URL") or None
    # Local servers (Ollama, llama.cpp) accept any key; the client insists on one.
    key = cfg.api_key() or ("unused" if base_url else None)
    return openai.OpenAI(api_key=key, base_url=base_url, timeout=cfg.llm.timeout, max_retries=cfg.llm.max_retries)


def model_name(cfg: Config) -> str:
    return cfg.llm.model or os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"
