# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Throttle rules: the growth curves, the rules themselves and the policy of each route."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from offen_core.errors import InvalidInputError

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_POLICIES",
    "Curve",
    "Route",
    "RoutePolicy",
    "Rule",
    "Scope",
    "Step",
]

DEFAULT_DEADLINE = 30.0
"""Seconds: an attempt whose delay would exceed this is refused (Offen's 30 s deadline)."""


class Curve(StrEnum):
    """How the delay grows with each attempt beyond a rule's free attempts.

    With ``m`` the number of attempts in the window beyond the free ones and ``T`` the rule's
    threshold, the ``m``-th such attempt waits:

    - `LINEAR`: ``T * m`` (1, 2, 3, 4, ... times ``T``);
    - `QUADRATIC`: ``T * (1 + m * (m - 1) / 2)`` (1, 2, 4, 7, 11, 16, ... times ``T``), the
      shape of the waits Offen's "exponential" throttle gives overlapping requests;
    - `EXPONENTIAL`: ``T * 2 ** (m - 1)`` (1, 2, 4, 8, 16, ... times ``T``).
    """

    LINEAR = "linear"
    QUADRATIC = "quadratic"
    EXPONENTIAL = "exponential"


class Scope(StrEnum):
    """What a step of a route's policy counts attempts by."""

    IDENTITY = "identity"
    """The identity the caller passes (a normalised email, a user id, an account id)."""

    ADDRESS = "address"
    """The resolved client address (IPv6 addresses by their /64 network)."""

    IDENTITY_OR_ADDRESS = "identity_or_address"
    """The identity when it is not empty, else the client address."""

    GLOBAL = "global"
    """One budget shared by every attempt on the route."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One throttle: a window, a number of free attempts and a growing delay after them.

    Attempts are counted per identifier in fixed windows of ``window`` seconds (aligned to the
    clock, so every process agrees on them). The first ``free`` attempts of a window pass at
    once; the ``m``-th attempt after them may go ahead `delay` (``m``) seconds after the
    attempt before it was counted (the first attempt of a window, when ``free`` is 0, after
    the window's start), a delay that grows along ``curve`` in steps of ``threshold``
    seconds. So a burst of attempts that all wait gets exactly the curve's delays, and a
    client that is refused a delay and comes back when it is over gets through. Once the
    next attempt's delay would exceed ``deadline``, the window's budget (`budget`) is spent
    and attempts are refused until the window ends. Refused attempts are not counted. Rules
    with the same ``name`` share their counters, which lets two routes (login and recovery,
    say) share one budget.

    Args:
        name: A short name, part of every storage key of this rule; letters, digits, ``-``,
            ``_`` and ``.`` only.
        threshold: The unit of delay, in seconds (Offen's threshold).
        curve: How the delay grows; see `Curve`.
        window: The length of a counting window, in seconds.
        free: How many attempts of a window pass without delay.
        deadline: The longest delay an attempt is given; beyond it the attempt is refused.

    Raises:
        InvalidInputError: If a number is out of range, the name has other characters, or
            ``free`` is 0 and ``threshold`` is not shorter than ``window`` (no attempt could
            ever pass).
    """

    name: str
    threshold: float
    curve: Curve = Curve.LINEAR
    window: float = 60.0
    free: int = 1
    deadline: float = DEFAULT_DEADLINE

    def __post_init__(self) -> None:
        if not self.name or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in self.name):
            raise InvalidInputError("name", "use letters, digits, '-', '_' and '.' only")
        if not math.isfinite(self.threshold) or self.threshold <= 0:
            raise InvalidInputError("threshold", "must be a positive number of seconds")
        if not math.isfinite(self.window) or self.window < 1:
            raise InvalidInputError("window", "must be at least one second")
        if self.free < 0:
            raise InvalidInputError("free", "must not be negative")
        if self.free == 0 and self.threshold >= self.window:
            # The first attempt of a window waits `threshold` from the window's start.
            raise InvalidInputError("threshold", "must be shorter than the window when free=0")
        if not math.isfinite(self.deadline) or self.deadline < 0:
            raise InvalidInputError("deadline", "must be a non-negative number of seconds")

    def delay(self, attempt: int) -> float:
        """Return the delay the ``attempt``-th attempt of a window is given, in seconds.

        Args:
            attempt: The attempt's rank in its window, starting at 1.

        Returns:
            The delay; it never decreases as ``attempt`` grows. A value above `deadline`
            means the attempt is refused.
        """
        extra = attempt - self.free
        if extra <= 0:
            return 0.0
        if self.curve is Curve.LINEAR:
            factor = float(extra)
        elif self.curve is Curve.QUADRATIC:
            factor = 1 + extra * (extra - 1) / 2
        else:
            # Past 2**64 the delay is far beyond any deadline; keep the float finite.
            factor = 2.0 ** min(extra - 1, 64)
        return self.threshold * factor

    @property
    def budget(self) -> int:
        """The number of attempts a window lets through (at once or after a delay)."""
        attempt = self.free
        while self.delay(attempt + 1) <= self.deadline:
            attempt += 1
        return attempt

    def curve_table(self) -> list[tuple[int, float]]:
        """Return ``(attempt, delay)`` for every attempt a window lets through.

        Returns:
            One pair per attempt from 1 to `budget`; the next attempt is refused.
        """
        return [(n, self.delay(n)) for n in range(1, self.budget + 1)]


