# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Callers that will not wait: a refused delay is not counted, and Retry-After is true."""

from __future__ import annotations

import asyncio
import math

import pytest

from offen_core.errors import InvalidInputError
from offen_core.ratelimit import (
    AsyncThrottle,
    Curve,
    Decision,
    Outcome,
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


def _throttle(url: str, clock: FakeClock, prefix: str, **kwargs: object) -> Throttle:
    return Throttle(url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix, **kwargs)  # type: ignore[arg-type]


def test_three_typos_then_honouring_retry_after_gets_through(
    storage_url: str, clock: FakeClock, prefix: str
) -> None:
    with _throttle(storage_url, clock, prefix) as throttle:
        for _ in range(3):
            assert throttle.check_login(EMAIL, ADDRESS, max_wait=0).outcome is Outcome.ALLOWED

        waits = []
        for _ in range(5):
            refused = throttle.check_login(EMAIL, ADDRESS, max_wait=0)
            assert (refused.outcome, refused.rule) == (Outcome.REFUSED, "login-identity")
            # Asking again at once is refused the same way: the refusal counted nothing.
            again = throttle.check_login(EMAIL, ADDRESS, max_wait=0)
            assert again.retry_after == refused.retry_after
            waits.append(refused.retry_after)
            clock.advance(refused.retry_after)
            assert throttle.check_login(EMAIL, ADDRESS, max_wait=0).outcome is Outcome.ALLOWED

        # The documented curve, as seen by a client that never waits on the server.
        assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]
        # Eight attempts went through; the ninth would wait 32 s, past the 30 s deadline.
        spent = throttle.check_login(EMAIL, ADDRESS, max_wait=0)
        assert spent.outcome is Outcome.REFUSED
        window_end = (math.floor(clock.time() / 900) + 1) * 900
        assert spent.retry_after == pytest.approx(window_end - clock.time(), abs=1e-3)


def test_waiting_callers_get_the_curve_and_are_counted(
    storage_url: str, clock: FakeClock, prefix: str
) -> None:
    with _throttle(storage_url, clock, prefix) as throttle:
        decisions = [throttle.check_login(EMAIL, ADDRESS, max_wait=5.0) for _ in range(7)]

    assert [d.outcome for d in decisions] == [Outcome.ALLOWED] * 3 + [Outcome.DELAYED] * 3 + [
        Outcome.REFUSED
    ]
    assert [d.delay for d in decisions[3:6]] == [1.0, 2.0, 4.0]
    # Three delayed attempts were counted: the next one would wait 8 s, over the cap.
    assert decisions[6].retry_after == 8.0


def test_the_delay_counts_from_the_attempt_before(clock: FakeClock) -> None:
    throttle = _throttle("memory://", clock, "p")
    for _ in range(4):
        throttle.check_login(EMAIL, ADDRESS)
    clock.advance(1.5)

    decision = throttle.check_login(EMAIL, ADDRESS, max_wait=1.0)

    # The fifth attempt may go ahead 2 s after the fourth was counted: 0.5 s from now.
    assert (decision.outcome, decision.delay) == (Outcome.DELAYED, 0.5)


def test_a_refusal_at_a_later_step_undoes_the_earlier_ones(
    storage_url: str, clock: FakeClock, prefix: str
) -> None:
    identity = Rule("u-identity", 1.0, Curve.LINEAR, window=60.0, free=1)
    everyone = Rule("u-global", 4.0, Curve.LINEAR, window=60.0, free=1)
    policy = RoutePolicy((Step(Scope.IDENTITY, identity), Step(Scope.GLOBAL, everyone)))
    with _throttle(storage_url, clock, prefix, policies={"r": policy}) as throttle:
        assert throttle.check("r", "a", max_wait=0).outcome is Outcome.ALLOWED
        # "b" is free at its identity, but the global step asks for 4 s.
        refused = throttle.check("r", "b", max_wait=0)
        assert (refused.outcome, refused.rule, refused.retry_after) == (
            Outcome.REFUSED,
            "u-global",
            4.0,
        )
        clock.advance(4.0)
        # Had "b"'s identity step kept the refused attempt, this one would wait 1 s there.
        assert throttle.check("r", "b", max_wait=0).outcome is Outcome.ALLOWED


