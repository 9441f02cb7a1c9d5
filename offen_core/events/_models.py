# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The pydantic models of an event: payload, posted, stored, deleted and decrypted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.types import FiniteFloat
from pydantic_core import PydanticCustomError

from offen_core.errors import InvalidInputError
from offen_core.events._ids import _RULE_ULID, ulid_time
from offen_core.events._validators import (
    _RULE_ACCOUNT_ID,
    _RULE_CIPHER,
    _RULE_HEX64,
    MAX_PAYLOAD_LENGTH,
    MAX_URL_LENGTH,
)

# Offen's schema takes a URL as "scheme:" followed by anything but white space (Ajv's fast
# `uri` format); pydantic-core checks these patterns in Rust, without a Python call. Rust's
# \s lacks U+FEFF, which JavaScript's \s has, so it is named.
_URL_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x{FEFF}]*$"
_REFERRER_PATTERN = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x{FEFF}]*)?$"
_TIMESTAMP_MAX_LENGTH = 36
# Ajv's `date-time` grammar: a date, T (or t, or a space), a time with optional fraction, and
# a zone that is required. Whether the date and time exist is left to datetime.fromisoformat.
_DATE_TIME_PATTERN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)",
    re.ASCII,
)
_RULE_TIMESTAMP = "must be a date-time with a zone, such as 2024-01-01T10:00:00.000Z"

_Url = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH, pattern=_URL_PATTERN)]
_Referrer = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH, pattern=_REFERRER_PATTERN)]
_Ulid = Annotated[str, StringConstraints(pattern=r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
_AccountId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ),
    AfterValidator(str.lower),
]
_SecretId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_PayloadCipher = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=MAX_PAYLOAD_LENGTH,
        pattern=r"^\{[0-9]+,[0-9]*\} [A-Za-z0-9+/]+={0,2}(?: [A-Za-z0-9+/]+={0,2})?$",
    ),
]


def _parse_timestamp(value: object) -> datetime:
    """Read a payload timestamp: an aware datetime, or a string in Ajv's date-time grammar."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise PydanticCustomError("timezone_aware", _RULE_TIMESTAMP)
        return value.astimezone(UTC)
    if type(value) is not str:
        raise PydanticCustomError("datetime_type", _RULE_TIMESTAMP)
    if len(value) > _TIMESTAMP_MAX_LENGTH or not _DATE_TIME_PATTERN.fullmatch(value):
        raise PydanticCustomError("datetime_format", _RULE_TIMESTAMP)
    if value[-1] == "z":
        value = value[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "datetime_range", "must be a date and time that exist (no leap seconds)"
        ) from None
    return parsed.astimezone(UTC)


def _format_timestamp(value: datetime) -> str:
    """Write a timestamp as JavaScript's Date.toISOString does, keeping microseconds if any."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    # An aware UTC datetime ends in "+00:00"; JavaScript writes "Z".
    return value.isoformat(timespec=spec)[:-6] + "Z"


# The rule reported for any failure of a field, unless the failure carries its own message.
_FIELD_RULES = {
    "type": 'must be "PAGEVIEW", the only event type',
    "href": f"must be an absolute URL (scheme:..., no white space) of at most {MAX_URL_LENGTH}"
    " characters",
    "rawHref": f"must be null or an absolute URL (scheme:..., no white space) of at most"
    f" {MAX_URL_LENGTH} characters",
    "referrer": f"must be empty or an absolute URL (scheme:..., no white space) of at most"
    f" {MAX_URL_LENGTH} characters",
    "pageload": "must be a finite number or null",
    "isMobile": "must be true or false",
    "sessionId": "must be a string or null",
    "geo": "must be a string or null",
    "eventId": _RULE_ULID,
    "sequence": _RULE_ULID,
    "accountId": _RULE_ACCOUNT_ID,
    "secretId": _RULE_HEX64 + " or null",
}
_CIPHER_RULE = f"{_RULE_CIPHER} of at most {MAX_PAYLOAD_LENGTH} characters"
_GENERIC_RULES = {
    "missing": "is required",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "json_invalid": "must be valid JSON",
    "json_type": "must be valid JSON",
}


