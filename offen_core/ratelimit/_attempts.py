# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The logic the sync and async throttles share: storage keys, counts to decisions, config."""

from __future__ import annotations

import ipaddress
import logging
import math
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from offen_core.errors import InvalidInputError, ThrottleStorageError
from offen_core.ratelimit._backends import PEEK, SLACK, Status, StepResult
from offen_core.ratelimit.address import parse_address
from offen_core.ratelimit.decision import Decision, Outcome
from offen_core.ratelimit.hashing import IdentifierHasher
from offen_core.ratelimit.rules import DEFAULT_POLICIES, RoutePolicy, Rule, Scope
from offen_core.ratelimit.storage import StorageFailure

logger = logging.getLogger("offen_core.ratelimit")

_GC_MARGIN = 60
"""Seconds a window's key outlives its window in the storage (clock skew between hosts)."""

_KEY_PREFIX_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


class Slot(NamedTuple):
    """Where one attempt under one rule is counted: the key of the rule's current window."""

    rule: Rule
    key: str
    ttl: int
    window_start: float
    window_end: float


class Settings:
    """The configuration both throttle forms hold, and the decisions they derive from it."""

    __slots__ = (
        "clock",
        "hasher",
        "ipv6_prefix",
        "key_prefix",
        "on_storage_error",
        "policies",
        "storage_retry_after",
    )

    def __init__(
        self,
        *,
        hash_key: bytes | None,
        policies: Mapping[str, RoutePolicy] | None,
        clock: Callable[[], float] | None,
        key_prefix: str,
        on_storage_error: StorageFailure | str,
        storage_retry_after: float,
        ipv6_prefix: int,
    ) -> None:
        if not key_prefix or not set(key_prefix) <= _KEY_PREFIX_CHARS:
            raise InvalidInputError("key_prefix", "use letters, digits and '-_.:' only")
        if not 0 <= ipv6_prefix <= 128:
            raise InvalidInputError("ipv6_prefix", "must be between 0 and 128")
        if not math.isfinite(storage_retry_after) or storage_retry_after <= 0:
            raise InvalidInputError("storage_retry_after", "must be a positive number")
        try:
            self.on_storage_error = StorageFailure(on_storage_error)
        except ValueError:
            raise InvalidInputError(
                "on_storage_error", "use 'refuse', 'allow' or 'raise'"
            ) from None
        self.hasher = IdentifierHasher(hash_key)
        self.policies: Mapping[str, RoutePolicy] = (
            DEFAULT_POLICIES if policies is None else dict(policies)
        )
        self.clock: Callable[[], float] = clock or time.time
        self.key_prefix = key_prefix
        self.storage_retry_after = storage_retry_after
        self.ipv6_prefix = ipv6_prefix

    def policy(self, route: str) -> RoutePolicy:
        """Return the policy of ``route``, or raise when there is none."""
        try:
            return self.policies[route]
        except KeyError:
            raise InvalidInputError(
                "route", "no throttle policy for this route; pass one in `policies`"
            ) from None

    def address_identifier(self, address: str) -> str:
        """Return what an address is counted by: the address, or its network for IPv6."""
        try:
            # Fast path: a dotted quad that inet_pton accepts is already canonical.
            socket.inet_pton(socket.AF_INET, address)
        except OSError:
            pass
        else:
            return address
        parsed = parse_address(address)
        if parsed is None:
            return address.strip()
        if isinstance(parsed, ipaddress.IPv6Address) and self.ipv6_prefix < 128:
            return str(ipaddress.IPv6Network((parsed, self.ipv6_prefix), strict=False))
        return str(parsed)

    def identifier(self, scope: Scope, identity: str, address: str) -> str:
        """Return the identifier a step counts by, tagged so scopes never collide."""
        if scope is Scope.GLOBAL:
            return "*"
        if scope is Scope.IDENTITY or (scope is Scope.IDENTITY_OR_ADDRESS and identity):
            return "i:" + identity
        return "a:" + self.address_identifier(address)

    def slot(self, rule: Rule, identifier: str, now: float) -> Slot:
        """Return where an attempt at ``now`` is counted under ``rule``."""
        window = math.floor(now / rule.window)
        hashed = self.hasher.hash(rule.name, identifier)
        return Slot(
            rule,
            f"{self.key_prefix}:{rule.name}:{hashed}:{window}",
            math.ceil(rule.window) + _GC_MARGIN,
            window * rule.window,
            (window + 1) * rule.window,
        )

    def slots(self, route: str, identity: str, address: str, now: float) -> Iterator[Slot]:
        """Yield the slots of a route's steps in order, each computed only when reached."""
        for step in self.policy(route).steps:
            yield self.slot(step.rule, self.identifier(step.scope, identity, address), now)

    def reset_slots(self, route: str, identity: str, address: str, now: float) -> list[Slot]:
        """Return the slots a reported success on ``route`` clears."""
        policy = self.policy(route)
        return [
            self.slot(step.rule, self.identifier(step.scope, identity, address), now)
            for step in policy.steps
            if step.scope in policy.reset_on_success
        ]

    def storage_failed(self, error: BaseException) -> Decision:
        """Return the decision for an attempt whose storage failed, or raise."""
        logger.debug("throttle storage failed: %s", type(error).__name__)
        if self.on_storage_error is StorageFailure.RAISE:
            raise storage_unreachable() from error
        if self.on_storage_error is StorageFailure.ALLOW:
            return Decision(Outcome.ALLOWED, storage_failed=True)
        return Decision(Outcome.REFUSED, retry_after=self.storage_retry_after, storage_failed=True)


