"""Whether a word is an ordinary word of a language: wordfreq's frequency lists, and German compounds.

    ordinary("Zinsentscheidung", "de")   # True: Zins + Entscheidung
    ordinary("Pettersen", "de")          # False: a name, which a source must hold

Across languages the gate cannot tell a name by its capital: every German noun has one, and a
translated institution ("Weißes Haus", "Casa Blanca") is no name an English source writes. What a
model invents, though, is rarely an ordinary word of the language it writes in. So a capitalised
word that no source writes and that is no ordinary word of the bullet's language is read as a name
(``claims``). A common surname ("Becker") or a famous one passes as ordinary on its own; two of them
side by side ("Jürgen Becker") are a person's name, for a name is a word of many languages where an
ordinary word is a word of one (``international``).

German, Dutch and the Nordic languages glue words together (Hochwasser|schutz|damm,
Gewerkschaft|s|vertreterin), and most compounds are too rare for any list, so there a word made of
ordinary parts is ordinary too. Elsewhere splitting would only make names ordinary ("Val|mere").
"""

from __future__ import annotations

from functools import lru_cache

# Zipf frequency (log10 of uses per billion words) from which a word is ordinary: "Leitzins" is 2.8,
# "Gouverneurin" 2.5, unusual surnames ("Pettersen", "Okonkwo") 1.1-1.3, invented ones 0.
ORDINARY_ZIPF = 2.5
# A compound's head must be commoner than an ordinary word, and a three-letter head commoner still
# ("Zug", "Amt"): rare fragments ("pet", "ter") make anything a compound ("Pet|ter|sens"). Its last
# part is a word of its own, and ordinary is enough ("Streichungen"); a three-letter last part must be as
# common as a three-letter head ("Meer|eis", "Pack|eis", "Nah|verkehrs|zug") and no grammar word ("Dietr|ich").
PART_ZIPF, SHORT_PART_ZIPF = 3.0, 4.0
MIN_HEAD, MIN_TAIL, SHORT_TAIL = 3, 4, 3
MAX_PARTS = 4
_LINKS = ("s", "es", "n", "en", "e", "er")  # German linking sounds: Arbeit|s|markt, Sonne|n|schein
# Endings a list may not hold a word with: feminine forms (Vertreter|in) and German case and plural
# endings (Kreditgeber|n).
_ENDINGS = ("innen", "in", "ern", "en", "er", "es", "em", "n", "s", "e")
GRAMMAR_ZIPF = 5.5  # "John" is 5.4 in English, "Carlos" 5.1 in Spanish; "in", "die", "selon" are above
INTERNATIONAL_LANGUAGES, INTERNATIONAL_IN = ("en", "de", "fr", "es"), 3
COMPOUNDING = frozenset({"de", "nl", "da", "sv", "nb", "no", "is", "fi"})
# A verb's particle heads a German noun as a word would (An|landungen, Ab|senkung), however short.
PARTICLE_HEAD, PARTICLE_TAIL = 2, 6
_NOMINAL = ("ung", "ungen")  # a verb made a noun: what a particle heads
_PARTICLES = {"de": frozenset("an ab auf aus ein zu vor nach mit um über unter durch wieder zurück".split())}


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    from wordfreq import available_languages  # loaded by the cross-language gate only

    return frozenset(available_languages())


def knows(language: str) -> bool:
    """Whether there is a frequency list for ``language`` (a two- or three-letter code)."""
    return language.split("-")[0].lower() in _known()


def _zipf(word: str, language: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, language)


@lru_cache(maxsize=65_536)
def international(word: str) -> bool:
    """Whether ``word`` is common in at least ``INTERNATIONAL_IN`` of ``INTERNATIONAL_LANGUAGES``: names of
    people and places are ("Becker", "Dubois", "García": 2.5-4.8 in each), ordinary words rarely are
    ("Königreich" is 0 outside German, "Naciones" 1.3 in English)."""
    w = word.lower()
    return sum(_zipf(w, code) >= ORDINARY_ZIPF for code in INTERNATIONAL_LANGUAGES) >= INTERNATIONAL_IN


