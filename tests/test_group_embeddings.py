"""Semantic grouping through a real OpenAI-compatible embeddings endpoint on 127.0.0.1.

The suite's one OpenAI-protocol double stands in for an embedding model here:
its vectors encode which event a text is about (by a marker phrase), so
paraphrases with no words in common get the same meaning.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from newsletter.config import Config, GroupingSettings
from newsletter.group import group_stories
from newsletter.group.embeddings import OpenAIEmbedder
from openai_server import Embeddings, OpenAIServer

from conftest import article, make_config

T = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
MEANINGS = {  # marker phrase -> the "meaning" the fake model gives it
    "lifeboat": [1.0, 0.0, 0.0],
    "rescue": [1.0, 0.0, 0.0],
    "museum": [0.0, 1.0, 0.0],
}


def _meaning(text: str) -> list[float]:
    for marker, vec in MEANINGS.items():
        if marker in text.lower():
            return vec
    return [0.0, 0.0, 1.0]


def _server(status: int = 200) -> OpenAIServer:
    # Vectors listed last first on purpose: the client must put them back in input order.
    return OpenAIServer(embeddings=Embeddings(embed=_meaning, status=status, reverse=True))


def _cfg(base_url: str) -> Config:
    return make_config(llm={"base_url": base_url, "embeddings_model": "test-embed", "max_retries": 0, "timeout": 5})


def _art(i: str, outlet: str, title: str, text: str):
    return article(i, outlet=outlet, title=title, text=text, published=T)


ARTICLES = [
    _art("1", "Harbor Ledger", "Lifeboat crew pulls six fishermen from Kestrel Sound",
         "Volunteers of the Kestrel Sound lifeboat station saved six fishermen whose trawler sank at dawn."),
    _art("2", "Ridgeback News", "Trawler sinks off Kestrel Sound; all aboard safe after rescue",
         "Every man aboard a trawler that went down off Kestrel Sound was brought ashore by volunteers."),
    _art("3", "Plainsview Post", "Kestrel Sound museum reopens after roof repairs",
         "The maritime museum at Kestrel Sound reopened its doors after a year of roof repairs."),
]


def test_embedder_talks_to_an_openai_compatible_server():
    with _server() as srv:
        embedder = OpenAIEmbedder.from_config(_cfg(srv.base_url))
        embedder.batch = 2
        vectors = embedder.embed(["lifeboat one", "museum two", "something else"])
    assert vectors == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]  # in input order, across batches
    sent = [r.json for r in srv.embedding_requests]
    assert [len(r["input"]) for r in sent] == [2, 1]
    assert all(r["model"] == "test-embed" and r["encoding_format"] == "float" for r in sent)


def test_semantic_mode_joins_paraphrases_lexical_mode_keeps_apart():
    settings = GroupingSettings(threshold=0.9)
    lexical = group_stories(ARTICLES, settings)
    assert sorted(len(s.articles) for s in lexical) == [1, 1, 1]  # few shared words beyond the place name
    with _server() as srv:
        semantic = group_stories(ARTICLES, settings, embedder=OpenAIEmbedder.from_config(_cfg(srv.base_url)))
    assert sorted(sorted(a.id for a in s.articles) for s in semantic) == [["1", "2"], ["3"]]


def test_failing_endpoint_falls_back_to_lexical_grouping(caplog):
    with _server(status=500) as srv:
        stories = group_stories(ARTICLES, GroupingSettings(threshold=0.9),
                                embedder=OpenAIEmbedder.from_config(_cfg(srv.base_url)))
    assert sorted(len(s.articles) for s in stories) == [1, 1, 1]
    assert "embeddings failed" in caplog.text


def test_embedder_needs_a_model_name():
    cfg = _cfg("http://127.0.0.1:9/v1")
    cfg.llm.embeddings_model = None
    with pytest.raises(ValueError, match="embeddings_model"):
        OpenAIEmbedder.from_config(cfg)


def test_an_embeddings_endpoint_of_its_own_needs_no_chat_model(monkeypatch):
    """A local embeddings server alone (no key, no chat base_url) turns semantic grouping on."""
    from conftest import make_config

    from newsletter.edges import make_embedder

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    cfg = make_config(llm={"embeddings_model": "multilingual-e5-small", "embeddings_base_url": "http://127.0.0.1:9/v1"})
    assert not cfg.llm_enabled
    embedder = make_embedder(cfg)
    assert embedder is not None and embedder.model == "multilingual-e5-small"
    assert str(embedder.client.base_url).startswith("http://127.0.0.1:9/v1")


def _rss(outlet: str, slug: str, language: str, title: str, text: str) -> bytes:
    from email.utils import format_datetime
    from xml.sax.saxutils import escape

    published = format_datetime(datetime.now(timezone.utc))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(outlet)}</title>'
            f"<link>https://{slug}.example/</link><language>{language}</language><item><guid>{slug}-1</guid>"
            f"<title>{escape(title)}</title><link>https://{slug}.example/1</link><pubDate>{published}</pubDate>"
            f"<description>{escape(text)}</description></item></channel></rss>").encode()


def test_a_source_in_the_readers_language_leads_the_story_and_gives_its_headline(tmp_path):
    """A Spanish issue over a Catalan and a Spanish report of one (fictional) fire: the Spanish outlet's title
    is the headline and the subject, though the Catalan one was first and shares more with the coverage."""
    import json

    from feedserver import FeedServer

    from conftest import config_data, run_cli, write_config

    catalan = _rss("La Veu de Marinet", "veu", "ca", "Un incendi al port de Valdemora obliga a evacuar 1.200 veïns",
                   "Un incendi (lifeboat) en un magatzem del port de Valdemora va obligar dijous a evacuar 1.200 veïns "
                   "del barri de La Ribera. Les flames van afectar 17,5 hectàrees de la zona portuària.")
    spanish = _rss("El Heraldo de Valdemora", "heraldo", "es", "Arde un almacén portuario en Valdemora",
                   "Un incendio (lifeboat) en un almacén del puerto de Valdemora obligó el jueves a evacuar a 1.200 "
                   "vecinos del barrio de La Ribera. Las llamas afectaron a 17,5 hectáreas de la zona portuaria.")
    with FeedServer() as feeds, _server() as model:
        urls = [feeds.add("/veu.xml", catalan), feeds.add("/heraldo.xml", spanish)]
        cfg = write_config(tmp_path, config_data(
            newsletter={"title": "Boletín", "from": "b@example.com", "language": "es", "max_age_hours": 0},
            topics=[{"name": "Local", "feeds": urls}], grouping={"threshold": 0.9},
            llm={"embeddings_base_url": model.base_url, "embeddings_model": "test-embed", "max_retries": 0}))
        result = run_cli("preview", "--config", str(cfg), "--out", str(tmp_path / "issue.html"), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    [story] = json.loads((tmp_path / "issue.json").read_text())["stories"]
    assert [s["outlet"] for s in story["sources"]] == ["El Heraldo de Valdemora", "La Veu de Marinet"]
    assert story["headline"] == "Arde un almacén portuario en Valdemora"


def test_the_model_reads_an_arxiv_abstract_not_the_announce_line_before_it():
    # Every arXiv RSS entry opens "arXiv:ID Announce Type: new": read by the model, it spent the lead on
    # words all entries share, which the lexical features had stopped reading already.
    from newsletter.group.embeddings import embedding_text

    abstract = "We prove that two-layer networks trained by SGD learn sparse parities in polynomial time."
    plain = article("a", title="Gradient descent learns sparse parities", text=abstract)
    announced = article("b", title="Gradient descent learns sparse parities",
                        text=f"arXiv:2611.20001v1 Announce Type: new\nAbstract: {abstract}")
    assert embedding_text(announced) == embedding_text(plain)
    assert abstract in embedding_text(plain)
