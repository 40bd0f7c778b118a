"""Text to and from the model: sources fenced in, answers parsed, prose made safe to mail.

The prose part: no links of any kind, no markup, bounded length.

Links come from the feeds, never from the model. Mail clients turn far more
than ``http://`` into links, so everything link-like goes: URLs with any
scheme (``file:``, ``javascript:``, ``mailto:`` ...), ``www.`` hosts, bare
domains with or without a path (``evil.example/login``), e-mail addresses,
and the defanged forms people paste (``hxxp://``, ``example[.]com``,
``name[at]example.com``). A name like "Booking.com" goes too: that is the
price of never printing a link the feeds did not give.

Every field is cut to ``FIELD_SCAN_CHARS`` before any pattern runs, then to
its word limit, so a megabyte from a misbehaving model costs nothing.
"""

from __future__ import annotations

import functools
import json
import re

from newsletter import locales

HEADLINE_MAX_WORDS = 14
DEK_MAX_WORDS = 40
BULLET_MAX_WORDS = 60
SECTION_TITLE_MAX_WORDS = 6  # a model-titled section's heading ("Key policy supports")
FIELD_SCAN_CHARS = 2000  # far beyond any word limit: the rest is never looked at
MAX_WORD_CHARS = 40  # a "word" longer than this is not prose (base64, a URL without dots)
ELLIPSIS = "…"

_DOT = r"(?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\s\[\.\]\s)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SCHEMES = r"https?|hxxps?|hxxp|h\*\*ps?|ftp|fxp|sftp|file|javascript|vbscript|data|mailto|tel|sms|wss?"
# The rest of a link: it ends before trailing punctuation, which belongs to the sentence.
_REST = r"(?:[^\s<>\"]*[^\s<>\".,;:!?)\]'])?"
_LINKISH = re.compile(
    "|".join([
        rf"\b(?:{_SCHEMES})(?:\[:\]|:)(?=[^\s.,;!?])" + _REST,  # scheme URLs, defanged too
        rf"\bwww\d?{_DOT}" + _REST,
        rf"[\w.+-]+\s?(?:@|\[at\]|\(at\)|\[@\])\s?{_LABEL}(?:{_DOT}{_LABEL})+",  # e-mail addresses
        rf"\b{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[a-z]{{2,24}}\b(?:[/:?#]" + _REST + ")?",  # bare domains
    ]),
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_MD_MARK = re.compile(r"(\*\*|__|`+|^#+\s*)")
# What a sentence says to lead into a link, left dangling once the link is gone ("details at .",
# "according to ."): removed where a link was, and only there, so a sentence's own last word stays.
# English's here; another language's are its locale file's [grounding] link_words.
LINK_WORDS = ("according to", "as reported by", "reported by", "cited by", "cited in", "read more", "click here",
              "more", "details", "info", "see", "visit", "go to", "at", "via", "here", "on", "and", "or", "to",
              "for", "from", "by", "in", "per", "source", "sources", "link", "website")


@functools.cache
def _lead_in() -> re.Pattern:
    from newsletter.locales import available, locale

    words = {w.casefold() for w in LINK_WORDS}
    words |= {w.casefold() for code in available() for w in locale(code).grounding.get("link_words", ())}
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(
        rf"(?:([,;:])\s*)?(?:\b(?:{alternation})\b\s*)*+:?\s*" + _LINK_MARK
        + r"(?(1)[,;]?)",  # ", per <url>, could": the aside's closing comma goes too
        # Possessive (*+): "read more" is also "read" + "more", and trying every split of a long run of such
        # words, none before a link, took seconds per 20 words.
        re.IGNORECASE)


locales.derived(_lead_in.cache_clear)  # a config's own language file replaces these words


_LINK_MARK = "\x00"  # where a link was taken out; never in cleaned text (controls are escaped before)
_GONE = "\x01"  # where a link and its lead-in words were taken out
# A sentence that was only a link's lead-in ("It costs $5. More at <url>.") leaves its full stop behind the
# sentence before: "It costs $5.." The stop goes with it.
_EMPTY_SENTENCE = re.compile(r"([.!?][\"”’)]?)[\s\x01]*\x01[\s\x01]*[.!?]+")
_SENTENCE_END = re.compile(r"[.!?][\"”’)]?$")


def strip_links(text: str, mark: str = "") -> tuple[str, int]:
    """The text without anything a mail client could make a link of, each put as ``mark``, and how
    many were removed."""
    text, marked = _MD_LINK.subn(r"\1" + mark, text)  # "[Read more](url)": the words stay
    text, bare = _LINKISH.subn(mark, text)
    return text, marked + bare


def clean_text(text: str, max_words: int) -> str:
    """Model prose as plain, link-free text of at most ``max_words`` words."""
    text = (text or "")[:FIELD_SCAN_CHARS].replace(_LINK_MARK, "").replace(_GONE, "")
    text = _TAG.sub("", text)
    text = _MD_MARK.sub("", text)
    text, links = strip_links(text, _LINK_MARK)
    opened_with_link_words = bool(links) and _lead_in().match(text.lstrip()) is not None
    if links:
        text = _EMPTY_SENTENCE.sub(r"\1", _lead_in().sub(_GONE, text)).replace(_GONE, "")
    text = " ".join(w for w in text.split() if len(w) <= MAX_WORD_CHARS)
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = " ".join(text.split()).strip(" -–—")
    if not any(ch.isalnum() for ch in text):  # "Details at <url>." was all lead-in: nothing is left to say
        return ""
    if opened_with_link_words:  # "According to <url>, the mayor resigned." -> "The mayor resigned."
        text = text.lstrip(" ,;:")
        text = text[:1].upper() + text[1:]
    return cap_words(text, max_words)


def cap_words(text: str, max_words: int) -> str:
    """At most ``max_words`` words: whole sentences when they fit, else cut with an ellipsis."""
    words = text.split()
    if len(words) <= max_words:
        return text
    kept = words[:max_words]
    for end in range(len(kept), 0, -1):
        if _SENTENCE_END.search(kept[end - 1]):
            return " ".join(kept[:end])
    return " ".join(kept).rstrip(",;:") + ELLIPSIS


class LLMSummaryError(Exception):
    """The model's answer could not be used: the caller writes that part extractively.

    ``usage`` (a ``llm.Usage``) is what the failed attempt cost, when known; ``grounding`` (a
    ``models.Grounding``) what the gate refused, when that is why.
    """

    usage = None
    grounding = None


def defuse(text: str) -> str:
    """A source must not be able to close its own delimiter and speak outside it."""
    return re.sub(r"<{2,}|>{2,}", lambda m: ("‹" if m.group()[0] == "<" else "›") * len(m.group()), text)


# A reasoning model's thinking before its answer (DeepSeek-R1, Qwen3, QwQ): braces and drafts in it are not
# the answer. Some chat templates open the block in the prompt, so the answer holds only its closing tag.
_THINKING_END = re.compile(r"</(?:think|thinking|reasoning)>", re.IGNORECASE)
_THINKING_START = re.compile(r"^\s*<(?:think|thinking|reasoning)>", re.IGNORECASE)


def without_reasoning(answer: str) -> str:
    """The answer after a reasoning model's ``<think>...</think>`` block, or the answer itself."""
    ends = list(_THINKING_END.finditer(answer))
    if ends:
        return answer[ends[-1].end():]
    if still_reasoning(answer):
        raise LLMSummaryError("model answer is all reasoning: its <think> block never ends, so no JSON follows it")
    return answer


def still_reasoning(answer: str) -> bool:
    """Whether ``answer`` is a reasoning block that never ended (the model was cut off thinking)."""
    return bool(_THINKING_START.match(answer)) and not _THINKING_END.search(answer)


def json_object(answer: str) -> dict:
    """The JSON object in a model's answer, fenced in Markdown or not, after any reasoning block."""
    text = without_reasoning(answer).strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL | re.IGNORECASE)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise LLMSummaryError(f"model answer is not JSON: {snippet(answer)}")
    try:
        data = json.loads(text[start:end + 1])
    except json.JSONDecodeError as e:
        try:  # small models' slips: a comma after the last item, 'single quotes'
            data = json.loads(_mended_json(text[start:end + 1]))
        except json.JSONDecodeError:
            raise LLMSummaryError(f"model answer is not valid JSON ({e.msg}): {snippet(answer)}") from None
    if not isinstance(data, dict):
        raise LLMSummaryError("model answer is not a JSON object")
    return data


