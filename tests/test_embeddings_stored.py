"""Embeddings computed once, at fetch time, and kept in the store (semantic grouping without the 07:00 bill).

Real servers throughout: the feeds on a local HTTP server, the embeddings model
on the OpenAI-protocol double (which counts the requests it gets), a SQLite
file. The double's vectors encode marker words ("bridge", "lifeboat" or "rescue",
"museum"), so reports of one event in different words mean the same.
"""

from __future__ import annotations

import time

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from conftest import article, make_config, run_cli, write_config
from feedserver import FeedServer
from newsletter.clock import FixedClock
from newsletter.config import Config, GroupingSettings, load_config
from newsletter.deliver import FileTransport
from newsletter.group import group_stories
from newsletter.group.embeddings import OpenAIEmbedder, embedding_text
from newsletter.group.vectors import BATCH, StoredEmbedder, embed_missing, text_key
from newsletter.models import DeliveryStatus
from newsletter.edges import Edges, make_embedder
from newsletter.pipeline import fetch, preview, send
from newsletter.store import Store
from newsletter.summarize import extractive_summarizer
from openai_server import Embeddings, OpenAIServer

MORNING = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
MODEL = "test-embed"


def _meaning(text: str) -> list[float]:
    lowered = text.lower()
    return [float("bridge" in lowered), float("lifeboat" in lowered or "rescue" in lowered), float("museum" in lowered),
            0.5]


def _rss(outlet: str, items: list[tuple[str, str, str]], when: datetime = MORNING - timedelta(hours=2)) -> str:
    body = "".join(f"<item><guid>{guid}</guid><title>{title}</title><link>https://{outlet}.example/{guid}</link>"
                   f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} GMT</pubDate><description>{text}</description></item>"
                   for guid, title, text in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>{body}</channel></rss>'


GAZETTE = [("g1", "Fenwick swing bridge shut after crack found in girder",
            "Engineers closed the Fenwick swing bridge on Sunday after finding a crack in its main girder."),
           ("g2", "Fenwick museum reopens its maritime hall",
            "The Fenwick museum reopened its maritime hall after a year of repairs to the roof.")]
HERALD = [("h1", "Lifeboat volunteers pull two kayakers from Fenwick estuary",
           "Two kayakers were rescued by the Fenwick lifeboat crew after their boats capsized at dusk.")]


def _serve(feeds: FeedServer, **items: list[tuple[str, str, str]]) -> list[str]:
    """Each outlet's items as its feed on the local server; their URLs."""
    for outlet, its in items.items():
        feeds.add(f"/{outlet}.xml", _rss(outlet, its))
    return [feeds.url(f"/{outlet}.xml") for outlet in items]


def _config(tmp_path, feeds: list[str], base_url: str, **tables) -> Config:
    data = {"newsletter": {"title": "Fenwick Morning", "from": "morning@fenwick.example", "to": ["reader@example.org"],
                           "max_age_hours": 24},
            "topics": [{"name": "Local", "feeds": feeds}],
            "llm": {"embeddings_model": MODEL, "embeddings_base_url": base_url, "max_retries": 0, "timeout": 30}}
    for name, values in tables.items():
        data[name] = {**data.get(name, {}), **values}
    return load_config(write_config(tmp_path, data))


def _edges(cfg: Config, store: Store, clock=MORNING, **more) -> Edges:
    return Edges(store, FixedClock(clock), embedder=make_embedder(cfg), **more)


def _texts(srv: OpenAIServer) -> list[str]:
    return [t for r in srv.embedding_requests for t in r.json["input"]]


