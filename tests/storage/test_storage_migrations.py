# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Migrations: an empty database, an adopted Offen database, no drift from the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from storage_helpers import ENCRYPTED_SECRET, PAYLOAD, secret_id

from offen_core.errors import StorageError
from offen_core.storage import (
    HEAD_REVISION,
    OFFEN_MIGRATION_IDS,
    VERSION_TABLE,
    Store,
    metadata,
    migrate,
)
from offen_core.storage.schema import _head

# Offen's columns (reference §2) and the type GORM gives each kind on each engine.
_KINDS = {
    "sqlite": {
        "id36": "text",
        "id26": "text",
        "id64": "text",
        "string": "text",
        "text": "text",
        "bool": "numeric",
        "time": "datetime",
        "int": "integer",
        "tombkey": "text",
    },
    "postgresql": {
        "id36": "varchar(36)",
        "id26": "varchar(26)",
        "id64": "varchar(64)",
        "string": "text",
        "text": "text",
        "bool": "boolean",
        "time": "timestamptz",
        "int": "bigint",
        "tombkey": "text",
    },
    "mysql": {
        "id36": "varchar(36)",
        "id26": "varchar(26)",
        "id64": "varchar(64)",
        "string": "longtext",
        "text": "text",
        "bool": "boolean",
        "time": "datetime(3)",
        "int": "bigint",
        "tombkey": "varchar(191)",
    },
}

_OFFEN_TABLES: dict[str, list[tuple[str, str]]] = {
    "accounts": [
        ("account_id", "id36"),
        ("name", "string"),
        ("public_key", "text"),
        ("encrypted_private_key", "text"),
        ("user_salt", "string"),
        ("retired", "bool"),
        ("account_styles", "text"),
        ("created", "time"),
    ],
    "account_users": [
        ("account_user_id", "id36"),
        ("hashed_email", "string"),
        ("hashed_password", "string"),
        ("salt", "string"),
        ("admin_level", "int"),
    ],
    "account_user_relationships": [
        ("relationship_id", "id36"),
        ("account_user_id", "id36"),
        ("account_id", "id36"),
        ("password_encrypted_key_encryption_key", "text"),
        ("email_encrypted_key_encryption_key", "text"),
        ("one_time_encrypted_key_encryption_key", "text"),
    ],
    "secrets": [("secret_id", "id64"), ("encrypted_secret", "text")],
    "events": [
        ("event_id", "id26"),
        ("sequence", "id26"),
        ("account_id", "id36"),
        ("secret_id", "id64"),
        ("payload", "text"),
    ],
    "tombstones": [
        ("event_id", "tombkey"),
        ("account_id", "id36"),
        ("secret_id", "id64"),
        ("sequence", "id26"),
    ],
}

ACCOUNT_ID = "9b63c4d4-d8ef-4cc5-9c8c-a2e5ae1e9c0c"
USER_ID = "4e1c3cbb-5a8b-4d76-a43b-6d2a4e5c2f11"
# Offen's migration 004 gave every existing event one sequence: two rows share it here.
SHARED_SEQUENCE = "01HF00000000000000000SEQ00"
EVENT_IDS = (
    "01HF0000000000000000000001",
    "01HF0000000000000000000002",
    "01HF0000000000000000000003",
)


