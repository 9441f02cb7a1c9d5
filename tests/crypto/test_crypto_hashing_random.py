# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""HashFast, its salts, and random values as Offen makes them."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core import crypto
from offen_core.errors import (
    InvalidInputError,
    MalformedCipherError,
    OffenError,
    UnsupportedAlgorithmError,
)

_SALT = "{1,} " + base64.b64encode(bytes(range(16))).decode()


def test_hash_fast_is_hex_sha256_of_value_then_salt_bytes() -> None:
    expected = hashlib.sha256(b"user-id" + bytes(range(16))).hexdigest()

    assert crypto.hash_fast("user-id", _SALT) == expected


def test_different_users_and_different_salts_give_different_hashes() -> None:
    other_salt = crypto.new_fast_salt()

    assert crypto.hash_fast("user-a", _SALT) != crypto.hash_fast("user-b", _SALT)
    assert crypto.hash_fast("user-a", _SALT) != crypto.hash_fast("user-a", other_salt)


@pytest.mark.parametrize(
    ("salt", "error"),
    [
        ("{2,} AAAA", UnsupportedAlgorithmError),
        ("{3,} AAAA", UnsupportedAlgorithmError),
        ("{1,} AAAA AAAA", MalformedCipherError),
        ("{1,} ***", MalformedCipherError),
        ("AAAA", MalformedCipherError),
        ("", MalformedCipherError),
    ],
)
def test_invalid_salts_are_errors_not_empty_hashes(salt: str, error: type[OffenError]) -> None:
    with pytest.raises(error):
        crypto.hash_fast("user", salt)


@pytest.mark.parametrize("value", [None, b"user", 3, "\udfff"])
def test_hash_fast_value_must_be_text(value: object) -> None:
    with pytest.raises(InvalidInputError, match="value"):
        crypto.hash_fast(value, _SALT)  # type: ignore[arg-type]


def test_new_fast_salt_is_algo_1_with_16_random_bytes() -> None:
    salts = {crypto.new_fast_salt() for _ in range(16)}

    assert len(salts) == 16
    for salt in salts:
        assert re.fullmatch(r"\{1,\} [A-Za-z0-9+/]{22}==", salt)
        assert len(crypto.parse_cipher_string(salt).cipher) == 16


@given(st.text(max_size=100))
def test_hash_fast_of_any_text_is_64_lowercase_hex_digits(value: str) -> None:
    digest = crypto.hash_fast(value, _SALT)

    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(value.encode() + bytes(range(16))).hexdigest()


def test_random_value_decodes_to_32_bytes_and_does_not_repeat() -> None:
    values = [crypto.random_value(32) for _ in range(16)]

    assert len(set(values)) == 16
    for value in values:
        assert len(base64.b64decode(value, validate=True)) == 32
    assert len(base64.b64decode(crypto.random_value())) == 32


@pytest.mark.parametrize("n", [0, 1, 16, 1000])
def test_random_bytes_gives_the_asked_count(n: int) -> None:
    assert len(crypto.random_bytes(n)) == n


@pytest.mark.parametrize("n", [-1, 2**21, "8", 8.0, None])
def test_random_counts_must_be_sensible(n: object) -> None:
    with pytest.raises(InvalidInputError, match="n"):
        crypto.random_bytes(n)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        crypto.random_value(n)  # type: ignore[arg-type]
