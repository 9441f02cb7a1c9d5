# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Where an operator reads an account from: a database through a Store, or a server over HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from offen_core.errors import InvalidInputError, StorageError
from offen_core.events import validate_account_id
from offen_core.operator._keys import WrappedPrivateKey

if TYPE_CHECKING:
    from offen_core.client.http import OffenClient
    from offen_core.storage import Store

__all__ = [
    "AccountHeader",
    "AccountSource",
    "HttpSource",
    "RawEvent",
    "SourcePage",
    "StoreSource",
]

# The largest ULID: a cursor after every event and tombstone, so a read with it returns none.
_END_OF_TIME = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"


class RawEvent(NamedTuple):
    """An event as a source delivers it: ids and the payload's cipher string, unchecked.

    Attributes:
        event_id: The event id (a ULID, unless the source is damaged).
        secret_id: The visitor's secret id, or ``None`` for an anonymous event.
        payload: The cipher string of the payload.
    """

    event_id: str
    secret_id: str | None
    payload: str


@dataclass(frozen=True)
class AccountHeader:
    """What a source says about an account besides its events.

    Attributes:
        account_id: The account's id.
        name: Its name.
        encrypted_private_key: The current private key under the account's KEK.
        older_keys: Other key pairs of the account (key rotation), possibly including the
            current one with its version.
        retention_period: The instance's retention setting when the source knows it.
    """

    account_id: str
    name: str
    encrypted_private_key: str = field(repr=False)
    older_keys: tuple[WrappedPrivateKey, ...] = field(default=(), repr=False)
    retention_period: str | None = None


@dataclass(frozen=True)
class SourcePage:
    """One page of an account's events after a cursor.

    Attributes:
        events: The events, in the source's order (by sequence).
        deleted_event_ids: Ids of events deleted after the cursor (tombstones).
        secrets: Encrypted user secrets by secret id, at least for the page's events whose
            secret still exists.
        sequence: The cursor for the next read, or ``None`` to keep the previous one.
        more: Whether the page was full and another read with ``sequence`` follows.
    """

    events: tuple[RawEvent, ...]
    deleted_event_ids: tuple[str, ...]
    secrets: Mapping[str, str] = field(repr=False)
    sequence: str | None
    more: bool


@runtime_checkable
class AccountSource(Protocol):
    """An account to read: `StoreSource`, `HttpSource`, or anything with these members."""

    @property
    def account_id(self) -> str:
        """The account's id (lower case)."""

    def header(self) -> AccountHeader:
        """Read the account's name and wrapped keys."""

    def page(self, since: str | None, limit: int | None) -> SourcePage:
        """Read the events and deletions after ``since``, at most about ``limit`` events."""


class StoreSource:
    """An account read straight from a database through a `offen_core.storage.Store`.

    Needs read access to the database only. Pages come from `Store.events_for_account`, so
    the cursor trails the newest rows by the Store's safety lag and nothing is skipped.

    Args:
        store: The Store (migrated).
        account_id: The account to read.

    Raises:
        InvalidInputError: ``account_id`` is not an account id.
    """

    def __init__(self, store: Store, account_id: str) -> None:
        self._store = store
        self._account_id = validate_account_id(account_id)

    def __repr__(self) -> str:
        return f"StoreSource({self._store!r})"

    @property
    def account_id(self) -> str:
        """The account's id."""
        return self._account_id

    def header(self) -> AccountHeader:
        """Read the account and its key pairs.

        Returns:
            The header.

        Raises:
            UnknownAccountError: The account does not exist or is retired.
        """
        account = self._store.get_account(self._account_id)
        keys = tuple(
            WrappedPrivateKey(key.encrypted_private_key, key.key_version)
            for key in self._store.account_keys(self._account_id)
        )
        return AccountHeader(account.account_id, account.name, account.encrypted_private_key, keys)

    def page(self, since: str | None, limit: int | None) -> SourcePage:
        """Read one page of events and deletions, with the secrets of its visitors.

        Args:
            since: The cursor of the previous page, or ``None`` for everything.
            limit: The page size, or ``None`` for all at once.

        Returns:
            The page.

        Raises:
            InvalidInputError: ``since`` is not a ULID or ``limit`` is not positive.
        """
        found = self._store.events_for_account(
            self._account_id, since=since, limit=limit, include_deleted=since is not None
        )
        secrets = self._store.get_secrets(
            {event.secret_id for event in found.events if event.secret_id is not None}
        )
        return SourcePage(
            events=tuple(
                RawEvent(event.event_id, event.secret_id, event.payload) for event in found.events
            ),
            deleted_event_ids=found.deleted_event_ids,
            secrets=secrets,
            sequence=found.sequence,
            more=found.more,
        )


