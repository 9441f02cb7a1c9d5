# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Converting between table rows and the Store's records, and minting batch sequences."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Row

from offen_core.errors import InvalidInputError
from offen_core.events import StoredEvent, Tombstone, new_ulid_prefix
from offen_core.storage.records import Account, AccountKey, AccountUser, Relationship
from offen_core.storage.tables import EMAIL_LOOKUP_LENGTH, events, tombstones

_T = TypeVar("_T")
_M = TypeVar("_M", StoredEvent, Tombstone)


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _account(row: Row[Any]) -> Account:
    return Account(
        account_id=row.account_id,
        name=row.name or "",
        public_key=row.public_key or "",
        encrypted_private_key=row.encrypted_private_key or "",
        user_salt=row.user_salt or "",
        created=row.created or datetime(1, 1, 1, tzinfo=UTC),
        retired=bool(row.retired),
        account_styles=row.account_styles or "",
    )


def _account_user(row: Row[Any]) -> AccountUser:
    return AccountUser(
        account_user_id=row.account_user_id,
        hashed_email=row.hashed_email or "",
        hashed_password=row.hashed_password or "",
        salt=row.salt or "",
        admin_level=int(row.admin_level or 0),
        email_lookup=row.email_lookup,
        recovery_public_key=row.recovery_public_key,
        recovery_encrypted_private_key=row.recovery_encrypted_private_key,
    )


def _relationship(row: Row[Any]) -> Relationship:
    return Relationship(
        relationship_id=row.relationship_id,
        account_user_id=row.account_user_id or "",
        account_id=row.account_id or "",
        password_encrypted_key_encryption_key=row.password_encrypted_key_encryption_key or "",
        email_encrypted_key_encryption_key=row.email_encrypted_key_encryption_key or "",
        one_time_encrypted_key_encryption_key=row.one_time_encrypted_key_encryption_key or "",
        recovery_encrypted_key_encryption_key=row.recovery_encrypted_key_encryption_key,
    )


def _build(model: type[_M], values: dict[str, Any]) -> _M:
    # Rows are trusted as stored: an adopted Offen database may hold values Offen never
    # validated, and they are served verbatim, as Offen does. pydantic's model_construct
    # costs about 14 us per event; setting the instance state directly costs about 3 us.
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def _build_checked(model: type[_M], values: dict[str, Any]) -> _M:
    return model.model_construct(**values)


_SAMPLE: dict[str, Any] = {"event_id": "E", "sequence": "S", "account_id": "A", "secret_id": None}
# Fall back to model_construct should a pydantic release keep its state differently.
_make = (
    _build
    if _build(Tombstone, dict(_SAMPLE)) == Tombstone.model_construct(**_SAMPLE)
    and _build(StoredEvent, {**_SAMPLE, "payload": "P"}).model_dump()
    == StoredEvent.model_construct(**_SAMPLE, payload="P").model_dump()
    else _build_checked
)


EVENT_COLUMNS = (
    events.c.event_id,
    events.c.sequence,
    events.c.account_id,
    events.c.secret_id,
    events.c.payload,
)
"""The columns `event_item` reads, in its order."""

TOMBSTONE_COLUMNS = (
    tombstones.c.event_id,
    tombstones.c.sequence,
    tombstones.c.account_id,
    tombstones.c.secret_id,
)
"""The columns `tombstone_item` reads, in its order."""


def event_item(row: Sequence[Any]) -> tuple[str, str, StoredEvent]:
    """(sequence, event id, event) of a row selected with `EVENT_COLUMNS`."""
    # Unpacking a row costs a fraction of reading its attributes by name.
    event_id, sequence, account_id, secret_id, payload = row
    sequence = sequence or ""
    values = {
        "event_id": event_id,
        "sequence": sequence,
        "account_id": account_id or "",
        "secret_id": secret_id,
        "payload": payload or "",
    }
    return sequence, event_id, _make(StoredEvent, values)


def tombstone_item(row: Sequence[Any]) -> tuple[str, str, Tombstone]:
    """(sequence, event id, tombstone) of a row selected with `TOMBSTONE_COLUMNS`."""
    event_id, sequence, account_id, secret_id = row
    sequence = sequence or ""
    values = {
        "event_id": event_id,
        "sequence": sequence,
        "account_id": account_id or "",
        "secret_id": secret_id,
    }
    return sequence, event_id, _make(Tombstone, values)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BATCH_LIMIT = 1 << 25


def _sequences(count: int) -> list[str]:
    """``count`` distinct ULIDs for the rows of one batch, ordered, all at the current time.

    A block reserved from the process's id generator (21 characters) and a 5-character
    counter: minting a full ULID per row would cost more than writing the row. The block
    sorts after every id this process made before and before every id it makes afterwards,
    so sequences written later in a process are never lower; across processes the sync
    cursor's safety lag is what keeps late rows from being skipped.

    Raises:
        ValueError: ``count`` is 2**25 or more (batches are far smaller).
    """
    if count >= _BATCH_LIMIT:
        raise ValueError("a batch holds fewer than 2**25 rows")
    prefix = new_ulid_prefix(25)
    alphabet = _CROCKFORD
    return [
        prefix
        + alphabet[(index >> 20) & 31]
        + alphabet[(index >> 15) & 31]
        + alphabet[(index >> 10) & 31]
        + alphabet[(index >> 5) & 31]
        + alphabet[index & 31]
        for index in range(count)
    ]


def _account_values(account: Account) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "name": account.name,
        "public_key": account.public_key,
        "encrypted_private_key": account.encrypted_private_key,
        "user_salt": account.user_salt,
        "retired": account.retired,
        "account_styles": account.account_styles,
        "created": account.created,
    }


def _account_user_values(user: AccountUser) -> dict[str, Any]:
    if user.email_lookup is not None and not 0 < len(user.email_lookup) <= EMAIL_LOOKUP_LENGTH:
        raise InvalidInputError(
            "email_lookup", f"must be 1 to {EMAIL_LOOKUP_LENGTH} characters, or None"
        )
    return {
        "account_user_id": user.account_user_id,
        "hashed_email": user.hashed_email,
        "hashed_password": user.hashed_password,
        "salt": user.salt,
        "admin_level": user.admin_level,
        "email_lookup": user.email_lookup,
        "recovery_public_key": user.recovery_public_key,
        "recovery_encrypted_private_key": user.recovery_encrypted_private_key,
    }


def _relationship_values(relationship: Relationship) -> dict[str, Any]:
    return {
        "relationship_id": relationship.relationship_id,
        "account_user_id": relationship.account_user_id,
        "account_id": relationship.account_id,
        "password_encrypted_key_encryption_key": (
            relationship.password_encrypted_key_encryption_key
        ),
        "email_encrypted_key_encryption_key": relationship.email_encrypted_key_encryption_key,
        "one_time_encrypted_key_encryption_key": (
            relationship.one_time_encrypted_key_encryption_key
        ),
        "recovery_encrypted_key_encryption_key": (
            relationship.recovery_encrypted_key_encryption_key
        ),
    }


def _key_values(key: AccountKey) -> dict[str, Any]:
    return {
        "account_id": key.account_id,
        "key_version": key.key_version,
        "public_key": key.public_key,
        "encrypted_private_key": key.encrypted_private_key,
        "created": key.created,
    }
