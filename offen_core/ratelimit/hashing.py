# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Keyed hashing of identifiers before they reach a throttle's storage."""

from __future__ import annotations

import hashlib
import secrets

from offen_core.errors import InvalidInputError

__all__ = ["MIN_KEY_BYTES", "IdentifierHasher"]

MIN_KEY_BYTES = 16
"""The shortest hashing key accepted, in bytes."""

_BLOCK = 64
"""The block size of SHA-256, in bytes."""


class IdentifierHasher:
    """HMAC-SHA256 over identifiers, so a storage never holds an email or an address.

    Every process that shares a storage must use the same key, or each process counts the
    same identity under a different storage key and the budget no longer holds across them.
    Derive it from the server secret (for example an HMAC of the secret with a fixed label).

    Args:
        key: The hashing key, at least `MIN_KEY_BYTES` bytes; ``None`` draws a random key
            for this process only.

    Raises:
        InvalidInputError: If ``key`` is shorter than `MIN_KEY_BYTES`.

    .. warning::
        A random key (``key=None``) is fine for one process with memory storage. With a
        shared storage it silently splits the budget per process: pass a shared key.
    """

    __slots__ = ("_inner", "_outer", "shared")

    def __init__(self, key: bytes | None = None) -> None:
        if key is None:
            key = secrets.token_bytes(32)
            self.shared = False
        else:
            if len(key) < MIN_KEY_BYTES:
                raise InvalidInputError(
                    "hash_key", f"must be at least {MIN_KEY_BYTES} bytes; derive it from the secret"
                )
            self.shared = True

        # HMAC (RFC 2104) with its two padded key states computed once: copying a hash
        # state costs less than OpenSSL's one-shot HMAC, which sets up the digest each call.
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __repr__(self) -> str:
        return f"IdentifierHasher(shared={self.shared}, key=<hidden>)"

    def hash(self, rule: str, identifier: str) -> str:
        """Return the storage form of ``identifier`` under the rule named ``rule``.

        Args:
            rule: The rule's name; the same identifier hashes differently under each rule.
            identifier: The normalised identity, address or ``"*"`` for a global budget.

        Returns:
            32 hexadecimal characters (128 bits of the HMAC).
        """
        message = f"{rule}\x00{identifier}".encode("utf-8", "surrogatepass")
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:16].hex()
