"""[newsletter] language: the reader's language, whatever the sources' languages.

The words around the briefings come from one file per language (newsletter/locales); the model is
asked to write in the language; the grounding gate holds a German "3,5 Prozent" to an English
"3.5%". The English email is pinned byte for byte by test_email_golden.py.
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from babel import Locale as CLDR
from conftest import config_data, run_cli, write_config
from email_demo import DEMO_MORNING, REPO, build_demo_email
from feeds_for_tests import item, rss
from openai_server import OpenAIServer, Reply

import newsletter.locales as locales
from newsletter.config import load_config
from newsletter.locales import available, locale
from newsletter.models import BIG_PICTURE, SECTIONS, Article, Briefing, Bullet, Story
from newsletter.store import Store
from newsletter.summarize.grounding import Evidence, ground

# Written here, not read from Babel, so that a date in the wrong language cannot pass as right.
NAMES = {
    "de": ("Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
           "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
           "{wd}, {d}. {m} {y}"),
    "fr": ("lundi mardi mercredi jeudi vendredi samedi dimanche",
           "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
           "{wd} {d} {m} {y}"),
    "es": ("lunes martes miércoles jueves viernes sábado domingo",
           "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
           "{wd}, {d} de {m} de {y}"),
}
TITLES = {"de": ("Das große Bild", "In dieser Ausgabe", "Quellen"),
          "fr": ("L’essentiel", "Dans ce numéro", "Sources"),
          "es": ("El panorama", "En este número", "Fuentes")}


def written_date(code: str, day: date) -> str:
    days, months, form = NAMES[code]
    return form.format(wd=days.split()[day.weekday()], d=day.day, m=months.split()[day.month - 1], y=day.year)


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


# -- the files ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", available())
def test_every_shipped_language_has_every_word_english_has(code):
    en, loc = locale("en"), locale(code)
    assert set(loc.words) == set(en.words)
    for key, text in loc.words.items():
        assert text.strip() and placeholders(text) == placeholders(en.words[key]), key
    assert set(loc.sections) == set(en.sections) == {k.key for k in SECTIONS}
    assert set(loc.dates) == set(en.dates)
    rules = CLDR.parse(code).plural_form.tags | {"other"}
    for key, forms in en.counts.items():
        assert "other" in loc.counts[key] and set(loc.counts[key]) <= rules, (key, loc.counts[key])
        assert all(placeholders(f) == {"n"} for f in loc.counts[key].values())
    # The direction the file states is the one CLDR knows for the language.
    assert loc.direction == ("rtl" if CLDR.parse(code).character_order == "right-to-left" else "ltr")
    if code != "en":  # how the gate reads its numbers: see summarize/languages.py
        assert {"percent", "magnitudes", "currencies", "units"} <= set(loc.grounding)


def test_plurals_follow_each_languages_own_rules():
    assert [locale("en").count("sources", n) for n in (1, 2)] == ["1 source", "2 sources"]
    assert [locale("de").count("sources", n) for n in (1, 2)] == ["1 Quelle", "2 Quellen"]
    assert [locale("fr").count("sources", n) for n in (0, 1, 2)] == ["0 source", "1 source", "2 sources"]


def test_a_regional_code_uses_its_languages_file_with_the_regions_tag_dates_and_spelling(tmp_path):
    """de-CH wrote "Das große Bild" under <html lang="de">: Swiss German has no ß, and the page said less
    than the config."""
    swiss = build_demo_email(tmp_path / "ch", "de-CH")
    assert '<html lang="de-CH"' in swiss.html and "Das grosse Bild" in swiss.html and "ß" not in swiss.text.split(
        "--")[-1] + locale("de-CH").sections["big_picture"]
    austrian = locale("de-AT")
    assert austrian.code == "de-AT" and austrian.sections["big_picture"] == "Das große Bild"
    assert austrian.date(date(2027, 1, 8), "long") == "Freitag, 8. Jänner 2027"  # CLDR's Austrian month
    assert locale("en-GB").date(date(2026, 11, 28), "long") == "Saturday, 28 November 2026"


def own_language(config_folder, name: str, edit) -> Path:
    """A user's own language file: en.toml copied to ``name`` in the config's folder ``my-locales`` and
    edited, as en.toml's first lines tell. Returns the file."""
    folder = config_folder / "my-locales"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(edit((locales.FOLDER / "en.toml").read_text(encoding="utf-8")), encoding="utf-8")
    return path


def italian(text: str) -> str:
    for english, word in (("The big picture", "Il quadro generale"), ("In this issue", "In questo numero"),
                          ('name = "English"', 'name = "Italian"')):
        text = text.replace(english, word)
    return text


def test_a_language_of_your_own_is_one_file_in_a_folder_beside_your_config(tmp_path):
    """The one step: copy en.toml to CODE.toml in the folder [newsletter] locales names, and translate it.
    Nothing in the installed package is touched, and nothing else names the languages."""
    own_language(tmp_path / "config", "it.toml", italian)
    email = build_demo_email(tmp_path, "it", locales="my-locales")
    assert '<html lang="it"' in email.html and "Il quadro generale" in email.html
    assert "IN QUESTO NUMERO" in email.text
    assert "mercoledì, 25 novembre 2026" in email.html  # the words from CLDR, the pattern from the file
    assert not (locales.FOLDER / "it.toml").exists()


def test_a_language_file_written_before_sources_had_a_day_still_works_with_cldrs_own_form(tmp_path):
    """dates.day came later than the first language files: one without it still checks, and its sources
    are dated in CLDR's own short form for the language."""
    import re as regex

    own_language(tmp_path / "config", "it.toml", lambda t: regex.sub(r"(?m)^day = .*\n", "", italian(t)))
    email = build_demo_email(tmp_path, "it", locales="my-locales")
    assert regex.search(r"— Eastbay Signal, 2\d nov\n", email.text), email.text


def test_your_own_file_for_a_shipped_language_rewords_it(tmp_path):
    own_language(tmp_path / "config", "en.toml", lambda t: t.replace("The big picture", "The gist"))
    email = build_demo_email(tmp_path, "en", locales="my-locales")
    assert "The gist" in email.html and "The big picture" not in email.html


def test_a_locale_file_named_with_a_region_formats_dates_and_counts(tmp_path):
    own_language(tmp_path, "pt-BR.toml", lambda t: t.replace('name = "English"', 'name = "Brazilian Portuguese"'))
    path = write_config(tmp_path, config_data(newsletter={"language": "pt-BR", "locales": "my-locales"}))
    assert load_config(path).newsletter.language == "pt-BR"
    loc = locale("pt-BR")
    assert loc.code == "pt-BR" and "novembro" in loc.date(date(2026, 11, 25), "long")
    assert loc.count("sources", 1) == "1 source"  # the file's words, CLDR's plural rule for Portuguese


@pytest.mark.parametrize("name, edit, named", [
    ("it.toml", lambda t: t.replace('unsubscribe = "Unsubscribe"\n', ""), "words.unsubscribe"),
    ("it.toml", lambda t: re.sub(r'(?m)^long = .*$', 'long = "EEEE d MMMMMMMMMMMM y"', t), "dates.long"),
    ("it.toml", lambda t: t.replace("{title}", "{titolo}", 1), "words."),
    ("qq.toml", lambda t: t, "qq"),  # a code CLDR does not know
    # Your own English that lacks a word the templates use: held to the shipped en.toml, not to itself.
    ("en.toml", lambda t: t.replace('unsubscribe = "Unsubscribe"\n', ""), "words.unsubscribe"),
    # The gate's table: a word list written as one string, a key it does not read, a count as a word.
    ("it.toml", lambda t: t + '\n[grounding]\nup = "sale"\n', "grounding.up"),
    ("it.toml", lambda t: t + '\n[grounding]\nups = ["sale"]\n', "grounding.ups"),
    ("it.toml", lambda t: t + '\n[grounding]\nchange_words_after = "sei"\n', "grounding.change_words_after"),
    ("it.toml", lambda t: t + '\n[grounding]\nup = ["sale"]\n', "grounding.down"),  # one list without the other
    ("it.toml", lambda t: t + '\n[grounding]\nmove_to = ["a"]\n', "grounding.move_from"),
    # A multiple's factor written as a word, or as none at all; a source's words without a bullet's.
    ("it.toml", lambda t: t + '\n[grounding]\nmultiples = { "raddoppi*" = "due" }\n', "grounding.multiples"),
    ("it.toml", lambda t: t + '\n[grounding]\nmultiples = { "dimezz*" = 0 }\n', "grounding.multiples"),
    ("it.toml", lambda t: t + '\n[grounding]\nsource_multiples = { "doppio" = 2 }\n', "grounding.multiples"),
])
def test_check_names_the_locale_file_and_key_that_would_fail_at_send(tmp_path, name, edit, named):
    own = own_language(tmp_path, name, edit)
    (tmp_path / "feed.xml").write_text("<rss/>")
    path = write_config(tmp_path, config_data(newsletter={"language": name.removesuffix(".toml"),
                                                          "locales": "my-locales"}))
    result = run_cli("check", "--config", str(path), cwd=tmp_path)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert str(path) in lines[0] and "[newsletter] language" in lines[0] and "Fix:" in lines[0]
    assert str(own) in lines[0] and named in lines[0], lines[0]


