"""The ``newsletter`` command.

Each command's docstring is its --help. A mistake in the config or the
command line ends with one message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.logging import RichHandler
from rich.markup import escape
from rich.text import Text

from newsletter import __version__, console
from newsletter.clock import SystemClock
from newsletter.console import err, out, shown
from newsletter.config import DEFAULT_LOCATIONS, Config, check_feed_paths, load_config
from newsletter.errors import ConfigError, NewsletterError, Stopped
from newsletter.models import Delivery, DeliveryStatus, FeedStatus
from newsletter.wording import counted

if TYPE_CHECKING:
    from newsletter.pipeline import Sent  # the pipeline loads when a command runs, not for --help

# Where load_config looks when no --config is given, said once for every command (built from its own list,
# so the help cannot drift from what find_config does).
CONFIG_DEFAULT = "Default: $NEWSLETTER_CONFIG, then " + ", then ".join(f"./{p}" for p in DEFAULT_LOCATIONS) + "."

# No envvar here: load_config reads $NEWSLETTER_CONFIG itself, so that a wrong path from it says so.
config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
    help=f"Config file. {CONFIG_DEFAULT}",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", envvar="NEWSLETTER_LOG_FORMAT",
              help="json: one JSON object per log line (time, level, logger, message, job fields), for collectors.")
def cli(verbose: int, log_format: str) -> None:
    """Multi-source news briefings from RSS/Atom feeds, delivered by email.

    \b
    Quick start (offline, no key needed):
      newsletter preview          build the demo issue and show where it is
      newsletter send             write it as .eml into the outbox
    """
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    from newsletter import logs

    # A terminal gets rich's columns; a file or journald one plain line per message, since rich pads
    # each line to the console's width and wraps a long one (see console._console).
    terminal = RichHandler(console=err, show_path=False, log_time_format=lambda t: Text(logs.terminal_time(t)))
    logs.setup(level, log_format, terminal if err.is_terminal else None)
    # httpx logs every request at INFO, URLs with query strings included; keep that for -vv.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


@cli.command()
@config_option
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the HTML; .txt and .json go beside it. Default: preview/issue-DATE.html")
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML (with --serve: the viewer) in a browser.")
@click.option("--no-fetch", is_flag=True, help="Build from stored articles only; don't pull feeds.")
@click.option("--serve", is_flag=True,
              help="Then serve the latest preview on 127.0.0.1 with desktop, phone and dark views until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="The --serve port (default 8025; 0 picks a free one).")
def preview(config_path: str | None, out_path: str | None, open_browser: bool, no_fetch: bool, serve: bool,
            port: int | None) -> None:
    """Build today's issue and write it to files; send nothing.

    \b
    Writes FILE.html (CSS inlined), FILE.txt (the plain-text part) and
    FILE.json (the structured issue), then prints their paths.
    With --serve it then shows the newest preview at http://127.0.0.1:8025/
    (this machine only), switching between desktop, phone and dark views;
    the page reloads when another `newsletter preview` rebuilds the issue.
    \b
    Examples:
      newsletter preview
      newsletter preview --config my.toml --out /tmp/today.html --open
      newsletter preview --serve --open
    """
    from newsletter import pipeline
    from newsletter.edges import open_edges

    cfg = load_config(config_path)
    with open_edges(cfg) as edges, console.feed_progress(len(cfg.feeds)) as progress:
        built, paths = pipeline.preview(cfg, edges, Path(out_path) if out_path else None, fetch_first=not no_fetch,
                                        progress=progress)
    console.report_issue(cfg, built.issue, built.problems)
    for p in paths:
        out.print(escape(str(p)), soft_wrap=True, highlight=False)
    if serve:
        _serve_preview(paths[0], named=out_path is not None, port=port, open_browser=open_browser)
    elif open_browser and not webbrowser.open(paths[0].resolve().as_uri()):
        err.print("no web browser found to open it; open the .html file above yourself", highlight=False)


def _stops_on_ctrl_c() -> None:
    """SIGINT (Ctrl-C, ``kill -INT``) stops a server even when it was started with SIGINT ignored, as a
    shell starts a command put in the background with ``&``: it would have served on, unstoppable but by
    SIGKILL."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _serve_preview(html_path: Path, *, named: bool, port: int | None, open_browser: bool) -> None:
    from newsletter.preview_server import DEFAULT_PORT, PreviewServer

    # The default name carries the date, so tomorrow's rebuild is a new file: serve the newest one.
    pattern = html_path.name if named else "issue-*.html"
    with PreviewServer(html_path.parent, pattern, port=DEFAULT_PORT if port is None else port) as server:
        out.print(f"serving the preview on {server.url} (this machine only); Ctrl-C stops",
                  soft_wrap=True, highlight=False)
        if open_browser and not webbrowser.open(server.url):
            err.print(f"no web browser found; open {server.url} yourself", soft_wrap=True, highlight=False)
        _stops_on_ctrl_c()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            out.print("preview server stopped")