# How alike a word's frequencies in those languages may be for it to read as a name: a brand or a person is
# about as common in each ("Samsung" 4.0-4.1, "Nvidia" 3.0-3.3), a word a language lent the others is
# commoner at home ("shipping" 4.5 in English, 2.7 in Spanish; "software" 3.4 in French).
NAME_SPREAD = 0.6


def name_like(word: str) -> bool:
    """Whether ``word`` is as common in each of ``INTERNATIONAL_LANGUAGES`` as names are: a capitalised word
    that opens an English sentence and that no source writes reads as a name if so ("Samsung also bid")."""
    w = word.lower()
    found = [_zipf(w, code) for code in INTERNATIONAL_LANGUAGES]
    return min(found) >= ORDINARY_ZIPF and max(found) - min(found) <= NAME_SPREAD


def grammar(word: str, language: str) -> bool:
    """Whether ``word`` is among a language's commonest words ("In", "Die", "Selon" opening a sentence),
    which no one's name is."""
    return _zipf(word.lower(), language) >= GRAMMAR_ZIPF


@lru_cache(maxsize=65_536)
def ordinary(word: str, language: str, compounds: bool | None = None) -> bool:
    """Whether ``word`` is an ordinary word of ``language`` (which ``knows`` must know); ``compounds``:
    also a word made of ordinary parts ("Chip|maker"), as always in ``COMPOUNDING`` languages."""
    w = word.lower()
    if _zipf(w, language) >= ORDINARY_ZIPF:
        return True
    if compounds is None:
        compounds = language in COMPOUNDING
    return compounds and (_inflected(w, language) or _compound(w, language, MAX_PARTS))


def by_parts(word: str, language: str) -> bool:
    """Whether ``word`` is ordinary only as made of ordinary parts: in no list itself, nor an ending away
    from a word that is. Surnames are made so too ("Holler|bach", "Stein|müller"), so such a word is
    a name where a name stands (``claims``)."""
    w = word.lower()
    return (language in COMPOUNDING and _zipf(w, language) < ORDINARY_ZIPF and not _inflected(w, language)
            and _compound(w, language, MAX_PARTS))


def _part(w: str, language: str) -> bool:
    bar = PART_ZIPF if len(w) > MIN_HEAD else SHORT_PART_ZIPF
    return _zipf(w, language) >= bar or _inflected(w, language, bar)


def _inflected(w: str, language: str, bar: float = ORDINARY_ZIPF) -> bool:
    """Whether ``w`` is an ordinary word with one of ``_ENDINGS``."""
    return any(w.endswith(end) and len(w) - len(end) >= MIN_TAIL and _zipf(w[:-len(end)], language) >= bar
               for end in _ENDINGS)


def _compound(w: str, language: str, parts: int) -> bool:
    """Whether ``w`` splits into a head and a tail of at most ``parts`` ordinary parts in all."""
    if parts < 2:
        return False
    particles = _PARTICLES.get(language, frozenset())
    for cut in range(len(w) - SHORT_TAIL, min(MIN_HEAD, PARTICLE_HEAD) - 1, -1):
        head, tail = w[:cut], w[cut:]
        # A particle heads a verb made a noun ("An|landungen", "Ab|senkung") from a common word: "Ab|rams" and
        # "Um|breiter" are no such nouns. A longer particle may head any compound, as any word may
        # ("Aus|fuhrverbot", below).
        if head in particles and len(tail) >= PARTICLE_TAIL and tail.endswith(_NOMINAL) and _part(tail, language):
            return True
        # The head as written, without a linking sound, or a verb's stem (Brau|gerste: brauen).
        heads = (head, *(head[:-len(link)] for link in _LINKS if head.endswith(link)), head + "en")
        if len(head) < MIN_HEAD or not any(h and len(h) >= MIN_HEAD and _part(h, language) for h in heads):
            continue
        if len(tail) < MIN_TAIL:
            if SHORT_PART_ZIPF <= _zipf(tail, language) < GRAMMAR_ZIPF:
                return True
            continue
        if _zipf(tail, language) >= ORDINARY_ZIPF or _inflected(tail, language) or _compound(
                tail, language, parts - 1):
            return True
    return False
