# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The operator side of a server: setup, login, accounts, sharing and credentials.

`Operators` holds every flow an operator drives, with Offen's key chain:

```
password --argon2id(salt)--> password key --AES-GCM--> KEK (32 bytes, one per account)
email    --argon2id(salt)--> email key    --AES-GCM--> KEK     (Offen's recovery path)
KEK --AES-GCM--> the account's RSA private key (JWK)
```

The server sees each KEK while it unwraps or re-wraps it (login, share, join, credential
changes), as Offen's does, and a new account's private key while it creates it; it never
decrypts a user secret or an event payload.

What differs from Offen (see the guide "The operator side of a server"):

- operators are found by a keyed hash of their normalised address (`email_lookup`), not by an
  argon2 scan over all of them; operators adopted from Offen are scanned for, over those rows
  only, and get the lookup column at their next login;
- an unknown address costs the same argon2 work as a known one with a wrong password;
- tokens have one kind per purpose and a fixed lifetime; an auth token dies with a password
  change, a reset token once it is used;
- mail links are built from `ServerConfig.base_url`, never from a ``urlTemplate``;
- sharing never demotes an admin and never duplicates a pending invitation;
- status codes follow the design's table, through `offen_core.server.status_for`.

Throttling sits in front of these flows (`offen_core.server.throttling`); the flows never
call a throttle, so the HTTP layer must run the throttle step first.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from offen_core.crypto import (
    KeyPair,
    check_password_policy,
    decrypt_symmetric,
    derive_key,
    encrypt_symmetric,
    generate_key_pair,
    hash_password,
    needs_upgrade,
    new_fast_salt,
    new_kdf_salt,
    random_bytes,
    random_value,
    verify_password,
)
from offen_core.errors import (
    ConflictError,
    DecryptionError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    InvalidTokenError,
    NotFoundError,
    OffenError,
    StorageError,
)
from offen_core.events import is_ulid, validate_account_id, validate_account_name
from offen_core.server._config import Cookie, ServerConfig
from offen_core.server._email import email_lookup, normalize_email
from offen_core.server.keys import FIRST_KEY_VERSION, rewrap_account_keys, rotate_key_pair
from offen_core.server.mail import (
    MailDeliveryError,
    Mailer,
    MailMessage,
    OutboxMailer,
    invitation_message,
    invite_link,
    reset_link,
    reset_message,
)
from offen_core.server.operator_models import (
    AccountView,
    ChangeEmailRequest,
    ChangePasswordRequest,
    CreateAccountRequest,
    CreateAccountResult,
    ForgotPasswordRequest,
    JoinRequest,
    LoginAccount,
    LoginRequest,
    LoginResult,
    NoContentResult,
    RecoverRequest,
    RecoveryKeyRequest,
    RecoveryKeyResult,
    ResetPasswordRequest,
    RotateKekRequest,
    RotateKeyPairRequest,
    RotationResult,
    SetupRequest,
    ShareAccountRequest,
    ShareResult,
    WrappedKey,
)
from offen_core.server.recovery import (
    RecoveryCredentials,
    new_recovery_credentials,
    open_recovery_private_key,
    parse_recovery_key,
    seal_kek,
    unseal_kek,
)
from offen_core.server.tokens import TokenSigner, credential_stamp
from offen_core.storage import Account, AccountKey, AccountUser, Relationship, Store

__all__ = [
    "AUTH_COOKIE",
    "DEFAULT_OUTBOX",
    "FIRST_KEY_VERSION",
    "SUPER_ADMIN",
    "OperatorSession",
    "Operators",
]

_log = logging.getLogger(__name__)

AUTH_COOKIE: Final = "auth"
"""The name of the cookie that carries the auth token, as in Offen."""

SUPER_ADMIN: Final = 1
"""The admin level of an operator who may create, retire and share accounts."""

DEFAULT_OUTBOX: Final = Path("offen-outbox")
"""Where the default mailer writes messages, relative to the working directory."""

_KEK_BYTES = 32
_MAX_PAGE = 100_000
_BAD_CREDENTIALS = "the email address or the password is wrong"
_BAD_REAUTH = "re-authentication failed: give your own email address and current password"
_NOT_ADMIN = "only a super-admin may do this"
_NO_ACCESS = "you have no access to this account"
_SPENT = "the token is no longer valid: it was used already or the password changed since"
_BAD_RECOVERY = "the email address or the recovery key is wrong"
_RECOVERY_OFF = "recovery keys are not enabled on this instance; use POST /api/forgot-password"
_RESET_OFF = (
    "password reset by mail is off on this instance (recovery keys are on); "
    "use POST /api/recover with your recovery key"
)


@dataclass(frozen=True)
class OperatorSession:
    """A logged-in operator, as read from a valid auth token (see `Operators.authenticate`).

    Attributes:
        account_user_id: The operator's id.
        admin_level: 1 for a super-admin, 0 otherwise.
        account_ids: The accounts the operator has accepted access to.
    """

    account_user_id: str
    admin_level: int
    account_ids: frozenset[str]

    @property
    def is_admin(self) -> bool:
        """Whether the operator is a super-admin."""
        return self.admin_level == SUPER_ADMIN

    def can_access(self, account_id: str) -> bool:
        """Whether the operator may open the account.

        Args:
            account_id: The account's id.

        Returns:
            ``True`` when the operator has an accepted relationship to it.
        """
        return account_id in self.account_ids


@dataclass(frozen=True)
class _Found:
    """An operator found by address, with the spelling their email-derived keys use."""

    user: AccountUser
    key_email: str
    adopted: bool


@dataclass(frozen=True)
class _Invitee:
    """An operator to invite again after a KEK rotation, with the keys of their invitation."""

    email: str
    user: AccountUser
    created: bool
    email_key: bytes | None = field(repr=False)
    one_time_key: bytes | None = field(repr=False)


class _Tally:
    """Relationships and an operator record changed by a flow, written in one transaction."""

    def __init__(self, user: AccountUser) -> None:
        self.original = user
        self.user = user
        self.relationships: dict[str, Relationship] = {}

    def change(self, relationship: Relationship) -> None:
        self.relationships[relationship.relationship_id] = relationship

    def current(self, relationship: Relationship) -> Relationship:
        return self.relationships.get(relationship.relationship_id, relationship)

    def write(self, store: Store) -> None:
        if self.user == self.original and not self.relationships:
            return
        with store.transaction() as transaction:
            if self.user != self.original:
                transaction.update_account_user(self.user)
            for relationship in self.relationships.values():
                transaction.update_relationship(relationship)