def _create_offen_database(url: str) -> None:
    """Create the schema Offen's server creates, with a few rows, by raw DDL."""
    engine = create_engine(url)
    dialect = "mysql" if engine.dialect.name in ("mysql", "mariadb") else engine.dialect.name
    kinds = _KINDS[dialect]
    with engine.begin() as connection:
        for table, columns in _OFFEN_TABLES.items():
            body = ", ".join(f"{name} {kinds[kind]}" for name, kind in columns)
            connection.execute(
                text(f"CREATE TABLE {table} ({body}, PRIMARY KEY ({columns[0][0]}))")
            )
        connection.execute(text("CREATE TABLE migrations (id VARCHAR(255) PRIMARY KEY)"))
        for value in OFFEN_MIGRATION_IDS:
            connection.execute(text("INSERT INTO migrations (id) VALUES (:id)"), {"id": value})
        created: Any = (
            "2024-10-11 10:00:00.123456789+00:00"  # how Go's SQLite driver writes a time
            if dialect == "sqlite"
            else datetime(2024, 10, 11, 10, 0, 0, 123000, tzinfo=UTC)
        )
        if dialect == "mysql":
            created = created.replace(tzinfo=None)
        connection.execute(
            text(
                "INSERT INTO accounts (account_id, name, public_key, encrypted_private_key, "
                "user_salt, retired, account_styles, created) VALUES "
                "(:id, 'Offen site', '{}', '{1,} a b', '{1,} c2FsdA==', :retired, '', :created)"
            ),
            {"id": ACCOUNT_ID, "retired": False, "created": created},
        )
        connection.execute(
            text(
                "INSERT INTO account_users VALUES "
                "(:id, '{3,} aGFzaA== c2FsdA==', '{3,} aGFzaA== c2FsdA==', '{3,} c2FsdA==', 1)"
            ),
            {"id": USER_ID},
        )
        connection.execute(
            text(
                "INSERT INTO account_user_relationships VALUES "
                "('5d0a5c43-62f4-4c4e-9d36-0b0d24c0e9a1', :user, :account, '{1,} a b', "
                "'{1,} c d', '')"
            ),
            {"user": USER_ID, "account": ACCOUNT_ID},
        )
        connection.execute(
            text("INSERT INTO secrets VALUES (:id, :secret)"),
            {"id": secret_id("visitor"), "secret": ENCRYPTED_SECRET},
        )
        for index, event_id in enumerate(EVENT_IDS):
            connection.execute(
                text("INSERT INTO events VALUES (:id, :sequence, :account, :secret, :payload)"),
                {
                    "id": event_id,
                    "sequence": SHARED_SEQUENCE if index < 2 else "01HF00000000000000000SEQ01",
                    "account": ACCOUNT_ID,
                    "secret": secret_id("visitor"),
                    "payload": PAYLOAD,
                },
            )
        connection.execute(
            text("INSERT INTO tombstones VALUES ('01HE0000000000000000000009', :a, NULL, :s)"),
            {"a": ACCOUNT_ID, "s": SHARED_SEQUENCE},
        )
    engine.dispose()


def _column_types(url: str) -> dict[tuple[str, str], str]:
    engine = create_engine(url)
    inspector = inspect(engine)
    found = {
        (table, column["name"]): str(column["type"]).lower()
        for table in _OFFEN_TABLES
        for column in inspector.get_columns(table)
    }
    engine.dispose()
    return found


def _drift(url: str, *, sqlite_nullable_keys: bool = False) -> list[Any]:
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    found = [item for item in differences if VERSION_TABLE not in repr(item)]
    if sqlite_nullable_keys:
        # GORM's SQLite tables declare text primary keys without NOT NULL, which SQLite then
        # allows; that is Offen's DDL, not a difference in what the columns hold.
        keys = {
            (table.name, column.name)
            for table in metadata.sorted_tables
            for column in table.primary_key.columns
        }
        found = [
            item
            for item in found
            if not (
                isinstance(item, list)
                and all(
                    change[0] == "modify_nullable" and (change[2], change[3]) in keys
                    for change in item
                )
            )
        ]
    return found


def test_head_revision_constant_matches_the_scripts() -> None:
    assert _head() == HEAD_REVISION


def test_upgrade_from_empty_creates_the_latest_schema_and_offen_ids(scratch_url: str) -> None:
    report = migrate(scratch_url)

    assert report.revision_before is None
    assert report.revision_after == HEAD_REVISION
    assert report.adopted is False
    assert report.operators_without_lookup == 0
    engine = create_engine(scratch_url)
    with engine.connect() as connection:
        ids = set(connection.execute(text("SELECT id FROM migrations")).scalars())
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert ids == set(OFFEN_MIGRATION_IDS)
    assert {table.name for table in metadata.sorted_tables} <= tables


