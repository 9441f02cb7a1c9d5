# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for testing code built on offen_core.

Import this module from test suites, never from production code. It holds:

- `FakeClock`, a clock that moves only when told to, for throttles, tokens and expiry.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]

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
