"""Speed of the tools themselves: whole `newsletter` processes, start-up included.

    python bench/bench_cli.py                       # as reported in BENCHMARKS.md ("CLI speed")
    python bench/bench_cli.py --repeat 3 --r2e-repeat 1

Times, from start to exit of each process, wall and CPU (medians over --repeat runs):
- `newsletter --help`, beside a bare `python -c pass` (the interpreter's own start-up);
- `newsletter check` on a copy of the demo config (its five feeds are local files);
- `newsletter fetch` of --feeds feeds of --entries entries each, from a threaded HTTP server
  in this process that answers every request after --delay seconds, beside rss2email
  (`r2e run --no-send`) on the same feeds in the same run.

Every fetch starts from nothing: ours gets a fresh config folder and SQLite file per run,
rss2email a fresh copy of a data file that already lists the feeds and has seen no entry.
Each run must fetch every feed (the server counts the requests), or the bench stops.
rss2email fetches one feed after another (about 36 s a run here), hence its own, smaller
--r2e-repeat; it lives in its own virtualenv under .cache/, made on first use.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feedgen import feed  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
R2E_VENV = REPO / ".cache" / "r2e-venv"
R2E_PACKAGE = "rss2email"
NEWSLETTER = Path(sys.executable).parent / "newsletter"  # the console script of this venv

# The aims of issue 7, whole process.
AIM_HELP_S = 0.3
AIM_CHECK_S = 0.6
AIM_FETCH_S = 2.0
AIM_R2E_RATIO = 10.0

FETCH_CONCURRENCY = 32  # the [fetch] default, written into the bench config
RUN_DEADLINE_S = 600  # a hung process ends the bench instead of hanging it
# As a user runs it: no model or config from this shell, and Python's bytecode cache on (pointed
# at a temporary folder, set in main) even where the shell turned it off.
ENV = {k: v for k, v in os.environ.items()
       if not k.startswith(("OPENAI_", "NEWSLETTER_")) and k != "PYTHONDONTWRITEBYTECODE"}


# -- the feed server -------------------------------------------------------

class FeedServer:
    """Serves feed ``i`` at /feed/i.xml after ``delay`` seconds; one thread per request, so waits overlap."""

    def __init__(self, feeds: int, entries: int, delay: float):
        bodies = [feed(i, entries) for i in range(feeds)]
        self.requests = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                time.sleep(delay)
                with lock:
                    server.requests += 1
                try:
                    body = bodies[int(self.path.rsplit("/", 1)[-1].split(".")[0])]
                except (ValueError, IndexError):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024  # every feed may connect at once

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.urls = [f"http://127.0.0.1:{self.httpd.server_address[1]}/feed/{i}.xml" for i in range(feeds)]
        self.bytes = sum(map(len, bodies))
        self.entries = feeds * entries
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- timing ------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    wall: float  # what the user waits for
    cpu: float  # user + system seconds of the process and the children it waited for; moves less with load


def timed(cmd: list[str], cwd: Path) -> tuple[Timing, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**ENV, "COLUMNS": "200"}, capture_output=True, text=True,
                          timeout=RUN_DEADLINE_S)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu), proc


def fetched_all(server: FeedServer, before: int, what: str) -> None:
    done = server.requests - before
    if done != len(server.urls):
        sys.exit(f"bench: {what} made {done} requests for {len(server.urls)} feeds; not a full fetch")


# -- ours --------------------------------------------------------------------

def our_fetch_config(folder: Path, urls: list[str]) -> Path:
    feeds = ",\n".join(f"    {json.dumps(u)}" for u in urls)  # a JSON string is a TOML basic string
    path = folder / "newsletter.toml"
    path.write_text(f"""\
[newsletter]
title = "Bench Brief"
from = "brief@example.com"
to = ["reader@example.org"]

[[topics]]
name = "Bench"
feeds = [
{feeds},
]

[fetch]
concurrency = {FETCH_CONCURRENCY}

