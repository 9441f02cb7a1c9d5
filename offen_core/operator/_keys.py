# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""From a login result to an account's private keys: the top of the operator's chain."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from offen_core.crypto import PrivateKey, SymmetricKey, decrypt_symmetric
from offen_core.errors import (
    CryptoError,
    DecryptionError,
    ForbiddenError,
    InvalidInputError,
    InvalidKeyError,
)
from offen_core.events import validate_account_id

__all__ = [
    "AccountGrant",
    "AccountKeys",
    "LoginAccountLike",
    "LoginResultLike",
    "WrappedPrivateKey",
    "grants_from_login",
    "unlock_keys",
]


@runtime_checkable
class LoginAccountLike(Protocol):
    """One account of a login result as `offen_core.server` returns it (typed)."""

    @property
    def account_id(self) -> str:
        """The account's id."""

    @property
    def account_name(self) -> str:
        """The account's name."""

    @property
    def key_encryption_key(self) -> bytes | None:
        """The account's KEK (32 bytes), or ``None`` when the result carries no keys."""


@runtime_checkable
class LoginResultLike(Protocol):
    """A login result as `offen_core.server.Operators.login` returns it (typed)."""

    @property
    def accounts(self) -> Sequence[LoginAccountLike]:
        """The accounts the operator may open."""


@dataclass(frozen=True)
class AccountGrant:
    """What a login grants for one account: its id, name and key-encryption key.

    Attributes:
        account_id: The account's id (lower case).
        account_name: The account's name as the login result gave it.
        key_encryption_key: The account's KEK as a key object; hidden from ``repr``.
    """

    account_id: str
    account_name: str
    key_encryption_key: SymmetricKey = field(repr=False)


def _grant_from_mapping(entry: object) -> AccountGrant:
    if not isinstance(entry, Mapping):
        raise InvalidInputError("accounts", "must be a list of JSON objects")
    account_id = validate_account_id(entry.get("accountId"), "accounts.accountId")
    jwk = entry.get("keyEncryptionKey")
    if jwk is None:
        raise InvalidInputError(
            "accounts.keyEncryptionKey",
            "is missing: use the result of POST /api/login, not of GET /api/login",
        )
    try:
        kek = SymmetricKey.from_jwk(jwk)
    except InvalidKeyError:
        raise InvalidInputError(
            "accounts.keyEncryptionKey", "must be an oct JWK of an AES key"
        ) from None
    name = entry.get("accountName")
    return AccountGrant(account_id, name if isinstance(name, str) else "", kek)


def _grant_from_object(entry: LoginAccountLike) -> AccountGrant:
    account_id = validate_account_id(entry.account_id, "accounts.accountId")
    raw = entry.key_encryption_key
    if raw is None:
        raise InvalidInputError(
            "accounts.keyEncryptionKey",
            "is missing: use the result of a login, not of a login status",
        )
    try:
        kek = SymmetricKey(raw)
    except InvalidKeyError:
        raise InvalidInputError("accounts.keyEncryptionKey", "must be 16, 24 or 32 bytes") from None
    return AccountGrant(account_id, entry.account_name, kek)


def grants_from_login(login: LoginResultLike | Mapping[str, Any]) -> dict[str, AccountGrant]:
    """Read each account's key-encryption key out of a login result.

    Args:
        login: Either the JSON of ``POST /api/login`` as a mapping (what
            `offen_core.client.http.OffenClient.login` returns: ``accounts`` with each
            ``keyEncryptionKey`` as an ``oct`` JWK), or the typed result of
            `offen_core.server.Operators.login` (``accounts`` with ``key_encryption_key``
            bytes).

    Returns:
        The grants by account id (lower case). An operator without accounts gets ``{}``.

    Raises:
        InvalidInputError: The login result is not in one of those shapes or carries no
            keys (the answer of ``GET /api/login``).
    """
    if isinstance(login, Mapping):
        entries: Iterable[object] = login.get("accounts") or ()
        if not isinstance(entries, list | tuple):
            raise InvalidInputError("accounts", "must be a list or null")
        grants = [_grant_from_mapping(entry) for entry in entries]
    elif isinstance(login, LoginResultLike):
        grants = [_grant_from_object(entry) for entry in login.accounts]
    else:
        raise InvalidInputError(
            "login", "must be a login result: the JSON of POST /api/login or the server's result"
        )
    return {grant.account_id: grant for grant in grants}


