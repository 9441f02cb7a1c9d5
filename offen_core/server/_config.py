# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The settings every server flow shares: `ServerConfig` and `load_server_secret`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Literal

from offen_core.errors import InvalidInputError
from offen_core.storage.retention import DEFAULT_RETENTION, Retention, parse_retention

__all__ = ["MIN_SECRET_BYTES", "Cookie", "ServerConfig", "load_server_secret"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MIN_SECRET_BYTES = 16
"""The fewest bytes a server secret may have (Offen generates 16)."""


def load_server_secret(value: str) -> bytes:
    """Read a server secret in Offen's ``OFFEN_SECRET`` form.

    Offen keeps its secret as standard base64 with padding (``offen secret`` prints 16 random
    bytes that way). The same string gives the same bytes here, so tokens and keyed hashes made
    by one process stay valid for another that reads the same setting.

    Args:
        value: The base64 text; surrounding white space is ignored.

    Returns:
        The decoded secret.

    Raises:
        InvalidInputError: ``value`` is not standard base64, or decodes to fewer than
            `MIN_SECRET_BYTES` bytes (field ``secret``).
    """
    if not isinstance(value, str):
        raise InvalidInputError("secret", "must be a string of standard base64")
    try:
        secret = base64.b64decode(value.strip().encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise InvalidInputError("secret", "must be standard base64 with padding") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidInputError(
            "secret", f"must decode to at least {MIN_SECRET_BYTES} bytes; make a new one"
        )
    return secret


@dataclass(frozen=True, slots=True)
class Cookie:
    """A cookie the HTTP layer must set (or clear) on the response.

    Flows never touch HTTP objects; they return these, and a server hands each one to its
    framework (``response.set_cookie(...)`` with these fields) or writes `header_value` as a
    ``Set-Cookie`` header.

    Attributes:
        name: The cookie name (``user``, ``auth``).
        value: The value; ``""`` when the cookie is cleared.
        expires: When the browser drops it, an aware UTC datetime; the epoch for a cleared
            cookie; ``None`` for a session cookie.
        path: The path the browser sends it to (``/api`` for Offen's cookies).
        http_only: Whether scripts are kept from reading it.
        secure: Whether the browser sends it over HTTPS only.
        same_site: The ``SameSite`` attribute.
    """

    name: str
    value: str = field(repr=False)
    expires: datetime | None
    path: str = "/api"
    http_only: bool = True
    secure: bool = True
    same_site: Literal["Lax", "Strict", "None"] = "None"

    @property
    def cleared(self) -> bool:
        """Whether this tells the browser to drop the cookie (empty value, expired)."""
        return self.value == "" and self.expires is not None and self.expires <= _EPOCH

    def header_value(self) -> str:
        """Give the cookie as the value of a ``Set-Cookie`` header.

        Returns:
            For example ``user=<id>; Path=/api; Expires=Wed, 08 Jul 2026 12:00:00 GMT;
            HttpOnly; Secure; SameSite=None``.
        """
        parts = [f"{self.name}={self.value}", f"Path={self.path}"]
        if self.expires is not None:
            parts.append(f"Expires={format_datetime(self.expires.astimezone(UTC), usegmt=True)}")
        if self.http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Instance-wide settings of a server built on `offen_core.server`.

    One value is built at start-up and handed to every flow. It holds no collaborator (store,
    throttle, clock): those are passed to the flows separately.

    Attributes:
        secret: The server secret: the key of signed tokens and of the keyed hashes (email
            lookup, throttle identities). At least `MIN_SECRET_BYTES` bytes; hidden from
            ``repr``. Use `from_offen_secret` to read Offen's base64 ``OFFEN_SECRET``.
        retention: How long events are kept (Offen's ``OFFEN_APP_RETENTION``), a `Retention`
            made by `offen_core.storage.parse_retention` (one of Offen's names such as
            ``"6months"``, or a number of days from 7 to 1825). Give the Store the same value.
            The ``user`` cookie also lives this long, refreshed by each exchange and event.
        base_url: The public URL of the server (``https://analytics.example.com``), from which
            e-mail links are built; ``None`` when the server sends no e-mail. A ``urlTemplate``
            sent by a client is never used for links.
        recovery_mode: Whether operators use recovery keys instead of Offen's email-wrapped
            KEKs (see the design's "recovery"); off by default, which stays compatible with
            Offen.
        secure_context: Whether the server is reached over HTTPS. It decides the cookie flags,
            as in Offen: ``Secure`` and ``SameSite=None`` when true (the vault runs in a
            third-party iframe), ``SameSite=Lax`` without ``Secure`` when false (local
            development over plain HTTP).

    Raises:
        InvalidInputError: ``secret`` is not bytes or too short (field ``secret``), the
            retention is not a valid setting (field ``retention``), or ``base_url`` is not an
            absolute http(s) URL (field ``base_url``).
    """

    secret: bytes = field(repr=False)
    retention: Retention = DEFAULT_RETENTION
    base_url: str | None = None
    recovery_mode: bool = False
    secure_context: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < MIN_SECRET_BYTES:
            raise InvalidInputError(
                "secret", f"must be at least {MIN_SECRET_BYTES} bytes; see load_server_secret"
            )
        object.__setattr__(self, "retention", parse_retention(self.retention))
        if self.base_url is not None:
            url = self.base_url
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise InvalidInputError("base_url", "must be an absolute http(s) URL")
            object.__setattr__(self, "base_url", url.rstrip("/"))

    @classmethod
    def from_offen_secret(cls, secret: str, **settings: object) -> ServerConfig:
        """Build a configuration from Offen's base64 ``OFFEN_SECRET`` value.

        Args:
            secret: The secret as standard base64 (see `load_server_secret`).
            **settings: Any other field of `ServerConfig` by name.

        Returns:
            The configuration.

        Raises:
            InvalidInputError: The secret or another setting is invalid.
        """
        return cls(load_server_secret(secret), **settings)  # type: ignore[arg-type]

    def cookie(self, name: str, value: str, expires: datetime | None = None) -> Cookie:
        """Make an HttpOnly cookie on ``/api`` with the flags of this instance's context.

        Args:
            name: The cookie name.
            value: The cookie value.
            expires: When it expires (aware), or ``None`` for a session cookie.

        Returns:
            The cookie, ``Secure`` with ``SameSite=None`` in a secure context, else
            ``SameSite=Lax`` without ``Secure`` (as Offen sets its ``user`` cookie).
        """
        return Cookie(
            name,
            value,
            expires,
            secure=self.secure_context,
            same_site="None" if self.secure_context else "Lax",
        )

    def cleared_cookie(self, name: str) -> Cookie:
        """Make the cookie that tells a browser to drop ``name``: empty, expired at the epoch.

        Args:
            name: The cookie name.

        Returns:
            The clearing cookie.
        """
        return self.cookie(name, "", _EPOCH)

    @property
    def retention_period(self) -> timedelta:
        """The retention period as a `timedelta` (186 days for Offen's default)."""
        return self.retention.period

    @property
    def retention_name(self) -> str:
        """The retention setting as given, sent to visitors as ``retentionPeriod``."""
        return self.retention.name
