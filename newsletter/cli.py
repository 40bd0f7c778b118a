"""The ``newsletter`` command.

Each command's docstring is its --help. A mistake in the config or the
command line ends with one message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from newsletter import __version__
from newsletter.clock import SystemClock
from newsletter.config import Config, load_config
from newsletter.errors import ConfigError, NewsletterError
from newsletter.models import Delivery, FeedReport, Issue

out = Console()
err = Console(stderr=True)

config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None, envvar="NEWSLETTER_CONFIG",
    help="Config file. Default: ./newsletter.toml, then ./config/newsletter.toml.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Multi-source news briefings from RSS/Atom feeds, delivered by email.

    \b
    Quick start (offline, no key needed):
      newsletter preview          build the demo issue and show where it is
      newsletter send             write it as .eml into the outbox
    """
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(console=err, show_path=False)])
    # httpx logs every request at INFO, URLs with query strings included; keep that for -vv.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


@cli.command()
@config_option
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the HTML; .txt and .json go beside it. Default: preview/issue-DATE.html")
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML in a browser.")
@click.option("--no-fetch", is_flag=True, help="Build from stored articles only; don't pull feeds.")
def preview(config_path: str | None, out_path: str | None, open_browser: bool, no_fetch: bool) -> None:
    """Build today's issue and write it to files; send nothing.

    \b
    Writes FILE.html (CSS inlined), FILE.txt (the plain-text part) and
    FILE.json (the structured issue), then prints their paths.
    \b
    Examples:
      newsletter preview
      newsletter preview --config my.toml --out /tmp/today.html --open
    """
    from newsletter.pipeline import build_issue
    from newsletter.render import issue_document, render_issue

    cfg = load_config(config_path)
    with _store(cfg) as store, _feed_progress(len(cfg.feeds)) as progress:
        issue = build_issue(cfg, store, _summarizer(cfg), SystemClock(), progress=progress, fetch_first=not no_fetch)
    email = render_issue(issue, cfg)

    html_path = Path(out_path) if out_path else Path("preview") / f"issue-{issue.date.isoformat()}.html"
    if html_path.suffix.lower() not in (".html", ".htm"):
        html_path = html_path.with_suffix(".html")
    paths = _write_preview(html_path, email.html, email.text, issue_document(issue))
    _report_issue(issue)
    for p in paths:
        out.print(escape(str(p)), soft_wrap=True, highlight=False)
    if open_browser:
        webbrowser.open(paths[0].resolve().as_uri())


@cli.command()
@config_option
@click.option("--to", "recipients", multiple=True, metavar="ADDR",
              help="Send to this address instead of the config's list (repeatable).")
@click.option("--dry-run", is_flag=True, help="Build and render, show what would be sent, send and record nothing.")
def send(config_path: str | None, recipients: tuple[str, ...], dry_run: bool) -> None:
    """Build today's issue and deliver it through the configured transport.

    \b
    With the demo config this writes one .eml per recipient into the outbox.
    Each recipient gets an issue once: running it again the same day
    delivers only to those not yet served.
    \b
    Examples:
      newsletter send
      newsletter send --to me@example.com --dry-run
    """
    from newsletter.deliver import make_transport
    from newsletter.pipeline import build_issue, send_issue
    from newsletter.render import render_issue

    cfg = load_config(config_path)
    to = list(recipients) or cfg.newsletter.to
    transport = None if dry_run else make_transport(cfg)  # a missing password fails before any work
    with _store(cfg) as store, _feed_progress(len(cfg.feeds)) as progress:
        if dry_run:
            issue = build_issue(cfg, store, _summarizer(cfg), SystemClock(), progress=progress)
            email = render_issue(issue, cfg)
            _report_issue(issue)
            out.print(f"dry run: would send {email.subject!r} ({len(email.html.encode()) // 1024} KB HTML) "
                      f"via {cfg.delivery.transport} to {', '.join(to)}")
            return
        run = send_issue(cfg, store, _summarizer(cfg), transport, SystemClock(), recipients=to, progress=progress)
    if run.resumed:
        out.print(f"today's issue was recorded at {run.issue.generated_at:%H:%M} UTC; "
                  "sending that same email to recipients who have not had it")
    else:
        _report_issue(run.issue)
    if not _report_deliveries(run.deliveries):
        sys.exit(1)