def test_a_locales_folder_that_is_not_there_is_named_with_its_fix(tmp_path):
    path = write_config(tmp_path, config_data(newsletter={"language": "it", "locales": "my-locales"}))
    result = run_cli("check", "--config", str(path), cwd=tmp_path)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    first = result.stderr.strip().splitlines()[0]
    assert "[newsletter] locales" in first and str(tmp_path / "my-locales") in first and "Fix:" in first


def test_an_unknown_language_says_where_your_own_file_would_go(tmp_path):
    path = write_config(tmp_path, config_data(newsletter={"language": "it"}))
    result = run_cli("check", "--config", str(path), cwd=tmp_path)
    assert result.exit_code == 2
    assert "[newsletter] locales" in result.stderr and str(locales.FOLDER / "en.toml") in result.stderr


def test_newsletters_in_one_process_cannot_give_one_language_two_files(tmp_path):
    """Two configs run together whose folders word Italian differently: the second is refused naming both
    files, rather than one newsletter going out in the other's words."""
    paths = []
    for name, big_picture in (("a", "Il quadro generale"), ("b", "Il quadro")):
        folder = tmp_path / name
        own_language(folder, "it.toml", lambda t, w=big_picture: italian(t).replace("Il quadro generale", w))
        paths.append(write_config(folder, config_data(newsletter={"language": "it", "locales": "my-locales"})))
    assert locale(load_config(paths[0]).newsletter.language).sections["big_picture"] == "Il quadro generale"
    result = run_cli("check", "--config", str(paths[1]), cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    assert str(tmp_path / "a" / "my-locales" / "it.toml") in result.stderr
    assert str(tmp_path / "b" / "my-locales" / "it.toml") in result.stderr


@pytest.mark.parametrize("rewording_first", [True, False])
def test_a_newsletter_run_beside_one_that_rewords_its_language_is_refused(tmp_path, rewording_first):
    """A's own en.toml rewords English for the whole process: B, in English from the package, would have
    gone out in A's words. Refused whichever file is given first, naming the file and the fix."""
    (tmp_path / "feed.xml").write_text("<rss/>")
    own_language(tmp_path / "a", "en.toml", lambda t: t.replace("The big picture", "The gist"))
    a = write_config(tmp_path / "a", config_data(newsletter={"title": "A Brief", "locales": "my-locales"},
                                                 topics=[{"name": "Local", "feeds": ["../feed.xml"]}]))
    b = write_config(tmp_path, config_data(newsletter={"title": "B Brief"}), "b.toml")
    order = [a, b] if rewording_first else [b, a]
    result = run_cli("run", *[arg for path in order for arg in ("-c", str(path))], cwd=tmp_path)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and "Traceback" not in said, said
    assert f"{b}: [newsletter] language" in said and str(tmp_path / "a" / "my-locales" / "en.toml") in said
    assert str(a) in said and "own locales folder" in said


def test_what_was_derived_from_a_languages_words_follows_a_config_that_rewords_it(tmp_path):
    """The model's instructions name the language as its file does, even when they were written for the
    shipped file earlier in the process."""
    from newsletter.summarize.blurbs import blurb_system_prompt
    from newsletter.summarize.llm import system_prompt

    assert "in German" in system_prompt("de") and "in German" in blurb_system_prompt("de")
    own_language(tmp_path, "de.toml", lambda _: (locales.FOLDER / "de.toml").read_text(encoding="utf-8").replace(
        'name = "German"', 'name = "Swiss Standard German"'))
    load_config(write_config(tmp_path, config_data(newsletter={"language": "de", "locales": "my-locales"})))
    assert "in Swiss Standard German" in system_prompt("de") and "in Swiss Standard German" in blurb_system_prompt("de")


# -- the email without a model: the sources' own sentences, in the reader's frame ----------------

@pytest.mark.parametrize("code", ["de", "fr", "es"])
def test_without_a_model_every_word_around_the_sources_sentences_is_in_the_language(tmp_path, code):
    email = build_demo_email(tmp_path, code)
    big_picture, in_this_issue, sources = TITLES[code]
    page = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", email.html)).split())
    text = " ".join(email.text.split())
    assert f'<html lang="{code}" dir="ltr"' in email.html
    for part in (page, text):
        assert big_picture in part and written_date(code, DEMO_MORNING.date()) in part
        for english in ("The big picture", "Why this matters", "Between the lines", "Recent news", "In this issue",
                        "IN THIS ISSUE", "because this address"):
            assert english not in part, english
    assert in_this_issue in page and in_this_issue.upper() in text and sources in page
    assert locale(code).date(DEMO_MORNING.date(), "short") in email.subject
    # The bullets stay the sources' own (English) sentences: nothing is translated offline.
    first = email.issue.briefings[0]
    assert first.bullets[BIG_PICTURE.key][0].text in email.text.replace("\n  ", " ")


def test_german_words_do_not_widen_the_email_past_600px(browser, tmp_path):
    page = browser.new_page(viewport={"width": 1024, "height": 1300})
    page.set_content(build_demo_email(tmp_path, "de").html, wait_until="load")
    assert page.evaluate("document.querySelector('.container').getBoundingClientRect().width") <= 600
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    page.close()
    phone = browser.new_page(viewport={"width": 375, "height": 1100})
    phone.set_content(build_demo_email(tmp_path / "phone", "de").html, wait_until="load")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375, "the German email scrolls sideways"
    phone.close()


# -- the gate across languages ------------------------------------------------------------------

SOURCE = Article(
    id="rate", feed_url="https://ledger.example/feed", outlet="The Harbor Ledger", title="Bank of Valmere raises rate",
    link="https://ledger.example/rate", published=DEMO_MORNING.replace(day=27),  # a Friday
    text="The Bank of Valmere raised its rate to 3.5% on Thursday, Governor Maria Okonkwo said. "
         "It will sell $4.2 billion of bonds by 30 November and expects 1,500 job cuts at lenders. "
         "Okonkwo called inflation \"too high for comfort\".")

GATE = [  # (language, bullet, kept)
    ("de", "Die Zentralbank hob den Leitzins auf 3,5 Prozent an.", True),
    ("de", "Die Zentralbank hob den Leitzins auf 4,5 Prozent an.", False),
    ("de", "Bis zum 27. November verkauft sie Anleihen für 4,2 Milliarden Dollar.", False),  # a date no source has
    ("de", "Bis zum 30. November verkauft sie Anleihen für 4,2 Milliarden Dollar.", True),
    ("de", "Sie verkauft Anleihen für 4,2 Billionen Dollar.", False),  # a German Billion is a trillion
    ("de", "Bei Kreditgebern fallen 1.500 Stellen weg.", True),
    ("de", "Die Bank handelte am Donnerstag.", True),
    ("de", "Die Bank handelte am Freitag.", False),
    ("de", "Gouverneurin Maria Okonkwo sagte, die Inflation sei zu hoch.", True),
    ("de", "Okonkwo nannte die Inflation „zu hoch für den Komfort“.", False),  # a translated quote
    ("de", "Okonkwo nannte die Inflation „too high for comfort“.", True),  # the source's own words
    ("fr", "La banque centrale a relevé son taux à 3,5 % jeudi.", True),
    ("fr", "La banque centrale a relevé son taux à 3,5 % vendredi.", False),
    ("fr", "Elle vendra 4,2 milliards de dollars d'obligations d'ici le 30 novembre.", True),
    ("fr", "Elle vendra 4,2 milliards d'euros d'obligations.", False),
    ("fr", "Quelque 1 500 emplois seront supprimés.", True),
    ("es", "El banco central subió su tipo al 3,5 por ciento.", True),
    ("es", "Venderá 4.200 millones de dólares en bonos antes del 30 de noviembre.", True),
    ("es", "Venderá 4.200 millones de dólares en bonos antes del 27 de noviembre.", False),
    ("es", "Venderá 4,2 billones de dólares en bonos.", False),
    # The change a number went through, read in the bullet's language against the English source's.
    ("de", "Die Zentralbank senkte den Leitzins auf 3,5 Prozent.", False),  # the source raised it
    ("de", "Der Leitzins steigt auf 3,5 Prozent.", True),
    ("de", "Bei Kreditgebern fallen 1.500 Stellen weg.", True),  # "job cuts": down on both sides
    ("fr", "La banque centrale a abaissé son taux à 3,5 %.", False),
    ("fr", "La banque centrale a relevé son taux à 3,5 %.", True),
    ("es", "El banco central bajó su tipo al 3,5 %.", False),
    ("es", "El banco central no bajó su tipo al 3,5 %.", True),  # negated: no direction read
    ("de", "Die Notenbank will den Leitzins auf 3,5 Prozent im Jahr senken.", False),  # the verb last
    ("de", "Die Notenbank will den Leitzins auf 3,5 Prozent im Jahr anheben.", True),
]


def _grounded(sources: list[Article], language: str, bullet: str, cites: list[int] | None = None) -> Briefing:
    """A briefing of one big-picture bullet (citing ``cites``, else [1]) in ``language``, through the gate."""
    story = Story(list(sources), sources[0].title)
    briefing = Briefing(story, story.headline, story.headline, {BIG_PICTURE.key: [Bullet(bullet, cites or [1])]})
    return ground(briefing, Evidence.of(story, language))


@pytest.mark.parametrize("language, bullet, kept", GATE)
def test_the_gate_reads_numbers_dates_and_days_the_way_the_bullets_language_writes_them(language, bullet, kept):
    out = _grounded([SOURCE], language, bullet)
    assert bool(out.bullets[BIG_PICTURE.key]) is kept, out.grounding.dropped


@pytest.mark.parametrize("bullet, kept", [("I passeggeri sono raddoppiati.", True),
                                          ("I passeggeri sono triplicati.", False)])
def test_words_of_multiples_in_a_language_of_your_own_are_its_file_alone(tmp_path, bullet, kept):
    """An Italian file that gives its words of multiples has an Italian "triplicati" held to an English source's
    "doubled"; the same file without them leaves it unread, as before."""
    source = Article(id="ferry", feed_url="https://ledger.example/feed", outlet="The Harbor Ledger",
                     title="Valmere ferries", link="https://ledger.example/ferry", published=DEMO_MORNING,
                     text="Passengers on Valmere's ferries doubled last year.")
    own_language(tmp_path, "it.toml", lambda t: italian(t) + '\n[grounding]\nmultiples = { "raddoppi*" = 2, '
                                                             '"triplica*" = 3 }\n')
    load_config(write_config(tmp_path, config_data(newsletter={"language": "it", "locales": "my-locales"})))
    assert bool(_grounded([source], "it", bullet).bullets[BIG_PICTURE.key]) is kept
    own_language(tmp_path, "it.toml", italian)
    locales.changed()  # what a reload of the config would read
    assert _grounded([source], "it", bullet).bullets[BIG_PICTURE.key]


def test_words_of_reasons_in_a_language_of_your_own_are_read_from_its_file_as_it_reads_now(tmp_path):
    """The gate read a language's words of reasons once per process: an Italian file given them after its
    first story (a config loaded since, a reload) had its invented reasons pass as before."""
    source = Article(id="tram", feed_url="https://corriere.example/feed", outlet="Corriere di Valmere",
                     title="Valmere prolunga il tram", link="https://corriere.example/tram", published=DEMO_MORNING,
                     language="it", text="Il consiglio comunale di Valmere ha deciso di prolungare il tram fino "
                                         "all'ospedale. I lavori cominceranno in primavera.")
    bullet = "Il consiglio ha prolungato il tram perché i commercianti minacciavano proteste continue."
    own_language(tmp_path, "it.toml", italian)
    load_config(write_config(tmp_path, config_data(newsletter={"language": "it", "locales": "my-locales"})))
    assert _grounded([source], "it", bullet).bullets[BIG_PICTURE.key]  # no words of reasons: none is read
    own_language(tmp_path, "it.toml", lambda t: italian(t) + '\n[grounding]\ncause = ["perché"]\n')
    locales.changed()  # what a reload of the config would read
    out = _grounded([source], "it", bullet)
    assert not out.bullets[BIG_PICTURE.key], "the file's words of reasons were not read"
    assert [d.reason for d in out.grounding.dropped] == ["reason not in the cited source"]


def test_a_german_noun_is_no_name_but_a_name_from_the_sources_is_checked():
    story = Story([SOURCE], SOURCE.title)
    ev = Evidence.of(story, "de")
    names = [c.text for c in ev.claims("Die Zentralbank unter Maria Okonkwo erhöhte den Leitzins.") if c.kind == "name"]
    assert names == ["Maria Okonkwo"]
    swapped = ev.claims("Die Zentralbank unter Maria Valmere erhöhte den Leitzins.")
    assert ev.unsupported(swapped, [1])  # two of the sources' names, in an order no source has


REACTIONS = Article(
    id="reactions", feed_url="https://ledger.example/feed", outlet="Valmere Evening Times",
    title="Capitals welcome Valmere rate rise", link="https://ledger.example/reactions", published=SOURCE.published,
    text="The White House and the European Central Bank welcomed the decision, officials in London and Brussels "
         "said. A union representative criticised the city's flood protection dam on Thursday.")
GERMAN_SOURCE = Article(
    id="de-1", feed_url="https://abendblatt.example/feed", outlet="Valmere Abendblatt",
    title="Notenbank hebt den Leitzins", link="https://abendblatt.example/1", published=SOURCE.published,
    language="de", text="Die Notenbank von Valmere hob ihren Leitzins am Donnerstag auf 3,5 Prozent. "
                        "Gouverneurin Maria Okonkwo nannte die Inflation zu hoch.")

INVENTED = [  # (language, bullet, cites, kept): names no source writes, against the language's own words
    ("de", "Finanzminister Jonas Pettersen begrüßte die Zinsentscheidung.", [1], False),
    ("de", "Laut Notenbankchefin Okonkwo kommen Pettersens Vorschläge zu spät.", [1], False),
    ("de", "Oyelaran nannte die Inflation zu hoch.", [1], False),
    ("de", "Die Valmere-Notenbank hob den Leitzins.", [1], True),  # the sources' name and a German word
    ("de", "Die Pettersen-Kommission begrüßte die Entscheidung.", [2], False),
    ("de", "Das Weiße Haus und die Europäische Zentralbank begrüßten die Entscheidung.", [2], True),
    ("de", "Eine Gewerkschaftsvertreterin kritisierte am Donnerstag den Hochwasserschutzdamm der Stadt.", [2], True),
    ("fr", "Le ministre Dariusz Wnękowski a salué la décision.", [2], False),
    ("fr", "La Maison-Blanche et la Banque centrale européenne ont salué la décision, selon Londres et Bruxelles.",
     [2], True),
    ("es", "La vicepresidenta Itziar Ocaranza celebró la decisión.", [2], False),
    ("es", "La Casa Blanca celebró la decisión, según Londres y Bruselas.", [2], True),
    ("en", "Finance minister Jonas Pettersen welcomed the decision.", [1], False),  # over the German source
    ("en", "Brennholt called inflation too high.", [1], False),  # opening the sentence, and no English word
    ("en", "On Thursday Okonkwo met Zorvath in Valmere.", [1], False),  # many capitals, but no headline
    ("en", "Governor Maria Okonkwo called inflation too high.", [1], True),
    # Common first names and surnames: each an ordinary word on its own, someone side by side.
    ("de", "Finanzminister Klaus Weber begrüßte die Zinsentscheidung.", [1], False),
    ("fr", "Selon Marie Dubois, la décision vient trop tard.", [2], False),
    ("es", "Carlos García celebró la decisión el jueves.", [2], False),
    ("de", "Das Vereinigte Königreich und die Vereinigten Staaten begrüßten die Entscheidung.", [2], True),
    ("fr", "La Maison Blanche a salué la décision jeudi.", [2], True),  # an institution, after its article
    ("de", "Am Donnerstag begrüßte Gouverneurin Maria Okonkwo die Entscheidung.", [1], True),
    # A saint's or a ruler's title makes a place, a club or an office, told in the bullet's language.
    ("es", "La decisión se celebró en la Plaza de San Pedro y en Paris Saint-Germain.", [2], True),
    # In English an institution goes without its article: two common words are as often a translated name.
    ("en", "Valmere's Central Bank raised its key rate to 3.5% on Thursday.", [1], True),
]


RUSSIAN_SOURCE = Article(
    id="ru-1", feed_url="https://vestnik.example/feed", outlet="Вестник Валмера", title="Банк Валмера повысил ставку",
    link="https://vestnik.example/1", published=SOURCE.published, language="ru",
    text="Банк Валмера в четверг повысил ключевую ставку до 3,5%. Глава банка Мария Оконкво назвала инфляцию "
         "слишком высокой. Компания Apple ситуацию не комментирует.")


@pytest.mark.parametrize("bullet", ["Governor Maria Okonkvo called inflation too high.",
                                    "The Bank of Valmera raised its rate to 3.5% on Thursday."])
def test_a_name_transliterated_from_another_script_is_no_invented_name(bullet):
    # Latin is the script of a few of its words ("Apple"), not of the source: "Okonkvo" is how "Оконкво" reads.
    grounded = _grounded([RUSSIAN_SOURCE], "en", bullet)
    assert grounded.bullets[BIG_PICTURE.key], grounded.grounding.dropped


@pytest.mark.parametrize("language, source, bullet", [
    ("de", "Net profit rose 10% to 3 billion euros.", "Unterm Strich verdiente der Konzern 3 Milliarden Euro."),
    ("de", "Temperatures rose to minus 5 degrees.", "Die Temperaturen stiegen auf minus 5 Grad."),  # a sign
    ("de", "Visitors rose 3% to 24,100.", "Die Besucherzahl legte zu: ein Plus von 3 Prozent."),
    ("fr", "Prices rose 3%.", "Les prix ne baissent pas de 3 %, ils augmentent de 3 %."),
    ("fr", "Growth slowed to 1.2%.", "La croissance a ralenti à 1,2 %."),
    ("en", "Der Chipkonzern Nvidia steigerte den Umsatz um 12 Prozent auf 30 Milliarden Dollar.",
     "Chipmaker Nvidia said revenue rose 12% to $30 billion."),  # an English word opening the sentence
    ("es", "Net profit fell 10% to 3 billion euros.", "La empresa gana 3.000 millones de euros, un 10 % menos."),
])
def test_faithful_bullets_across_languages_keep_their_changes_and_words(language, source, bullet):
    grounded = _grounded([_source("de" if language == "en" else "en", source)], language, bullet)
    assert grounded.bullets[BIG_PICTURE.key], grounded.grounding.dropped


LEAKS = "Leaks were 118 million litres a day, down from 141 million a year earlier, and sickness absence eased " \
        "to 5.1% from 5.8%. 62% rated their care as good, down from 70% two years ago."


@pytest.mark.parametrize("language, bullet, kept", [
    # A range's first end shares its second end's magnitude, percent sign or currency, in any language.
    ("en", "Leaks fell from 141 to 118 million litres a day.", True),
    ("en", "Leaks fell from 114 to 118 million litres a day.", False),
    ("en", "Leaks fell from 141 to 118 litres a day.", False),  # the magnitude dropped: no such figures
    ("en", "Sickness absence eased from 5.8 to 5.1%.", True),
    ("en", "Sickness absence eased from 5.9 to 5.1%.", False),
    ("de", "Die Leckverluste gingen von 141 auf 118 Millionen Liter pro Tag zurück.", True),
    ("de", "Die Leckverluste gingen von 144 auf 118 Millionen Liter pro Tag zurück.", False),
    ("fr", "Le taux d'absence a reculé de 5,8 à 5,1 %.", True),
    ("es", "La baja por enfermedad bajó del 5,8 al 5,1 %.", True),
    # A number word after a percent sign is a number of its own, not the word the percent counts.
    ("es", "El 62 % calificó su atención de buena, frente al 70 % de hace dos años.", True),
    ("fr", "62 % ont jugé les soins bons, contre 70 % il y a trois ans.", False),
])
def test_a_range_shares_its_magnitude_and_a_number_word_after_a_percent_is_read(language, bullet, kept):
    grounded = _grounded([_source("en", LEAKS)], language, bullet)
    assert bool(grounded.bullets[BIG_PICTURE.key]) is kept, grounded.grounding.dropped


@pytest.mark.parametrize("language, source, bullet, kept", [
    # A German verb whose particle goes to the clause's end carries the change of the number between them.
    ("de", "Unemployment has risen from 4.1% to 5.3%.", "Die Arbeitslosenquote ging binnen eines Jahres auf 5,3 Prozent zurück.",
     False),
    ("de", "Unemployment has fallen from 4.1% to 5.3%.", "Die Arbeitslosenquote ging binnen eines Jahres auf 5,3 Prozent zurück.",
     True),
    ("de", "Unemployment has risen from 4.1% to 5.3%.", "Die Arbeitslosenquote stieg binnen eines Jahres auf 5,3 Prozent an.", True),
    ("de", "Unemployment has risen from 4.1% to 5.3%.", "Die Arbeitslosenquote ging nicht auf 5,3 Prozent zurück.", True),
    ("de", "Visitors fell 3% to 24,100.", "Die Besucherzahl legte um 3 Prozent auf 24.100 zu.", False),
    # A deficit that widened, told as shrinking; a sum lost is a sum in any language.
    ("de", "The trade deficit widened to 2.6 billion florins.", "Das Handelsdefizit verringerte sich auf 2,6 Milliarden Florin.",
     False),
    ("de", "The trade deficit widened to 2.6 billion florins.", "Das Handelsdefizit weitete sich auf 2,6 Milliarden Florin aus.",
     True),
    ("de", "The company's net loss widened to $300 million.", "Der Konzern verlor 300 Millionen Dollar.", True),
    ("fr", "The company's net loss narrowed to $300 million.", "La perte nette s'est creusée à 300 millions de dollars.", False),
    # "nach" and "ab" with more of the clause after them are prepositions, not a verb's particle.
    ("de", "The death toll from the Valmere earthquake rose to 12 on Tuesday.",
     "Es gab 12 Tote nach dem Erdbeben in Valmere, teilten die Behörden am Dienstag mit.", True),
    ("de", "Valmere Rail will add 40 extra trains from Monday.", "Valmere Rail nimmt 40 zusätzliche Züge ab Montag in Betrieb.",
     True),
    ("de", "Shares of Valmere Bank rose 2.10 euros to 41.30 euros on Monday.",
     "Die Aktie der Valmere Bank verlor am Montag 2,10 Euro auf 41,30 Euro.", False),  # a move, not a sum lost
    ("es", "Valmere Steel raised the number of job cuts to 2,000.", "Valmere Steel amplió a 2.000 el número de despidos.",
     True),
    # Spanish plural verbs and a German verb whose particle ends the clause.
    ("es", "Overnight stays in Varrendale rose 9% year on year.", "Las pernoctaciones en Varrendale retrocedieron un 9% interanual.",
     False),
    ("es", "Overnight stays in Varrendale fell 9% year on year.", "Las pernoctaciones en Varrendale cayeron un 9% interanual.", True),
    ("de", "Wages in Varrendale rose 4.6% on a year earlier.", "Die Löhne in Varrendale büßten gegenüber dem Vorjahr 4,6 Prozent ein.",
     False),
    # "Miles de personas" is thousands of people, no 1,000.
    ("es", "Thousands of people marched in Valmera on Sunday.", "Miles de personas marcharon el domingo en Valmera.", True),
    ("es", "Thousands of people marched in Valmera on Sunday.", "Dos mil personas marcharon el domingo en Valmera.", False),
    # "millions un an" is millions and a year, not 1,000,001 years; "un" before a range's end is an article.
    ("fr", "Velmouth Rail lost $300 million, compared with a loss of $120 million a year earlier.",
     "Velmouth Rail a perdu 300 millions de dollars, contre 120 millions un an plus tôt.", True),
    ("en", "Los precios de la vivienda en Brindle subieron entre un 5 y un 7 % en 2025.",
     "House prices in Brindle rose between 5% and 7% in 2025.", True),
    ("en", "Los precios de la vivienda en Brindle subieron entre un 5 y un 7 % en 2025.",
     "House prices in Brindle rose between 6% and 7% in 2025.", False),
    # A rank is told as a number in German ("auf Platz fünf") and as an ordinal in English ("fifth").
    ("de", "The Velmouth Rovers lost 3-1 on Saturday and dropped to fifth in the table with 41 points.",
     "Die Rovers verloren 3:1 und rutschten mit 41 Punkten auf Platz fünf ab.", True),
    # "tercer" is an ordinal ("the third quarter"), no number 3.
    ("es", "Household spending gained 1.2% in the third quarter.",
     "El gasto de los hogares registró un alza del 1,2% en el tercer trimestre.", True),
    # A German month and an adjective made of a place are the sources' words in another form.
    ("de", "Ferry trips across the Skarre sound dropped 8% after a fare increase in July.",
     "Die Fährfahrten über den Skarre-Sund gingen um 8 Prozent zurück, nach einer Preiserhöhung im Juli.", True),
    ("de", "The share of Pellbrook pupils passing the maths exam jumped to 78% from 71%.",
     "Der Anteil der Pellbrooker Schüler, die die Mathematikprüfung bestanden, stieg von 71 auf 78 Prozent.", True),
    # A currency that lost value against one that gained it.
    ("fr", "The florin gained 7% against its partners.", "Le florin s'est déprécié de 7 % face à ses partenaires.", False),
    ("es", "The florin gained 7% against its partners.", "El florín se depreció un 7 % frente a sus socios.", False),
    ("en", "The florin lost 7% against its partners.", "The florin depreciated 7% against its partners.", True),
])
def test_split_verbs_and_depreciation_carry_their_change(language, source, bullet, kept):
    grounded = _grounded([_source("en", source)], language, bullet)
    assert bool(grounded.bullets[BIG_PICTURE.key]) is kept, grounded.grounding.dropped


# A move between two numbers has an order, however it is worded: the numbers are the source's, but
# "from 52 to 41" turned round is a rise where the source gave a fall, with or without a word of change.
CUT = "Tessmoor's farm income forecast was cut to 41 million pounds from 52 million pounds."
FLOODED = "Alder Reach said 420 homes had been flooded, up from an early count of 260, the council said."
FERRIES = "Harnwick will raise its daily ferry crossings from 9 to 13 in the summer, running them from 6 a.m. to 10 p.m."
HARVEST = "Growers in the Vell valley expect 48,000 tonnes this season, up from 31,000 last year."


@pytest.mark.parametrize("language, source, bullet, kept", [
    ("en", CUT, "Tessmoor's farm income forecast went from 52 million pounds to 41 million pounds.", True),
    ("en", CUT, "Tessmoor's farm income forecast went from 41 million pounds to 52 million pounds.", False),
    ("en", CUT, "Tessmoor's farm income forecast is now 41 million pounds, down from 52 million pounds.", True),
    ("en", CUT, "Tessmoor's farm income forecast is now 52 million pounds, up from 41 million pounds.", False),
    ("de", CUT, "Die Prognose für Tessmoors Agrareinkommen sank von 52 auf 41 Millionen Pfund.", True),
    ("de", CUT, "Die Prognose für Tessmoors Agrareinkommen wurde von 41 auf 52 Millionen Pfund angehoben.", False),
    ("de", CUT, "Die Prognose für Tessmoors Agrareinkommen liegt bei 41 Millionen Pfund, nach 52 Millionen Pfund.",
     True),
    ("fr", FLOODED, "À Alder Reach, le nombre de logements inondés est passé de 260 à 420.", True),
    ("fr", FLOODED, "À Alder Reach, le nombre de logements inondés est passé de 420 à 260.", False),
    ("es", FLOODED, "En Alder Reach, las viviendas inundadas pasaron de 260 a 420 tras un primer recuento.", True),
    ("es", FLOODED, "En Alder Reach, las viviendas inundadas pasaron de 420 a 260 tras un primer recuento.", False),
    ("es", FERRIES, "Harnwick pasará de 9 a 13 travesías diarias en verano.", True),
    ("es", FERRIES, "Harnwick pasará de 13 a 9 travesías diarias en verano.", False),
    # "from 9 to 13" read as a score would take its numbers from the move.
    ("en", FERRIES, "Harnwick will cut its daily ferry crossings from 13 crossings to 9 in the summer.", False),
    # "de 6 h à 22 h": clock times, which the source writes "6 a.m." and "10 p.m."
    ("fr", FERRIES, "En été, les ferries de Harnwick circuleront de 6 h à 22 h.", True),
    ("fr", FERRIES, "En été, les ferries de Harnwick circuleront de 6 h à 23 h.", False),
    # "31,000 last year": "last" is no thing the number counts, so "31,000 tonnes" is the same quantity.
    ("en", HARVEST, "Vell valley growers expect 48,000 tonnes this season, against 31,000 tonnes last year.", True),
    # Ranges, votes and years joined by the same little words are no moves.
    ("es", "Repairs to the Harnwick pier will take 5 to 7 days.", "Las obras del muelle de Harnwick durarán de 5 a 7 días.",
     True),
    ("fr", "Harnwick councillors backed the pier plan by 23 votes to 14.",
     "Les élus de Harnwick ont approuvé le projet de jetée par 23 voix contre 14.", True),
    ("de", "The Harnwick pier scheme runs from 2027 to 2030.", "Das Harnwicker Pier-Programm läuft von 2027 bis 2030.", True),
    # Two things compared at one time are no move, whichever is named first.
    ("en", "In Harnwick, nurses earned 41,000 crowns a year, compared with 52,000 crowns for doctors.",
     "Harnwick's doctors earned 52,000 crowns a year, compared with 41,000 crowns for nurses.", True),
    ("fr", "In Harnwick, nurses earned 41,000 crowns a year, compared with 52,000 crowns for doctors.",
     "À Harnwick, les médecins gagnaient 52 000 couronnes par an, contre 41 000 pour les infirmières.", True),
    ("es", "In Harnwick, nurses earned 41,000 crowns a year, compared with 52,000 crowns for doctors.",
     "En Harnwick, los médicos ganaban 52.000 coronas al año, frente a 41.000 las enfermeras.", True),
    # A spread told from its other end, and numbers that are part of a name.
    ("en", "Temperatures in Harnwick ranged from 5 degrees at night to 12 degrees by day.",
     "Temperatures in Harnwick ranged from 12 degrees by day to 5 degrees at night.", True),
    ("en", "The new Harnwick cycle path runs from Pier 2 to Pier 9.", "The new Harnwick cycle path runs from Pier 9 to Pier 2.",
     True),
    # A move and its way back: the source gives 3 as where a move ended.
    ("en", "Harnwick's ferry fare rose from 3 crowns to 4 crowns in May and fell back to 3 crowns in June.",
     "Harnwick's ferry fare fell back from 4 crowns to 3 crowns in June.", True),
    ("de", "Harnwick's ferry fare rose from 3 crowns to 4 crowns in May and fell back to 3 crowns in June.",
     "Harnwicks Fährpreis ging im Juni von 4 auf 3 Kronen zurück.", True),
    # "nach 3 Jahren" is "after three years", no earlier value.
    ("de", "Within 3 years, the Harnwick league shrank from 12 clubs to 3.",
     "Die Liga von Harnwick hatte 12 Klubs, nach 3 Jahren waren es nur noch 3.", True),
    # A bare "9 h" is 9:00 or nine hours, not the 9 of "9 p.m.".
    ("fr", FERRIES, "En été, les ferries de Harnwick circuleront de 9 h à 22 h.", False),
])
def test_a_move_between_two_numbers_keeps_its_order(language, source, bullet, kept):
    grounded = _grounded([_source("en", source)], language, bullet)
    assert bool(grounded.bullets[BIG_PICTURE.key]) is kept, grounded.grounding.dropped


@pytest.mark.parametrize("word", ["Zinsentscheidung", "Kreditgebern", "Gewerkschaftsvertreterin",
                                  "Braugerste", "Wohnungsbaugesellschaften", "Anlandungen", "Absenkung",
                                  "Ausfuhrverbot", "Nachwahlbefragung", "Überflugrechte", "Einspeisetarif"])
def test_german_compounds_inflections_and_verb_stems_are_ordinary_words(word):
    from newsletter.summarize.lexicon import ordinary

    assert ordinary(word, "de")


@pytest.mark.parametrize("name", ["Umbreiter", "Pettersen", "Abrahmsen"])
def test_a_name_that_starts_like_a_particle_is_no_ordinary_word(name):
    from newsletter.summarize.lexicon import ordinary

    assert not ordinary(name, "de")  # "Um|breiter": a particle heads a verb made a noun, not an adjective


@pytest.mark.parametrize("language, bullet, cites, kept", INVENTED)
def test_a_name_no_source_writes_is_caught_in_any_language_and_translated_words_are_not(language, bullet, cites,
                                                                                          kept):
    grounded = _grounded([GERMAN_SOURCE] if language == "en" else [SOURCE, REACTIONS], language, bullet, cites)
    assert bool(grounded.bullets[BIG_PICTURE.key]) is kept, grounded.grounding.dropped


# -- the model writes in the language: `preview` end to end ----------------------------------------

POST, GAZETTE = "Kestrel Harbour Post", "Saltmarsh Gazette"
WALL = {
    POST: ("Dunmere council approves 640 million crown sea wall",
           "Dunmere city council approved the sea wall on Monday by 31 votes to 9. The wall will cost 640 million "
           "crowns and should be finished in 2029. The national pension fund, which holds 3.5 trillion dollars, "
           "will buy the bonds."),
    GAZETTE: ("Dunmere votes 31-9 for sea wall",
              "Councillors in Dunmere voted 31-9 for a 640 million crown sea wall. Orrin Marine will build it."),
}
FAITHFUL = "Der staatliche Pensionsfonds verwaltet 3,5 Billionen Dollar und kauft die Anleihen."
ALTERED = "Der staatliche Pensionsfonds verwaltet 3,5 Milliarden Dollar und kauft die Anleihen."


GERMAN_HEADLINE = "Dunmere billigt Ufermauer für 640 Millionen Kronen"


def german_answer(payload: dict) -> str:
    user = payload["messages"][1]["content"]
    n = {outlet: int(i) for i, outlet in re.findall(r"<<<SOURCE (\d+)>>>\nOutlet: (.*)", user)}
    return json.dumps({
        "headline": GERMAN_HEADLINE,
        "dek": "Der Stadtrat stimmte am Montag mit 31 zu 9 Stimmen für die Mauer.",
        "big_picture": [{"text": "Die Mauer kostet 640 Millionen Kronen und soll 2029 fertig sein.", "cites": [n[POST]]},
                        {"text": "Orrin Marine baut die Mauer.", "cites": [n[GAZETTE]]}],
        "why_this_matters": [{"text": FAITHFUL, "cites": [n[POST]]}, {"text": ALTERED, "cites": [n[POST]]}],
        "between_the_lines": [],
        "extra_section": None})


def _wall_config(tmp_path, language: str = "de"):
    """Both outlets' sea-wall reports as feeds, and a newsletter in ``language`` over them, with a model."""
    for outlet in (POST, GAZETTE):
        host = re.sub(r"\W+", "-", outlet.lower())
        (tmp_path / f"{host}.xml").write_text(rss(item(
            WALL[outlet][0], f"https://{host}.example/wall", guid=f"{host}:wall", body=f"<p>{WALL[outlet][1]}</p>"),
            title=outlet, link=f"https://{host}.example/"), encoding="utf-8")
    return write_config(tmp_path, {
        "newsletter": {"title": "Hafenbrief", "language": language, "from": "brief@example.com",
                       "to": ["reader@example.org"], "sidebar_size": 0, "max_age_hours": 0},
        "topics": [{"name": "Küste", "feeds": ["kestrel-harbour-post.xml", "saltmarsh-gazette.xml"]}],
        "llm": {"model": "test-model", "max_retries": 0, "timeout": 5},
        "store": {"url": "state.db"}})


def _preview(tmp_path, config, srv: OpenAIServer, out):
    return run_cli("preview", "--config", str(config), "--out", str(out), cwd=tmp_path,
                   env={"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": srv.base_url})


def test_a_german_newsletter_over_english_sources(tmp_path):
    config = _wall_config(tmp_path)
    out = tmp_path / "out" / "issue.html"
    with OpenAIServer(german_answer) as srv:
        result = _preview(tmp_path, config, srv, out)
        asked = srv.chat_requests[0].json["messages"]
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "in German" in asked[0]["content"] and "in German" in asked[1]["content"]

    raw = out.read_text(encoding="utf-8")
    page = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())
    text = " ".join(out.with_suffix(".txt").read_text(encoding="utf-8").split())
    doc = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    day = date.fromisoformat(doc["date"])
    assert '<html lang="de" dir="ltr"' in raw and doc["language"] == "de"
    for part in (page, text):
        assert "Das große Bild" in part and "Warum das wichtig ist" in part
        assert written_date("de", day) in part and "2 Quellen" in part
        assert FAITHFUL in part  # "3,5 Billionen" is the source's "3.5 trillion"
        assert "3,5 Milliarden" not in part
    wall = doc["stories"][0]
    assert wall["headline"] == "Dunmere billigt Ufermauer für 640 Millionen Kronen"
    assert [b["text"] for b in wall["why_this_matters"]] == [FAITHFUL]
    dropped = wall["grounding"]["dropped"]
    assert [(d["section"], d["claim"]) for d in dropped] == [("why_this_matters", "3,5 Milliarden Dollar")]
    assert "number not in the cited source" in dropped[0]["reason"]


