# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Throttle decisions driven by a controllable clock, on memory storage and, for the tests that
take ``storage_url``, on Redis and memcached too."""

from __future__ import annotations

import asyncio

import pytest
from limits.storage import Storage

from offen_core.errors import InvalidInputError
from offen_core.ratelimit import (
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

HASH_KEY = b"a test key shared by all processes"

EMAIL = "ada@example.com"
ADDRESS = "192.0.2.7"


def _throttle(clock: FakeClock, url: str = "memory://", /, **kwargs: object) -> Throttle:
    return Throttle(url, hash_key=HASH_KEY, clock=clock.time, **kwargs)  # type: ignore[arg-type]


def test_login_identity_follows_the_documented_curve(
    storage_url: str, prefix: str, clock: FakeClock
) -> None:
    with _throttle(clock, storage_url, key_prefix=prefix) as throttle:
        decisions = [throttle.check_login(EMAIL, ADDRESS) for _ in range(10)]
    assert [d.outcome for d in decisions] == [Outcome.ALLOWED] * 3 + [Outcome.DELAYED] * 5 + [
        Outcome.REFUSED
    ] * 2
    assert [d.delay for d in decisions[3:8]] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert {d.rule for d in decisions[3:]} == {"login-identity"}


def test_refusal_retry_after_points_at_the_end_of_the_window(clock: FakeClock) -> None:
    rule = Rule("w", 1.0, free=1, window=100.0, deadline=0.0)
    throttle = _throttle(clock)
    start = clock.time()
    window_end = (start // 100 + 1) * 100
    assert throttle.check_rule(rule, "x").outcome is Outcome.ALLOWED
    refusal = throttle.check_rule(rule, "x")
    assert refusal.outcome is Outcome.REFUSED
    assert refusal.retry_after == pytest.approx(window_end - start)

    clock.advance(refusal.retry_after)
    assert throttle.check_rule(rule, "x").outcome is Outcome.ALLOWED


def test_state_expires_with_its_window(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    for _ in range(9):
        throttle.check_login(EMAIL, ADDRESS)
    assert throttle.check_login(EMAIL, ADDRESS).outcome is Outcome.REFUSED
    clock.advance(900)
    assert throttle.check_login(EMAIL, ADDRESS).outcome is Outcome.ALLOWED


def test_identities_are_counted_apart(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    for _ in range(9):
        throttle.check_login(EMAIL, ADDRESS)
    assert throttle.check_login("bob@example.com", ADDRESS).outcome is Outcome.ALLOWED


def test_refusal_at_the_identity_consumes_nothing_at_address_or_global(
    storage_url: str, prefix: str, clock: FakeClock
) -> None:
    identity = Rule("g-identity", 1.0, free=1, deadline=0.0)
    address = Rule("g-address", 1.0, free=2, deadline=0.0)
    policy = RoutePolicy((Step(Scope.IDENTITY, identity), Step(Scope.ADDRESS, address)))
    with _throttle(clock, storage_url, key_prefix=prefix, policies={"guarded": policy}) as throttle:
        assert throttle.check("guarded", "a", ADDRESS).outcome is Outcome.ALLOWED
        for _ in range(5):
            refused = throttle.check("guarded", "a", ADDRESS)
            assert refused.outcome is Outcome.REFUSED
            assert refused.rule == "g-identity"
        # The address has seen one attempt only, so one more identity gets through.
        assert throttle.check("guarded", "b", ADDRESS).outcome is Outcome.ALLOWED
        refused = throttle.check("guarded", "c", ADDRESS)
    assert (refused.outcome, refused.rule) == (Outcome.REFUSED, "g-address")


def test_address_budget_spans_identities(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    outcomes = [throttle.check_login(f"user{i}@example.com", ADDRESS) for i in range(41)]
    assert all(d.allowed for d in outcomes[:40])
    assert outcomes[40].outcome is Outcome.REFUSED
    assert outcomes[40].rule == "login-address"
    assert throttle.check_login("x@example.com", "192.0.2.8").allowed


def test_ipv6_addresses_are_counted_by_their_64_network(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    for i in range(40):
        throttle.check_login(f"user{i}@example.com", f"2001:db8:1:2::{i + 1:x}")
    assert throttle.check_login("x@example.com", "2001:db8:1:2:ffff::1").outcome is Outcome.REFUSED
    assert throttle.check_login("x@example.com", "2001:db8:1:3::1").allowed


def test_global_budget_spans_addresses(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    decisions = [throttle.check_login(f"u{i}@example.com", f"198.51.100.{i}") for i in range(81)]
    assert [d.delay for d in decisions[19:23]] == [0.0, 0.5, 1.0, 1.5]
    assert decisions[79].delay == 30.0
    assert decisions[80].outcome is Outcome.REFUSED
    assert decisions[80].rule == "login-global"


def test_delay_is_the_largest_of_the_steps(clock: FakeClock) -> None:
    slow = Rule("slow", 3.0, free=0)
    fast = Rule("fast", 1.0, free=0)
    policy = RoutePolicy((Step(Scope.IDENTITY, fast), Step(Scope.GLOBAL, slow)))
    throttle = _throttle(clock, policies={"r": policy})
    decision = throttle.check("r", "a", ADDRESS)
    assert (decision.outcome, decision.delay, decision.rule) == (Outcome.DELAYED, 3.0, "slow")


def test_successful_login_resets_the_identity_only(
    storage_url: str, prefix: str, clock: FakeClock
) -> None:
    with _throttle(clock, storage_url, key_prefix=prefix) as throttle:
        for i in range(7):
            throttle.check_login(EMAIL, ADDRESS if i else "192.0.2.99")
        throttle.login_succeeded(EMAIL)
        assert throttle.check_login(EMAIL, ADDRESS).outcome is Outcome.ALLOWED
        # The address kept its count: 6 attempts before and 1 after the reset, 33 more pass.
        decisions = [throttle.check_login(f"u{i}@example.com", ADDRESS) for i in range(34)]
    assert decisions[32].allowed
    assert decisions[33].outcome is Outcome.REFUSED


def test_empty_identity_is_one_identity_of_its_own(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    for i in range(8):
        throttle.check_login("", f"198.51.100.{i}")
    assert throttle.check_login("", "198.51.100.200").outcome is Outcome.REFUSED
    assert throttle.check_login(EMAIL, "198.51.100.200").allowed


def test_identity_or_address_scope_falls_back_to_the_address(clock: FakeClock) -> None:
    rule = Rule("x", 1.0, free=1, deadline=0.0)
    throttle = _throttle(
        clock, policies={"r": RoutePolicy((Step(Scope.IDENTITY_OR_ADDRESS, rule),))}
    )
    assert throttle.check("r", "", ADDRESS).allowed
    assert not throttle.check("r", "", ADDRESS).allowed
    assert throttle.check("r", "", "192.0.2.8").allowed
    assert throttle.check("r", "user-1", ADDRESS).allowed


def test_rules_with_one_name_share_their_counts(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    for _ in range(5):
        throttle.check(Route.LOGIN, EMAIL, ADDRESS)
    for _ in range(3):
        throttle.check(Route.RECOVER, EMAIL, ADDRESS)
    assert throttle.check(Route.LOGIN, EMAIL, ADDRESS).outcome is Outcome.REFUSED


def test_throttles_with_different_keys_do_not_share_counts(clock: FakeClock) -> None:
    storage = Throttle("memory://").storage
    rule = Rule("x", 1.0, free=1, deadline=0.0)
    first = Throttle(storage, hash_key=HASH_KEY, clock=clock.time)
    second = Throttle(storage, hash_key=b"another key of enough bytes", clock=clock.time)
    same = Throttle(storage, hash_key=HASH_KEY, clock=clock.time)
    assert first.check_rule(rule, "k").allowed
    assert second.check_rule(rule, "k").allowed
    assert not same.check_rule(rule, "k").allowed


def test_key_prefixes_keep_instances_apart(clock: FakeClock) -> None:
    storage = Throttle("memory://").storage
    rule = Rule("x", 1.0, free=1, deadline=0.0)
    first = Throttle(storage, hash_key=HASH_KEY, clock=clock.time, key_prefix="site-a")
    second = Throttle(storage, hash_key=HASH_KEY, clock=clock.time, key_prefix="site-b")
    assert first.check_rule(rule, "k").allowed
    assert second.check_rule(rule, "k").allowed
    assert not first.check_rule(rule, "k").allowed


def test_unknown_route_is_an_error(clock: FakeClock) -> None:
    with pytest.raises(InvalidInputError):
        _throttle(clock).check("no-such-route", "a", ADDRESS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key_prefix": "bad prefix"},
        {"key_prefix": ""},
        {"on_storage_error": "shrug"},
        {"storage_retry_after": 0},
        {"ipv6_prefix": 129},
    ],
)
def test_bad_settings_are_rejected(clock: FakeClock, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        _throttle(clock, **kwargs)


def test_unknown_storage_scheme_is_an_error_without_the_url() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Throttle("nosuch://user:hunter2@host/")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(InvalidInputError):
        Throttle("async+memory://")


def test_repr_hides_the_key(clock: FakeClock) -> None:
    assert HASH_KEY.decode() not in repr(_throttle(clock))
    assert not Throttle("memory://").shared_key
    assert _throttle(clock).shared_key


def test_memory_storage_is_healthy(clock: FakeClock) -> None:
    assert _throttle(clock).healthy()


SCRIPT: list[tuple[float, str, str, str]] = [
    # (advance seconds, route, identity, address)
    *[(0.0, "login", EMAIL, ADDRESS)] * 10,
    (30.0, "login", "bob@example.com", ADDRESS),
    *[(0.1, "post_events", "user-1", ADDRESS)] * 95,
    (900.0, "login", EMAIL, ADDRESS),
    *[(0.0, "forgot_password", EMAIL, ADDRESS)] * 6,
    *[(0.0, "setup", "", ADDRESS)] * 9,
]


def _run_sync(clock: FakeClock, url: str, prefix: str) -> list[Decision]:
    with _throttle(clock, url, key_prefix=prefix) as throttle:
        decisions = []
        for advance, route, identity, address in SCRIPT:
            clock.advance(advance)
            decisions.append(throttle.check(route, identity, address))
        throttle.login_succeeded(EMAIL)
        decisions.append(throttle.check_login(EMAIL, ADDRESS))
        return decisions


async def _run_async(clock: FakeClock, url: str, prefix: str) -> list[Decision]:
    async with AsyncThrottle(
        url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix
    ) as throttle:
        decisions = []
        for advance, route, identity, address in SCRIPT:
            clock.advance(advance)
            decisions.append(await throttle.check(route, identity, address))
        await throttle.login_succeeded(EMAIL)
        decisions.append(await throttle.check_login(EMAIL, ADDRESS))
        assert await throttle.healthy()
        return decisions


def test_sync_and_async_throttles_decide_alike(storage_url: str, prefix: str) -> None:
    sync = _run_sync(FakeClock(), storage_url, prefix)
    asynchronous = asyncio.run(_run_async(FakeClock(), storage_url, prefix + "-async"))
    on_memory = _run_sync(FakeClock(), "memory://", prefix)
    assert sync == asynchronous == on_memory
    outcomes = {d.outcome for d in sync}
    assert outcomes == {Outcome.ALLOWED, Outcome.DELAYED, Outcome.REFUSED}


def test_async_check_rule_and_errors(clock: FakeClock) -> None:
    async def scenario() -> None:
        throttle = AsyncThrottle("async+memory://", hash_key=HASH_KEY, clock=clock.time)
        rule = Rule("x", 2.0, Curve.LINEAR, free=1)
        assert (await throttle.check_rule(rule, "k")).outcome is Outcome.ALLOWED
        assert (await throttle.check_rule(rule, "k")).delay == 2.0
        with pytest.raises(InvalidInputError):
            await throttle.check("no-such-route")
        await throttle.aclose()

    asyncio.run(scenario())


def test_async_throttle_rejects_bad_settings() -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidInputError):
            AsyncThrottle("memory://", max_concurrency=0)
        with pytest.raises(InvalidInputError):
            AsyncThrottle("nosuch://host/")

    asyncio.run(scenario())


def test_unknown_address_is_one_address_of_its_own(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    for i in range(40):
        assert throttle.check_login(f"u{i}@example.com", "").allowed
    assert throttle.check_login("x@example.com", "").outcome is Outcome.REFUSED
    assert throttle.check_login("x@example.com", ADDRESS).allowed


class _CounterOnlyStorage(Storage):
    """A storage of the application's own with increments only: no script, no compare-and-set."""

    @property
    def base_exceptions(self) -> type[Exception]:
        return ConnectionError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return amount

    def get(self, key: str) -> int:
        return 0

    def get_expiry(self, key: str) -> float:
        return 0.0

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return None

    def clear(self, key: str) -> None:
        return None


def test_a_storage_without_an_atomic_step_is_refused() -> None:
    # Deciding and counting in one step needs a lock, a script or a compare-and-set, which
    # the throttle knows how to use on memory, Redis, memcached and MongoDB only.
    with pytest.raises(InvalidInputError) as caught:
        Throttle(_CounterOnlyStorage(), hash_key=HASH_KEY)
    assert caught.value.field == "storage"
    assert "memcached://" in str(caught.value)