def wait_limit(max_wait: float | None) -> float:
    """Check a caller's ``max_wait`` and turn ``None`` (wait out any delay) into infinity."""
    if max_wait is None:
        return math.inf
    if math.isnan(max_wait) or max_wait < 0:
        raise InvalidInputError("max_wait", "must be None or a non-negative number of seconds")
    return max_wait


class Tally:
    """Folds the answers of a route's steps, in order, into one decision.

    While no step has refused, each step is asked to count the attempt if its delay is
    within ``max_wait``. Once one refuses for a delay, the later steps are only asked for
    their delays (nothing is counted), so that ``retry_after`` covers every step; once one
    refuses because its budget is spent, the check ends. A refused attempt is counted
    nowhere: the steps that counted it are undone (`taken`).
    """

    __slots__ = ("delay", "max_wait", "now", "refusal", "rule", "taken")

    def __init__(self, now: float, max_wait: float | None) -> None:
        self.now = now
        self.max_wait = wait_limit(max_wait)
        self.delay = 0.0
        self.rule: str | None = None
        self.refusal: Decision | None = None
        self.taken: list[tuple[Slot, StepResult]] = []

    @property
    def mode(self) -> float:
        """The ``max_wait`` to pass to the next step (`PEEK` once the attempt is refused)."""
        return self.max_wait if self.refusal is None else PEEK

    def add(self, slot: Slot, result: StepResult) -> bool:
        """Account for one step's answer; return False when the check should end."""
        if result.status is Status.SPENT:
            # Just past the window's end, so that a retry after exactly this long is in the
            # next window whatever the rounding of the clock.
            self._refuse(max(slot.window_end - self.now, 0.0) + SLACK, slot.rule.name)
            return False
        if result.status is Status.COUNTED:
            self.taken.append((slot, result))
            if result.delay > self.delay:
                self.delay = result.delay
                self.rule = slot.rule.name
            return True
        if result.delay > 0:
            self._refuse(result.delay, slot.rule.name)
        return True

    def _refuse(self, retry_after: float, rule: str) -> None:
        if self.refusal is None or retry_after > self.refusal.retry_after:
            self.refusal = Decision(Outcome.REFUSED, retry_after=retry_after, rule=rule)

    def decision(self) -> Decision:
        """Return the decision once every step has answered."""
        if self.refusal is not None:
            return self.refusal
        if self.delay > 0:
            return Decision(Outcome.DELAYED, delay=self.delay, rule=self.rule)
        return Decision(Outcome.ALLOWED)


def storage_unreachable() -> ThrottleStorageError:
    """Return the error raised when a throttle's storage cannot be reached."""
    return ThrottleStorageError(
        "the throttle's storage cannot be reached; check that the configured storage "
        "(for example Redis) is running and reachable"
    )