WRONG_HEADLINE = "Dunmere billigt Ufermauer für 740 Millionen Kronen"  # no source gives 740
GOOD_HEADLINE = "Dunmere billigt Ufermauer mit 31 zu 9 Stimmen"
WRONG_DEK, GOOD_DEK = "Der Stadtrat stimmte mit 41 zu 9 Stimmen.", "Der Stadtrat stimmte mit 31 zu 9 Stimmen."


def _first_then(first: dict, second: dict | Reply):
    """The model's answer with ``first``'s fields, then, asked again, with ``second``'s (or that reply)."""
    def answer(payload: dict) -> str | Reply:
        if len(payload["messages"]) > 2:  # the second try: the first answer and what it got wrong follow
            return second if isinstance(second, Reply) else json.dumps({**json.loads(german_answer(payload)),
                                                                        **second})
        return json.dumps({**json.loads(german_answer(payload)), **first})
    return answer


LEAD = None  # the lead source's own words (which outlet leads is the ranking's choice)


@pytest.mark.parametrize("first, second, headline, dek, calls_again", [
    ({"headline": WRONG_HEADLINE}, {"headline": GOOD_HEADLINE}, GOOD_HEADLINE, None, 0),
    # Only the mended part is taken: the second answer's thinner bullets never replace the first's.
    ({"headline": WRONG_HEADLINE}, {"headline": GOOD_HEADLINE, "why_this_matters": []}, GOOD_HEADLINE, None, 0),
    ({"dek": WRONG_DEK}, {"dek": GOOD_DEK}, None, GOOD_DEK, 0),
    # Wrong again: the first answer stands, under the lead source's own title, and is kept.
    ({"headline": WRONG_HEADLINE}, {"headline": WRONG_HEADLINE}, LEAD, None, 0),
    # No answer: the first stands for now, and is not kept, so the next run asks again.
    ({"headline": WRONG_HEADLINE}, Reply(status=500, body='{"error": {"message": "overloaded"}}'), LEAD, None, 2),
])
def test_a_refused_headline_or_dek_in_another_language_is_asked_for_once_more(tmp_path, first, second, headline,
                                                                              dek, calls_again):
    # Else a German issue shows the English source's title; the bullets never depend on the second try.
    config = _wall_config(tmp_path)
    out = tmp_path / "out" / "issue.html"
    with OpenAIServer(_first_then(first, second)) as srv:
        result = _preview(tmp_path, config, srv, out)
        calls = len(srv.chat_requests)
        named = srv.chat_requests[-1].json["messages"][-1]["content"]
        again = _preview(tmp_path, config, srv, tmp_path / "again" / "issue.html")
        rerun_calls = len(srv.chat_requests) - calls
    assert result.exit_code == 0 and again.exit_code == 0, result.stdout + result.stderr
    wall = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["stories"][0]
    assert calls == 2 and ("740" if "headline" in first else "41") in named and rerun_calls == calls_again
    assert wall["headline"] == (headline or (wall["sources"][0]["title"] if "headline" in first else GERMAN_HEADLINE))
    if dek:
        assert wall["dek"] == dek
    assert [b["text"] for b in wall["why_this_matters"]] == [FAITHFUL]  # the first answer's bullets, gated
    [refusal] = [d["reason"] for d in wall["grounding"]["dropped"] if d["section"] in ("headline", "dek")]
    # The report names what the reader sees instead: the second answer's words, or the lead source's own.
    mended = headline if "headline" in first else dek
    assert refusal.endswith("; asked again, and the second answer's headline is used" if mended == GOOD_HEADLINE
                            else "; asked again, and the second answer's dek is used" if mended else
                            "; replaced with the lead source's own"), refusal


