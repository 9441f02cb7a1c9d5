# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Recovery keys: what replaces Offen's email-wrapped key-encryption keys when enabled.

Offen lets an operator who forgot their password get their accounts back through a copy of
each KEK wrapped under a key derived from their email address. Whoever reads the database and
guesses an address can derive that key too (argon2 costs them tens of milliseconds a guess).
With ``ServerConfig.recovery_mode`` on, the server writes no such copies. Instead:

- each operator has a **recovery key pair** (X25519). The public key is stored in
  ``account_users.recovery_public_key``; the private key is stored wrapped with AES-GCM under
  the **recovery key**, 32 random bytes shown to the operator once, formatted by
  `format_recovery_key` for people to write down;
- every KEK granted to the operator is also wrapped under their recovery public key
  (``account_user_relationships.recovery_encrypted_key_encryption_key``, see `seal_kek`), so
  the server can wrap a KEK for an operator without being able to unwrap it;
- ``POST /api/recover`` takes the address, the recovery key and a new password: the recovery
  key opens the recovery private key, which opens each KEK, which is wrapped under the new
  password (`Operators.recover`).

The recovery key pair uses X25519 rather than RSA-OAEP for two reasons: the server role never
performs the RSA-OAEP unwrap that opens user secrets (a rule the layering tests check), so
the recovery unwrap is a different primitive on purpose; and a pair costs microseconds to
make, where an RSA-4096 pair costs about a second at every setup, join and request for a new
recovery key. A KEK sealed to a recovery public key is ECIES: an ephemeral X25519 key, HKDF-SHA256
over the shared secret and both public keys, AES-256-GCM (all from ``cryptography``). It is
written as the cipher string ``{1,} b64(ephemeral public key ‖ ciphertext ‖ tag)
b64(nonce)``.

