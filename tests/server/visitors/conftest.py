# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the visitor flow tests: a Store on every engine, flows, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from visitor_helpers import SECRET, empty_tables

from offen_core.server import ServerConfig
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import Store
from offen_core.testing import FakeClock


@pytest.fixture(scope="session")
def visitor_session_store(database_url: str) -> Iterator[Store]:
    """One migrated Store per engine for the whole session."""
    store = Store(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def store(visitor_session_store: Store) -> Store:
    """The session's Store on each engine, with every table emptied."""
    empty_tables(visitor_session_store)
    return visitor_session_store


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands still."""
    return FakeClock()


@pytest.fixture
def config() -> ServerConfig:
    """A server configuration for plain HTTP (cookies without Secure)."""
    return ServerConfig(SECRET, secure_context=False)


@pytest.fixture
def flows(store: Store, config: ServerConfig, clock: FakeClock) -> VisitorFlows:
    """The visitor flows over the test's Store."""
    return VisitorFlows(store, config, clock=clock.now)


@pytest.fixture
def lagless_store(store: Store) -> Iterator[Store]:
    """A second Store on the test's database whose sync cursor does not trail (for paging)."""
    other = Store(store.engine.url.render_as_string(hide_password=False), safety_lag=timedelta(0))
    yield other
    other.close()


@pytest.fixture
def lagless_flows(lagless_store: Store, config: ServerConfig, clock: FakeClock) -> VisitorFlows:
    """Visitor flows over `lagless_store`."""
    return VisitorFlows(lagless_store, config, clock=clock.now)
