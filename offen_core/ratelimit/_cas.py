# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Atomic throttle steps on storages that offer a compare-and-set (memcached, MongoDB).

Such a storage cannot run a step itself, as Redis runs a script, but it can store a value
only when nobody has written it since it was read. A step is then: load the state and its
version, decide with `decide` or `undone` (the code memory storage runs), and, when there is
something to write, store it if the version is still the one that was read. When another
writer came first, the step loads and decides again. After `CAS_ATTEMPTS` lost races in a
row it gives up with a storage error, so the throttle's `StorageFailure` policy answers.

The checks of one throttle on one key take turns inside the process (a lock per stripe of
keys), so only other throttles and other processes ever race; a storage adapter supplies
``load``, ``store`` and ``delete`` and nothing else.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol, TypeVar

from limits.errors import ConcurrentUpdateError
from limits.errors import StorageError as LimitsStorageError

from offen_core.ratelimit._backends import Slot, Status, StepResult, decide, undone

CAS_ATTEMPTS = 32
"""How many times a step loads, decides and tries to store before it gives up."""

_BACKOFF_FIRST = 0.0002
"""Seconds: the longest pause after the first lost race; it doubles after each one."""

_BACKOFF_CAP = 0.01
"""Seconds: the longest pause after any lost race."""

_STRIPES = 64

State = tuple[int, float | None]
"""What a step stores: the attempts counted and the anchor (``None``: none yet)."""

_Answer = TypeVar("_Answer")


class Snapshot(NamedTuple):
    """A rule's state as loaded, with the version a store must still find to replace it."""

    counted: int
    anchor: float | None
    version: object
    """The storage's version of the state; ``None`` when no state is stored."""


EMPTY = Snapshot(0, None, None)
"""The snapshot of a key that holds no state."""


class CasStore(Protocol):
    """The three operations a synchronous storage adapter offers."""

    def load(self, key: str) -> Snapshot:
        """Return the state at ``key``, or `EMPTY`."""
        ...

    def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        """Store ``state`` if ``key`` still holds ``version`` (``None``: nothing); say if so."""
        ...

    def delete(self, key: str) -> None:
        """Remove the state at ``key``, if any."""
        ...


class AsyncCasStore(Protocol):
    """The three operations an asynchronous storage adapter offers (as `CasStore`)."""

    async def load(self, key: str) -> Snapshot: ...

    async def store(self, key: str, state: State, version: object, ttl: int) -> bool: ...

    async def delete(self, key: str) -> None: ...


def anchor_text(anchor: float | None) -> str:
    """Return how an anchor is stored: the shortest repr that reads back to the same float."""
    return "" if anchor is None else repr(anchor)


def read_anchor(text: str) -> float | None:
    """Read an anchor written by `anchor_text`."""
    if not text:
        return None
    anchor = float(text)
    if not math.isfinite(anchor):
        raise ValueError("an anchor is a finite number")
    return anchor


def unreadable(key: str) -> LimitsStorageError:
    """Return the error for a state that some other writer left in a form we cannot read."""
    return LimitsStorageError(ValueError(f"the throttle state at {key!r} cannot be read"))


def _counting(
    slot: Slot, now: float, max_wait: float
) -> Callable[[Snapshot], tuple[StepResult, State | None]]:
    def change(snapshot: Snapshot) -> tuple[StepResult, State | None]:
        result = decide(slot, snapshot.counted, snapshot.anchor, now, max_wait)
        return result, (result.rank, now) if result.status is Status.COUNTED else None

    return change


def _undoing(now: float, result: StepResult) -> Callable[[Snapshot], tuple[None, State | None]]:
    def change(snapshot: Snapshot) -> tuple[None, State | None]:
        return None, undone(snapshot.counted, snapshot.anchor, now, result)

    return change


def _pause(lost: int) -> float:
    # Random pauses, so that writers that collided once do not collide again in step.
    return random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_FIRST * 2**lost))  # noqa: S311


def _gave_up(key: str, attempts: int) -> LimitsStorageError:
    return LimitsStorageError(ConcurrentUpdateError(key, attempts))


class SyncCas:
    """The state operations of a `Throttle` on a compare-and-set storage."""

    def __init__(self, store: CasStore, attempts: int = CAS_ATTEMPTS) -> None:
        self.store = store
        self.attempts = attempts
        self._turns = [threading.Lock() for _ in range(_STRIPES)]

    def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult:
        return self._apply(slot, _counting(slot, now, max_wait))

    def undo(self, slot: Slot, now: float, result: StepResult) -> None:
        self._apply(slot, _undoing(now, result))

    def clear(self, slot: Slot) -> None:
        self.store.delete(slot.key)

    def _apply(
        self, slot: Slot, change: Callable[[Snapshot], tuple[_Answer, State | None]]
    ) -> _Answer:
        with self._turns[hash(slot.key) % _STRIPES]:
            for lost in range(self.attempts):
                snapshot = self.store.load(slot.key)
                answer, state = change(snapshot)
                if state is None or self.store.store(slot.key, state, snapshot.version, slot.ttl):
                    return answer
                if lost + 1 < self.attempts:
                    time.sleep(_pause(lost))
        raise _gave_up(slot.key, self.attempts)


class AsyncCas:
    """The state operations of an `AsyncThrottle` on a compare-and-set storage."""

    def __init__(self, store: AsyncCasStore, attempts: int = CAS_ATTEMPTS) -> None:
        self.store = store
        self.attempts = attempts
        self._turns = [asyncio.Lock() for _ in range(_STRIPES)]

    async def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult:
        return await self._apply(slot, _counting(slot, now, max_wait))

    async def undo(self, slot: Slot, now: float, result: StepResult) -> None:
        await self._apply(slot, _undoing(now, result))

    async def clear(self, slot: Slot) -> None:
        await self.store.delete(slot.key)

    async def _apply(
        self, slot: Slot, change: Callable[[Snapshot], tuple[_Answer, State | None]]
    ) -> _Answer:
        async with self._turns[hash(slot.key) % _STRIPES]:
            for lost in range(self.attempts):
                snapshot = await self.store.load(slot.key)
                answer, state = change(snapshot)
                if state is None or await self.store.store(
                    slot.key, state, snapshot.version, slot.ttl
                ):
                    return answer
                if lost + 1 < self.attempts:
                    await asyncio.sleep(_pause(lost))
        raise _gave_up(slot.key, self.attempts)
