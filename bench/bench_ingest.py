"""Ingestion benchmarks: fetch wall time, parse cost per entry, the all-304 rerun, peak memory.

    python bench/bench_ingest.py                 # everything, as reported in BENCHMARKS.md
    python bench/bench_ingest.py --no-sequential # skip the slow one-after-another baseline

A feed server runs in its own process (threaded, backlog 1024), answering every
request after --delay seconds, 304 when If-None-Match matches. Every fetch run
happens in a fresh child process with a fresh SQLite file, so its peak RSS is
its own. Ratios are against baselines measured in the same run; medians.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedgen import feed  # noqa: E402


# -- the server ------------------------------------------------------------

def serve(port_out, feeds: int, entries: int, delay: float) -> None:
    bodies = [feed(i, entries) for i in range(feeds)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            time.sleep(delay)
            try:
                i = int(self.path.split("/")[-1].split(".")[0])
                body = bodies[i]
            except (ValueError, IndexError):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = f'"{i}-{entries}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    httpd = Server(("127.0.0.1", 0), Handler)
    port_out.put(httpd.server_address[1])
    httpd.serve_forever()


# -- one fetch run, in a child process -------------------------------------

def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mb(root: int) -> float:
    """RSS of ``root`` and all its descendants (parse workers come from a forkserver, a grandchild)."""
    parent, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        parent[int(d)] = int(fields.get("PPid", "0").strip())
        rss[int(d)] = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0.0)
        todo += [c for c, p in parent.items() if p == pid]
    return total


class PeakSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.done = 0.0, threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))


def child(args) -> None:
    from datetime import datetime, timezone

    from newsletter.clock import FixedClock
    from newsletter.config import FetchSettings
    from newsletter.ingest import ingest_feeds
    from newsletter.models import FeedSource
    from newsletter.store import Store

    store = Store.open(f"sqlite:///{args.db}")
    settings = FetchSettings(concurrency=args.concurrency, timeout=60)
    sources = [FeedSource(url=f"{args.base}/feed/{i}.xml", topic="T") for i in range(args.feeds)]
    clock = FixedClock(datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc))
    before = rss_mb()
    sampler = PeakSampler()
    sampler.start()
    out = {}
    for run in range(args.runs):  # run 2 onwards: conditional GETs against unchanged feeds
        start = time.perf_counter()
        reports = ingest_feeds(sources, store, settings=settings, clock=clock)
        out[f"wall{run}"] = time.perf_counter() - start
        out[f"status{run}"] = sorted({r.status for r in reports})
        out[f"new{run}"] = sum(r.new for r in reports)
        out[f"failed{run}"] = sum(not r.ok for r in reports)
    out["rss_before_mb"] = before
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sampler.done.set()
    out["tree_peak_mb"] = sampler.peak  # main + parse workers, sampled every 50 ms
    print(json.dumps(out))


def fetch_run(base: str, feeds: int, concurrency: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, __file__, "--child", "--base", base, "--feeds", str(feeds),
               "--concurrency", str(concurrency), "--runs", str(runs), "--db", f"{tmp}/bench.db"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])


# -- parse cost ------------------------------------------------------------

def parse_cost(feeds: int, entries: int, repeat: int) -> dict:
    from datetime import datetime, timezone

    import feedparser

    from newsletter.ingest.parse import parse_feed
    from newsletter.store import Store

    docs = [feed(1000 + i, entries) for i in range(feeds)]
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    now = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
    n = feeds * entries
    base, ours, parse_only = [], [], []
    for r in range(repeat):
        t = time.perf_counter()
        for d in docs:
            feedparser.parse(io.BytesIO(d), response_headers=headers)
        base.append((time.perf_counter() - t) / n)

        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{tmp}/p.db")
            t = time.perf_counter()
            p_time = 0.0
            for i, d in enumerate(docs):
                t0 = time.perf_counter()
                parsed = parse_feed(d, headers, feed_url=f"https://outlet{i}.example/feed", outlet=None, now=now)
                p_time += time.perf_counter() - t0
                store.add_articles(parsed.articles)
            ours.append((time.perf_counter() - t) / n)
            parse_only.append(p_time / n)
            store.close()
    return {"base_us": statistics.median(base) * 1e6, "ours_us": statistics.median(ours) * 1e6,
            "parse_us": statistics.median(parse_only) * 1e6, "entries": n, "repeat": repeat}


# -- main ------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--entries", type=int, default=50)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-sequential", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    print(f"# ingestion bench: {args.feeds} feeds, server delay {args.delay} s, cpus={os.cpu_count()}")
    rows = []
    for entries in sorted({5, args.entries}):
        q: mp.Queue = mp.Queue()
        server = mp.Process(target=serve, args=(q, args.feeds, entries, args.delay), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{q.get(timeout=60)}"
        try:
            results = [fetch_run(base, args.feeds, args.concurrency, runs=2) for _ in range(args.repeat)]
            wall = statistics.median(r["wall0"] for r in results)
            rerun = statistics.median(r["wall1"] for r in results)
            limit = math.ceil(args.feeds / args.concurrency) * args.delay
            print(f"{entries} entries/feed, each run (first / rerun): "
                  + ", ".join(f"{r['wall0']:.2f} / {r['wall1']:.2f}" for r in results), flush=True)
            r0 = results[0]
            assert r0["failed0"] == 0 and r0["status1"] == ["unchanged"], r0
            rows.append((entries, "fetch, first run", args.concurrency, wall, limit, r0["new0"], r0["peak_mb"], r0["rss_before_mb"], r0["tree_peak_mb"]))
            rows.append((entries, "fetch, rerun (all 304)", args.concurrency, rerun, limit, r0["new1"], None, None, None))
            if not args.no_sequential and entries == min(5, args.entries):
                seq = fetch_run(base, args.feeds, 1, runs=1)
                rows.append((entries, "fetch one after another", 1, seq["wall0"], args.feeds * args.delay, seq["new0"], seq["peak_mb"], seq["rss_before_mb"], seq["tree_peak_mb"]))
        finally:
            server.kill()
            server.join()

    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (the machine is shared)")
    print("\n| entries/feed | run | concurrency | wall s | ideal s | wall/ideal | new articles | peak RSS MB: main (at start) / main + workers |")
    print("|---|---|---|---|---|---|---|---|")
    for entries, name, conc, wall, ideal, new, peak, before, worker in rows:
        mem = f"{peak:.0f} ({before:.0f}) / {worker:.0f}" if peak else ""
        print(f"| {entries} | {name} | {conc} | {wall:.2f} | {ideal:.2f} | {wall / ideal:.2f}x | {new} | {mem} |")
    seq = next((r for r in rows if r[1] == "fetch one after another"), None)
    if seq:
        first = next(r for r in rows if r[0] == seq[0] and r[1] == "fetch, first run")  # noqa: F841
        print(f"\nconcurrent vs one after another ({seq[0]} entries/feed): {seq[3] / first[3]:.1f}x faster")

    pc = parse_cost(40, args.entries, max(args.repeat, 5))
    print(f"\nparse cost per entry ({pc['entries']} entries, median of {pc['repeat']}):")
    print(f"  feedparser.parse alone (defaults):            {pc['base_us']:.0f} us")
    print(f"  ours: parse + normalize + sanitize            {pc['parse_us']:.0f} us  ({pc['parse_us'] / pc['base_us']:.2f}x)")
    print(f"  ours: parse + normalize + sanitize + store    {pc['ours_us']:.0f} us  ({pc['ours_us'] / pc['base_us']:.2f}x)")


if __name__ == "__main__":
    main()
