# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Key rotation: a new key pair for an account, or a new key-encryption key (KEK).

Offen's cipher strings carry a key version that its server never sets, so an account's key
pair can never change. Here an account keeps every key pair it ever had in the added
``account_keys`` table, each private key wrapped under the account's KEK, while ``accounts``
holds the current pair (so Offen's server keeps working with the database):

- **Key-pair rotation** (`rotate_key_pair`): a new pair becomes current with the next
  version; the old pairs stay. The visitor flows stamp the current version on each user
  secret they store (``{1,v}``); an operator tries the stamped key first, then the others, so
  a secret wrapped with the old public key and posted after the rotation still opens.
- **KEK rotation** (`rewrap_account_keys`): after an operator loses access (a lost laptop, a
  colleague who left), a new KEK wraps every private key of the account. The flow in
  `Operators.rotate_kek` also rotates the key pair,
  rewrites the rotating operator's copies, deletes everyone else's and invites again those
  named, so the old KEK opens nothing that is written afterwards.

These functions work inside a transaction of the Store (``store.transaction()``); the flows
of `Operators` check the operator first.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from offen_core.crypto import KeyPair, decrypt_symmetric, encrypt_symmetric
from offen_core.errors import ConflictError, CryptoError, StorageError
from offen_core.storage import Account, AccountKey, Store

__all__ = ["FIRST_KEY_VERSION", "current_key_version", "rewrap_account_keys", "rotate_key_pair"]

FIRST_KEY_VERSION: Final = 1
"""The key version of an account's first key pair in ``account_keys``."""


def _jwk_text(jwk: dict[str, Any]) -> str:
    return json.dumps(jwk, separators=(",", ":"), sort_keys=True)


def _modulus(public_key: str) -> object:
    try:
        value = json.loads(public_key)
    except ValueError:
        return public_key
    return (value.get("n"), value.get("e")) if isinstance(value, dict) else public_key


def _kept_keys(transaction: Store, account: Account) -> list[AccountKey]:
    """The account's kept key pairs, with the current one added when it is missing.

    An account adopted from Offen has no ``account_keys`` rows: its current pair is kept as
    the first version before anything else happens.
    """
    kept = transaction.account_keys(account.account_id)
    if any(key.encrypted_private_key == account.encrypted_private_key for key in kept):
        return kept
    version = max((key.key_version for key in kept), default=FIRST_KEY_VERSION - 1) + 1
    current = AccountKey(
        account_id=account.account_id,
        key_version=version,
        public_key=account.public_key,
        encrypted_private_key=account.encrypted_private_key,
        created=account.created,
    )
    transaction.add_account_key(current)
    return [*kept, current]


def current_key_version(store: Store, account: Account) -> int | None:
    """Give the version of an account's current key pair.

    Args:
        store: The Store.
        account: The account.

    Returns:
        The version, or ``None`` for an account adopted from Offen and never rotated.
    """
    for key in store.account_keys(account.account_id):
        if key.encrypted_private_key == account.encrypted_private_key:
            return key.key_version
    return None


def rotate_key_pair(
    transaction: Store, account: Account, kek: bytes, pair: KeyPair, now: datetime
) -> tuple[Account, AccountKey]:
    """Make a new key pair the account's current one; keep the old ones.

    The new private key is wrapped under the account's KEK, like the others. Call it inside
    ``store.transaction()``.

    Args:
        transaction: The Store bound to a transaction.
        account: The account as read in this transaction.
        kek: The account's key-encryption key.
        pair: The new key pair (from the server's key-pair factory).
        now: When the pair is created.

    Returns:
        The account with its new current pair, and the pair's ``account_keys`` record.

    Raises:
        ConflictError: The pair is one the account has had already (a factory that repeats
            itself), or another rotation of the account ran at the same time.
    """
    kept = _kept_keys(transaction, account)
    public_key = _jwk_text(pair.public_key.to_jwk())
    if any(_modulus(key.public_key) == _modulus(public_key) for key in kept):
        raise ConflictError(
            "the key-pair factory returned a key pair this account has had; rotate again"
        )
    private_key = _jwk_text(pair.private_key.to_jwk())
    key = AccountKey(
        account_id=account.account_id,
        key_version=max(item.key_version for item in kept) + 1,
        public_key=public_key,
        encrypted_private_key=encrypt_symmetric(kek, private_key.encode("utf-8")),
        created=now,
    )
    transaction.add_account_key(key)
    rotated = replace(
        account, public_key=key.public_key, encrypted_private_key=key.encrypted_private_key
    )
    transaction.update_account(rotated)
    return rotated, key


def rewrap_account_keys(
    transaction: Store, account: Account, old_kek: bytes, new_kek: bytes
) -> Account:
    """Wrap every private key of an account under a new KEK.

    The current key in ``accounts`` and every kept key in ``account_keys`` are unwrapped with
    the old KEK and wrapped under the new one; the server holds each private key only for
    that moment. Call it inside ``store.transaction()``; rewrite the operators' copies of the
    KEK in the same transaction.

    Args:
        transaction: The Store bound to a transaction.
        account: The account as read in this transaction.
        old_kek: The KEK the keys are wrapped under now.
        new_kek: The new KEK.

    Returns:
        The account with its current private key under the new KEK.

    Raises:
        StorageError: A private key does not open with the old KEK (the account is damaged);
            nothing is written.
    """
    kept = _kept_keys(transaction, account)
    rewrapped: dict[str, str] = {}
    for key in kept:
        try:
            plaintext = decrypt_symmetric(old_kek, key.encrypted_private_key)
        except CryptoError:
            raise StorageError(
                "a private key of the account does not open with its key-encryption key; "
                "the account is damaged and its KEK cannot be rotated"
            ) from None
        rewrapped[key.encrypted_private_key] = encrypt_symmetric(new_kek, plaintext)
    for key in kept:
        transaction.update_account_key(
            replace(key, encrypted_private_key=rewrapped[key.encrypted_private_key])
        )
    updated = replace(account, encrypted_private_key=rewrapped[account.encrypted_private_key])
    transaction.update_account(updated)
    return updated
