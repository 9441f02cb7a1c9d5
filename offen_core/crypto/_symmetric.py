# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""AES-GCM as Offen uses it: user secrets, payloads, KEKs and wrapped private keys.

Offen's symmetric algo version 1 is AES-GCM with a 128-bit tag appended to the ciphertext,
no associated data, and the nonce in the cipher string's second chunk. Its browser code
writes 12-byte nonces, the fallback for browsers without WebCrypto 16-byte ones; both are
read, 12-byte nonces are written.
"""

from __future__ import annotations

import hmac
import zlib
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from offen_core.crypto._base64 import b64decode, b64encode, b64url_encode
from offen_core.crypto._cipher import split_cipher_string
from offen_core.crypto._jwk import as_members, bytes_member, check_key_ops, optional_str
from offen_core.crypto._random import random_bytes
from offen_core.errors import (
    DecryptionError,
    InvalidInputError,
    InvalidKeyError,
    MalformedCipherError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "AES_GCM_ALGO",
    "SymmetricKey",
    "SymmetricKeyLike",
    "decrypt_symmetric",
    "encrypt_symmetric",
    "generate_symmetric_key",
]

AES_GCM_ALGO: Final = 1
"""The symmetric algo version of AES-GCM, the only one Offen defines."""

_NONCE_SIZE = 12
_READABLE_NONCE_SIZES = frozenset((12, 16))
_ALG_BY_SIZE = {16: "A128GCM", 24: "A192GCM", 32: "A256GCM"}
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class SymmetricKey:
    """An AES key (128, 192 or 256 bits) for Offen's AES-GCM cipher strings.

    Import a key once and reuse it: the object keeps the prepared cipher, so each decryption
    costs only the AES work. ``repr()`` and ``str()`` show the key size, never the key.
    Two keys compare equal when they hold the same bytes (compared in constant time).

    Args:
        raw: The key bytes: 16, 24 or 32 of them.

    Raises:
        InvalidKeyError: If ``raw`` is not bytes of one of those lengths.
    """

    __slots__ = ("_aead", "_raw")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise InvalidKeyError(f"an AES key must be bytes, not {type(raw).__name__}")
        raw = bytes(raw)
        if len(raw) not in _ALG_BY_SIZE:
            raise InvalidKeyError(
                f"an AES key must be 16, 24 or 32 bytes long, not {len(raw)} bytes"
            )
        self._raw = raw
        self._aead = AESGCM(raw)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str) -> SymmetricKey:
        """Import an AES key from a JWK.

        Accepts the shapes Offen meets: WebCrypto's export (``alg``, ``ext``, ``k``,
        ``key_ops``, ``kty``), the fallback client's ``{"kty", "k"}`` and the server's KEK
        ``{"kty": "oct", "k"}``.

        Args:
            jwk: The JWK as a mapping or JSON text.

        Returns:
            The key.

        Raises:
            InvalidKeyError: If ``jwk`` is not an ``oct`` JWK of 16, 24 or 32 bytes, its
                ``alg`` does not match the key size, or its ``key_ops`` lack ``encrypt`` or
                ``decrypt`` (WebCrypto would not import it for Offen's use).
        """
        members = as_members(jwk, "AES key")
        if members.get("kty") != "oct":
            raise InvalidKeyError('AES key JWK must have "kty": "oct"')
        raw = bytes_member(members, "k", "AES key")
        if len(raw) not in _ALG_BY_SIZE:
            raise InvalidKeyError(f"AES key JWK holds {len(raw)} bytes; expected 16, 24 or 32")
        alg = optional_str(members, "alg", "AES key")
        if alg is not None and alg != _ALG_BY_SIZE[len(raw)]:
            raise InvalidKeyError(
                f'AES key JWK "alg" must be "{_ALG_BY_SIZE[len(raw)]}" for a {len(raw) * 8}-bit key'
            )
        check_key_ops(members, "AES key", all_of=("encrypt", "decrypt"))
        return cls(raw)

    def to_jwk(self) -> dict[str, Any]:
        """Export the key as WebCrypto does, so Offen's browser code can import it.

        Returns:
            ``{"alg": "A128GCM" | "A192GCM" | "A256GCM", "ext": True, "k": <base64url>,
            "key_ops": ["encrypt", "decrypt"], "kty": "oct"}``.
        """
        return {
            "alg": _ALG_BY_SIZE[len(self._raw)],
            "ext": True,
            "k": b64url_encode(self._raw),
            "key_ops": ["encrypt", "decrypt"],
            "kty": "oct",
        }

    def to_bytes(self) -> bytes:
        """Return the raw key bytes."""
        return self._raw

    @property
    def bits(self) -> int:
        """The key size in bits: 128, 192 or 256."""
        return len(self._raw) * 8

    def __repr__(self) -> str:
        return f"SymmetricKey(bits={self.bits})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SymmetricKey):
            return NotImplemented
        return hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash((SymmetricKey, self._raw))

    def __reduce__(self) -> tuple[type[SymmetricKey], tuple[bytes]]:
        return (SymmetricKey, (self._raw,))


SymmetricKeyLike: TypeAlias = SymmetricKey | bytes | Mapping[str, Any] | str
"""What the symmetric functions accept as a key: a key object, raw bytes or a JWK."""


def generate_symmetric_key(bits: int = 128) -> SymmetricKey:
    """Create a random AES key, as Offen's browser code makes user secrets.

    Args:
        bits: 128 (Offen's user secrets), 192 or 256 (Offen's KEKs).

    Returns:
        A new key.

    Raises:
        InvalidInputError: If ``bits`` is not 128, 192 or 256.
    """
    if type(bits) is not int or bits not in (128, 192, 256):
        raise InvalidInputError("bits", "an AES key has 128, 192 or 256 bits")
    return SymmetricKey(random_bytes(bits // 8))


def as_symmetric_key(key: object) -> SymmetricKey:
    """Return ``key`` as a `SymmetricKey`, importing raw bytes or a JWK.

    Raises:
        InvalidKeyError: If ``key`` is none of the accepted shapes or not a valid AES key.
    """
    if isinstance(key, SymmetricKey):
        return key
    if isinstance(key, bytes | bytearray | memoryview):
        return SymmetricKey(bytes(key))
    return SymmetricKey.from_jwk(key)  # type: ignore[arg-type]


def encrypt_symmetric(key: SymmetricKeyLike, plaintext: bytes, *, compress: bool = False) -> str:
    """Encrypt bytes with AES-GCM into an Offen cipher string ``{1,} b64(ct‖tag) b64(nonce)``.

    Args:
        key: A `SymmetricKey`, raw key bytes (16, 24 or 32) or an AES JWK.
        plaintext: The bytes to encrypt (Offen encrypts the UTF-8 of a JSON text).
        compress: Gzip the plaintext first, as Offen's browser code does for its local
            aggregate cache when asked to "deflate". The cipher string does not record this;
            store the flag beside it and pass it to `decrypt_symmetric`.

    Returns:
        The cipher string, with a fresh 12-byte nonce.

    Raises:
        InvalidKeyError: If ``key`` is not a usable AES key.
        InvalidInputError: If ``plaintext`` is not bytes.
    """
    aead = as_symmetric_key(key)._aead
    if not isinstance(plaintext, bytes | bytearray | memoryview):
        raise InvalidInputError(
            "plaintext", f"must be bytes, not {type(plaintext).__name__}; encode text as UTF-8"
        )
    data = bytes(plaintext)
    if compress:
        compressor = zlib.compressobj(wbits=_GZIP_WBITS)
        data = compressor.compress(data) + compressor.flush()
    nonce = random_bytes(_NONCE_SIZE)
    sealed = aead.encrypt(nonce, data, None)
    return f"{{{AES_GCM_ALGO},}} {b64encode(sealed)} {b64encode(nonce)}"


def decrypt_symmetric(key: SymmetricKeyLike, cipher: str, *, compressed: bool = False) -> bytes:
    """Decrypt an Offen AES-GCM cipher string.

    Any key version in the header is accepted and ignored, as Offen does. Nonces of 12 bytes
    (WebCrypto) and 16 bytes (Offen's fallback client) are read.

    Args:
        key: A `SymmetricKey`, raw key bytes (16, 24 or 32) or an AES JWK. Pass a key object
            when decrypting many values: a JWK is imported again on every call.
        cipher: The cipher string ``{1,[keyVersion]} b64(ct‖tag) b64(nonce)``.
        compressed: Gunzip the plaintext after decryption (the flag stored beside the
            cipher string by whoever encrypted it with ``compress=True``).

    Returns:
        The plaintext bytes.

    Raises:
        MalformedCipherError: If ``cipher`` does not follow the grammar, lacks its nonce, or
            the nonce is neither 12 nor 16 bytes long.
        UnsupportedAlgorithmError: If the algo version is not 1 (AES-GCM).
        InvalidKeyError: If ``key`` is not a usable AES key.
        DecryptionError: If the ciphertext does not authenticate under ``key`` (wrong key,
            tampered ciphertext, tag or nonce), or ``compressed`` is set and the plaintext is
            not a single gzip member.
    """
    aead = key._aead if type(key) is SymmetricKey else as_symmetric_key(key)._aead

    algo, _, first, second = split_cipher_string(cipher)
    if algo != AES_GCM_ALGO:
        raise UnsupportedAlgorithmError(
            f"unknown symmetric algo version {algo}; only {AES_GCM_ALGO} (AES-GCM) exists"
        )
    if second is None:
        raise MalformedCipherError("an AES-GCM cipher string needs a nonce as its second chunk")
    try:
        sealed = b64decode(first)
        nonce = b64decode(second)
    except ValueError:
        raise MalformedCipherError(
            "the AES-GCM cipher string holds a chunk that is not standard base64 with padding"
        ) from None
    if len(nonce) not in _READABLE_NONCE_SIZES:
        raise MalformedCipherError(
            f"an AES-GCM nonce must be 12 or 16 bytes long, not {len(nonce)} bytes"
        )

    try:
        plaintext = aead.decrypt(nonce, sealed, None)
    except InvalidTag:
        raise DecryptionError(
            "the ciphertext does not authenticate: wrong key, or the value was altered"
        ) from None
    if compressed:
        return _gunzip(plaintext)
    return plaintext


def _gunzip(data: bytes) -> bytes:
    decompressor = zlib.decompressobj(wbits=_GZIP_WBITS)
    try:
        out = decompressor.decompress(data)
    except zlib.error:
        raise DecryptionError(
            "the plaintext is not gzip data; was it encrypted without compression?"
        ) from None
    if not decompressor.eof or decompressor.unused_data:
        raise DecryptionError(
            "the plaintext is not a single complete gzip member; check the compressed flag"
        )
    return out