@dataclass(frozen=True)
class WrappedPrivateKey:
    """An account private key as stored: encrypted under the account's KEK.

    Attributes:
        encrypted_private_key: The cipher string of the private JWK under the KEK.
        key_version: The version stamped on user secrets wrapped with its public key, or
            ``None`` when unknown (the current key of an account never rotated).
    """

    encrypted_private_key: str
    key_version: int | None = None


@dataclass(frozen=True)
class AccountKeys:
    """An account's unlocked private keys: the current one first, then older ones.

    Attributes:
        account_id: The account's id.
        keys: ``(key version or None, private key)`` pairs, the current key first. Hidden
            from ``repr``.
    """

    account_id: str
    keys: tuple[tuple[int | None, PrivateKey], ...] = field(repr=False)

    def knows(self, key_version: int | None) -> bool:
        """Tell whether a secret stamped with ``key_version`` has its key here.

        Args:
            key_version: The version in the secret's cipher string, or ``None`` (no stamp:
                any key may open it, so it counts as known).

        Returns:
            Whether the version is ``None`` or one of the keys'.
        """
        return key_version is None or any(version == key_version for version, _ in self.keys)

    def ordered_for(self, key_version: int | None) -> tuple[PrivateKey, ...]:
        """Give the keys in the order to try for a secret stamped with ``key_version``.

        The key of that version comes first (a client may have fetched the public key just
        before a rotation, so the others follow); without a stamp, the current key first.

        Args:
            key_version: The version in the secret's cipher string, or ``None``.

        Returns:
            Every key, the likeliest first.
        """
        if key_version is None:
            return tuple(key for _, key in self.keys)
        first = [key for version, key in self.keys if version == key_version]
        rest = [key for version, key in self.keys if version != key_version]
        return (*first, *rest)


def _unwrap_private_key(kek: SymmetricKey, wrapped: str) -> PrivateKey:
    try:
        plaintext = decrypt_symmetric(kek, wrapped)
    except DecryptionError:
        raise DecryptionError(
            "the key-encryption key of the login does not open the account's private key; "
            "log in again (the operator's access may have been rotated)"
        ) from None
    except CryptoError:
        raise InvalidKeyError(
            "the account's encrypted private key is not an AES-GCM cipher string; the "
            "account is damaged"
        ) from None
    try:
        jwk = json.loads(plaintext)
    except ValueError:
        raise InvalidKeyError(
            "the account's private key is not a JWK; the account is damaged"
        ) from None
    # The JWK came out of an authenticated decryption under the KEK, so the costly primality
    # checks are skipped (see the concepts page "Key hierarchy and formats").
    return PrivateKey.from_jwk(jwk, validate=False)


def unlock_keys(
    grant: AccountGrant, current: str, older: Iterable[WrappedPrivateKey] = ()
) -> AccountKeys:
    """Unwrap an account's private keys with the KEK of a login.

    Each key is imported once, without the primality checks (it came out of AES-GCM under
    the KEK, see the concepts page); keep the result for the session.

    Args:
        grant: The account's grant from `grants_from_login`.
        current: The account's current encrypted private key.
        older: Older key pairs of the account after a rotation. An entry equal to
            ``current`` gives the current key its version.

    Returns:
        The unlocked keys, the current one first.

    Raises:
        DecryptionError: The KEK does not open the current key.
        InvalidKeyError: A key is not a usable RSA private JWK.
    """
    current_version: int | None = None
    others: list[tuple[int | None, PrivateKey]] = []
    for entry in older:
        if entry.encrypted_private_key == current:
            current_version = entry.key_version
            continue
        try:
            others.append(
                (
                    entry.key_version,
                    _unwrap_private_key(grant.key_encryption_key, entry.encrypted_private_key),
                )
            )
        except CryptoError:
            # An older key the KEK cannot open only costs the secrets wrapped with it; they
            # are counted as undecryptable.
            continue
    head = (current_version, _unwrap_private_key(grant.key_encryption_key, current))
    others.sort(key=lambda item: -(item[0] or 0))
    return AccountKeys(grant.account_id, (head, *others))


def require_grant(grants: Mapping[str, AccountGrant], account_id: str) -> AccountGrant:
    """Find the grant of one account.

    Args:
        grants: From `grants_from_login`.
        account_id: The account's id.

    Returns:
        The grant.

    Raises:
        InvalidInputError: ``account_id`` is not an account id.
        ForbiddenError: The login gives no access to that account.
    """
    account_id = validate_account_id(account_id)
    grant = grants.get(account_id)
    if grant is None:
        raise ForbiddenError(
            "the login result gives no access to this account; check the account id or ask "
            "an admin to share it"
        )
    return grant
