# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The visitor flows: what Offen's server does for a visitor, without a web framework.

`VisitorFlows` serves the five visitor routes. Each method takes what the HTTP layer read
from the request (the ``user`` cookie, whether ``consent=allow`` was sent, the body or query)
and returns a result that says what to answer (`FlowResult`), or raises an `OffenError` that
`status_for` maps to its status. Nothing is stored unless every input was valid.

The server never sees a visitor's plaintext: payloads and wrapped user secrets are checked
for their shape only and stored verbatim. A visitor is known to an account only by its
secret id, ``hash_fast(visitor id, account.user_salt)``; the raw visitor id (the ``user``
cookie, a UUIDv4 the server mints) is never stored.

Decisions that differ from Offen:

- An empty ``user`` cookie counts as no cookie. Offen stored the events of such a request
  as anonymous events, which nobody can ever decrypt (no secret is tied to them); here
  ``POST /api/events`` answers 400, which makes Offen's vault exchange a new secret and get
  a real visitor id. A cookie that is not a visitor id (not a UUID) is refused alike, and
  replaced by the exchange.
- The exchange checks that the wrapped secret is as long as an RSA-OAEP ciphertext under the
  account's key, and stamps the account's current key version into it (``{1,v}``) when the
  account keeps its key pairs (``account_keys``) and the client sent none.
- A second exchange for the same visitor parks the old secret and events as Offen does, in
  one transaction (Offen stored the new secret outside it).
- Purge also deletes the visitor's secrets (Offen left them); the next event then answers
  400 and the vault exchanges a new secret.
- ``GET /api/events`` reads by sequence and pages with an optional ``limit`` (``more``).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from offen_core.crypto import CipherString, PublicKey, hash_fast, parse_cipher_string
from offen_core.errors import CryptoError, InvalidInputError, StorageError
from offen_core.events import validate_account_id, validate_event_id
from offen_core.server._config import Cookie, ServerConfig
from offen_core.server.visitor_models import (
    AccountPublicKeyResult,
    EventsResult,
    ExchangeRequest,
    ExchangeResult,
    PostEventRequest,
    PostEventResult,
    PurgeResult,
)
from offen_core.storage import Account, NewEvent, Store

__all__ = ["MAX_EVENTS_LIMIT", "USER_COOKIE", "VisitorFlows", "consent_given"]

_log = logging.getLogger(__name__)

USER_COOKIE: Final = "user"
"""The name of the cookie that holds the visitor id."""

MAX_EVENTS_LIMIT: Final = 100_000
"""The largest page a visitor may ask ``GET /api/events`` for."""

_VISITOR_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII
)
_NO_USER = (
    "received no or blank identifier in the user cookie; "
    "exchange a user secret first (POST /api/exchange)"
)
_BAD_USER = "the user cookie does not hold a visitor id; exchange a user secret again"


def consent_given(cookie: str | None) -> bool:
    """Tell whether the ``consent`` cookie allows storing events.

    Args:
        cookie: The value of the ``consent`` cookie, or ``None`` without one.

    Returns:
        True only for exactly ``allow``, as Offen's server checks it.
    """
    return cookie == "allow"


def _new_visitor_id() -> str:
    return str(uuid.uuid4())


def _utc_now() -> datetime:
    return datetime.now(UTC)