`recovery_report` and `remove_email_keys` move an existing database over: the first tells
which operators still lack a recovery key, the second removes the email-wrapped KEKs once
every operator has one (``offen-core recovery``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field, replace
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from offen_core.crypto import (
    CipherString,
    decrypt_symmetric,
    encrypt_symmetric,
    parse_cipher_string,
    random_bytes,
)
from offen_core.errors import CryptoError, DecryptionError, InvalidInputError, InvalidKeyError
from offen_core.storage import AccountUser, Store

__all__ = [
    "RECOVERY_KEY_BYTES",
    "RecoveryCredentials",
    "RecoveryReport",
    "format_recovery_key",
    "new_recovery_credentials",
    "open_recovery_private_key",
    "parse_recovery_key",
    "recovery_report",
    "remove_email_keys",
    "seal_kek",
    "unseal_kek",
]

_log = logging.getLogger(__name__)

RECOVERY_KEY_BYTES: Final = 32
"""The size of a recovery key: 256 random bits."""

_CHECKSUM_BYTES = 3
_GROUP = 4
_ALGO = 1
_NONCE_BYTES = 12
_X25519_BYTES = 32
_CHECKSUM_LABEL = b"offen_core recovery key checksum\x00"
_HKDF_LABEL = b"offen_core recovery kek\x00"
# People mistake these for letters of the base32 alphabet, which has neither 0 nor 1.
_CONFUSABLE = str.maketrans({"0": "O", "1": "I", "8": "B"})


def _checksum(key: bytes) -> bytes:
    return hashlib.sha256(_CHECKSUM_LABEL + key).digest()[:_CHECKSUM_BYTES]


def format_recovery_key(key: bytes) -> str:
    """Write a recovery key for people: base32 in groups of four, with a checksum.

    The 32 bytes and a 3-byte checksum make 56 base32 characters (``A`` to ``Z``, ``2`` to
    ``7``), written as 14 groups of four joined by hyphens. `parse_recovery_key` reads it
    back, and the checksum catches a mistyped character before any key is tried.

    Args:
        key: The recovery key, `RECOVERY_KEY_BYTES` bytes.

    Returns:
        For example ``ABCD-EFGH-...`` (69 characters).

    Raises:
        InvalidInputError: ``key`` is not 32 bytes.
    """
    if not isinstance(key, bytes) or len(key) != RECOVERY_KEY_BYTES:
        raise InvalidInputError("recoveryKey", f"must be {RECOVERY_KEY_BYTES} bytes")
    text = base64.b32encode(key + _checksum(key)).decode("ascii")
    return "-".join(text[index : index + _GROUP] for index in range(0, len(text), _GROUP))


def parse_recovery_key(text: object) -> bytes:
    """Read a recovery key as `format_recovery_key` wrote it.

    Case, white space and hyphens do not matter; ``0``, ``1`` and ``8`` are read as ``O``,
    ``I`` and ``B``, which they are easily mistaken for.

    Args:
        text: The recovery key as the operator typed it.

    Returns:
        The 32 bytes.

    Raises:
        InvalidInputError: The text is not a recovery key, or its checksum does not match (a
            character was mistyped); field ``recoveryKey``.
    """
    if not isinstance(text, str) or len(text) > 256:
        raise InvalidInputError("recoveryKey", "must be the recovery key as it was shown")
    compact = "".join(text.split()).replace("-", "").upper().translate(_CONFUSABLE)
    try:
        raw = base64.b32decode(compact.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise InvalidInputError(
            "recoveryKey", "is not a recovery key: use the letters and digits as shown"
        ) from None
    if len(raw) != RECOVERY_KEY_BYTES + _CHECKSUM_BYTES:
        raise InvalidInputError("recoveryKey", "has the wrong length: check for missing groups")
    key, checksum = raw[:RECOVERY_KEY_BYTES], raw[RECOVERY_KEY_BYTES:]
    if not hmac.compare_digest(checksum, _checksum(key)):
        raise InvalidInputError("recoveryKey", "does not match its checksum: check for a typo")
    return key


@dataclass(frozen=True)
class RecoveryCredentials:
    """A new recovery key pair for one operator.

    Attributes:
        recovery_key: The 32-byte recovery key to show the operator once; hidden from
            ``repr``.
        public_key: The value of ``account_users.recovery_public_key`` (a JWK of the X25519
            public key).
        encrypted_private_key: The value of ``account_users.recovery_encrypted_private_key``
            (the raw private key under the recovery key, AES-GCM).
    """

    recovery_key: bytes = field(repr=False)
    public_key: str
    encrypted_private_key: str = field(repr=False)

    @property
    def formatted_key(self) -> str:
        """The recovery key as shown to the operator (`format_recovery_key`)."""
        return format_recovery_key(self.recovery_key)

    def apply(self, user: AccountUser) -> AccountUser:
        """Give an operator record these recovery columns.

        Args:
            user: The operator.

        Returns:
            The operator with ``recovery_public_key`` and ``recovery_encrypted_private_key``
            set.
        """
        return replace(
            user,
            recovery_public_key=self.public_key,
            recovery_encrypted_private_key=self.encrypted_private_key,
        )


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _public_jwk(raw: bytes) -> str:
    encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return json.dumps({"crv": "X25519", "kty": "OKP", "x": encoded}, separators=(",", ":"))


def _load_public(text: str) -> X25519PublicKey:
    try:
        jwk = json.loads(text)
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "X25519":
            raise ValueError
        encoded = jwk["x"]
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return X25519PublicKey.from_public_bytes(raw)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidKeyError(
            "a stored recovery public key is not an X25519 JWK; the operator needs a new "
            "recovery key"
        ) from None


def new_recovery_credentials() -> RecoveryCredentials:
    """Make a recovery key and a recovery key pair whose private half it wraps.

    Returns:
        The credentials; show `RecoveryCredentials.formatted_key` to the operator once and
        store the other two fields.
    """
    recovery_key = random_bytes(RECOVERY_KEY_BYTES)
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return RecoveryCredentials(
        recovery_key=recovery_key,
        public_key=_public_jwk(_raw_public(private.public_key())),
        encrypted_private_key=encrypt_symmetric(recovery_key, raw_private),
    )


def open_recovery_private_key(recovery_key: bytes, encrypted_private_key: str) -> X25519PrivateKey:
    """Unwrap an operator's recovery private key with their recovery key.

    Args:
        recovery_key: The 32 bytes of `parse_recovery_key`.
        encrypted_private_key: ``account_users.recovery_encrypted_private_key``.

    Returns:
        The private key.

    Raises:
        DecryptionError: The recovery key is not this operator's (or the column is damaged).
    """
    try:
        raw = decrypt_symmetric(recovery_key, encrypted_private_key)
        return X25519PrivateKey.from_private_bytes(raw)
    except (CryptoError, ValueError):
        raise DecryptionError("the recovery key does not open this operator's keys") from None


def _wrapping_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(algorithm=SHA256(), length=32, salt=None, info=_HKDF_LABEL + ephemeral + recipient)
    return hkdf.derive(shared)


def seal_kek(recovery_public_key: str, kek: bytes) -> str:
    """Wrap a KEK under an operator's recovery public key (ECIES over X25519).

    Anyone may seal; only the holder of the recovery key can unseal.

    Args:
        recovery_public_key: ``account_users.recovery_public_key``.
        kek: The key-encryption key.

    Returns:
        The cipher string for ``recovery_encrypted_key_encryption_key``.

    Raises:
        InvalidKeyError: The public key is not an X25519 JWK.
    """
    recipient = _load_public(recovery_public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = _raw_public(ephemeral.public_key())
    key = _wrapping_key(ephemeral.exchange(recipient), ephemeral_raw, _raw_public(recipient))
    nonce = random_bytes(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, kek, None)
    return str(CipherString(_ALGO, None, ephemeral_raw + sealed, nonce))


def unseal_kek(private_key: X25519PrivateKey, cipher: str) -> bytes:
    """Unwrap a KEK sealed by `seal_kek`.

    Args:
        private_key: From `open_recovery_private_key`.
        cipher: ``recovery_encrypted_key_encryption_key``.

    Returns:
        The KEK.

    Raises:
        DecryptionError: The cipher is damaged or sealed to another key.
    """
    try:
        parsed = parse_cipher_string(cipher)
        if parsed.algo != _ALGO or parsed.nonce is None or len(parsed.cipher) <= _X25519_BYTES:
            raise ValueError
        ephemeral_raw = parsed.cipher[:_X25519_BYTES]
        ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
        recipient = _raw_public(private_key.public_key())
        key = _wrapping_key(private_key.exchange(ephemeral), ephemeral_raw, recipient)
        return AESGCM(key).decrypt(parsed.nonce, parsed.cipher[_X25519_BYTES:], None)
    except (CryptoError, ValueError, InvalidTag):
        raise DecryptionError("a recovery copy of a key does not open") from None


@dataclass(frozen=True)
class RecoveryReport:
    """Where a database stands on the way to recovery keys.

    Attributes:
        operators: Operators who have joined (have a password).
        without_recovery_key: Ids of joined operators who have no recovery key yet; each gets
            one when they ask for it (``Operators.new_recovery_key``) while logged in.
        email_wrapped_keys: Relationships that still hold an email-wrapped KEK.
        pending_email_invitations: Pending invitations whose only copy of the KEK is the
            email-wrapped one (removing it would cancel them).
    """

    operators: int
    without_recovery_key: tuple[str, ...]
    email_wrapped_keys: int
    pending_email_invitations: int

    @property
    def ready(self) -> bool:
        """Whether the email-wrapped KEKs can be removed without anybody losing access."""
        return not self.without_recovery_key and not self.pending_email_invitations


def recovery_report(store: Store) -> RecoveryReport:
    """Tell which operators still lack a recovery key and how many email copies remain.

    Args:
        store: The Store (migrated).

    Returns:
        The report.

    Raises:
        DatabaseUnavailableError: The database cannot be reached.
    """
    joined = 0
    missing: list[str] = []
    email_copies = 0
    pending_only_email = 0
    for user in store.list_account_users():
        if user.hashed_password:
            joined += 1
            if not user.recovery_public_key or not user.recovery_encrypted_private_key:
                missing.append(user.account_user_id)
        for item in store.relationships_for_user(user.account_user_id, include_pending=True):
            if item.email_encrypted_key_encryption_key:
                email_copies += 1
                if item.pending and not item.one_time_encrypted_key_encryption_key:
                    pending_only_email += 1
    return RecoveryReport(joined, tuple(missing), email_copies, pending_only_email)


def remove_email_keys(store: Store) -> int:
    """Remove every email-wrapped KEK, once every operator has a recovery key.

    Offen's server reads these copies for its forgot-password flow and for invitations; after
    the removal, an instance served by Offen again cannot reset passwords by mail. The check
    and the removal run in one transaction.

    Args:
        store: The Store (migrated).

    Returns:
        How many copies were removed.

    Raises:
        InvalidInputError: Some operator has no recovery key yet, or a pending invitation
            depends on its email copy (see `recovery_report`); nothing is removed.
    """
    with store.transaction() as transaction:
        report = recovery_report(transaction)
        if not report.ready:
            raise InvalidInputError(
                "recovery",
                f"{len(report.without_recovery_key)} operator(s) lack a recovery key and "
                f"{report.pending_email_invitations} pending invitation(s) depend on their "
                "email copy; have each operator ask for a recovery key, share those accounts "
                "again, then retry",
            )
        removed = 0
        for user in transaction.list_account_users():
            for item in transaction.relationships_for_user(
                user.account_user_id, include_pending=True
            ):
                if item.email_encrypted_key_encryption_key:
                    transaction.update_relationship(
                        replace(item, email_encrypted_key_encryption_key="")
                    )
                    removed += 1
    _log.debug("removed %d email-wrapped key-encryption keys", removed)
    return removed
