# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The records the Store reads and writes, as frozen dataclasses.

Each record mirrors one row. Offen's columns may hold ``NULL`` in a database Offen wrote; the
Store reads such text columns as ``""``, so records always hold strings there. Columns that
offen_core added are ``None`` where a row has no value yet. Change a record with
`dataclasses.replace` and hand it back to the Store's ``update_*`` method.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from offen_core.events import StoredEvent

__all__ = [
    "Account",
    "AccountKey",
    "AccountUser",
    "EventPage",
    "ExpiryReport",
    "ImportedEvent",
    "MigrationReport",
    "NewEvent",
    "Relationship",
]


@dataclass(frozen=True, slots=True)
class Account:
    """An account (a site): its current key pair and the salt of its secret ids.

    Attributes:
        account_id: The account's UUID.
        name: Its display name (unique among all accounts, checked by the caller).
        public_key: The current RSA public key as a JWK JSON string.
        encrypted_private_key: The current private key, encrypted under the account's KEK.
        user_salt: The salt that turns visitor ids into secret ids (``{1,} b64``).
        retired: Whether the account was retired (soft deleted).
        account_styles: Custom CSS for the consent banner (Offen's; empty when unused).
        created: When the account was created, in UTC.
    """

    account_id: str
    name: str
    public_key: str
    encrypted_private_key: str
    user_salt: str
    created: datetime
    retired: bool = False
    account_styles: str = ""


@dataclass(frozen=True, slots=True)
class AccountKey:
    """One key pair of an account, kept in the added ``account_keys`` table.

    Attributes:
        account_id: The account's UUID.
        key_version: The version stamped on secrets wrapped with this public key.
        public_key: The RSA public key as a JWK JSON string.
        encrypted_private_key: The private key, encrypted under the account's KEK.
        created: When the key pair was created, in UTC.
    """

    account_id: str
    key_version: int
    public_key: str
    encrypted_private_key: str
    created: datetime


@dataclass(frozen=True, slots=True)
class AccountUser:
    """An operator (Offen's account user). No email address is ever stored in clear.

    Attributes:
        account_user_id: The operator's UUID.
        hashed_email: The argon2 hash of the email address (Offen reads it).
        hashed_password: The argon2 hash of the password; empty for an invited operator who
            has not joined yet.
        salt: The KDF salt for password- and email-derived keys.
        admin_level: 0 for none, 1 for super-admin.
        email_lookup: The keyed lookup hash of the normalised email address; ``None`` for an
            operator adopted from Offen who has not logged in since.
        recovery_public_key: The operator's recovery public key, when recovery keys are used.
        recovery_encrypted_private_key: The recovery private key, wrapped under the recovery
            key shown to the operator.
    """

    account_user_id: str
    hashed_email: str
    hashed_password: str
    salt: str
    admin_level: int = 0
    email_lookup: str | None = None
    recovery_public_key: str | None = None
    recovery_encrypted_private_key: str | None = None


@dataclass(frozen=True, slots=True)
class Relationship:
    """An operator's access to one account: the account's KEK wrapped in several ways.

    Attributes:
        relationship_id: The relationship's UUID.
        account_user_id: The operator.
        account_id: The account.
        password_encrypted_key_encryption_key: The KEK under the password-derived key; empty
            for a pending invitation.
        email_encrypted_key_encryption_key: The KEK under the email-derived key (Offen's
            recovery and invitation path).
        one_time_encrypted_key_encryption_key: The KEK under a one-time key during a password
            reset or an invitation; empty otherwise.
        recovery_encrypted_key_encryption_key: The KEK under the operator's recovery public
            key, when recovery keys are used.
    """

    relationship_id: str
    account_user_id: str
    account_id: str
    password_encrypted_key_encryption_key: str = ""
    email_encrypted_key_encryption_key: str = ""
    one_time_encrypted_key_encryption_key: str = ""
    recovery_encrypted_key_encryption_key: str | None = None

    @property
    def pending(self) -> bool:
        """Whether this is an invitation not yet accepted (no password-wrapped KEK)."""
        return not self.password_encrypted_key_encryption_key


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to insert; the Store assigns its event id and sequence.

    Attributes:
        account_id: The account the event belongs to (must be active).
        secret_id: The visitor's secret id (must exist), or ``None`` for an anonymous event.
        payload: The encrypted payload, stored verbatim.
    """

    account_id: str
    secret_id: str | None
    payload: str


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    """An event to import with its own time (for imports and the demo, never over HTTP).

    Attributes:
        account_id: The account the event belongs to (must be active).
        secret_id: The visitor's secret id (must exist), or ``None`` for an anonymous event.
        payload: The encrypted payload, stored verbatim.
        at: When the event happened; its event id is minted at that instant, so expiry ages it
            from then. Its sequence is minted at import time, so syncing clients receive it.
    """

    account_id: str
    secret_id: str | None
    payload: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of a sync: events and deletions after a cursor.

    Attributes:
        events: The events, ordered by (sequence, event id).
        deleted_event_ids: Ids of deleted events (from tombstones), in the same order.
        sequence: The cursor to send as ``since`` next time. After the last page it trails
            the newest sequence by the Store's safety lag, so events near the end may come
            again: de-duplicate by event id.
        more: ``True`` when the page was full; ask again with ``sequence`` for the rest.
    """

    events: tuple[StoredEvent, ...]
    deleted_event_ids: tuple[str, ...]
    sequence: str
    more: bool = False


@dataclass(frozen=True, slots=True)
class ExpiryReport:
    """What one expiry run removed.

    Attributes:
        events_expired: Events deleted (each replaced by a tombstone).
        tombstones_pruned: Tombstones deleted because they outlived the retention period.
        batches: Transactions committed.
    """

    events_expired: int
    tombstones_pruned: int
    batches: int


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What `migrate` did.

    Attributes:
        revision_before: offen_core's schema revision before, or ``None`` (empty database,
            or an Offen database seen for the first time).
        revision_after: The revision now (the latest).
        adopted: Whether an existing Offen database was adopted in this run.
        operators_without_lookup: Operators adopted from Offen who still lack the email
            lookup column; each gets it at their next login, and until then an unknown email
            costs an argon2 scan over these rows.
    """

    revision_before: str | None
    revision_after: str
    adopted: bool
    operators_without_lookup: int
