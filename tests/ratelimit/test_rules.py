# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The growth curves, budgets and validation of rules, and the default route table."""

from __future__ import annotations

import pytest

from offen_core.errors import InvalidInputError
from offen_core.ratelimit import DEFAULT_POLICIES, Curve, Route, Rule, Scope


def test_linear_curve_adds_one_threshold_per_attempt_after_the_free_ones() -> None:
    rule = Rule("r", 0.5, Curve.LINEAR, free=2)
    assert [rule.delay(n) for n in range(1, 7)] == [0.0, 0.0, 0.5, 1.0, 1.5, 2.0]


def test_quadratic_curve_matches_offens_waits_for_overlapping_requests() -> None:
    # Offen's "exponential" throttle makes the n-th overlapping request wait 1, 2, 4, 7,
    # 11, 16, 22, 29 times the threshold; the 10th would wait 37 and is refused at 30 s.
    rule = Rule("r", 1.0, Curve.QUADRATIC, free=1)
    assert [rule.delay(n) for n in range(1, 11)] == [0, 1, 2, 4, 7, 11, 16, 22, 29, 37]
    assert rule.budget == 9


def test_exponential_curve_doubles_the_delay() -> None:
    rule = Rule("r", 1.0, Curve.EXPONENTIAL, free=3)
    assert rule.curve_table() == [
        (1, 0.0),
        (2, 0.0),
        (3, 0.0),
        (4, 1.0),
        (5, 2.0),
        (6, 4.0),
        (7, 8.0),
        (8, 16.0),
    ]
    assert rule.delay(9) == 32.0
    assert rule.budget == 8


def test_exponential_delay_stays_finite_for_huge_counts() -> None:
    rule = Rule("r", 1.0, Curve.EXPONENTIAL, free=0)
    assert rule.delay(10_000) == 2.0**64


def test_budget_is_the_free_attempts_when_no_delay_fits_the_deadline() -> None:
    assert Rule("r", 5.0, free=4, deadline=1.0).budget == 4
    assert Rule("r", 5.0, free=0, deadline=1.0).budget == 0


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("name", {"name": ""}),
        ("name", {"name": "has space"}),
        ("name", {"name": "colon:name"}),
        ("threshold", {"threshold": 0}),
        ("threshold", {"threshold": float("nan")}),
        ("window", {"window": 0.5}),
        ("free", {"free": -1}),
        ("deadline", {"deadline": -1}),
    ],
)
def test_rule_rejects_bad_settings(field: str, kwargs: dict[str, object]) -> None:
    settings: dict[str, object] = {"name": "ok", "threshold": 1.0}
    settings.update(kwargs)
    with pytest.raises(InvalidInputError) as caught:
        Rule(**settings)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_every_route_has_a_policy() -> None:
    assert set(DEFAULT_POLICIES) == set(Route)


def test_login_policy_checks_identity_then_address_then_global() -> None:
    policy = DEFAULT_POLICIES[Route.LOGIN]
    assert [step.scope for step in policy.steps] == [Scope.IDENTITY, Scope.ADDRESS, Scope.GLOBAL]
    assert policy.reset_on_success == frozenset({Scope.IDENTITY})
    assert DEFAULT_POLICIES[Route.RECOVER] is policy


def test_post_events_lets_a_visitor_send_one_event_per_half_second_without_delay() -> None:
    (step,) = DEFAULT_POLICIES[Route.POST_EVENTS].steps
    # One event every 0.5 s for a whole window is 60 events, within the free ones and the
    # first linear delays; the rule's nominal rate is Offen's.
    assert step.rule.threshold == 0.5
    assert step.rule.budget * step.rule.threshold >= step.rule.window


def test_every_default_rule_lets_at_least_one_attempt_through() -> None:
    for policy in DEFAULT_POLICIES.values():
        for step in policy.steps:
            assert step.rule.budget >= 1
            assert step.rule.deadline == 30.0


def test_a_rule_without_free_attempts_needs_a_threshold_shorter_than_its_window() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Rule("r", 60.0, free=0, window=60.0)
    assert caught.value.field == "threshold"
    assert Rule("r", 59.0, free=0, window=60.0).budget == 0
    assert Rule("r", 60.0, free=1, window=60.0).budget == 1
