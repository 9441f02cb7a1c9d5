# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The decision type and its helpers for waiting or refusing."""

from __future__ import annotations

import pytest

from offen_core.errors import ThrottledError
from offen_core.ratelimit import Decision, Outcome, retry_after_header


def test_allowed_decision_needs_no_wait() -> None:
    decision = Decision(Outcome.ALLOWED)
    assert decision.allowed
    decision.raise_if_refused()
    assert decision.wait_time() == 0.0


def test_delayed_decision_within_the_cap_returns_its_delay() -> None:
    decision = Decision(Outcome.DELAYED, delay=2.5)
    assert decision.allowed
    assert decision.wait_time(max_wait=5.0) == 2.5


def test_delayed_decision_beyond_the_cap_raises_with_the_delay_as_retry_after() -> None:
    decision = Decision(Outcome.DELAYED, delay=8.0)
    with pytest.raises(ThrottledError) as caught:
        decision.wait_time(max_wait=5.0)
    assert caught.value.retry_after == 8.0


def test_refusing_at_once_turns_every_delay_into_a_refusal() -> None:
    with pytest.raises(ThrottledError):
        Decision(Outcome.DELAYED, delay=0.5).wait_time(max_wait=0)


def test_refused_decision_raises_throttled_error_with_retry_after() -> None:
    decision = Decision(Outcome.REFUSED, retry_after=12.2, rule="login-identity")
    assert not decision.allowed
    with pytest.raises(ThrottledError) as caught:
        decision.raise_if_refused()
    assert caught.value.retry_after == 12.2
    with pytest.raises(ThrottledError):
        decision.wait_time(max_wait=100)


@pytest.mark.parametrize(("seconds", "header"), [(0.0, "1"), (0.2, "1"), (1.0, "1"), (12.2, "13")])
def test_retry_after_header_is_whole_seconds_rounded_up(seconds: float, header: str) -> None:
    assert Decision(Outcome.REFUSED, retry_after=seconds).retry_after_header == header


def test_retry_after_header_function_matches_the_property() -> None:
    assert retry_after_header(8.0) == "8"
    assert retry_after_header(0.01) == "1"
