# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the key-management tests: a Store on every engine, flows, visitors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keyrot_helpers import SECRET, RecordingMailer, empty_tables

from offen_core.server import ServerConfig, VisitorFlows
from offen_core.storage import Store
from offen_core.testing import FakeClock, KeyPairPool, shared_key_pair_pool


@pytest.fixture(scope="session")
def keys_session_store(database_url: str) -> Iterator[Store]:
    """One migrated Store per engine for the whole session."""
    store = Store(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def store(keys_session_store: Store) -> Store:
    """The session's Store on each engine, with every table emptied."""
    empty_tables(keys_session_store)
    return keys_session_store


@pytest.fixture(scope="session")
def pool() -> KeyPairPool:
    """The shared pool of 2048-bit key pairs (four distinct pairs, handed out in turn)."""
    return shared_key_pair_pool()


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands still."""
    return FakeClock()


@pytest.fixture
def mailer() -> RecordingMailer:
    """A mailer that records what it is given."""
    return RecordingMailer()


@pytest.fixture
def visitors(store: Store) -> VisitorFlows:
    """The visitor flows over the test's Store."""
    return VisitorFlows(store, ServerConfig(SECRET))