def test_a_refused_headline_in_the_sources_language_costs_no_second_call(tmp_path):
    def english(payload: dict) -> str:
        n = {outlet: int(i) for i, outlet in re.findall(r"<<<SOURCE (\d+)>>>\nOutlet: (.*)", payload["messages"][1]["content"])}
        return json.dumps({
            "headline": "Dunmere approves 740 million crown sea wall", "dek": "The council voted 31-9 on Monday.",
            "big_picture": [{"text": "The wall will cost 640 million crowns and be finished in 2029.", "cites": [n[POST]]}],
            "why_this_matters": [{"text": "Orrin Marine will build it.", "cites": [n[GAZETTE]]}],
            "between_the_lines": [], "extra_section": None})

    config = _wall_config(tmp_path, language="en")
    out = tmp_path / "out" / "issue.html"
    with OpenAIServer(english) as srv:
        result = _preview(tmp_path, config, srv, out)
        calls = len(srv.chat_requests)
    assert result.exit_code == 0, result.stdout + result.stderr
    wall = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["stories"][0]
    # The lead source's own title is in the issue's language already: nothing to ask for.
    assert calls == 1 and wall["headline"] == wall["sources"][0]["title"]


def test_the_language_is_part_of_what_a_cached_answer_is_kept_under():
    from newsletter.summarize.llm import answer_key, build_messages

    story = Story([SOURCE], SOURCE.title)
    keys = {code: answer_key("m", build_messages(story, code)) for code in ("en", "de", "fr")}
    assert len(set(keys.values())) == 3


