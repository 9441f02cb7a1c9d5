# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""offen_core.testing.KeyPairPool: lazy, shared, round robin, thread-safe."""

from __future__ import annotations

import threading
from unittest import mock

import pytest

from offen_core import crypto, testing
from offen_core.errors import InvalidInputError
from offen_core.testing import KeyPairPool, shared_key_pair_pool


def test_pool_generates_nothing_until_first_called() -> None:
    with mock.patch.object(testing, "generate_key_pair") as generate:
        pool = KeyPairPool(size=3)
        generate.assert_not_called()

        pool()

    assert generate.call_count == 3
    assert all(call.args == (2048,) for call in generate.call_args_list)


def test_pool_hands_out_its_pairs_round_robin() -> None:
    pairs = shared_key_pair_pool().pairs

    with mock.patch.object(testing, "generate_key_pair", side_effect=list(pairs[:2])):
        pool = KeyPairPool(size=2)
        handed = [pool() for _ in range(5)]

    assert handed == [pairs[0], pairs[1], pairs[0], pairs[1], pairs[0]]


def test_pool_generates_once_under_concurrent_first_calls() -> None:
    pair = shared_key_pair_pool().pairs[0]
    pool = KeyPairPool(size=1)
    results: list[crypto.KeyPair] = []

    with mock.patch.object(testing, "generate_key_pair", return_value=pair) as generate:
        threads = [threading.Thread(target=lambda: results.append(pool())) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert generate.call_count == 1
    assert results == [pair] * 8


def test_shared_pool_is_one_pool_of_distinct_working_2048_bit_pairs() -> None:
    pool = shared_key_pair_pool()

    assert shared_key_pair_pool() is pool
    assert (pool.size, pool.bits) == (4, 2048)
    publics = {pair.public_key for pair in pool.pairs}
    assert len(publics) == 4
    for pair in pool.pairs:
        assert isinstance(pair, crypto.KeyPair)
        assert pair.private_key.public_key() == pair.public_key
        cipher = crypto.encrypt_asymmetric(pair.public_key, b"x")
        assert crypto.decrypt_asymmetric(pair.private_key, cipher) == b"x"


def test_pool_refuses_to_be_empty() -> None:
    with pytest.raises(ValueError, match="at least one"):
        KeyPairPool(size=0)


def test_pool_of_unusable_size_fails_when_first_called() -> None:
    pool = KeyPairPool(size=1, bits=1024)

    with pytest.raises(InvalidInputError, match="bits"):
        pool()


def test_pool_repr_names_its_shape() -> None:
    assert repr(KeyPairPool(size=2, bits=3072)) == "KeyPairPool(size=2, bits=3072)"
