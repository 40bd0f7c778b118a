"""What the commands print: the two consoles, the feeds' table and progress bar, and the reports of an
issue, a send and each delivery.

Feed text reaches a terminal through ``shown`` only: control characters become visible escapes and
rich markup is escaped, so a feed's title cannot retitle the window or colour the screen.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from newsletter.config import Config
from newsletter.controls import escape_controls
from newsletter.errors import NewsletterError
from newsletter.models import Delivery, DeliveryStatus, FeedReport, FeedStatus, Issue, is_remote
from newsletter.wording import counted, usage_said

if TYPE_CHECKING:
    from newsletter.pipeline import Sent  # the pipeline loads when a command runs, not for --help

# Piped into a file or grep, a line is not wrapped at 80 columns (a path or a URL split in two is not found
# again): prints keep their lines whole, tables get room. COLUMNS, when set, still decides.
PIPED_WIDTH = 200


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)


out = _console()
err = _console(stderr=True)


def stop_on(problems: list[NewsletterError]) -> None:
    """Each problem as the one line main() prints for an error, then the first one's exit status."""
    for problem in problems:
        err.print(f"[red]error[/]: {escape(str(problem))}", highlight=False, soft_wrap=True)
    if problems:
        sys.exit(problems[0].exit_code)


class _FeedBar:
    """The feeds' progress bar on a terminal: called once per feed done; ``finish`` takes it away."""

    def __init__(self, bar: Progress, total: int):
        self.bar, self.task = bar, bar.add_task("feeds", total=total)

    def __call__(self, _report: FeedReport) -> None:
        self.bar.advance(self.task)

    def finish(self) -> None:
        self.bar.stop()