class VisitorFlows:
    """The flows of the visitor routes, over a Store.

    Synchronous and framework-agnostic: an ASGI server runs them in a thread pool. Throttling
    is not done here; call `ThrottleStep.check` before each flow.

    Args:
        store: The Store (migrated).
        config: The server configuration (retention, cookie flags).
        clock: Returns the current time, an aware datetime, for cookie expiry; defaults to
            the system clock (tests pass `offen_core.testing.FakeClock.now`).
        new_visitor_id: Mints a visitor id for a visitor without one; defaults to a random
            UUIDv4 (as Offen).
    """

    def __init__(
        self,
        store: Store,
        config: ServerConfig,
        *,
        clock: Callable[[], datetime] | None = None,
        new_visitor_id: Callable[[], str] | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock or _utc_now
        self._new_visitor_id = new_visitor_id or _new_visitor_id

    # --- GET /api/exchange --------------------------------------------------------------

    def public_key(self, account_id: object) -> AccountPublicKeyResult:
        """Give an account's public key, for a client to wrap a user secret with.

        Args:
            account_id: The ``accountId`` query parameter.

        Returns:
            The account's id, name, public key and creation time (200).

        Raises:
            InvalidInputError: ``account_id`` is missing or not an account id (400).
            UnknownAccountError: No active account has this id (404).
        """
        if account_id is None or account_id == "":
            raise InvalidInputError("accountId", "is required")
        account = self._store.get_account(validate_account_id(account_id))
        return AccountPublicKeyResult(
            account_id=account.account_id,
            name=account.name,
            public_key=_public_jwk(account.public_key),
            created=account.created,
        )

    # --- POST /api/exchange -------------------------------------------------------------

    def exchange(
        self, user_id: str | None, body: bytes | str | Mapping[str, Any]
    ) -> ExchangeResult:
        """Store a visitor's user secret, wrapped for an account, under its secret id.

        The visitor id comes from the ``user`` cookie; without one (or with one that is not
        a visitor id) a new one is minted. When the visitor already has a secret for the
        account, the old secret and its events are parked under an unlinkable secret id
        (see `offen_core.storage.Store.exchange_secret`); the visitor's clients see those
        events as deleted, the operators keep them.

        Args:
            user_id: The ``user`` cookie's value, or ``None``.
            body: The request body ``{"accountId", "encryptedSecret"}``.

        Returns:
            204 with the ``user`` cookie to set, expiring after the retention period.

        Raises:
            InvalidInputError: The body is invalid, or the secret cannot be an RSA-OAEP
                value under the account's key (400).
            UnknownAccountError: No active account has this id (404).
        """
        request = ExchangeRequest.parse(body)
        account = self._store.get_account(request.account_id)
        encrypted_secret = self._stamped_secret(account, request.encrypted_secret)

        visitor = _visitor_or_none(user_id)
        created = visitor is None
        if visitor is None:
            visitor = self._new_visitor_id()
        secret_id = hash_fast(visitor, account.user_salt)
        parked_id = hash_fast(_new_visitor_id(), account.user_salt)
        parked = self._store.exchange_secret(
            account.account_id, secret_id, encrypted_secret, parked_secret_id=parked_id
        )
        if parked:
            _log.debug("exchange replaced a secret; the old events were parked")
        return ExchangeResult(
            user_id=visitor,
            created_user=created,
            parked=parked,
            user_cookie=self._user_cookie(visitor),
        )

    # --- POST /api/events ---------------------------------------------------------------

    def post_event(
        self, user_id: str | None, consent: bool, body: bytes | str | Mapping[str, Any]
    ) -> PostEventResult:
        """Store one encrypted event of a visitor.

        Without consent nothing is read and nothing stored: the answer is a silent 204, the
        same whatever the body, so a script cannot tell why. With consent the visitor must
        have a ``user`` cookie and a secret for the account.

        Args:
            user_id: The ``user`` cookie's value, or ``None``.
            consent: Whether the request carried ``consent=allow`` (see `consent_given`).
            body: The request body ``{"accountId", "payload"}``.

        Returns:
            201 ``{"ack": true}`` with a refreshed ``user`` cookie, or 204 without consent.

        Raises:
            InvalidInputError: No or blank ``user`` cookie, or an invalid body (400).
            UnknownSecretError: The visitor has no secret for this account; the client must
                exchange again (400).
            UnknownAccountError: No active account has this id (404).
        """
        if not consent:
            return PostEventResult(stored=False)
        visitor = _require_visitor(user_id)
        request = PostEventRequest.parse(body)
        account = self._store.get_account(request.account_id)
        secret_id = hash_fast(visitor, account.user_salt)
        (stored,) = self._store.insert_events(
            [NewEvent(account.account_id, secret_id, request.payload)]
        )
        return PostEventResult(
            stored=True, event_id=stored.event_id, user_cookie=self._user_cookie(visitor)
        )

    # --- GET /api/events ----------------------------------------------------------------

    def events(
        self,
        user_id: str | None,
        since: str | None = None,
        limit: int | str | None = None,
    ) -> EventsResult:
        """Give a visitor's own events, over every account, after a cursor.

        The visitor id is hashed with the salt of every account (retired ones too, whose
        events remain until they expire). Events and deletions are read by sequence, so
        nothing committed late is skipped; the returned cursor trails by the Store's safety
        lag and clients de-duplicate by event id. Deleted ids are sent only with a cursor (a
        first sync has nothing to delete), as Offen does.

        Args:
            user_id: The ``user`` cookie's value, or ``None``.
            since: The ``since`` query parameter (a sequence), or ``None``/``""``.
            limit: The ``limit`` query parameter: the page size, from 1 to
                `MAX_EVENTS_LIMIT`, or ``None`` for everything.

        Returns:
            200 with the events grouped by account, deletions, cursor and retention.

        Raises:
            InvalidInputError: No or blank ``user`` cookie, or a bad ``since`` or ``limit``
                (400).
        """
        visitor = _require_visitor(user_id)
        cursor = validate_event_id(since, "since") if since else None
        size = _page_size(limit)
        secret_ids = self._secret_ids(visitor)
        if not secret_ids:
            return EventsResult((), (), None, self._config.retention_name)
        page = self._store.events_for_secrets(
            secret_ids, since=cursor, limit=size, include_deleted=cursor is not None
        )
        return EventsResult(
            events=page.events,
            deleted_event_ids=page.deleted_event_ids,
            sequence=page.sequence,
            retention_period=self._config.retention_name,
            more=page.more,
        )

    # --- POST /api/purge ----------------------------------------------------------------

    def purge(self, user_id: str | None, forget: bool = False) -> PurgeResult:
        """Delete a visitor's events and secrets in every account.

        Each deleted event leaves a tombstone, so the visitor's other devices and the
        operators drop it at their next sync. One transaction.

        Args:
            user_id: The ``user`` cookie's value, or ``None``.
            forget: Whether the request asked to drop the visitor id too (``?user=1``, sent
                by the vault when consent is withdrawn).

        Returns:
            204, with a clearing ``user`` cookie when ``forget`` is set.

        Raises:
            InvalidInputError: No or blank ``user`` cookie (400).
        """
        visitor = _require_visitor(user_id)
        deleted = self._store.purge_secrets(self._secret_ids(visitor))
        cookie = self._config.cleared_cookie(USER_COOKIE) if forget else None
        return PurgeResult(events_deleted=deleted, user_cookie=cookie)

    # --- helpers ------------------------------------------------------------------------

    def _user_cookie(self, visitor: str) -> Cookie:
        expires = self._clock() + self._config.retention_period
        return self._config.cookie(USER_COOKIE, visitor, expires)

    def _secret_ids(self, visitor: str) -> list[str]:
        return [hash_fast(visitor, account.user_salt) for account in self._store.list_accounts()]

    def _stamped_secret(self, account: Account, encrypted_secret: str) -> str:
        """Check the wrapped secret against the account's key and stamp its key version."""
        cipher = parse_cipher_string(encrypted_secret)
        kept = {key.key_version: key for key in self._store.account_keys(account.account_id)}
        if cipher.key_version is not None:
            if cipher.key_version not in kept:
                raise InvalidInputError(
                    "encryptedSecret", "names a key version this account does not have"
                )
            public_key = kept[cipher.key_version].public_key
            version: int | None = cipher.key_version
        else:
            public_key = account.public_key
            version = next(
                (v for v, key in kept.items() if _same_key(key.public_key, public_key)), None
            )
        size = _public_key(public_key).key_size // 8
        if len(cipher.cipher) != size:
            raise InvalidInputError(
                "encryptedSecret",
                "must be encrypted with the account's public key from GET /api/exchange",
            )
        if version is None or version == cipher.key_version:
            return encrypted_secret
        return str(CipherString(cipher.algo, version, cipher.cipher, None))


def _visitor_or_none(user_id: str | None) -> str | None:
    """The visitor id of a cookie, or None when it is absent, blank or not a visitor id."""
    if not user_id or not isinstance(user_id, str) or not _VISITOR_ID.fullmatch(user_id):
        return None
    return user_id


def _require_visitor(user_id: str | None) -> str:
    if user_id is None or not isinstance(user_id, str) or not user_id.strip():
        raise InvalidInputError(USER_COOKIE, _NO_USER)
    if not _VISITOR_ID.fullmatch(user_id):
        raise InvalidInputError(USER_COOKIE, _BAD_USER)
    return user_id


def _page_size(limit: int | str | None) -> int | None:
    if limit is None or limit == "":
        return None
    rule = f"must be a whole number from 1 to {MAX_EVENTS_LIMIT}"
    if isinstance(limit, str):
        if not limit.isascii() or not limit.isdigit() or len(limit) > 6:
            raise InvalidInputError("limit", rule)
        limit = int(limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_EVENTS_LIMIT:
        raise InvalidInputError("limit", rule)
    return limit


def _public_jwk(text: str) -> dict[str, Any]:
    try:
        jwk = json.loads(text)
    except ValueError:
        jwk = None
    if not isinstance(jwk, dict):
        raise StorageError("the account's public key is unreadable; check the database")
    return jwk


def _public_key(text: str) -> PublicKey:
    try:
        return PublicKey.from_jwk(_public_jwk(text))
    except CryptoError:
        raise StorageError("the account's public key is unreadable; check the database") from None


def _same_key(first: str, second: str) -> bool:
    if first == second:
        return True
    try:
        one, two = _public_jwk(first), _public_jwk(second)
    except StorageError:
        return False
    return one.get("n") == two.get("n") and one.get("e") == two.get("e")