def test_retry_after_covers_every_step(storage_url: str, clock: FakeClock, prefix: str) -> None:
    identity = Rule("c-identity", 2.0, Curve.LINEAR, window=60.0, free=1)
    everyone = Rule("c-global", 5.0, Curve.LINEAR, window=60.0, free=1)
    policy = RoutePolicy((Step(Scope.IDENTITY, identity), Step(Scope.GLOBAL, everyone)))
    with _throttle(storage_url, clock, prefix, policies={"r": policy}) as throttle:
        assert throttle.check("r", "a", max_wait=0).allowed

        # The identity refuses for 2 s, but the global step would then still ask 3 s more.
        refused = throttle.check("r", "a", max_wait=0)
        assert (refused.retry_after, refused.rule) == (5.0, "c-global")
        clock.advance(refused.retry_after)
        assert throttle.check("r", "a", max_wait=0).outcome is Outcome.ALLOWED


def test_a_spent_budget_is_not_counted_and_ends_with_the_window(clock: FakeClock) -> None:
    rule = Rule("s", 1.0, free=2, window=10.0, deadline=0.0)
    throttle = _throttle("memory://", clock, "p")
    assert [throttle.check_rule(rule, "k").outcome for _ in range(2)] == [Outcome.ALLOWED] * 2
    refusal = throttle.check_rule(rule, "k", max_wait=0)
    assert refusal.outcome is Outcome.REFUSED

    clock.advance(refusal.retry_after)

    assert throttle.check_rule(rule, "k", max_wait=0).outcome is Outcome.ALLOWED


@pytest.mark.parametrize("max_wait", [-1.0, float("nan")])
def test_a_negative_max_wait_is_an_error(clock: FakeClock, max_wait: float) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _throttle("memory://", clock, "p").check_login(EMAIL, ADDRESS, max_wait=max_wait)
    assert caught.value.field == "max_wait"


SCRIPT: list[tuple[float, str, float | None]] = [
    # (advance seconds, email, max_wait)
    *[(0.0, EMAIL, 0.0)] * 5,
    (1.0, EMAIL, 0.0),
    (0.0, EMAIL, 5.0),
    (0.5, EMAIL, 0.0),
    (3.5, EMAIL, None),
    (0.0, EMAIL, 0.0),
    *[(0.0, "bob@example.com", 2.0)] * 6,
    (900.0, EMAIL, 0.0),
]


def _run_sync(url: str, prefix: str) -> list[Decision]:
    clock = FakeClock()
    with _throttle(url, clock, prefix) as throttle:
        decisions = []
        for advance, email, max_wait in SCRIPT:
            clock.advance(advance)
            decisions.append(throttle.check_login(email, ADDRESS, max_wait=max_wait))
        return decisions


async def _run_async(url: str, prefix: str) -> list[Decision]:
    clock = FakeClock()
    async with AsyncThrottle(
        url, hash_key=HASH_KEY, clock=clock.time, key_prefix=prefix
    ) as throttle:
        decisions = []
        for advance, email, max_wait in SCRIPT:
            clock.advance(advance)
            decisions.append(await throttle.check_login(email, ADDRESS, max_wait=max_wait))
        return decisions


def test_sync_and_async_refuse_alike_and_storages_agree(storage_url: str, prefix: str) -> None:
    sync = _run_sync(storage_url, prefix)
    asynchronous = asyncio.run(_run_async(storage_url, prefix + "-async"))
    on_memory = _run_sync("memory://", prefix + "-memory")

    assert sync == asynchronous == on_memory
    assert {d.outcome for d in sync} == {Outcome.ALLOWED, Outcome.DELAYED, Outcome.REFUSED}
