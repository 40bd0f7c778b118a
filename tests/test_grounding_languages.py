"""The grounding gate on bullets in German, French, Spanish and Portuguese over sources in those languages:
the holes a German editor's walkthrough found, each a case that passed before its fix.

Every outlet, place and person here is invented.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from newsletter.models import BIG_PICTURE, Article, Briefing, Bullet, Story
from newsletter.summarize.grounding import Evidence, ground

PUBLISHED = datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc)


def _source(language: str, text: str) -> Article:
    return Article(id=f"{language}-1", feed_url="https://valmere-bote.example/feed", outlet="Valmere-Bote (fictional)",
                   title="Valmere", link="https://valmere-bote.example/1", published=PUBLISHED, language=language,
                   text=text)


def kept(language: str, source: str, bullet: str, source_language: str | None = None) -> bool:
    """Whether a bullet in ``language`` citing one source (in ``source_language``, else the same) is kept."""
    story = Story([_source(source_language or language, source)], "Valmere")
    briefing = Briefing(story, story.headline, story.headline, {BIG_PICTURE.key: [Bullet(bullet, [1])]})
    return bool(ground(briefing, Evidence.of(story, language)).bullets[BIG_PICTURE.key])


# -- a source's figures are read the way its language writes them, not also the English way ---------------

@pytest.mark.parametrize("language, source, bullet, faithful", [
    # English rules read German "17.500" as 17.5, and cut "17,5" into 17 and 5, French "1 200" into 1 and 200.
    ("de", "Beim Hafenfest in Valmere zählte man 17.500 Gäste.", "Beim Hafenfest zählte man 17,5 Gäste.", False),
    ("de", "Beim Hafenfest in Valmere zählte man 17.500 Gäste.", "Beim Hafenfest zählte man 17.500 Gäste.", True),
    ("de", "Seit 1950 wuchs Valmere um 4.500 %.", "Seit 1950 wuchs Valmere um 4,5 Prozent.", False),
    ("de", "Der neue Damm von Valmere ist 17,5 Kilometer lang.", "Der Damm ist 17 Kilometer lang.", False),
    ("de", "Der neue Damm von Valmere ist 17,5 Kilometer lang.", "Der Damm ist 5 Kilometer lang.", False),
    ("de", "Der neue Damm von Valmere ist 17,5 Kilometer lang.", "Der Damm ist 17.5 Kilometer lang.", True),
    ("de", "Der neue Damm von Valmere ist 17,5 Kilometer lang.", "Der Damm ist 17,5 Kilometer lang.", True),
    ("de", "Die Fähre nach Valmere kostet 17,50 Euro.", "Die Fähre kostet 50 Euro.", False),
    ("de", "Die Inflation in Valmere lag bei 17 Prozent.", "Die Inflation lag bei 17.5 Prozent.", False),
    ("de", "Die Inflation in Valmere lag bei 175 Prozent.", "Die Inflation lag bei 17,5 Prozent.", False),
    ("fr", "La coopérative de Valmere emploie 1 200 personnes.", "La coopérative emploie 200 personnes.", False),
    ("fr", "La coopérative de Valmere emploie 1\u202f200 personnes.", "La coopérative emploie 200 personnes.", False),
    ("fr", "La coopérative de Valmere emploie 1\u202f200 personnes.", "La coopérative emploie 1 200 personnes.",
     True),
    ("fr", "La digue de Valmere mesure 17,5 km.", "La digue mesure 17 km.", False),
    ("fr", "La digue de Valmere mesure 17,5 km.", "La digue mesure 17,5\u00a0km.", True),
    ("fr", "Le billet coûte 2 400,50 euros.", "Le billet coûte 400 euros.", False),
    ("es", "La cooperativa de Valmere emplea a 17.500 personas.", "La cooperativa emplea a 17,5 personas.", False),
    ("es", "La cooperativa de Valmere emplea a 17.500 personas.", "La cooperativa emplea a 17500 personas.", True),
    ("es", "El dique de Valmere mide 17,5 km.", "El dique mide 17 km.", False),
    ("pt", "O dique de Valmere mede 17,5 km.", "O dique mede 17 km.", False),
    ("pt", "A cooperativa de Valmere emprega 17.500 pessoas.", "A cooperativa emprega 17,5 pessoas.", False),
    # A date written in figures is a date: "17.5." is the 17th of May, not 17.5; its year is a number still.
    ("de", "Am 17.5. kamen 300 Tonnen Fisch in Valmere an.", "Es kamen 17,5 Tonnen Fisch an.", False),
    ("de", "Am 17.5. kamen 300 Tonnen Fisch in Valmere an.", "Am 17. Mai kamen 300 Tonnen Fisch an.", True),
    ("de", "Das Hafenfest von Valmere endete am 27.11.2026.", "Das Hafenfest endete 2026.", True),
    # An English source is read the English way whatever the bullet's language.
    ("de", "The Valmere dam is 17.5 kilometres long.", "Der Damm ist 17,5 Kilometer lang.", True),
    ("de", "The Valmere dam is 17 kilometres long.", "Der Damm ist 17,5 Kilometer lang.", False),
    ("de", "Valmere's co-op employs 1,200 people.", "Die Genossenschaft beschäftigt 1.200 Menschen.", True),
])
def test_a_figure_is_what_its_own_language_reads_it_as(language, source, bullet, faithful):
    source_language = "en" if source.startswith(("The ", "Valmere's")) else language
    assert kept(language, source, bullet, source_language) is faithful


# -- an invented surname made of ordinary words ------------------------------------------------------------

HARBOUR_EN = ("Valmere's harbour master, Edda Morn, said on Monday that the port authority would spend 40 million "
              "euros on a new sea wall. The city's housing construction programme, approved by the council, will build "
              "1,200 flats. Economist Jonas Weller warned that the treasurer had underestimated costs.")
HARBOUR_DE = ("Valmeres Hafenmeisterin Edda Morn sagte am Montag, die Hafenbehörde werde 40 Millionen Euro für eine "
              "neue Ufermauer ausgeben. Das vom Stadtrat gebilligte Programm für den Wohnungsbau soll 1.200 Wohnungen "
              "schaffen. Laut Unternehmensangaben sanken die Fährbuchungen um 8 Prozent. Der Ökonom Jonas Weller "
              "warnte, der Kämmerer habe die Kosten unterschätzt.")


@pytest.mark.parametrize("source_language", ["en", "de"])
@pytest.mark.parametrize("bullet, faithful", [
    # "Holler|bach", "Stein|müller", "Moos|brugger": a surname is a compound of ordinary words, so the name
    # rule took it for one; where a name stands it is a name, which the cited source must write.
    ("Stadtbaurat Hollerbach sagte, die Ufermauer koste 40 Millionen Euro.", False),
    ("Die Ufermauer kostet 40 Millionen Euro, sagte Hollerbach.", False),
    ("Hollerbach sagte, die Ufermauer koste 40 Millionen Euro.", False),
    ("Ökonomin Anna Steinmüller warnte, der Kämmerer habe die Kosten unterschätzt.", False),
    ("Kämmerer Moosbrugger habe die Kosten unterschätzt, warnte Weller.", False),
    ("Hafenmeisterin Brunnhuber sagte, die Hafenbehörde gebe 40 Millionen Euro aus.", False),
    # Compounds that paraphrase the source stay ordinary words, titles before a name included.
    ("Hafenmeisterin Edda Morn sagte, die Hafenbehörde gebe 40 Millionen Euro für eine Ufermauer aus.", True),
    ("Die Hafenmeisterin sagte, die Ufermauer koste 40 Millionen Euro.", True),
    ("Das Wohnungsbauprogramm soll 1.200 Wohnungen schaffen.", True),
    ("Der Stadtrat billigte ein Wohnungsbauprogramm mit 1.200 Wohnungen.", True),
    ("Ökonom Jonas Weller warnte, der Kämmerer habe die Kosten unterschätzt.", True),
    ("Die Ufermauer kostet 40 Millionen Euro, sagte Hafenmeisterin Morn.", True),
    ("Hafenchefin Morn kündigte 40 Millionen Euro für die Ufermauer an.", True),
])
def test_an_invented_surname_made_of_ordinary_words_is_a_name_where_a_name_stands(source_language, bullet,
                                                                                      faithful):
    source = HARBOUR_EN if source_language == "en" else HARBOUR_DE
    assert kept("de", source, bullet, source_language) is faithful


def test_a_word_ordinary_only_as_a_compound_is_told_from_one_in_the_lists():
    from newsletter.summarize.lexicon import by_parts

    assert by_parts("Hollerbach", "de") and by_parts("Wohnungsbauprogramm", "de")
    assert not by_parts("Bahnstrecke", "de")  # in the list itself
    assert not by_parts("Kreditgebern", "de")  # an ending away from a word in it
    assert not by_parts("Hollerbach", "fr")  # French glues no words together


SEA_ICE_EN = ("Sea ice in the Varland Sea shrank to 3.2 million square kilometres this week, the lowest extent since "
              "records began in 1979, the Norrback Polar Observatory said.")


@pytest.mark.parametrize("bullet, faithful", [
    # A compound whose last part is a short common word ("Meer|eis", "Pack|eis") is German for the
    # source's "sea ice", not a name no source writes: a German issue over English climate feeds lost its
    # headline and its big picture to it.
    ("Das Meereis in der Varland-See ist auf 3,2 Millionen Quadratkilometer geschrumpft.", True),
    ("Das Packeis der Varland-See ist auf 3,2 Millionen Quadratkilometer geschrumpft.", True),
    # Names still are names: three letters at the end are no licence.
    ("Das Meereis ist geschrumpft, sagte Forscherin Pettersen.", False),
    ("Das Meereis ist auf 3,2 Millionen Quadratkilometer geschrumpft, sagte Stadtbaurat Hollerbach.", False),
])
def test_a_compound_ending_in_a_short_common_word_is_a_word(bullet, faithful):
    assert kept("de", SEA_ICE_EN, bullet, "en") is faithful


# -- ordinals ----------------------------------------------------------------------------------------------

COUNCIL = {
    "en": "The Valmere council approved twelve new ferries on 27 November, its third vote on the harbour this year.",
    "de": "Der Stadtrat von Valmere billigte am 27. November zwölf neue Fähren, seine dritte Abstimmung über den "
          "Hafen in diesem Jahr.",
}


@pytest.mark.parametrize("source_language", ["en", "de"])
@pytest.mark.parametrize("language, bullet, faithful", [
    # "3." was the number 3, which "third" is not; "vierte" was no claim at all.
    ("de", "Es war die 3. Abstimmung des Stadtrats über den Hafen in diesem Jahr.", True),
    ("de", "Es war die dritte Abstimmung des Stadtrats über den Hafen in diesem Jahr.", True),
    ("de", "Es war die vierte Abstimmung des Stadtrats über den Hafen in diesem Jahr.", False),
    ("de", "Es war die 4. Abstimmung des Stadtrats über den Hafen in diesem Jahr.", False),
    ("de", "Der Stadtrat billigte am 27. November zwölf neue Fähren.", True),  # a date is no ordinal
    ("fr", "C'était son troisième vote sur le port cette année.", True),
    ("fr", "C'était son 3e vote sur le port cette année.", True),
    ("fr", "C'était son quatrième vote sur le port cette année.", False),
    ("fr", "C'était son 4e vote sur le port cette année.", False),
    ("es", "Fue su tercera votación sobre el puerto este año.", True),
    ("es", "Fue su 3.ª votación sobre el puerto este año.", True),
    ("es", "Fue su cuarta votación sobre el puerto este año.", False),
    ("es", "Fue su 4.ª votación sobre el puerto este año.", False),
])
def test_an_ordinal_is_a_claim_its_source_must_give(source_language, language, bullet, faithful):
    assert kept(language, COUNCIL[source_language], bullet, source_language) is faithful


def test_first_and_fractions_are_no_ordinal_claims():
    from newsletter.summarize.languages import reading
    from newsletter.summarize.ordinals import ordinals

    text = "Zum ersten Mal stimmte ein Fünftel zu; un cuarto, tres cuartos, el tercer trimestre"
    assert [n for n, _ in ordinals(text[:42], reading("de"))] == []
    assert [n for n, _ in ordinals(text[43:], reading("es"))] == [3]  # "tercer" is third, not 3


# -- names with particles, and names in the genitive -------------------------------------------------------

GUESTS = {
    "en": "Ursula von der Lind and Ana de la Cruz opened the Valmere harbour festival. Olaf Brandt of the city "
          "administration gave a speech.",
    "de": "Ursula von der Lind und Ana de la Cruz eröffneten das Hafenfest von Valmere. Olaf Brandt von der "
          "Stadtverwaltung hielt eine Rede.",
}


@pytest.mark.parametrize("source_language", ["en", "de"])
@pytest.mark.parametrize("language, bullet, faithful", [
    # "Ana" and "Ursula" are the sources' names, and "Vega", "Heyden" ordinary words: the name passed.
    ("de", "Ursula von der Lind und Ana de la Cruz eröffneten das Hafenfest.", True),
    ("de", "Ursula von der Heyden eröffnete das Hafenfest.", False),
    ("de", "Ana de la Vega eröffnete das Hafenfest.", False),
    ("fr", "Ana de la Rosa a ouvert la fête du port.", False),
    ("fr", "Ana de la Cruz a ouvert la fête du port.", True),
    ("es", "Ana de la Vega inauguró la fiesta del puerto.", False),
    ("es", "Ana de la Cruz inauguró la fiesta del puerto.", True),
    # Someone from somewhere is no name with particles: the source writes none for him.
    ("de", "Olaf Brandt von der Stadtverwaltung hielt eine Rede.", True),
])
def test_a_name_with_particles_keeps_its_last_word(source_language, language, bullet, faithful):
    assert kept(language, GUESTS[source_language], bullet, source_language) is faithful


@pytest.mark.parametrize("source_language", ["en", "de"])
@pytest.mark.parametrize("language, bullet, faithful", [
    # A first name the source writes beside one surname, given another: "Schmitt" is a word of every language.
    ("de", "Olaf Schmitt von der Stadtverwaltung hielt eine Rede.", False),
    ("fr", "Olaf Schmitt, de l'administration municipale, a fait un discours.", False),
    # A name's genitive, and "y" between two names, are the names the source gives.
    ("de", "Olaf Brandts Rede eröffnete das Hafenfest.", True),
    ("es", "Ursula von der Lind y Ana de la Cruz inauguraron la fiesta del puerto.", True),
    # Only a name takes its genitive before its noun: there a word made of ordinary parts is a name.
    ("de", "Hollerbachs Vorgängerin Ana de la Cruz eröffnete das Hafenfest.", False),
    # The source writes "Brandt" and "Schmitt", each with its own first name: one person's first name and
    # another's surname are no one in it.
    ("de", "Olaf Lind hielt eine Rede beim Hafenfest.", False),
])
def test_a_first_name_keeps_its_surname_and_a_genitive_is_the_names_own(source_language, language, bullet, faithful):
    assert kept(language, GUESTS[source_language], bullet, source_language) is faithful


@pytest.mark.parametrize("source, bullet, faithful", [
    # The pair after a word of speech: read without overlap, (sprach, Petra) hid (Petra, Schmitt).
    ("Beim Hafenfest von Valmere sprach Petra Schmitt von der Stadtverwaltung.", "Petra Müller sprach beim Hafenfest.",
     False),
    ("Beim Hafenfest von Valmere sprach Petra Schmitt von der Stadtverwaltung.", "Petra Schmitt sprach beim Hafenfest.",
     True),
    ("Beim Hafenfest sprachen Olaf Brandt und Petra Schmitt.", "Olaf Müller sprach beim Hafenfest.", False),
    ("Beim Hafenfest sprachen Olaf Brandt und Petra Schmitt.", "Olaf Schmitt sprach beim Hafenfest.", False),
    ("Beim Hafenfest sprachen Olaf Brandt und Petra Schmitt.", "Olaf Brandt und Petra Schmitt sprachen.", True),
])
def test_each_first_name_keeps_the_surname_the_source_gives_it_wherever_it_stands(source, bullet, faithful):
    assert kept("de", source, bullet, "de") is faithful


@pytest.mark.timeout(20)
def test_a_long_word_in_a_source_is_read_for_name_pairs_in_linear_time():
    """Hostile feed text: one word of 200,000 letters took minutes (every start inside it was tried)."""
    from newsletter.summarize.facts import SourceFacts

    facts = SourceFacts.of("Petra Schmitt sprach. " + "A" + "b" * 200_000 + " Ende.", None)
    assert ("petra", "schmitt") in facts.name_pairs


# -- multiples: "verdreifacht" where the source doubled --------------------------------------------------

FERRIES = {
    "en": "Valmere's ferry company said passenger numbers doubled last year. Ticket prices were halved in May.",
    "de": "Die Fährgesellschaft von Valmere teilte mit, die Zahl der Fahrgäste habe sich im vergangenen Jahr "
          "verdoppelt. Die Ticketpreise wurden im Mai halbiert.",
    "fr": "La compagnie de ferries de Valmere a indiqué que le nombre de passagers a doublé l'an dernier. Les prix "
          "des billets ont été divisés par deux en mai.",
    "es": "La naviera de Valmere dijo que el número de pasajeros se duplicó el año pasado. Los precios de los "
          "billetes se redujeron a la mitad en mayo.",
}
# The same, said in words a bullet's claim does not use, or in a move whose two numbers double.
FERRIES_SAID_OTHERWISE = {
    "en": "Valmere's ferry company carried 40,000 passengers last year, up from 20,000. Tickets cost half as much "
          "in May.",
    "de": "Die Fährgesellschaft von Valmere beförderte im vergangenen Jahr doppelt so viele Fahrgäste wie zuvor. "
          "Die Tickets kosteten im Mai nur noch die Hälfte.",
    "fr": "La compagnie de ferries de Valmere a transporté deux fois plus de passagers l'an dernier. Les billets "
          "coûtaient moitié moins en mai.",
    "es": "La naviera de Valmere transportó el doble de pasajeros el año pasado. Los billetes costaban la mitad "
          "en mayo.",
}


@pytest.mark.parametrize("source_language", ["en", "own"])
@pytest.mark.parametrize("language, bullet, faithful", [
    # Only English words of multiples were read: each of these passed whatever its source said.
    ("de", "Die Zahl der Fahrgäste hat sich im vergangenen Jahr verdoppelt.", True),
    ("de", "Die Zahl der Fahrgäste verdreifachte sich im vergangenen Jahr.", False),
    ("de", "Die Zahl der Fahrgäste stieg um das Dreifache.", False),
    ("de", "Die Ticketpreise wurden im Mai halbiert.", True),
    ("de", "Im Mai kam die Halbierung der Ticketpreise.", True),
    ("de", "Die Ticketpreise wurden im Mai verzehnfacht.", False),
    ("fr", "Le nombre de passagers a doublé l'an dernier.", True),
    ("fr", "Le nombre de passagers a triplé l'an dernier.", False),
    ("fr", "Le nombre de passagers a été multiplié par trois.", False),
    ("fr", "Les prix des billets ont été réduits de moitié en mai.", True),
    ("fr", "Les prix des billets ont été divisés par deux en mai.", True),  # "deux" was a number no source gave
    ("fr", "Les prix des billets ont été divisés par trois en mai.", False),
    ("es", "El número de pasajeros se duplicó el año pasado.", True),
    ("es", "El número de pasajeros se triplicó el año pasado.", False),
    ("es", "El número de pasajeros se multiplicó por tres.", False),
    ("es", "Los precios de los billetes se redujeron a la mitad en mayo.", True),
    ("es", "Los precios de los billetes se cuadruplicaron en mayo.", False),
])
def test_a_multiple_in_the_bullets_language_is_held_to_the_sources(source_language, language, bullet, faithful):
    source = FERRIES[language if source_language == "own" else "en"]
    assert kept(language, source, bullet, language if source_language == "own" else "en") is faithful


@pytest.mark.parametrize("source_language", ["de", "fr", "es"])
@pytest.mark.parametrize("bullet, faithful", [
    # A source in another language was not judged: "tripled" passed over "verdoppelt", "a doublé", "se duplicó".
    ("Passenger numbers doubled last year.", True),
    ("Passenger numbers tripled last year.", False),
    ("Ticket prices were halved in May.", True),
    ("Ticket prices fell fourfold in May.", False),
])
def test_an_english_multiple_is_held_to_a_source_in_another_language(source_language, bullet, faithful):
    assert kept("en", FERRIES[source_language], bullet, source_language) is faithful


@pytest.mark.parametrize("language, bullet, faithful", [
    ("en", "Passenger numbers doubled last year.", True),
    ("en", "Passenger numbers tripled last year.", False),
    ("en", "Ticket prices were halved in May.", True),
    ("de", "Die Zahl der Fahrgäste hat sich verdoppelt.", True),
    ("de", "Die Zahl der Fahrgäste hat sich verdreifacht.", False),
    ("fr", "Le nombre de passagers a doublé.", True),
    ("fr", "Le nombre de passagers a quadruplé.", False),
    ("es", "El número de pasajeros se duplicó.", True),
    ("es", "El número de pasajeros se triplicó.", False),
])
@pytest.mark.parametrize("source_language", ["en", "de", "fr", "es"])
def test_a_multiple_said_in_other_words_or_made_by_a_move_holds_the_bullets(source_language, language, bullet,
                                                                            faithful):
    """"Doppelt so viele", "deux fois plus", "el doble", "up from 20,000" to 40,000: no verb of multiples, and
    still a doubling, which a bullet may sum up as one."""
    assert kept(language, FERRIES_SAID_OTHERWISE[source_language], bullet, source_language) is faithful


REGATTA = ("Valmere's rowing club won the harbour regatta on Sunday, its captain's third win in a row. Half of the "
           "crews came from abroad. The city, split by three canals, holds the race twice a year.")


@pytest.mark.parametrize("language, bullet", [
    # Words of multiples that state none: a title, a second passport, a share, a rise by half, a
    # schedule, a hat-trick, a copy.
    ("de", "Der Kapitän des Ruderclubs ist dreifacher Regattasieger."),
    ("de", "Der Kapitän hat die doppelte Staatsbürgerschaft."),
    ("de", "Die Hälfte der Mannschaften kam aus dem Ausland."),
    ("de", "Die Zuschüsse für den Ruderclub stiegen um die Hälfte."),  # by 50%, no halving
    ("de", "Die Regatta findet zweimal im Jahr statt."),
    ("fr", "Le capitaine du club a signé un triplé."),
    ("fr", "Le capitaine a réussi son premier triplé à la régate."),
    ("fr", "Le capitaine a la double nationalité."),
    ("fr", "La moitié des équipages venait de l'étranger."),
    ("fr", "La ville est divisée par trois canaux."),  # split by canals, not cut to a third
    ("fr", "La subvention du club a augmenté de moitié."),
    ("es", "El capitán tiene doble nacionalidad."),
    ("es", "La mitad de las tripulaciones vino del extranjero."),
    ("es", "El capitán ganó su triple corona."),
    ("es", "El capitán pidió un duplicado de su licencia."),
])
def test_a_word_of_multiples_that_states_none_is_no_claim(language, bullet):
    assert kept(language, REGATTA, bullet, "en")


def test_a_source_in_a_language_with_no_words_of_multiples_is_not_judged_on_one():
    """Italian's file (none is shipped) gives no words of multiples: its "raddoppiati" cannot be read, so a
    bullet's "tripled" is neither held nor refused."""
    source = "I passeggeri dei traghetti di Valmere sono raddoppiati l'anno scorso."
    assert kept("en", source, "Passenger numbers tripled last year.", "it")
