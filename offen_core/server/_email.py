# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The one place where operators' email addresses are normalised and turned into lookup keys.

Every use of an address goes through `normalize_email`: the keyed lookup hash, the throttle
identity, new ``hashed_email`` values and new email-derived keys. Offen used the address as
typed, so ``Ann@Example.org`` and ``ann@example.org`` were two operators there; here they are
one.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from offen_core.errors import InvalidInputError
from offen_core.events import MAX_EMAIL_LENGTH

__all__ = ["email_lookup", "normalize_email"]

_RULE = f"must be an email address such as name@example.org, at most {MAX_EMAIL_LENGTH} characters"


def normalize_email(address: object, field: str = "emailAddress") -> str:
    """Return the canonical form of an operator's email address.

    Surrounding white space is stripped, the text is brought to Unicode NFC and lower-cased.
    The result must look like an address: one ``@`` with text on both sides, no white space or
    control characters, at most `offen_core.events.MAX_EMAIL_LENGTH` characters. Whether the
    address exists is not checked.

    Args:
        address: The address as the operator typed it.
        field: The field name to report in an error.

    Returns:
        The normalised address.

    Raises:
        InvalidInputError: If ``address`` is not a string or does not look like an address.
    """
    if not isinstance(address, str):
        raise InvalidInputError(field, _RULE)
    value = unicodedata.normalize("NFC", address.strip()).lower()
    if not 3 <= len(value) <= MAX_EMAIL_LENGTH:
        raise InvalidInputError(field, _RULE)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or "@" in local:
        raise InvalidInputError(field, _RULE)
    if any(char.isspace() or unicodedata.category(char)[0] == "C" for char in value):
        raise InvalidInputError(field, _RULE)
    return value


def email_lookup(secret: bytes, address: str) -> str:
    """Return the keyed lookup hash of an address: HMAC-SHA256 with the server secret, in hex.

    The address is normalised first, so every spelling of one address gives the same hash.
    Without the server secret the hash cannot be recomputed from a guessed address, unlike
    Offen's argon2 ``hashed_email``.

    Args:
        secret: The server secret (`ServerConfig.secret`).
        address: The email address, normalised or as typed.

    Returns:
        64 lower-case hex characters, the value of ``account_users.email_lookup``.

    Raises:
        InvalidInputError: If ``address`` does not look like an email address, or ``secret``
            is empty.
    """
    if not secret:
        raise InvalidInputError("secret", "the server secret must not be empty")
    normalised = normalize_email(address)
    return hmac.new(secret, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
