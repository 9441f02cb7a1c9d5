# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""ULID event ids and sequences: minting them, reading their time, bounding time windows."""

from __future__ import annotations

import os
import re
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeGuard

from ulid import ULID

from offen_core.errors import InvalidInputError

_ULID_LENGTH = 26
_RULE_ULID = "must be a ULID: 26 upper-case Crockford base32 characters"
_RANDOM_BITS = 80
_RANDOM_LIMIT = 1 << _RANDOM_BITS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_MAX_DATETIME_MS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _ONE_MS

# Crockford base32, upper case only: ids are compared as plain strings, in SQL too, so a
# lower-case spelling of a valid id would sort wrongly. The first character carries only
# three bits, hence 0-7.
_ULID_PATTERN = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.ASCII)
_TO_BASE32_DIGITS = str.maketrans(
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ", "0123456789abcdefghijklmnopqrstuv"
)


def _encode(milliseconds: int, randomness: int) -> str:
    return str(ULID(((milliseconds << _RANDOM_BITS) | randomness).to_bytes(16, "big")))


def _milliseconds(when: datetime, field: str) -> int:
    if not isinstance(when, datetime):
        raise InvalidInputError(field, "must be a datetime")
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidInputError(field, "must be timezone-aware; attach a zone such as UTC")
    milliseconds = (when - _EPOCH) // _ONE_MS
    if milliseconds < 0:
        raise InvalidInputError(field, "must not lie before 1970, where ULID time begins")
    return milliseconds


