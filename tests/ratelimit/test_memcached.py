# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What is particular to memcached: its compare-and-set under racing writers, its keys, its
expiry, and a server that goes away.

The behaviour the storages share (curves, refusals, undo, threads and processes hammering
one identifier, sync and async alike, the hypothesis properties) is tested on memcached by
the other files of this folder through ``storage_url``, ``shared_url`` and
``opened_storage``. Every test here runs against a real memcached these tests started.
"""

from __future__ import annotations

import asyncio
import threading
import time
import types
from typing import Any

import pytest
from limits.aio.storage import MemcachedStorage as AsyncMemcachedStorage
from limits.aio.storage.memcached.emcache import EmcacheBridge
from limits.storage import MemcachedStorage
from throttle_helpers import assert_async_guard_fails_closed

from offen_core.errors import InvalidInputError, ThrottleStorageError
from offen_core.ratelimit import (
    DEFAULT_POLICIES,
    AsyncThrottle,
    Outcome,
    Route,
    Rule,
    StorageFailure,
    Throttle,
    open_async_storage,
    open_storage,
)
from offen_core.ratelimit._cas import AsyncCas, AsyncCasStore, CasStore, Snapshot, State, SyncCas
from offen_core.ratelimit._memcached import item_key
from offen_core.ratelimit.storage import close_storage
from offen_core.testing import FakeClock

pytestmark = pytest.mark.memcached

HASH_KEY = b"a test key shared by all processes"
EMAIL = "ada@example.com"
ADDRESS = "192.0.2.7"

# Every attempt waits as long as its rank, so a delay tells which rank an attempt got.
RANKING = Rule("ranking", 1.0, free=0, window=3600.0, deadline=1e9)


class PrivateMemcached:
    """The shape of the ``private_memcached`` fixture (see this folder's conftest)."""

    url: str
    port: int

    def stop(self) -> None: ...


def _raw_storage(url: str) -> MemcachedStorage:
    """A plain limits storage on the same server, to read and write items directly."""
    storage = open_storage(url, timeout=2)
    assert isinstance(storage, MemcachedStorage)
    return storage


def _cas(throttle: Throttle) -> SyncCas:
    backend = throttle._backend
    assert isinstance(backend, SyncCas)
    return backend


class _Rival:
    """Wraps a throttle's store: after each of its first ``races`` loads, another throttle
    on the same memcached counts an attempt on the same key, so the store that follows
    finds the item changed."""

    def __init__(self, store: CasStore, rival: Throttle, races: int) -> None:
        self.inner = store
        self.rival = rival
        self.races = races
        self.loads = 0
        self.rival_delays: list[float] = []

    def load(self, key: str) -> Snapshot:
        snapshot = self.inner.load(key)
        self.loads += 1
        if self.loads <= self.races:
            self.rival_delays.append(self.rival.check_rule(RANKING, "victim").delay)
        return snapshot

    def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        return self.inner.store(key, state, version, ttl)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def _pair(url: str, prefix: str, clock: FakeClock, **kwargs: object) -> tuple[Throttle, Throttle]:
    def make(**extra: object) -> Throttle:
        return Throttle(url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix, **extra)  # type: ignore[arg-type]

    return make(**kwargs), make()


def test_a_step_that_loses_races_decides_again_on_what_the_winner_wrote(
    memcached_url: str, prefix: str, clock: FakeClock
) -> None:
    throttle, rival = _pair(memcached_url, prefix, clock)
    with throttle, rival:
        racing = _Rival(_cas(throttle).store, rival, races=3)
        _cas(throttle).store = racing

        decision = throttle.check_rule(RANKING, "victim")

        # The rival's three attempts came first; ours was decided on their state.
        assert racing.rival_delays == [1.0, 2.0, 3.0]
        assert decision.delay == 4.0
        assert racing.loads == 4
        assert rival.check_rule(RANKING, "victim").delay == 5.0


@pytest.mark.parametrize("mode", [StorageFailure.REFUSE, StorageFailure.RAISE])
def test_a_step_that_loses_every_race_gives_up_as_a_storage_failure(
    memcached_url: str, prefix: str, clock: FakeClock, mode: StorageFailure
) -> None:
    throttle, rival = _pair(
        memcached_url, prefix, clock, on_storage_error=mode, storage_retry_after=7.0
    )
    with throttle, rival:
        _cas(throttle).attempts = 5
        racing = _Rival(_cas(throttle).store, rival, races=10**6)
        _cas(throttle).store = racing

        if mode is StorageFailure.RAISE:
            with pytest.raises(ThrottleStorageError):
                throttle.check_rule(RANKING, "victim")
        else:
            decision = throttle.check_rule(RANKING, "victim")
            assert (decision.outcome, decision.storage_failed) == (Outcome.REFUSED, True)
            assert decision.retry_after == 7.0

        # Five tries, five rival attempts counted, and nothing of ours.
        assert racing.loads == 5
        assert racing.rival_delays == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert rival.check_rule(RANKING, "victim").delay == 6.0


def test_threads_of_one_throttle_take_turns_and_never_race(
    memcached_url: str, prefix: str, clock: FakeClock
) -> None:
    with Throttle(memcached_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as t:
        backend = _cas(t)
        counting = _Counting(backend.store)
        backend.store = counting
        start = threading.Barrier(4)

        def worker() -> None:
            start.wait()
            for _ in range(25):
                t.check_rule(RANKING, "victim")

        workers = [threading.Thread(target=worker) for _ in range(4)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

        # Each of the 100 attempts stored on its first try: no store ever lost.
        assert counting.stores == counting.won == 100
        assert t.check_rule(RANKING, "victim").delay == 101.0


def test_coroutines_of_two_throttles_race_and_lose_no_attempt(
    memcached_url: str, prefix: str, clock: FakeClock
) -> None:
    async def scenario() -> tuple[list[float], int]:
        throttles = [
            AsyncThrottle(memcached_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix)
            for _ in range(2)
        ]
        counters = []
        for throttle in throttles:
            backend = throttle._backend
            assert isinstance(backend, AsyncCas)
            counters.append(_AsyncCounting(backend.store))
            backend.store = counters[-1]
        decisions = await asyncio.gather(
            *(throttles[i % 2].check_rule(RANKING, "victim") for i in range(300))
        )
        for throttle in throttles:
            await throttle.aclose()
        return [d.delay for d in decisions], sum(c.stores - c.won for c in counters)

    delays, lost = asyncio.run(scenario())
    assert sorted(int(d) for d in delays) == list(range(1, 301))
    # The two throttles did race: some stores found the item changed and were tried again.
    assert lost > 0


class _AsyncCounting:
    """Wraps an async store and counts its stores and how many of them went through."""

    def __init__(self, store: AsyncCasStore) -> None:
        self.inner = store
        self.stores = 0
        self.won = 0

    async def load(self, key: str) -> Snapshot:
        return await self.inner.load(key)

    async def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        self.stores += 1
        won = await self.inner.store(key, state, version, ttl)
        self.won += won
        return won

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)


class _Counting:
    """Wraps a store and counts its stores and how many of them went through."""

    def __init__(self, store: CasStore) -> None:
        self.inner = store
        self.stores = 0
        self.won = 0

    def load(self, key: str) -> Snapshot:
        return self.inner.load(key)

    def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        self.stores += 1
        won = self.inner.store(key, state, version, ttl)
        self.won += won
        return won

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def test_the_state_is_stored_as_count_and_exact_anchor(
    memcached_url: str, prefix: str, clock: FakeClock
) -> None:
    # A clock with a fraction that has no short decimal form.
    clock.advance(1 / 3)
    with Throttle(memcached_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as t:
        t.check_rule(RANKING, "victim")
        t.check_rule(RANKING, "victim")
        key = t._settings.slot(RANKING, "c:victim", clock.time()).key
    raw = _raw_storage(memcached_url)
    try:
        value = raw.storage.get(item_key(key).decode())
    finally:
        close_storage(raw)
    assert value == f"2|{clock.time()!r}".encode()
    assert float(value.split(b"|")[1]) == clock.time()


def test_delays_on_memcached_match_memory_to_the_last_bit(memcached_url: str, prefix: str) -> None:
    rule = Rule("fine", 0.3, free=1, window=3600.0, deadline=1e9)

    def run(url: str) -> list[float]:
        clock = FakeClock()
        with Throttle(url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as t:
            delays = []
            for _ in range(40):
                clock.advance(0.1)
                delays.append(t.check_rule(rule, "victim").delay)
            return delays

    on_memcached = run(memcached_url)
    assert on_memcached == run("memory://")
    assert len(set(on_memcached)) > 20


def test_keys_longer_than_memcached_takes_are_shortened_and_kept_apart(
    memcached_url: str, prefix: str, clock: FakeClock
) -> None:
    long_prefix = prefix + "-" + "p" * 300
    rule = Rule("once", 1.0, free=1, window=60.0, deadline=0.0)
    first = Throttle(memcached_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=long_prefix)
    second = Throttle(
        memcached_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=long_prefix + "q"
    )
    with first, second:
        assert first.check_rule(rule, "k").allowed
        assert second.check_rule(rule, "k").allowed
        assert not first.check_rule(rule, "k").allowed
        assert not second.check_rule(rule, "k").allowed
    assert len(item_key("x" * 1000)) <= 250
    assert item_key("x" * 1000) != item_key("x" * 999 + "y")
    assert item_key("short") == b"short"


def test_a_window_longer_than_thirty_days_is_still_stored(
    memcached_url: str, prefix: str, clock: FakeClock
) -> None:
    # Memcached reads an expiry of more than 30 days as a moment in time; passed as a
    # duration, the item would be gone at once and every attempt would look like the first.
    rule = Rule("slow", 1.0, free=1, window=40 * 24 * 3600.0, deadline=0.0)
    with Throttle(memcached_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as t:
        assert t.check_rule(rule, "k").allowed
        assert t.check_rule(rule, "k").outcome is Outcome.REFUSED


def test_an_item_written_by_someone_else_fails_closed(
    memcached_url: str, prefix: str, clock: FakeClock
) -> None:
    with Throttle(
        memcached_url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix
    ) as throttle:
        key = throttle._settings.slot(RANKING, "c:victim", clock.time()).key
        raw = _raw_storage(memcached_url)
        try:
            raw.storage.set(item_key(key).decode(), "not a throttle state", expire=60)
        finally:
            close_storage(raw)

        decision = throttle.check_rule(RANKING, "victim")

    assert (decision.outcome, decision.storage_failed) == (Outcome.REFUSED, True)


def test_several_memcached_hosts_each_hold_a_share_of_the_keys(
    memcached_url: str, private_memcached: PrivateMemcached, prefix: str, clock: FakeClock
) -> None:
    hosts = f"{memcached_url},127.0.0.1:{private_memcached.port}"
    with Throttle(hosts, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix) as throttle:
        decisions = [throttle.check_login(EMAIL, ADDRESS) for _ in range(9)]
        keys = [
            throttle._settings.slot(step.rule, identifier, clock.time()).key
            for step, identifier in zip(
                DEFAULT_POLICIES[Route.LOGIN].steps,
                ["i:" + EMAIL, "a:" + ADDRESS, "*"],
                strict=True,
            )
        ]

    assert [d.delay for d in decisions[3:8]] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert decisions[8].outcome is Outcome.REFUSED
    # Each key lives on one host only, and holds the attempts counted there.
    singles = [_raw_storage(memcached_url), _raw_storage(private_memcached.url)]
    try:
        found = [[raw.storage.get(item_key(key).decode()) for raw in singles] for key in keys]
    finally:
        for raw in singles:
            close_storage(raw)
    assert [sum(value is not None for value in values) for values in found] == [1, 1, 1]
    assert sorted(int(v.split(b"|")[0]) for values in found for v in values if v) == [8, 8, 8]


def test_a_threads_connection_closes_when_the_thread_ends(
    private_memcached: PrivateMemcached, clock: FakeClock
) -> None:
    raw = _raw_storage(private_memcached.url)
    stats: Any = raw.storage

    def connections() -> int:
        # memcached counts a closed connection out a moment later, in its own thread (one
        # of an earlier test may still be closing): read until two reads agree.
        count = int(stats.stats()[b"curr_connections"])
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            time.sleep(0.05)
            again = int(stats.stats()[b"curr_connections"])
            if again == count:
                break
            count = again
        return count

    try:
        with Throttle(private_memcached.url, hash_key=HASH_KEY, clock=clock.time) as throttle:
            before = connections()
            for _ in range(6):
                worker = threading.Thread(target=lambda: throttle.check_rule(RANKING, "k"))
                worker.start()
                worker.join()
            # A thread per request leaves no connection behind it.
            assert connections() == before
            assert throttle.check_rule(RANKING, "k").delay == 7.0
            assert connections() == before + 1
    finally:
        close_storage(raw)


def test_async_memcached_needs_the_memcachio_client(memcached_url: str) -> None:
    async def scenario() -> None:
        storage = open_async_storage(memcached_url)
        assert isinstance(storage, AsyncMemcachedStorage)
        # What limits builds for implementation="emcache": a client without our CAS calls.
        storage.bridge = EmcacheBridge(memcached_url, types.ModuleType("emcache"))
        with pytest.raises(InvalidInputError) as caught:
            AsyncThrottle(storage, hash_key=HASH_KEY)
        assert "memcachio" in str(caught.value)

    asyncio.run(scenario())


# --- a memcached that goes away: the same answers as a Redis that goes away -----------------


def _failing(server: PrivateMemcached, clock: FakeClock, mode: StorageFailure) -> Throttle:
    return Throttle(
        server.url,
        hash_key=HASH_KEY,
        clock=clock.time,
        on_storage_error=mode,
        storage_retry_after=7.0,
        storage_options={"connect_timeout": 2, "timeout": 2},
    )


def test_login_guard_fails_closed_when_memcached_goes_away(
    private_memcached: PrivateMemcached, clock: FakeClock
) -> None:
    with _failing(private_memcached, clock, StorageFailure.REFUSE) as throttle:
        assert throttle.check_login(EMAIL, ADDRESS).outcome is Outcome.ALLOWED
        assert throttle.healthy()

        private_memcached.stop()

        decision = throttle.check_login(EMAIL, ADDRESS)
        assert decision.outcome is Outcome.REFUSED
        assert decision.storage_failed
        assert decision.retry_after == 7.0
        # A fresh connection is refused too, not only the one that broke.
        assert throttle.check_login(EMAIL, ADDRESS).storage_failed
        assert not throttle.healthy()
        with pytest.raises(ThrottleStorageError):
            throttle.login_succeeded(EMAIL)


def test_fail_open_and_raise_on_a_dead_memcached(
    private_memcached: PrivateMemcached, clock: FakeClock
) -> None:
    private_memcached.stop()
    with _failing(private_memcached, clock, StorageFailure.ALLOW) as throttle:
        decision = throttle.check_login(EMAIL, ADDRESS)
        assert (decision.outcome, decision.storage_failed) == (Outcome.ALLOWED, True)
    with (
        _failing(private_memcached, clock, StorageFailure.RAISE) as throttle,
        pytest.raises(ThrottleStorageError) as caught,
    ):
        throttle.check_login(EMAIL, ADDRESS)
    assert str(private_memcached.port) not in str(caught.value)
    assert EMAIL not in str(caught.value)


def test_async_guard_fails_closed_when_memcached_goes_away(
    private_memcached: PrivateMemcached, clock: FakeClock
) -> None:
    async def scenario() -> None:
        async with AsyncThrottle(
            private_memcached.url, hash_key=HASH_KEY, clock=clock.time, storage_retry_after=7.0
        ) as throttle:
            assert (await throttle.check_login(EMAIL, ADDRESS)).outcome is Outcome.ALLOWED
            private_memcached.stop()
            await assert_async_guard_fails_closed(throttle, EMAIL, ADDRESS, retry_after=7.0)

    asyncio.run(scenario())