@cli.command()
@config_option
@click.option("--to", "recipients", multiple=True, metavar="ADDR",
              help="Send to this address instead of the config's list (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Show what a send would deliver now and to whom; fetch into memory, write and send nothing.")
def send(config_path: str | None, recipients: tuple[str, ...], dry_run: bool) -> None:
    """Build today's issue and deliver it through the configured transport.

    \b
    With the demo config this writes one .eml per recipient into the outbox.
    Each recipient gets an issue once: running it again the same day
    delivers the recorded email only to those not yet served. Two sends at
    once (a cron job beside the service) build one issue between them.
    Ctrl-C lets the message in flight finish, says how many were sent and
    how many are owed, and exits 130; a second Ctrl-C stops at once.
    \b
    Examples:
      newsletter send
      newsletter send --to me@example.com --dry-run
    """
    from newsletter import pipeline
    from newsletter.edges import open_edges

    cfg = load_config(config_path)
    to = _addresses(recipients) or None
    if dry_run:
        with open_edges(cfg, readonly=True) as edges, console.feed_progress(len(cfg.feeds)) as progress:
            dry = pipeline.dry_run(cfg, edges, recipients=to, progress=progress)
        console.report_dry_run(cfg, dry)
        return
    # Each line is printed as its recipient is done, so a send stopped midway has said what it did.
    ready: list[Sent] = []
    done: list[Delivery] = []
    again = cfg.command("send", *(a for r in recipients for a in ("--to", r)))
    with _stop_on_signal() as stop:
        try:
            with open_edges(cfg, transport=True) as edges, console.feed_progress(len(cfg.feeds)) as progress:
                edges.stop = stop

                def on_ready(sent: Sent) -> None:
                    progress.finish()  # the bar's line gives way to what the send prints
                    ready.append(sent)
                    console.report_send(cfg, sent)
                    console.report_skipped(cfg, sent.unsubscribed)

                def on_delivery(d: Delivery) -> None:
                    done.append(d)
                    console.report_delivery(d)

                sent = pipeline.send(cfg, edges, recipients=to, progress=progress, on_ready=on_ready,
                                     on_delivery=on_delivery)
        except (KeyboardInterrupt, Stopped):  # a second Ctrl-C, or the first one while the issue was being built
            console.report_stopped(done, ready[0].to if ready else None, again)
            sys.exit(128 + stop.signum)
    if stop.is_set() and (sent.in_progress or console.owed(done, sent.to)):  # a stop after the last message cut nothing off
        console.report_stopped(done, None if sent.in_progress else sent.to, again)
        sys.exit(128 + stop.signum)
    if sent.in_progress:
        out.print("another process is building today's issue; it will deliver it. Nothing sent from here.")
        return
    if sent.nothing_new:
        console.report_issue(cfg, sent.built.issue, sent.problems)
        out.print(escape("nothing new since the last issue: no issue sent ([newsletter] send_empty = false); "
                         "the next one covers what arrives"), soft_wrap=True, highlight=False)
        return
    # A recipient left owed (a 4xx, a dropped connection) is no success either: cron and `&&` must hear of it.
    if any(d.status is DeliveryStatus.FAILED and not d.earlier for d in done) or console.owed(done, sent.to):
        sys.exit(1)