class UlidGenerator:
    """A source of ULIDs that sort in the order they were made.

    Each id is the current time in milliseconds followed by 80 bits. Within one millisecond,
    and also when the clock steps backwards, the generator keeps the time of the last id and
    adds one to its 80 bits, so every id sorts after the one before it; should those bits run
    out, it moves on to the next millisecond. A lock makes it safe to share across threads.

    Ids of different processes are not ordered with respect to each other: they are ordered by
    their millisecond only, and within a millisecond at random (see the sync cursor in the
    storage docs, which allows for this). Every generator starts afresh in a forked child
    process, so a parent and its children never count on from the same id.

    Args:
        clock: A function returning the current time as seconds since the epoch (like
            `time.time`, or the `time` method of `offen_core.testing.FakeClock`). Defaults to
            the system clock.
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock
        self._reset()
        _ALL_GENERATORS.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def new(self) -> str:
        """Make the next id.

        Returns:
            A 26-character ULID that sorts after every id this generator made before.
        """
        clock = self._clock
        now = time.time_ns() // 1_000_000 if clock is None else int(clock() * 1000)
        with self._lock:
            if now > self._last_ms:
                milliseconds, randomness = now, int.from_bytes(os.urandom(10), "big")
            else:
                milliseconds, randomness = self._last_ms, self._last_random + 1
                if randomness == _RANDOM_LIMIT:
                    milliseconds, randomness = milliseconds + 1, 0
            self._last_ms, self._last_random = milliseconds, randomness
        return _encode(milliseconds, randomness)

    def new_prefix(self, free_bits: int) -> str:
        """Reserve a block of ids for the caller: every ULID that starts with the prefix.

        The block is the next one in this generator's order: every id with the prefix sorts
        after every id the generator made before, and before every id it makes afterwards.
        Callers that write many rows at once (a batch of events, the tombstones of a purge)
        append their own ``free_bits // 5`` characters instead of minting an id per row.

        Args:
            free_bits: How many low bits of the 80 random ones the caller fills in; a multiple
                of 5 from 5 to 75 (one base32 character holds 5 bits).

        Returns:
            The first ``26 - free_bits // 5`` characters of the block's ids.

        Raises:
            InvalidInputError: ``free_bits`` is not such a multiple of 5.
        """
        if free_bits % 5 or not 5 <= free_bits <= 75:
            raise InvalidInputError("free_bits", "must be a multiple of 5 from 5 to 75")
        block = 1 << free_bits
        clock = self._clock
        now = time.time_ns() // 1_000_000 if clock is None else int(clock() * 1000)
        with self._lock:
            if now > self._last_ms:
                milliseconds = now
                first = int.from_bytes(os.urandom(10), "big") & ~(block - 1)
            else:
                milliseconds = self._last_ms
                first = ((self._last_random >> free_bits) + 1) << free_bits
            if first + block > _RANDOM_LIMIT:
                milliseconds, first = milliseconds + 1, 0
            self._last_ms, self._last_random = milliseconds, first + block - 1
        return _encode(milliseconds, first)[: _ULID_LENGTH - free_bits // 5]


def _reset_after_fork() -> None:
    # A forked child (a pre-forking web server's worker) must not count on from its parent's
    # last id, or parent and child could mint the same id within one millisecond.
    for generator in list(_ALL_GENERATORS):
        generator._reset()


_ALL_GENERATORS: weakref.WeakSet[UlidGenerator] = weakref.WeakSet()
os.register_at_fork(after_in_child=_reset_after_fork)
_GENERATOR = UlidGenerator()


def new_ulid() -> str:
    """Make a ULID for the current time, for event ids and sequences.

    Ids made by one process sort in the order of the calls that made them, also from several
    threads and within one millisecond (see `UlidGenerator`).

    Returns:
        A 26-character ULID in upper-case Crockford base32.
    """
    return _GENERATOR.new()


def new_ulid_prefix(free_bits: int) -> str:
    """Reserve a block of ULIDs that sort after every id `new_ulid` made so far.

    See `UlidGenerator.new_prefix`: the caller completes each id with ``free_bits // 5``
    Crockford base32 characters of its own (for example a row counter), and every id so made
    sorts after the ids made before the call and before those made after it.

    Args:
        free_bits: How many low bits the caller fills in; a multiple of 5 from 5 to 75.

    Returns:
        The shared first ``26 - free_bits // 5`` characters.
    """
    return _GENERATOR.new_prefix(free_bits)


def ulid_at(when: datetime) -> str:
    """Make a fresh, random ULID whose time is ``when``.

    Used for back-dated imports and for sibling ids (a new id at the time of another). Two ids
    made for the same millisecond are ordered at random.

    Args:
        when: A timezone-aware datetime from 1970 on; anything below a millisecond is
            dropped.

    Returns:
        A 26-character ULID.

    Raises:
        InvalidInputError: ``when`` is naive or out of range (field ``when``).
    """
    return _encode(_milliseconds(when, "when"), int.from_bytes(os.urandom(10), "big"))


def min_ulid_at(when: datetime) -> str:
    """Give the smallest ULID at the instant ``when``: its time, then all zeros.

    Every id made at ``when`` or later compares greater than or equal to it, every id made
    before compares less, so it is the bound for expiry deadlines and time windows
    (``min_ulid_at(start) <= event_id < min_ulid_at(end)`` selects ``[start, end)``).

    Args:
        when: A timezone-aware datetime from 1970 on; anything below a millisecond is
            dropped.

    Returns:
        A 26-character ULID ending in sixteen zeros.

    Raises:
        InvalidInputError: ``when`` is naive or out of range (field ``when``).
    """
    return _encode(_milliseconds(when, "when"), 0)


def is_ulid(value: object) -> TypeGuard[str]:
    """Tell whether ``value`` is a ULID as this library writes them.

    Args:
        value: Anything.

    Returns:
        True for a 26-character string of upper-case Crockford base32 whose first character
        is 0 to 7 (larger ones would overflow 128 bits).
    """
    return (
        type(value) is str
        and len(value) == _ULID_LENGTH
        and _ULID_PATTERN.fullmatch(value) is not None
    )


def ulid_time(value: str) -> datetime:
    """Give the time of a ULID.

    Args:
        value: A ULID.

    Returns:
        The millisecond the id was made for, as an aware datetime in UTC.

    Raises:
        InvalidInputError: ``value`` is not a ULID, or its time lies after the year 9999,
            beyond Python's datetime (field ``eventId``).
    """
    if not is_ulid(value):
        raise InvalidInputError("eventId", _RULE_ULID)
    # The first ten characters are the time; in Python's base-32 digits int() reads them.
    milliseconds = int(value[:10].translate(_TO_BASE32_DIGITS), 32)
    if milliseconds > _MAX_DATETIME_MS:
        raise InvalidInputError("eventId", "has a time after the year 9999, which is not supported")
    return _EPOCH + timedelta(milliseconds=milliseconds)
