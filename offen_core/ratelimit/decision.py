# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The answer a throttle gives for one attempt."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from offen_core.errors import ThrottledError

__all__ = ["Decision", "Outcome", "retry_after_header"]


def retry_after_header(seconds: float) -> str:
    """Return the value of a ``Retry-After`` header for a wait of ``seconds``.

    Args:
        seconds: The wait, for example `ThrottledError.retry_after`.

    Returns:
        Whole seconds, rounded up, at least 1.
    """
    return str(max(1, math.ceil(seconds)))


class Outcome(StrEnum):
    """What a throttle decided about one attempt."""

    ALLOWED = "allowed"
    """Go ahead now."""
    DELAYED = "delayed"
    """Go ahead after `Decision.delay` seconds; the attempt has been counted."""
    REFUSED = "refused"
    """Do not go ahead; answer 429 with `Decision.retry_after`. Nothing was counted."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A throttle's answer for one attempt.

    The throttle never sleeps: the caller says how long it will wait (``max_wait`` of
    `Throttle.check`); a delay within it is `DELAYED` (go ahead at now + `delay`, the attempt
    is counted), a longer one or a spent budget is `REFUSED` (answer 429 with
    ``Retry-After``; the attempt is not counted, so a client that comes back after
    `retry_after` gets through).

    Attributes:
        outcome: Allowed now, allowed after a delay, or refused.
        delay: Seconds to wait before going ahead (0 unless `DELAYED`).
        retry_after: Seconds after which the same attempt will be let through, if no other
            attempt comes in between (0 unless `REFUSED`).
        rule: The name of the rule that refused the attempt or set the delay, for metrics
            and logs (it holds no identifier); ``None`` when no rule slowed the attempt.
        storage_failed: True when the storage could not be reached and the decision comes
            from the throttle's failure mode rather than from counted attempts.
    """

    outcome: Outcome
    delay: float = 0.0
    retry_after: float = 0.0
    rule: str | None = None
    storage_failed: bool = False

    @property
    def allowed(self) -> bool:
        """True when the attempt may go ahead, now or after `delay`."""
        return self.outcome is not Outcome.REFUSED

    @property
    def retry_after_header(self) -> str:
        """The value of a ``Retry-After`` header: whole seconds, rounded up, at least 1."""
        return retry_after_header(self.retry_after)

    def raise_if_refused(self) -> None:
        """Raise `ThrottledError` if the attempt was refused.

        Raises:
            ThrottledError: With `retry_after`, when the outcome is `REFUSED`.
        """
        if self.outcome is Outcome.REFUSED:
            raise ThrottledError(self.retry_after)

    def wait_time(self, max_wait: float = 5.0) -> float:
        """Return how long to wait before going ahead, refusing delays above ``max_wait``.

        This is the step an application takes on every throttled route: sleep for the
        returned seconds (``time.sleep`` or ``await asyncio.sleep``), or answer 429 with
        ``Retry-After`` when it raises. Pass the same ``max_wait`` to `Throttle.check`: a
        delayed attempt that this method refuses has already been counted there, while
        `Throttle.check` refuses it without counting.

        Args:
            max_wait: The longest delay, in seconds, the caller is willing to wait out.

        Returns:
            The seconds to wait; 0 when the attempt may go ahead at once.

        Raises:
            ThrottledError: When the attempt was refused (with its `retry_after`) or its
                delay exceeds ``max_wait`` (with the delay as ``retry_after``).
        """
        self.raise_if_refused()
        if self.delay > max_wait:
            raise ThrottledError(self.delay)
        return self.delay
