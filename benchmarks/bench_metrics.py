# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Time Offen's full default report over synthetic decrypted events.

Builds pageviews from visitors with sessions over the last 7 days (build time not counted),
then times `offen_core.metrics.default_stats` with the default query (7 days, days), so that
every event falls into the main window and the retention chunks. The baseline, measured in
the same run over the same events, is one bare Python pass that counts pageviews per day
from the event ids. The budget from the design is 0.5 s for 100,000 events from 1,000
visitors with about 30,000 sessions, on one core.

Each figure is the best of several runs, as wall time and as CPU time of this process; on a
busy machine the CPU time is the steadier measure of one core's work. Ratios are against the
baseline's figure of the same kind.

Needs no services. Run ``.venv/bin/python benchmarks/bench_metrics.py`` for the full sizes,
or with ``--smoke`` for about 2,000 events.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from offen_core.events import DecryptedEvent, PageView, ulid_at
from offen_core.metrics import default_stats
from offen_core.metrics._urls import parse_url, referrer_value, utm_values

BUDGET_SECONDS = 0.5
NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
SITE = "https://www.example.org"
REFERRERS = [
    "",
    "",
    "",
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://t.co/abc",
    "https://news.ycombinator.com/item",
    "https://blog.example.net/post/",
    "android-app://com.slack/",
]
COUNTRIES = ["DE", "FR", "US", "PT", None]


def build_events(total: int, visitors: int, sessions: int, seed: int = 7) -> list[DecryptedEvent]:
    """Make ``total`` pageviews of ``visitors`` in ``sessions`` sessions over 7 days."""
    rng = random.Random(seed)
    account = "9b63c4d8-4f2e-4c5a-9a8e-2d7c1f0b3e11"
    secrets = [f"{rng.getrandbits(256):064x}" for _ in range(visitors)]
    pages = [
        f"{SITE}/{section}/{item}" for section in ("blog", "docs", "shop") for item in range(40)
    ]
    per_session = [1] * sessions
    for _ in range(total - sessions):
        per_session[rng.randrange(sessions)] += 1
    # The first instant of the default range (7 days up to NOW's day) to NOW itself.
    start = datetime(NOW.year, NOW.month, NOW.day, tzinfo=UTC) - timedelta(days=6)
    span = (NOW - start) // timedelta(milliseconds=1)

    # Describe every pageview first, then build the models in event id order, as the
    # operator's pipeline does when it decrypts an account streamed from the Store.
    specs = []
    for count in per_session:
        secret = secrets[rng.randrange(visitors)]
        session = f"{rng.getrandbits(128):032x}"
        referrer = rng.choice(REFERRERS)
        geo = rng.choice(COUNTRIES)
        mobile = rng.random() < 0.3
        when = start + timedelta(milliseconds=rng.randrange(span - count * 60_000))
        for position in range(count):
            href = rng.choice(pages)
            if position == 0 and rng.random() < 0.1:
                href += f"?utm_campaign=spring-{rng.randrange(5)}&utm_source=newsletter"
            specs.append(
                (ulid_at(when), secret, session, href, referrer, geo, mobile, when, position)
            )
            when += timedelta(seconds=rng.randrange(5, 60))
    specs.sort()

    events = []
    for event_id, secret, session, href, referrer, geo, mobile, when, position in specs:
        payload = PageView.model_construct(
            type="PAGEVIEW",
            href=href,
            referrer=referrer if position == 0 else "",
            pageload=float(rng.randrange(80, 2000)) if position == 0 else None,
            is_mobile=mobile,
            raw_href=None,
            timestamp=when,
            session_id=session,
            geo=geo,
        )
        events.append(
            DecryptedEvent.model_construct(
                event_id=event_id, account_id=account, secret_id=secret, payload=payload
            )
        )
    return events


def baseline(events: list[DecryptedEvent]) -> Counter[int]:
    """One bare pass: pageviews per UTC day, read from the event ids."""
    digits = str.maketrans("0123456789ABCDEFGHJKMNPQRSTVWXYZ", "0123456789abcdefghijklmnopqrstuv")
    per_day: Counter[int] = Counter()
    for event in events:
        if event.secret_id:
            per_day[int(event.event_id[:10].translate(digits), 32) // 86_400_000] += 1
    return per_day


def timed(runs: int, work: Callable[[], object], *, collect: bool = False) -> tuple[float, float]:
    """The best wall time and the best CPU time of ``runs`` calls.

    The garbage collector is off during a call unless ``collect`` (as ``timeit`` does), so
    that a collection of the event objects, which belong to the caller, is not charged to
    the metrics; the ``collect`` rows show the cost with it on.
    """
    walls, cpus = [], []
    for _ in range(runs):
        gc.collect()
        if not collect:
            gc.disable()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            work()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        finally:
            gc.enable()
    return min(walls), min(cpus)


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure")
    args = parser.parse_args()
    total, visitors, sessions = (2_000, 40, 600) if args.smoke else (100_000, 1_000, 30_000)
    runs = 2 if args.smoke else args.runs

    events = build_events(total, visitors, sessions)
    report = default_stats(events, now=NOW)
    assert sum(row.pageviews for row in report.pageviews) == total
    assert report.unique_sessions == sessions
    shuffled = list(events)
    random.Random(1).shuffle(shuffled)

    def full_report(source: list[DecryptedEvent]) -> Callable[[], object]:
        def run() -> object:
            # Cold URL caches: the fair case, a report's first call on fresh data.
            for cached in (parse_url, utm_values, referrer_value):
                cached.cache_clear()
            return default_stats(source, now=NOW)

        return run

    rows = [
        ("baseline: pageviews per day, one pass", timed(runs, lambda: baseline(events))),
        ("default_stats, events in event id order", timed(runs, full_report(events))),
        (
            "default_stats, same, garbage collector on",
            timed(runs, full_report(events), collect=True),
        ),
        ("default_stats, events shuffled", timed(runs, full_report(shuffled))),
    ]
    base_wall, base_cpu = rows[0][1]
    print(
        f"{total:,} events, {visitors:,} visitors, {report.unique_sessions:,} sessions;"
        f" best of {runs} runs; budget {BUDGET_SECONDS} s of one core"
    )
    print(
        f"{'figure':<44} {'wall s':>7} {'cpu s':>7} {'wall/base':>9} {'cpu/base':>9}"
        f" {'cpu/budget':>10}"
    )
    for label, (wall, cpu) in rows:
        print(
            f"{label:<44} {wall:7.3f} {cpu:7.3f} {wall / base_wall:9.1f} {cpu / base_cpu:9.1f}"
            f" {cpu / BUDGET_SECONDS:10.2f}"
        )


if __name__ == "__main__":
    main()
