# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the storage tests: engines, sample values and records."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from offen_core.storage import Account, Store

ENGINES = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

PAYLOAD = "{1,} bm9uY2Vub25jZQ== Y2lwaGVydGV4dA=="
ENCRYPTED_SECRET = "{1,} d3JhcHBlZCBzZWNyZXQ="


def secret_id(name: str) -> str:
    """A secret id (64 hex characters) made from a name, like the server's hash."""
    return hashlib.sha256(name.encode()).hexdigest()


def new_account(name: str | None = None, **changes: Any) -> Account:
    """An account record with placeholder keys."""
    values: dict[str, Any] = {
        "account_id": str(uuid.uuid4()),
        "name": name or f"site {uuid.uuid4().hex[:8]}",
        "public_key": '{"kty":"RSA"}',
        "encrypted_private_key": "{1,} cHJpdmF0ZQ== bm9uY2U=",
        "user_salt": "{1,} c2FsdHNhbHRzYWx0c2FsdA==",
        "created": datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC),
    }
    values.update(changes)
    return Account(**values)


class InjectedError(Exception):
    """Raised by a test in the middle of a Store operation."""


@contextmanager
def failing(store: Store, when: Callable[[str, int], bool]) -> Iterator[None]:
    """Raise `InjectedError` before the statement for which ``when(sql, count)`` holds."""
    counts: dict[str, int] = {}

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = " ".join(statement.split()[:3]).upper()
        counts[key] = counts.get(key, 0) + 1
        if when(key, counts[key]):
            raise InjectedError(key)

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
