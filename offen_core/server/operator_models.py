# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Requests and results of the operator flows, with Offen's JSON names.

Request models check shape and size only (types, required fields, lengths); the flows apply
the rules that need more (email normalisation, the password policy, account names). Build a
request from a parsed JSON body with `parse_request`, which turns every problem into an
`InvalidInputError` naming the field. Members Offen's clients send that the library does not
use (``urlTemplate``) are accepted and ignored; other unknown members are ignored too, as in
Offen.

Results are frozen dataclasses with a ``to_json`` method that returns Offen's JSON shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from offen_core.crypto import SymmetricKey
from offen_core.errors import InvalidInputError
from offen_core.events import MAX_ACCOUNT_NAME_LENGTH, MAX_EMAIL_LENGTH
from offen_core.server._config import Cookie
from offen_core.server._status import NoCookies
from offen_core.server.visitor_models import format_time, parse_json_body

__all__ = [
    "AccountView",
    "ChangeEmailRequest",
    "ChangePasswordRequest",
    "CreateAccountRequest",
    "CreateAccountResult",
    "ForgotPasswordRequest",
    "JoinRequest",
    "LoginAccount",
    "LoginRequest",
    "LoginResult",
    "NoContentResult",
    "OperatorRequest",
    "RecoverRequest",
    "RecoveryKeyRequest",
    "RecoveryKeyResult",
    "ResetPasswordRequest",
    "RotateKekRequest",
    "RotateKeyPairRequest",
    "RotationResult",
    "SetupRequest",
    "ShareAccountRequest",
    "ShareResult",
    "WrappedKey",
    "parse_request",
]

# Limits on what is read before any rule applies: room for surrounding white space around an
# address, and for any password a login may still have to accept.
_MAX_EMAIL_INPUT = MAX_EMAIL_LENGTH + 64
_MAX_PASSWORD_INPUT = 256
_MAX_NAME_INPUT = MAX_ACCOUNT_NAME_LENGTH * 4
_MAX_TOKEN_INPUT = 4096
_MAX_URL_TEMPLATE = 2048

_Email = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=_MAX_EMAIL_INPUT)]
_Password = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=_MAX_PASSWORD_INPUT)
]
_Name = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=_MAX_NAME_INPUT)]
_Token = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=_MAX_TOKEN_INPUT)]
_UrlTemplate = Annotated[str, StringConstraints(strict=True, max_length=_MAX_URL_TEMPLATE)]
_RecoveryKey = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=256)]
_MAX_INVITEES = 100