def test_articles_are_embedded_once_at_fetch_and_the_issue_asks_the_model_for_nothing(tmp_path):
    with FeedServer() as feeds, OpenAIServer(embeddings=Embeddings(embed=_meaning)) as model:
        cfg = _config(tmp_path, _serve(feeds, gazette=GAZETTE, herald=HERALD), model.base_url)
        store = Store.open(cfg.store_url)
        try:
            first = fetch(cfg, _edges(cfg, store))
            assert (first.embedded.embedded, first.embedded.waiting, first.embedded.error) == (3, 0, None)
            assert sorted(_texts(model)) == sorted(embedding_text(a) for a in store.articles_between(None))
            asked = len(model.embedding_requests)

            again = fetch(cfg, _edges(cfg, store, MORNING + timedelta(hours=1)))
            assert (again.embedded.embedded, again.embedded.stored) == (0, 3)
            built, _ = preview(cfg, _edges(cfg, store, MORNING + timedelta(hours=2)), tmp_path / "preview.html")
            sent = send(cfg, _edges(cfg, store, MORNING + timedelta(hours=2), summarizer=extractive_summarizer(),
                                    transport=FileTransport(tmp_path / "outbox")))
        finally:
            store.close()
    assert len(model.embedding_requests) == asked  # neither the second fetch, the preview nor the send asked
    assert [d.status for d in sent.deliveries] == [DeliveryStatus.SENT]
    assert sorted(len(s.articles) for s in _stories(built)) == [1, 1, 1]


def test_a_long_article_read_in_part_at_fetch_has_the_vector_the_issue_looks_for(tmp_path):
    # The poll reads only the lead of each text from the store; the build reads it whole. Both must hash
    # the same text, or every long article would be embedded again at 07:00.
    long = [("g9", "Fenwick harbour wall repairs begin",
             " ".join(["Engineers began repairing the Fenwick harbour wall on Monday after the winter storms."] * 40))]
    with FeedServer() as feeds, OpenAIServer(embeddings=Embeddings(embed=_meaning)) as model:
        feeds.add("/gazette.xml", _rss("gazette", long))
        cfg = _config(tmp_path, [feeds.url("/gazette.xml")], model.base_url)
        store = Store.open(cfg.store_url)
        try:
            polled = fetch(cfg, _edges(cfg, store))
            asked = len(model.embedding_requests)
            preview(cfg, _edges(cfg, store, MORNING + timedelta(hours=2)), tmp_path / "preview.html")
            text = store.articles_between(None)[0].text
        finally:
            store.close()
    assert len(text) > 2000 and (polled.embedded.embedded, asked) == (1, 1)
    assert len(model.embedding_requests) == asked  # the build found the poll's vector


def _stories(built):
    issue = built.issue
    return [b.story for b in issue.briefings] + [i.story for i in issue.sidebar if i.story is not None]


def test_an_article_whose_text_changed_is_embedded_again_and_the_same_text_never(tmp_path):
    with FeedServer() as feeds, OpenAIServer(embeddings=Embeddings(embed=_meaning)) as model:
        cfg = _config(tmp_path, _serve(feeds, gazette=GAZETTE, herald=[]), model.base_url)
        store = Store.open(cfg.store_url)
        try:
            fetch(cfg, _edges(cfg, store))
            before = len(_texts(model))
            # The Gazette corrects its bridge report (a new entry), and the Herald carries the museum piece word
            # for word: one new text to embed, one text the store has from the Gazette.
            corrected = ("g1-v2", GAZETTE[0][1], GAZETTE[0][2].replace("on Sunday", "on Saturday night"))
            feeds.add("/gazette.xml", _rss("gazette", [corrected, *GAZETTE]))
            feeds.add("/herald.xml", _rss("herald", [("h9", *GAZETTE[1][1:])]))
            later = fetch(cfg, _edges(cfg, store, MORNING + timedelta(hours=1)))
        finally:
            store.close()
    assert later.embedded.embedded == 1
    assert [t.split("\n", 1)[1] for t in _texts(model)[before:]] == [corrected[2]]


