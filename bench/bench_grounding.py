"""What the grounding gate costs per story: reading ten sources' evidence and checking six bullets.

    python bench/bench_grounding.py                     # this tree
    python bench/bench_grounding.py --vs /tmp/older     # and an older tree (git archive REV | tar -x -C DIR),
                                                        # run in turn in fresh processes; medians and their ratio

The text is the hard case: every sentence holds ranges, changes, a quote and names, and each of the ten
sources is 4,300 characters; the bullets are English, then German (read by the German reader). Each figure is
the median, and the fastest, of fifteen runs after one warm-up (word lists loaded, caches filled): on a shared
machine the fastest run moves least between rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ('Revenue at Corlan Textiles rose 12% to 142 million florins, chairman Ewan Threlkeld said on Tuesday. '
             'Exports fell from 1.45 billion to 1.31 billion florins as orders slipped 4.2%. "We will cut 320 jobs," '
             'said Marta Quillon, who leads the works council. Leaks eased to 5.1% from 5.8%, and 62% rated care good, '
             'down from 70% two years ago. ')
BULLETS = {
    "en": ['Revenue rose 12% to 142 million florins, said Ewan Threlkeld.',
           'Exports fell from 1.45 to 1.31 billion florins.', '"We will cut 320 jobs," said Marta Quillon.',
           'Leaks eased from 5.8 to 5.1%.', 'Orders slipped 4.2% on Tuesday.', '62% rated care good, against 70% two years ago.'],
    "de": ['Der Umsatz stieg um 12 Prozent auf 142 Millionen Florin, sagte Ewan Threlkeld.',
           'Die Exporte fielen von 1,45 auf 1,31 Milliarden Florin.', 'Marta Quillon sagte: „We will cut 320 jobs.“',
           'Die Lecks gingen von 5,8 auf 5,1 Prozent zurück.', 'Die Aufträge sanken am Dienstag um 4,2 Prozent.',
           '62 Prozent bewerteten die Pflege als gut, vor zwei Jahren waren es 70 Prozent.'],
}
RUNS = 15


def measure(tree: Path) -> dict[str, list[float]]:
    """[median, fastest] milliseconds per language, with ``tree``'s newsletter package."""
    sys.path.insert(0, str(tree))
    from newsletter.models import Article, Story
    from newsletter.summarize.grounding import Evidence

    text = (SENTENCES * 12)[:4300]
    published = datetime(2026, 11, 24, tzinfo=timezone.utc)
    story = Story([Article(id=f"a{i}", feed_url="https://corlan.example/feed", outlet=f"Outlet {i} (fictional)",
                           title="Corlan cuts jobs", link=f"https://corlan.example/{i}", published=published, text=text)
                   for i in range(10)], "Corlan cuts jobs")
    out = {}
    for language, bullets in BULLETS.items():
        for run in range(RUNS + 1):
            start = time.perf_counter()
            evidence = Evidence.of(story, language)
            for bullet in bullets:
                evidence.unsupported(evidence.claims(bullet), [1])
            if run:  # the first run loads word lists and fills caches
                out.setdefault(language, []).append((time.perf_counter() - start) * 1000)
    return {language: [statistics.median(ms), min(ms)] for language, ms in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vs", type=Path, help="an older tree to measure in the same run, as the baseline")
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)  # one measurement, in a fresh process
    args = ap.parse_args()
    if args.tree:
        print(json.dumps(measure(args.tree)))
        return

    def run(tree: Path) -> dict[str, list[float]]:
        done = subprocess.run([sys.executable, __file__, "--tree", str(tree)], capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    ours = run(ROOT)
    base = run(args.vs) if args.vs else None
    print("| bullets | this tree: median / fastest (ms) |" + (" baseline (ms) | ratio of medians / fastest |" if base else ""))
    print("|---|---:|" + ("---:|---:|" if base else ""))
    for language, (median, fastest) in ours.items():
        extra = ""
        if base:
            b_median, b_fastest = base[language]
            extra = f" {b_median:.1f} / {b_fastest:.1f} | {median / b_median:.2f}x / {fastest / b_fastest:.2f}x |"
        print(f"| {language} | {median:.1f} / {fastest:.1f} |{extra}")


if __name__ == "__main__":
    main()
