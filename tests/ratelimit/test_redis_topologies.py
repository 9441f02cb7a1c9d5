# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The throttle on a real Redis Cluster and behind a real Redis Sentinel.

Each test runs on private servers of this folder's conftest: a three-node cluster started
once for the session (``redis+cluster://``) and, per test, a Sentinel watching a master of
its own (``redis+sentinel://``). Both carry the same decisions as memory storage, sync and
async; on the cluster a route's steps count on keys of different nodes; behind Sentinel a
master that goes away makes the login guard fail closed. The shared Redis on 6379 is never
stopped or written to.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

import pytest
import redis
from limits.storage import RedisClusterStorage, RedisSentinelStorage
from redis.cluster import RedisCluster, key_slot
from throttle_helpers import assert_async_guard_fails_closed, free_port, hammer

from offen_core.errors import ThrottledError, ThrottleStorageError
from offen_core.ratelimit import (
    DEFAULT_POLICIES,
    AsyncThrottle,
    Curve,
    Decision,
    Outcome,
    Route,
    RoutePolicy,
    Rule,
    Scope,
    Step,
    Throttle,
)
from offen_core.testing import FakeClock


class Server(Protocol):
    """A private server of this folder's conftest."""

    url: str
    port: int

    def stop(self) -> None: ...


class Cluster(Protocol):
    """The shape of the ``redis_cluster`` fixture."""

    url: str

    @property
    def nodes(self) -> Sequence[Server]: ...


class Sentinel(Protocol):
    """The shape of the ``redis_sentinel`` fixture."""

    url: str
    port: int
    master: Server


pytestmark = pytest.mark.redis

HASH_KEY = b"a test key shared by all processes"
EMAIL = "ada@example.com"
OTHER = "bob@example.com"
ADDRESS = "192.0.2.7"
LOGIN = DEFAULT_POLICIES[Route.LOGIN]

# A budget of exactly 100 attempts per window, the rest refused.
BUDGET = Rule("budget", 1.0, free=100, window=3600.0, deadline=0.0)
# Every attempt waits as many seconds as its rank, so the delays show each was counted once.
RANKING = Rule("ranking", 1.0, free=0, window=3600.0, deadline=1e9)
THREADS = 8
PER_THREAD = 40

# A refused step undoes an earlier one: the global step asks 4 s of the second identity.
UNDO_IDENTITY = Rule("u-identity", 1.0, Curve.LINEAR, window=60.0, free=1)
UNDO_GLOBAL = Rule("u-global", 4.0, Curve.LINEAR, window=60.0, free=1)
UNDO_POLICY = RoutePolicy((Step(Scope.IDENTITY, UNDO_IDENTITY), Step(Scope.GLOBAL, UNDO_GLOBAL)))


@pytest.fixture(params=["cluster", "sentinel"])
def topology_url(request: pytest.FixtureRequest) -> str:
    """Each topology in turn: the session's Redis Cluster, then a private Sentinel."""
    server: Cluster | Sentinel = request.getfixturevalue(f"redis_{request.param}")
    return server.url


def _throttle(url: str, clock: FakeClock, prefix: str, **kwargs: object) -> Throttle:
    return Throttle(url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix, **kwargs)  # type: ignore[arg-type]


def _async_throttle(url: str, clock: FakeClock, prefix: str, **kwargs: object) -> AsyncThrottle:
    return AsyncThrottle(url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix, **kwargs)  # type: ignore[arg-type]


def _storage_keys(
    throttle: Throttle, policy: RoutePolicy, identity: str, address: str
) -> list[str]:
    """The Redis keys the steps of ``policy`` count in, in order, at the throttle's now."""
    settings = throttle._settings
    storage = throttle.storage
    assert isinstance(storage, RedisClusterStorage | RedisSentinelStorage)
    now = settings.clock()
    return [
        storage.prefixed_key(
            settings.slot(step.rule, settings.identifier(step.scope, identity, address), now).key
        )
        for step in policy.steps
    ]


# The growth curve and its deadline, sync and async.


def _window_end(now: float, window: float) -> float:
    return (math.floor(now / window) + 1) * window


def _curve_sync(url: str, clock: FakeClock, prefix: str) -> list[Decision]:
    with _throttle(url, clock, prefix) as throttle:
        decisions = [throttle.check_login(EMAIL, ADDRESS) for _ in range(9)]
        clock.advance(decisions[-1].retry_after)
        decisions.append(throttle.check_login(EMAIL, ADDRESS))
    return decisions


async def _curve_async(url: str, clock: FakeClock, prefix: str) -> list[Decision]:
    async with _async_throttle(url, clock, prefix) as throttle:
        decisions = [await throttle.check_login(EMAIL, ADDRESS) for _ in range(9)]
        clock.advance(decisions[-1].retry_after)
        decisions.append(await throttle.check_login(EMAIL, ADDRESS))
    return decisions


@pytest.mark.parametrize("form", ["sync", "async"])
def test_login_guard_follows_the_curve_to_its_deadline(
    topology_url: str, prefix: str, clock: FakeClock, form: str
) -> None:
    start = clock.time()
    if form == "sync":
        decisions = _curve_sync(topology_url, clock, prefix)
    else:
        decisions = asyncio.run(_curve_async(topology_url, clock, prefix))

    expected = [Outcome.ALLOWED] * 3 + [Outcome.DELAYED] * 5 + [Outcome.REFUSED]
    assert [d.outcome for d in decisions[:9]] == expected
    assert [d.delay for d in decisions[3:8]] == [1.0, 2.0, 4.0, 8.0, 16.0]
    # The ninth attempt would wait 32 s, past the 30 s deadline: refused to the window's end.
    spent = decisions[8]
    assert spent.rule == "login-identity"
    assert spent.retry_after == pytest.approx(_window_end(start, 900.0) - start, abs=1e-3)
    assert decisions[9].outcome is Outcome.ALLOWED


# A person who mistypes, waits some delays out and refuses others, a second person on the
# same address, and the next window: (seconds to advance, identity, max_wait).
SCRIPT: list[tuple[float, str, float | None]] = [
    *[(0.0, EMAIL, None)] * 4,
    (0.5, EMAIL, 0.0),
    (1.5, EMAIL, 0.0),
    *[(0.0, OTHER, 3.0)] * 6,
    *[(0.0, EMAIL, None)] * 4,
    (0.2, OTHER, 0.0),
    (900.0, EMAIL, 0.0),
]


def _script_sync(url: str, prefix: str) -> list[Decision]:
    clock = FakeClock()
    with _throttle(url, clock, prefix) as throttle:
        decisions = []
        for advance, identity, max_wait in SCRIPT:
            clock.advance(advance)
            decisions.append(throttle.check_login(identity, ADDRESS, max_wait=max_wait))
        throttle.login_succeeded(EMAIL)
        decisions.append(throttle.check_login(EMAIL, ADDRESS, max_wait=0))
    return decisions


async def _script_async(url: str, prefix: str) -> list[Decision]:
    clock = FakeClock()
    async with _async_throttle(url, clock, prefix) as throttle:
        decisions = []
        for advance, identity, max_wait in SCRIPT:
            clock.advance(advance)
            decisions.append(await throttle.check_login(identity, ADDRESS, max_wait=max_wait))
        await throttle.login_succeeded(EMAIL)
        decisions.append(await throttle.check_login(EMAIL, ADDRESS, max_wait=0))
        assert await throttle.healthy()
    return decisions


def test_sync_and_async_decide_as_memory_storage_does(topology_url: str, prefix: str) -> None:
    sync = _script_sync(topology_url, prefix)
    asynchronous = asyncio.run(_script_async(topology_url, prefix + "-async"))
    on_memory = _script_sync("memory://", prefix)

    assert sync == asynchronous == on_memory
    assert {d.outcome for d in sync} == {Outcome.ALLOWED, Outcome.DELAYED, Outcome.REFUSED}
    assert any(d.retry_after and d.rule == "login-identity" for d in sync)


# Many threads or coroutines on one identifier.


def _hammer(check: Callable[[], Decision]) -> list[Decision]:
    return hammer(check, threads=THREADS, per_thread=PER_THREAD)


def test_threads_lose_no_attempt(topology_url: str, prefix: str, clock: FakeClock) -> None:
    with _throttle(topology_url, clock, prefix) as throttle:
        decisions = _hammer(lambda: throttle.check_rule(RANKING, EMAIL))

    assert sorted(int(d.delay) for d in decisions) == list(range(1, THREADS * PER_THREAD + 1))


def test_threads_get_exactly_the_budget(topology_url: str, prefix: str, clock: FakeClock) -> None:
    with _throttle(topology_url, clock, prefix) as throttle:
        decisions = _hammer(lambda: throttle.check_rule(BUDGET, EMAIL))

    outcomes = [d.outcome for d in decisions]
    assert outcomes.count(Outcome.ALLOWED) == BUDGET.budget == 100
    assert outcomes.count(Outcome.REFUSED) == THREADS * PER_THREAD - 100


def test_coroutines_get_exactly_the_budget(
    topology_url: str, prefix: str, clock: FakeClock
) -> None:
    async def scenario() -> list[Decision]:
        async with _async_throttle(topology_url, clock, prefix) as throttle:
            return list(
                await asyncio.gather(
                    *(throttle.check_rule(BUDGET, EMAIL) for _ in range(THREADS * PER_THREAD))
                )
            )

    outcomes = [d.outcome for d in asyncio.run(scenario())]
    assert outcomes.count(Outcome.ALLOWED) == 100
    assert outcomes.count(Outcome.REFUSED) == THREADS * PER_THREAD - 100


# Redis Cluster: one route's steps on keys of different nodes.


@pytest.fixture
def cluster_client(redis_cluster: Cluster) -> Iterator[RedisCluster]:
    """A client of the session's cluster, to read what the throttle stored."""
    client = RedisCluster(host="127.0.0.1", port=redis_cluster.nodes[0].port)
    try:
        yield client
    finally:
        client.close()


def _node(client: RedisCluster, key: str) -> str:
    """Return the address of the node that serves ``key``'s slot."""
    node = client.get_node_from_key(key)
    assert node is not None
    return str(node.name)


def _first_on_another_node(
    client: RedisCluster, candidates: Iterable[str], key_of: Callable[[str], str], taken: set[str]
) -> str:
    """Return the first candidate whose key lives on a node not in ``taken``."""
    for candidate in candidates:
        if _node(client, key_of(candidate)) not in taken:
            return candidate
    raise AssertionError("no candidate's key lands on another node")


def _assert_on_distinct_nodes(client: RedisCluster, keys: list[str]) -> None:
    slots = [key_slot(key.encode()) for key in keys]
    # The client's slot is the one the server computes.
    assert slots == [client.cluster_keyslot(key) for key in keys]
    assert len(set(slots)) == len(keys)
    assert len({_node(client, key) for key in keys}) == len(keys)


def _count(client: RedisCluster, key: str) -> bytes | None:
    value: bytes | None = client.hget(key, "n")
    return value


def test_login_steps_count_each_on_its_own_node(
    redis_cluster: Cluster, cluster_client: RedisCluster, prefix: str, clock: FakeClock
) -> None:
    with _throttle(redis_cluster.url, clock, prefix) as throttle:
        # An email and an address whose keys live on the two nodes the global key does not.
        global_key = _storage_keys(throttle, LOGIN, EMAIL, ADDRESS)[2]
        email = _first_on_another_node(
            cluster_client,
            (f"user{i}@example.com" for i in range(100)),
            lambda e: _storage_keys(throttle, LOGIN, e, ADDRESS)[0],
            {_node(cluster_client, global_key)},
        )
        identity_key = _storage_keys(throttle, LOGIN, email, ADDRESS)[0]
        address = _first_on_another_node(
            cluster_client,
            (f"198.51.100.{i}" for i in range(1, 255)),
            lambda a: _storage_keys(throttle, LOGIN, email, a)[1],
            {_node(cluster_client, global_key), _node(cluster_client, identity_key)},
        )
        keys = _storage_keys(throttle, LOGIN, email, address)
        _assert_on_distinct_nodes(cluster_client, keys)

        decisions = [throttle.check_login(email, address) for _ in range(9)]
        counted = [_count(cluster_client, key) for key in keys]
        throttle.login_succeeded(email)
        after_reset = [_count(cluster_client, key) for key in keys]
        again = throttle.check_login(email, address)

    assert [d.delay for d in decisions[3:8]] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert (decisions[8].outcome, decisions[8].rule) == (Outcome.REFUSED, "login-identity")
    # Eight attempts counted on each node; the refused ninth counted nowhere.
    assert counted == [b"8", b"8", b"8"]
    # A success clears the identity's key only; the address and global nodes keep counting.
    assert after_reset == [None, b"8", b"8"]
    assert again.outcome is Outcome.ALLOWED


def test_a_refusal_on_one_node_undoes_the_step_counted_on_another(
    redis_cluster: Cluster, cluster_client: RedisCluster, prefix: str, clock: FakeClock
) -> None:
    with _throttle(redis_cluster.url, clock, prefix, policies={"guarded": UNDO_POLICY}) as throttle:
        global_key = _storage_keys(throttle, UNDO_POLICY, "a", ADDRESS)[1]
        second = _first_on_another_node(
            cluster_client,
            (f"second-{i}" for i in range(100)),
            lambda identity: _storage_keys(throttle, UNDO_POLICY, identity, ADDRESS)[0],
            {_node(cluster_client, global_key)},
        )
        second_key = _storage_keys(throttle, UNDO_POLICY, second, ADDRESS)[0]
        _assert_on_distinct_nodes(cluster_client, [second_key, global_key])

        assert throttle.check("guarded", "a", max_wait=0).outcome is Outcome.ALLOWED
        refused = throttle.check("guarded", second, max_wait=0)
        undone = cluster_client.hgetall(second_key)
        global_count = _count(cluster_client, global_key)
        clock.advance(refused.retry_after)
        later = throttle.check("guarded", second, max_wait=0)

    assert (refused.outcome, refused.rule, refused.retry_after) == (
        Outcome.REFUSED,
        "u-global",
        4.0,
    )
    # The identity step counted the attempt on its node, and the refusal took it back.
    assert undone == {b"n": b"0"}
    assert global_count == b"1"
    assert later.outcome is Outcome.ALLOWED


def _moved_replies(cluster: Cluster) -> int:
    """Return how many MOVED redirections the cluster's nodes have answered so far."""
    total = 0
    for node in cluster.nodes:
        client = redis.Redis(host="127.0.0.1", port=node.port)
        try:
            stats = client.info("errorstats")
        finally:
            client.close()
        total += int(stats.get("errorstat_MOVED", {}).get("count", 0))
    return total


def test_a_burst_of_first_async_checks_goes_straight_to_each_key_s_node(
    redis_cluster: Cluster, prefix: str, clock: FakeClock
) -> None:
    # A step sent before the client knows the slot map goes to any node and is answered
    # MOVED; after a few of those redis-py drops its connections under the steps in flight.
    async def scenario() -> list[Decision]:
        async with _async_throttle(redis_cluster.url, clock, prefix) as throttle:
            return list(
                await asyncio.gather(
                    *(throttle.check_rule(BUDGET, f"visitor-{i}") for i in range(64))
                )
            )

    before = _moved_replies(redis_cluster)
    decisions = asyncio.run(scenario())

    assert [d.outcome for d in decisions] == [Outcome.ALLOWED] * 64
    assert _moved_replies(redis_cluster) == before


# Sentinel: the master it names, and that master going away.


def _shared_redis_identity(client: redis.Redis) -> tuple[str, int]:
    """Return what tells one run of a Redis server from another: its run id and pid."""
    info = client.info("server")
    return str(info["run_id"]), int(info["process_id"])


def test_counts_land_on_the_master_the_sentinel_names(
    redis_sentinel: Sentinel, prefix: str, clock: FakeClock
) -> None:
    master = redis.Redis(host="127.0.0.1", port=redis_sentinel.master.port)
    try:
        with _throttle(redis_sentinel.url, clock, prefix) as throttle:
            keys = _storage_keys(throttle, LOGIN, EMAIL, ADDRESS)
            for _ in range(4):
                throttle.check_login(EMAIL, ADDRESS)
        assert [master.hget(key, "n") for key in keys] == [b"4", b"4", b"4"]
    finally:
        master.close()


def _sentinel_connections(sentinel: Sentinel) -> int:
    """Return how many clients the Sentinel has besides the one asking."""
    client = redis.Redis(host="127.0.0.1", port=sentinel.port)
    try:
        return len(client.client_list()) - 1
    finally:
        client.close()


def _sentinel_connections_drop_to(sentinel: Sentinel, expected: int) -> bool:
    # The Sentinel sees a closed connection go a moment after the client closed it.
    deadline = time.monotonic() + 2
    while _sentinel_connections(sentinel) != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("form", ["sync", "async"])
def test_closing_the_throttle_closes_its_connections_to_the_sentinel(
    redis_sentinel: Sentinel, prefix: str, clock: FakeClock, form: str
) -> None:
    before = _sentinel_connections(redis_sentinel)
    if form == "sync":
        throttle = _throttle(redis_sentinel.url, clock, prefix)
        throttle.check_login(EMAIL, ADDRESS)
        during = _sentinel_connections(redis_sentinel)
        throttle.close()
    else:

        async def scenario() -> int:
            throttle = _async_throttle(redis_sentinel.url, clock, prefix)
            await throttle.check_login(EMAIL, ADDRESS)
            asked = _sentinel_connections(redis_sentinel)
            await throttle.aclose()
            return asked

        during = asyncio.run(scenario())

    # The throttle asked the Sentinel where the master is, and let go of it when closed.
    assert during > before
    assert _sentinel_connections_drop_to(redis_sentinel, before)


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the shared Redis on 6379, to check that it is left alone."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


def _assert_left_alone(shared: redis.Redis, identity: tuple[str, int], prefix: str) -> None:
    """The shared Redis is the same server as before, up, and holds no key of this test."""
    assert shared.ping()
    assert _shared_redis_identity(shared) == identity
    assert list(shared.scan_iter(match=f"LIMITS:{prefix}:*", count=1000)) == []


def test_login_guard_fails_closed_when_the_master_goes_away(
    redis_sentinel: Sentinel, shared_redis: redis.Redis, prefix: str, clock: FakeClock
) -> None:
    shared = _shared_redis_identity(shared_redis)
    with _throttle(
        redis_sentinel.url,
        clock,
        prefix,
        storage_retry_after=7.0,
        storage_options={"socket_timeout": 2, "socket_connect_timeout": 2},
    ) as throttle:
        assert throttle.check_login(EMAIL, ADDRESS).outcome is Outcome.ALLOWED
        assert throttle.healthy()

        redis_sentinel.master.stop()

        decision = throttle.check_login(EMAIL, ADDRESS)
        assert (decision.outcome, decision.storage_failed) == (Outcome.REFUSED, True)
        assert decision.retry_after == 7.0
        with pytest.raises(ThrottledError):
            decision.raise_if_refused()
        assert not throttle.healthy()
        with pytest.raises(ThrottleStorageError):
            throttle.login_succeeded(EMAIL)

    _assert_left_alone(shared_redis, shared, prefix)


def test_async_login_guard_fails_closed_when_the_master_goes_away(
    redis_sentinel: Sentinel, shared_redis: redis.Redis, prefix: str, clock: FakeClock
) -> None:
    shared = _shared_redis_identity(shared_redis)

    async def scenario() -> None:
        async with _async_throttle(
            redis_sentinel.url,
            clock,
            prefix,
            storage_retry_after=7.0,
            storage_options={"socket_timeout": 2, "socket_connect_timeout": 2},
        ) as throttle:
            assert (await throttle.check_login(EMAIL, ADDRESS)).outcome is Outcome.ALLOWED
            assert await throttle.healthy()

            redis_sentinel.master.stop()

            await assert_async_guard_fails_closed(throttle, EMAIL, ADDRESS, retry_after=7.0)

    asyncio.run(scenario())

    _assert_left_alone(shared_redis, shared, prefix)


# A cluster that no node of answers: its client raises an exception of its own, outside
# redis-py's base error, which the throttle must still count as a failed storage.


def _unreachable_cluster() -> str:
    return f"redis+cluster://127.0.0.1:{free_port()}"


def test_a_sync_throttle_on_an_unreachable_cluster_says_so_when_opened() -> None:
    # The sync cluster client connects when it is made, so the throttle cannot be opened.
    with pytest.raises(ThrottleStorageError, match="cannot be reached") as caught:
        Throttle(_unreachable_cluster(), hash_key=HASH_KEY)
    assert isinstance(caught.value.__cause__, redis.exceptions.RedisClusterException)


def test_an_async_login_guard_on_an_unreachable_cluster_fails_closed(clock: FakeClock) -> None:
    async def scenario() -> None:
        async with AsyncThrottle(
            _unreachable_cluster(), hash_key=HASH_KEY, clock=clock.time, storage_retry_after=7.0
        ) as throttle:
            await assert_async_guard_fails_closed(throttle, EMAIL, ADDRESS, retry_after=7.0)

    asyncio.run(scenario())