@dataclass(frozen=True, slots=True)
class Step:
    """One check of a route's policy: a rule applied to what the scope counts by.

    Args:
        scope: What the attempts are counted by.
        rule: The rule applied.
    """

    scope: Scope
    rule: Rule


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """The steps a route checks, in order; a refusal at one step consumes nothing later.

    Args:
        steps: The checks, in the order they run.
        reset_on_success: The scopes whose state a reported success clears (the identity,
            for login: a person who got in is not slowed by their earlier typos).
    """

    steps: tuple[Step, ...]
    reset_on_success: frozenset[Scope] = frozenset()


class Route(StrEnum):
    """The routes of the example servers that have a throttle policy.

    Each value is a plain string, so `Throttle.check` takes either a member or its value.
    """

    LOGIN = "login"
    """``POST /api/login``; identity = the normalised email."""
    RECOVER = "recover"
    """``POST /api/recover``; identity = the normalised email; shares login's counters."""
    EXCHANGE = "exchange"
    """``POST /api/exchange``; identity = the ``user`` cookie (empty: the client address)."""
    GET_EVENTS = "get_events"
    """``GET /api/events``; identity = the ``user`` cookie."""
    POST_EVENTS = "post_events"
    """``POST /api/events``; identity = the ``user`` cookie."""
    PURGE = "purge"
    """``POST /api/purge``; identity = the ``user`` cookie."""
    GET_ACCOUNT = "get_account"
    """``GET /api/accounts/{id}``; identity = the account id."""
    DELETE_ACCOUNT = "delete_account"
    """``DELETE /api/accounts/{id}``; identity = the account id."""
    ACCOUNT_STYLES = "account_styles"
    """``PUT /api/accounts/{id}/account-styles``; identity = the operator id."""
    CREATE_ACCOUNT = "create_account"
    """``POST /api/accounts``; identity = the operator's normalised email."""
    CHANGE_PASSWORD = "change_password"  # noqa: S105
    """``POST /api/change-password``; identity = the operator id."""
    CHANGE_EMAIL = "change_email"
    """``POST /api/change-email``; identity = the operator id."""
    FORGOT_PASSWORD = "forgot_password"  # noqa: S105
    """``POST /api/forgot-password``; identity = the normalised email."""
    RESET_PASSWORD = "reset_password"  # noqa: S105
    """``POST /api/reset-password``; identity = the normalised email from the token."""
    SHARE_ACCOUNT = "share_account"
    """``POST /api/share-account[/{id}]``; identity = the operator id."""
    JOIN = "join"
    """``POST /api/join``; identity = the normalised email."""
    SETUP = "setup"
    """``POST /api/setup``; one global budget."""


def _linear_route(name: str, threshold: float, free: int, window: float = 30.0) -> Rule:
    return Rule(name, threshold, Curve.LINEAR, window=window, free=free)


