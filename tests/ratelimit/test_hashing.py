# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Keyed hashing of identifiers."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from offen_core.errors import InvalidInputError
from offen_core.ratelimit import IdentifierHasher

KEY = b"0123456789abcdef-shared"


def test_shared_key_gives_the_same_hash_in_every_instance() -> None:
    first, second = IdentifierHasher(KEY), IdentifierHasher(KEY)
    assert first.hash("login", "ada@example.com") == second.hash("login", "ada@example.com")
    assert first.shared


def test_hash_is_an_hmac_sha256_of_rule_and_identifier() -> None:
    expected = hmac.new(KEY, b"login\x00ada@example.com", hashlib.sha256).hexdigest()[:32]
    assert IdentifierHasher(KEY).hash("login", "ada@example.com") == expected


def test_long_keys_are_hashed_first_as_hmac_does() -> None:
    key = bytes(range(100))
    expected = hmac.new(key, b"r\x00x", hashlib.sha256).hexdigest()[:32]
    assert IdentifierHasher(key).hash("r", "x") == expected


def test_hash_hides_the_identifier_and_separates_rules() -> None:
    hasher = IdentifierHasher(KEY)
    value = hasher.hash("login", "ada@example.com")
    assert "ada" not in value
    assert value != hasher.hash("join", "ada@example.com")
    assert value != hasher.hash("login", "bob@example.com")


def test_random_key_differs_per_instance_and_is_not_shared() -> None:
    first, second = IdentifierHasher(), IdentifierHasher()
    assert not first.shared
    assert first.hash("login", "x") != second.hash("login", "x")


def test_short_key_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        IdentifierHasher(b"short")


def test_repr_hides_the_key() -> None:
    assert "0123" not in repr(IdentifierHasher(KEY))
