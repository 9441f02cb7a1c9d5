# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's versioned cipher strings: ``{algo,keyVersion} b64(cipher) [b64(nonce)]``.

Every ciphertext, hash and salt Offen stores is one of these strings. The grammar accepted
here is the anchored one of Offen's Go server, tightened to what Offen writes::

    cipher-string = "{" number "," [number] "}" SP b64 [SP b64]
    number        = "0" / (%x31-39 *8DIGIT)          ; no sign, no leading zeros, <= 9 digits
    b64           = canonical standard base64 with "=" padding, at least one byte

Nothing may precede or follow it: no other white space, no third chunk, no empty chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from offen_core.crypto._base64 import b64decode, b64encode
from offen_core.errors import MalformedCipherError

__all__ = ["CipherString", "parse_cipher_string"]

_MAX_DIGITS = 9
_GRAMMAR = "'{algo,keyVersion} base64 [base64]'"


@dataclass(frozen=True, slots=True)
class CipherString:
    """One parsed versioned cipher string.

    What ``algo`` means depends on where the string is used: AES-GCM for payloads and wrapped
    keys, RSA-OAEP for user secrets, an argon2id parameter set for password hashes and KDF
    salts, SHA-256 for fast-hash salts.

    Attributes:
        algo: The algorithm version, a non-negative integer.
        key_version: The key version, or ``None`` when the string carries none (Offen's own
            clients never write one).
        cipher: The bytes of the first chunk: ciphertext (with its tag), hash or salt.
        nonce: The bytes of the optional second chunk (an AES-GCM nonce, or the salt of a
            password hash), or ``None``.

    Raises:
        MalformedCipherError: If a field cannot be written in the grammar (a negative or
            too large number, an empty chunk, a value of the wrong type).
    """

    algo: int
    key_version: int | None
    cipher: bytes = field(repr=False)
    nonce: bytes | None = field(repr=False)

    def __post_init__(self) -> None:
        _check_number("algo", self.algo)
        if self.key_version is not None:
            _check_number("key_version", self.key_version)
        for name, chunk in (("cipher", self.cipher), ("nonce", self.nonce)):
            if chunk is None and name == "nonce":
                continue
            if not isinstance(chunk, bytes) or not chunk:
                raise MalformedCipherError(f"CipherString.{name} must be non-empty bytes")

    def __str__(self) -> str:
        version = "" if self.key_version is None else str(self.key_version)
        text = f"{{{self.algo},{version}}} {b64encode(self.cipher)}"
        if self.nonce is not None:
            text += " " + b64encode(self.nonce)
        return text

    def __repr__(self) -> str:
        nonce = "None" if self.nonce is None else f"<{len(self.nonce)} bytes>"
        return (
            f"CipherString(algo={self.algo}, key_version={self.key_version}, "
            f"cipher=<{len(self.cipher)} bytes>, nonce={nonce})"
        )


def _check_number(name: str, value: object) -> None:
    if type(value) is not int or not 0 <= value < 10**_MAX_DIGITS:
        raise MalformedCipherError(
            f"CipherString.{name} must be an integer from 0 to {10**_MAX_DIGITS - 1}"
        )


def _parse_number(text: str, what: str) -> int:
    if not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        raise MalformedCipherError(
            f"cipher string has an invalid {what} (expected 1 to {_MAX_DIGITS} decimal digits)"
        )
    if text[0] == "0" and len(text) > 1:
        raise MalformedCipherError(f"cipher string has a {what} with a leading zero")
    return int(text)


def split_cipher_string(value: object) -> tuple[int, int | None, str, str | None]:
    """Check the grammar and return the header numbers and the undecoded chunks.

    This is the shared front half of `parse_cipher_string`; hot paths call it and decode only
    the chunks they need.

    Raises:
        MalformedCipherError: If ``value`` is not a string in the grammar.
    """
    if type(value) is not str:
        raise MalformedCipherError(f"a cipher string must be a str, not {type(value).__name__}")
    # The header Offen writes almost always; the general branch checks the same grammar.
    if value.startswith("{1,} "):
        algo: int = 1
        key_version: int | None = None
        rest = value[5:]
    else:
        close = value.find("}", 0, 2 * _MAX_DIGITS + 3)
        if not value.startswith("{") or close < 0:
            raise MalformedCipherError(
                f"value is not a cipher string {_GRAMMAR}: it must start with the "
                "'{algo,keyVersion}' header"
            )
        algo_text, comma, version_text = value[1:close].partition(",")
        if not comma:
            raise MalformedCipherError("cipher string header lacks the ',' after the algo")
        algo = _parse_number(algo_text, "algo version")
        key_version = _parse_number(version_text, "key version") if version_text else None
        if value[close + 1 : close + 2] != " ":
            raise MalformedCipherError(
                "cipher string header must be followed by a single space and base64 data"
            )
        rest = value[close + 2 :]

    first, space, second = rest.partition(" ")
    if not first:
        raise MalformedCipherError(
            "cipher string has no base64 data after its header (or more than one space)"
        )
    if space and (not second or " " in second):
        raise MalformedCipherError(
            f"cipher string must be {_GRAMMAR} with single spaces and at most two chunks"
        )
    return algo, key_version, first, (second if space else None)


def decode_chunk(text: str, what: str) -> bytes:
    """Decode one base64 chunk of a cipher string.

    Raises:
        MalformedCipherError: If the chunk is not canonical standard base64 with padding.
    """
    try:
        return b64decode(text)
    except ValueError:
        raise MalformedCipherError(
            f"the {what} chunk of the cipher string is not valid standard base64 with padding"
        ) from None


def parse_cipher_string(value: str) -> CipherString:
    """Parse a versioned cipher string.

    Args:
        value: Text such as ``"{1,} <b64> <b64>"`` or ``"{2,3} <b64>"``.

    Returns:
        The parsed `CipherString`; ``str()`` of it gives ``value`` back.

    Raises:
        MalformedCipherError: If ``value`` does not follow the grammar, or a chunk is not
            canonical standard base64 with padding.
    """
    algo, key_version, first, second = split_cipher_string(value)
    cipher = decode_chunk(first, "first")
    nonce = None if second is None else decode_chunk(second, "second")
    return CipherString(algo=algo, key_version=key_version, cipher=cipher, nonce=nonce)