[store]
url = "state/newsletter.db"
""", encoding="utf-8")
    return path


def our_fetch(server: FeedServer, tmp: Path) -> Timing:
    folder = Path(tempfile.mkdtemp(dir=tmp))  # fresh config folder: fresh store, every feed is new
    config = our_fetch_config(folder, server.urls)
    before = server.requests
    timing, proc = timed([str(NEWSLETTER), "fetch", "--config", str(config)], folder)
    fetched_all(server, before, "newsletter fetch")
    summary = proc.stdout.strip().splitlines()[-1]  # "N new articles from F feeds[; K failed]"
    if summary != f"{server.entries} new articles from {len(server.urls)} feeds":
        sys.exit(f"bench: newsletter fetch did not store every entry of every feed: {summary!r}")
    return timing


# -- rss2email ---------------------------------------------------------------

def r2e_command() -> Path:
    r2e = R2E_VENV / "bin" / "r2e"
    if not r2e.exists():
        print(f"bench: installing {R2E_PACKAGE} into {R2E_VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(R2E_VENV)], check=True)
        subprocess.run([str(R2E_VENV / "bin" / "pip"), "install", "-q", R2E_PACKAGE], check=True)
    return r2e


def r2e_template(r2e: Path, urls: list[str], folder: Path) -> tuple[Path, Path]:
    """A config and a data file that list every feed and have seen no entry yet."""
    config, data = folder / "r2e.cfg", folder / "r2e.json"
    subprocess.run([str(r2e), "-c", str(config), "-d", str(data), "new", "you@example.org"],
                   check=True, capture_output=True)
    # One import of an OPML list instead of a process per `r2e add`: the same feeds, added in seconds.
    outlines = "".join(f"<outline type=\"rss\" text=\"feed{i}\" xmlUrl={quoteattr(u)}/>" for i, u in enumerate(urls))
    opml = folder / "feeds.opml"
    opml.write_text(f"<?xml version=\"1.0\"?><opml version=\"1.0\"><head/><body>{outlines}</body></opml>")
    subprocess.run([str(r2e), "-c", str(config), "-d", str(data), "opmlimport", str(opml)],
                   check=True, capture_output=True)
    listed = subprocess.run([str(r2e), "-c", str(config), "-d", str(data), "list"],
                            check=True, capture_output=True, text=True).stdout
    if len(listed.splitlines()) != len(urls):
        sys.exit(f"bench: rss2email lists {len(listed.splitlines())} feeds, expected {len(urls)}")
    return config, data


def r2e_fetch(r2e: Path, server: FeedServer, template: tuple[Path, Path], tmp: Path) -> Timing:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    config, data = folder / "r2e.cfg", folder / "r2e.json"
    shutil.copy(template[0], config)
    shutil.copy(template[1], data)  # fresh data file: nothing seen, every entry is new
    before = server.requests
    timing, _ = timed([str(r2e), "-c", str(config), "-d", str(data), "run", "--no-send"], folder)
    fetched_all(server, before, "r2e run --no-send")
    seen = sum(len(f.get("seen", {})) for f in json.loads(data.read_text())["feeds"])
    if seen != server.entries:
        sys.exit(f"bench: rss2email took in {seen} entries of {server.entries}")
    return timing


# -- report ------------------------------------------------------------------

def fmt(runs: list[Timing]) -> str:
    return ", ".join(f"{r.wall:.2f}" for r in runs)


def median(runs: list[Timing]) -> Timing:
    return Timing(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="runs per newsletter command (median reported)")
    ap.add_argument("--r2e-repeat", type=int, default=3, help="runs of rss2email (about 40 s each)")
    ap.add_argument("--feeds", type=int, default=150)
    ap.add_argument("--entries", type=int, default=20)
    ap.add_argument("--delay", type=float, default=0.2, help="seconds before the server answers each request")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    r2e = r2e_command() if args.r2e_repeat else None
    server = FeedServer(args.feeds, args.entries, args.delay)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp_name:
        tmp = Path(tmp_name)
        demo = tmp / "demo"
        shutil.copytree(REPO / "config", demo / "config")
        template = r2e_template(r2e, server.urls, tmp) if r2e else None
        ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        for cmd in ([sys.executable, "-c", "pass"], [str(NEWSLETTER), "--help"],
                    [str(NEWSLETTER), "check", "--config", "config/newsletter.toml"]):
            timed(cmd, demo)  # warm-up, not counted: writes the bytecode cache a user's second run has
        our_fetch(server, tmp)

        runs: dict[str, list[Timing]] = {k: [] for k in ("python", "help", "check", "fetch", "r2e")}
        # Rounds interleave the commands, so a burst of load from elsewhere hits them alike.
        for i in range(max(args.repeat, args.r2e_repeat)):
            if i < args.repeat:
                runs["python"].append(timed([sys.executable, "-c", "pass"], demo)[0])
                runs["help"].append(timed([str(NEWSLETTER), "--help"], demo)[0])
                runs["check"].append(timed([str(NEWSLETTER), "check", "--config", "config/newsletter.toml"], demo)[0])
                runs["fetch"].append(our_fetch(server, tmp))
            if i < args.r2e_repeat:
                runs["r2e"].append(r2e_fetch(r2e, server, template, tmp))
            print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1].wall:.2f} s" for k, v in runs.items() if len(v) > i),
                  file=sys.stderr)
    server.close()

    med = {k: median(v) for k, v in runs.items() if v}
    floor = math.ceil(args.feeds / FETCH_CONCURRENCY) * args.delay
    print(f"\n{args.feeds} feeds x {args.entries} entries ({server.bytes / 1e6:.1f} MB), {args.delay * 1000:.0f} ms "
          f"per answer; network floor at concurrency {FETCH_CONCURRENCY}: {floor:.1f} s; "
          f"medians of {args.repeat} runs (rss2email: {args.r2e_repeat}); load average {load_before:.1f} "
          f"before, {os.getloadavg()[0]:.1f} after\n")
    print("| command | median wall s | median CPU s | runs, wall s | aim s | wall / aim |")
    print("|---|---:|---:|---|---:|---:|")
    print(f"| `python -c pass` (interpreter start-up) | {med['python'].wall:.2f} | {med['python'].cpu:.2f} "
          f"| {fmt(runs['python'])} | | |")
    for key, label, aim in (("help", "`newsletter --help`", AIM_HELP_S),
                            ("check", "`newsletter check` (demo config)", AIM_CHECK_S),
                            ("fetch", f"`newsletter fetch` ({args.feeds} feeds)", AIM_FETCH_S)):
        print(f"| {label} | {med[key].wall:.2f} | {med[key].cpu:.2f} | {fmt(runs[key])} | {aim:.1f} "
              f"| {med[key].wall / aim:.2f}x |")
    if "r2e" in med:
        print(f"| `r2e run --no-send` ({args.feeds} feeds) | {med['r2e'].wall:.2f} | {med['r2e'].cpu:.2f} "
              f"| {fmt(runs['r2e'])} | | |")
        print(f"\nrss2email / newsletter fetch, wall: {med['r2e'].wall / med['fetch'].wall:.1f}x "
              f"(aim: >= {AIM_R2E_RATIO:.0f}x)")
    print(f"newsletter fetch / network floor, wall: {med['fetch'].wall / floor:.2f}x")


if __name__ == "__main__":
    main()