def test_the_default_is_english_and_the_shipped_config_says_so():
    raw = tomllib.loads((REPO / "config" / "newsletter.toml").read_text(encoding="utf-8"))
    assert raw["newsletter"]["language"] == "en"
    assert load_config(REPO / "config" / "newsletter.toml").newsletter.language == "en"


# -- the web archive and the unsubscribe page --------------------------------------------------------

def test_the_archive_shows_each_issue_in_the_language_it_was_written_in(tmp_path):
    import httpx
    from web_demo import record_demo_issues, served, web_config

    from newsletter.render import issue_document
    from newsletter.web.app import make_app
    from newsletter.web.archive import write_archive

    cfg = web_config(tmp_path, archive="site")
    cfg.newsletter.language = "fr"
    store = Store.open(cfg.store_url)
    try:
        email = build_demo_email(tmp_path / "de", "de")
        record_demo_issues(cfg, store, document=issue_document(email.issue))  # recorded in German
        folder = tmp_path / "site"
        write_archive(cfg, store, folder)
        page = (folder / "issues" / "2026-11-25.html").read_text(encoding="utf-8")
        assert '<html lang="de" dir="ltr">' in page and "Das große Bild" in page and "Mittwoch, 25. November 2026" in page
        assert "Neuer: Donnerstag, 26. November 2026" in page and "The big picture" not in page
        index = (folder / "index.html").read_text(encoding="utf-8")  # the newsletter's language today: French
        assert '<html lang="fr"' in index and "Tous les numéros, du plus récent au plus ancien" in index
        with served(make_app(cfg, store, folder, "x" * 32)) as url:
            refused = httpx.get(f"{url}/u/not-a-token")
        assert refused.status_code == 403 and '<html lang="fr"' in refused.text
        assert "Ce lien n’est pas valide" in refused.text
    finally:
        store.close()


