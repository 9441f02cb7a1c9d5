# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the client tests: a Store on every engine and a server over it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from client_helpers import TestServer

from offen_core.server import ServerConfig, ThrottleStep, make_throttle
from offen_core.server.mail import OutboxMailer
from offen_core.server.operators import Operators
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import Store
from offen_core.testing import FakeClock, shared_key_pair_pool

SECRET = b"client-tests-server-secret-01234"


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    """The test's emptied database through a Store whose sync cursor does not trail.

    Without the safety lag a page boundary falls between freshly posted events, so paging shows.
    """
    return make_store(safety_lag=timedelta(0))


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
