# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The retention period: how long events and tombstones are kept.

Retention is an instance-wide setting, as in Offen (``OFFEN_APP_RETENTION``). Offen's names are
understood (``6months`` is 186 days, Offen's 24 x 6 x 31 hours), and so is a plain number of
days from 7 to 1825.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from offen_core.errors import InvalidInputError

__all__ = [
    "DEFAULT_RETENTION",
    "MAX_RETENTION_DAYS",
    "MIN_RETENTION_DAYS",
    "OFFEN_RETENTION_NAMES",
    "Retention",
    "parse_retention",
]

MIN_RETENTION_DAYS = 7
"""The shortest retention period, in days."""

MAX_RETENTION_DAYS = 1825
"""The longest retention period, in days (five years)."""

OFFEN_RETENTION_NAMES: dict[str, int] = {
    "6months": 186,
    "12weeks": 84,
    "6weeks": 42,
    "30days": 30,
    "7days": 7,
}
"""Offen's retention names and their length in days."""

_RULE = (
    "must be one of 6months, 12weeks, 6weeks, 30days, 7days "
    f"or a number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}"
)


@dataclass(frozen=True, slots=True)
class Retention:
    """A retention period.

    Attributes:
        name: The setting as given (``"6months"``, ``"90"``); servers echo it to clients as
            ``retentionPeriod``, as Offen does.
        days: Its length in days.
    """

    name: str
    days: int

    @property
    def period(self) -> timedelta:
        """The retention period as a `timedelta`."""
        return timedelta(days=self.days)


DEFAULT_RETENTION = Retention("6months", 186)
"""Offen's default: six months of 31 days."""


def parse_retention(value: str | int | Retention) -> Retention:
    """Read a retention setting.

    Args:
        value: One of Offen's names (``6months``, ``12weeks``, ``6weeks``, ``30days``,
            ``7days``), a number of days from 7 to 1825 (an ``int`` or a string of digits),
            or a `Retention`, returned as it is.

    Returns:
        The retention period.

    Raises:
        InvalidInputError: ``value`` is none of these (field ``retention``).
    """
    if isinstance(value, Retention):
        return value
    if isinstance(value, bool):
        raise InvalidInputError("retention", _RULE)
    if isinstance(value, int):
        days = value
        name = str(value)
    elif isinstance(value, str):
        name = value.strip()
        if name in OFFEN_RETENTION_NAMES:
            return Retention(name, OFFEN_RETENTION_NAMES[name])
        if not name.isascii() or not name.isdigit() or len(name) > 5:
            raise InvalidInputError("retention", _RULE)
        days = int(name)
    else:
        raise InvalidInputError("retention", _RULE)
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise InvalidInputError("retention", _RULE)
    return Retention(name, days)
