# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the operator tests: a site built through the shared `store`."""

from __future__ import annotations

import pytest
from opsync_helpers import Site

from offen_core.storage import Store
from offen_core.testing import KeyPairPool, shared_key_pair_pool


@pytest.fixture(scope="session")
def pool() -> KeyPairPool:
    """The shared pool of 2048-bit key pairs."""
    return shared_key_pair_pool()


@pytest.fixture
def site(store: Store, pool: KeyPairPool) -> Site:
    """An account with its key pair, built through the Store."""
    return Site.create(store, pool())
