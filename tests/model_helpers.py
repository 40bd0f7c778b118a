"""Helpers for tests of the model summarizer: one built against a test double, and what a reader gets."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from newsletter.config import Config
from newsletter.models import Issue, TopicSection
from newsletter.render import issue_document, render_issue, template_env
from newsletter.summarize.llm import LLMSummarizer
from openai_server import OpenAIServer

T0 = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)


def summarizer(srv: OpenAIServer, timeout: float = 5, retries: int = 0, **kw) -> LLMSummarizer:
    cfg = Config.model_validate({
        "newsletter": {"title": "T", "from": "a@example.com", "to": ["b@example.org"]},
        "topics": [{"name": "X", "feeds": ["f.xml"]}],
        "llm": {"base_url": srv.base_url, "model": "test-model", "timeout": timeout, "max_retries": retries},
    })
    return LLMSummarizer.from_config(cfg, **kw)


def rendered(*briefings) -> tuple[str, str, str]:
    """What a reader gets: the HTML part, the text part and the JSON document's stories (without the
    grounding record, which quotes the claims it dropped on purpose, for the operator)."""
    issue = Issue(title="T", date=T0.date(), generated_at=T0, sections=[TopicSection("X", list(briefings))],
                  sidebar=[])
    email = render_issue(issue, template_env())
    doc = issue_document(issue)
    for story in doc["stories"]:
        story.pop("grounding", None)
    return email.html, email.text, json.dumps(doc, ensure_ascii=False)
