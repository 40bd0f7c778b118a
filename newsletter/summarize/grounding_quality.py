"""How well the grounding gate tells faithful bullets from unfaithful ones, on a labelled set.

    figures = measure(load_cases(Path("tests/data/grounding/pairs.json")))
    figures.kept_share, figures.caught_share, figures.misses

A faithful bullet counts as kept when it comes out as it went in (same cites).
An unfaithful one counts as caught when it is dropped, or re-cited to the
source the set names as holding it (``recite_to``, for a true sentence cited
to the wrong source): never printed as it stood, nor re-cited to a source that
only seems to hold it. A set whose bullets are in another language than its
sources names it (``"language": "de"``, at the top or per case): the gate then
reads each bullet the way that language writes facts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsletter.models import BIG_PICTURE, Article, Briefing, Bullet, Story
from newsletter.summarize.grounding import Evidence, ground


@dataclass(frozen=True)
class Case:
    story: Story
    bullet: str
    cites: list[int]
    faithful: bool
    kind: str
    recite_to: list[int] | None = None
    language: str = "en"  # the bullet's


@dataclass
class Figures:
    faithful: int = 0
    kept: int = 0
    unfaithful: int = 0
    caught: int = 0
    misses: list[tuple[Case, str]] = field(default_factory=list)  # (case, what the gate did)

    @property
    def kept_share(self) -> float:
        return self.kept / self.faithful if self.faithful else 1.0

    @property
    def caught_share(self) -> float:
        return self.caught / self.unfaithful if self.unfaithful else 1.0


def load_cases(path: Path) -> list[Case]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    cases = []
    for s in doc["stories"]:
        articles = [Article(id=f"{s['id']}-{i}", feed_url=f"https://source{i}.example/feed", outlet=a["outlet"],
                            title=a["title"], link=f"https://source{i}.example/{s['id']}",
                            published=datetime.fromisoformat(a["published"]), text=a["text"])
                    for i, a in enumerate(s["sources"], start=1)]
        story = Story(articles=articles, headline=articles[0].title)
        cases += [Case(story, c["bullet"], c["cites"], c["faithful"], c["kind"], c.get("recite_to"),
                       c.get("language", s.get("language", doc.get("language", "en"))))
                  for c in s["cases"]]
    return cases


def verdict(case: Case, evidence: Evidence | None = None) -> str:
    """What the gate does to the bullet: "kept", "dropped", or "re-cited to [n]"."""
    briefing = Briefing(story=case.story, headline=case.story.headline, dek=case.story.headline,
                        bullets={BIG_PICTURE.key: [Bullet(case.bullet, list(case.cites))]})
    out = ground(briefing, evidence).bullets[BIG_PICTURE.key]
    if not out:
        return "dropped"
    return "kept" if out[0].cites == case.cites else f"re-cited to {out[0].cites}"


def right(case: Case, outcome: str) -> bool:
    if case.faithful:
        return outcome == "kept"
    return outcome == "dropped" or (case.recite_to is not None and outcome == f"re-cited to {case.recite_to}")


def measure(cases: list[Case]) -> Figures:
    figures = Figures()
    evidence: dict[tuple[int, str], Evidence] = {}
    for case in cases:
        key = (id(case.story), case.language)
        ev = evidence[key] if key in evidence else evidence.setdefault(key, Evidence.of(case.story, case.language))
        outcome = verdict(case, ev)
        ok = right(case, outcome)
        if case.faithful:
            figures.faithful += 1
            figures.kept += ok
        else:
            figures.unfaithful += 1
            figures.caught += ok
        if not ok:
            figures.misses.append((case, outcome))
    return figures
