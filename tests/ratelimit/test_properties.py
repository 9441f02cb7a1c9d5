# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Properties over sequences of attempts and clock steps, on memory storage and memcached.

Each test takes ``opened_storage`` (this folder's conftest), a storage that lives for the
module; every example keeps apart from the others with a key prefix of its own.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from limits.storage import Storage

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
    window=st.floats(min_value=5.5, max_value=120.0),
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


# What a caller that does not wait passes: refuse every delay, or wait up to a cap.
max_waits = st.one_of(st.none(), st.just(0.0), st.floats(min_value=0.0, max_value=20.0))


class Model:
    """The documented semantics, written out plainly: per rule, identifier and window, the
    attempts counted and the time the last one was counted (the anchor)."""

    def __init__(self) -> None:
        self.state: dict[tuple[str, str, int], tuple[int, float | None]] = {}

    def delay(self, rule: Rule, key: tuple[str, str, int], now: float) -> float | None:
        counted, anchor = self.state.get(key, (0, None))
        cost = rule.delay(counted + 1)
        if cost > rule.deadline:
            return None
        if cost == 0:
            return 0.0
        if anchor is None:
            # The first attempt of a window counts from the window's start.
            anchor = key[2] * rule.window
        if now <= anchor:
            return cost
        left = cost - (now - anchor)
        # What is left of a delay below SLACK (10 µs) is none: clocks are not exact.
        return left if left > 1e-5 else 0.0

    def attempt(
        self, steps: list[tuple[Rule, str]], now: float, max_wait: float | None
    ) -> tuple[Outcome, float, str | None]:
        """Return (outcome, delay or retry_after, rule) and update the state.

        Steps are asked in order; once one refuses, the later ones are only asked for their
        delay (so that retry_after covers them), and a spent budget ends the check. A
        refused attempt is counted nowhere.
        """
        limit = math.inf if max_wait is None else max_wait
        refusal: tuple[float, str] | None = None
        taken: list[tuple[tuple[str, str, int], tuple[int, float | None]]] = []
        slowest: tuple[float, str | None] = (0.0, None)
        for rule, identifier in steps:
            key = (rule.name, identifier, math.floor(now / rule.window))
            counted, anchor = self.state.get(key, (0, None))
            delay = self.delay(rule, key, now)
            if delay is None:
                end = max((key[2] + 1) * rule.window - now, 0.0) + 1e-5
                if refusal is None or end > refusal[0]:
                    refusal = (end, rule.name)
                break
            if refusal is None and delay <= limit:
                taken.append((key, (counted, anchor)))
                self.state[key] = (counted + 1, now)
                if delay > slowest[0]:
                    slowest = (delay, rule.name)
                continue
            if delay > 0 and (refusal is None or delay > refusal[0]):
                refusal = (delay, rule.name)
        if refusal is not None:
            for key, state in taken:
                self.state[key] = state
            return Outcome.REFUSED, refusal[0], refusal[1]
        if slowest[0] > 0:
            return Outcome.DELAYED, slowest[0], slowest[1]
        return Outcome.ALLOWED, 0.0, None


def _steps_of(rule: Rule) -> list[tuple[Rule, str]]:
    return [(rule, "someone@example.com")]


def _throttle(storage: Storage, clock: FakeClock, **kwargs: object) -> Throttle:
    """A throttle on ``storage`` with a key prefix no other example uses."""
    return Throttle(
        storage,
        hash_key=HASH_KEY,
        clock=clock.time,
        key_prefix=f"prop-{uuid.uuid4().hex}",
        **kwargs,  # type: ignore[arg-type]
    )


@given(rule=rules, steps=clock_steps, max_wait=max_waits)
def test_delays_stay_within_the_curve_and_nothing_passes_the_deadline(
    opened_storage: Storage, rule: Rule, steps: list[float], max_wait: float | None
) -> None:
    clock = FakeClock()
    throttle = _throttle(opened_storage, clock)
    allowed_per_window: Counter[int] = Counter()
    previous: tuple[float, Decision] | None = None

    for step in steps:
        clock.advance(step)
        now = clock.time()
        window = math.floor(now / rule.window)
        decision = throttle.check_rule(rule, "someone@example.com", max_wait=max_wait)

        if decision.outcome is Outcome.REFUSED:
            assert decision.retry_after > 0
            # A refusal without a cap is a spent budget: retry_after reaches the next window.
            if max_wait is None:
                assert math.floor((now + decision.retry_after) / rule.window) == window + 1
        else:
            allowed_per_window[window] += 1
            rank = allowed_per_window[window]
            assert 0 <= decision.delay <= min(rule.delay(rank), rule.deadline)
            if max_wait is not None:
                assert decision.delay <= max_wait
        if previous is not None and previous[0] == now and decision.allowed:
            # Within a burst (no time passes) the delay never decreases.
            assert previous[1].allowed
            assert decision.delay >= previous[1].delay
        previous = (now, decision)

    assert all(count <= rule.budget for count in allowed_per_window.values())


@given(rule=rules)
def test_a_burst_of_waiting_callers_follows_the_documented_curve(
    opened_storage: Storage, rule: Rule
) -> None:
    clock = FakeClock()
    throttle = _throttle(opened_storage, clock)
    elapsed = clock.time() % rule.window
    window_left = rule.window - elapsed
    decisions = [throttle.check_rule(rule, "someone") for _ in range(rule.budget + 2)]

    curve = [delay for _, delay in rule.curve_table()]
    if rule.free == 0 and rule.budget:
        # The first attempt of a window counts from the window's start; the next ones from
        # the attempt before them, as the curve says.
        assert decisions[0].delay == pytest.approx(max(rule.threshold - elapsed, 0), abs=1e-4)
        curve[0] = decisions[0].delay
    assert [d.delay for d in decisions[: rule.budget]] == curve
    for refused in decisions[rule.budget :]:
        assert refused.outcome is Outcome.REFUSED
        assert refused.retry_after == pytest.approx(window_left, abs=1e-4)


@given(rule=rules, steps=clock_steps, max_wait=max_waits)
def test_decisions_match_the_model_of_counts_and_anchors(
    opened_storage: Storage, rule: Rule, steps: list[float], max_wait: float | None
) -> None:
    clock = FakeClock()
    throttle = _throttle(opened_storage, clock)
    model = Model()
    for step in steps:
        clock.advance(step)
        outcome, seconds, name = model.attempt(_steps_of(rule), clock.time(), max_wait)
        decision = throttle.check_rule(rule, "someone@example.com", max_wait=max_wait)
        assert decision.outcome is outcome
        assert decision.rule == name
        if outcome is Outcome.REFUSED:
            assert decision.retry_after == pytest.approx(seconds)
        else:
            assert decision.delay == pytest.approx(seconds)


@given(
    rule=rules,
    start=st.floats(min_value=0.0, max_value=1.0),
    cap=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=5.0)),
    pauses=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=40),
)
def test_a_refusing_client_that_honours_retry_after_gets_through_within_the_budget(
    opened_storage: Storage, rule: Rule, start: float, cap: float, pauses: list[float]
) -> None:
    assume(rule.budget >= 1)
    clock = FakeClock()
    clock.advance(start * rule.window)
    throttle = _throttle(opened_storage, clock)
    allowed_per_window: Counter[int] = Counter()

    for pause in pauses:
        clock.advance(pause)
        # The client tries, and on 429 comes back after exactly Retry-After seconds.
        decision = throttle.check_rule(rule, "someone", max_wait=cap)
        refusals = 0
        while decision.outcome is Outcome.REFUSED:
            window = math.floor(clock.time() / rule.window)
            clock.advance(decision.retry_after)
            decision = throttle.check_rule(rule, "someone", max_wait=cap)
            refusals += 1
            if math.floor(clock.time() / rule.window) == window:
                # Back within the same window, with no other attempt: let through.
                assert decision.allowed
            # A retry that crosses into a new window may meet the first delay of a rule
            # without free attempts once; then it passes.
            assert refusals <= 3
        assert decision.delay <= cap
        allowed_per_window[math.floor(clock.time() / rule.window)] += 1

    assert all(count <= rule.budget for count in allowed_per_window.values())


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