@cli.command()
@config_option
def check(config_path: str | None) -> None:
    """Validate the config and try every feed, printing each feed's status.

    Also checks the secrets `send` reads from the environment (the SMTP
    password, the unsubscribe links' key) and stops with send's message,
    exit 2, when one is missing; and that the store's folder and the outbox
    can be written (tried with a temporary file, removed again), exit 2
    naming [store] url or [delivery] outbox. It contacts no mail server.
    With a model configured it asks the model server (and an embeddings
    server) for its list of models, which spends no tokens: is it up, does
    it take the key, does it serve [llm] model?
    Exits 1 when any feed fails or a model server cannot be used, so it can
    gate a deploy or a cron job.

    \b
    Examples:
      newsletter check
      newsletter check --config /etc/newsletter.toml
    """
    from newsletter import pipeline
    from newsletter.edges import check_secrets
    from newsletter.folders import folder_problems

    cfg = load_config(config_path)
    check_feed_paths(cfg)  # only here: elsewhere a missing feed file is one broken feed, reported
    check_secrets(cfg)  # what send would refuse, check refuses too
    console.stop_on(folder_problems(cfg))  # and a store or outbox send could not write
    out.print(f"[green]config ok[/]: {escape(str(cfg.path))} ({counted(len(cfg.topics), 'topic')}, "
              f"{counted(len(cfg.feeds), 'feed')}, "
              f"summarizer: {escape(_summarizer_label(cfg))}, delivery: {cfg.delivery.transport})")
    with console.feed_progress(len(cfg.feeds)) as progress:
        reports = pipeline.check(cfg, SystemClock(), progress=progress)
    console.feed_table(reports, title="Feeds", probe=True)
    probes = pipeline.probe_models(cfg)
    for p in probes:
        colour = "red" if not p.ok else "green" if p.note == "ok" else "yellow"
        out.print(f"{escape(p.what)}: [{colour}]{escape(p.note)}[/]", soft_wrap=True, highlight=False)
    if cfg.web.base_url:  # only one-click links unsubscribe anyone; without them check opens no store
        console.report_unsubscribed(cfg)
    bad = [r for r in reports if not r.ok]
    if bad:
        err.print(f"[red]{len(bad)} of {counted(len(reports), 'feed')} failed[/]")
    if bad or not all(p.ok for p in probes):
        sys.exit(1)


@cli.command()
@config_option
def fetch(config_path: str | None) -> None:
    """Pull every feed once and store new articles; prints new, unchanged and failed per feed.

    Articles accumulate between issues, so running this during the day (the
    scheduler does) catches items that fall off short feeds before the next issue.
    Exits 1 when a feed failed, like check; the other feeds' articles are
    stored all the same.

    \b
    Examples:
      newsletter fetch
      newsletter fetch --config /etc/newsletter.toml
    """
    from newsletter import pipeline
    from newsletter.edges import open_edges

    cfg = load_config(config_path)
    with open_edges(cfg, summarize=False) as edges, console.feed_progress(len(cfg.feeds)) as progress:
        fetched = pipeline.fetch(cfg, edges, progress=progress)
    reports = fetched.feeds
    console.feed_table(reports, title="Fetch")
    new = sum(r.new for r in reports)
    bad = sum(r.failed for r in reports)  # a feed disabled before was not tried: no reason for a cron job's alarm
    disabled = sum(r.status is FeedStatus.DISABLED for r in reports)
    read = sum(r.ok or r.new > 0 for r in reports)  # a feed cut off in transfer failed, but what came is stored
    out.print(f"{counted(new, 'new article')} from {counted(read, 'feed')}"
              + (f"; [red]{bad} failed[/]" if bad else "")
              + (f"; {disabled} disabled (see status)" if disabled else ""))
    if (e := fetched.embedded) is not None:
        out.print(f"embeddings ({e.model}): {e.embedded} articles embedded, {e.waiting} wait for the next poll"
                  + (f" ([red]{shown(e.error)}[/])" if e.error else ""), soft_wrap=True, highlight=False)
    if bad:  # a cron job's mail or a shell's `&&` should hear of a broken feed, as from check
        sys.exit(1)


configs_option = click.option(
    "--config", "-c", "config_paths", type=click.Path(dir_okay=False), multiple=True, metavar="FILE",
    help=f"Config file, one per newsletter; repeat for several. {CONFIG_DEFAULT}",
)


def _load_configs(paths: tuple[str, ...]) -> list[Config]:
    """Each file is one newsletter; none given: the one default config."""
    return [load_config(p) for p in paths] if paths else [load_config(None)]


@cli.command()
@configs_option
@click.option("--worker", is_flag=True,
              help="One of several processes sharing one PostgreSQL store: poll the feeds leased to this one.")