class OperatorRequest(BaseModel):
    """Base of the operator request bodies: immutable, fields by Offen's JSON names."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    def __repr__(self) -> str:
        # Requests carry passwords, addresses and tokens; none of them may reach a log.
        return f"{type(self).__name__}(...)"

    __str__ = __repr__

    @classmethod
    def parse(cls, body: object) -> Self:
        """Build the request from a raw JSON body or a decoded one (see `parse_request`).

        Args:
            body: The raw body (bytes or text), a mapping, or an instance of this class.

        Returns:
            The request.

        Raises:
            InvalidInputError: The body is not a JSON object of the right shape.
        """
        return parse_request(cls, body)


class SetupRequest(OperatorRequest):
    """``POST /api/setup``: the first account and operator of an empty instance.

    Attributes:
        account_name: ``accountName``.
        email_address: ``emailAddress``.
        password: ``password``; must meet the password policy.
    """

    account_name: _Name = Field(alias="accountName")
    email_address: _Email = Field(alias="emailAddress")
    password: _Password


class LoginRequest(OperatorRequest):
    """``POST /api/login``.

    Attributes:
        username: ``username``, the email address.
        password: ``password``.
    """

    username: _Email
    password: _Password


class CreateAccountRequest(OperatorRequest):
    """``POST /api/accounts``: the logged-in operator's credentials again, and a name.

    Attributes:
        account_name: ``accountName``.
        email_address: ``emailAddress``, the operator's own address.
        password: ``password``, the operator's own password.
    """

    account_name: _Name = Field(alias="accountName")
    email_address: _Email = Field(alias="emailAddress")
    password: _Password


class ChangePasswordRequest(OperatorRequest):
    """``POST /api/change-password``.

    Attributes:
        current_password: ``currentPassword``.
        changed_password: ``changedPassword``; must meet the password policy.
    """

    current_password: _Password = Field(alias="currentPassword")
    changed_password: _Password = Field(alias="changedPassword")


class ChangeEmailRequest(OperatorRequest):
    """``POST /api/change-email``.

    Attributes:
        email_address: ``emailAddress``, the new address.
        email_current: ``emailCurrent``, the address used so far.
        password: ``password``.
    """

    email_address: _Email = Field(alias="emailAddress")
    email_current: _Email = Field(alias="emailCurrent")
    password: _Password


class ForgotPasswordRequest(OperatorRequest):
    """``POST /api/forgot-password``.

    Attributes:
        email_address: ``emailAddress``.
        url_template: ``urlTemplate``; accepted for compatibility with Offen's clients and
            ignored (links come from `ServerConfig.base_url`).
    """

    email_address: _Email = Field(alias="emailAddress")
    url_template: _UrlTemplate | None = Field(default=None, alias="urlTemplate")


class ResetPasswordRequest(OperatorRequest):
    """``POST /api/reset-password``.

    Attributes:
        email_address: ``emailAddress``; must be the address the token was issued for.
        password: ``password``, the new password; must meet the password policy.
        token: ``token``, from the reset link.
    """

    email_address: _Email = Field(alias="emailAddress")
    password: _Password
    token: _Token


class ShareAccountRequest(OperatorRequest):
    """``POST /api/share-account[/{id}]``.

    Attributes:
        invitee: ``invitee``, the address of the operator to share with.
        email_address: ``emailAddress``, the sharing operator's own address.
        password: ``password``, the sharing operator's own password.
        url_template: ``urlTemplate``; accepted and ignored.
        grant_admin_privileges: ``grantAdminPrivileges``; make a new invitee a super-admin.
    """

    invitee: _Email
    email_address: _Email = Field(alias="emailAddress")
    password: _Password
    url_template: _UrlTemplate | None = Field(default=None, alias="urlTemplate")
    grant_admin_privileges: StrictBool = Field(default=False, alias="grantAdminPrivileges")


class JoinRequest(OperatorRequest):
    """``POST /api/join``.

    Attributes:
        email_address: ``emailAddress``; must be the address the invitation was sent to.
        password: ``password``, the password to set; must meet the password policy.
        token: ``token``, from the join link.
    """

    email_address: _Email = Field(alias="emailAddress")
    password: _Password
    token: _Token


class RecoverRequest(OperatorRequest):
    """``POST /api/recover`` (recovery-key mode): a new password with the recovery key.

    Attributes:
        email_address: ``emailAddress``.
        recovery_key: ``recoveryKey``, as it was shown (see
            `offen_core.server.recovery.parse_recovery_key`).
        password: ``password``, the new password; must meet the password policy.
    """

    email_address: _Email = Field(alias="emailAddress")
    recovery_key: _RecoveryKey = Field(alias="recoveryKey")
    password: _Password


class RecoveryKeyRequest(OperatorRequest):
    """Ask for a new recovery key (recovery-key mode): the operator's password again.

    Attributes:
        password: ``password``, the logged-in operator's current password.
    """

    password: _Password


class RotateKeyPairRequest(OperatorRequest):
    """Rotate an account's key pair: the logged-in operator's credentials again.

    Attributes:
        email_address: ``emailAddress``, the operator's own address.
        password: ``password``, the operator's own password.
    """

    email_address: _Email = Field(alias="emailAddress")
    password: _Password


class RotateKekRequest(OperatorRequest):
    """Rotate an account's KEK (and key pair) after an operator lost access.

    Attributes:
        email_address: ``emailAddress``, the rotating operator's own address.
        password: ``password``, the rotating operator's own password.
        invitees: ``invitees``, the addresses of the operators to invite again; every other
            operator loses access to the account.
    """

    email_address: _Email = Field(alias="emailAddress")
    password: _Password
    invitees: Annotated[list[_Email], Field(max_length=_MAX_INVITEES)] = Field(default=[])


_Request = TypeVar("_Request", bound=OperatorRequest)


def parse_request(model: type[_Request], body: object) -> _Request:
    """Build a request model from a JSON body.

    Args:
        model: The request class, for example `LoginRequest`.
        body: The raw body (UTF-8 bytes or text, at most 64 KiB), the object a framework
            decoded from it, or an instance of ``model``.

    Returns:
        The request.

    Raises:
        InvalidInputError: If ``body`` is not a JSON object, or a field is missing, of the
            wrong type or too long; the error names the first such field by its JSON name.
    """
    if isinstance(body, model):
        return body
    if not isinstance(body, bytes | bytearray | str | Mapping):
        raise InvalidInputError("body", "must be a JSON object")
    data = parse_json_body(body)
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        location = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidInputError(location, _rule(first["type"])) from None


def _rule(kind: str) -> str:
    if kind == "missing":
        return "is required"
    if kind.startswith("string_too_long"):
        return "is too long"
    if kind.startswith("string_too_short"):
        return "must not be empty"
    if kind.startswith("too_long"):
        return f"has too many entries (at most {_MAX_INVITEES})"
    if kind.startswith("list"):
        return "must be a list"
    if kind.startswith("bool"):
        return "must be true or false"
    if kind.startswith("string"):
        return "must be a string"
    return "is not valid"


@dataclass(frozen=True)
class LoginAccount:
    """One account in a login result.

    Attributes:
        account_id: ``accountId``.
        account_name: ``accountName``.
        created: ``created``.
        key_encryption_key: The account's KEK (32 bytes), sent as an ``oct`` JWK
            ``{"k": ..., "kty": "oct"}`` in ``keyEncryptionKey``; ``None`` in the result of
            ``GET /api/login``, which carries no keys.
    """

    account_id: str
    account_name: str
    created: datetime
    key_encryption_key: bytes | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """Return Offen's JSON shape of the entry."""
        data: dict[str, Any] = {
            "accountName": self.account_name,
            "accountId": self.account_id,
            "created": format_time(self.created),
        }
        if self.key_encryption_key is not None:
            jwk = SymmetricKey(self.key_encryption_key).to_jwk()
            data["keyEncryptionKey"] = {"k": jwk["k"], "kty": "oct"}
        return data


