# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Throttles and rate limits that hold across processes, on the `limits` library's storages.

A `Throttle` (or its async twin `AsyncThrottle`) decides every attempt on a route, step by
step of the route's policy, each step one atomic operation in the storage, and answers a
`Decision`: allowed now, allowed after a delay, or refused with a ``retry_after``. It never
sleeps: the caller says how long it will wait (``max_wait``); a longer delay is refused
without counting the attempt, so a client that honours ``Retry-After`` gets through.
Identifiers are hashed with a keyed hash before they reach the storage, and the storage is
picked by a URL: ``memory://`` for one process, ``redis://...`` (or ``memcached://...``,
``mongodb://...``) for several.

Example:
    >>> from offen_core.ratelimit import Throttle, Route
    >>> throttle = Throttle("memory://", hash_key=b"derived-from-the-server-secret")
    >>> decision = throttle.check_login("ada@example.com", "192.0.2.7")
    >>> decision.outcome.value
    'allowed'
    >>> throttle.login_succeeded("ada@example.com")
"""

from offen_core.ratelimit.address import TrustedProxies, client_address, normalise_address
from offen_core.ratelimit.async_throttle import AsyncThrottle
from offen_core.ratelimit.decision import Decision, Outcome, retry_after_header
from offen_core.ratelimit.hashing import MIN_KEY_BYTES, IdentifierHasher
from offen_core.ratelimit.rules import (
    DEFAULT_DEADLINE,
    DEFAULT_POLICIES,
    Curve,
    Route,
    RoutePolicy,
    Rule,
    Scope,
    Step,
)
from offen_core.ratelimit.storage import (
    DEFAULT_STORAGE_URL,
    StorageFailure,
    open_async_storage,
    open_storage,
)
from offen_core.ratelimit.throttle import Throttle

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_POLICIES",
    "DEFAULT_STORAGE_URL",
    "MIN_KEY_BYTES",
    "AsyncThrottle",
    "Curve",
    "Decision",
    "IdentifierHasher",
    "Outcome",
    "Route",
    "RoutePolicy",
    "Rule",
    "Scope",
    "Step",
    "StorageFailure",
    "Throttle",
    "TrustedProxies",
    "client_address",
    "normalise_address",
    "open_async_storage",
    "open_storage",
    "retry_after_header",
]