_SPACE = re.compile(r"\s*")


def _mended_json(text: str) -> str:
    """``text`` with the two slips small models make in JSON mended: a comma before a closing bracket is
    dropped, and a string in single quotes is put in double quotes. Strings' contents are kept as written."""
    out: list[str] = []
    quote = None  # the quote the string being read opened with
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                pair = text[i:i + 2]
                out.append("'" if pair == "\\'" else pair)  # \' is no JSON escape: a plain apostrophe
                i += 2
                continue
            if ch == quote:
                out.append('"')
                quote = None
            else:
                out.append('\\"' if ch == '"' else ch)  # a double quote inside 'single quotes'
        elif ch in "\"'":
            quote = ch
            out.append('"')
        elif ch == ",":
            after = _SPACE.match(text, i + 1).end()
            if text[after:after + 1] not in ("}", "]"):
                out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def cap_chars(text: str, n: int) -> str:
    """At most ``n`` characters of ``text``, with an ellipsis where it was cut: a claim as the report shows it."""
    return text if len(text) <= n else text[:n].rstrip() + ELLIPSIS


def snippet(text: str, n: int = 80) -> str:
    """The start of model text for a one-line error message: links removed, whitespace folded."""
    one_line = " ".join(strip_links(text[:FIELD_SCAN_CHARS])[0].split())
    return repr(one_line[:n] + ("…" if len(one_line) > n else ""))
