# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The exceptions offen_core raises.

Every exception the library raises on bad input, failed decryption, missing data or refused
access derives from `OffenError`, which is never raised itself: catch it to handle anything
the library rejects. Classes that describe a plainly bad value also derive from `ValueError`.

Messages say what was wrong and what to do. They never contain secrets, keys, passwords,
email addresses, visitor ids or client addresses.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConflictError",
    "CryptoError",
    "DatabaseUnavailableError",
    "DecryptionError",
    "ForbiddenError",
    "InvalidCredentialsError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidTokenError",
    "MalformedCipherError",
    "NotFoundError",
    "OffenError",
    "PasswordPolicyError",
    "StorageError",
    "ThrottleStorageError",
    "ThrottledError",
    "UnknownAccountError",
    "UnknownSecretError",
    "UnsupportedAlgorithmError",
]


class OffenError(Exception):
    """Root of every exception offen_core raises; never raised itself."""


# --- crypto -------------------------------------------------------------------------------


class CryptoError(OffenError):
    """A cryptographic operation could not be carried out."""


class MalformedCipherError(CryptoError, ValueError):
    """A cipher string, hash or salt does not follow the `{algo,keyVersion} b64 [b64]` grammar."""


class UnsupportedAlgorithmError(CryptoError, ValueError):
    """A cipher string, hash or salt names an algorithm version this library does not know."""


class InvalidKeyError(CryptoError, ValueError):
    """A key is malformed, of the wrong type, or too weak (for example RSA under 2048 bits)."""


class DecryptionError(CryptoError):
    """A ciphertext did not authenticate or decrypt under the given key.

    Raised for a wrong key, a tampered ciphertext, tag or nonce, and a payload that does not
    decompress; no plaintext is ever returned in these cases.
    """


# --- input --------------------------------------------------------------------------------


class InvalidInputError(OffenError, ValueError):
    """A value given to the library breaks a rule.

    Attributes:
        field: The name of the offending field, as the caller knows it (for example
            ``"accountId"``), or ``None`` when the value has no name.
        rule: A short statement of the rule that was broken.
    """

    def __init__(self, field: str | None, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}" if field else rule)


class PasswordPolicyError(InvalidInputError):
    """A new password breaks the password policy (8 to 64 characters)."""


# --- storage ------------------------------------------------------------------------------


class StorageError(OffenError):
    """The store could not carry out an operation."""


class NotFoundError(StorageError):
    """A record that the operation needs does not exist."""


class UnknownAccountError(NotFoundError):
    """The account does not exist, or it is retired where an active account is needed."""


class UnknownSecretError(NotFoundError):
    """No user secret is stored for this visitor and account; the client must exchange again."""


class ConflictError(StorageError):
    """The change conflicts with data that exists (a taken name or email, a non-empty instance)."""


class DatabaseUnavailableError(StorageError):
    """The database cannot be reached; the message names the URL without its password."""


# --- authentication -----------------------------------------------------------------------


class AuthError(OffenError):
    """A caller could not be authenticated or is not allowed to do what it asked."""


class InvalidCredentialsError(AuthError):
    """The email address and password (or recovery key) do not match an operator."""


class ForbiddenError(AuthError):
    """The operator is authenticated but may not do this (no access, not an admin)."""


class InvalidTokenError(AuthError):
    """A signed token is malformed, forged, of another kind, or expired."""


# --- throttling ---------------------------------------------------------------------------


class ThrottledError(OffenError):
    """An attempt was refused by a throttle.

    Attributes:
        retry_after: Seconds after which an attempt may be allowed again.
    """

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message or f"too many attempts; retry after {retry_after:.0f} seconds")


class ThrottleStorageError(OffenError):
    """The storage behind a throttle (for example Redis) cannot be reached."""
