# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Argon2id as Offen uses it: keys derived from credentials, password and email hashes.

The algo version of a salt or hash names its argon2id parameters (argon2 version 0x13, 32-byte
output):

| algo | time | memory | threads | status |
|---|---|---|---|---|
| 1 | 1 | 64 MiB | 4 | deprecated, read only |
| 2 | 4 | 16 MiB | the host's CPU count in Offen | deprecated, read only |
| 3 | 4 | 16 MiB | 4 | current, written |
"""

from __future__ import annotations

import hmac
from typing import Final, NamedTuple

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

from offen_core.crypto._base64 import b64encode
from offen_core.crypto._cipher import decode_chunk, split_cipher_string
from offen_core.crypto._random import random_bytes
from offen_core.errors import (
    CryptoError,
    InvalidInputError,
    MalformedCipherError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "CURRENT_KDF_ALGO",
    "KDF_SALT_BYTES",
    "MAX_SECRET_BYTES",
    "derive_key",
    "hash_password",
    "needs_upgrade",
    "new_kdf_salt",
    "verify_password",
]

CURRENT_KDF_ALGO: Final = 3
"""The argon2id algo version written into new salts and hashes."""

KDF_SALT_BYTES: Final = 16
"""Bytes of randomness in a new KDF salt or password-hash salt (Offen's KDF salts had 8)."""

MAX_SECRET_BYTES: Final = 1024
"""The most UTF-8 bytes of a secret that argon2id is run over.

A UTF-8 character takes at most 4 bytes, so this admits 64 characters of any script (a
password, at most 256 bytes) and any email address of up to 254 characters in any script
(at most 1,016 bytes). Longer input is rejected, never truncated: truncation would make two
different secrets hash alike.
"""

_HASH_BYTES = 32
_MIN_SALT_BYTES = 8
_MAX_THREADS = 255


class _Params(NamedTuple):
    time_cost: int
    memory_cost: int
    parallelism: int | None  # None: the caller's thread count (algo 2)


_PARAMS: Final = {
    1: _Params(time_cost=1, memory_cost=65536, parallelism=4),
    2: _Params(time_cost=4, memory_cost=16384, parallelism=None),
    3: _Params(time_cost=4, memory_cost=16384, parallelism=4),
}
_DEPRECATED: Final = frozenset((1, 2))


def _secret_bytes(secret: object, field: str) -> bytes:
    if not isinstance(secret, str):
        raise InvalidInputError(field, f"must be a str, not {type(secret).__name__}")
    try:
        data = secret.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(field, "must be valid Unicode text (no lone surrogates)") from None
    if len(data) > MAX_SECRET_BYTES:
        raise InvalidInputError(
            field, f"is longer than {MAX_SECRET_BYTES} bytes of UTF-8; it is not hashed"
        )
    return data


def _params_for(algo: int, threads: int, purpose: str) -> _Params:
    params = _PARAMS.get(algo)
    if params is None:
        raise UnsupportedAlgorithmError(
            f"unknown argon2id algo version {algo} for {purpose}; known versions are 1, 2, 3"
        )
    if params.parallelism is None:
        if type(threads) is not int or not 1 <= threads <= _MAX_THREADS:
            raise InvalidInputError("threads", f"must be an integer from 1 to {_MAX_THREADS}")
        return params._replace(parallelism=threads)
    return params


def _argon2(secret: bytes, salt: bytes, params: _Params) -> bytes:
    if len(salt) < _MIN_SALT_BYTES:
        raise MalformedCipherError(
            f"an argon2id salt needs at least {_MIN_SALT_BYTES} bytes, not {len(salt)}"
        )
    assert params.parallelism is not None
    try:
        return hash_secret_raw(
            secret,
            salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=_HASH_BYTES,
            type=Type.ID,
            version=19,
        )
    except HashingError as exc:
        raise CryptoError(f"argon2id failed: {exc}") from None


def _salt_only(value: str, what: str) -> tuple[int, bytes]:
    algo, _, first, second = split_cipher_string(value)
    if second is not None:
        raise MalformedCipherError(f"a {what} has one base64 chunk, not two")
    return algo, decode_chunk(first, what)


def new_kdf_salt() -> str:
    """Make a salt for `derive_key`: ``{3,} b64(16 random bytes)``.

    Offen made 8-byte salts; both sizes are read.

    Returns:
        The versioned salt.
    """
    return f"{{{CURRENT_KDF_ALGO},}} {b64encode(random_bytes(KDF_SALT_BYTES))}"


def derive_key(secret: str, salt: str, *, threads: int = 4) -> bytes:
    """Derive a 32-byte key (AES-256) from a credential, as Offen's ``DeriveKey`` does.

    Offen derives the key that wraps an operator's KEK from the password, and a second one
    from the email address, both with the operator's salt.

    Args:
        secret: The password or email address (hashed as UTF-8, at most
            `MAX_SECRET_BYTES` bytes).
        salt: A versioned salt ``{algo,} b64(salt)`` with algo 1, 2 or 3.
        threads: The argon2 thread count for algo 2 only, whose salts Offen made with the
            host's CPU count (its ``OFFEN_ARGONNUMCPUOVERRIDE``); ignored for 1 and 3.

    Returns:
        The 32 key bytes.

    Raises:
        InvalidInputError: If ``secret`` is not a str or too long, or ``threads`` is out of
            range.
        MalformedCipherError: If ``salt`` is not a versioned salt of at least 8 bytes.
        UnsupportedAlgorithmError: If the salt's algo version is not 1, 2 or 3.
    """
    data = _secret_bytes(secret, "secret")
    algo, salt_bytes = _salt_only(salt, "KDF salt")
    return _argon2(data, salt_bytes, _params_for(algo, threads, "deriving a key"))


def hash_password(secret: str) -> str:
    """Hash a password or email address as ``{3,} b64(hash) b64(salt)``.

    The format is Offen's ``HashString`` with a fresh 16-byte salt. It applies no password
    policy (it also hashes emails): call `check_password_policy` where passwords are set.

    Args:
        secret: The text to hash, non-empty, at most `MAX_SECRET_BYTES` bytes of UTF-8.

    Returns:
        The versioned hash.

    Raises:
        InvalidInputError: If ``secret`` is not a str, empty, or too long.
    """
    data = _secret_bytes(secret, "secret")
    if not data:
        raise InvalidInputError("secret", "must not be empty")
    salt = random_bytes(KDF_SALT_BYTES)
    digest = _argon2(data, salt, _PARAMS[CURRENT_KDF_ALGO])
    return f"{{{CURRENT_KDF_ALGO},}} {b64encode(digest)} {b64encode(salt)}"


def verify_password(secret: str, hashed: str, *, threads: int = 4) -> bool:
    """Check a password or email address against a hash made by `hash_password` or Offen.

    The comparison takes the same time wherever the hashes differ.

    Args:
        secret: The candidate text (at most `MAX_SECRET_BYTES` bytes of UTF-8).
        hashed: The stored ``{algo,} b64(hash) b64(salt)`` with algo 1, 2 or 3.
        threads: The argon2 thread count for algo-2 hashes (see `derive_key`).

    Returns:
        ``True`` if ``secret`` matches, ``False`` if it does not.

    Raises:
        InvalidInputError: If ``secret`` is not a str or too long, or ``threads`` is out of
            range.
        MalformedCipherError: If ``hashed`` is empty or not a two-chunk versioned hash of a
            32-byte hash and a salt of at least 8 bytes.
        UnsupportedAlgorithmError: If the algo version is not 1, 2 or 3.
    """
    data = _secret_bytes(secret, "secret")
    if isinstance(hashed, str) and not hashed:
        raise MalformedCipherError("the stored hash is empty; there is nothing to compare with")
    algo, _, first, second = split_cipher_string(hashed)
    if second is None:
        raise MalformedCipherError("a password hash has two base64 chunks: hash and salt")
    expected = decode_chunk(first, "hash")
    salt = decode_chunk(second, "salt")
    if len(expected) != _HASH_BYTES:
        raise MalformedCipherError(
            f"a password hash holds {_HASH_BYTES} bytes, not {len(expected)}"
        )
    actual = _argon2(data, salt, _params_for(algo, threads, "comparing a hash"))
    return hmac.compare_digest(actual, expected)


def needs_upgrade(hashed_or_salt: str) -> bool:
    """Tell whether a stored hash or KDF salt uses a deprecated argon2id algo version.

    Upgrade such a value when the secret is at hand (at login): rehash the password, or make
    a new salt with `new_kdf_salt` and re-wrap what the derived key wrapped.

    Args:
        hashed_or_salt: A versioned hash ``{algo,} b64 b64`` or salt ``{algo,} b64``.

    Returns:
        ``True`` for algo 1 or 2, ``False`` for algo 3.

    Raises:
        MalformedCipherError: If the value does not follow the grammar.
        UnsupportedAlgorithmError: If the algo version is not 1, 2 or 3.
    """
    algo, _, first, second = split_cipher_string(hashed_or_salt)
    decode_chunk(first, "first")
    if second is not None:
        decode_chunk(second, "second")
    if algo not in _PARAMS:
        raise UnsupportedAlgorithmError(
            f"unknown argon2id algo version {algo}; known versions are 1, 2, 3"
        )
    return algo in _DEPRECATED