def test_the_index_marks_each_lead_against_its_own_language_and_the_feed_says_its_language(tmp_path):
    from web_demo import record_demo_issues, web_config

    from newsletter.render import issue_document
    from newsletter.web.archive import write_archive

    cfg = web_config(tmp_path, archive="site")
    cfg.newsletter.language = "fr"
    doc = issue_document(build_demo_email(tmp_path / "de", "de").issue)
    # A headline the model wrote in the issue's language (German): nothing to mark on the German page,
    # but on today's French index it is German.
    doc["stories"][0] = {k: v for k, v in doc["stories"][0].items() if k != "headline_language"}
    doc["stories"][0]["headline"] = "Stadtrat billigt die Ufermauer"
    store = Store.open(cfg.store_url)
    try:
        record_demo_issues(cfg, store, document=doc)
        write_archive(cfg, store, tmp_path / "site")
    finally:
        store.close()
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<span class="lead"([^>]*)>Stadtrat', index) and all(
        attrs == ' lang="de"' for attrs in re.findall(r'<span class="lead"([^>]*)>Stadtrat', index))
    feed = (tmp_path / "site" / "feed.xml").read_text(encoding="utf-8")
    assert '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">' in feed
    assert feed.count('<entry xml:lang="de">') == feed.count("<entry")
    json_feed = json.loads((tmp_path / "site" / "feed.json").read_text(encoding="utf-8"))
    assert json_feed["language"] == "fr"
    assert json_feed["items"] and {item["language"] for item in json_feed["items"]} == {"de"}