def _input_error(error: ValidationError, model: type[BaseModel], root: str) -> InvalidInputError:
    """Turn pydantic's first error into an InvalidInputError naming the camelCase field."""
    details = error.errors(include_url=False, include_input=False)[0]
    kind = details["type"]

    # Walk the location through the models' aliases, dropping union member tags.
    names: list[str] = []
    current: type[BaseModel] | None = model
    for part in details["loc"]:
        if current is None or not isinstance(part, str):
            break
        aliases = {f.alias or n: f for n, f in current.model_fields.items()}
        by_name = current.model_fields.get(part)
        info = aliases.get(part) or by_name
        if info is None:
            names.append(part)
            break
        names.append(info.alias or part)
        annotation = info.annotation
        current = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    if kind == "null_given":
        # Raised by a model-level check, so the member is named in the context, not the loc.
        names.append(details.get("ctx", {}).get("member", ""))
    field = ".".join(names) or root
    leaf = names[-1] if names else root

    if kind == "null_given":
        rule = f"{_FIELD_RULES.get(leaf, 'must be given')}, not null"
    elif kind in _GENERIC_RULES:
        rule = _GENERIC_RULES[kind]
    elif kind in {"datetime_type", "datetime_format", "datetime_range", "timezone_aware"}:
        rule = details["msg"]
    elif leaf == "payload" and current is None:
        rule = _CIPHER_RULE
    elif leaf == "timestamp":
        rule = _RULE_TIMESTAMP
    else:
        rule = _FIELD_RULES.get(leaf, details["msg"])
    return InvalidInputError(field, rule)


class _EventModel(BaseModel):
    """Base of the event models: strict, frozen, camelCase on the wire, OffenError on failure."""

    model_config = ConfigDict(
        strict=True,
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
    )
    _root_field: ClassVar[str] = "event"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _input_error(error, type(self), self._root_field) from None

    # Tell pydantic this __init__ only wraps its own, so validation never calls it (a custom
    # __init__ would otherwise run inside every validation, nested models included, and turn
    # a nested member's error into one about the whole payload). The marker is pydantic's
    # own, not public API; the tests that name nested members by their path pin it.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate a mapping (or a model) into this model.

        Args:
            obj: The data, with camelCase or snake_case keys.
            **kwargs: Passed on to pydantic's `model_validate`.

        Returns:
            The model.

        Raises:
            InvalidInputError: A field breaks its rule; ``field`` names it in camelCase.
        """
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as error:
            raise _input_error(error, cls, cls._root_field) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Validate a JSON document into this model.

        Args:
            json_data: The JSON text or its UTF-8 bytes.
            **kwargs: Passed on to pydantic's `model_validate_json`.

        Returns:
            The model.

        Raises:
            InvalidInputError: The JSON is invalid or a field breaks its rule.
        """
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as error:
            raise _input_error(error, cls, cls._root_field) from None


# Members whose type in Offen's schema admits no null: an explicit null is rejected.
_NOT_NULLABLE = (("href", "href"), ("referrer", "referrer"), ("is_mobile", "isMobile"))


def _is_none(value: object) -> bool:
    return value is None


class PageView(_EventModel):
    """The plaintext payload of an event: one pageview, as Offen's vault writes it.

    Offen's schema requires no member at all; this model follows it and requires none either,
    so that every payload Offen's own auditorium counts is counted here too. A missing
    ``type`` reads as ``"PAGEVIEW"``; other missing members read as ``None``. Where a member
    is present its rule applies: an explicit ``null`` is accepted only where Offen's schema
    allows it (``rawHref``, ``pageload``, ``sessionId``, ``geo``). When serialised, ``None``
    is left out where Offen's schema admits no null (``href``, ``referrer``, ``isMobile``,
    ``timestamp``) and written as ``null`` where it does (``rawHref``, ``pageload``,
    ``sessionId``, ``geo``; Offen reads a missing member and a null one alike). Further
    members (such as ``title``) are kept as they are and written back after the known ones.

    Attributes:
        type: Always ``"PAGEVIEW"``, the only event type Offen has.
        href: The page's URL (its canonical URL if it has one): an absolute URL of at most
            2,000 characters.
        raw_href: ``rawHref``; the page's location when it differs from its canonical URL.
        referrer: The referring URL (its query removed by the vault), or ``""`` for none.
        pageload: Milliseconds until DOMContentLoaded on the first pageview, else ``None``.
        is_mobile: ``isMobile``; whether the browser has an orientation (a phone or tablet).
        timestamp: The client's clock at sending, an aware datetime in UTC. Written back as
            JavaScript does (``2024-01-01T10:00:00.000Z``).
        session_id: ``sessionId``; the per-account session cookie's value.
        geo: An ISO 3166 country code guessed from the browser's time zone, or ``None``.
    """

    model_config = ConfigDict(extra="allow")
    _root_field: ClassVar[str] = "payload"

    type: Literal["PAGEVIEW"] = "PAGEVIEW"
    href: _Url | None = Field(default=None, exclude_if=_is_none)
    referrer: _Referrer | None = Field(default=None, exclude_if=_is_none)
    pageload: int | FiniteFloat | None = None
    is_mobile: bool | None = Field(default=None, alias="isMobile", exclude_if=_is_none)
    raw_href: _Url | None = Field(default=None, alias="rawHref")
    timestamp: Annotated[
        datetime | None,
        PlainValidator(_parse_timestamp),
        PlainSerializer(_format_timestamp, when_used="json-unless-none"),
    ] = Field(default=None, exclude_if=_is_none)
    session_id: str | None = Field(default=None, alias="sessionId")
    geo: str | None = None

    @model_validator(mode="after")
    def _reject_null(self) -> Self:
        # Missing and null both leave None; null is wrong where Offen's type is not nullable.
        if self.href is None or self.referrer is None or self.is_mobile is None:
            given = self.model_fields_set
            for name, alias in (
                ("href", "href"),
                ("referrer", "referrer"),
                ("is_mobile", "isMobile"),
            ):
                if name in given and getattr(self, name) is None:
                    raise PydanticCustomError("null_given", "must not be null", {"member": alias})
        return self

    @property
    def extra(self) -> dict[str, Any]:
        """The members beyond Offen's schema (such as ``title``), as read."""
        return dict(self.__pydantic_extra__ or {})


