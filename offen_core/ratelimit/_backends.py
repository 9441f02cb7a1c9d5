# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Where a throttle keeps its state: one atomic step per rule, on each kind of storage.

The state of one rule for one identifier in one window is two values: ``n``, the attempts
counted, and ``t``, the time the last of them was counted (its *anchor*). One call decides an
attempt under a rule and, when it may go ahead within the caller's ``max_wait``, counts it, in
one atomic operation: a lock on memory storage, a Lua script on Redis, a compare-and-set on
memcached and MongoDB (`offen_core.ratelimit._cas`). `decide` and `undone` say what a step
does to the state; every storage but Redis (whose script mirrors them) runs them as they are.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from enum import IntEnum
from typing import Any, NamedTuple, Protocol

from limits.aio.storage import MemcachedStorage as AsyncMemcachedStorage
from limits.aio.storage import MemoryStorage as AsyncMemoryStorage
from limits.aio.storage import MongoDBStorage as AsyncMongoDBStorage
from limits.aio.storage import RedisClusterStorage as AsyncRedisClusterStorage
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.storage import Storage as AsyncStorage
from limits.storage import MemcachedStorage, MemoryStorage, MongoDBStorage, RedisStorage, Storage

from offen_core.errors import InvalidInputError
from offen_core.ratelimit.rules import Curve, Rule

PEEK = -1.0
"""A ``max_wait`` that never counts: the step only tells the attempt's delay."""

SLACK = 1e-5
"""Seconds: a delay left over shorter than this is none (clocks and floats are not exact)."""


class Status(IntEnum):
    """What one step did with an attempt."""

    COUNTED = 0
    """The attempt was counted; it may go ahead after `StepResult.delay`."""
    NOT_COUNTED = 1
    """The delay exceeds the caller's wait (or the call was a peek); nothing was counted."""
    SPENT = 2
    """The rule's budget for the window is spent; nothing was counted."""


class StepResult(NamedTuple):
    """The answer of one step: what was done, the delay, and what `undo` needs."""

    status: Status
    delay: float
    rank: int
    anchor: str
    """The anchor before this attempt (``""``: none), for `undo`."""


class Slot(Protocol):
    """Where an attempt is counted (see `offen_core.ratelimit._attempts.Slot`)."""

    @property
    def rule(self) -> Rule: ...

    @property
    def key(self) -> str: ...

    @property
    def ttl(self) -> int: ...

    @property
    def window_start(self) -> float: ...


def evaluate(rule: Rule, counted: int, anchor: float, now: float) -> float | None:
    """Return the delay of the next attempt, or None when the budget is spent.

    The attempt of rank ``m`` may go ahead ``rule.delay(m)`` seconds after the attempt
    before it was counted (the anchor); the first attempt of a window counts from the
    window's start.
    """
    cost = rule.delay(counted + 1)
    if cost > rule.deadline:
        return None
    if cost <= 0:
        return 0.0
    elapsed = now - anchor
    # A later anchor (another host's clock ahead of ours) never makes the delay longer.
    if elapsed <= 0:
        return cost
    left = cost - elapsed
    return left if left > SLACK else 0.0


def decide(
    slot: Slot, counted: int, anchor: float | None, now: float, max_wait: float
) -> StepResult:
    """Decide an attempt on the state ``(counted, anchor)``; ``None``: nothing counted yet.

    When the result is `Status.COUNTED` the caller stores ``(result.rank, now)``; otherwise
    it stores nothing.
    """
    before = "" if anchor is None else repr(anchor)
    delay = evaluate(slot.rule, counted, slot.window_start if anchor is None else anchor, now)
    if delay is None:
        return StepResult(Status.SPENT, 0.0, counted, before)
    if max_wait < 0 or delay > max_wait:
        return StepResult(Status.NOT_COUNTED, delay, counted, before)
    return StepResult(Status.COUNTED, delay, counted + 1, before)


def undone(
    counted: int, anchor: float | None, now: float, result: StepResult
) -> tuple[int, float | None] | None:
    """Return the state once the attempt ``result`` counted at ``now`` is taken back.

    ``None`` means there is nothing to take back. The anchor goes back to the one before the
    attempt only while no later attempt has moved it.
    """
    if counted < 1:
        return None
    if counted == result.rank and anchor == now:
        anchor = float(result.anchor) if result.anchor else None
    return counted - 1, anchor


class _Entry:
    __slots__ = ("anchor", "counted", "expires")

    def __init__(self, expires: float) -> None:
        self.counted = 0
        self.anchor: float | None = None
        self.expires = expires


