# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The per-route throttle step in front of the flows."""

from __future__ import annotations

import asyncio

import pytest

from offen_core.errors import InvalidInputError, ThrottledError
from offen_core.ratelimit import DEFAULT_POLICIES, Outcome, Scope
from offen_core.server import (
    ROUTE_THROTTLES,
    SERVER_POLICIES,
    AsyncThrottleStep,
    Identity,
    Route,
    ServerConfig,
    ThrottleStep,
    make_async_throttle,
    make_throttle,
    throttle_key,
)
from offen_core.testing import FakeClock

CONFIG = ServerConfig(b"throttle-tests-secret-0123456789")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def step(clock: FakeClock) -> ThrottleStep:
    return ThrottleStep(make_throttle(CONFIG, clock=clock.time))


def test_every_route_has_an_entry_and_every_policy_exists() -> None:
    assert set(ROUTE_THROTTLES) == set(Route)
    for route, spec in ROUTE_THROTTLES.items():
        if spec is not None:
            assert spec.policy in SERVER_POLICIES, route


def test_guarded_routes_check_identity_then_address_then_everyone() -> None:
    guarded = {route for route, spec in ROUTE_THROTTLES.items() if spec and spec.login_guard}

    assert guarded == {
        Route.POST_LOGIN,
        Route.FORGOT_PASSWORD,
        Route.RESET_PASSWORD,
        Route.SHARE_ACCOUNT,
        Route.JOIN,
        Route.RECOVER,
    }
    address_rules = set()
    for route in guarded:
        spec = ROUTE_THROTTLES[route]
        assert spec is not None
        scopes = [s.scope for s in SERVER_POLICIES[spec.policy].steps]
        assert scopes == [Scope.IDENTITY, Scope.ADDRESS, Scope.GLOBAL], route
        address_rules.add(SERVER_POLICIES[spec.policy].steps[1].rule.name)
    assert address_rules == {"login-address"}


def test_unguarded_routes_keep_the_default_policies() -> None:
    for spec in ROUTE_THROTTLES.values():
        if spec is not None and not spec.login_guard:
            assert SERVER_POLICIES[spec.policy] == DEFAULT_POLICIES[spec.policy]


def test_visitor_routes_are_limited_by_the_user_cookie_or_the_address() -> None:
    for route in (Route.POST_EXCHANGE, Route.GET_EVENTS, Route.POST_EVENTS, Route.PURGE):
        spec = ROUTE_THROTTLES[route]
        assert spec is not None
        assert spec.identity is Identity.VISITOR
        assert SERVER_POLICIES[spec.policy].steps[0].scope is Scope.IDENTITY_OR_ADDRESS


def test_unthrottled_routes_are_always_allowed(step: ThrottleStep) -> None:
    for _ in range(100):
        assert step.check(Route.GET_EXCHANGE, "", "192.0.2.1").outcome is Outcome.ALLOWED
        assert step.check("GET /healthz").outcome is Outcome.ALLOWED


def test_an_unknown_route_is_refused_as_input(step: ThrottleStep) -> None:
    with pytest.raises(InvalidInputError):
        step.check("GET /nowhere")


def _until_not_allowed(step: ThrottleStep, route: Route, identity: str, address: str) -> int:
    for count in range(1, 200):
        if step.check(route, identity, address).outcome is not Outcome.ALLOWED:
            return count
    raise AssertionError("never slowed down")


def test_posting_events_slows_one_visitor_not_another(step: ThrottleStep) -> None:
    free = _until_not_allowed(step, Route.POST_EVENTS, "visitor-a", "192.0.2.1")

    assert free > 1
    assert step.check(Route.POST_EVENTS, "visitor-b", "192.0.2.1").outcome is Outcome.ALLOWED


def test_visitors_without_a_cookie_are_counted_by_address(step: ThrottleStep) -> None:
    _until_not_allowed(step, Route.POST_EXCHANGE, "", "192.0.2.1")

    assert step.check(Route.POST_EXCHANGE, "", "192.0.2.1").outcome is not Outcome.ALLOWED
    assert step.check(Route.POST_EXCHANGE, "", "192.0.2.2").outcome is Outcome.ALLOWED


def test_a_refusal_is_a_429_with_retry_after(step: ThrottleStep) -> None:
    decisions = [step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.9") for _ in range(12)]

    refused = [d for d in decisions if d.outcome is Outcome.REFUSED]
    assert refused
    with pytest.raises(ThrottledError) as caught:
        refused[0].wait_time(5.0)
    assert caught.value.retry_after > 0


def test_forgot_password_from_one_address_hits_the_shared_address_budget(
    step: ThrottleStep,
) -> None:
    # Each attempt names a new email, so only the address step can stop them.
    outcomes = [
        step.check(Route.FORGOT_PASSWORD, f"person{n}@example.com", "198.51.100.4").outcome
        for n in range(60)
    ]

    assert Outcome.REFUSED in outcomes
    # The login guard of that address is spent too: the budget is shared.
    assert step.check(Route.POST_LOGIN, "new@example.com", "198.51.100.4").outcome is not (
        Outcome.ALLOWED
    )
    assert step.check(Route.POST_LOGIN, "new@example.com", "198.51.100.5").outcome is (
        Outcome.ALLOWED
    )


def test_a_successful_login_forgets_the_failed_attempts(step: ThrottleStep) -> None:
    for _ in range(4):
        step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.7")
    assert step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.7").outcome is not (
        Outcome.ALLOWED
    )

    step.login_succeeded("ada@example.com", "192.0.2.7")

    assert step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.7").outcome is (Outcome.ALLOWED)