# -- languages the locale files do not cover: the gate still reads them, and never fails on them ---------------

def _ground_one(article: Article, language: str, bullet: str) -> bool:
    return bool(_grounded([article], language, bullet).bullets[BIG_PICTURE.key])


TURKISH = Article(id="tr1", feed_url="https://kiyi.example/feed", outlet="Kıyı Postası (fictional)",
                  title="LİMAN KÖPRÜSÜ 27 MAYIS 2026'DA AÇILIYOR", link="https://kiyi.example/kopru",
                  published=DEMO_MORNING, language="tr",
                  text="Belediye, köprünün 27 MAYIS 2026 tarihinde açılacağını CUMA günü duyurdu.")


@pytest.mark.parametrize("bullet, kept", [
    ("Köprü 27 Mayıs 2026'da açılıyor.", True),
    ("Köprü 28 Mayıs 2026'da açılıyor.", False),
])
def test_a_turkish_source_in_capitals_is_read_not_a_crash(bullet, kept):
    # "MAYIS" folds to "mayis", and so must the month table's "mayıs": else Evidence.of raised KeyError.
    assert _ground_one(TURKISH, "tr", bullet) is kept


def _chinese(text: str) -> Article:
    return Article(id="zh1", feed_url="https://hu.example/feed", outlet="Hu Bay Daily (fictional)", title="港口报告",
                   link="https://hu.example/1", published=DEMO_MORNING, language="zh", text=text)