class Operators:
    """The operator flows of one server.

    Every method validates its input before it reads or writes anything, and raises an
    `OffenError` subclass that `offen_core.server.status_for` maps to the design's status
    code. Methods that take a ``body`` accept the raw JSON body (bytes or text) or the object
    a framework decoded from it.

    Args:
        store: The Store (migrated).
        config: The instance's settings: its secret keys the tokens and the email lookup, its
            base URL builds mail links.
        mailer: Sends invitations and reset mails; an `OutboxMailer` writing to
            `DEFAULT_OUTBOX` by default.
        key_pair_factory: Makes an account's RSA key pair; RSA-4096 by
            `offen_core.crypto.generate_key_pair` by default. Tests pass
            `offen_core.testing.KeyPairPool`.
        clock: Returns the current time (aware); used for ``created`` and token ages.
        tokens: The token signer; one keyed with ``config.secret`` on ``clock`` by default.
        argon2_threads: The thread count for Offen's deprecated algo-2 hashes and salts (its
            ``OFFEN_ARGONNUMCPUOVERRIDE``); other versions ignore it.

    With ``config.recovery_mode`` on, the flows write no email-wrapped KEKs: each operator gets
    a recovery key (`offen_core.server.recovery`), setup and join return it once
    (`RecoveryKeyResult`), invitations carry their KEKs under a one-time key inside the
    invite token, and `recover` replaces forgot and reset password.
    """

    def __init__(
        self,
        store: Store,
        config: ServerConfig,
        *,
        mailer: Mailer | None = None,
        key_pair_factory: Callable[[], KeyPair] = generate_key_pair,
        clock: Callable[[], datetime] | None = None,
        tokens: TokenSigner | None = None,
        argon2_threads: int = 4,
    ) -> None:
        self._store = store
        self._config = config
        self._mailer: Mailer = mailer if mailer is not None else OutboxMailer(DEFAULT_OUTBOX)
        self._key_pair_factory = key_pair_factory
        self._clock = clock or _utc_now
        self._tokens = tokens or TokenSigner(config.secret, clock=lambda: self._clock().timestamp())
        self._threads = argon2_threads
        self._dummy: tuple[str, str] | None = None
        self._dummy_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Operators({self._store!r})"

    @property
    def tokens(self) -> TokenSigner:
        """The token signer (to check an invite or reset token before its route's throttle)."""
        return self._tokens

    # --- setup ----------------------------------------------------------------------------

    def setup_status(self) -> NoContentResult:
        """Tell whether the instance may be set up (``GET /api/setup``).

        Returns:
            A 204 result when the instance is empty.

        Raises:
            ForbiddenError: The instance holds data already (403).
        """
        if not self._store.is_empty():
            raise ForbiddenError("this instance is set up already")
        return NoContentResult()

    def setup(self, body: object) -> NoContentResult | RecoveryKeyResult:
        """Set up an empty instance: its first account and its first operator, a super-admin.

        Args:
            body: ``{"accountName", "emailAddress", "password"}``.

        Returns:
            A 204 result; in recovery-key mode a 200 result with the operator's recovery key,
            to show them once.

        Raises:
            InvalidInputError: The body is invalid (400).
            PasswordPolicyError: The password breaks the policy (400).
            ConflictError: The instance holds data already (409); nothing is written.
        """
        request = SetupRequest.parse(body)
        name = validate_account_name(request.account_name)
        email = normalize_email(request.email_address)
        check_password_policy(request.password)
        if not self._store.is_empty():
            raise ConflictError("this instance is set up already")

        salt = new_kdf_salt()
        user = AccountUser(
            account_user_id=str(uuid.uuid4()),
            hashed_email=hash_password(email),
            hashed_password=hash_password(request.password),
            salt=salt,
            admin_level=SUPER_ADMIN,
            email_lookup=self._lookup(email),
        )
        password_key = derive_key(request.password, salt, threads=self._threads)
        recovery = self._new_recovery()
        email_key = None if recovery else derive_key(email, salt, threads=self._threads)
        if recovery is not None:
            user = recovery.apply(user)
        account, key, kek = self._new_account(name)
        relationship = _grant(user, account.account_id, kek, password_key, email_key)

        with self._store.transaction() as transaction:
            transaction.lock_instance()  # a racing setup waits here, then finds the rows
            if not transaction.is_empty():
                raise ConflictError("this instance is set up already")
            transaction.create_account_user(user)
            transaction.create_account(account, [relationship], [key])
        _log.debug("instance set up with its first account and operator")
        return self._recovery_result(recovery)

    # --- login ----------------------------------------------------------------------------

    def login(self, body: object) -> LoginResult:
        """Log an operator in (``POST /api/login``) and accept their pending invitations.

        The argon2 work is the same for an unknown address, a wrong password and a right
        one: one password verification and one key derivation (against a dummy record when
        the address is unknown). A successful login adds one derivation when invitations are
        pending (the email key) and one hash when the password hash has a deprecated version
        (it is upgraded). An operator adopted from Offen is found by Offen's scan over the
        rows without a lookup hash, then gets one, with hashes of the normalised address.

        Args:
            body: ``{"username", "password"}``; the username is the email address.

        Returns:
            Offen's login result with each account's KEK, and the ``auth`` cookie.

        Raises:
            InvalidInputError: The body is invalid (400).
            InvalidCredentialsError: No operator has this address and password (401).
        """
        request = LoginRequest.parse(body)
        email = normalize_email(request.username, "username")
        found = self._find(request.username, email)
        if found is None or not found.user.hashed_password:
            self._dummy_work(request.password)
            raise InvalidCredentialsError(_BAD_CREDENTIALS)
        user = found.user
        password_key = self._verify_and_derive(request.password, user)
        if password_key is None:
            raise InvalidCredentialsError(_BAD_CREDENTIALS)

        tally = _Tally(user)
        keks = self._accept_and_unwrap(tally, found, password_key)
        if needs_upgrade(user.hashed_password):
            tally.user = replace(tally.user, hashed_password=hash_password(request.password))
        if found.adopted:
            self._adopt(tally, found, email, keks)
        tally.write(self._store)

        accounts = self._store.get_accounts(keks, include_retired=False)
        entries = tuple(
            LoginAccount(
                account_id=account_id,
                account_name=accounts[account_id].name,
                created=accounts[account_id].created,
                key_encryption_key=kek,
            )
            for account_id, kek in keks.items()
            if account_id in accounts
        )
        token = self._tokens.issue_auth(
            user.account_user_id, credential_stamp(tally.user.hashed_password)
        )
        return LoginResult(
            account_user_id=user.account_user_id,
            admin_level=int(user.admin_level),
            accounts=entries,
            auth_cookie=self._auth_cookie(token),
        )

    def authenticate(self, token: object) -> OperatorSession:
        """Check an auth token and read the operator it was issued to.

        Args:
            token: The value of the ``auth`` cookie.

        Returns:
            The session: the operator's id, admin level and accessible accounts.

        Raises:
            InvalidTokenError: The token is missing, malformed, forged, of another kind or
                expired, the operator no longer exists, or their password changed since it
                was issued (401: clear the cookie).
        """
        claims = self._tokens.read_auth(token)
        try:
            user = self._store.get_account_user(claims.account_user_id)
        except NotFoundError:
            raise InvalidTokenError("the auth token names no operator; log in again") from None
        stamp = credential_stamp(user.hashed_password)
        if not user.hashed_password or not hmac.compare_digest(stamp, claims.stamp):
            raise InvalidTokenError("the password changed since this login; log in again")
        relationships = self._store.relationships_for_user(user.account_user_id)
        return OperatorSession(
            account_user_id=user.account_user_id,
            admin_level=int(user.admin_level),
            account_ids=frozenset(item.account_id for item in relationships),
        )

    def login_status(self, session: OperatorSession) -> LoginResult:
        """Describe a logged-in operator without keys (``GET /api/login``).

        Offen returns only account ids here; this returns names and creation times as well,
        which the operator may see anyway.

        Args:
            session: From `authenticate`.

        Returns:
            The login result without KEKs and without a cookie.
        """
        accounts = self._store.get_accounts(session.account_ids, include_retired=False)
        entries = tuple(
            LoginAccount(account_id=item.account_id, account_name=item.name, created=item.created)
            for item in sorted(accounts.values(), key=lambda item: item.account_id)
        )
        return LoginResult(session.account_user_id, session.admin_level, entries)

    def logout(self) -> NoContentResult:
        """Log out (``POST /api/logout``): tell the browser to drop the ``auth`` cookie.

        Returns:
            A 204 result that clears the cookie.
        """
        return NoContentResult(cookies=(self._cleared_auth_cookie(),))

    # --- accounts -------------------------------------------------------------------------

    def account_view(
        self,
        session: OperatorSession,
        account_id: object,
        *,
        since: object = None,
        limit: object = None,
    ) -> AccountView:
        """Read an account for its operator (``GET /api/accounts/{id}``).

        Args:
            session: From `authenticate`.
            account_id: The account's id.
            since: The cursor of the previous call (``sequence``), or ``None``/``""``.
            limit: The page size (a positive integer or its decimal text), or ``None`` for
                no limit, as Offen.

        Returns:
            The public key, the wrapped private key (and older ones after a rotation), the
            events and deleted events after the cursor, the wrapped user secrets of the
            returned events, the retention setting and the next cursor.

        Raises:
            InvalidInputError: The id, cursor or limit is invalid (400).
            ForbiddenError: The operator has no access to the account (403).
            UnknownAccountError: The account does not exist or is retired (404).
        """
        account_id = validate_account_id(account_id, "accountId")
        cursor = _cursor(since)
        page_size = _limit(limit)
        if not session.can_access(account_id):
            raise ForbiddenError(_NO_ACCESS)
        account = self._store.get_account(account_id)
        page = self._store.events_for_account(
            account_id, since=cursor, limit=page_size, include_deleted=cursor is not None
        )
        secrets = self._store.get_secrets(
            {event.secret_id for event in page.events if event.secret_id is not None}
        )
        older = tuple(
            WrappedKey(
                key_version=key.key_version,
                public_key=_jwk(key.public_key),
                encrypted_private_key=key.encrypted_private_key,
                created=key.created,
            )
            for key in self._store.account_keys(account_id)
            if key.encrypted_private_key != account.encrypted_private_key
        )
        events = tuple(
            _event_json(event.event_id, event.secret_id, event.payload) for event in page.events
        )
        return AccountView(
            account_id=account.account_id,
            name=account.name,
            public_key=_jwk(account.public_key),
            encrypted_private_key=account.encrypted_private_key,
            events=events,
            deleted_event_ids=page.deleted_event_ids,
            sequence=page.sequence,
            secrets=secrets,
            account_styles=account.account_styles,
            created=account.created,
            retention_period=self._config.retention_name,
            more=page.more,
            keys=older,
        )

    def create_account(self, session: OperatorSession, body: object) -> CreateAccountResult:
        """Create an account for a super-admin who gives their credentials again.

        The account gets an RSA key pair from the key-pair factory, a fresh 32-byte KEK that
        wraps the private key, and a salt for its secret ids; the creator gets access with
        the KEK wrapped under their password key and email key.

        Args:
            session: From `authenticate`.
            body: ``{"accountName", "emailAddress", "password"}``.

        Returns:
            A 201 result with the new account's id.

        Raises:
            InvalidInputError: The body is invalid (400).
            InvalidCredentialsError: The credentials are not the operator's own (401).
            ForbiddenError: The operator is not a super-admin (403).
            ConflictError: An account of that name exists, retired ones included (409).
        """
        request = CreateAccountRequest.parse(body)
        name = validate_account_name(request.account_name)
        email = normalize_email(request.email_address)
        user, password_key = self._reauthenticate(session, email, request.password)
        if not session.is_admin:
            raise ForbiddenError(_NOT_ADMIN)
        if self._store.account_name_taken(name):
            raise ConflictError("an account of this name exists; choose another name")

        email_key = (
            None
            if self._config.recovery_mode
            else derive_key(email, user.salt, threads=self._threads)
        )
        account, key, kek = self._new_account(name)
        relationship = _grant(user, account.account_id, kek, password_key, email_key)
        self._store.create_account(account, [relationship], [key])
        return CreateAccountResult(account.account_id)

    def retire_account(self, session: OperatorSession, account_id: object) -> NoContentResult:
        """Retire an account (``DELETE /api/accounts/{id}``): every operator loses access.

        Its events and secrets stay until they expire; visitors still read their own.

        Args:
            session: From `authenticate`.
            account_id: The account's id.

        Returns:
            A 204 result.

        Raises:
            InvalidInputError: The id is not a UUID (400).
            ForbiddenError: The operator is not a super-admin or has no access (403).
            UnknownAccountError: The account does not exist or is retired already (404).
        """
        account_id = validate_account_id(account_id, "accountId")
        if not session.is_admin:
            raise ForbiddenError(_NOT_ADMIN)
        self._store.get_account(account_id)
        if not session.can_access(account_id):
            raise ForbiddenError(_NO_ACCESS)
        self._store.retire_account(account_id)
        return NoContentResult()

    # --- sharing --------------------------------------------------------------------------

    def share_account(
        self, session: OperatorSession, body: object, account_id: object = None
    ) -> ShareResult:
        """Share one or all of a super-admin's accounts with another operator.

        Each shared account becomes a pending invitation of the invitee: the KEK wrapped under
        the key derived from the invitee's address. An invitee who has a password accepts it
        at their next login; a new one joins with the link mailed to them. Sharing again
        while an invitation is pending mails it again and writes nothing twice. An existing
        invitee's admin level is raised when asked, never lowered.

        Args:
            session: From `authenticate`.
            body: ``{"invitee", "emailAddress", "password", "grantAdminPrivileges"}`` and an
                ignored ``urlTemplate``.
            account_id: The one account to share, or ``None`` for all of the operator's.

        Returns:
            A 204 result saying what was shared and whether the mail went out. A mail that
            fails leaves the invitation in place; share again to resend it.

        Raises:
            InvalidInputError: The body or the id is invalid (400).
            InvalidCredentialsError: The credentials are not the operator's own (401).
            ForbiddenError: Not a super-admin, or no access to the account (403).
            ConflictError: The invitee has every requested account already (409).
            MailDeliveryError: A new invitee needs a link and ``config.base_url`` is not set
                (500); nothing is written.
        """
        request = ShareAccountRequest.parse(body)
        invitee_email = normalize_email(request.invitee, "invitee")
        email = normalize_email(request.email_address)
        wanted = None if account_id is None else validate_account_id(account_id, "accountId")
        user, password_key = self._reauthenticate(session, email, request.password)
        if not session.is_admin:
            raise ForbiddenError(_NOT_ADMIN)
        if wanted is not None and not session.can_access(wanted):
            raise ForbiddenError(_NO_ACCESS)

        own = [
            item
            for item in self._store.relationships_for_user(user.account_user_id)
            if wanted is None or item.account_id == wanted
        ]
        found = self._find(request.invitee, invitee_email)
        invitee = found.user if found is not None else None
        held = (
            {
                item.account_id: item
                for item in self._store.relationships_for_user(
                    invitee.account_user_id, include_pending=True
                )
            }
            if invitee is not None
            else {}
        )
        new_grants = [item for item in own if item.account_id not in held]
        resend = [item for item in own if item.account_id in held and held[item.account_id].pending]
        if not new_grants and not resend:
            raise ConflictError("the invitee has access to every requested account already")
        invitee_exists = invitee is not None and bool(invitee.hashed_password)
        recovery_mode = self._config.recovery_mode
        if (recovery_mode or not invitee_exists) and self._config.base_url is None:
            raise MailDeliveryError(
                "set ServerConfig.base_url so that invitation links can be built"
            )

        created = invitee is None
        if invitee is None:
            invitee = AccountUser(
                account_user_id=str(uuid.uuid4()),
                hashed_email=hash_password(invitee_email),
                hashed_password="",
                salt=new_kdf_salt(),
                admin_level=SUPER_ADMIN if request.grant_admin_privileges else 0,
                email_lookup=self._lookup(invitee_email),
            )
        key_email = found.key_email if found is not None else invitee_email
        grants: list[Relationship] = []
        renewed: list[Relationship] = []
        one_time_key = random_bytes(_KEK_BYTES) if recovery_mode else None
        if new_grants:
            invitee_key = (
                None
                if one_time_key is not None
                else derive_key(key_email, invitee.salt, threads=self._threads)
            )
            for item in new_grants:
                kek = _unwrap(password_key, item.password_encrypted_key_encryption_key)
                if kek is None:
                    continue
                grants.append(_invitation(invitee, item.account_id, kek, invitee_key, one_time_key))
        if one_time_key is not None:
            # The new link carries a new one-time key: pending invitations to the sharer's
            # accounts move under it, so the latest link opens all of them.
            for item in resend:
                kek = _unwrap(password_key, item.password_encrypted_key_encryption_key)
                if kek is not None:
                    renewed.append(
                        replace(
                            held[item.account_id],
                            one_time_encrypted_key_encryption_key=encrypt_symmetric(
                                one_time_key, kek
                            ),
                        )
                    )
        promote = (
            not created and request.grant_admin_privileges and invitee.admin_level != SUPER_ADMIN
        )
        with self._store.transaction() as transaction:
            if created:
                transaction.create_account_user(invitee)
            elif promote:
                transaction.update_account_user(replace(invitee, admin_level=SUPER_ADMIN))
            transaction.create_relationships(grants)
            for item in renewed:
                transaction.update_relationship(item)

        shared = {item.account_id for item in grants} | {item.account_id for item in resend}
        names = sorted(
            account.name
            for account in self._store.get_accounts(shared, include_retired=False).values()
        )
        message = self._invitation_mail(invitee_email, names, invitee_exists, one_time_key)
        return ShareResult(
            account_names=tuple(names), invitee_exists=invitee_exists, mail_sent=self._send(message)
        )

    def join(self, body: object) -> NoContentResult | RecoveryKeyResult:
        """Let an invited operator choose a password and accept their invitations.

        In recovery-key mode the invite token carries the one-time key the invitation's KEKs
        are wrapped under; an operator who has a password already accepts with that password
        (it is checked, not changed), a new one chooses a password and gets a recovery key.

        Args:
            body: ``{"emailAddress", "password", "token"}``; the token from the join link.

        Returns:
            A 204 result; a 200 result with the recovery key when one was made (recovery-key
            mode), to show the operator once.

        Raises:
            InvalidInputError: The body is invalid, or (recovery-key mode) an operator who
                has a password gave another one (400).
            InvalidTokenError: The token is invalid, expired, for another address, or the
                operator joined already (400 on this route).
            PasswordPolicyError: The password breaks the policy (400).
        """
        request = JoinRequest.parse(body)
        email = normalize_email(request.email_address)
        claims = self._tokens.read_invite(request.token)
        if not hmac.compare_digest(claims.email.encode(), email.encode()):
            raise InvalidTokenError("the invitation was sent to another email address")
        if claims.one_time_key is not None:
            return self._join_with_key(request, email, claims.one_time_key)
        check_password_policy(request.password)
        found = self._find(request.email_address, email)
        if found is None or found.user.hashed_password:
            raise InvalidTokenError(_SPENT)
        user = found.user

        email_key = derive_key(found.key_email, user.salt, threads=self._threads)
        password_key = derive_key(request.password, user.salt, threads=self._threads)
        tally = _Tally(user)
        tally.user = replace(user, hashed_password=hash_password(request.password))
        if found.adopted and found.key_email == email:
            # Only when the email-wrapped keys already use the normalised address; otherwise
            # the first login adopts the operator fully.
            tally.user = replace(tally.user, email_lookup=self._lookup(email))
        recovery = self._new_recovery()
        if recovery is not None:
            tally.user = recovery.apply(tally.user)
        for item in self._store.relationships_for_user(user.account_user_id, include_pending=True):
            kek = _unwrap(email_key, item.email_encrypted_key_encryption_key)
            if kek is not None and item.pending:
                tally.change(
                    replace(
                        item,
                        password_encrypted_key_encryption_key=encrypt_symmetric(password_key, kek),
                        recovery_encrypted_key_encryption_key=_sealed(tally.user, kek),
                    )
                )
        tally.write(self._store)
        return self._recovery_result(recovery)

    def _join_with_key(
        self, request: JoinRequest, email: str, encoded_key: str
    ) -> NoContentResult | RecoveryKeyResult:
        """Join (or accept, for an operator with a password) with a token's one-time key."""
        one_time_key = _token_key(encoded_key)
        found = self._find(request.email_address, email)
        if found is None:
            raise InvalidTokenError(_SPENT)
        user = found.user
        relationships = self._store.relationships_for_user(
            user.account_user_id, include_pending=True
        )
        keks: dict[str, bytes] = {}
        for item in relationships:
            if item.pending:
                kek = _unwrap(one_time_key, item.one_time_encrypted_key_encryption_key)
                if kek is not None:
                    keks[item.relationship_id] = kek

        tally = _Tally(user)
        if user.hashed_password:
            password_key = self._verify_and_derive(request.password, user)
            if password_key is None:
                raise InvalidInputError(
                    "password", "is not this operator's password: give the one you log in with"
                )
            if not keks:
                raise InvalidTokenError(_SPENT)
        else:
            check_password_policy(request.password)
            if not keks:
                raise InvalidTokenError(_SPENT)
            password_key = derive_key(request.password, user.salt, threads=self._threads)
            tally.user = replace(user, hashed_password=hash_password(request.password))

        recovery = None
        if self._config.recovery_mode and not user.recovery_public_key:
            recovery = new_recovery_credentials()
            tally.user = recovery.apply(tally.user)
            # An operator who had accounts before gets recovery copies of those KEKs too.
            for item in relationships:
                if not item.pending:
                    kek = _unwrap(password_key, item.password_encrypted_key_encryption_key)
                    if kek is not None:
                        tally.change(
                            replace(
                                item, recovery_encrypted_key_encryption_key=_sealed(tally.user, kek)
                            )
                        )
        for item in relationships:
            kek = keks.get(item.relationship_id)
            if kek is not None:
                tally.change(
                    replace(
                        item,
                        password_encrypted_key_encryption_key=encrypt_symmetric(password_key, kek),
                        one_time_encrypted_key_encryption_key="",
                        recovery_encrypted_key_encryption_key=_sealed(tally.user, kek),
                    )
                )
        tally.write(self._store)
        return self._recovery_result(recovery)

    # --- credentials ----------------------------------------------------------------------

    def change_password(self, session: OperatorSession, body: object) -> NoContentResult:
        """Change the logged-in operator's password; every auth token issued before dies.

        Args:
            session: From `authenticate`.
            body: ``{"currentPassword", "changedPassword"}``.

        Returns:
            A 204 result that clears the ``auth`` cookie (log in again).

        Raises:
            InvalidInputError: The body is invalid (400).
            PasswordPolicyError: The new password breaks the policy (400).
            InvalidCredentialsError: The current password is wrong (401).
        """
        request = ChangePasswordRequest.parse(body)
        check_password_policy(request.changed_password)
        user = self._session_user(session)
        old_key = self._verify_and_derive(request.current_password, user)
        if old_key is None:
            raise InvalidCredentialsError("the current password is wrong")

        new_key = derive_key(request.changed_password, user.salt, threads=self._threads)
        tally = _Tally(user)
        tally.user = replace(user, hashed_password=hash_password(request.changed_password))
        for item in self._store.relationships_for_user(user.account_user_id):
            kek = _unwrap(old_key, item.password_encrypted_key_encryption_key)
            if kek is not None:
                tally.change(
                    replace(
                        item, password_encrypted_key_encryption_key=encrypt_symmetric(new_key, kek)
                    )
                )
        tally.write(self._store)
        return NoContentResult(cookies=(self._cleared_auth_cookie(),))

    def change_email(self, session: OperatorSession, body: object) -> NoContentResult:
        """Change the logged-in operator's email address and re-wrap the email-wrapped KEKs.

        Args:
            session: From `authenticate`.
            body: ``{"emailAddress", "emailCurrent", "password"}``.

        Returns:
            A 204 result that clears the ``auth`` cookie (log in again).

        Raises:
            InvalidInputError: The body is invalid, or the new address is the current one
                (400).
            InvalidCredentialsError: The current address or the password is wrong (401).
            ConflictError: Another operator has the new address (409).
        """
        request = ChangeEmailRequest.parse(body)
        new_email = normalize_email(request.email_address)
        current = normalize_email(request.email_current, "emailCurrent")
        if new_email == current:
            raise InvalidInputError("emailAddress", "must differ from the current address")
        user, password_key = self._reauthenticate(session, current, request.password)
        if self._find(request.email_address, new_email) is not None:
            raise ConflictError("another operator has this email address")

        relationships = self._store.relationships_for_user(
            user.account_user_id, include_pending=True
        )
        tally = _Tally(user)
        tally.user = replace(
            user, hashed_email=hash_password(new_email), email_lookup=self._lookup(new_email)
        )
        if self._config.recovery_mode:
            # No email-wrapped copy is written in recovery-key mode: accepted ones are removed;
            # only invitations still waiting on an old email copy move to the new address.
            for item in relationships:
                if not item.pending and item.email_encrypted_key_encryption_key:
                    tally.change(replace(item, email_encrypted_key_encryption_key=""))
            relationships = [
                item
                for item in relationships
                if item.pending and item.email_encrypted_key_encryption_key
            ]
        if relationships or not self._config.recovery_mode:
            self._rewrap_email_copies(tally, relationships, current, new_email, password_key)
        try:
            tally.write(self._store)
        except ConflictError:
            raise ConflictError("another operator has this email address") from None
        return NoContentResult(cookies=(self._cleared_auth_cookie(),))

    def _rewrap_email_copies(
        self,
        tally: _Tally,
        relationships: Sequence[Relationship],
        current: str,
        new_email: str,
        password_key: bytes,
    ) -> None:
        user = tally.original
        old_key = derive_key(current, user.salt, threads=self._threads)
        new_key = derive_key(new_email, user.salt, threads=self._threads)
        for item in relationships:
            kek = _unwrap(old_key, item.email_encrypted_key_encryption_key)
            if kek is None and not item.pending:
                kek = _unwrap(password_key, item.password_encrypted_key_encryption_key)
            if kek is not None:
                tally.change(
                    replace(
                        item, email_encrypted_key_encryption_key=encrypt_symmetric(new_key, kek)
                    )
                )

    def forgot_password(self, body: object) -> NoContentResult:
        """Mail a password reset link, if an operator has this address.

        The answer is the same whether or not the address is known and whether or not the
        mail goes out; an unknown address costs the same argon2 work (one derivation). The
        link carries a one-time key that unwraps copies of the KEKs stored for this reset.

        Args:
            body: ``{"emailAddress"}`` and an ignored ``urlTemplate``.

        Returns:
            A 204 result, always.

        Raises:
            InvalidInputError: The body is invalid (400).
            MailDeliveryError: ``config.base_url`` is not set, so no link can be built (500,
                for every address alike).
            NotFoundError: Recovery-key mode is on: `recover` replaces this route (404).
        """
        request = ForgotPasswordRequest.parse(body)
        email = normalize_email(request.email_address)
        if self._config.recovery_mode:
            raise NotFoundError(_RESET_OFF)
        if self._config.base_url is None:
            raise MailDeliveryError("set ServerConfig.base_url so that reset links can be built")
        found = self._find(request.email_address, email)
        if found is None or not found.user.hashed_password:
            self._dummy_derivation(email)
            return NoContentResult()
        user = found.user

        one_time_key = random_bytes(_KEK_BYTES)
        email_key = derive_key(found.key_email, user.salt, threads=self._threads)
        tally = _Tally(user)
        for item in self._store.relationships_for_user(user.account_user_id):
            kek = _unwrap(email_key, item.email_encrypted_key_encryption_key)
            if kek is not None:
                tally.change(
                    replace(
                        item,
                        one_time_encrypted_key_encryption_key=encrypt_symmetric(one_time_key, kek),
                    )
                )
        tally.write(self._store)
        token = self._tokens.issue_reset(
            email,
            base64.b64encode(one_time_key).decode("ascii"),
            credential_stamp(user.hashed_password),
        )
        self._send(reset_message(email, reset_link(self._config.base_url, token)))
        return NoContentResult()

    def reset_password(self, body: object) -> NoContentResult:
        """Set a new password with the one-time key of a reset link.

        Each KEK stored for the reset is unwrapped with the one-time key and wrapped under the
        new password; the one-time copies are removed. The token is then spent (it is bound
        to the old password hash).

        Args:
            body: ``{"emailAddress", "password", "token"}``.

        Returns:
            A 204 result.

        Raises:
            InvalidInputError: The body is invalid (400).
            InvalidTokenError: The token is invalid, expired, spent, or for another address
                (400 on this route).
            PasswordPolicyError: The password breaks the policy (400).
            NotFoundError: Recovery-key mode is on: `recover` replaces this route (404).
        """
        request = ResetPasswordRequest.parse(body)
        email = normalize_email(request.email_address)
        if self._config.recovery_mode:
            raise NotFoundError(_RESET_OFF)
        claims = self._tokens.read_reset(request.token)
        if not hmac.compare_digest(claims.email.encode(), email.encode()):
            raise InvalidTokenError("the reset link was sent to another email address")
        check_password_policy(request.password)
        found = self._find(request.email_address, email)
        if found is None or not found.user.hashed_password:
            raise InvalidTokenError(_SPENT)
        user = found.user
        stamp = credential_stamp(user.hashed_password)
        if not hmac.compare_digest(stamp, claims.stamp):
            raise InvalidTokenError(_SPENT)
        try:
            one_time_key = base64.b64decode(claims.one_time_key, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidTokenError("the reset token is damaged") from None

        relationships = self._store.relationships_for_user(user.account_user_id)
        keks: dict[str, bytes] = {}
        for item in relationships:
            if item.one_time_encrypted_key_encryption_key:
                kek = _unwrap(one_time_key, item.one_time_encrypted_key_encryption_key)
                if kek is None:
                    raise InvalidTokenError("the reset token does not match the stored keys")
                keks[item.relationship_id] = kek
        password_key = derive_key(request.password, user.salt, threads=self._threads)
        missing = [item for item in relationships if item.relationship_id not in keks]
        if missing:
            # Granted after the reset was asked for: reach these through the email key.
            email_key = derive_key(found.key_email, user.salt, threads=self._threads)
            for item in missing:
                kek = _unwrap(email_key, item.email_encrypted_key_encryption_key)
                if kek is not None:
                    keks[item.relationship_id] = kek

        tally = _Tally(user)
        tally.user = replace(user, hashed_password=hash_password(request.password))
        if found.adopted and found.key_email == email:
            tally.user = replace(tally.user, email_lookup=self._lookup(email))
        for item in relationships:
            kek = keks.get(item.relationship_id)
            if kek is not None:
                tally.change(
                    replace(
                        item,
                        password_encrypted_key_encryption_key=encrypt_symmetric(password_key, kek),
                        one_time_encrypted_key_encryption_key="",
                    )
                )
        tally.write(self._store)
        return NoContentResult()

    # --- recovery keys --------------------------------------------------------------------

    def recover(self, body: object) -> NoContentResult:
        """Set a new password with the recovery key (``POST /api/recover``, recovery-key mode).

        The recovery key opens the operator's recovery private key, which opens the recovery
        copy of each KEK; each is wrapped under the new password. Every auth token issued
        before dies (the password hash changes); the recovery key stays valid. A wrong
        address and a wrong recovery key fail alike and before any argon2 work (the login
        guard throttles this route); success costs two argon2 runs (hash and key).

        Accounts granted without a recovery copy (before the operator had a recovery key and
        without a login since) cannot be recovered this way; they stay as they are.

        Args:
            body: ``{"emailAddress", "recoveryKey", "password"}``.

        Returns:
            A 204 result that clears the ``auth`` cookie.

        Raises:
            InvalidInputError: The body is invalid, or the recovery key is not in the form it
                was shown in (its checksum does not match) (400).
            PasswordPolicyError: The new password breaks the policy (400).
            InvalidCredentialsError: No operator has this address and recovery key (401).
            NotFoundError: Recovery-key mode is off on this instance (404).
        """
        if not self._config.recovery_mode:
            raise NotFoundError(_RECOVERY_OFF)
        request = RecoverRequest.parse(body)
        email = normalize_email(request.email_address)
        recovery_key = parse_recovery_key(request.recovery_key)
        check_password_policy(request.password)
        user = self._store.find_account_user_by_lookup(self._lookup(email))
        if user is None or not user.hashed_password or not user.recovery_encrypted_private_key:
            raise InvalidCredentialsError(_BAD_RECOVERY)
        try:
            private_key = open_recovery_private_key(
                recovery_key, user.recovery_encrypted_private_key
            )
        except DecryptionError:
            raise InvalidCredentialsError(_BAD_RECOVERY) from None

        relationships = self._store.relationships_for_user(user.account_user_id)
        keks: dict[str, bytes] = {}
        for item in relationships:
            if item.recovery_encrypted_key_encryption_key:
                try:
                    keks[item.relationship_id] = unseal_kek(
                        private_key, item.recovery_encrypted_key_encryption_key
                    )
                except DecryptionError:
                    _log.debug("a recovery copy of a key-encryption key did not open")
        password_key = derive_key(request.password, user.salt, threads=self._threads)
        tally = _Tally(user)
        tally.user = replace(user, hashed_password=hash_password(request.password))
        for item in relationships:
            kek = keks.get(item.relationship_id)
            if kek is not None:
                tally.change(
                    replace(
                        item,
                        password_encrypted_key_encryption_key=encrypt_symmetric(password_key, kek),
                        one_time_encrypted_key_encryption_key="",
                    )
                )
        tally.write(self._store)
        return NoContentResult(cookies=(self._cleared_auth_cookie(),))

    def new_recovery_key(self, session: OperatorSession, body: object) -> RecoveryKeyResult:
        """Give the logged-in operator a new recovery key (recovery-key mode).

        A new recovery key pair replaces the old one (the old recovery key stops working) and
        every KEK the operator holds is wrapped under the new public key. An operator adopted
        from Offen, or one who joined before recovery keys were on, gets their first one this
        way.

        Args:
            session: From `authenticate`.
            body: ``{"password"}``, the operator's current password.

        Returns:
            A 200 result with the recovery key, to show the operator once.

        Raises:
            InvalidInputError: The body is invalid (400).
            InvalidCredentialsError: The password is wrong (401).
            NotFoundError: Recovery-key mode is off on this instance (404).
        """
        if not self._config.recovery_mode:
            raise NotFoundError(_RECOVERY_OFF)
        request = RecoveryKeyRequest.parse(body)
        user = self._session_user(session)
        password_key = self._verify_and_derive(request.password, user)
        if password_key is None:
            raise InvalidCredentialsError("the password is wrong")

        recovery = new_recovery_credentials()
        tally = _Tally(user)
        tally.user = recovery.apply(user)
        for item in self._store.relationships_for_user(user.account_user_id, include_pending=True):
            kek = _unwrap(password_key, item.password_encrypted_key_encryption_key)
            sealed = None if kek is None else seal_kek(recovery.public_key, kek)
            # A pending invitation's KEK is out of reach here; its old recovery copy would
            # be under the old key, so it goes (the join gives a new one).
            if sealed != item.recovery_encrypted_key_encryption_key:
                tally.change(replace(item, recovery_encrypted_key_encryption_key=sealed))
        tally.write(self._store)
        return RecoveryKeyResult(recovery.formatted_key)

    # --- key rotation ---------------------------------------------------------------------

    def rotate_key_pair(
        self, session: OperatorSession, account_id: object, body: object
    ) -> RotationResult:
        """Give an account a new key pair; the old ones stay for the secrets wrapped with them.

        The new pair comes from the key-pair factory and becomes current in ``accounts``
        (visitors fetching the public key get it); every pair stays in ``account_keys`` under
        the same KEK, and operators read the older ones in the account view's ``keys``. See
        `offen_core.server.keys`.

        Args:
            session: From `authenticate`.
            account_id: The account's id.
            body: ``{"emailAddress", "password"}``, the operator's own credentials again.

        Returns:
            A 200 result with the new key version.

        Raises:
            InvalidInputError: The body or the id is invalid (400).
            InvalidCredentialsError: The credentials are not the operator's own (401).
            ForbiddenError: Not a super-admin, or no access to the account (403).
            UnknownAccountError: The account does not exist or is retired (404).
            ConflictError: Another rotation of the account ran at the same time (409).
        """
        request = RotateKeyPairRequest.parse(body)
        account_id = validate_account_id(account_id, "accountId")
        email = normalize_email(request.email_address)
        kek = self._rotation_access(session, account_id, email, request.password)[1]

        pair = self._key_pair_factory()
        with self._store.transaction() as transaction:
            account = transaction.get_account(account_id)
            _, key = rotate_key_pair(transaction, account, kek, pair, self._clock())
        _log.debug("rotated an account's key pair")
        return RotationResult(account_id, key.key_version)

    def rotate_kek(
        self, session: OperatorSession, account_id: object, body: object
    ) -> RotationResult:
        """Give an account a new KEK and key pair after an operator lost access.

        A new KEK wraps every private key of the account, and a new key pair becomes current
        (a removed operator who kept the old KEK could otherwise open secrets written from
        now on). The rotating operator's copies (password, recovery and, by default, email)
        are rewritten; every other operator's copy, pending invitations included, is deleted;
        the addresses in ``invitees`` are invited again as `share_account` would. Nothing
        written afterwards opens with the old KEK.

        Args:
            session: From `authenticate`.
            account_id: The account's id.
            body: ``{"emailAddress", "password", "invitees"}``: the operator's own credentials
                again and the addresses to invite again (default none).

        Returns:
            A 200 result with the new key version and how many copies were removed and
            invitations made.

        Raises:
            InvalidInputError: The body or the id is invalid, or ``invitees`` holds the
                operator's own address (400).
            InvalidCredentialsError: The credentials are not the operator's own (401).
            ForbiddenError: Not a super-admin, or no access to the account (403).
            UnknownAccountError: The account does not exist or is retired (404).
            ConflictError: Another rotation of the account ran at the same time (409).
            MailDeliveryError: Someone is to be invited and ``config.base_url`` is not set
                (500); nothing is written.
        """
        request = RotateKekRequest.parse(body)
        account_id = validate_account_id(account_id, "accountId")
        email = normalize_email(request.email_address)
        invitees = sorted({normalize_email(item, "invitees") for item in request.invitees})
        if email in invitees:
            raise InvalidInputError("invitees", "must not hold your own address")
        user, old_kek, password_key = self._rotation_access(
            session, account_id, email, request.password
        )
        if invitees and self._config.base_url is None:
            raise MailDeliveryError(
                "set ServerConfig.base_url so that invitation links can be built"
            )

        recovery_mode = self._config.recovery_mode
        new_kek = random_bytes(_KEK_BYTES)
        pair = self._key_pair_factory()
        own_email_key = (
            None if recovery_mode else derive_key(email, user.salt, threads=self._threads)
        )
        invited: list[_Invitee] = []
        for invitee_email in invitees:
            found = self._find(invitee_email, invitee_email)
            invitee = found.user if found is not None else self._new_invitee(invitee_email)
            key_email = found.key_email if found is not None else invitee_email
            invited.append(
                _Invitee(
                    email=invitee_email,
                    user=invitee,
                    created=found is None,
                    email_key=None
                    if recovery_mode
                    else derive_key(key_email, invitee.salt, threads=self._threads),
                    one_time_key=random_bytes(_KEK_BYTES) if recovery_mode else None,
                )
            )

        removed = 0
        with self._store.transaction() as transaction:
            account = transaction.get_account(account_id)
            account = rewrap_account_keys(transaction, account, old_kek, new_kek)
            account, key = rotate_key_pair(transaction, account, new_kek, pair, self._clock())
            for item in transaction.relationships_for_account(account_id, include_pending=True):
                if item.account_user_id != user.account_user_id or item.pending:
                    transaction.delete_relationship(item.relationship_id)
                    removed += 1
                    continue
                transaction.update_relationship(
                    replace(
                        item,
                        password_encrypted_key_encryption_key=encrypt_symmetric(
                            password_key, new_kek
                        ),
                        email_encrypted_key_encryption_key=""
                        if own_email_key is None
                        else encrypt_symmetric(own_email_key, new_kek),
                        one_time_encrypted_key_encryption_key="",
                        recovery_encrypted_key_encryption_key=_sealed(user, new_kek),
                    )
                )
            for entry in invited:
                if entry.created:
                    transaction.create_account_user(entry.user)
                transaction.create_relationships(
                    [
                        _invitation(
                            entry.user, account_id, new_kek, entry.email_key, entry.one_time_key
                        )
                    ]
                )

        for entry in invited:
            exists = bool(entry.user.hashed_password)
            self._send(
                self._invitation_mail(entry.email, [account.name], exists, entry.one_time_key)
            )
        _log.debug("rotated an account's key-encryption key")
        return RotationResult(account_id, key.key_version, invited=len(invited), removed=removed)

    def _rotation_access(
        self, session: OperatorSession, account_id: str, email: str, password: str
    ) -> tuple[AccountUser, bytes, bytes]:
        """Re-authenticate a super-admin with access; give them, the KEK and the password key."""
        user, password_key = self._reauthenticate(session, email, password)
        if not session.is_admin:
            raise ForbiddenError(_NOT_ADMIN)
        if not session.can_access(account_id):
            raise ForbiddenError(_NO_ACCESS)
        self._store.get_account(account_id)
        own = next(
            (
                item
                for item in self._store.relationships_for_user(user.account_user_id)
                if item.account_id == account_id
            ),
            None,
        )
        kek = (
            None
            if own is None
            else _unwrap(password_key, own.password_encrypted_key_encryption_key)
        )
        if kek is None:
            raise ForbiddenError(_NO_ACCESS)
        return user, kek, password_key

    def _new_invitee(self, email: str, *, admin: bool = False) -> AccountUser:
        return AccountUser(
            account_user_id=str(uuid.uuid4()),
            hashed_email=hash_password(email),
            hashed_password="",
            salt=new_kdf_salt(),
            admin_level=SUPER_ADMIN if admin else 0,
            email_lookup=self._lookup(email),
        )

    # --- helpers --------------------------------------------------------------------------

    def _lookup(self, email: str) -> str:
        return email_lookup(self._config.secret, email)

    def _new_recovery(self) -> RecoveryCredentials | None:
        return new_recovery_credentials() if self._config.recovery_mode else None

    @staticmethod
    def _recovery_result(
        recovery: RecoveryCredentials | None, cookies: tuple[Cookie, ...] = ()
    ) -> NoContentResult | RecoveryKeyResult:
        if recovery is None:
            return NoContentResult(cookies=cookies)
        return RecoveryKeyResult(recovery.formatted_key, cookies=cookies)

    def _invitation_mail(
        self,
        email: str,
        names: Sequence[str],
        invitee_exists: bool,
        one_time_key: bytes | None,
    ) -> MailMessage:
        """The mail of an invitation; in recovery-key mode every invitee gets a link."""
        base_url = self._config.base_url
        link = None
        if base_url is not None and (one_time_key is not None or not invitee_exists):
            key = None if one_time_key is None else base64.b64encode(one_time_key).decode("ascii")
            link = invite_link(base_url, self._tokens.issue_invite(email, key))
        if invitee_exists and link is not None:
            return _existing_operator_invitation(email, link, names)
        return invitation_message(email, link, names, new_operator=not invitee_exists)

    def _auth_cookie(self, token: str) -> Cookie:
        # Offen's auth cookie is a session cookie, SameSite=Lax: the auditorium is first-party.
        return Cookie(AUTH_COOKIE, token, None, secure=self._config.secure_context, same_site="Lax")

    def _cleared_auth_cookie(self) -> Cookie:
        cleared = self._config.cleared_cookie(AUTH_COOKIE)
        return replace(cleared, same_site="Lax")

    def _send(self, message: MailMessage) -> bool:
        try:
            self._mailer.send(message)
        except MailDeliveryError as error:
            # The error's name only: an SMTP error's text and traceback can hold addresses.
            _log.debug("a mail could not be sent (%s)", type(error.__cause__ or error).__name__)
            return False
        return True

    def _find(self, typed: str, email: str) -> _Found | None:
        """Find an operator by address: the lookup hash first, then Offen's scan if needed."""
        user = self._store.find_account_user_by_lookup(self._lookup(email))
        if user is not None:
            return _Found(user, email, adopted=False)
        return self._scan_adopted(typed, email)

    def _scan_adopted(self, typed: str, email: str) -> _Found | None:
        # Offen's rows hold argon2 hashes of the address as it was typed, each with its own
        # salt; the only way to find one is to compare against each of them.
        candidates = [typed] if typed == email else [typed, email]
        rows = self._store.account_users_without_lookup()
        random.SystemRandom().shuffle(rows)
        for row in rows:
            for candidate in candidates:
                try:
                    if verify_password(candidate, row.hashed_email, threads=self._threads):
                        return _Found(row, candidate, adopted=True)
                except OffenError:
                    continue
        return None

    def _verify_and_derive(self, password: str, user: AccountUser) -> bytes | None:
        """One verification and one derivation, whether or not the password matches."""
        try:
            matches = verify_password(password, user.hashed_password, threads=self._threads)
            key = derive_key(password, user.salt, threads=self._threads)
        except OffenError:
            return None
        return key if matches else None

    def _dummy_record(self) -> tuple[str, str]:
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = (hash_password(random_value(16)), new_kdf_salt())
            return self._dummy

    def _dummy_work(self, password: str) -> None:
        hashed, salt = self._dummy_record()
        try:
            verify_password(password, hashed)
            derive_key(password, salt)
        except OffenError:
            pass

    def _dummy_derivation(self, email: str) -> None:
        _, salt = self._dummy_record()
        derive_key(email, salt)

    def _reauthenticate(
        self, session: OperatorSession, email: str, password: str
    ) -> tuple[AccountUser, bytes]:
        """Check that the credentials are the session operator's own; return the password key."""
        user = self._session_user(session)
        if user.email_lookup is None or not hmac.compare_digest(
            user.email_lookup, self._lookup(email)
        ):
            raise InvalidCredentialsError(_BAD_REAUTH)
        password_key = self._verify_and_derive(password, user)
        if password_key is None:
            raise InvalidCredentialsError(_BAD_REAUTH)
        return user, password_key

    def _session_user(self, session: OperatorSession) -> AccountUser:
        try:
            return self._store.get_account_user(session.account_user_id)
        except NotFoundError:
            raise InvalidCredentialsError("the operator no longer exists; log in again") from None

    def _accept_and_unwrap(
        self, tally: _Tally, found: _Found, password_key: bytes
    ) -> dict[str, bytes]:
        """Accept pending invitations and unwrap every KEK; return the KEKs by account id."""
        user = found.user
        relationships = self._store.relationships_for_user(
            user.account_user_id, include_pending=True
        )
        keks: dict[str, bytes] = {}
        pending = [
            item
            for item in relationships
            if item.pending and item.email_encrypted_key_encryption_key
        ]
        if pending:
            email_key = derive_key(found.key_email, user.salt, threads=self._threads)
            for item in pending:
                kek = _unwrap(email_key, item.email_encrypted_key_encryption_key)
                if kek is None:
                    _log.debug("a pending invitation could not be unwrapped; it stays pending")
                    continue
                tally.change(
                    replace(
                        item,
                        password_encrypted_key_encryption_key=encrypt_symmetric(password_key, kek),
                    )
                )
                keks[item.account_id] = kek
        for item in relationships:
            if not item.pending:
                kek = _unwrap(password_key, item.password_encrypted_key_encryption_key)
                if kek is None:
                    _log.debug("a key-encryption key did not unwrap with the password key")
                    continue
                keks[item.account_id] = kek
        if user.recovery_public_key:
            # Every KEK the operator holds also gets a copy under their recovery public key;
            # grants written before they had one get it here.
            for item in relationships:
                current = tally.current(item)
                kek = keks.get(item.account_id)
                if (
                    kek is not None
                    and not current.pending
                    and not current.recovery_encrypted_key_encryption_key
                ):
                    sealed = seal_kek(user.recovery_public_key, kek)
                    tally.change(replace(current, recovery_encrypted_key_encryption_key=sealed))
        return dict(sorted(keks.items()))

    def _adopt(self, tally: _Tally, found: _Found, email: str, keks: Mapping[str, bytes]) -> None:
        """Give an operator adopted from Offen the lookup hash and normalised hashes."""
        tally.user = replace(
            tally.user, email_lookup=self._lookup(email), hashed_email=hash_password(email)
        )
        if found.key_email == email or self._config.recovery_mode:
            return
        email_key = derive_key(email, found.user.salt, threads=self._threads)
        relationships = self._store.relationships_for_user(
            found.user.account_user_id, include_pending=True
        )
        for item in relationships:
            kek = keks.get(item.account_id)
            if kek is not None:
                current = tally.current(item)
                tally.change(
                    replace(
                        current,
                        email_encrypted_key_encryption_key=encrypt_symmetric(email_key, kek),
                    )
                )

    def _new_account(self, name: str) -> tuple[Account, AccountKey, bytes]:
        pair = self._key_pair_factory()
        kek = random_bytes(_KEK_BYTES)
        public_jwk = json.dumps(pair.public_key.to_jwk(), separators=(",", ":"), sort_keys=True)
        private_jwk = json.dumps(pair.private_key.to_jwk(), separators=(",", ":"), sort_keys=True)
        encrypted_private_key = encrypt_symmetric(kek, private_jwk.encode("utf-8"))
        now = self._clock()
        account = Account(
            account_id=str(uuid.uuid4()),
            name=name,
            public_key=public_jwk,
            encrypted_private_key=encrypted_private_key,
            user_salt=new_fast_salt(),
            created=now,
        )
        key = AccountKey(
            account_id=account.account_id,
            key_version=FIRST_KEY_VERSION,
            public_key=public_jwk,
            encrypted_private_key=encrypted_private_key,
            created=now,
        )
        return account, key, kek


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _grant(
    user: AccountUser, account_id: str, kek: bytes, password_key: bytes, email_key: bytes | None
) -> Relationship:
    """An accepted relationship: the KEK under the password key, and the email key (Offen's
    way) or the operator's recovery public key (recovery-key mode)."""
    return Relationship(
        relationship_id=str(uuid.uuid4()),
        account_user_id=user.account_user_id,
        account_id=account_id,
        password_encrypted_key_encryption_key=encrypt_symmetric(password_key, kek),
        email_encrypted_key_encryption_key=""
        if email_key is None
        else encrypt_symmetric(email_key, kek),
        recovery_encrypted_key_encryption_key=_sealed(user, kek),
    )


def _invitation(
    invitee: AccountUser,
    account_id: str,
    kek: bytes,
    email_key: bytes | None,
    one_time_key: bytes | None,
) -> Relationship:
    """A pending invitation: the KEK under the invitee's email key (Offen's way) or under the
    one-time key of the invite token (recovery-key mode), and under their recovery public key
    when they have one."""
    return Relationship(
        relationship_id=str(uuid.uuid4()),
        account_user_id=invitee.account_user_id,
        account_id=account_id,
        email_encrypted_key_encryption_key=""
        if email_key is None
        else encrypt_symmetric(email_key, kek),
        one_time_encrypted_key_encryption_key=""
        if one_time_key is None
        else encrypt_symmetric(one_time_key, kek),
        recovery_encrypted_key_encryption_key=_sealed(invitee, kek),
    )


def _existing_operator_invitation(to: str, link: str, account_names: Sequence[str]) -> MailMessage:
    names = "\n".join(f"  - {name}" for name in account_names)
    body = (
        "You have been given access to the analytics of these accounts:\n\n"
        f"{names}\n\n"
        "Open this link within 7 days and confirm with your password to add them:\n\n"
        f"{link}\n\n"
        "If you did not expect this, ignore this message.\n"
    )
    return MailMessage(to=to, subject="You have been added to accounts", body=body)


def _sealed(user: AccountUser, kek: bytes) -> str | None:
    """The KEK under the operator's recovery public key, or ``None`` when they have none."""
    if not user.recovery_public_key:
        return None
    return seal_kek(user.recovery_public_key, kek)


def _unwrap(key: bytes, cipher: str) -> bytes | None:
    """Unwrap a KEK, or ``None`` when the cipher is empty, damaged or under another key."""
    if not cipher:
        return None
    try:
        kek = decrypt_symmetric(key, cipher)
    except OffenError:
        return None
    return kek if len(kek) == _KEK_BYTES else None


def _token_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidTokenError("the token's one-time key is damaged") from None
    if len(key) != _KEK_BYTES:
        raise InvalidTokenError("the token's one-time key is damaged")
    return key


def _cursor(since: object) -> str | None:
    if since is None or since == "":
        return None
    if not is_ulid(since):
        raise InvalidInputError("since", "must be a sequence from an earlier answer (a ULID)")
    return since


def _limit(limit: object) -> int | None:
    if limit is None or limit == "":
        return None
    value = limit
    if isinstance(limit, str) and limit.isascii() and limit.isdigit() and len(limit) <= 7:
        value = int(limit)
    if type(value) is not int or not 1 <= value <= _MAX_PAGE:
        raise InvalidInputError("limit", f"must be a whole number from 1 to {_MAX_PAGE}")
    return value


def _jwk(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise StorageError("a stored public key is not JSON; the account is damaged") from None
    if not isinstance(value, dict):
        raise StorageError("a stored public key is not a JWK; the account is damaged")
    return value


def _event_json(event_id: str, secret_id: str | None, payload: str) -> dict[str, Any]:
    data: dict[str, Any] = {"eventId": event_id, "payload": payload}
    if secret_id is not None:
        data["secretId"] = secret_id
    return data
