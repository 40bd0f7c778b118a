"""A model's answer read as a briefing: its JSON in the shape asked for, cleaned and capped, before the
grounding gate checks it.

    briefing = parse_briefing(answer, story, language="de")   # LLMSummaryError when it cannot be used

Cites come from the ``cites`` lists and from "[2]" marks in the text alike; a bullet citing a source the
story does not have is left out and reported (its claim is the model's alone). Links and markup are
taken out by ``modeltext.clean_text``: the model never writes a link the email shows.
"""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel, Field, ValidationError, create_model, field_validator

from newsletter.locales import Locale, locale
from newsletter.models import SECTIONS, Briefing, Bullet, Grounding, GroundingDrop, Story
from newsletter.summarize.modeltext import (BULLET_MAX_WORDS, DEK_MAX_WORDS, FIELD_SCAN_CHARS, HEADLINE_MAX_WORDS,
                                            SECTION_TITLE_MAX_WORDS, LLMSummaryError, cap_chars, clean_text,
                                            json_object)

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 4_000_000  # beyond this an answer is not a briefing: refused before parsing
MAX_CLAIM_SHOWN = 60  # characters of a refused claim in a one-line error
EXTRA_MIN, EXTRA_MAX = Briefing.EXTRA_BULLETS


class _BulletOut(BaseModel):
    text: str
    cites: list[int] = Field(default_factory=list)

    @field_validator("cites", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        # Models write 2, "2", "[2]" or ["1", "2"]; all mean the same citations.
        if v is None:
            return []
        if isinstance(v, (int, str)):
            v = [v]
        return [int(re.sub(r"[^\d]", "", x)) if isinstance(x, str) and re.search(r"\d", x) else x for x in v]


class _ExtraOut(BaseModel):
    title: str = ""
    bullets: list[_BulletOut] = Field(default_factory=list)


# The answer's shape: headline, dek, and one list of bullets per section in SECTIONS (the extra
# section is read on its own, so that a malformed one costs only itself).
_BriefingOut = create_model(
    "_BriefingOut",
    headline=(str, ""),
    dek=(str, ""),
    **{kind.key: (list[_BulletOut], Field(default_factory=list)) for kind in SECTIONS},
)


def parse_briefing(answer: str, story: Story, *, summarizer: str = "llm", language: str = "en") -> Briefing:
    """The answer as a briefing, cleaned and capped but not yet grounded."""
    if len(answer) > MAX_ANSWER_CHARS:
        raise LLMSummaryError(f"model answer is {len(answer):,} characters long: not a briefing")
    data = json_object(answer)
    try:
        out = _BriefingOut.model_validate(data)
    except ValidationError as e:
        raise LLMSummaryError(f"model answer has the wrong shape: {_shape_problem(e)}") from None

    n = len(story.articles)
    left_out: list[GroundingDrop] = []  # bullets refused before the gate: reported with its refusals
    sections = {kind.key: _clean_bullets(getattr(out, kind.key), n, kind.max_bullets, kind.key, left_out)
                for kind in SECTIONS}
    if not any(sections.values()):
        raise LLMSummaryError("model answer has no bullet citing an existing source")
    headline = clean_text(out.headline, HEADLINE_MAX_WORDS)
    own_title = not headline  # none written: the lead title stands, in its source's language
    if own_title:
        headline = clean_text(story.headline, HEADLINE_MAX_WORDS)
    dek = clean_text(out.dek, DEK_MAX_WORDS)
    if not dek:
        raise LLMSummaryError("model answer has no dek")
    return Briefing(story=story, headline=headline, dek=dek, bullets=sections, summarizer=summarizer,
                    extra=_extra_section(data.get(Briefing.EXTRA_KEY), sections, n, locale(language)),
                    headline_language=story.headline_language if own_title else None,
                    grounding=Grounding(checked=len(left_out), dropped=left_out) if left_out else None)


def _shape_problem(e: ValidationError) -> str:
    """Where the answer's JSON went wrong, in its own field names ("big_picture[0] should be an object
    with text and cites"), never the class names of the code that read it."""
    first = e.errors()[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
    said = re.sub(r"^Input should be a valid dictionary or instance of _\w+", "should be an object with text and cites",
                  first["msg"])
    said = said.replace("Input should be", "should be")
    return f"{where} {said}" if where else said


def _extra_section(raw, fixed: dict[str, list[Bullet]], n_sources: int,
                   loc: Locale) -> tuple[str, list[Bullet]] | None:
    """The model's extra section, cleaned, or None when it is malformed, untitled or adds nothing."""
    if not raw:
        return None
    try:
        out = _ExtraOut.model_validate(raw)
    except ValidationError:
        log.info("left out a malformed %s", Briefing.EXTRA_KEY)
        return None
    title = clean_text(out.title, SECTION_TITLE_MAX_WORDS).rstrip(" .:;,")
    fixed_titles = {t.casefold() for k in SECTIONS for t in (k.title, loc.title(k))}
    if not title or title.casefold() in fixed_titles:
        return None  # a fixed section under its own name is no extra section
    said = {b.text.casefold() for items in fixed.values() for b in items}
    bullets = [b for b in _clean_bullets(out.bullets, n_sources, EXTRA_MAX) if b.text.casefold() not in said]
    return (title, bullets) if len(bullets) >= EXTRA_MIN else None


_CITE_MARK = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")


def _clean_bullets(bullets: list[_BulletOut], n_sources: int, limit: int, section: str = Briefing.EXTRA_KEY,
                   left_out: list[GroundingDrop] | None = None) -> list[Bullet]:
    """The model's bullets as plain text with their cites; one citing a source that does not exist goes to
    ``left_out`` (an invented source: its claim is the model's alone)."""
    out: list[Bullet] = []
    for b in bullets:
        cites = list(b.cites)
        # "[2]" markers in the text are citations too; the email adds its own markers.
        for m in _CITE_MARK.finditer(b.text):
            cites += [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
        text = clean_text(_CITE_MARK.sub("", b.text[:FIELD_SCAN_CHARS]), BULLET_MAX_WORDS)
        valid = sorted({c for c in cites if 1 <= c <= n_sources})
        if cites and len(valid) < len(set(cites)):
            if left_out is not None:
                missing = ", ".join(str(c) for c in sorted(set(cites) - set(valid)))
                left_out.append(GroundingDrop(section, f"cites a source that does not exist ({missing})",
                                              cap_chars(text, MAX_CLAIM_SHOWN)))
            continue
        if text and valid:
            out.append(Bullet(text=text, cites=valid))
        if len(out) == limit:
            break
    return out
