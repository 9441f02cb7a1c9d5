# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What Offen's vault does with keys and payloads, byte for byte."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from offen_core.crypto import (
    PublicKeyLike,
    SymmetricKey,
    SymmetricKeyLike,
    decrypt_symmetric,
    encrypt_asymmetric,
    encrypt_symmetric,
    generate_symmetric_key,
)
from offen_core.events import PageView, parse_page_view, serialize_page_view

__all__ = [
    "create_user_secret",
    "decrypt_own_event",
    "encrypt_page_view",
    "user_secret_jwk",
    "wrap_user_secret",
]


def _stringify(value: Any) -> bytes:
    """Write JSON as JavaScript's JSON.stringify does: compact, non-ASCII kept, UTF-8."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def create_user_secret() -> SymmetricKey:
    """Create a user secret as the vault does: a random AES-GCM key of 128 bits.

    Returns:
        The key. Keep it on the visitor's side (the vault keeps it in IndexedDB); its JWK is
        `user_secret_jwk`.
    """
    return generate_symmetric_key(128)


def user_secret_jwk(secret: SymmetricKey) -> dict[str, Any]:
    """Export a user secret as WebCrypto exports it.

    Args:
        secret: The user secret.

    Returns:
        ``{"alg": "A128GCM", "ext": true, "k": <base64url>, "key_ops": ["encrypt",
        "decrypt"], "kty": "oct"}``, which Offen's vault and auditorium import.
    """
    return secret.to_jwk()


def wrap_user_secret(secret: SymmetricKey | Mapping[str, Any], public_key: PublicKeyLike) -> str:
    """Encrypt a user secret for an account, as the vault does before ``POST /api/exchange``.

    The JWK is written as ``JSON.stringify`` writes it and encrypted with RSA-OAEP-SHA256
    under the account's public key, with no key version (Offen's vault writes none; the
    server stamps it).

    Args:
        secret: The user secret, as a key or as its JWK.
        public_key: The account's public key: the ``publicKey`` JWK of
            ``GET /api/exchange``, or a key object.

    Returns:
        The cipher string ``{1,} base64``, the ``encryptedSecret`` of the exchange.

    Raises:
        InvalidKeyError: ``secret`` or ``public_key`` is not a usable key.
    """
    jwk = user_secret_jwk(secret) if isinstance(secret, SymmetricKey) else dict(secret)
    SymmetricKey.from_jwk(jwk)  # refuse to wrap something the operator could not import
    return encrypt_asymmetric(public_key, _stringify(jwk))


def encrypt_page_view(secret: SymmetricKeyLike, page_view: PageView | Mapping[str, Any]) -> str:
    """Encrypt a pageview as the vault does before ``POST /api/events``.

    The payload is validated as a `PageView`, written as ``JSON.stringify`` writes it, and
    encrypted with AES-GCM under the user secret with a fresh 12-byte nonce, uncompressed.
    A mapping of JSON values is written with its members in the order given, as the vault
    writes the object it built (a mapping holding other values, such as a `datetime`, is
    written through the model, as `serialize_page_view` writes it).

    .. note::
        Numbers are written by Python's ``json``, which spells a few floats differently
        from JavaScript (``1e+21`` for ``1e21``); Offen's payloads hold integers there
        (``pageload``), which both write alike.

    Args:
        secret: The user secret (a key, its raw bytes or its JWK).
        page_view: The pageview, as a model or as a mapping of Offen's members
            (``type``, ``href``, ``referrer``, ``pageload``, ``isMobile``, ``timestamp``,
            ``sessionId``, ``geo``, ``rawHref``).

    Returns:
        The cipher string ``{1,} base64(ciphertext+tag) base64(nonce)``, the ``payload`` of
        the event.

    Raises:
        InvalidInputError: ``page_view`` breaks Offen's payload schema.
        InvalidKeyError: ``secret`` is not a usable AES key.
    """
    if isinstance(page_view, PageView):
        return encrypt_symmetric(secret, serialize_page_view(page_view))
    view = parse_page_view(page_view)
    try:
        plaintext = _stringify(dict(page_view))
    except (TypeError, ValueError):
        plaintext = serialize_page_view(view)
    return encrypt_symmetric(secret, plaintext)


def decrypt_own_event(secret: SymmetricKeyLike, payload: str) -> PageView:
    """Decrypt one of the visitor's own events, as the vault does for the visitor's data page.

    Args:
        secret: The visitor's user secret for the event's account.
        payload: The event's cipher string from ``GET /api/events``.

    Returns:
        The pageview.

    Raises:
        MalformedCipherError: ``payload`` is not a cipher string.
        DecryptionError: ``payload`` was not encrypted under ``secret`` or was altered.
        InvalidInputError: The plaintext is not a valid pageview.
    """
    return parse_page_view(decrypt_symmetric(secret, payload))
