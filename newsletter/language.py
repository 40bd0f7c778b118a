"""Which language an article is written in: what its feed declares, checked against its text.

    language_tag("pt-BR")                    # "pt": the BCP-47 primary subtag, or None
    babel_code("pt-BR")                      # "pt_BR": the same tag as Babel parses it (script kept)
    cldr("pa-Arab")                          # Babel's Locale for the tag, or None when CLDR does not know it
    article_language("de", title, text)      # "de", unless the text is plainly another language
    detect_language(title + " " + text)      # "ur", or None when the text does not say reliably

The rule: a feed's declaration (the entry's xml:lang, the feed's <language> or
xml:lang, the HTTP Content-Language header) is taken unless the detector is
reliable about another language and finds none of the declared one in the text:
an English-declared feed carrying Urdu gets "ur", a Portuguese feed is not
turned into Galician because two languages look alike. Without a declaration
the detector decides, and says nothing (None) when it is not reliable: the
stages then read the text as they always have (English rules).

Detection is CLD2 (pycld2): a C extension whose tables ship in the wheel, no
model to download, no NumPy, microseconds per article, so it runs at fetch time
and the store keeps the answer.
"""

from __future__ import annotations

import functools
import re

DETECT_CHARS = 600  # the title and the first sentences name the language; more only costs time (CLD2 is linear)
# A tag's primary subtag: 2-3 letters (ISO 639); "x-private", "i-klingon" and garbage are no language.
_PRIMARY = re.compile(r"\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*")
# "un", "xx" (with a script: "xx-Runr") and "xxx" are CLD2's "some language I do not know".
_NOT_A_LANGUAGE = frozenset({"und", "mul", "zxx", "mis", "un", "xx", "xxx"})
# The detector's old or macro codes, as the tags feeds use: Hebrew, Indonesian, Yiddish, Javanese,
# Norwegian Bokmål/Nynorsk (one stemmer, one stop-word list), Filipino.
_SAME_AS = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "nb": "no", "nn": "no", "fil": "tl"}


def language_tag(tag: str | None) -> str | None:
    """The lower-case primary subtag of a BCP-47 tag ("en-US" -> "en"), or None when it names no language.

    A list ("de, en", as Content-Language allows) names one language only if all its tags agree.
    """
    if not tag:
        return None
    found = set()
    for part in tag.split(","):
        m = _PRIMARY.fullmatch(part)
        if not m:
            return None
        code = m.group(1).lower()
        found.add(_SAME_AS.get(code, code))
    if len(found) != 1:
        return None
    code = found.pop()
    return None if code in _NOT_A_LANGUAGE else code


def babel_code(tag: str) -> str:
    """``tag`` as Babel parses it: "_" between subtags ("pt-BR" -> "pt_BR", "pa-Arab" -> "pa_Arab")."""
    return "_".join(p for p in re.split(r"[-_]", tag.strip()) if p)


@functools.cache
def cldr(tag: str | None):
    """Babel's ``Locale`` for ``tag`` (script and region kept), or None when CLDR does not know it."""
    if not tag:
        return None
    from babel import Locale, UnknownLocaleError  # lazily: ``fetch`` decides languages without Babel

    try:
        return Locale.parse(babel_code(tag))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def detect_language(text: str) -> str | None:
    """The language CLD2 finds in ``text`` when it is reliable about it, else None."""
    found = _detect(text)
    return found[0] if found else None


def language_name(tag: str) -> str:
    """"German" for "de", for a language no locale file may hold; the tag itself when Babel does not know it."""
    try:
        from babel import Locale as BabelLocale

        return BabelLocale.parse(tag).get_display_name("en") or tag
    except Exception:  # noqa: BLE001 - a name is only for the message
        return tag


def language_of(article) -> str | None:
    """An article's language as the fetch decided it; one stored before languages were kept is detected
    now (None when the text does not say)."""
    return article.language or detect_language(f"{article.title}\n{article.text[:DETECT_CHARS]}")


def article_language(declared: str | None, title: str, text: str) -> str | None:
    """The article's language: ``declared`` (a tag) unless the text plainly says otherwise (see the module)."""
    tag = language_tag(declared)
    found = _detect(f"{title}\n{text}")
    if found is None:
        return tag
    best, present = found
    if tag is None or tag == best or tag in present:
        return tag or best
    return best


def _detect(text: str) -> tuple[str, set[str]] | None:
    """CLD2's best language and every language it saw, when it calls the text reliable."""
    import pycld2  # a C extension: loads in milliseconds, only where languages are decided

    sample = text[:DETECT_CHARS].encode("utf-8", "replace").decode("utf-8")  # lone surrogates: CLD2 refuses them
    try:
        reliable, _, details = pycld2.detect(sample)
    except pycld2.error:  # text CLD2 cannot read (control bytes it rejects): no verdict, not a failure
        return None
    codes = [language_tag(code) for _, code, percent, _ in details if percent > 0]
    codes = [c for c in codes if c is not None]
    if not reliable or not codes:
        return None
    return codes[0], set(codes)