def _malformed(what: str) -> StorageError:
    return StorageError(f"the server's account view is malformed ({what}); is it an Offen server?")


def _wrapped_keys(value: object) -> tuple[WrappedPrivateKey, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _malformed("keys is not a list")
    keys = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise _malformed("an entry of keys is not an object")
        wrapped, version = entry.get("encryptedPrivateKey"), entry.get("keyVersion")
        if not isinstance(wrapped, str) or not (version is None or type(version) is int):
            raise _malformed("an entry of keys lacks its encrypted private key")
        keys.append(WrappedPrivateKey(wrapped, version))
    return tuple(keys)


class HttpSource:
    """An account read from a running server over HTTP (``GET /api/accounts/{id}``).

    The client must be logged in as an operator with access to the account (the ``auth``
    cookie of `offen_core.client.http.OffenClient.login`).

    Args:
        client: The logged-in client.
        account_id: The account to read.

    Raises:
        InvalidInputError: ``account_id`` is not an account id.
    """

    def __init__(self, client: OffenClient, account_id: str) -> None:
        self._client = client
        self._account_id = validate_account_id(account_id)

    def __repr__(self) -> str:
        return "HttpSource()"

    @property
    def account_id(self) -> str:
        """The account's id."""
        return self._account_id

    def header(self) -> AccountHeader:
        """Read the account view with a cursor after every event, so it carries none.

        Returns:
            The header.

        Raises:
            InvalidCredentialsError: The client is not logged in.
            ForbiddenError: The operator has no access to the account.
            NotFoundError: The account does not exist or is retired.
            StorageError: The answer is not an account view.
        """
        view = self._client.get_account(self._account_id, since=_END_OF_TIME, limit=1)
        return self._header(view)

    def _header(self, view: Mapping[str, Any]) -> AccountHeader:
        wrapped, name = view.get("encryptedPrivateKey"), view.get("name")
        if not isinstance(wrapped, str):
            raise _malformed("no encryptedPrivateKey")
        retention = view.get("retentionPeriod")
        return AccountHeader(
            account_id=self._account_id,
            name=name if isinstance(name, str) else "",
            encrypted_private_key=wrapped,
            older_keys=_wrapped_keys(view.get("keys")),
            retention_period=retention if isinstance(retention, str) else None,
        )

    def page(self, since: str | None, limit: int | None) -> SourcePage:
        """Read one page of the account view.

        Args:
            since: The cursor of the previous page, or ``None`` for everything.
            limit: The page size, or ``None`` for the server's default (no limit).

        Returns:
            The page.

        Raises:
            InvalidCredentialsError: The client is not logged in.
            ForbiddenError: The operator has no access to the account.
            NotFoundError: The account does not exist or is retired.
            StorageError: The answer is not an account view.
        """
        if limit is not None and limit < 1:
            raise InvalidInputError("limit", "must be a positive number of events")
        view = self._client.get_account(self._account_id, since=since, limit=limit)
        groups = view.get("events") or {}
        if not isinstance(groups, Mapping):
            raise _malformed("events is not an object")
        events: list[RawEvent] = []
        for group in groups.values():
            if not isinstance(group, list):
                raise _malformed("an events group is not a list")
            for entry in group:
                if not isinstance(entry, Mapping):
                    raise _malformed("an event is not an object")
                event_id, secret_id = entry.get("eventId"), entry.get("secretId")
                payload = entry.get("payload")
                events.append(
                    RawEvent(
                        event_id if isinstance(event_id, str) else "",
                        secret_id if isinstance(secret_id, str) else None,
                        payload if isinstance(payload, str) else "",
                    )
                )
        deleted = view.get("deletedEvents") or []
        secrets = view.get("secrets") or {}
        if not isinstance(deleted, list) or not isinstance(secrets, Mapping):
            raise _malformed("deletedEvents or secrets has the wrong type")
        sequence = view.get("sequence")
        return SourcePage(
            events=tuple(events),
            deleted_event_ids=tuple(item for item in deleted if isinstance(item, str)),
            secrets={key: value for key, value in secrets.items() if isinstance(value, str)},
            sequence=sequence if isinstance(sequence, str) and sequence else None,
            more=view.get("more") is True,
        )