def test_an_endpoint_that_is_down_costs_the_vectors_not_the_fetch_nor_the_issue(tmp_path):
    with FeedServer() as feeds, OpenAIServer(embeddings=Embeddings(embed=_meaning, status=503)) as model:
        cfg = _config(tmp_path, _serve(feeds, gazette=GAZETTE, herald=HERALD), model.base_url)
        store = Store.open(cfg.store_url)
        try:
            down = fetch(cfg, _edges(cfg, store))
            stored = len(store.articles_between(None))
            sent = send(cfg, _edges(cfg, store, MORNING + timedelta(minutes=30), summarizer=extractive_summarizer(),
                                    transport=FileTransport(tmp_path / "outbox")))
            model.embeddings.status = 200  # back up: the next poll embeds what waited
            back = fetch(cfg, _edges(cfg, store, MORNING + timedelta(hours=1)))
        finally:
            store.close()
    assert [r.ok for r in down.feeds] == [True, True] and stored == 3
    assert (down.embedded.embedded, down.embedded.waiting) == (0, 3) and "503" in down.embedded.error
    assert [d.status for d in sent.deliveries] == [DeliveryStatus.SENT]  # grouped by the words alone
    assert sorted(len(s.articles) for s in _stories(sent.built)) == [1, 1, 1]
    assert (back.embedded.embedded, back.embedded.waiting) == (3, 0)


@pytest.mark.long
def test_a_slow_endpoint_holds_the_poll_no_longer_than_its_budget_and_the_rest_waits(tmp_path):
    # The first request is answered, every later one hangs: the budget lets one batch in.
    items = [(f"n{i}", f"Fenwick notice {i}: bins collected a day late", f"Notice {i} from the Fenwick council.")
             for i in range(BATCH + 8)]
    slow = Embeddings(embed=_meaning, delay=600, slow_after=1)
    with FeedServer() as feeds, OpenAIServer(embeddings=slow) as model:
        feeds.add("/gazette.xml", _rss("gazette", items))
        cfg = _config(tmp_path, [feeds.url("/gazette.xml")], model.base_url, fetch={"embeddings_seconds": 4})
        store = Store.open(cfg.store_url)
        try:
            polled = fetch(cfg, _edges(cfg, store))
            keys = [text_key(embedding_text(a)) for a in store.articles_between(None)]
            kept = store.embedded(MODEL, keys)
        finally:
            store.close()
    assert [r.new for r in polled.feeds] == [BATCH + 8]  # every article stored
    assert (polled.embedded.embedded, polled.embedded.waiting) == (BATCH, 8)
    assert len(kept) == BATCH and "Timeout" in polled.embedded.error


T = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
PARAPHRASES = [  # two reports of one rescue that share no wording but the place; a museum piece from there
    article("1", outlet="Harbor Ledger", published=T, title="Lifeboat crew pulls six fishermen from Kestrel Sound",
            text="Volunteers of the Kestrel Sound lifeboat station saved six fishermen whose trawler sank at dawn."),
    article("2", outlet="Ridgeback News", published=T, title="Trawler sinks off Kestrel Sound; all aboard safe after rescue",
            text="Every man aboard a trawler that went down off Kestrel Sound was brought ashore by volunteers."),
    article("3", outlet="Plainsview Post", published=T, title="Kestrel Sound museum reopens after roof repairs",
            text="The maritime museum at Kestrel Sound reopened its doors after a year of roof repairs."),
]


def _model_config(base_url: str) -> Config:
    return make_config(llm={"embeddings_model": MODEL, "embeddings_base_url": base_url, "max_retries": 0})


@pytest.mark.parametrize("stored_before", [["1", "2", "3"], ["1", "3"]])
def test_grouping_reads_stored_vectors_and_leaves_an_article_without_one_to_its_words(tmp_path, stored_before):
    """The endpoint is down at the build: what the polls stored still joins by meaning, and an article
    no poll embedded gets no semantic evidence (it is grouped by its words, here alone)."""
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    settings = GroupingSettings(threshold=0.9)
    try:
        with OpenAIServer(embeddings=Embeddings(embed=_meaning)) as up:
            poll = OpenAIEmbedder.from_config(_model_config(up.base_url))
            group_stories([a for a in PARAPHRASES if a.id in stored_before], settings,
                          StoredEmbedder(poll, store, seconds=60, at=lambda: T))
        with OpenAIServer(embeddings=Embeddings(embed=_meaning, status=503)) as down:
            build = OpenAIEmbedder.from_config(_model_config(down.base_url))
            embedder = StoredEmbedder(build, store, seconds=60, at=lambda: T)
            stories = group_stories(PARAPHRASES, settings, embedder)
    finally:
        store.close()
    joined = sorted(sorted(a.id for a in s.articles) for s in stories)
    if stored_before == ["1", "2", "3"]:
        assert joined == [["1", "2"], ["3"]] and len(down.embedding_requests) == 0
    else:
        assert joined == [["1"], ["2"], ["3"]] and embedder.last.waiting == 1


