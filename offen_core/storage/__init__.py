# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's relational schema and one Store over SQLite, PostgreSQL and MySQL.

- `Store`: every read and write of accounts, operators, relationships, secrets, events and
  tombstones, chosen by a database URL; `Store.migrate` creates or adopts the schema.
- The records it reads and writes (`Account`, `AccountUser`, `Relationship`, `AccountKey`,
  `NewEvent`, `ImportedEvent`, `EventPage`, ...); events themselves are
  `offen_core.events.StoredEvent` and `offen_core.events.Tombstone`.
- `parse_retention` and `Retention`: the instance's retention period.
- `metadata` and the tables: the schema as SQLAlchemy Core tables.

The storage guide explains URLs, migrations, adopting an Offen database and retention.
"""

from __future__ import annotations

from offen_core.storage.engine import DEFAULT_DATABASE_URL, normalise_url, redact_url
from offen_core.storage.records import (
    Account,
    AccountKey,
    AccountUser,
    EventPage,
    ExpiryReport,
    ImportedEvent,
    MigrationReport,
    NewEvent,
    Relationship,
)
from offen_core.storage.retention import (
    DEFAULT_RETENTION,
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    OFFEN_RETENTION_NAMES,
    Retention,
    parse_retention,
)
from offen_core.storage.schema import HEAD_REVISION, OFFEN_SCHEMA_REVISION
from offen_core.storage.store import DEFAULT_SAFETY_LAG, Store
from offen_core.storage.tables import (
    OFFEN_DATA_TABLES,
    OFFEN_MIGRATION_IDS,
    VERSION_TABLE,
    account_keys,
    account_user_relationships,
    account_users,
    accounts,
    events,
    metadata,
    migrations,
    secrets,
    tombstones,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_RETENTION",
    "DEFAULT_SAFETY_LAG",
    "HEAD_REVISION",
    "MAX_RETENTION_DAYS",
    "MIN_RETENTION_DAYS",
    "OFFEN_DATA_TABLES",
    "OFFEN_MIGRATION_IDS",
    "OFFEN_RETENTION_NAMES",
    "OFFEN_SCHEMA_REVISION",
    "VERSION_TABLE",
    "Account",
    "AccountKey",
    "AccountUser",
    "EventPage",
    "ExpiryReport",
    "ImportedEvent",
    "MigrationReport",
    "NewEvent",
    "Relationship",
    "Retention",
    "Store",
    "account_keys",
    "account_user_relationships",
    "account_users",
    "accounts",
    "events",
    "metadata",
    "migrate",
    "migrations",
    "normalise_url",
    "parse_retention",
    "redact_url",
    "secrets",
    "tombstones",
]


def migrate(url: str) -> MigrationReport:
    """Bring the database at ``url`` to the latest schema revision (see `Store.migrate`).

    Args:
        url: The database URL.

    Returns:
        What was done, including how many adopted operators still lack the lookup column.

    Raises:
        StorageError: The database holds tables that are neither offen_core's nor Offen's.
        DatabaseUnavailableError: The database cannot be reached.
        InvalidInputError: ``url`` is not a supported database URL.
    """
    store = Store(url)
    try:
        return store.migrate()
    finally:
        store.close()
