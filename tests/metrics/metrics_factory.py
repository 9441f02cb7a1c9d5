# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Builders of decrypted events for the metrics tests.

Offen's own test cases name visitors and sessions with short strings ("user-a", "s-b");
here a visitor's name becomes a valid secret id (its SHA-256) and each event gets a ULID
whose time follows the order in which the test lists the events, unless a time is given.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from offen_core.events import DecryptedEvent

ACCOUNT = "9b63c4d8-4f2e-4c5a-9a8e-2d7c1f0b3e11"
OTHER_ACCOUNT = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
# A Monday at noon UTC, the default start of offen_core.testing.FakeClock.
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def secret(name: str) -> str:
    """A valid secret id standing for the visitor ``name``."""
    return hashlib.sha256(name.encode()).hexdigest()


def ulid_for(when: datetime, serial: int = 0) -> str:
    """A ULID of ``when`` whose random part is ``serial`` (so ids sort by serial within a ms)."""
    milliseconds = (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    return str(ULID(((milliseconds << 80) | serial).to_bytes(16, "big")))


class Events:
    """Makes events one after the other, one second apart, ending before ``NOW``.

    Args:
        start: The time of the first event.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.next_time = start or NOW - timedelta(hours=1)
        self.serial = 0

    def __call__(self, **fields: Any) -> DecryptedEvent:
        """One event.

        ``user`` (a visitor name, or ``None`` for no secret id; default ``"u"``), ``at`` (the
        event id's time) and ``account`` set the envelope; every other keyword is a PageView
        member by its camelCase name.
        """
        user: str | None = fields.pop("user", "u")
        at: datetime | None = fields.pop("at", None)
        account: str = fields.pop("account", ACCOUNT)
        payload = fields
        when = at or self.next_time
        self.next_time = when + timedelta(seconds=1)
        self.serial += 1
        return DecryptedEvent.model_validate(
            {
                "eventId": ulid_for(when, self.serial),
                "accountId": account,
                "secretId": None if user is None else secret(user),
                "payload": payload,
            }
        )


def sessions(
    *sids: str | None, events: Events | None = None, **payload: Any
) -> list[DecryptedEvent]:
    """One event per session id given (``None`` for an event without one)."""
    make = events or Events()
    return [make(**payload) if sid is None else make(sessionId=sid, **payload) for sid in sids]