# The login rules: a person gets three tries without delay, then the delay doubles; an address
# may try a few dozen emails a minute; the whole instance at most 80 argon2-backed attempts
# in 30 s (Offen: one per 0.5 s globally).
_LOGIN_IDENTITY = Rule("login-identity", 1.0, Curve.EXPONENTIAL, window=900.0, free=3)
_LOGIN_ADDRESS = Rule("login-address", 1.0, Curve.LINEAR, window=60.0, free=10)
_LOGIN_GLOBAL = Rule("login-global", 0.5, Curve.LINEAR, window=30.0, free=20)

_LOGIN_POLICY = RoutePolicy(
    steps=(
        Step(Scope.IDENTITY, _LOGIN_IDENTITY),
        Step(Scope.ADDRESS, _LOGIN_ADDRESS),
        Step(Scope.GLOBAL, _LOGIN_GLOBAL),
    ),
    reset_on_success=frozenset({Scope.IDENTITY}),
)

DEFAULT_POLICIES: Mapping[str, RoutePolicy] = MappingProxyType(
    {
        Route.LOGIN: _LOGIN_POLICY,
        Route.RECOVER: _LOGIN_POLICY,
        Route.EXCHANGE: RoutePolicy(
            (Step(Scope.IDENTITY_OR_ADDRESS, _linear_route("exchange", 1.0, free=15)),)
        ),
        Route.GET_EVENTS: RoutePolicy(
            (Step(Scope.IDENTITY_OR_ADDRESS, _linear_route("get-events", 1.0, free=15)),)
        ),
        Route.POST_EVENTS: RoutePolicy(
            (Step(Scope.IDENTITY_OR_ADDRESS, _linear_route("post-events", 0.5, free=30)),)
        ),
        Route.PURGE: RoutePolicy(
            (Step(Scope.IDENTITY_OR_ADDRESS, _linear_route("purge", 1.0, free=15)),)
        ),
        Route.GET_ACCOUNT: RoutePolicy(
            (Step(Scope.IDENTITY, _linear_route("get-account", 1.0, free=15)),)
        ),
        Route.DELETE_ACCOUNT: RoutePolicy(
            (Step(Scope.IDENTITY, _linear_route("delete-account", 1.0, free=15)),)
        ),
        Route.ACCOUNT_STYLES: RoutePolicy(
            (Step(Scope.IDENTITY, Rule("account-styles", 1.0, Curve.QUADRATIC, window=60.0)),)
        ),
        Route.CREATE_ACCOUNT: RoutePolicy(
            (Step(Scope.IDENTITY, _linear_route("create-account", 5.0, free=1, window=60.0)),)
        ),
        Route.CHANGE_PASSWORD: RoutePolicy(
            (Step(Scope.IDENTITY, _linear_route("change-password", 5.0, free=1, window=60.0)),)
        ),
        Route.CHANGE_EMAIL: RoutePolicy(
            (Step(Scope.IDENTITY, _linear_route("change-email", 5.0, free=1, window=60.0)),)
        ),
        Route.FORGOT_PASSWORD: RoutePolicy(
            (
                Step(
                    Scope.IDENTITY,
                    Rule("forgot-password", 5.0, Curve.QUADRATIC, window=900.0),
                ),
                Step(Scope.GLOBAL, _linear_route("forgot-password-global", 1.0, free=10)),
            )
        ),
        Route.RESET_PASSWORD: RoutePolicy(
            (Step(Scope.IDENTITY, Rule("reset-password", 5.0, Curve.QUADRATIC, window=900.0)),)
        ),
        Route.SHARE_ACCOUNT: RoutePolicy(
            (Step(Scope.IDENTITY, Rule("share-account", 1.0, Curve.QUADRATIC, window=900.0)),)
        ),
        Route.JOIN: RoutePolicy(
            (
                Step(Scope.IDENTITY, Rule("join", 1.0, Curve.QUADRATIC, window=900.0)),
                Step(Scope.GLOBAL, _linear_route("join-global", 0.5, free=20)),
            )
        ),
        Route.SETUP: RoutePolicy(
            (Step(Scope.GLOBAL, _linear_route("setup", 5.0, free=1)),),
        ),
    }
)
"""The policy of every route in `Route`: Offen's limiter table made atomic.

The guide "Throttling" lists each rule with its budget and curve.
"""