def test_upgrade_twice_changes_nothing(scratch_url: str) -> None:
    migrate(scratch_url)
    again = migrate(scratch_url)

    assert again.revision_before == HEAD_REVISION
    assert again.revision_after == HEAD_REVISION
    assert again.adopted is False


def test_migrated_schema_has_no_drift_from_the_tables(scratch_url: str) -> None:
    migrate(scratch_url)

    assert _drift(scratch_url) == []


def test_fresh_schema_has_offens_column_types(scratch_url: str) -> None:
    _create_offen_database(scratch_url)
    offen_types = _column_types(scratch_url)
    engine = create_engine(scratch_url)
    with engine.begin() as connection:
        for table in _OFFEN_TABLES:
            connection.execute(text(f"DROP TABLE {table}"))
        connection.execute(text("DROP TABLE migrations"))
    engine.dispose()

    migrate(scratch_url)

    ours = _column_types(scratch_url)
    assert {key: ours[key] for key in offen_types} == offen_types


def test_adopting_an_offen_database_keeps_rows_and_adds_indexes(scratch_url: str) -> None:
    _create_offen_database(scratch_url)
    types_before = _column_types(scratch_url)

    report = migrate(scratch_url)

    assert report.adopted is True
    assert report.revision_before is None
    assert report.revision_after == HEAD_REVISION
    assert report.operators_without_lookup == 1
    # Nothing Offen reads was renamed, dropped or retyped.
    after = _column_types(scratch_url)
    assert {key: after[key] for key in types_before} == types_before
    engine = create_engine(scratch_url)
    inspector = inspect(engine)
    event_indexes = {index["name"] for index in inspector.get_indexes("events")}
    user_indexes = {index["name"] for index in inspector.get_indexes("account_users")}
    engine.dispose()
    assert {"ix_events_account_id_sequence", "ix_events_secret_id_sequence"} <= event_indexes
    assert "ux_account_users_email_lookup" in user_indexes

    store = Store(scratch_url)
    try:
        account = store.get_account(ACCOUNT_ID)
        assert account.name == "Offen site"
        assert account.retired is False
        # Go's SQLite driver wrote nanoseconds; the other engines hold milliseconds.
        fraction = 123456 if store.dialect == "sqlite" else 123000
        assert account.created == datetime(2024, 10, 11, 10, 0, 0, fraction, tzinfo=UTC)
        assert [user.account_user_id for user in store.account_users_without_lookup()] == [USER_ID]
        assert len(store.relationships_for_user(USER_ID)) == 1
        page = store.events_for_account(ACCOUNT_ID)
        assert [event.event_id for event in page.events] == list(EVENT_IDS)
        assert page.deleted_event_ids == ("01HE0000000000000000000009",)
        assert store.get_secret(secret_id("visitor")) == ENCRYPTED_SECRET
    finally:
        store.close()


def test_adopted_database_has_no_drift_from_the_tables(scratch_url: str) -> None:
    _create_offen_database(scratch_url)
    migrate(scratch_url)

    assert _drift(scratch_url, sqlite_nullable_keys=scratch_url.startswith("sqlite")) == []


def test_an_offen_database_missing_offen_migrations_is_refused(scratch_url: str) -> None:
    _create_offen_database(scratch_url)
    engine = create_engine(scratch_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM migrations WHERE id = '007_account_customStyles'"))
    engine.dispose()

    with pytest.raises(StorageError, match="offen migrate"):
        migrate(scratch_url)


def test_a_database_with_some_offen_tables_but_no_migrations_is_refused(
    scratch_url: str,
) -> None:
    engine = create_engine(scratch_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (event_id VARCHAR(26) PRIMARY KEY)"))
    engine.dispose()

    with pytest.raises(StorageError, match="no migrations table"):
        migrate(scratch_url)