def test_the_fetch_command_says_how_many_were_embedded_and_how_many_wait(tmp_path):
    hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)  # the command runs on the real clock
    (tmp_path / "gazette.xml").write_text(_rss("gazette", GAZETTE, hours_ago))
    (tmp_path / "herald.xml").write_text(_rss("herald", HERALD, hours_ago))
    with OpenAIServer(embeddings=Embeddings(embed=_meaning, status=503)) as model:
        path = _config(tmp_path, ["gazette.xml", "herald.xml"], model.base_url).path
        down = run_cli("fetch", "--config", str(path))
        model.embeddings.status = 200
        back = run_cli("fetch", "--config", str(path))
    assert down.exit_code == 0 and back.exit_code == 0, down.stderr + back.stderr
    assert "3 new articles from 2 feeds" in down.stdout
    assert f"embeddings ({MODEL}): 0 articles embedded, 3 wait for the next poll" in down.stdout
    assert "503" in down.stdout
    assert f"embeddings ({MODEL}): 3 articles embedded, 0 wait for the next poll" in back.stdout


def test_the_poll_line_of_the_service_counts_the_vectors(tmp_path, caplog):
    from newsletter.service import Service

    hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)  # the service runs on the real clock
    (tmp_path / "gazette.xml").write_text(_rss("gazette", GAZETTE, hours_ago))
    (tmp_path / "herald.xml").write_text(_rss("herald", HERALD, hours_ago))
    with OpenAIServer(embeddings=Embeddings(embed=_meaning)) as model:
        cfg = _config(tmp_path, ["gazette.xml", "herald.xml"], model.base_url)
        with caplog.at_level("INFO", logger="newsletter.service"):
            Service([cfg]).poll()
            Service([cfg]).poll()
    first, second = [r for r in caplog.records if r.getMessage().startswith("poll:")]
    assert first.getMessage() == "poll: 2 feeds, 3 new articles, 0 failed; 3 embedded, 0 wait for the next poll"
    assert (second.new_articles, second.embedded, second.embeddings_waiting) == (0, 0, 0)


def test_the_poll_embeds_through_any_embedder_grouping_takes(tmp_path):
    """The poll's budget bounds each request with ``timeout`` (``embed_missing``): every ``Embedder``
    takes it, the store-backed one too, and its vectors are kept."""
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    texts = {text_key(a.title): a.title for a in PARAPHRASES}
    try:
        with OpenAIServer(embeddings=Embeddings(embed=_meaning)) as up:
            inner = OpenAIEmbedder.from_config(_model_config(up.base_url))
            stored = StoredEmbedder(inner, store, seconds=60, at=lambda: T)
            rows, report = embed_missing(texts, stored, seconds=60, keep=lambda rows: None)
    finally:
        store.close()
    assert (report.error, report.embedded, len(rows)) == (None, 3, 3)
    assert len(up.embedding_requests) == 1


# -- newsletters sharing one store: each embeddings model embeds its own newsletters' articles at poll time --

ALPHA, BETA = "alpha-embed", "beta-embed"
VALLEY = [("v1", "Fenwick ferry timetable changes for the winter",
           "The Fenwick ferry will sail every two hours from December, the harbour board said.")]


def _newsletter(folder, name: str, feeds: list[str], model: tuple[str, str] | None, **tables) -> Config:
    """A newsletter in ``folder`` (every one there shares its store) over these feed files, with
    ``model`` (name, endpoint) as its embeddings model, or none."""
    data = {"newsletter": {"title": name.title(), "from": "morning@fenwick.example", "to": ["reader@example.org"],
                           "max_age_hours": 24},
            "topics": [{"name": "Local", "feeds": feeds}], **tables}
    if model is not None:
        data["llm"] = {"embeddings_model": model[0], "embeddings_base_url": model[1], "max_retries": 0,
                       "timeout": 30}
    return load_config(write_config(folder, data, f"{name}.toml"))