class _MemoryTable:
    """The states of one memory storage; entries outlive their window by the slot's ttl."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.lock = threading.Lock()
        self._calls = 0

    def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult:
        with self.lock:
            self._sweep()
            entry = self.entries.get(slot.key)
            if entry is None:
                entry = self.entries[slot.key] = _Entry(time.monotonic() + slot.ttl)
            result = decide(slot, entry.counted, entry.anchor, now, max_wait)
            if result.status is Status.COUNTED:
                entry.counted = result.rank
                entry.anchor = now
            return result

    def undo(self, slot: Slot, now: float, result: StepResult) -> None:
        with self.lock:
            entry = self.entries.get(slot.key)
            state = None if entry is None else undone(entry.counted, entry.anchor, now, result)
            if entry is not None and state is not None:
                entry.counted, entry.anchor = state

    def clear(self, slot: Slot) -> None:
        with self.lock:
            self.entries.pop(slot.key, None)

    def _sweep(self) -> None:
        self._calls += 1
        if self._calls % 1024:
            return
        moment = time.monotonic()
        for key in [key for key, entry in self.entries.items() if entry.expires < moment]:
            del self.entries[key]


_TABLES: weakref.WeakKeyDictionary[object, _MemoryTable] = weakref.WeakKeyDictionary()
_TABLES_GUARD = threading.Lock()


def _table(storage: MemoryStorage | AsyncMemoryStorage) -> _MemoryTable:
    # Throttles that share one memory storage share its states.
    with _TABLES_GUARD:
        table = _TABLES.get(storage)
        if table is None:
            table = _TABLES[storage] = _MemoryTable()
        return table


# Mirrors `decide` and `evaluate`; numbers travel as strings of 17 digits so
# that Redis and memory storage give the same delays to the last bit.
_ATTEMPT = """
local state = redis.call('HMGET', KEYS[1], 'n', 't')
local n = tonumber(state[1]) or 0
local anchor = state[2]
local now = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local free = tonumber(ARGV[5])
local extra = n + 1 - free
local cost = 0
if extra > 0 then
  if ARGV[4] == 'linear' then
    cost = threshold * extra
  elseif ARGV[4] == 'quadratic' then
    cost = threshold * (1 + extra * (extra - 1) / 2)
  else
    cost = threshold * 2 ^ math.min(extra - 1, 64)
  end
end
local before = anchor or ''
if cost > tonumber(ARGV[6]) then
  return {2, '0', n, before}
end
local delay = 0
if cost > 0 then
  delay = cost
  local elapsed = now - tonumber(anchor or ARGV[9])
  if elapsed > 0 then
    delay = cost - elapsed
    if delay <= tonumber(ARGV[8]) then delay = 0 end
  end
end
if max_wait < 0 or delay > max_wait then
  return {1, string.format('%.17g', delay), n, before}