@given(ops=operations, max_wait=max_waits)
def test_guard_matches_the_model_where_a_refusal_consumes_nothing(
    opened_storage: Storage, ops: list[tuple[str, str, str, float]], max_wait: float | None
) -> None:
    clock = FakeClock()
    throttle = _throttle(opened_storage, clock, policies={"g": POLICY})
    model = Model()

    for kind, identity, address, step in ops:
        clock.advance(step)
        now = clock.time()
        if kind == "success":
            throttle.report_success("g", identity, address)
            model.state.pop((IDENTITY_RULE.name, identity, math.floor(now / 60.0)), None)
            continue

        steps = [(IDENTITY_RULE, identity), (ADDRESS_RULE, address), (GLOBAL_RULE, "*")]
        outcome, seconds, name = model.attempt(steps, now, max_wait)
        decision = throttle.check("g", identity, address, max_wait=max_wait)

        assert (decision.outcome, decision.rule) == (outcome, name)
        if outcome is Outcome.REFUSED:
            assert decision.retry_after == pytest.approx(seconds)
        else:
            assert decision.delay == pytest.approx(seconds)


@given(
    cap=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=5.0)),
    pauses=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=40),
)
def test_a_refusing_client_of_the_guard_gets_through_after_retry_after(
    opened_storage: Storage, cap: float, pauses: list[float]
) -> None:
    clock = FakeClock()
    throttle = _throttle(opened_storage, clock, policies={"g": POLICY})
    allowed: Counter[int] = Counter()

    for pause in pauses:
        clock.advance(pause)
        decision = throttle.check("g", "a@example.com", "192.0.2.1", max_wait=cap)
        refusals = 0
        while decision.outcome is Outcome.REFUSED:
            clock.advance(decision.retry_after)
            decision = throttle.check("g", "a@example.com", "192.0.2.1", max_wait=cap)
            refusals += 1
            # A refused delay's Retry-After covers every step, so the retry passes; a spent
            # budget's reaches its window's end (the later steps are not asked, a flood
            # costs one step), where one of them may still ask for a delay, once.
            assert refusals <= 2
        assert decision.delay <= cap
        allowed[math.floor(clock.time() / 60.0)] += 1

    assert all(count <= IDENTITY_RULE.budget for count in allowed.values())
