# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The request bodies and results of the visitor routes, in Offen's JSON shapes.

Requests are parsed from the raw body (bytes or text) or from a mapping a framework already
decoded; a body that breaks any rule raises `InvalidInputError` naming the field, before a
flow touches the Store. Results tell the HTTP layer everything it needs: the status, the JSON
body (`FlowResult`) and the cookies to set.

Cipher strings are checked for their shape only, never decrypted: an encrypted secret must be
a single-chunk RSA-OAEP value, a payload a two-chunk AES-GCM value with a nonce of 12 bytes
(WebCrypto) or 16 bytes (Offen's fallback crypto) and room for the 16-byte tag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Self

from offen_core.crypto import AES_GCM_ALGO, RSA_OAEP_ALGO, parse_cipher_string
from offen_core.errors import CryptoError, InvalidInputError
from offen_core.events import (
    StoredEvent,
    validate_account_id,
    validate_encrypted_secret,
    validate_payload_cipher,
)
from offen_core.server._config import Cookie
from offen_core.server._status import MAX_BODY_BYTES, NoCookies

__all__ = [
    "AccountPublicKeyResult",
    "EventsResult",
    "ExchangeRequest",
    "ExchangeResult",
    "PostEventRequest",
    "PostEventResult",
    "PurgeResult",
    "format_time",
    "parse_json_body",
]

_GCM_NONCE_SIZES: Final = frozenset((12, 16))
_GCM_TAG_SIZE: Final = 16


def format_time(value: datetime) -> str:
    """Write a time as Go's JSON encoder does (RFC 3339, UTC, fraction without trailing zeros).

    Args:
        value: An aware datetime (a naive one is taken as UTC, as databases hand them out).

    Returns:
        For example ``2026-01-05T12:00:00Z`` or ``2026-01-05T12:00:00.25Z``.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_json_body(body: bytes | bytearray | str | Mapping[str, Any]) -> Mapping[str, Any]:
    """Read a request body that must be a JSON object.

    Args:
        body: The raw body (UTF-8 bytes or text, at most `MAX_BODY_BYTES`), or a mapping a
            framework has already decoded.

    Returns:
        The object.

    Raises:
        InvalidInputError: The body is too large, not UTF-8, not JSON, nested too deeply or
            not an object (field ``body``).
    """
    if isinstance(body, Mapping):
        return body
    if not isinstance(body, bytes | bytearray | str):
        raise InvalidInputError("body", "must be a JSON object")
    size = len(body) if not isinstance(body, str) else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise InvalidInputError("body", f"must be at most {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8") if not isinstance(body, str) else body
        parsed = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidInputError("body", "must be UTF-8 text") from None
    except (ValueError, RecursionError):
        raise InvalidInputError("body", "must be valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidInputError("body", "must be a JSON object")
    return parsed


def _member(data: Mapping[str, Any], name: str) -> object:
    if name not in data or data[name] is None:
        raise InvalidInputError(name, "is required")
    return data[name]


def _check_wrapped_secret(value: str, field_name: str) -> None:
    """Check that a cipher string has the shape of an RSA-OAEP value (not what it holds)."""
    try:
        cipher = parse_cipher_string(value)
    except CryptoError:
        raise InvalidInputError(field_name, "must be a cipher string '{1,} base64'") from None
    if cipher.algo != RSA_OAEP_ALGO or cipher.nonce is not None:
        raise InvalidInputError(
            field_name, "must be an RSA-OAEP cipher string '{1,} base64' with one chunk"
        )


def _check_payload(value: str, field_name: str) -> None:
    """Check that a cipher string has the shape of an AES-GCM value (not what it holds)."""
    try:
        cipher = parse_cipher_string(value)
    except CryptoError:
        raise InvalidInputError(
            field_name, "must be a cipher string '{1,} base64 base64'"
        ) from None
    if cipher.algo != AES_GCM_ALGO or cipher.nonce is None:
        raise InvalidInputError(
            field_name, "must be an AES-GCM cipher string '{1,} ciphertext nonce'"
        )
    if len(cipher.nonce) not in _GCM_NONCE_SIZES:
        raise InvalidInputError(field_name, "must carry a nonce of 12 or 16 bytes")
    if len(cipher.cipher) < _GCM_TAG_SIZE:
        raise InvalidInputError(field_name, "is too short to hold an AES-GCM tag")


# --- requests -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExchangeRequest:
    """The body of ``POST /api/exchange``: a user secret wrapped for an account.

    Attributes:
        account_id: ``accountId``; the account, lower-cased.
        encrypted_secret: ``encryptedSecret``; the user secret's JWK (JSON), encrypted with
            the account's public key: ``{1,[keyVersion]} base64``.
    """

    account_id: str
    encrypted_secret: str = field(repr=False)

    @classmethod
    def parse(cls, body: bytes | bytearray | str | Mapping[str, Any]) -> Self:
        """Read and check the body; members beyond the two are ignored, as Offen does.

        Args:
            body: The raw JSON body or a decoded mapping.

        Returns:
            The request.

        Raises:
            InvalidInputError: The body is not a JSON object, a member is missing, or a
                member breaks its rule (at most `MAX_ENCRYPTED_SECRET_LENGTH` characters for
                the secret, one RSA-OAEP chunk).
        """
        data = parse_json_body(body)
        account_id = validate_account_id(_member(data, "accountId"))
        secret = validate_encrypted_secret(_member(data, "encryptedSecret"))
        _check_wrapped_secret(secret, "encryptedSecret")
        return cls(account_id, secret)

    def to_json(self) -> dict[str, Any]:
        """Give the body as Offen's vault sends it.

        Returns:
            ``{"accountId": ..., "encryptedSecret": ...}``.
        """
        return {"accountId": self.account_id, "encryptedSecret": self.encrypted_secret}


@dataclass(frozen=True, slots=True)
class PostEventRequest:
    """The body of ``POST /api/events``: one encrypted event for an account.

    Attributes:
        account_id: ``accountId``; the account, lower-cased.
        payload: The pageview encrypted under the visitor's user secret:
            ``{1,} base64(ciphertext+tag) base64(nonce)``.
    """

    account_id: str
    payload: str = field(repr=False)

    @classmethod
    def parse(cls, body: bytes | bytearray | str | Mapping[str, Any]) -> Self:
        """Read and check the body; members beyond the two are ignored, as Offen does.

        Args:
            body: The raw JSON body or a decoded mapping.

        Returns:
            The request.

        Raises:
            InvalidInputError: The body is not a JSON object, a member is missing, or a
                member breaks its rule (at most `MAX_PAYLOAD_LENGTH` characters for the
                payload, two AES-GCM chunks).
        """
        data = parse_json_body(body)
        account_id = validate_account_id(_member(data, "accountId"))
        payload = validate_payload_cipher(_member(data, "payload"))
        _check_payload(payload, "payload")
        return cls(account_id, payload)

    def to_json(self) -> dict[str, Any]:
        """Give the body as Offen's vault sends it.

        Returns:
            ``{"accountId": ..., "payload": ...}``.
        """
        return {"accountId": self.account_id, "payload": self.payload}


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountPublicKeyResult(NoCookies):
    """The answer of ``GET /api/exchange``: what a client needs to wrap a user secret.

    Attributes:
        account_id: The account's id.
        name: The account's name (Offen shows it; see the limitations page).
        public_key: The account's current public key as a JWK
            (``{"e", "kty": "RSA", "n"}``).
        created: When the account was created.
    """

    account_id: str
    name: str
    public_key: Mapping[str, Any]
    created: datetime

    @property
    def status(self) -> int:
        """200."""
        return 200

    def body(self) -> dict[str, Any]:
        """Give Offen's JSON.

        Returns:
            ``{"accountId", "name", "publicKey", "created"}``.
        """
        return {
            "accountId": self.account_id,
            "name": self.name,
            "publicKey": dict(self.public_key),
            "created": format_time(self.created),
        }


@dataclass(frozen=True, slots=True)
class ExchangeResult:
    """The outcome of ``POST /api/exchange``: 204 and the ``user`` cookie.

    Attributes:
        user_id: The visitor id now tied to the stored secret: the one from the cookie, or a
            new one when the request carried none (or one that was not a visitor id).
        created_user: Whether ``user_id`` was minted by this exchange.
        parked: Whether an earlier secret of this visitor was replaced, its events parked
            under an unlinkable id (the visitor's devices see them as deleted).
        user_cookie: The ``user`` cookie to set, expiring after the retention period.
    """

    user_id: str = field(repr=False)
    created_user: bool
    parked: bool
    user_cookie: Cookie

    @property
    def status(self) -> int:
        """204."""
        return 204

    @property
    def cookies(self) -> tuple[Cookie, ...]:
        """The ``user`` cookie."""
        return (self.user_cookie,)

    def body(self) -> None:
        """No body."""
        return


@dataclass(frozen=True, slots=True)
class PostEventResult:
    """The outcome of ``POST /api/events``.

    Attributes:
        stored: Whether the event was stored; ``False`` without ``consent=allow``, which
            answers a silent 204 with no body and no cookie.
        event_id: The id the server gave the event, when stored.
        user_cookie: The refreshed ``user`` cookie, when stored.
    """

    stored: bool
    event_id: str | None = None
    user_cookie: Cookie | None = None

    @property
    def status(self) -> int:
        """201 when stored, else 204."""
        return 201 if self.stored else 204

    @property
    def cookies(self) -> tuple[Cookie, ...]:
        """The refreshed ``user`` cookie, or none."""
        return (self.user_cookie,) if self.user_cookie is not None else ()

    def body(self) -> dict[str, Any] | None:
        """Give ``{"ack": true}`` when stored, else nothing."""
        return {"ack": True} if self.stored else None


@dataclass(frozen=True, slots=True)
class EventsResult(NoCookies):
    """The answer of ``GET /api/events``: a visitor's own events after a cursor.

    Attributes:
        events: The events, ordered by sequence; payloads still encrypted.
        deleted_event_ids: Ids of the visitor's events deleted since the cursor (purges,
            expiry, parking); empty on a first sync (no cursor).
        sequence: The cursor to send as ``since`` next time, or ``None`` to keep the last one.
        retention_period: The instance's retention setting (``"6months"``).
        more: Whether the page was full; ask again with ``sequence`` for the rest.
    """

    events: Sequence[StoredEvent]
    deleted_event_ids: Sequence[str]
    sequence: str | None
    retention_period: str
    more: bool = False

    @property
    def status(self) -> int:
        """200."""
        return 200

    def body(self) -> dict[str, Any]:
        """Give Offen's JSON, with empty members left out as Offen leaves them out.

        Returns:
            ``{"events": {<accountId>: [{"accountId", "eventId", "payload"}]},
            "deletedEvents"?, "sequence"?, "retentionPeriod", "more"?}``; ``events`` is
            always there, maybe ``{}``; ``more`` is an added member, present only as
            ``true``.
        """
        grouped: dict[str, list[dict[str, str]]] = {}
        for event in self.events:
            grouped.setdefault(event.account_id, []).append(
                {
                    "accountId": event.account_id,
                    "eventId": event.event_id,
                    "payload": event.payload,
                }
            )
        body: dict[str, Any] = {"events": grouped}
        if self.deleted_event_ids:
            body["deletedEvents"] = list(self.deleted_event_ids)
        if self.sequence:
            body["sequence"] = self.sequence
        body["retentionPeriod"] = self.retention_period
        if self.more:
            body["more"] = True
        return body


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """The outcome of ``POST /api/purge``: 204, clearing the ``user`` cookie if asked.

    Attributes:
        events_deleted: How many events were deleted (each left a tombstone).
        user_cookie: The clearing ``user`` cookie when the visitor asked to be forgotten
            (``?user=1``), else ``None``.
    """

    events_deleted: int
    user_cookie: Cookie | None = None

    @property
    def status(self) -> int:
        """204."""
        return 204

    @property
    def cookies(self) -> tuple[Cookie, ...]:
        """The clearing ``user`` cookie, or none."""
        return (self.user_cookie,) if self.user_cookie is not None else ()

    def body(self) -> None:
        """No body."""
        return