def _feed_files(folder, **feeds: list[tuple[str, str, str]]) -> None:
    hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)  # the service runs on the real clock
    for name, items in feeds.items():
        (folder / f"{name}.xml").write_text(_rss(name, items, hours_ago))


def _keys(store: Store, cfg: Config) -> set[str]:
    return {text_key(embedding_text(a)) for a in store.articles_between(None, feed_urls=[s.url for s in cfg.feeds])}


@pytest.mark.parametrize("worker", [False, True])
@pytest.mark.parametrize("first_model", [True, False], ids=["both-models", "second-only"])
def test_each_newsletter_on_a_store_gets_vectors_from_its_own_model_at_poll_time(tmp_path, caplog, worker,
                                                                                 first_model):
    """The second newsletter's model embeds its articles at the poll (whether the first has another
    model or none), so its build reads stored vectors instead of embedding the day's news."""
    from newsletter.service import Service

    _feed_files(tmp_path, gazette=GAZETTE, herald=HERALD, valley=VALLEY)
    with (OpenAIServer(embeddings=Embeddings(embed=_meaning)) as alpha,
          OpenAIServer(embeddings=Embeddings(embed=_meaning)) as beta):
        first = _newsletter(tmp_path, "morning", ["gazette.xml", "herald.xml"],
                            (ALPHA, alpha.base_url) if first_model else None)
        second = _newsletter(tmp_path, "evening", ["herald.xml", "valley.xml"], (BETA, beta.base_url))
        with caplog.at_level("INFO", logger="newsletter.service"):
            Service([first, second], worker=worker).poll()
        polled = len(beta.embedding_requests)
        store = Store.open(second.store_url)
        try:
            texts = {cfg.newsletter.title: sorted(embedding_text(a) for a in store.articles_between(
                None, feed_urls=[s.url for s in cfg.feeds])) for cfg in (first, second)}
            everything = list(_keys(store, first) | _keys(store, second))
            vectors = {model: store.embedded(model, everything) for model in (ALPHA, BETA)}
            preview(second, _edges(second, store, datetime.now(timezone.utc)), tmp_path / "evening.html",
                    fetch_first=False)
        finally:
            store.close()
    assert len(beta.embedding_requests) == polled  # the build embedded nothing: it read the poll's vectors
    assert sorted(_texts(beta)) == texts["Evening"] and vectors[BETA] == set(map(text_key, texts["Evening"]))
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("poll:"))
    if first_model:
        assert sorted(_texts(alpha)) == texts["Morning"] and vectors[ALPHA] == set(map(text_key, texts["Morning"]))
        assert line == ("poll: 3 feeds, 4 new articles, 0 failed; 5 embedded, 0 wait for the next poll "
                        "(2 embeddings models)")
    else:
        assert alpha.embedding_requests == [] and vectors[ALPHA] == set()
        assert line == "poll: 3 feeds, 4 new articles, 0 failed; 2 embedded, 0 wait for the next poll"


@pytest.mark.long
def test_a_poll_embeds_for_its_budget_in_all_however_many_models_and_each_gets_a_share(tmp_path):
    """Three newsletters, three models whose endpoints all hang: the poll spends one budget (3 s), not
    one per model (9 s), and each model is asked within its share, so a slow first one starves none."""
    from newsletter.service import Service

    _feed_files(tmp_path, gazette=GAZETTE, herald=HERALD, valley=VALLEY)
    hang = [Embeddings(embed=_meaning, delay=600) for _ in range(3)]
    with OpenAIServer(embeddings=hang[0]) as a, OpenAIServer(embeddings=hang[1]) as b, \
            OpenAIServer(embeddings=hang[2]) as c:
        cfgs = [_newsletter(tmp_path, name, [feed], (model, srv.base_url), fetch={"embeddings_seconds": 3})
                for name, feed, model, srv in (("morning", "gazette.xml", ALPHA, a), ("noon", "herald.xml", BETA, b),
                                               ("evening", "valley.xml", "gamma-embed", c))]
        service = Service(cfgs)
        started = time.monotonic()
        service.poll()
        took = time.monotonic() - started
        asked = [len(srv.embedding_requests) for srv in (a, b, c)]
    assert asked == [1, 1, 1]  # each model had a share of the budget
    assert took < 7.5, f"the poll took {took:.1f} s for a 3 s budget (one per model would be over 9 s)"


