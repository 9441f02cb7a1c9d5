# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's encryption schemes: cipher strings, AES-GCM, RSA-OAEP, argon2id and hashes.

Everything here reads and writes Offen's formats byte for byte (see the concepts page "Key
hierarchy and formats"), with its weak spots fixed where that keeps compatibility: strict
parsing, constant-time comparison, 16-byte KDF salts, a byte cap on hashed input.

The module does no I/O and keeps no state beyond the key objects you hold. Every error it
raises on bad input is an `offen_core.errors.OffenError`; a failed decryption never returns
data.

Example:
    >>> from offen_core import crypto
    >>> secret = crypto.generate_symmetric_key()
    >>> cipher = crypto.encrypt_symmetric(secret, b'{"type":"PAGEVIEW"}')
    >>> crypto.decrypt_symmetric(secret, cipher)
    b'{"type":"PAGEVIEW"}'
"""

from offen_core.crypto._asymmetric import (
    MAX_RSA_BITS,
    MIN_RSA_BITS,
    RSA_OAEP_ALGO,
    KeyPair,
    PrivateKey,
    PrivateKeyLike,
    PublicKey,
    PublicKeyLike,
    decrypt_asymmetric,
    encrypt_asymmetric,
    generate_key_pair,
)
from offen_core.crypto._cipher import CipherString, parse_cipher_string
from offen_core.crypto._hashing import FAST_HASH_ALGO, hash_fast, new_fast_salt
from offen_core.crypto._kdf import (
    CURRENT_KDF_ALGO,
    KDF_SALT_BYTES,
    MAX_SECRET_BYTES,
    derive_key,
    hash_password,
    needs_upgrade,
    new_kdf_salt,
    verify_password,
)
from offen_core.crypto._password import (
    MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS,
    check_password_policy,
)
from offen_core.crypto._random import random_bytes, random_value
from offen_core.crypto._symmetric import (
    AES_GCM_ALGO,
    SymmetricKey,
    SymmetricKeyLike,
    decrypt_symmetric,
    encrypt_symmetric,
    generate_symmetric_key,
)

__all__ = [
    "AES_GCM_ALGO",
    "CURRENT_KDF_ALGO",
    "FAST_HASH_ALGO",
    "KDF_SALT_BYTES",
    "MAX_PASSWORD_CHARS",
    "MAX_RSA_BITS",
    "MAX_SECRET_BYTES",
    "MIN_PASSWORD_CHARS",
    "MIN_RSA_BITS",
    "RSA_OAEP_ALGO",
    "CipherString",
    "KeyPair",
    "PrivateKey",
    "PrivateKeyLike",
    "PublicKey",
    "PublicKeyLike",
    "SymmetricKey",
    "SymmetricKeyLike",
    "check_password_policy",
    "decrypt_asymmetric",
    "decrypt_symmetric",
    "derive_key",
    "encrypt_asymmetric",
    "encrypt_symmetric",
    "generate_key_pair",
    "generate_symmetric_key",
    "hash_fast",
    "hash_password",
    "needs_upgrade",
    "new_fast_salt",
    "new_kdf_salt",
    "parse_cipher_string",
    "random_bytes",
    "random_value",
    "verify_password",
]
