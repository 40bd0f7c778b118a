"""Workers sharing one PostgreSQL store: feeds polled per second with 1, 2 and 3 `run --worker` processes.

    python bench/bench_workers.py                    # 600 feeds, 2 runs per worker count (under a minute)
    python bench/bench_workers.py --runs 3           # as reported in BENCHMARKS.md, medians
    python bench/bench_workers.py --feeds 2000 --runs 1

A local HTTP server (tests/feedserver.py, threaded) serves small RSS feeds (one entry each); a real
PostgreSQL server (tests/postgres_server.py, Debian's binaries) holds a fresh database per run. Each run
starts N worker processes at once over one config and waits until the store shows every feed polled.
Two figures per run: feeds / wall time from spawning the processes (start-up included), and feeds /
the polling span (first "polled" mark to last, start-up excluded).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from feedserver import FeedServer  # noqa: E402
from feeds_for_tests import item, rss  # noqa: E402
from postgres_server import PostgresServer  # noqa: E402

LOOK_S = 0.05  # how often the bench reads the store while waiting
GIVE_UP_S = 300


def _config(folder: Path, url: str, feeds: list[str]) -> Path:
    data = {"newsletter": {"title": "Bench", "from": "b@example.com", "to": ["r@example.org"], "send_at": "23:59",
                           "days": ["sun"] if time.gmtime().tm_wday != 6 else ["mon"]},
            "topics": [{"name": "All", "feeds": feeds}], "store": {"url": url},
            "fetch": {"lease_seconds": 120, "poll_minutes": 60}}
    path = folder / "bench.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def _one(pg: PostgresServer, srv_urls: list[str], workers: int, name: str, folder: Path) -> tuple[float, float]:
    admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = pg.url.replace("/postgres?", f"/{name}?")
    cfg = _config(folder, url, srv_urls)
    engine = sa.create_engine(url)
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "newsletter", "run", "--worker", "-c", str(cfg)], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        while True:
            try:
                with engine.connect() as conn:
                    done, first, last = conn.execute(sa.text(
                        "SELECT COUNT(polled_at), MIN(polled_at), MAX(polled_at) FROM feed_leases")).one()
            except sa.exc.ProgrammingError:
                done = 0  # not created yet
            if done == len(srv_urls):
                wall = time.monotonic() - start
                break
            if time.monotonic() - start > GIVE_UP_S:
                raise SystemExit("gave up: the workers did not poll every feed")
            time.sleep(LOOK_S)
    finally:
        for p in procs:
            p.send_signal(2)
        for p in procs:
            p.wait(timeout=60)
        engine.dispose()
    return wall, (last - first).total_seconds()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=600)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    rows = {}
    with FeedServer() as srv, PostgresServer() as pg, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.feeds):
            srv.add(f"/f{i}.xml", rss(item(f"Story {i}", f"https://f{i}.example/1", guid=f"f{i}",
                                           body=f"Feed {i} reports story {i}."), title=f"Feed {i}"))
        urls = [srv.url(f"/f{i}.xml") for i in range(args.feeds)]
        for r in range(args.runs):
            for k in args.workers:
                folder = Path(tmp) / f"w{k}r{r}"
                folder.mkdir()
                wall, span = _one(pg, urls, k, f"bench_w{k}_r{r}", folder)
                rows.setdefault(k, []).append((wall, span))
                print(f"run {r + 1}, {k} worker(s): {wall:.2f} s wall ({args.feeds / wall:.0f} feeds/s), "
                      f"polling span {span:.2f} s ({args.feeds / span:.0f} feeds/s)", flush=True)
    base = None
    print("\n| workers | wall s (median) | feeds/s from spawn | x 1 worker | polling span s | feeds/s polling "
          "| x 1 worker |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for k in args.workers:
        wall = statistics.median(w for w, _ in rows[k])
        span = statistics.median(s for _, s in rows[k])
        rate, prate = args.feeds / wall, args.feeds / span
        base = base or (rate, prate)
        print(f"| {k} | {wall:.2f} | {rate:.0f} | {rate / base[0]:.2f}x | {span:.2f} | {prate:.0f} | "
              f"{prate / base[1]:.2f}x |")


if __name__ == "__main__":
    main()
