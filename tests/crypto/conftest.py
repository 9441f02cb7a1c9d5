# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the crypto tests: key pairs from the shared pool, never freshly generated."""

from __future__ import annotations

import pytest

from offen_core.crypto import KeyPair
from offen_core.testing import shared_key_pair_pool


@pytest.fixture
def key_pair() -> KeyPair:
    """A 2048-bit key pair from the process-wide pool."""
    return shared_key_pair_pool()()


@pytest.fixture
def other_key_pair(key_pair: KeyPair) -> KeyPair:
    """A pool key pair that differs from ``key_pair``."""
    pairs = shared_key_pair_pool().pairs
    return next(pair for pair in pairs if pair.public_key != key_pair.public_key)
