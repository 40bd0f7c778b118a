"""The summarize stage for a whole issue: a briefing for every placed story, a blurb for every sidebar story.

    sections, sidebar, problems = write_issue(summarizer, placed, sidebar_stories, topic_names, cfg.llm)

Model calls run ``[llm] concurrency`` at a time, in story order. A model is
asked under three limits, after which the rest of the issue is written
extractively with one note each: ``give_up_after`` failures in a row, the token
budget, and ``stage_seconds``. A story the model fails costs that story its
model briefing, never the issue.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from newsletter.config import LLMSettings
from newsletter.errors import Stopped
from newsletter.models import Briefing, Grounding, SidebarItem, Story, TopicSection
from newsletter.summarize import BudgetSpent, EndpointDown, PastDeadline, Summarizer, extractive_summarizer

log = logging.getLogger(__name__)


def write_issue(summarizer: Summarizer, sections: dict[str, list[Story]], sidebar: list[Story], topics: list[str],
                settings: LLMSettings, stop: threading.Event | None = None,
                ) -> tuple[list[TopicSection], list[SidebarItem], list[str]]:
    """Briefings for the placed stories (by topic, in ``topics`` order) and blurbs for the sidebar, with
    the problems met on the way; one story's failure costs that story only.

    A model is asked under three limits, after which the rest of the issue is written extractively:
    ``[llm] give_up_after`` failures in a row, the token budget, and the stage's deadline.
    """
    guard = (_ModelGuard(settings.give_up_after, time.monotonic() + settings.stage_seconds, stop)
             if summarizer.costly else None)
    # Model calls are slow and independent: run them side by side, keep the order. Every topic's stories
    # are queued before any result is awaited, so topics share the workers instead of taking turns.
    if guard is not None and hasattr(summarizer, "interrupt"):
        summarizer.interrupt = guard.interrupt  # a story waiting for room in the budget hears a stop and the deadline
    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        queued = {t: [pool.submit(_brief, summarizer, st, guard) for st in sections.get(t, [])] for t in topics}
        briefed = {t: [f.result() for f in futures] for t, futures in queued.items()}
    blurbs, problems = _blurbs(summarizer, sidebar, guard)

    out_sections = []
    for topic in topics:
        briefings = []
        for briefing, trouble in briefed[topic]:
            problems += trouble
            if briefing is not None:
                briefings.append(briefing)
        if briefings:
            out_sections.append(TopicSection(topic, briefings))
    items = [SidebarItem(headline=st.headline, blurb="" if _same_words(blurb, st.headline) else blurb,
                         url=st.articles[0].link, outlet=st.articles[0].outlet, story=st,
                         headline_language=st.headline_language, blurb_language=language, grounding=record)
             for st, (blurb, language, record) in zip(sidebar, blurbs)]
    problems += getattr(summarizer, "notes", [])  # what the model stage adapted to (a small context window)
    if guard is not None:
        problems += guard.report(summarizer.name, settings)
    return out_sections, items, problems


class _ModelGuard:
    """When to stop asking the model for the rest of the issue: after ``limit`` failures in a row (a dead
    or hung endpoint then costs a few timeouts, not one per story), once the token budget is spent, or
    past the stage's deadline."""

    def __init__(self, limit: int, deadline: float, stop: threading.Event | None = None):
        self.limit, self.deadline, self.stop = limit, deadline, stop  # stop: set by `run` on SIGTERM
        self.failures = 0
        self.budget_spent = False
        self.endpoint_down: str | None = None  # why the server cannot be used at all (bad key, unreachable)
        self.skipped = {"endpoint": 0, "failures": 0, "budget": 0, "deadline": 0}
        # Why Recent news was not asked for, if it was not: its lines are the sources' own, and it is no story
        # that "got an extractive briefing".
        self.sidebar_skipped: str | None = None
        self._lock = threading.Lock()

    def closed(self, sidebar: bool = False) -> bool:
        """True (and counted) when this story, or the ``sidebar``, must not go to the model. Raises Stopped
        once the service is stopping: a story boundary is where a build may end, recording nothing."""
        if self.stop is not None and self.stop.is_set():
            raise Stopped("the build of the issue stopped at a story boundary; nothing was recorded")
        with self._lock:
            why = ("endpoint" if self.endpoint_down else "budget" if self.budget_spent else "failures" if self.failures >= self.limit
                   else "deadline" if time.monotonic() > self.deadline else None)
            if why and sidebar:
                self.sidebar_skipped = why
            elif why:
                self.skipped[why] += 1
            return why is not None

    def interrupt(self) -> None:
        """Raises Stopped once the service is stopping, PastDeadline past the stage's deadline: said to a story
        waiting for room in the budget, which has made no call yet and may end there."""
        if self.stop is not None and self.stop.is_set():
            raise Stopped("the build of the issue stopped while a story waited for room in the budget; "
                          "nothing was recorded")
        if time.monotonic() > self.deadline:
            raise PastDeadline()

    def past_deadline(self, sidebar: bool = False) -> None:
        with self._lock:
            if sidebar:
                self.sidebar_skipped = "deadline"
            else:
                self.skipped["deadline"] += 1

    def record(self, ok: bool) -> None:
        with self._lock:
            self.failures = 0 if ok else self.failures + 1

    def give_up(self, e: EndpointDown) -> None:
        """A refused key or an unreachable server fails every story alike: ask nothing more, say it once."""
        with self._lock:
            self.endpoint_down = self.endpoint_down or str(e)
            self.skipped["endpoint"] += 1

    def spend_all(self, sidebar: bool = False) -> None:
        with self._lock:
            self.budget_spent = True
            if sidebar:
                self.sidebar_skipped = "budget"
            else:
                self.skipped["budget"] += 1

    def report(self, name: str, settings: LLMSettings) -> list[str]:
        s = self.skipped
        out = []
        if self.endpoint_down:
            out.append(f"{self.endpoint_down} The model was not asked again: the briefings from there on "
                       "are extractive")
        sidebar = {why: "Recent news has the sources' own sentences" for why in [self.sidebar_skipped] if why}
        if s["failures"] or "failures" in sidebar:
            rest = [] if not s["failures"] else ["the other story, which got an extractive briefing"] \
                if s["failures"] == 1 else [f"the other {s['failures']} stories, which got extractive briefings"]
            rest += ["Recent news, which has the sources' own sentences"] if "failures" in sidebar else []
            out.append(f"{name} failed {self.limit} times in a row; the model was not asked for "
                       + ", nor for ".join(rest))
        if s["budget"] or "budget" in sidebar:
            out.append(f"the issue's model budget ([llm] max_tokens_per_issue = {settings.max_tokens_per_issue}) "
                       f"was spent; {_extractive(s['budget'], sidebar.get('budget'))}")
        if s["deadline"] or "deadline" in sidebar:
            out.append(f"the model stage passed its deadline ([llm] stage_seconds = {settings.stage_seconds:g}); "
                       f"{_extractive(s['deadline'], sidebar.get('deadline'))}")
        return out