def run(config_paths: tuple[str, ...], worker: bool) -> None:
    """Run the daily service: poll feeds all day, send each issue at its send_at.

    \b
    Polls every [fetch] poll_minutes and sends at [newsletter] send_at in
    [newsletter] timezone. Started after send_at on a day whose issue has not
    gone out and within [newsletter] grace_hours of send_at, it sends at once.
    A send that leaves recipients owed is retried with backoff through the day.
    \b
    Several newsletters: one config file each, all given with -c. One process
    and one scheduler serve them all; a feed that newsletters sharing a store
    both read is fetched once per poll, and embedded with each one's
    embeddings model.
    \b
    --worker: several processes (on one machine or many) share one PostgreSQL
    store. Each leases batches of due feeds, so each feed is polled by one
    worker per interval; a dead worker's lease runs out after [fetch]
    lease_seconds. Each issue and each recipient is claimed, so every
    newsletter still goes out once.
    \b
    Ctrl-C or SIGTERM stops it cleanly: no new jobs, the message in flight
    finishes, a build in progress stops between stories recording nothing,
    one log line says what was cut off, exit 0. A second signal exits at once.
    \b
    Examples:
      newsletter run --config /etc/newsletter.toml
      newsletter run -c /etc/newsletter/morning.toml -c /etc/newsletter/weekly.toml
      newsletter run --worker -c morning.toml       on each of several machines
      newsletter --log-format json run      one JSON object per log line
    """
    from newsletter import logs, service

    cfgs = _load_configs(config_paths)
    for cfg in cfgs:
        logs.hide_secrets(cfg)
    # A service's log is its report: one line per job and outcome, even without -v.
    logging.getLogger("newsletter").setLevel(min(logging.getLogger().level, logging.INFO))

    def ready() -> None:
        for cfg in cfgs:
            line = (f"newsletter running: {len(cfg.feeds)} feeds polled every {cfg.fetch.poll_minutes} min, "
                    f"issue at {cfg.newsletter.send_at} {cfg.newsletter.timezone}"
                    + (f" ({cfg.newsletter.title})" if len(cfgs) > 1 else "") + ". Ctrl-C stops.")
            if logs.json_lines():  # journald takes stdout too: a collector gets JSON from it as well
                click.echo(logs.json_line(line, job="start", newsletter=cfg.newsletter.title))
            else:
                out.print(line, soft_wrap=True, highlight=False, markup=False)
        out.file.flush()

    sys.exit(service.serve(cfgs, worker=worker, on_ready=ready))


@cli.command()
@configs_option
@click.option("--json", "as_json", is_flag=True, help="Print the same as one JSON object.")
def status(config_paths: tuple[str, ...], as_json: bool) -> None:
    """Show when the next issue goes out, what the last one did, and which feeds need a look.

    \b
    For each newsletter (one config file each, -c repeated as for run): the
    next send (local and UTC); the last issue (when, stories, model calls and
    tokens, recipients sent, failed or owed); feeds failing, with their last
    error and since when; feeds disabled by HTTP 410, with the command that
    re-enables each. Reads the store read-only: safe beside a running service.
    \b
    Examples:
      newsletter status
      newsletter status --json | jq .last_issue
      newsletter status -c morning.toml -c weekly.toml --json | jq '.newsletters[].next_send'
    """
    import json

    from newsletter.edges import open_store
    from newsletter.clock import SystemClock
    from newsletter.status import require_store, status_lines, status_report

    reports = []
    try:
        for cfg in _load_configs(config_paths):
            require_store(cfg)
            store = open_store(cfg, readonly=True)
            try:
                reports.append(status_report(cfg, store, SystemClock().now()))
            finally:
                store.close()
    except NewsletterError as e:
        if as_json:  # a script reading stdout gets JSON whatever happened; the line on stderr stays for people
            click.echo(json.dumps(_error_json(e), indent=2, ensure_ascii=False))
        raise
    if as_json:
        # One newsletter: its report, as ever; several: {"newsletters": [...]} in the order given.
        body = reports[0] if len(reports) == 1 else {"newsletters": reports}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        for n, report in enumerate(reports):
            if n:
                out.print()
            for line in status_lines(report):
                out.print(shown(line), soft_wrap=True, highlight=False)
    if any(r["missed"] for r in reports):  # a monitoring check's answer: an issue that should be out is not
        sys.exit(1)