def test_a_newsletter_whose_poll_budget_is_zero_has_nothing_embedded_at_the_poll(tmp_path):
    from newsletter.service import Service

    _feed_files(tmp_path, gazette=GAZETTE, herald=HERALD)
    with (OpenAIServer(embeddings=Embeddings(embed=_meaning)) as alpha,
          OpenAIServer(embeddings=Embeddings(embed=_meaning)) as beta):
        cfgs = [_newsletter(tmp_path, "morning", ["gazette.xml"], (ALPHA, alpha.base_url),
                            fetch={"embeddings_seconds": 0}),
                _newsletter(tmp_path, "evening", ["herald.xml"], (BETA, beta.base_url))]
        Service(cfgs).poll()
    assert alpha.embedding_requests == [] and len(beta.embedding_requests) == 1


@pytest.mark.parametrize("worker", [False, True])
def test_newsletters_sharing_a_model_have_each_article_embedded_once(tmp_path, caplog, worker):
    """The first newsletter has no embeddings model; the other two have the same one and share a feed:
    every article those two read is embedded once, and none of the first's own feed."""
    from newsletter.service import Service

    _feed_files(tmp_path, gazette=GAZETTE, herald=HERALD, valley=VALLEY)
    with OpenAIServer(embeddings=Embeddings(embed=_meaning)) as model:
        cfgs = [_newsletter(tmp_path, "morning", ["gazette.xml"], None),
                _newsletter(tmp_path, "noon", ["herald.xml", "valley.xml"], (MODEL, model.base_url)),
                _newsletter(tmp_path, "evening", ["valley.xml"], (MODEL, model.base_url))]
        with caplog.at_level("INFO", logger="newsletter.service"):
            Service(cfgs, worker=worker).poll()
        store = Store.open(cfgs[0].store_url)
        try:
            theirs = [embedding_text(a) for a in store.articles_between(None, feed_urls=[f.url for f in cfgs[1].feeds])]
        finally:
            store.close()
    assert len(theirs) == 2 and Counter(_texts(model)) == Counter(theirs)  # each once, the Gazette's never
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("poll:"))
    assert line == "poll: 3 feeds, 4 new articles, 0 failed; 2 embedded, 0 wait for the next poll"


def test_a_worker_embeds_only_the_articles_of_the_feeds_it_leased(tmp_path):
    """Two workers polling at once: the other one holds the Herald's lease and has stored its article,
    which it embeds itself; this worker embeds the Gazette's alone, so no article is embedded twice."""
    from newsletter.pipeline import ingest
    from newsletter.service import Service

    _feed_files(tmp_path, gazette=GAZETTE, herald=HERALD)
    with OpenAIServer(embeddings=Embeddings(embed=_meaning)) as model:
        cfg = _newsletter(tmp_path, "morning", ["gazette.xml", "herald.xml"], (MODEL, model.base_url))
        herald = [s for s in cfg.feeds if s.url.endswith("herald.xml")]
        now = datetime.now(timezone.utc)  # the service runs on the real clock
        store = Store.open(cfg.store_url)
        try:
            store.add_feed_leases([herald[0].url])
            assert store.claim_feeds([herald[0].url], "other-worker", now, lease=timedelta(hours=1),
                                     interval=timedelta(minutes=15), limit=10) == [herald[0].url]
            ingest(cfg, Edges(store, FixedClock(now)), herald)
            reports = Service([cfg], worker=True).poll()
            gazette = sorted(embedding_text(a) for a in store.articles_between(
                None, feed_urls=[s.url for s in cfg.feeds if s not in herald]))
        finally:
            store.close()
    assert [r.url for r in reports] == [s.url for s in cfg.feeds if s not in herald]  # the Herald stayed leased
    assert len(gazette) == 2 and sorted(_texts(model)) == gazette
