# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the client tests: a Store on every engine and a server over it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from client_helpers import TestServer

from offen_core.server import ServerConfig, ThrottleStep, make_throttle
from offen_core.server.mail import OutboxMailer
from offen_core.server.operators import Operators
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import Store, metadata
from offen_core.testing import FakeClock, shared_key_pair_pool

SECRET = b"client-tests-server-secret-01234"


@pytest.fixture(scope="session")
def client_session_store(database_url: str) -> Iterator[Store]:
    """One migrated Store per engine for the whole session, its cursor without safety lag.

    Without the lag a page boundary falls between freshly posted events, so paging shows.
    """
    store = Store(database_url, safety_lag=timedelta(0))
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def store(client_session_store: Store) -> Store:
    """The session's Store on each engine, with every table emptied."""
    with client_session_store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "migrations":
                connection.execute(table.delete())
    return client_session_store


@pytest.fixture
def clock() -> FakeClock:
    """The throttle's clock."""
    return FakeClock()


@pytest.fixture
def server(store: Store, clock: FakeClock, tmp_path: object) -> TestServer:
    """A WSGI server speaking Offen's routes over the test's Store (plain HTTP)."""
    config = ServerConfig(SECRET, secure_context=False)
    operators = Operators(
        store,
        config,
        mailer=OutboxMailer(str(tmp_path)),
        key_pair_factory=shared_key_pair_pool(),
    )
    return TestServer(
        VisitorFlows(store, config),
        operators,
        ThrottleStep(make_throttle(config, clock=clock.time)),
    )
