# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Signed tokens for operators: the auth cookie, invitations and password resets.

Each purpose is its own kind of token with its own signing key and a fixed lifetime, so a
token of one kind is refused where another is expected and no token outlives its purpose.
Offen signed all of them with one codec whose lifetime was changed before each use (an invite
issued after a login expired after a day, an auth cookie issued after an invite lasted a week);
here the lifetime belongs to the kind.

Tokens are signed with HMAC-SHA256 (itsdangerous), not encrypted: do not put anything in one
that its holder may not read. Reset tokens, and invite tokens in recovery mode, carry a
one-time key on purpose; they travel only by mail to the person they are meant for.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from offen_core.errors import InvalidInputError, InvalidTokenError

__all__ = [
    "AUTH_TOKEN_LIFETIME",
    "INVITE_TOKEN_LIFETIME",
    "MAX_TOKEN_LENGTH",
    "RESET_TOKEN_LIFETIME",
    "AuthClaims",
    "InviteClaims",
    "ResetClaims",
    "TokenKind",
    "TokenSigner",
    "credential_stamp",
]

AUTH_TOKEN_LIFETIME = timedelta(hours=24)
"""How long an auth cookie is accepted after it was issued."""

INVITE_TOKEN_LIFETIME = timedelta(days=7)
"""How long an invitation link is accepted after it was sent."""

RESET_TOKEN_LIFETIME = timedelta(hours=24)
"""How long a password reset link is accepted after it was sent."""

MAX_TOKEN_LENGTH = 4096
"""Longer strings are refused without being parsed."""


class TokenKind(StrEnum):
    """The purposes a token can serve; each signs with a key of its own."""

    AUTH = "auth"
    INVITE = "invite"
    RESET = "reset"


_LIFETIMES = {
    TokenKind.AUTH: AUTH_TOKEN_LIFETIME,
    TokenKind.INVITE: INVITE_TOKEN_LIFETIME,
    TokenKind.RESET: RESET_TOKEN_LIFETIME,
}


@dataclass(frozen=True)
class AuthClaims:
    """What an auth token says.

    Attributes:
        account_user_id: The operator it was issued to.
        stamp: The `credential_stamp` of the operator's password hash at issue; a password
            change or reset makes every older token useless.
    """

    account_user_id: str
    stamp: str


@dataclass(frozen=True)
class InviteClaims:
    """What an invitation token says.

    Attributes:
        email: The invitee's normalised email address.
        one_time_key: In recovery mode, the one-time key (standard base64 of 32 bytes) that
            unwraps the KEKs of the invitation; ``None`` for Offen's invitations, whose KEKs
            are wrapped under the email-derived key.
    """

    email: str
    one_time_key: str | None = None

    def __repr__(self) -> str:
        return "InviteClaims(email=..., one_time_key=...)"


@dataclass(frozen=True)
class ResetClaims:
    """What a password reset token says.

    Attributes:
        email: The operator's normalised email address.
        one_time_key: The one-time key (standard base64 of 32 bytes) that unwraps the
            key-encryption keys stored for this reset.
        stamp: The `credential_stamp` of the password hash when the reset was asked for; once
            the password changes, the token is spent.
    """

    email: str
    one_time_key: str
    stamp: str

    def __repr__(self) -> str:
        return "ResetClaims(email=..., one_time_key=..., stamp=...)"


def credential_stamp(hashed_password: str) -> str:
    """Return a short fingerprint of a stored password hash, to bind tokens to it.

    Args:
        hashed_password: The ``hashed_password`` column (empty for an invited operator).

    Returns:
        16 hex characters; they reveal nothing useful about the password.
    """
    return hashlib.sha256(
        b"offen_core.credential-stamp\x00" + hashed_password.encode()
    ).hexdigest()[:16]


class _ClockedSigner(TimestampSigner):
    """A timestamp signer that reads the time from the clock its serializer was given."""

    clock: Callable[[], float] = time.time

    def get_timestamp(self) -> int:
        return int(self.clock())


