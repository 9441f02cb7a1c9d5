# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Properties over sequences of attempts and clock steps."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from offen_core.ratelimit import (
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

rules = st.builds(
    Rule,
    name=st.just("prop"),
    threshold=st.floats(min_value=0.05, max_value=5.0),
    curve=st.sampled_from(Curve),
    window=st.floats(min_value=1.0, max_value=120.0),
    free=st.integers(min_value=0, max_value=5),
    deadline=st.floats(min_value=0.0, max_value=60.0),
)
# Mostly bursts (no time passes), sometimes small steps, sometimes a jump past a window.
clock_steps = st.lists(
    st.one_of(
        st.just(0.0),
        st.floats(min_value=0.0, max_value=3.0),
        st.floats(min_value=0.0, max_value=200.0),
    ),
    min_size=1,
    max_size=80,
)


@given(rule=rules, steps=clock_steps)
def test_delay_never_decreases_and_nothing_passes_the_deadline(
    rule: Rule, steps: list[float]
) -> None:
    clock = FakeClock()
    throttle = Throttle("memory://", hash_key=HASH_KEY, clock=clock.time)
    previous: tuple[int, Decision] | None = None
    allowed_per_window: Counter[int] = Counter()

    for step in steps:
        clock.advance(step)
        now = clock.time()
        window = math.floor(now / rule.window)
        decision = throttle.check_rule(rule, "someone@example.com")

        if decision.outcome is Outcome.REFUSED:
            assert decision.retry_after > 0
            # Waiting out retry_after lands in the next window.
            assert math.floor((now + decision.retry_after) / rule.window) == window + 1
        else:
            assert 0 <= decision.delay <= rule.deadline
            allowed_per_window[window] += 1

        if previous is not None and previous[0] == window:
            before = previous[1]
            if before.outcome is Outcome.REFUSED:
                assert decision.outcome is Outcome.REFUSED
            elif decision.outcome is not Outcome.REFUSED:
                assert decision.delay >= before.delay
        previous = (window, decision)

    assert all(count <= rule.budget for count in allowed_per_window.values())


@given(rule=rules, steps=clock_steps)
def test_decisions_follow_the_rank_of_the_attempt_in_its_window(
    rule: Rule, steps: list[float]
) -> None:
    clock = FakeClock()
    throttle = Throttle("memory://", hash_key=HASH_KEY, clock=clock.time)
    ranks: Counter[int] = Counter()
    for step in steps:
        clock.advance(step)
        window = math.floor(clock.time() / rule.window)
        ranks[window] += 1
        expected = rule.delay(ranks[window])
        decision = throttle.check_rule(rule, "someone@example.com")
        if expected > rule.deadline:
            assert decision.outcome is Outcome.REFUSED
        elif expected > 0:
            assert (decision.outcome, decision.delay) == (Outcome.DELAYED, expected)
        else:
            assert decision.outcome is Outcome.ALLOWED


IDENTITY_RULE = Rule("p-identity", 1.0, Curve.EXPONENTIAL, window=60.0, free=2, deadline=8.0)
ADDRESS_RULE = Rule("p-address", 0.5, Curve.LINEAR, window=30.0, free=3, deadline=4.0)
GLOBAL_RULE = Rule("p-global", 0.25, Curve.QUADRATIC, window=20.0, free=4, deadline=6.0)
POLICY = RoutePolicy(
    (
        Step(Scope.IDENTITY, IDENTITY_RULE),
        Step(Scope.ADDRESS, ADDRESS_RULE),
        Step(Scope.GLOBAL, GLOBAL_RULE),
    ),
    reset_on_success=frozenset({Scope.IDENTITY}),
)

operations = st.lists(
    st.tuples(
        st.sampled_from(["attempt", "attempt", "attempt", "success"]),
        st.sampled_from(["a@example.com", "b@example.com", ""]),
        st.sampled_from(["192.0.2.1", "192.0.2.2"]),
        st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=40.0)),
    ),
    min_size=1,
    max_size=120,
)


@given(ops=operations)
def test_guard_matches_a_model_where_a_refusal_consumes_nothing_later(
    ops: list[tuple[str, str, str, float]],
) -> None:
    clock = FakeClock()
    throttle = Throttle("memory://", hash_key=HASH_KEY, clock=clock.time, policies={"g": POLICY})
    counts: Counter[tuple[str, str, int]] = Counter()

    for kind, identity, address, step in ops:
        clock.advance(step)
        now = clock.time()
        keys = [
            (IDENTITY_RULE, identity),
            (ADDRESS_RULE, address),
            (GLOBAL_RULE, "*"),
        ]
        if kind == "success":
            throttle.report_success("g", identity, address)
            counts.pop((IDENTITY_RULE.name, identity, math.floor(now / 60.0)), None)
            continue

        decision = throttle.check("g", identity, address)
        expected_delay = 0.0
        refused_by = None
        for rule, identifier in keys:
            key = (rule.name, identifier, math.floor(now / rule.window))
            counts[key] += 1
            delay = rule.delay(counts[key])
            if delay > rule.deadline:
                refused_by = rule.name
                break
            expected_delay = max(expected_delay, delay)

        if refused_by is not None:
            assert (decision.outcome, decision.rule) == (Outcome.REFUSED, refused_by)
        else:
            assert decision.allowed
            assert decision.delay == expected_delay
