"""The grounding gate: every fact a model briefing states is checked against its sources, in code.

    grounded = ground(briefing)          # a new Briefing; grounded.grounding says what was done
    if needs_second_try(briefing, grounded): ...   # ask the model once more, naming the failures

Each bullet's claims (numbers, scores, times, dates, weekdays, months, names,
quotes: see ``claims``) must each be held by a source the bullet cites. A
bullet that fails is re-cited when one other source of the story holds all of
it, else dropped; it is never kept as it is. Headline and dek
cite nothing, so they are checked against all the story's sources; one that
fails is replaced with the lead source's own title, or its first sentence.
Every drop is recorded in a ``Grounding`` with its section, reason and claim.
A model-titled extra section is checked bullet by bullet like the rest, its
title like a headline; an unsupported title, or fewer than two bullets left,
leaves the section out.

The gate checks facts, not meaning: a sentence that keeps every number and
name but reverses what happened passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.models import BIG_PICTURE, Briefing, Bullet, Grounding, GroundingDrop, Story
from newsletter.summarize.claims import Claim, SourceFacts, Vocabulary, extract_claims
from newsletter.summarize.modeltext import DEK_MAX_WORDS, HEADLINE_MAX_WORDS, cap_words
from newsletter.summarize.sentences import split_sentences

# A story that loses more than this share of its bullets is asked for again.
MAX_DROPPED_SHARE = 0.5
# How much of each source can vouch for a claim: far more than the model is shown (llm.MAX_SOURCE_CHARS),
# and a bound on the work a very long article costs.
MAX_EVIDENCE_CHARS = 20_000

@dataclass
class Evidence:
    """What each source of one story can vouch for, computed once."""

    sources: list[SourceFacts]
    vocab: Vocabulary
    lead_title: str
    lead_sentence: str

    @classmethod
    def of(cls, story: Story) -> Evidence:
        texts = [f"{a.outlet}. {a.title}. {a.text[:MAX_EVIDENCE_CHARS]}" for a in story.articles]
        facts = [SourceFacts.of(t, a.published) for t, a in zip(texts, story.articles)]
        lead = story.articles[0]
        first = next(iter(split_sentences(lead.text)), "") or lead.title
        return cls(facts, Vocabulary.of(texts), lead.title, first)

    def unsupported(self, claims: list[Claim], cites: list[int]) -> list[Claim]:
        return [c for c in claims if not any(self.sources[i - 1].supports(c) for i in cites)]


def ground(briefing: Briefing, evidence: Evidence | None = None) -> Briefing:
    """The briefing with every unsupported sentence dropped, re-cited or replaced."""
    ev = evidence or Evidence.of(briefing.story)
    everyone = list(range(1, len(ev.sources) + 1))
    record = Grounding()

    def check_free_text(section: str, text: str, fallback: str, limit: int) -> str:
        record.checked += 1
        bad = ev.unsupported(extract_claims(text, ev.vocab), everyone)
        if not bad:
            return text
        record.dropped.append(GroundingDrop(section, f"{bad[0].kind} not in any source; "
                                                     f"replaced with the lead source's own", bad[0].text))
        return cap_words(fallback, limit)

    headline = check_free_text("headline", briefing.headline, ev.lead_title, HEADLINE_MAX_WORDS)
    dek = check_free_text("dek", briefing.dek, ev.lead_sentence, DEK_MAX_WORDS)

    extra_title = briefing.extra[0] if briefing.extra else None
    if extra_title is not None:
        record.checked += 1
        bad = ev.unsupported(extract_claims(extra_title, ev.vocab), everyone)
        if bad:  # a title is no place for a fact: the section goes, bullets and all
            record.dropped.append(GroundingDrop(Briefing.EXTRA_KEY, f"{bad[0].kind} in its title not in any "
                                                                    "source; section left out", bad[0].text))
            extra_title = None

    bullets: dict[str, list[Bullet]] = {}
    for kind, items in briefing.sections():
        if kind.key == Briefing.EXTRA_KEY and extra_title is None:
            continue
        kept = []
        for bullet in items:
            record.checked += 1
            outcome = _check_bullet(bullet, ev)
            if isinstance(outcome, Bullet):
                record.recited += outcome.cites != bullet.cites
                kept.append(outcome)
            else:
                record.dropped.append(GroundingDrop(kind.key, f"{outcome.kind} not in the cited source",
                                                    outcome.text))
        bullets[kind.key] = kept
    extra = bullets.pop(Briefing.EXTRA_KEY, [])
    return Briefing(story=briefing.story, headline=headline, dek=dek, bullets=bullets,
                    summarizer=briefing.summarizer, grounding=record,
                    extra=(extra_title, extra) if len(extra) >= Briefing.EXTRA_BULLETS[0] else None)


def _check_bullet(bullet: Bullet, ev: Evidence) -> Bullet | Claim:
    """The bullet as it stands or re-cited, or the first claim no source of its own holds."""
    claims = extract_claims(bullet.text, ev.vocab)
    bad = ev.unsupported(claims, bullet.cites)
    if not bad:
        return bullet
    for other in range(1, len(ev.sources) + 1):
        # Only a source that holds the whole sentence: facts from two sources joined in one
        # sentence ("a name from one, a number from the other") may say what neither does.
        if other not in bullet.cites and not ev.unsupported(claims, [other]):
            return Bullet(text=bullet.text, cites=[other])
    return bad[0]


def needs_second_try(before: Briefing, after: Briefing) -> bool:
    """The gate took the big picture, or more than half the bullets: worth asking once more."""
    asked = sum(len(items) for _, items in before.sections())
    kept = sum(len(items) for _, items in after.sections())
    lost_big_picture = bool(before.bullets.get(BIG_PICTURE.key)) and not after.bullets.get(BIG_PICTURE.key)
    return kept == 0 or lost_big_picture or (asked - kept) > MAX_DROPPED_SHARE * asked


def failed_claims(grounded: Briefing) -> list[str]:
    """What to name when asking again: each refused claim with the section it was in."""
    drops = grounded.grounding.dropped if grounded.grounding else []
    return [f"{d.section}: {d.claim!r} ({d.reason})" for d in drops]