def _error_json(e: NewsletterError) -> dict:
    """An error as ``status --json`` prints it: {"error": {"message", "exit_code"} and, for a config
    mistake, "config", "key", "problem", "fix"}."""
    body: dict = {"message": str(e), "exit_code": e.exit_code}
    if isinstance(e, ConfigError):
        body.update(config=e.path, key=e.key, problem=e.problem, fix=e.fix)
    return {"error": body}


@cli.group()
def feeds() -> None:
    """Manage feeds' stored state, and bring feeds from another reader.

    \b
    Examples:
      newsletter status                         lists failing and disabled feeds
      newsletter feeds enable https://example.org/feed.xml
      newsletter feeds import subs.opml -c newsletter.toml >> newsletter.toml
    """


@feeds.command("import")
@click.argument("opml_file", metavar="FILE.opml")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
              help="The config the output is for: a topic name it has already is renamed \"NAME (imported)\", a "
                   "feed it has already is left out. Without it nothing is compared: no config is looked for, as "
                   "`>> newsletter.toml` makes that file before the command starts.")
@click.option("--topic", "unfiled", metavar="NAME", default=None,
              help="The topic of feeds outside any folder. Default: the OPML's title, else \"Feeds\".")
def feeds_import(opml_file: str, config_path: str | None, unfiled: str | None) -> None:
    """Print [[topics]] tables for the feeds of an OPML subscription list, to append to the config.

    \b
    Every feed reader exports OPML: rss2email (r2e opml export), Feedly,
    Inoreader, NetNewsWire, Thunderbird, Miniflux... Each folder becomes a
    topic of the same name (a folder in a folder: "Science / Physics"), the
    feeds outside any folder one topic named after the list (or --topic),
    and each feed's title its name. Only http(s) feeds are taken; titles
    lose control characters. The tables go to standard output, so the config
    is appended to, never rewritten: its comments stay. What was renamed or
    skipped, and the count, go to standard error. Add keywords to the new
    topics afterwards, and run `newsletter check`.
    \b
    Examples:
      newsletter feeds import subs.opml -c newsletter.toml >> newsletter.toml
      newsletter feeds import feedly.opml > imported.toml     look first
      newsletter feeds import r2e.opml --topic "Blogs"
    """
    from newsletter.opml import import_opml

    cfg = load_config(config_path) if config_path else None
    imported = import_opml(Path(opml_file), config=cfg, unfiled=unfiled)
    if cfg is not None:
        imported.check_appends_to(cfg)
    for note in imported.notes():
        err.print(f"[yellow]{escape(note)}[/]", soft_wrap=True, highlight=False)
    click.echo(imported.toml(), nl=False)  # plain: rich would wrap lines and read [brackets] as markup
    err.print(escape(imported.summary()), soft_wrap=True, highlight=False)


@feeds.command("enable")
@config_option
@click.argument("url")
def feeds_enable(config_path: str | None, url: str) -> None:
    """Re-enable a feed disabled because it answered HTTP 410 Gone, so the next poll fetches it again.

    \b
    Only a 410 disables a feed. Any other failure (no answer, another HTTP
    error, a feed that does not parse) is tried again at the next poll; a
    server's Retry-After (429, 503) or Cache-Control max-age only puts the
    next fetch off until then. For a disabled feed this clears its "gone"
    mark, its failure count, its last error and any wait; for another, only
    such a wait (its failures stay in status until it works again). URL is
    the feed as `newsletter status` lists it.
    \b
    Example:
      newsletter feeds enable https://example.org/feed.xml
    """
    from dataclasses import replace

    from newsletter.edges import open_store

    cfg = load_config(config_path)
    store = open_store(cfg)
    try:
        state = store.feed_states([url]).get(url)
        if state is None:
            known = sorted(store.feed_states([f.url for f in cfg.feeds]))
            raise NewsletterError(f"no stored feed {url!r}. Fix: give the URL as `{cfg.command('status')}` lists it"
                         + (f" (stored: {', '.join(known)})." if known else "; no feed has been fetched yet."))
        # Only a 410 disables a feed; a server's wait (Retry-After, max-age) only puts the next fetch off.
        waited = state.next_fetch_after if state.next_fetch_after and state.next_fetch_after > SystemClock().now() else None
        if state.gone:  # a fresh start: what it failed with is history now
            store.save_feed_state(replace(state, gone=False, consecutive_failures=0, last_error=None,
                                          next_fetch_after=None, failing_since=None))
        elif waited is not None:  # only the wait goes: a feed that still fails still shows in status
            store.save_feed_state(replace(state, next_fetch_after=None))
    finally:
        store.close()
    if state.gone:
        said = f"enabled {shown(url)}: the next poll fetches it"
    elif waited is not None:
        said = (f"{shown(url)} was not disabled; its wait until {waited:%H:%M} UTC (the server's Retry-After or "
                "max-age) is cleared: the next poll fetches it")
    else:
        said = f"{shown(url)} was not disabled; nothing to change (a failing feed is tried again at every poll)"
    out.print(said, soft_wrap=True, highlight=False)