@pytest.mark.parametrize("source, bullet, kept", [
    ("港口吞吐量增长1,5%。", "港口吞吐量增长15%。", False),  # "1,5" is no fifteen where "." is the decimal mark
    ("港口吞吐量增长1,5%。", "港口吞吐量增长1,5%。", True),  # the source's own digits, as written
    ("港口吞吐量增长1.5%。", "港口吞吐量增长1,5%。", False),
    ("港口新增1,500个岗位。", "港口新增1500个岗位。", True),  # a comma before three digits groups them
])
def test_a_comma_groups_thousands_only_before_three_digits_where_the_decimal_mark_is_a_point(source, bullet, kept):
    assert _ground_one(_chinese(source), "zh", bullet) is kept


def test_hindi_groups_hundreds_of_thousands_the_indian_way():
    from newsletter.summarize.languages import reading

    values = [value for *_, value, _, _, _ in
              [(w, d, v, p, c, u) for w, d, v, p, c, u in reading("hi").numbers("1,00,000 लोग और 1,500,000 रुपये")]]
    assert values == [100000, 1500000]


# -- numbers written as words ----------------------------------------------------------------------------------

GERMAN_WORDS = Article(id="de-words", feed_url="https://hafen.example/feed", outlet="Hafenbote (fictional)",
                       title="Sturm über Valmere", link="https://hafen.example/sturm", published=DEMO_MORNING,
                       language="de",
                       text="Beim Sturm über Valmere wurden drei Menschen verletzt. Dreiundzwanzig Familien "
                            "mussten ihre Häuser verlassen, der Schaden liegt bei zwei Millionen Euro. "
                            "Ein Feuerwehrmann sprach vom dritten Sturm des Jahres.")


@pytest.mark.parametrize("language, bullet, kept", [
    ("de", "Drei Menschen wurden verletzt.", True),
    ("de", "3 Menschen wurden verletzt.", True),
    ("de", "Vier Menschen wurden verletzt.", False),  # a number word is a number the sources must hold
    ("de", "23 Familien mussten ihre Häuser verlassen.", True),
    ("de", "Zweiunddreißig Familien mussten ihre Häuser verlassen.", False),
    ("de", "Der Schaden liegt bei 2 Millionen Euro.", True),
    ("de", "Der Schaden liegt bei zwei Milliarden Euro.", False),
    ("en", "Three people were hurt and damage came to 2 million euros.", True),
    ("en", "Five people were hurt.", False),
    ("fr", "Trois personnes ont été blessées et vingt-trois familles évacuées.", True),
    ("fr", "Quatre personnes ont été blessées.", False),
    ("es", "Veintitrés familias tuvieron que dejar sus casas.", True),
    ("es", "Treinta y dos familias tuvieron que dejar sus casas.", False),
])
def test_numbers_written_as_words_are_checked_like_digits_in_sources_and_bullets(language, bullet, kept):
    assert _ground_one(GERMAN_WORDS, language, bullet) is kept


def test_one_and_ordinals_written_as_words_are_no_claims_and_spans_point_at_the_words():
    from newsletter.summarize.languages import reading

    text = "Ein Mann sah den dritten Sturm; zwanzig Prozent der 1.500 Dächer und zwei Millionen Euro."
    found = [(text[w[0]:w[1]].strip(), text[d[0]:d[1]], v, pct, cur) for w, d, v, pct, cur, _ in
             reading("de").numbers(text)]
    assert found == [("zwanzig Prozent", "zwanzig", 20, True, None), ("1.500", "1.500", 1500, False, None),
                     ("zwei Millionen Euro", "zwei Millionen", 2000000, False, "euro")]


def _source(language: str, text: str) -> Article:
    return Article(id=f"{language}-src", feed_url="https://bote.example/feed", outlet="Bote (fictional)", title=text,
                   link="https://bote.example/1", published=DEMO_MORNING, language=language, text=text)


@pytest.mark.parametrize("language, source, bullet, kept", [
    # A word that alone is no number still counts inside a compound: "dix-neuf" is 19, not 10.
    ("fr", "19 morts dans l'incendie.", "Dix-neuf morts dans l'incendie.", True),
    ("fr", "Dix-neuf morts dans l'incendie.", "10 morts dans l'incendie.", False),
    ("fr", "Quatre-vingt-dix-neuf personnes évacuées.", "90 personnes évacuées.", False),
    ("fr", "La ville inaugure son stade.", "La ville inaugure un stade neuf.", True),  # new, not nine
    ("de", "Das Team gewann das Spiel.", "Die deutsche Elf gewann das Spiel.", True),  # the team, not eleven
    ("de", "Die Inflation lag bei 3,125 Prozent.", "Die Inflation lag bei drei Komma eins zwei fünf Prozent.", True),
    # A language without a locale file lacks the words for million and percent: its number words stay unread
    # rather than "3 milhões" becoming 3 and a million.
    ("pt", "O prejuízo chega a 3 milhões de euros.", "O prejuízo chega a três milhões de euros.", True),
    ("it", "La disoccupazione sale al 5%.", "La disoccupazione sale al cinque per cento.", True),
    # A spelled decimal keeps the magnitude after it: 2.5 million, not 2.5.
    ("es", "El daño asciende a 2,5 millones de euros.", "El daño asciende a dos coma cinco millones de euros.", True),
    ("es", "El daño asciende a 2,5 euros.", "El daño asciende a dos coma cinco millones de euros.", False),
    ("fr", "Les dégâts atteignent 2,5 millions d'euros.", "Les dégâts atteignent deux virgule cinq millions d'euros.",
     True),
    ("es", "El daño asciende a 1,5 millones de euros.", "El daño asciende a uno coma cinco millones de euros.", True),
    ("es", "El daño asciende a 1,5 euros.", "El daño asciende a uno coma cinco millones de euros.", False),
])
def test_number_words_that_are_other_words_too_lack_a_locale_or_carry_a_magnitude_are_read_right(
        language, source, bullet, kept):
    assert _ground_one(_source(language, source), language, bullet) is kept


def test_a_lead_source_stored_without_its_language_is_read_for_it_when_its_title_stands_in():
    # Stored before languages were kept (language None): the gate reads the German title as German, so an
    # English issue asks again rather than show it.
    from newsletter.summarize.grounding import foreign_fallbacks

    lead = Article(id="old", feed_url="https://bote.example/feed", outlet="Hafenbote (fictional)",
                   title="Stadtrat von Dunmere billigt die Ufermauer", link="https://bote.example/mauer",
                   published=DEMO_MORNING, language=None,
                   text="Der Stadtrat von Dunmere hat am Montag mit 31 zu 9 Stimmen eine Ufermauer gebilligt. "
                        "Die Mauer soll 640 Millionen Kronen kosten und bis 2029 fertig sein.")
    story = Story([lead], lead.title)
    briefing = Briefing(story, "Dunmere approves 740 million crown wall", "The council voted 31-9.",
                        {BIG_PICTURE.key: [Bullet("The wall will cost 640 million crowns.", [1])]})
    grounded = ground(briefing, Evidence.of(story, "en"))
    assert grounded.headline == lead.title and grounded.headline_language == "de"
    assert foreign_fallbacks(grounded, "en") == {"headline"}