@cli.command()
@config_option
def check(config_path: str | None) -> None:
    """Validate the config and try every feed, printing each feed's status.

    Exits 1 when any feed fails, so it can gate a deploy or a cron job.
    """
    from newsletter.ingest import probe_feeds

    cfg = load_config(config_path)
    out.print(f"[green]config ok[/]: {cfg.path} ({len(cfg.topics)} topics, {len(cfg.feeds)} feeds, "
              f"summarizer: {'LLM ' + cfg.llm.model if cfg.llm_enabled and cfg.llm.model else 'LLM' if cfg.llm_enabled else 'extractive'}, "
              f"delivery: {cfg.delivery.transport})")
    with _feed_progress(len(cfg.feeds)) as progress:
        reports = probe_feeds(cfg.feeds, settings=cfg.fetch, clock=SystemClock(), progress=progress)
    _feed_table(reports, title="Feeds", probe=True)
    bad = [r for r in reports if not r.ok]
    if bad:
        err.print(f"[red]{len(bad)} of {len(reports)} feeds failed[/]")
        sys.exit(1)


@cli.command()
@config_option
def fetch(config_path: str | None) -> None:
    """Pull every feed once and store new articles; prints new, unchanged and failed per feed.

    Articles accumulate between issues, so running this during the day (the
    scheduler does) catches items that fall off short feeds before the next issue.
    """
    from newsletter import pipeline

    cfg = load_config(config_path)
    with _store(cfg) as store, _feed_progress(len(cfg.feeds)) as progress:
        reports = pipeline.fetch(cfg, store, SystemClock(), progress=progress)
    _feed_table(reports, title="Fetch")
    new = sum(r.new for r in reports)
    bad = sum(not r.ok for r in reports)
    out.print(f"{new} new articles from {len(reports) - bad} feeds" + (f"; [red]{bad} failed[/]" if bad else ""))