def _extractive(n: int, sidebar: str | None = None) -> str:
    told = [] if not n else ["1 story got an extractive briefing"] if n == 1 else \
        [f"{n} stories got extractive briefings"]
    return "; ".join(told + ([sidebar] if sidebar else []))


def _brief(summarizer: Summarizer, story: Story, guard: _ModelGuard | None) -> tuple[Briefing | None, list[str]]:
    if guard is not None and guard.closed():
        return extractive_summarizer().brief(story), []
    try:
        briefing = summarizer.brief(story)
        if guard is not None:
            guard.record(ok=True)
        return briefing, []
    except Stopped:
        raise
    except BudgetSpent:
        guard.spend_all()
        return extractive_summarizer().brief(story), []
    except PastDeadline:
        guard.past_deadline()
        return extractive_summarizer().brief(story), []
    except EndpointDown as e:
        guard.give_up(e)  # reported once, by the guard
        return extractive_summarizer().brief(story), []
    except Exception as e:  # noqa: BLE001 - any failure of one story is reported, not raised
        if guard is not None:
            guard.record(ok=False)
        log.debug("summarizer failed on %r: %s", story.headline, e)  # the problem below is the warning: told once
        problem = f"story {story.headline!r}: {summarizer.name} failed ({e}); used the extractive briefing"
        try:
            return extractive_summarizer().brief(story), [problem]
        except Exception as e2:  # noqa: BLE001
            return None, [problem, f"story {story.headline!r}: dropped ({e2})"]


def _same_words(blurb: str, headline: str) -> bool:
    """Whether a Recent news line only says its headline again (a link post with no text has nothing else,
    and a model may answer with the title): shown under the headline, it would read twice."""
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.casefold())
    return words(blurb) == words(headline)


def _blurbs(summarizer: Summarizer, stories: list[Story], guard: _ModelGuard | None,
            ) -> tuple[list[tuple[str, str | None, Grounding | None]], list[str]]:
    """One line per sidebar story, with the language of the source it quotes (None for the model's own) and
    what the gate did to the model's line: from one batched model call when a model writes, else (and where
    the model's line is refused) extractive."""
    fallback = extractive_summarizer()
    batch = getattr(summarizer, "blurbs", None)
    if stories and batch is not None and guard is not None and not guard.closed(sidebar=True):
        try:
            written, records = batch(stories)
            return [((text, None) if text else fallback.sourced_blurb(st)) + (record,)
                    for text, st, record in zip(written, stories, records)], []
        except Stopped:
            raise
        except BudgetSpent:
            guard.spend_all(sidebar=True)
        except PastDeadline:
            guard.past_deadline(sidebar=True)
        except EndpointDown as e:
            guard.give_up(e)
        except Exception as e:  # noqa: BLE001 - the sidebar then goes extractive, the issue goes on
            log.debug("sidebar blurbs failed: %s", e)  # the problem below is the warning: told once
            return [fallback.sourced_blurb(st) + (None,) for st in stories], [
                f"Recent news: {summarizer.name} failed ({e}); used the sources' own sentences"]
    return [fallback.sourced_blurb(st) + (None,) for st in stories], []
