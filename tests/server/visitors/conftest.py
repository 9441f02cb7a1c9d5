# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the visitor flow tests: flows over the shared `store`, a clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from visitor_helpers import SECRET

from offen_core.server import ServerConfig
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import Store
from offen_core.testing import FakeClock


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
def lagless_store(make_store: Callable[..., Store]) -> Store:
    """A second Store on the test's database whose sync cursor does not trail (for paging)."""
    return make_store(safety_lag=timedelta(0))


@pytest.fixture
def lagless_flows(lagless_store: Store, config: ServerConfig, clock: FakeClock) -> VisitorFlows:
    """Visitor flows over `lagless_store`."""
    return VisitorFlows(lagless_store, config, clock=clock.now)
