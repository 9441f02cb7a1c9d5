# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The limits that protect the server, and validators for the plain values of an event."""

from __future__ import annotations

import re

from offen_core.errors import InvalidInputError
from offen_core.events._ids import _RULE_ULID, is_ulid

MAX_PAYLOAD_LENGTH = 32_768
"""Most characters in an event's payload cipher string."""

MAX_ENCRYPTED_SECRET_LENGTH = 2_048
"""Most characters in an encrypted user secret (an RSA-OAEP cipher string)."""

MAX_ACCOUNT_NAME_LENGTH = 100
"""Most characters in an account name, counted after stripping surrounding white space."""

MAX_EMAIL_LENGTH = 254
"""Most characters in an operator's email address (the limit of RFC 5321 paths)."""

MAX_URL_LENGTH = 2_000
"""Most characters in a URL of a payload (`href`, `rawHref`, `referrer`), as Offen's schema."""


_RULE_ACCOUNT_ID = "must be a UUID in its 36-character form with hyphens"
_RULE_HEX64 = "must be 64 lower-case hexadecimal characters"
_RULE_CIPHER = "must be a cipher string '{algo,keyVersion} base64 [base64]'"

_UUID_PATTERN = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII
)
_SECRET_ID_PATTERN = re.compile(r"[0-9a-f]{64}", re.ASCII)
# The versioned cipher grammar, anchored as Offen's Go server does: a version prefix, one
# space, standard base64, and for symmetric values a second space and a base64 nonce.
_CIPHER_PATTERN = re.compile(
    r"\{[0-9]+,[0-9]*\} [A-Za-z0-9+/]+={0,2}(?: [A-Za-z0-9+/]+={0,2})?", re.ASCII
)


def validate_account_id(value: object, field: str = "accountId") -> str:
    """Check an account id and give it in canonical form.

    Args:
        value: The account id: a UUID as 36 characters with hyphens, in either case.
        field: The field name to report in an error.

    Returns:
        The id in lower case.

    Raises:
        InvalidInputError: ``value`` is not a string in that form.
    """
    if type(value) is not str or len(value) != 36 or not _UUID_PATTERN.fullmatch(value):
        raise InvalidInputError(field, _RULE_ACCOUNT_ID)
    return value.lower()


def validate_secret_id(value: object, field: str = "secretId") -> str:
    """Check a secret id (the server's hash of a visitor id under the account's salt).

    Args:
        value: The secret id.
        field: The field name to report in an error.

    Returns:
        ``value`` unchanged.

    Raises:
        InvalidInputError: ``value`` is not 64 lower-case hexadecimal characters.
    """
    if type(value) is not str or len(value) != 64 or not _SECRET_ID_PATTERN.fullmatch(value):
        raise InvalidInputError(field, _RULE_HEX64)
    return value


def validate_event_id(value: object, field: str = "eventId") -> str:
    """Check an event id or a sequence.

    Args:
        value: The id, a ULID in upper case.
        field: The field name to report in an error.

    Returns:
        ``value`` unchanged.

    Raises:
        InvalidInputError: ``value`` is not a ULID (see `is_ulid`).
    """
    if not is_ulid(value):
        raise InvalidInputError(field, _RULE_ULID)
    return value


def _validate_cipher(value: object, field: str, limit: int) -> str:
    if type(value) is not str or not value:
        raise InvalidInputError(field, f"{_RULE_CIPHER}; got no string or an empty one")
    if len(value) > limit:
        raise InvalidInputError(field, f"must be at most {limit} characters")
    if not _CIPHER_PATTERN.fullmatch(value):
        raise InvalidInputError(field, _RULE_CIPHER)
    return value


def validate_payload_cipher(value: object, field: str = "payload") -> str:
    """Check the shape of an event's encrypted payload, without decrypting it.

    Only the structure is checked: the version prefix, single spaces and standard base64
    chunks. Whether it decrypts is for the operator to find out.

    Args:
        value: The cipher string, as the client posted it.
        field: The field name to report in an error.

    Returns:
        ``value`` unchanged.

    Raises:
        InvalidInputError: ``value`` is empty, longer than `MAX_PAYLOAD_LENGTH` or not shaped
            like ``{algo,keyVersion} base64 [base64]``.
    """
    return _validate_cipher(value, field, MAX_PAYLOAD_LENGTH)


def validate_encrypted_secret(value: object, field: str = "encryptedSecret") -> str:
    """Check the shape of an encrypted user secret, without decrypting it.

    Args:
        value: The cipher string of the user secret wrapped with the account's public key.
        field: The field name to report in an error.

    Returns:
        ``value`` unchanged.

    Raises:
        InvalidInputError: ``value`` is empty, longer than `MAX_ENCRYPTED_SECRET_LENGTH` or not
            shaped like ``{algo,keyVersion} base64 [base64]``.
    """
    return _validate_cipher(value, field, MAX_ENCRYPTED_SECRET_LENGTH)


def validate_account_name(value: object, field: str = "accountName") -> str:
    """Check an account name and strip surrounding white space from it.

    Args:
        value: The name.
        field: The field name to report in an error.

    Returns:
        The name without surrounding white space.

    Raises:
        InvalidInputError: ``value`` is not a string, is blank, or is longer than
            `MAX_ACCOUNT_NAME_LENGTH` after stripping.
    """
    if type(value) is not str:
        raise InvalidInputError(field, "must be a string")
    name = value.strip()
    if not name:
        raise InvalidInputError(field, "must not be blank")
    if len(name) > MAX_ACCOUNT_NAME_LENGTH:
        raise InvalidInputError(field, f"must be at most {MAX_ACCOUNT_NAME_LENGTH} characters")
    return name
