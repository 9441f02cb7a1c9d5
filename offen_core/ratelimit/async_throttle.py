# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The asynchronous throttle: the same decisions as `Throttle`, on `limits.aio` storages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from limits.aio.storage import Storage

from offen_core.errors import InvalidInputError
from offen_core.ratelimit._attempts import Settings, Slot, Tally, storage_unreachable
from offen_core.ratelimit._backends import async_backend
from offen_core.ratelimit.decision import Decision
from offen_core.ratelimit.rules import Route, RoutePolicy, Rule
from offen_core.ratelimit.storage import (
    DEFAULT_STORAGE_URL,
    StorageFailure,
    aclose_storage,
    open_async_storage,
    storage_errors,
)

__all__ = ["AsyncThrottle"]


class AsyncThrottle:
    """The asynchronous form of `Throttle`: same arguments, same decisions, awaitable calls.

    Use it from async code (an ASGI server). It opens `limits.aio` storages, so
    ``"redis://..."`` works as for `Throttle`; create it inside the event loop that uses it,
    because a Redis or memcached client belongs to the loop it first runs in. A sync and an
    async throttle on the same Redis, memcached or MongoDB and ``hash_key`` share their
    counts; two memory storages never do.

    Call `check` before a route's work (before any password hashing on login) and act on the
    `Decision`. Each step of the route's policy decides and counts an attempt in one atomic
    operation (a lock on memory storage, a Lua script on Redis, a compare-and-set on memcached
    and MongoDB), so concurrent attempts from threads or processes sharing the storage are
    never lost nor counted twice. The window an attempt falls in is computed from ``clock``;
    storage expiry only removes windows that are over.

    Args:
        storage: A `limits` storage URL (any URL `Throttle` takes, with or without
            ``async+``) or an opened `limits.aio.storage.Storage` of one of those kinds
            (memcached with its default memcachio client).
        hash_key: The key identifiers are hashed with before they reach the storage; every
            process sharing the storage must pass the same key (derive it from the server
            secret). ``None`` draws a random key valid in this process only.
        policies: The policy of each route; defaults to `DEFAULT_POLICIES`.
        clock: Returns the current time in seconds since the epoch; defaults to
            `time.time`.
        key_prefix: Prefix of every storage key, to keep instances sharing a storage apart.
        on_storage_error: What to answer when the storage fails: refuse (fail closed, the
            default), allow (fail open) or raise `ThrottleStorageError`.
        storage_retry_after: The ``retry_after`` of a refusal caused by a failed storage.
        ipv6_prefix: IPv6 clients are counted by their network of this length (a single
            host usually holds a whole /64).
        storage_options: Passed to the storage's constructor when ``storage`` is a URL.
        max_concurrency: The most checks talking to the storage at once; further checks
            wait for a free turn instead of exhausting the client's connection pool
            (which would turn a burst of attempts into storage failures).

    Raises:
        InvalidInputError: If the URL or another argument is invalid, or the storage is
            not memory, Redis, memcached or MongoDB.

    .. note::
        Windows are fixed and aligned to the clock, so a client can spend one window's
        budget just before a window ends and the next one's just after: in any span of one
        window it gets at most twice the rule's `Rule.budget`. A sliding count would lift
        this at the price of more storage round trips per attempt.
    """

    def __init__(
        self,
        storage: str | Storage = DEFAULT_STORAGE_URL,
        *,
        hash_key: bytes | None = None,
        policies: Mapping[str, RoutePolicy] | None = None,
        clock: Callable[[], float] | None = None,
        key_prefix: str = "offen",
        on_storage_error: StorageFailure | str = StorageFailure.REFUSE,
        storage_retry_after: float = 30.0,
        ipv6_prefix: int = 64,
        storage_options: Mapping[str, Any] | None = None,
        max_concurrency: int = 64,
    ) -> None:
        if max_concurrency < 1:
            raise InvalidInputError("max_concurrency", "must be at least 1")
        self._turns = asyncio.Semaphore(max_concurrency)
        self._settings = Settings(
            hash_key=hash_key,
            policies=policies,
            clock=clock,
            key_prefix=key_prefix,
            on_storage_error=on_storage_error,
            storage_retry_after=storage_retry_after,
            ipv6_prefix=ipv6_prefix,
        )
        self._storage = (
            open_async_storage(storage, **dict(storage_options or {}))
            if isinstance(storage, str)
            else storage
        )
        self._backend = async_backend(self._storage)
        self._owns_storage = isinstance(storage, str)
        self._errors = storage_errors(self._storage)

    def __repr__(self) -> str:
        return f"AsyncThrottle(storage={type(self._storage).__name__}, key=<hidden>)"

    @property
    def storage(self) -> Storage:
        """The `limits` storage the throttle counts in."""
        return self._storage

    @property
    def shared_key(self) -> bool:
        """True when identifiers are hashed with a key given by the caller (see ``hash_key``)."""
        return self._settings.hasher.shared

    async def check(
        self,
        route: str,
        identity: str = "",
        address: str = "",
        *,
        max_wait: float | None = None,
    ) -> Decision:
        """Decide whether an attempt on ``route`` may go ahead, and count it if it does.

        Behaves as `Throttle.check`: an attempt let through (at once or after a delay of at
        most ``max_wait`` seconds) is counted at every step; a refused one is counted
        nowhere, and a client that comes back after its ``retry_after``, with no other
        attempt in between, is let through.

        Args:
            route: A `Route` member or any route name in ``policies``.
            identity: What the route counts by (see `Route`): a normalised email, a user id,
                an account id; may be empty. Never logged, hashed before storage.
            address: The client address from `client_address`.
            max_wait: The longest delay, in seconds, the caller will wait out; a longer
                one is refused without counting the attempt. ``None`` (the default)
                accepts any delay the rules give, up to their deadline.

        Returns:
            The decision.

        Raises:
            InvalidInputError: If ``route`` has no policy or ``max_wait`` is negative.
            ThrottleStorageError: If the storage failed and ``on_storage_error`` is
                ``"raise"``.
        """
        now = self._settings.clock()
        tally = Tally(now, max_wait)
        return await self._decide(tally, self._settings.slots(route, identity, address, now))

    async def check_rule(
        self, rule: Rule, identifier: str, *, max_wait: float | None = None
    ) -> Decision:
        """Decide an attempt under a single ``rule`` for ``identifier``, as `check` does.

        For limits outside the route table (an application's own routes).

        Args:
            rule: The rule.
            identifier: What the attempt is counted by; hashed before storage.
            max_wait: As for `check`.

        Returns:
            The decision.

        Raises:
            InvalidInputError: If ``max_wait`` is negative.
            ThrottleStorageError: If the storage failed and ``on_storage_error`` is
                ``"raise"``.
        """
        now = self._settings.clock()
        tally = Tally(now, max_wait)
        return await self._decide(tally, iter([self._settings.slot(rule, "c:" + identifier, now)]))

    async def _decide(self, tally: Tally, slots: Iterator[Slot]) -> Decision:
        try:
            async with self._turns:
                for slot in slots:
                    result = await self._backend.attempt(slot, tally.now, tally.mode)
                    if not tally.add(slot, result):
                        break
                if tally.refusal is not None:
                    for slot, result in reversed(tally.taken):
                        await self._backend.undo(slot, tally.now, result)
        except self._errors as error:
            return self._settings.storage_failed(error)
        return tally.decision()

    async def check_login(
        self, identity: str, address: str, *, max_wait: float | None = None
    ) -> Decision:
        """The login guard: check the identity, then the address, then the global budget.

        Call it before any password work. A refusal at one step consumes nothing at the
        later ones, so an attacker hammering one email does not spend the address's or the
        instance's budget. The storage failing refuses the login by default (fail closed).

        Args:
            identity: The normalised email (strip, NFC, lower case); an empty string is
                counted as one identity of its own.
            address: The client address from `client_address`.
            max_wait: The longest delay the caller will wait out (see `check`).

        Returns:
            The decision.

        Raises:
            InvalidInputError: If ``max_wait`` is negative.
            ThrottleStorageError: If the storage failed and ``on_storage_error`` is
                ``"raise"``.
        """
        return await self.check(Route.LOGIN, identity, address, max_wait=max_wait)

    async def report_success(self, route: str, identity: str = "", address: str = "") -> None:
        """Report that an attempt on ``route`` succeeded.

        The steps the route's policy names in ``reset_on_success`` are reset: their current
        window is cleared, so the next attempt starts again without delay. For login this is
        the identity only; the address and global budgets keep counting, so a valid account
        cannot be used to wash out an address's failed attempts at other accounts.

        Args:
            route: The route.
            identity: The identity the attempt was checked with.
            address: The address the attempt was checked with.

        Raises:
            InvalidInputError: If ``route`` has no policy.
            ThrottleStorageError: If the storage failed (whatever ``on_storage_error`` says:
                a lost reset only leaves the person slower than needed).
        """
        now = self._settings.clock()
        try:
            for slot in self._settings.reset_slots(route, identity, address, now):
                async with self._turns:
                    await self._backend.clear(slot)
        except self._errors as error:
            raise storage_unreachable() from error

    async def login_succeeded(self, identity: str) -> None:
        """Report a successful login: the identity's failed attempts are forgotten.

        Args:
            identity: The normalised email the login was checked with.

        Raises:
            ThrottleStorageError: If the storage failed.
        """
        await self.report_success(Route.LOGIN, identity)

    async def healthy(self) -> bool:
        """Return True when the storage answers (a ping on Redis, a read on memcached).

        Returns:
            Whether the storage can be reached.
        """
        try:
            return bool(await self._storage.check())
        except self._errors:
            return False

    async def aclose(self) -> None:
        """Close the storage's connections, when the throttle opened the storage from a URL.

        Call it (or use the throttle as ``async with``) before the event loop closes, or
        the storage's client warns about unclosed connections.
        """
        if self._owns_storage:
            await aclose_storage(self._storage)

    async def __aenter__(self) -> AsyncThrottle:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
