# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's ``HashFast``: the salted SHA-256 that turns a visitor id into a secret id."""

from __future__ import annotations

import hashlib
from typing import Final

from offen_core.crypto._base64 import b64encode
from offen_core.crypto._cipher import decode_chunk, split_cipher_string
from offen_core.crypto._random import random_bytes
from offen_core.errors import InvalidInputError, MalformedCipherError, UnsupportedAlgorithmError

__all__ = ["FAST_HASH_ALGO", "hash_fast", "new_fast_salt"]

FAST_HASH_ALGO: Final = 1
"""The algo version of ``HashFast`` salts: SHA-256, the only one Offen defines."""

_FAST_SALT_BYTES = 16


def new_fast_salt() -> str:
    """Make a salt for `hash_fast` (an account's ``user_salt``): ``{1,} b64(16 random bytes)``.

    Returns:
        The versioned salt.
    """
    return f"{{{FAST_HASH_ALGO},}} {b64encode(random_bytes(_FAST_SALT_BYTES))}"


def hash_fast(value: str, salt: str) -> str:
    """Hash a visitor id for an account, as Offen's ``HashFast`` does.

    The result is the lowercase hex SHA-256 of the UTF-8 of ``value`` followed by the raw
    salt bytes: the secret id under which the visitor's user secret is stored.

    Args:
        value: The text to hash (Offen's visitor ids are UUIDs); may be empty.
        salt: A versioned salt ``{1,} b64(salt)``.

    Returns:
        64 lowercase hex digits.

    Raises:
        InvalidInputError: If ``value`` is not a str of valid Unicode.
        MalformedCipherError: If ``salt`` is not a one-chunk versioned salt.
        UnsupportedAlgorithmError: If the salt's algo version is not 1 (SHA-256).
    """
    if not isinstance(value, str):
        raise InvalidInputError("value", f"must be a str, not {type(value).__name__}")
    algo, _, first, second = split_cipher_string(salt)
    if algo != FAST_HASH_ALGO:
        raise UnsupportedAlgorithmError(
            f"unknown fast-hash algo version {algo}; only {FAST_HASH_ALGO} (SHA-256) exists"
        )
    if second is not None:
        raise MalformedCipherError("a fast-hash salt has one base64 chunk, not two")
    salt_bytes = decode_chunk(first, "salt")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            "value", "must be valid Unicode text (no lone surrogates)"
        ) from None
    return hashlib.sha256(data + salt_bytes).hexdigest()