# -- the web side ---------------------------------------------------------------------------------

@cli.command()
@config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="The folder to write the site into. Default: [web] archive.")
def archive(config_path: str | None, out_dir: str | None) -> None:
    """Write the static web archive of every recorded issue: index, pages, Atom and JSON feeds.

    \b
    The same issues always give the same files, so a cron job or a deploy can
    run it at will. `send` writes it too when [web] archive is set. Copy the
    folder to any web host, or let `newsletter serve` serve it.
    \b
    Example:
      newsletter archive --out site/
    """
    from newsletter import pipeline
    from newsletter.edges import open_store
    from newsletter.web.archive import relative_feeds, write_archive

    cfg = load_config(config_path)
    folder = _archive_folder(cfg, out_dir, "--out")
    store = open_store(cfg, readonly=True)
    try:
        paths = write_archive(cfg, store, folder, pipeline.templates_folder(cfg))
    finally:
        store.close()
    pages = sum(p.parent.name == "issues" for p in paths)
    out.print(f"archive: {counted(pages, 'issue page')}, index and feeds in {shown(str(folder))}", soft_wrap=True,
              highlight=False)
    if warning := relative_feeds(cfg):
        err.print("[yellow]warning[/]: " + escape(warning), soft_wrap=True, highlight=False)


@cli.command()
@config_option
@click.option("--archive", "archive_dir", type=click.Path(file_okay=False), default=None,
              help="The archive folder to serve. Default: [web] archive.")
@click.option("--host", default=None, help="Address to bind. Default: [web] host (127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to bind. Default: [web] port (8026); 0 picks a free one.")
def serve(config_path: str | None, archive_dir: str | None, host: str | None, port: int | None) -> None:
    """Serve the archive and the one-click unsubscribe links until Ctrl-C.

    \b
    GET /u/TOKEN shows an Unsubscribe button; POST /u/TOKEN (the button, or
    a mail client's one-click request, RFC 8058) records it in the store, and
    send and run skip that address from then on. Binds to 127.0.0.1: put a
    reverse proxy with TLS in front (README, "Publishing"). Needs the
    variable [web] secret_env names, the same one `send` used.
    \b
    Example:
      NEWSLETTER_WEB_SECRET=... newsletter serve --port 8026
    """
    from newsletter.web.serve import serve_forever

    cfg = load_config(config_path)
    _stops_on_ctrl_c()
    try:
        serve_forever(cfg, _archive_folder(cfg, archive_dir, "--archive", must_exist=True), host or cfg.web.host,
                      cfg.web.port if port is None else port, on_ready=lambda url: (
                          out.print(f"serving {url} (archive and unsubscribe links); Ctrl-C stops", soft_wrap=True,
                                    highlight=False), out.file.flush()))
    except KeyboardInterrupt:  # uvicorn stops cleanly, then hands Ctrl-C back: the way to stop, no failure
        out.print("server stopped")


@cli.command()
@config_option
@click.argument("address")
def resubscribe(config_path: str | None, address: str) -> None:
    """Let an address that unsubscribed by its link receive issues again.

    \b
    The address must also be in [newsletter] to (add it back there first
    if it was removed).
    \b
    Example:
      newsletter resubscribe ann@example.org
    """
    from newsletter.edges import open_store
    from newsletter.web.tokens import address_key

    cfg = load_config(config_path)
    store = open_store(cfg)
    try:
        was = store.resubscribe(cfg.newsletter.title, address_key(address))
    finally:
        store.close()
    listed = {address_key(a) for a in cfg.newsletter.to}
    if was:
        out.print(f"resubscribed {shown(address)}: the next issue goes to it"
                  + ("" if address_key(address) in listed else escape(", once it is in [newsletter] to")),
                  soft_wrap=True, highlight=False)
    elif address_key(address) in listed:
        out.print(f"{shown(address)} had not unsubscribed; nothing to change", soft_wrap=True, highlight=False)
    else:
        out.print(f"{shown(address)} had not unsubscribed, and it is not in {escape('[newsletter] to')} of "
                  f"{shown(str(cfg.path))} either: add it there to send it issues", soft_wrap=True, highlight=False)