@dataclass(frozen=True)
class LoginResult:
    """What a login returns (Offen's ``LoginResult``), and the ``auth`` cookie to set.

    Attributes:
        account_user_id: ``accountUserId``.
        admin_level: ``adminLevel``: 1 for a super-admin, 0 otherwise.
        accounts: The accounts the operator may open (``null`` in JSON when there are none).
        auth_cookie: The ``auth`` cookie holding the signed auth token (a session cookie);
            ``None`` for the result of ``GET /api/login``.
    """

    account_user_id: str
    admin_level: int
    accounts: tuple[LoginAccount, ...] = ()
    auth_cookie: Cookie | None = None

    @property
    def status(self) -> int:
        """200."""
        return 200

    @property
    def cookies(self) -> tuple[Cookie, ...]:
        """The ``auth`` cookie after a login; none for ``GET /api/login``."""
        return (self.auth_cookie,) if self.auth_cookie is not None else ()

    @property
    def token(self) -> str | None:
        """The auth token (the ``auth`` cookie's value), or ``None``."""
        return self.auth_cookie.value if self.auth_cookie is not None else None

    def body(self) -> dict[str, Any]:
        """Give Offen's JSON: ``accounts`` is ``null`` when there are none.

        Returns:
            ``{"accountUserId", "adminLevel", "accounts"}``.
        """
        return {
            "accountUserId": self.account_user_id,
            "adminLevel": self.admin_level,
            "accounts": [account.to_json() for account in self.accounts] or None,
        }

    to_json = body

    def account(self, account_id: str) -> LoginAccount | None:
        """Return the entry of one account, or ``None`` if the operator has no access.

        Args:
            account_id: The account's id.

        Returns:
            The entry or ``None``.
        """
        return next((entry for entry in self.accounts if entry.account_id == account_id), None)


@dataclass(frozen=True)
class NoContentResult:
    """The outcome of a flow that answers 204 with no body, perhaps with cookies to set.

    Attributes:
        cookies: Cookies to set or clear (change password and email clear ``auth``).
    """

    cookies: tuple[Cookie, ...] = ()

    @property
    def status(self) -> int:
        """204."""
        return 204

    def body(self) -> None:
        """No body."""
        return


@dataclass(frozen=True)
class CreateAccountResult(NoCookies):
    """The outcome of ``POST /api/accounts``: 201 with Offen's ``null`` body.

    Attributes:
        account_id: The new account's id.
    """

    account_id: str

    @property
    def status(self) -> int:
        """201."""
        return 201

    def body(self) -> None:
        """No body (JSON ``null``)."""
        return


@dataclass(frozen=True)
class WrappedKey:
    """An older key pair of an account (key rotation), in the account view's added ``keys``.

    Attributes:
        key_version: ``keyVersion``, as stamped on the secrets wrapped with it.
        public_key: ``publicKey``, the JWK.
        encrypted_private_key: ``encryptedPrivateKey``, under the account's KEK.
        created: ``created``.
    """

    key_version: int
    public_key: Mapping[str, Any]
    encrypted_private_key: str
    created: datetime

    def to_json(self) -> dict[str, Any]:
        """Return the JSON shape of the entry."""
        return {
            "keyVersion": self.key_version,
            "publicKey": dict(self.public_key),
            "encryptedPrivateKey": self.encrypted_private_key,
            "created": format_time(self.created),
        }