class TokenSigner:
    """Issues and checks the operator tokens of one server.

    Args:
        secret: The server secret (`ServerConfig.secret`), at least 16 bytes. Every process of
            one site must use the same secret, or tokens issued by one are refused by another.
        clock: Returns the current time in seconds since the epoch; `time.time` by default,
            `offen_core.testing.FakeClock.time` in tests.

    Raises:
        InvalidInputError: If ``secret`` is shorter than 16 bytes.
    """

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(secret, bytes) or len(secret) < 16:
            raise InvalidInputError(
                "secret", "must be at least 16 bytes; make one with offen-core secret"
            )
        signer = type("_Signer", (_ClockedSigner,), {"clock": staticmethod(clock)})
        self._serializers = {
            kind: URLSafeTimedSerializer(
                secret,
                salt=f"offen_core.token.{kind.value}",
                serializer=json,
                signer=signer,
                signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
            )
            for kind in TokenKind
        }

    def __repr__(self) -> str:
        return "TokenSigner(secret=...)"

    def issue_auth(self, account_user_id: str, stamp: str) -> str:
        """Return an auth token for an operator that just logged in.

        Args:
            account_user_id: The operator's id.
            stamp: `credential_stamp` of the operator's current password hash.

        Returns:
            The token, URL-safe text for the ``auth`` cookie.
        """
        return self._issue(TokenKind.AUTH, {"u": account_user_id, "s": stamp})

    def read_auth(self, token: object) -> AuthClaims:
        """Check an auth token and return what it says.

        Args:
            token: The value of the ``auth`` cookie.

        Returns:
            The claims.

        Raises:
            InvalidTokenError: If the token is malformed, forged, of another kind or older than
                `AUTH_TOKEN_LIFETIME`.
        """
        claims = self._read(TokenKind.AUTH, token)
        return AuthClaims(account_user_id=_text(claims, "u"), stamp=_text(claims, "s"))

    def issue_invite(self, email: str, one_time_key: str | None = None) -> str:
        """Return an invitation token for the given (normalised) invitee address.

        Args:
            email: The invitee's normalised address.
            one_time_key: In recovery mode, the one-time key (standard base64) the
                invitation's KEKs are wrapped under; it travels only inside the token.

        Returns:
            The token, URL-safe text for the join link.
        """
        claims = {"e": email}
        if one_time_key is not None:
            claims["k"] = one_time_key
        return self._issue(TokenKind.INVITE, claims)

    def read_invite(self, token: object) -> InviteClaims:
        """Check an invitation token and return what it says.

        Args:
            token: The token from the join link.

        Returns:
            The claims.

        Raises:
            InvalidTokenError: If the token is malformed, forged, of another kind or older than
                `INVITE_TOKEN_LIFETIME`.
        """
        claims = self._read(TokenKind.INVITE, token)
        key = _text(claims, "k") if "k" in claims else None
        return InviteClaims(email=_text(claims, "e"), one_time_key=key)

    def issue_reset(self, email: str, one_time_key: str, stamp: str) -> str:
        """Return a password reset token.

        Args:
            email: The operator's normalised address.
            one_time_key: The one-time key the reset unwraps the key-encryption keys with.
            stamp: `credential_stamp` of the operator's current password hash.

        Returns:
            The token, URL-safe text for the reset link.
        """
        return self._issue(TokenKind.RESET, {"e": email, "k": one_time_key, "s": stamp})

    def read_reset(self, token: object) -> ResetClaims:
        """Check a password reset token and return what it says.

        Args:
            token: The token from the reset link.

        Returns:
            The claims.

        Raises:
            InvalidTokenError: If the token is malformed, forged, of another kind or older than
                `RESET_TOKEN_LIFETIME`.
        """
        claims = self._read(TokenKind.RESET, token)
        return ResetClaims(
            email=_text(claims, "e"), one_time_key=_text(claims, "k"), stamp=_text(claims, "s")
        )

    def _issue(self, kind: TokenKind, claims: dict[str, str]) -> str:
        token: str = self._serializers[kind].dumps({"kind": kind.value, **claims})
        return token

    def _read(self, kind: TokenKind, token: object) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidTokenError(f"the {kind.value} token is missing or malformed")
        max_age = int(_LIFETIMES[kind].total_seconds())
        try:
            claims = self._serializers[kind].loads(token, max_age=max_age)
        except SignatureExpired:
            raise InvalidTokenError(
                f"the {kind.value} token has expired; ask for a new one"
            ) from None
        except (BadSignature, ValueError, TypeError):
            raise InvalidTokenError(
                f"the {kind.value} token is not valid here: forged, damaged or of another kind"
            ) from None
        if not isinstance(claims, dict) or claims.get("kind") != kind.value:
            raise InvalidTokenError(f"the {kind.value} token is not valid here")
        return claims


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidTokenError("the token lacks a claim it needs")
    return value
