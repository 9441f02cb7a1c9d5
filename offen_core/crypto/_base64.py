# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Strict base64 codecs: the standard alphabet of cipher strings, the URL alphabet of JWKs.

Decoders accept only the canonical encoding of a byte string: the right alphabet, exactly the
padding it needs (standard) or none at all (JWK), and zero bits where the last character has
bits to spare. Every value has one spelling, so a cipher string cannot be altered without
altering the bytes it carries.
"""

from __future__ import annotations

import binascii

__all__ = ["b64decode", "b64encode", "b64url_decode", "b64url_encode"]

_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Characters whose unused low bits are zero: before "==" four bits are spare, before "=" two.
_CLEAN_BEFORE_TWO_PADS = frozenset(c for i, c in enumerate(_STD) if i & 0x0F == 0)
_CLEAN_BEFORE_ONE_PAD = frozenset(c for i, c in enumerate(_STD) if i & 0x03 == 0)


def b64encode(data: bytes) -> str:
    """Encode ``data`` as standard base64 with padding."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode canonical standard base64 with padding.

    Raises:
        ValueError: If ``text`` is not the canonical padded encoding of some bytes. Callers
            turn this into the library error that fits their context.
    """
    data = binascii.a2b_base64(text, strict_mode=True)
    # strict_mode still lets surplus padding and unused non-zero bits through.
    if len(text) != (len(data) + 2) // 3 * 4:
        raise ValueError("surplus padding")
    if text[-1:] == "=":
        if text[-2] == "=":
            if text[-3] not in _CLEAN_BEFORE_TWO_PADS:
                raise ValueError("non-canonical final character")
        elif text[-2] not in _CLEAN_BEFORE_ONE_PAD:
            raise ValueError("non-canonical final character")
    return data


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as base64url without padding, as JWK members are."""
    return b64encode(data).rstrip("=").replace("+", "-").replace("/", "_")


def b64url_decode(text: str) -> bytes:
    """Decode canonical base64url without padding, as JWK members are.

    Raises:
        ValueError: If ``text`` holds padding, characters outside the URL-safe alphabet, an
            impossible length or unused non-zero bits.
    """
    # Characters of the standard alphabet would pass the decoder below once the URL ones are
    # swapped in, so they are refused here; the decoder refuses everything else.
    if "+" in text or "/" in text or "=" in text:
        raise ValueError("characters outside the base64url alphabet (or padding)")
    remainder = len(text) % 4
    if remainder == 1:
        raise ValueError("impossible length")
    padded = text.replace("-", "+").replace("_", "/") + "=" * ((4 - remainder) % 4)
    return b64decode(padded)