@cli.command()
@config_option
def run(config_path: str | None) -> None:
    """Run the daily service: poll feeds all day, send the issue at send_at.

    \b
    Polls every [fetch] poll_minutes and sends at [newsletter] send_at in
    [newsletter] timezone. Started after send_at on a day whose issue has not
    gone out, it sends at once. Stop it with Ctrl-C.
    \b
    Example:
      newsletter run --config /etc/newsletter.toml
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    from newsletter import pipeline, schedule
    from newsletter.deliver import make_transport

    cfg = load_config(config_path)
    make_transport(cfg)  # a missing SMTP password fails now, not at 07:00
    clock = SystemClock()

    def poll() -> None:
        with _store(cfg) as store:
            reports = pipeline.fetch(cfg, store, clock)
        logging.getLogger("newsletter").info("polled %d feeds: %d new articles, %d failed",
                                             len(reports), sum(r.new for r in reports), sum(not r.ok for r in reports))

    def send_job() -> None:
        with _store(cfg) as store:
            result = pipeline.send_issue(cfg, store, _summarizer(cfg), make_transport(cfg), clock)
        _report_deliveries(result.deliveries)

    scheduler = BlockingScheduler(timezone=cfg.newsletter.tz)
    schedule.add_jobs(scheduler, cfg, poll=poll, send=send_job)
    with _store(cfg) as store:
        sent = store.issue_delivered(pipeline.todays_key(cfg, clock.now()), cfg.newsletter.to)
    if schedule.due_today(cfg, clock.now(), sent):
        scheduler.add_job(send_job, id="catch-up", name="send today's overdue issue")
    out.print(f"newsletter running: {len(cfg.feeds)} feeds polled every {cfg.fetch.poll_minutes} min, "
              f"issue at {cfg.newsletter.send_at} {cfg.newsletter.timezone}. Ctrl-C stops.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


# -- helpers ---------------------------------------------------------------


def _summarizer(cfg: Config):
    from newsletter.summarize import make_summarizer

    return make_summarizer(cfg)


@contextmanager
def _store(cfg: Config) -> Iterator:
    import sqlalchemy.exc

    from newsletter.store import Store

    try:
        store = Store.open(cfg.store_url)
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError) as e:
        raise ConfigError(cfg.path, "[store] url", f"{cfg.store.url!r} is not a usable database URL ({e}).",
                          "use a file path for SQLite, or a URL like postgresql+psycopg://user@host/db.") from None
    except (sqlalchemy.exc.OperationalError, OSError) as e:
        raise ConfigError(cfg.path, "[store] url", f"cannot open the database {cfg.store.url!r} ({_first_line(e)}).",
                          "check the path exists and is writable, or that the database server is up.") from None
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _feed_progress(total: int) -> Iterator[Callable[[FeedReport], None]]:
    columns = (TextColumn("[bold]feeds"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("feeds", total=total)
        yield lambda _report: bar.advance(task)


def _feed_table(reports: list[FeedReport], title: str, probe: bool = False) -> None:
    colour = {"new": "green", "ok": "green", "unchanged": "cyan", "skipped": "yellow", "failed": "red", "gone": "red"}
    table = Table(title=title, title_justify="left")
    columns = ("topic", "feed", "status", "entries", "problem") if probe else ("topic", "feed", "status", "new", "entries", "problem")
    for col in columns:
        table.add_column(col, overflow="fold", justify="right" if col in ("new", "entries") else "left")
    for r in reports:
        status = "ok" if probe and r.status == "new" else r.status  # a probe stores nothing, so nothing is "new"
        counts = (str(r.seen),) if probe else (str(r.new), str(r.seen))
        table.add_row(escape(r.topic), escape(r.outlet or r.url), f"[{colour.get(status, 'white')}]{status}[/]",
                      *counts, escape(r.error or ""))
    out.print(table)


def _report_issue(issue: Issue) -> None:
    n = len(issue.briefings)
    out.print(f"[bold]{escape(issue.title)}[/] — {issue.date.isoformat()}: {n} briefings, {len(issue.sidebar)} in Recent news")
    for problem in issue.problems:
        err.print(f"[yellow]warning[/]: {escape(problem)}")


def _report_deliveries(deliveries: list[Delivery]) -> bool:
    """One line per recipient; True when none failed."""
    from newsletter.deliver import ALREADY_SENT

    for d in deliveries:
        if d.location == ALREADY_SENT:
            out.print(f"already had it: {escape(d.recipient)}", soft_wrap=True)
        elif d.ok:
            out.print(f"[green]sent[/] {escape(d.recipient)} -> {escape(d.location)}", soft_wrap=True)
        else:
            err.print(f"[red]failed[/] {escape(d.recipient)}: {escape(d.error or '')}", soft_wrap=True)
    return all(d.ok for d in deliveries)


def _write_preview(html_path: Path, html: str, text: str, document: dict) -> list[Path]:
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        txt_path, json_path = html_path.with_suffix(".txt"), html_path.with_suffix(".json")
        html_path.write_text(html, encoding="utf-8")
        txt_path.write_text(text, encoding="utf-8")
        json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as e:
        raise NewsletterError(f"cannot write the preview to {html_path} ({e.strerror}). "
                              "Fix: pass --out with a path in a writable folder.") from None
    return [html_path, txt_path, json_path]


def _first_line(e: Exception) -> str:
    return str(getattr(e, "orig", e)).splitlines()[0]


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except NewsletterError as e:
        err.print(f"[red]error[/]: {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