@dataclass(frozen=True)
class AccountView(NoCookies):
    """What an operator fetches of one account (``GET /api/accounts/{id}``).

    Attributes:
        account_id: ``accountId``.
        name: ``name``.
        public_key: ``publicKey``, the current public JWK.
        encrypted_private_key: ``encryptedPrivateKey``, under the account's KEK.
        events: The events after the cursor, each ``{"eventId", "secretId"?, "payload"}``,
            grouped under the account id in ``events``.
        deleted_event_ids: ``deletedEvents``, ids of events deleted after the cursor.
        sequence: ``sequence``, the cursor for the next call (omitted when ``None``).
        secrets: ``secrets``, each returned visitor's encrypted user secret by secret id.
        account_styles: ``accountStyles``.
        created: ``created``.
        retention_period: ``retentionPeriod``, the instance's retention setting.
        more: The added member ``more``: ``true`` when the page was full.
        keys: The added member ``keys``: older key pairs of the account, after a rotation.
    """

    account_id: str
    name: str
    public_key: Mapping[str, Any]
    encrypted_private_key: str
    events: tuple[Mapping[str, Any], ...]
    deleted_event_ids: tuple[str, ...]
    sequence: str | None
    secrets: Mapping[str, str]
    account_styles: str
    created: datetime
    retention_period: str
    more: bool = False
    keys: tuple[WrappedKey, ...] = ()

    @property
    def status(self) -> int:
        """200."""
        return 200

    def body(self) -> dict[str, Any]:
        """Give Offen's JSON of the account, with the added members when they apply.

        Returns:
            ``{"accountId", "name", "publicKey", "encryptedPrivateKey", "events",
            "deletedEvents", "secrets", "accountStyles", "created", "retentionPeriod"}``,
            plus ``sequence``, ``more`` and ``keys`` when they apply.
        """
        data: dict[str, Any] = {
            "accountId": self.account_id,
            "name": self.name,
            "publicKey": dict(self.public_key),
            "encryptedPrivateKey": self.encrypted_private_key,
            "events": {self.account_id: [dict(event) for event in self.events]},
            "deletedEvents": list(self.deleted_event_ids),
            "secrets": dict(self.secrets),
            "accountStyles": self.account_styles,
            "created": format_time(self.created),
            "retentionPeriod": self.retention_period,
        }
        if self.sequence is not None:
            data["sequence"] = self.sequence
        if self.more:
            data["more"] = True
        if self.keys:
            data["keys"] = [key.to_json() for key in self.keys]
        return data

    to_json = body


@dataclass(frozen=True)
class ShareResult(NoCookies):
    """What sharing accounts did.

    Attributes:
        account_names: The names of the accounts shared in this call.
        invitee_exists: Whether the invitee already had a password (they get access at their
            next login) rather than having to join first.
        mail_sent: Whether the mail to the invitee was handed to the mailer without error.
    """

    account_names: Sequence[str]
    invitee_exists: bool
    mail_sent: bool

    @property
    def status(self) -> int:
        """204."""
        return 204

    def body(self) -> None:
        """No body."""
        return


@dataclass(frozen=True)
class RecoveryKeyResult:
    """A flow's answer that carries a new recovery key, shown to the operator once.

    Setup and join return it in recovery-key mode (status 200 instead of 204), and so does a
    request for a new recovery key.

    Attributes:
        recovery_key: The recovery key as formatted for people
            (`offen_core.server.recovery.format_recovery_key`); hidden from ``repr``.
        cookies: Cookies to set or clear.
    """

    recovery_key: str = field(repr=False)
    cookies: tuple[Cookie, ...] = ()

    @property
    def status(self) -> int:
        """200."""
        return 200

    def body(self) -> dict[str, Any]:
        """Give ``{"recoveryKey": ...}``: show it to the operator once, never store it."""
        return {"recoveryKey": self.recovery_key}


@dataclass(frozen=True)
class RotationResult(NoCookies):
    """What a key rotation did.

    Attributes:
        account_id: ``accountId``.
        key_version: ``keyVersion``, the version of the account's current key pair now.
        invited: How many operators were invited again (KEK rotation).
        removed: How many other operators' copies of the KEK were deleted (KEK rotation).
    """

    account_id: str
    key_version: int
    invited: int = 0
    removed: int = 0

    @property
    def status(self) -> int:
        """200."""
        return 200

    def body(self) -> dict[str, Any]:
        """Give ``{"accountId", "keyVersion", "invited", "removed"}``."""
        return {
            "accountId": self.account_id,
            "keyVersion": self.key_version,
            "invited": self.invited,
            "removed": self.removed,
        }
