"""Extractive briefing cost against its unavoidable floor, for stories of growing size.

    python bench/bench_summarize.py               # 3, 10, 25 sources x 40 sentences; median of 7 runs
    python bench/bench_summarize.py --repeat 3

Then one source of 1, 2 and 4 MB of plain sentences: splitting it whole (linear work doubles with the
size) and briefing it (the writer reads a capped prefix and stops splitting after its sentence limit,
so the time stays flat).

The baseline, measured in the same run on the same text, is what any
sentence-level summarizer must do anyway: split every source into sentences and
vectorise them (TF-IDF). The ratio says how much the scoring, de-duplication and
section filling add on top. The demo issue needs 9 briefings; a ratio near 1-3
keeps the whole summarizing step well under a second.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

from newsletter.models import Article, Story  # noqa: E402
from newsletter.summarize import extractive_summarizer  # noqa: E402
from newsletter.summarize.sentences import split_sentences  # noqa: E402

WORDS = ("harbour council vote barrier flood crowns million said would could storm tide engineers city "
         "budget mayor residents gates ships pilots surge homes repairs bond grant opposition warned").split()


def synth_story(n_sources: int, n_sentences: int, seed: int = 7) -> Story:
    rng = random.Random(seed)
    articles = []
    for i in range(n_sources):
        sentences = []
        for _ in range(n_sentences):
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24)))
            number = f" {rng.randint(2, 900)} " if rng.random() < 0.3 else " "
            sentences.append(body.capitalize() + number.rstrip() + ".")
        articles.append(Article(id=f"a{i}", feed_url=f"https://o{i}.example/feed", outlet=f"Outlet {i}",
                                title=f"Title {i}", link=f"https://o{i}.example/story",
                                published=datetime(2026, 11, 24, tzinfo=timezone.utc), text=" ".join(sentences)))
    return Story(articles=articles, headline="Title 0")


def baseline(story: Story) -> None:
    sentences = [s for a in story.articles for s in split_sentences(a.text)]
    TfidfVectorizer(sublinear_tf=True).fit_transform(sentences)


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    summarizer = extractive_summarizer()
    print(f"{'sources':>7} {'sentences':>9} {'baseline ms':>12} {'brief ms':>9} {'ratio':>6}")
    for n_sources in (3, 10, 25):
        story = synth_story(n_sources, 40)
        summarizer.brief(story)  # warm-up: imports, regex compilation
        base = median_seconds(lambda: baseline(story), args.repeat)
        brief = median_seconds(lambda: summarizer.brief(story), args.repeat)
        print(f"{n_sources:>7} {n_sources * 40:>9} {base * 1000:>12.1f} {brief * 1000:>9.1f} {brief / base:>6.2f}")

    sentence = "The council met again on Monday to discuss the new harbour plan. "
    print(f"\n{'long source':>11} {'split ms':>9} {'x prev':>7} {'brief ms':>9} {'x prev':>7}")
    prev = None
    for mb in (1, 2, 4):
        text = sentence * (mb * 1_000_000 // len(sentence))
        story = Story(articles=[Article(id="long", feed_url="https://long.example/feed", outlet="Long Wire",
                                        title="Harbour plan", link="https://long.example/1",
                                        published=datetime(2026, 11, 24, tzinfo=timezone.utc), text=text)],
                      headline="Harbour plan")
        split = median_seconds(lambda: split_sentences(text), max(1, args.repeat // 2))
        brief = median_seconds(lambda: summarizer.brief(story), args.repeat)
        growth = (f"{split / prev[0]:>7.2f} {brief * 1000:>9.1f} {brief / prev[1]:>7.2f}" if prev
                  else f"{'':>7} {brief * 1000:>9.1f} {'':>7}")
        print(f"{mb:>8} MB {split * 1000:>9.0f} {growth}")
        prev = (split, brief)


if __name__ == "__main__":
    main()
