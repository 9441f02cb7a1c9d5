# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the operator flow tests: the flows over the shared `store`, credentials."""

from __future__ import annotations

import pytest
from operator_helpers import (
    BASE_URL,
    SECRET,
    Argon2Counter,
    Credentials,
    RecordingMailer,
)

from offen_core.crypto import KeyPair
from offen_core.server import ServerConfig
from offen_core.server import operators as operators_module
from offen_core.server.operators import Operators
from offen_core.storage import Store
from offen_core.testing import FakeClock, KeyPairPool, shared_key_pair_pool


@pytest.fixture(scope="session")
def pool() -> KeyPairPool:
    """The shared pool of 2048-bit key pairs."""
    return shared_key_pair_pool()


@pytest.fixture
def pair(pool: KeyPairPool) -> KeyPair:
    """One key pair from the pool."""
    return pool()


@pytest.fixture(scope="session")
def ann() -> Credentials:
    """A super-admin's credentials, hashed once per session."""
    return Credentials.make("ann@example.org", "ann's password")


@pytest.fixture(scope="session")
def bob() -> Credentials:
    """Another operator's credentials, hashed once per session."""
    return Credentials.make("bob@example.org", "bob's password")


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands still."""
    return FakeClock()


@pytest.fixture
def config() -> ServerConfig:
    """A server configuration with a base URL for mail links."""
    return ServerConfig(SECRET, base_url=BASE_URL)


@pytest.fixture
def mailer() -> RecordingMailer:
    """A mailer that records what it is given."""
    return RecordingMailer()


@pytest.fixture
def flows(
    store: Store, config: ServerConfig, clock: FakeClock, mailer: RecordingMailer, pool: KeyPairPool
) -> Operators:
    """The operator flows over the test's Store."""
    return Operators(store, config, mailer=mailer, key_pair_factory=pool, clock=clock.now)


@pytest.fixture
def argon2(monkeypatch: pytest.MonkeyPatch) -> Argon2Counter:
    """Count the argon2 runs the flows make (verify, derive, hash)."""
    counter = Argon2Counter()
    for name in ("verify_password", "derive_key", "hash_password"):
        monkeypatch.setattr(
            operators_module, name, counter.wrap(name, getattr(operators_module, name))
        )
    return counter
