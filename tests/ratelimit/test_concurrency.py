# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Atomicity: threads and processes hammering one identifier lose no attempt.

Each test runs on every storage of this folder's ``storage_url`` (memory, Redis, memcached),
or of ``shared_url`` (the storages several processes can share).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable

from throttle_helpers import hammer

from offen_core.ratelimit import AsyncThrottle, Decision, Outcome, Rule, Throttle
from offen_core.testing import FakeClock

HASH_KEY = b"a test key shared by all processes"
THREADS = 8
PER_THREAD = 60

# Every attempt gets a delay equal to its rank (1 s per attempt, no deadline in reach), so
# the set of delays shows whether each attempt was counted exactly once.
RANKING = Rule("ranking", 1.0, free=0, window=3600.0, deadline=1e9)
# A budget of exactly 100 attempts per window, the rest refused.
BUDGET = Rule("budget", 1.0, free=100, window=3600.0, deadline=0.0)


def _hammer(check: Callable[[], Decision], threads: int = THREADS) -> list[Decision]:
    return hammer(check, threads=threads, per_thread=PER_THREAD)


def _assert_each_attempt_counted_once(decisions: list[Decision]) -> None:
    ranks = sorted(int(d.delay) for d in decisions)
    assert ranks == list(range(1, len(decisions) + 1))


def _assert_budget_exact(decisions: list[Decision]) -> None:
    allowed = [d for d in decisions if d.outcome is Outcome.ALLOWED]
    refused = [d for d in decisions if d.outcome is Outcome.REFUSED]
    assert len(allowed) == BUDGET.budget == 100
    assert len(refused) == len(decisions) - 100


def test_threads_lose_no_attempt(storage_url: str, prefix: str, clock: FakeClock) -> None:
    with Throttle(storage_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as throttle:
        decisions = _hammer(lambda: throttle.check_rule(RANKING, "victim@example.com"))
    assert len(decisions) == THREADS * PER_THREAD
    _assert_each_attempt_counted_once(decisions)


def test_threads_get_exactly_the_budget(storage_url: str, prefix: str, clock: FakeClock) -> None:
    with Throttle(storage_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as throttle:
        decisions = _hammer(lambda: throttle.check_rule(BUDGET, "victim@example.com"))
    _assert_budget_exact(decisions)


def test_threads_with_their_own_throttles_share_one_storage(
    storage_url: str, prefix: str, clock: FakeClock
) -> None:
    shared = Throttle(storage_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix)
    local = threading.local()

    def check() -> Decision:
        if not hasattr(local, "throttle"):
            local.throttle = Throttle(
                shared.storage, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix
            )
        decision: Decision = local.throttle.check_rule(RANKING, "victim@example.com")
        return decision

    _assert_each_attempt_counted_once(_hammer(check))
    shared.close()


def test_concurrent_coroutines_lose_no_attempt(
    storage_url: str, prefix: str, clock: FakeClock
) -> None:
    async def scenario() -> list[Decision]:
        async with AsyncThrottle(
            storage_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix
        ) as throttle:
            return list(
                await asyncio.gather(
                    *(throttle.check_rule(RANKING, "victim") for _ in range(THREADS * PER_THREAD))
                )
            )

    _assert_each_attempt_counted_once(asyncio.run(scenario()))


_WORKER = """
import json, sys
from offen_core.ratelimit import Rule, Throttle
url, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rule = Rule("ranking", 1.0, free=0, window=3600.0, deadline=1e9)
throttle = Throttle(url, hash_key=b"a test key shared by all processes", key_prefix=prefix,
                    clock=lambda: 1_800_000_000.0)
sys.stdin.readline()
print(json.dumps([throttle.check_rule(rule, "victim@example.com").delay for _ in range(count)]))
throttle.close()
"""


def test_two_processes_sharing_a_storage_see_one_budget(shared_url: str, prefix: str) -> None:
    count = 150
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, shared_url, prefix, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    # Both workers have imported everything before either starts counting.
    outputs = [worker.communicate("go\n", timeout=60)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    delays = [delay for output in outputs for delay in json.loads(output)]
    assert sorted(int(d) for d in delays) == list(range(1, 2 * count + 1))


def test_sync_and_async_throttles_share_counts(shared_url: str, prefix: str) -> None:
    clock = FakeClock()
    sync = Throttle(shared_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix)
    assert sync.check_rule(RANKING, "k").delay == 1.0

    async def scenario() -> float:
        async with AsyncThrottle(
            shared_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix
        ) as throttle:
            return (await throttle.check_rule(RANKING, "k")).delay

    assert asyncio.run(scenario()) == 2.0
    assert sync.check_rule(RANKING, "k").delay == 3.0
    sync.close()


# Delays of 1 s and more after 100 free attempts, far inside the deadline.
SPACED = Rule("spaced", 1.0, free=100, window=3600.0, deadline=30.0)


def test_threads_that_will_not_wait_count_exactly_the_free_attempts(
    storage_url: str, prefix: str, clock: FakeClock
) -> None:
    with Throttle(storage_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as throttle:
        decisions = _hammer(lambda: throttle.check_rule(SPACED, "victim", max_wait=0))
        assert sum(d.outcome is Outcome.ALLOWED for d in decisions) == 100
        refused = [d for d in decisions if d.outcome is Outcome.REFUSED]
        # Nothing refused was counted: every refusal names the 101st attempt's delay.
        assert {d.retry_after for d in refused} == {1.0}

        clock.advance(1.0)
        decisions = _hammer(lambda: throttle.check_rule(SPACED, "victim", max_wait=0))

    # Exactly one attempt got the place the first refusals were told to come back for.
    assert sum(d.outcome is Outcome.ALLOWED for d in decisions) == 1
    assert {d.retry_after for d in decisions if not d.allowed} == {2.0}


def test_coroutines_that_will_not_wait_count_exactly_the_free_attempts(
    storage_url: str, prefix: str, clock: FakeClock
) -> None:
    async def scenario() -> list[Decision]:
        async with AsyncThrottle(
            storage_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix
        ) as throttle:
            return list(
                await asyncio.gather(
                    *(throttle.check_rule(SPACED, "victim", max_wait=0) for _ in range(300))
                )
            )

    decisions = asyncio.run(scenario())
    assert sum(d.outcome is Outcome.ALLOWED for d in decisions) == 100
    assert {d.retry_after for d in decisions if not d.allowed} == {1.0}