def test_windows_pass_with_time(step: ThrottleStep, clock: FakeClock) -> None:
    _until_not_allowed(step, Route.GET_EVENTS, "visitor", "192.0.2.1")

    clock.advance(120)

    assert step.check(Route.GET_EVENTS, "visitor", "192.0.2.1").outcome is Outcome.ALLOWED


def test_two_processes_with_one_secret_share_their_counts(clock: FakeClock) -> None:
    first = make_throttle(CONFIG, clock=clock.time)
    second = make_throttle(CONFIG, first.storage, clock=clock.time)
    other_secret = make_throttle(
        ServerConfig(b"another-secret-0123456789abcdef"),
        first.storage,
        clock=clock.time,
    )

    _until_not_allowed(ThrottleStep(first), Route.PURGE, "visitor", "192.0.2.1")

    assert ThrottleStep(second).check(Route.PURGE, "visitor", "").outcome is not Outcome.ALLOWED
    assert ThrottleStep(other_secret).check(Route.PURGE, "visitor", "").outcome is Outcome.ALLOWED
    assert throttle_key(CONFIG) == throttle_key(ServerConfig(CONFIG.secret))
    assert throttle_key(CONFIG) != CONFIG.secret


def test_the_async_step_decides_like_the_sync_one(clock: FakeClock) -> None:
    sync_step = ThrottleStep(make_throttle(CONFIG, clock=clock.time))

    async def run() -> list[Outcome]:
        async_step = AsyncThrottleStep(make_async_throttle(CONFIG, clock=clock.time))
        outcomes = [
            (await async_step.check(Route.POST_LOGIN, "bo@example.com", "192.0.2.3")).outcome
            for _ in range(8)
        ]
        await async_step.login_succeeded("bo@example.com", "192.0.2.3")
        after = await async_step.check(Route.POST_LOGIN, "bo@example.com", "192.0.2.3")
        assert (await async_step.check(Route.VERSIONZ)).outcome is Outcome.ALLOWED
        return [*outcomes, after.outcome]

    expected = [
        sync_step.check(Route.POST_LOGIN, "bo@example.com", "192.0.2.3").outcome for _ in range(8)
    ]
    sync_step.login_succeeded("bo@example.com", "192.0.2.3")
    expected.append(sync_step.check(Route.POST_LOGIN, "bo@example.com", "192.0.2.3").outcome)

    assert asyncio.run(run()) == expected


def test_email_identities_are_normalised_before_counting(step: ThrottleStep) -> None:
    spellings = ["Ada@Example.com", " ada@example.com", "ADA@EXAMPLE.COM\t", "ada@example.com"]
    outcomes = [step.check(Route.POST_LOGIN, email, "192.0.2.7").outcome for email in spellings]
    assert outcomes[-1] is not Outcome.ALLOWED  # four attempts of one person, three are free

    step.login_succeeded("ADA@example.COM", "192.0.2.7")

    assert step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.7").outcome is (Outcome.ALLOWED)


def test_a_step_that_will_not_wait_refuses_without_counting(
    step: ThrottleStep, clock: FakeClock
) -> None:
    for _ in range(3):
        assert step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.7").allowed

    refused = step.check(Route.POST_LOGIN, "Ada@example.com", "192.0.2.7", max_wait=0)
    again = step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.7", max_wait=0)
    assert (refused.outcome, refused.retry_after) == (Outcome.REFUSED, 1.0)
    assert again.retry_after == 1.0

    clock.advance(refused.retry_after)

    assert step.check(Route.POST_LOGIN, "ada@example.com", "192.0.2.7", max_wait=0).allowed


def test_the_async_step_waits_up_to_its_cap_and_refuses_beyond(clock: FakeClock) -> None:
    async def run() -> list[tuple[Outcome, float, float]]:
        async_step = AsyncThrottleStep(make_async_throttle(CONFIG, clock=clock.time))
        results = []
        for _ in range(6):
            decision = await async_step.check(
                Route.POST_LOGIN, "bo@example.com", "192.0.2.3", max_wait=2.0
            )
            results.append((decision.outcome, decision.delay, decision.retry_after))
        return results

    results = asyncio.run(run())

    assert results[:3] == [(Outcome.ALLOWED, 0.0, 0.0)] * 3
    assert results[3:5] == [(Outcome.DELAYED, 1.0, 0.0), (Outcome.DELAYED, 2.0, 0.0)]
    # The sixth would wait 4 s: refused, and not counted, so it is refused the same way.
    assert results[5] == (Outcome.REFUSED, 0.0, 4.0)
