# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the operator tests: a Store on every engine and a site built through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opsync_helpers import Site, empty_tables

from offen_core.storage import Store
from offen_core.testing import KeyPairPool, shared_key_pair_pool


@pytest.fixture(scope="session")
def operator_store_session(database_url: str) -> Iterator[Store]:
    """One migrated Store per engine for the whole session (default safety lag)."""
    store = Store(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def store(operator_store_session: Store) -> Store:
    """The session's Store on each engine, with every table emptied."""
    empty_tables(operator_store_session)
    return operator_store_session


@pytest.fixture(scope="session")
def pool() -> KeyPairPool:
    """The shared pool of 2048-bit key pairs."""
    return shared_key_pair_pool()


@pytest.fixture
def site(store: Store, pool: KeyPairPool) -> Site:
    """An account with its key pair, built through the Store."""
    return Site.create(store, pool())