end
redis.call('HSET', KEYS[1], 'n', n + 1, 't', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return {0, string.format('%.17g', delay), n + 1, before}
"""

# Mirrors `undone`.
_UNDO = """
local state = redis.call('HMGET', KEYS[1], 'n', 't')
local n = tonumber(state[1])
if (not n) or n < 1 then return 0 end
if n == tonumber(ARGV[2]) and state[2] == ARGV[1] then
  if ARGV[3] == '' then
    redis.call('HDEL', KEYS[1], 't')
    redis.call('HSET', KEYS[1], 'n', n - 1)
  else
    redis.call('HSET', KEYS[1], 'n', n - 1, 't', ARGV[3])
  end
else
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 1
"""

_CURVES = {Curve.LINEAR: "linear", Curve.QUADRATIC: "quadratic", Curve.EXPONENTIAL: "exponential"}


def _number(value: float) -> str:
    return repr(value) if math.isfinite(value) else "1e308"


def _attempt_args(slot: Slot, now: float, max_wait: float) -> list[str]:
    rule = slot.rule
    return [
        repr(now),
        _number(max_wait),
        repr(rule.threshold),
        _CURVES[rule.curve],
        str(rule.free),
        repr(rule.deadline),
        str(slot.ttl * 1000),
        repr(SLACK),
        repr(slot.window_start),
    ]


def _text(value: Any) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _result(reply: Any) -> StepResult:
    status, delay, rank, anchor = reply
    return StepResult(Status(int(status)), float(_text(delay)), int(rank), _text(anchor))


class SyncBackend(Protocol):
    """The state operations a `Throttle` needs."""

    def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult: ...

    def undo(self, slot: Slot, now: float, result: StepResult) -> None: ...

    def clear(self, slot: Slot) -> None: ...


class AsyncBackend(Protocol):
    """The state operations an `AsyncThrottle` needs."""

    async def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult: ...

    async def undo(self, slot: Slot, now: float, result: StepResult) -> None: ...

    async def clear(self, slot: Slot) -> None: ...


class _SyncRedis:
    def __init__(self, storage: RedisStorage) -> None:
        client: Any = storage.get_connection()
        self._prefixed = storage.prefixed_key
        self._attempt = client.register_script(_ATTEMPT)
        self._undo = client.register_script(_UNDO)
        self._client = client

    def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult:
        reply = self._attempt(
            keys=[self._prefixed(slot.key)], args=_attempt_args(slot, now, max_wait)
        )
        return _result(reply)

    def undo(self, slot: Slot, now: float, result: StepResult) -> None:
        self._undo(keys=[self._prefixed(slot.key)], args=[repr(now), result.rank, result.anchor])

    def clear(self, slot: Slot) -> None:
        self._client.delete(self._prefixed(slot.key))


class _AsyncRedis:
    def __init__(self, storage: AsyncRedisStorage) -> None:
        bridge = storage.bridge
        connect = getattr(bridge, "get_connection", None)
        client: Any = connect() if callable(connect) else None
        if not hasattr(client, "register_script"):
            raise _unsupported()
        self._prefixed = bridge.prefixed_key
        self._attempt = client.register_script(_ATTEMPT)
        self._undo = client.register_script(_UNDO)
        self._client = client
        self._learn_slots: Any = (
            getattr(client, "initialize", None)
            if isinstance(storage, AsyncRedisClusterStorage)
            else None
        )

    async def _ready(self) -> None:
        # redis-py's asyncio cluster client learns which node serves which slot on its first
        # command, and commands sent alongside that one pick a node before the map is known.
        # They are answered MOVED, and after a few of those the client drops every
        # connection, failing the steps in flight with errors that are not storage errors.
        # Learning the map before the first step avoids it (the client serialises the calls).
        if self._learn_slots is not None:
            await self._learn_slots()
            self._learn_slots = None

    async def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult:
        await self._ready()
        reply = await self._attempt(
            keys=[self._prefixed(slot.key)], args=_attempt_args(slot, now, max_wait)
        )
        return _result(reply)

    async def undo(self, slot: Slot, now: float, result: StepResult) -> None:
        await self._ready()
        await self._undo(
            keys=[self._prefixed(slot.key)], args=[repr(now), result.rank, result.anchor]
        )

    async def clear(self, slot: Slot) -> None:
        await self._ready()
        await self._client.delete(self._prefixed(slot.key))


class _AsyncMemory:
    # One event loop runs one coroutine at a time and nothing here awaits, so each call is
    # atomic; the table's lock still guards against threads sharing the storage.
    def __init__(self, table: _MemoryTable) -> None:
        self._table = table

    async def attempt(self, slot: Slot, now: float, max_wait: float) -> StepResult:
        return self._table.attempt(slot, now, max_wait)

    async def undo(self, slot: Slot, now: float, result: StepResult) -> None:
        self._table.undo(slot, now, result)

    async def clear(self, slot: Slot) -> None:
        self._table.clear(slot)


def _unsupported() -> InvalidInputError:
    return InvalidInputError(
        "storage",
        "the throttle keeps its state in memory://, Redis (redis://, rediss://, "
        "redis+sentinel://, redis+cluster://, valkey://), memcached:// or mongodb://; "
        "use one of those",
    )


def sync_backend(storage: Storage) -> SyncBackend:
    """Return the state operations for a synchronous `limits` storage.

    Raises:
        InvalidInputError: If the storage is not memory, Redis, memcached or MongoDB.
    """
    if isinstance(storage, MemoryStorage):
        return _table(storage)
    if isinstance(storage, RedisStorage):
        return _SyncRedis(storage)
    # Imported here: they are needed only with these storages.
    from offen_core.ratelimit._cas import SyncCas

    if isinstance(storage, MemcachedStorage):
        from offen_core.ratelimit._memcached import MemcachedStore

        return SyncCas(MemcachedStore(storage))
    if isinstance(storage, MongoDBStorage):
        from offen_core.ratelimit._mongodb import MongoStore

        return SyncCas(MongoStore(storage))
    raise _unsupported()


def async_backend(storage: AsyncStorage) -> AsyncBackend:
    """Return the state operations for an asynchronous `limits` storage.

    Raises:
        InvalidInputError: If the storage is not memory, Redis, memcached (with its default
            memcachio client) or MongoDB.
    """
    if isinstance(storage, AsyncMemoryStorage):
        return _AsyncMemory(_table(storage))
    if isinstance(storage, AsyncRedisStorage):
        return _AsyncRedis(storage)
    from offen_core.ratelimit._cas import AsyncCas

    if isinstance(storage, AsyncMemcachedStorage):
        # limits 5 holds the client in a bridge; the adapter speaks memcachio's gets and cas.
        if type(getattr(storage, "bridge", None)).__name__ != "MemcachioBridge":
            raise InvalidInputError(
                "storage",
                "an async memcached storage needs limits' default client, memcachio; "
                "drop implementation='emcache'",
            )
        from offen_core.ratelimit._memcached import AsyncMemcachedStore

        return AsyncCas(AsyncMemcachedStore(storage))
    if isinstance(storage, AsyncMongoDBStorage):
        from offen_core.ratelimit._mongodb import AsyncMongoStore

        return AsyncCas(AsyncMongoStore(storage))
    raise _unsupported()
