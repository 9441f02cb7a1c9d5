# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for testing code built on offen_core.

Import this module from test suites, never from production code. It holds:

- `FakeClock`, a clock that moves only when told to, for throttles, tokens and expiry.
- `KeyPairPool`, RSA key pairs generated once and handed out round robin, usable as a
  server's key-pair factory; `shared_key_pair_pool` returns one pool for the whole process.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from offen_core.crypto import KeyPair, generate_key_pair

__all__ = ["FakeClock", "KeyPairPool", "shared_key_pair_pool"]

_DEFAULT_START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until a test moves it.

    It offers the two shapes of clock the library takes: `time` (seconds since the epoch, like
    `time.time`) and `now` (an aware UTC `datetime`). Both read the same instant. It is safe
    to share between threads.

    Args:
        start: The initial instant, an aware `datetime`; defaults to a Monday at noon UTC.

    Raises:
        ValueError: If ``start`` is a naive `datetime`.
    """

    def __init__(self, start: datetime = _DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime (for example with tzinfo=UTC)")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current instant as an aware UTC `datetime`."""
        with self._lock:
            return self._now

    def time(self) -> float:
        """Return the current instant in seconds since the epoch."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (which may be fractional).

        Raises:
            ValueError: If ``seconds`` is negative; a clock never runs backwards.
        """
        if seconds < 0:
            raise ValueError("a clock never runs backwards; pass a non-negative number")
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Move the clock to ``when``, which must not lie before the current instant.

        Raises:
            ValueError: If ``when`` is naive or earlier than the current instant.
        """
        if when.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime (for example with tzinfo=UTC)")
        with self._lock:
            if when < self._now:
                raise ValueError("a clock never runs backwards; pass a later instant")
            self._now = when.astimezone(UTC)


class KeyPairPool:
    """A few RSA key pairs, generated once and handed out round robin.

    Generating an RSA-4096 pair takes about a second, a 2048-bit one about a tenth of that.
    A test suite that needs many account keys takes them from a pool instead: the pairs are
    made on the first call (not when the pool is created), then each call returns the next
    one, starting over after the last. Calling the pool is thread-safe, so it can serve as a
    server's key-pair factory (a ``Callable[[], KeyPair]``).

    Warning:
        Pairs repeat: two accounts created from one pool may share a key pair. Use a pool
        only in tests and demos, never for real accounts.

    Args:
        size: How many distinct pairs to make, at least 1.
        bits: The modulus size of each pair; 2048 (the smallest the library imports) keeps
            a suite fast.

    Raises:
        ValueError: If ``size`` is smaller than 1.
    """

    def __init__(self, size: int = 4, bits: int = 2048) -> None:
        if size < 1:
            raise ValueError("a key pair pool needs at least one pair; pass size >= 1")
        self._size = size
        self._bits = bits
        self._pairs: tuple[KeyPair, ...] = ()
        self._next = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """How many distinct pairs the pool holds."""
        return self._size

    @property
    def bits(self) -> int:
        """The modulus size of the pairs."""
        return self._bits

    @property
    def pairs(self) -> tuple[KeyPair, ...]:
        """All pairs of the pool, generating them first if needed."""
        with self._lock:
            return self._ensure()

    def __call__(self) -> KeyPair:
        """Return the next key pair, generating the pool's pairs on the first call.

        Raises:
            offen_core.errors.InvalidInputError: If the pool's ``bits`` is not a size
                `offen_core.crypto.generate_key_pair` accepts.
        """
        with self._lock:
            pairs = self._ensure()
            pair = pairs[self._next]
            self._next = (self._next + 1) % len(pairs)
            return pair

    def __repr__(self) -> str:
        return f"KeyPairPool(size={self._size}, bits={self._bits})"

    def _ensure(self) -> tuple[KeyPair, ...]:
        if not self._pairs:
            self._pairs = tuple(generate_key_pair(self._bits) for _ in range(self._size))
        return self._pairs


_shared_pool: KeyPairPool | None = None
_shared_lock = threading.Lock()


def shared_key_pair_pool() -> KeyPairPool:
    """Return the process-wide pool of four 2048-bit key pairs, created on first use.

    Every caller gets the same pool, so a test session pays for its pairs once.

    Returns:
        The shared `KeyPairPool`.
    """
    global _shared_pool
    with _shared_lock:
        if _shared_pool is None:
            _shared_pool = KeyPairPool()
        return _shared_pool