def _archive_folder(cfg: Config, given: str | None, option: str, *, must_exist: bool = False) -> Path:
    """``option``: this command's own option for the folder (archive --out, serve --archive), the one its fix names."""
    if given is None and not cfg.web.archive:
        raise ConfigError(cfg.path, "[web] archive", "no archive folder is set.",
                          f"pass {option} DIR, or set [web] archive = \"site\" in the config.")
    folder = Path(given) if given is not None else cfg.resolve(cfg.web.archive)
    if must_exist and not folder.is_dir():
        raise NewsletterError(f"archive folder {folder} not found. Fix: run `{cfg.command('archive')}` first, "
                              "or pass --archive with the folder it wrote.")
    return folder


# -- what the commands print ------------------------------------------------------------------------

def _addresses(given: tuple[str, ...]) -> list[str]:
    from newsletter.addresses import AddressError, unique_mailboxes

    try:
        return unique_mailboxes(list(given))
    except AddressError as e:
        # Of several --to, the message says which one (repr shows a line break as \n, not as a broken line).
        raise click.BadParameter(f"{e.value!r} {e.problem}. Fix: {e.fix}", param_hint="--to") from None


def _summarizer_label(cfg: Config) -> str:
    if not cfg.llm_enabled:
        return "extractive"
    return f"LLM {cfg.llm.model}" if cfg.llm.model else "LLM"


class _Stop(threading.Event):
    """Set by the first Ctrl-C or SIGTERM; ``signum`` says which."""

    signum: int = signal.SIGINT


@contextmanager
def _stop_on_signal() -> Iterator[_Stop]:
    """Ctrl-C (or SIGTERM) asks the command to stop at its next safe point, as `run` does: the message
    in flight is finished and recorded, the others stay owed. A second one stops at once."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():  # only there can Python take signals
        yield stop
        return

    def on_signal(signum: int, _frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.signum = signum
        stop.set()
        os.write(2, b"stopping after the message in flight; Ctrl-C again stops at once\n")

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _show_click_error(e: click.ClickException) -> None:
    """click's usage lines as they are, its "Error:" as every other message here begins: "error:"."""
    import io
    import re

    text = io.StringIO()
    e.show(file=text)
    click.echo(re.sub(r"^Error: ", "error: ", text.getvalue(), flags=re.M), err=True, nl=False)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as e:
        _show_click_error(e)
        sys.exit(e.exit_code)
    except NewsletterError as e:
        if _json_error(str(e), {k: v for k, v in _error_json(e)["error"].items() if k != "message"}):
            sys.exit(e.exit_code)
        err.print(f"[red]error[/]: {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # a bug: with JSON logs, its traceback is one line's field, not 20 lines that are no JSON
        if not _json_error(f"unexpected error: {type(e).__name__}: {e}", {"exit_code": 1}, exc_info=True):
            raise
        sys.exit(1)


def script() -> None:
    """The ``newsletter`` command and ``python -m newsletter``: ``main`` in a process that ends with it."""
    try:
        main()
    finally:
        # Everything still alive now goes with the process. Python's shutdown would first search it all for
        # reference cycles, more than once: half a second after a build has loaded scikit-learn and SciPy,
        # 0.5-2.5 s after `run`'s "stopped" line (measured). Frozen objects are not searched. Nothing here
        # waits on a collection to be written or closed: files, stores and servers are closed by the code that
        # opened them, logs by logging's exit hook.
        gc.freeze()


def _json_error(text: str, fields: dict, *, exc_info: bool = False) -> bool:
    """With --log-format json, the error that ends the command as one JSON log line on stderr (secrets
    masked), so that a collector reading journald parses every line; False (nothing done) otherwise."""
    from newsletter import logs

    if not logs.json_lines():
        return False
    logging.getLogger("newsletter").error("%s", text, exc_info=exc_info, extra=fields)
    return True