class EncryptedEvent(_EventModel):
    """What a client posts to ``POST /api/events``: an account id and the payload's cipher.

    Attributes:
        account_id: ``accountId``; the account the event is for, a UUID, lower-cased.
        payload: The `PageView` as JSON, encrypted under the visitor's user secret:
            a cipher string of at most `MAX_PAYLOAD_LENGTH` characters.
    """

    account_id: _AccountId = Field(alias="accountId")
    payload: _PayloadCipher


class StoredEvent(_EventModel):
    """An event as the server stores and serves it; the payload stays encrypted.

    Attributes:
        event_id: ``eventId``; a ULID minted at insert, whose time is the event's time.
        sequence: A ULID minted at insert (or when the row was changed), the sync cursor.
        account_id: ``accountId``; the account, a UUID.
        secret_id: ``secretId``; the hash of the visitor's id, or ``None`` for an anonymous
            event.
        payload: The cipher string exactly as the client posted it.
    """

    event_id: _Ulid = Field(alias="eventId")
    sequence: _Ulid
    account_id: _AccountId = Field(alias="accountId")
    secret_id: _SecretId | None = Field(default=None, alias="secretId")
    payload: _PayloadCipher

    @property
    def time(self) -> datetime:
        """The time of the event: the time of its event id, aware, in UTC."""
        return ulid_time(self.event_id)


class Tombstone(_EventModel):
    """The trace a deleted event leaves, so that clients that synced it can drop it.

    Attributes:
        event_id: ``eventId``; the id of the deleted event.
        sequence: The ULID of the deletion (one per purge or expiry batch).
        account_id: ``accountId``; the account of the deleted event.
        secret_id: ``secretId``; the visitor's secret id, or ``None`` for an anonymous event.
    """

    event_id: _Ulid = Field(alias="eventId")
    sequence: _Ulid
    account_id: _AccountId = Field(alias="accountId")
    secret_id: _SecretId | None = Field(default=None, alias="secretId")


class DecryptedEvent(_EventModel):
    """An event whose payload the operator has decrypted and validated.

    Attributes:
        event_id: ``eventId``; the server's ULID, whose time is the event's time.
        account_id: ``accountId``; the account, a UUID.
        secret_id: ``secretId``; the visitor's secret id, or ``None`` for an anonymous event.
        payload: The validated `PageView`.
    """

    event_id: _Ulid = Field(alias="eventId")
    account_id: _AccountId = Field(alias="accountId")
    secret_id: _SecretId | None = Field(default=None, alias="secretId")
    payload: PageView

    @property
    def time(self) -> datetime:
        """The time of the event: the time of its event id (server receipt), aware, in UTC."""
        return ulid_time(self.event_id)


def parse_page_view(data: bytes | bytearray | str | Mapping[str, Any]) -> PageView:
    """Validate a decrypted payload into a `PageView`.

    Args:
        data: The payload as JSON (text or UTF-8 bytes, as it comes out of decryption) or as
            an already parsed mapping.

    Returns:
        The validated pageview.

    Raises:
        InvalidInputError: The JSON is invalid or not an object (field ``payload``), or a
            member breaks its rule (field named in camelCase, such as ``href``).
    """
    # The hot path of a report: straight to pydantic-core, without the classmethod layers.
    validator = PageView.__pydantic_validator__
    view: PageView
    try:
        if isinstance(data, str | bytes | bytearray):
            view = validator.validate_json(data)
        elif isinstance(data, dict):
            view = validator.validate_python(data)
        elif isinstance(data, Mapping):
            view = validator.validate_python(dict(data))
        else:
            raise InvalidInputError("payload", "must be a JSON object")
    except ValidationError as error:
        raise _input_error(error, PageView, "payload") from None
    return view


def serialize_page_view(view: PageView) -> bytes:
    """Write a pageview as compact UTF-8 JSON, as the vault's JSON.stringify does.

    Members come in the model's order, further members after them; timestamps are written as
    JavaScript writes them. `parse_page_view` reads the result back into an equal model.

    Args:
        view: The pageview.

    Returns:
        The JSON bytes, ready to be encrypted.
    """
    return view.model_dump_json().encode()
