# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Reading JWK members strictly, for the AES and RSA key importers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from offen_core.crypto._base64 import b64url_decode
from offen_core.errors import InvalidKeyError

__all__ = ["as_members", "bytes_member", "check_key_ops", "optional_str", "require_kty"]

# A private RSA-16384 JWK is about 20 KB of JSON; anything much larger is not a key.
MAX_JWK_JSON = 64 * 1024


def as_members(jwk: object, what: str) -> Mapping[str, Any]:
    """Return the members of a JWK given as a mapping or as JSON text.

    Raises:
        InvalidKeyError: If ``jwk`` is neither, or the JSON is invalid, too large or not an
            object.
    """
    if isinstance(jwk, Mapping):
        return jwk
    if isinstance(jwk, bytes | bytearray):
        try:
            jwk = bytes(jwk).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidKeyError(f"{what} JWK text is not UTF-8") from None
    if not isinstance(jwk, str):
        raise InvalidKeyError(
            f"{what} must be given as a JWK (a dict or JSON text) or a key object, "
            f"not {type(jwk).__name__}"
        )
    if len(jwk) > MAX_JWK_JSON:
        raise InvalidKeyError(f"{what} JWK text is longer than {MAX_JWK_JSON} characters")
    try:
        members = json.loads(jwk)
    except (ValueError, RecursionError):
        raise InvalidKeyError(f"{what} JWK text is not valid JSON") from None
    if not isinstance(members, dict):
        raise InvalidKeyError(f"{what} JWK must be a JSON object")
    return members


def require_kty(members: Mapping[str, Any], kty: str, what: str) -> None:
    """Check the ``kty`` member.

    Raises:
        InvalidKeyError: If it is missing or not ``kty``.
    """
    if members.get("kty") != kty:
        raise InvalidKeyError(f'{what} JWK must have "kty": "{kty}"')


def optional_str(members: Mapping[str, Any], name: str, what: str) -> str | None:
    """Return an optional string member, or ``None`` when it is absent.

    Raises:
        InvalidKeyError: If the member is present but not a string.
    """
    value = members.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidKeyError(f'{what} JWK member "{name}" must be a string')
    return value


def bytes_member(members: Mapping[str, Any], name: str, what: str) -> bytes:
    """Return a required base64url member as bytes.

    Raises:
        InvalidKeyError: If the member is missing, not a string, empty, or not canonical
            base64url without padding.
    """
    value = members.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidKeyError(f'{what} JWK lacks the member "{name}" (a base64url string)')
    try:
        return b64url_decode(value)
    except ValueError:
        raise InvalidKeyError(
            f'{what} JWK member "{name}" is not base64url without padding'
        ) from None


def check_key_ops(
    members: Mapping[str, Any],
    what: str,
    *,
    all_of: tuple[str, ...] = (),
    any_of: tuple[str, ...] = (),
) -> None:
    """Check the optional ``key_ops``, ``use`` and ``ext`` members.

    WebCrypto refuses to import a key whose ``key_ops`` lack an operation it is imported for;
    the same key is refused here, so a key that Offen's browser code cannot use is caught at
    once.

    Raises:
        InvalidKeyError: If ``key_ops`` is not a list of strings, lacks one of ``all_of`` or
            all of ``any_of``; if ``use`` is present and not ``"enc"``; if ``ext`` is not a
            boolean.
    """
    ops = members.get("key_ops")
    if ops is not None:
        if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
            raise InvalidKeyError(f'{what} JWK member "key_ops" must be a list of strings')
        if not all(op in ops for op in all_of):
            raise InvalidKeyError(
                f'{what} JWK "key_ops" must include {" and ".join(map(repr, all_of))}'
            )
        if any_of and not any(op in ops for op in any_of):
            raise InvalidKeyError(
                f'{what} JWK "key_ops" must include {" or ".join(map(repr, any_of))}'
            )
    use = optional_str(members, "use", what)
    if use is not None and use != "enc":
        raise InvalidKeyError(f'{what} JWK member "use" must be "enc" when present')
    ext = members.get("ext")
    if ext is not None and not isinstance(ext, bool):
        raise InvalidKeyError(f'{what} JWK member "ext" must be true or false when present')