@contextmanager
def feed_progress(total: int) -> Iterator[_FeedBar]:
    columns = (TextColumn("[bold]feeds"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        yield _FeedBar(bar, total)


def shown(text: str | None) -> str:
    """Feed text made safe for a terminal: control characters (an escape sequence could retitle the
    window or clear the screen) become visible escapes, and rich markup is escaped."""
    return escape(escape_controls(text or ""))


_STATUS_COLOUR = {FeedStatus.NEW: "green", FeedStatus.UNCHANGED: "cyan", FeedStatus.SKIPPED: "yellow",
                  FeedStatus.FAILED: "red", FeedStatus.GONE: "red", FeedStatus.DISABLED: "yellow"}


def feed_table(reports: list[FeedReport], title: str, probe: bool = False) -> None:
    table = Table(title=title, title_justify="left")
    columns = ("topic", "feed", "status", "entries", "problem") if probe else ("topic", "feed", "status", "new", "entries", "problem")
    for col in columns:
        table.add_column(col, overflow="fold", justify="right" if col in ("new", "entries") else "left")
    urls = _short_urls([r.url for r in reports if is_remote(r.url)])
    for r in reports:
        colour = _STATUS_COLOUR.get(r.status, "white")
        label = "ok" if probe and r.status == FeedStatus.NEW else str(r.status)  # a probe stores nothing new
        counts = (str(r.seen),) if probe else (str(r.new), str(r.seen))
        problem = "; ".join([r.error] if r.error else r.notes)  # a note: read, but only in part
        table.add_row(shown(r.topic), _feed_cell(r, urls), f"[{colour}]{label}[/]", *counts, shown(problem))
    out.print(table)


def _feed_cell(r: FeedReport, urls: dict[str, str]) -> str:
    """A URL feed by its URL: by the host alone (or one title) several feeds of one site read the
    same. Above it the outlet's name when the config or the feed gave one, not just the host."""
    if r.url not in urls:
        return shown(r.outlet or r.url)
    from newsletter.ingest.parse import outlet_from_url

    named = r.outlet and r.outlet != outlet_from_url(r.url)
    return (f"{shown(r.outlet)}\n" if named else "") + f"[dim]{shown(urls[r.url])}[/]"


_URL_WIDTH = 60  # a feed URL longer than this loses the middle of its path in the tables


def _short_urls(urls: list[str]) -> dict[str, str]:
    """Each URL, or a long one as scheme://host/…tail; a URL whose short form another shares is
    shown whole, so no two rows ever read the same."""
    short = {u: _middle_out(u) for u in urls}
    seen: dict[str, int] = {}
    for u in set(urls):
        seen[short[u]] = seen.get(short[u], 0) + 1
    return {u: s if seen[s] == 1 else u for u, s in short.items()}


def _middle_out(url: str) -> str:
    if len(url) <= _URL_WIDTH:
        return url
    scheme, _, rest = url.partition("://")
    head = f"{scheme}://{rest.split('/', 1)[0]}/"
    tail = max(_URL_WIDTH - len(head) - 1, 20)  # the host and the feed's own file name are what tell feeds apart
    return url if len(head) + 1 + tail >= len(url) else f"{head}…{url[-tail:]}"


def report_issue(cfg: Config, issue: Issue, problems: list[str]) -> None:
    n = len(issue.briefings)
    out.print(f"[bold]{shown(issue.title)}[/] — {issue.date.isoformat()}: {counted(n, 'briefing')}, "
              f"{len(issue.sidebar)} in Recent news"
              + escape(f"; {counted(issue.left_out, 'more new story', 'more new stories')} left out "
                       "(room: [newsletter] max_stories per topic, sidebar_size)" if issue.left_out else ""),
              soft_wrap=True, highlight=False)
    if issue.usage is not None:
        out.print(usage_said(issue.usage, cfg.llm))  # with its cost when [llm] has prices
    # A Recent news line the model wrote is checked as a briefing is: its refusals are told beside theirs.
    grounded = [b for b in issue.briefings + issue.sidebar if b.grounding is not None]
    if grounded:
        dropped = [(b, d) for b in grounded for d in b.grounding.dropped]
        recited = sum(b.grounding.recited for b in grounded)
        # A bullet kept under other numbers than the model gave them: the reader's [2] is not the model's.
        moved = f", {recited} re-cited to the source that holds them" if recited else ""
        out.print(f"grounding: {sum(b.grounding.checked for b in grounded)} sentences checked, {len(dropped)} dropped "
                  f"(a claim not in the source it cites){moved}")
        for b, d in dropped:
            # The claim before the reason: a reason may end on what was done instead ("replaced with the lead
            # source's own"), and a claim after it read as what the headline had been replaced with.
            err.print(f"[yellow]dropped[/] {shown(d.section)} of {shown(repr(b.headline))} for {shown(repr(d.claim))}: "
                      f"{shown(d.reason)}", soft_wrap=True)
    for problem in problems:
        err.print(f"[yellow]warning[/]: {shown(problem)}", soft_wrap=True)  # a path or URL stays whole


def report_dry_run(cfg: Config, dry) -> None:
    if dry.built is not None:
        report_issue(cfg, dry.built.issue, dry.built.problems)
    for note in dry.notes:
        out.print(f"note: {shown(note)}")
    size = len(dry.email.html.encode()) // 1024
    what = (f"today's recorded issue (made at {dry.recorded_at:%H:%M} UTC)" if dry.recorded_at is not None
            else "a new issue")
    if dry.already:
        out.print(f"already had it: {shown(', '.join(dry.already))}", soft_wrap=True)
    report_skipped(cfg, dry.unsubscribed)
    if dry.would_send:
        out.print(f"dry run: would send {what}, {shown(repr(dry.email.subject))} ({size} KB HTML), "
                  f"via {cfg.delivery.transport} to {shown(', '.join(dry.would_send))}", soft_wrap=True)
    elif dry.already:
        out.print(f"dry run: nothing to send; every recipient has {what}", soft_wrap=True)
    else:
        out.print("dry run: nothing to send; every recipient unsubscribed", soft_wrap=True)


def report_skipped(cfg: Config, unsubscribed: list[str]) -> None:
    """The recipients a send leaves out because they left by a one-click link, and how to let one back."""
    if unsubscribed:
        out.print(f"unsubscribed, skipped: {shown(', '.join(unsubscribed))}; "
                  f"`{shown(cfg.command('resubscribe', 'ADDR'))}` lets one back", soft_wrap=True, highlight=False)


def report_unsubscribed(cfg: Config) -> None:
    """How many addresses left by a one-click link (they are skipped until `resubscribe`)."""
    import sqlalchemy as sa

    from newsletter.edges import open_store

    store = open_store(cfg, readonly=True)
    try:
        gone = store.unsubscribed(cfg.newsletter.title)
    except sa.exc.DatabaseError:
        gone = set()  # a store from before the web side: nobody could have unsubscribed yet
    finally:
        store.close()
    out.print(f"{counted(len(gone), 'unsubscribed address', 'unsubscribed addresses')}" + (": skipped by send and run; "
              f"`{shown(cfg.command('resubscribe', 'ADDR'))}` lets one back" if gone else ""),
              soft_wrap=True, highlight=False)


def report_send(cfg: Config, sent: Sent) -> None:
    """What is being sent, before the first message goes out."""
    if sent.recorded_at is not None:
        out.print(f"today's issue was recorded at {sent.recorded_at:%H:%M} UTC; "
                  "sending that same email to recipients who have not had it")
    else:
        report_issue(cfg, sent.built.issue, sent.problems)
    flush()


def report_delivery(d: Delivery) -> None:
    """One recipient's line, as soon as it is done: a send cut short has already said what it did, even
    into a file."""
    if d.earlier and d.status is DeliveryStatus.SENT:
        out.print(f"already had it: {shown(d.recipient)}", soft_wrap=True)
    elif d.earlier:
        out.print(f"being sent by another process: {shown(d.recipient)}", soft_wrap=True)
    elif d.ok:
        out.print(f"[green]sent[/] {shown(d.recipient)} -> {shown(d.location)}", soft_wrap=True)
    elif d.status is DeliveryStatus.FAILED:
        err.print(f"[red]failed[/] {shown(d.recipient)}: {shown(d.error)}", soft_wrap=True, highlight=False)
    else:  # a 4xx, a dropped connection: the same words `status` counts it under
        err.print(f"[yellow]owed[/] {shown(d.recipient)}: {shown(d.error)}; tried again by the next send or by run",
                  soft_wrap=True, highlight=False)
    flush()


def report_stopped(done: list[Delivery], to: list[str] | None, again: str) -> None:
    """The last line of a send stopped by Ctrl-C: what went out, what is owed, how to finish. ``to``: the
    recipients, None when the stop came before the issue was ready to go."""
    if to is None:
        out.print(f"interrupted before any message went out; `{shown(again)}` sends today's issue",
                  soft_wrap=True, highlight=False)
    else:
        sent = sum(d.ok and not d.earlier for d in done)
        had = sum(d.ok and d.earlier for d in done)
        failed = sum(d.status is DeliveryStatus.FAILED for d in done)
        left = owed(done, to)
        out.print(f"interrupted: {sent} sent, {left} owed" + (f", {failed} failed" if failed else "")
                  + (f", {had} had it already" if had else "") + f"; run `{shown(again)}` again to finish",
                  soft_wrap=True, highlight=False)
    flush()


def owed(done: list[Delivery], to: list[str]) -> int:
    """How many of ``to`` this send left without the issue for a reason that may pass."""
    return len(to) - sum(d.ok or d.status is DeliveryStatus.FAILED for d in done)


def flush() -> None:
    out.file.flush()
    err.file.flush()
