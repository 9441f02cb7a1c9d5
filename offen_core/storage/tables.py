# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's relational schema as SQLAlchemy Core tables, with the columns offen_core adds.

The six data tables keep Offen's names, columns and column types (see the compatibility page),
so a database written here stays usable by Offen's own server. Additions are columns Offen
ignores (``account_users.email_lookup`` and the recovery columns), secondary indexes and the
``account_keys`` table. ``migrations`` is Offen's own bookkeeping table (gormigrate), kept so
that Offen recognises the schema as up to date.

These definitions describe the latest migration; the migrations themselves never import them.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    TableClause,
    Text,
    column,
    table,
)

from offen_core.storage._types import (
    BigInt,
    Flag,
    LongString,
    ShortString,
    Timestamp,
    TombstoneKey,
)

__all__ = [
    "OFFEN_DATA_TABLES",
    "OFFEN_MIGRATION_IDS",
    "VERSION_TABLE",
    "account_keys",
    "account_user_relationships",
    "account_users",
    "accounts",
    "events",
    "metadata",
    "migrations",
    "schema_version",
    "secrets",
    "tombstones",
]

VERSION_TABLE = "offen_core_version"
"""The table where Alembic records offen_core's schema revision (Offen ignores it)."""

schema_version: TableClause = table(VERSION_TABLE, column("version_num"))
"""Alembic's version table, as far as offen_core reads it (Alembic owns its definition)."""

OFFEN_MIGRATION_IDS: tuple[str, ...] = (
    "SCHEMA_INIT",
    "001_introduce_admin_level",
    "002_mysql_set_column_sizes",
    "003_version_salts",
    "004_add_tombstones_event_revs",
    "005_update_secrets_table",
    "006_gorm_upgrade",
    "007_account_customStyles",
)
"""The ids Offen's gormigrate records once its schema is complete."""

EMAIL_LOOKUP_LENGTH = 128
"""The widest keyed email lookup hash the ``email_lookup`` column holds."""

metadata = MetaData()
"""The tables of the latest schema revision."""

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", ShortString(36), primary_key=True),
    Column("name", LongString()),
    Column("public_key", Text()),
    Column("encrypted_private_key", Text()),
    Column("user_salt", LongString()),
    Column("retired", Flag()),
    Column("account_styles", Text()),
    Column("created", Timestamp()),
)

account_users = Table(
    "account_users",
    metadata,
    Column("account_user_id", ShortString(36), primary_key=True),
    Column("hashed_email", LongString()),
    Column("hashed_password", LongString()),
    Column("salt", LongString()),
    Column("admin_level", BigInt()),
    Column("email_lookup", String(EMAIL_LOOKUP_LENGTH)),
    Column("recovery_public_key", Text()),
    Column("recovery_encrypted_private_key", Text()),
    Index("ux_account_users_email_lookup", "email_lookup", unique=True),
)

account_user_relationships = Table(
    "account_user_relationships",
    metadata,
    Column("relationship_id", ShortString(36), primary_key=True),
    Column("account_user_id", ShortString(36)),
    Column("account_id", ShortString(36)),
    Column("password_encrypted_key_encryption_key", Text()),
    Column("email_encrypted_key_encryption_key", Text()),
    Column("one_time_encrypted_key_encryption_key", Text()),
    Column("recovery_encrypted_key_encryption_key", Text()),
    Index("ix_account_user_relationships_account_user_id", "account_user_id"),
    Index("ix_account_user_relationships_account_id", "account_id"),
)

secrets = Table(
    "secrets",
    metadata,
    Column("secret_id", ShortString(64), primary_key=True),
    Column("encrypted_secret", Text()),
)

events = Table(
    "events",
    metadata,
    Column("event_id", ShortString(26), primary_key=True),
    Column("sequence", ShortString(26)),
    Column("account_id", ShortString(36)),
    Column("secret_id", ShortString(64), nullable=True),
    Column("payload", Text()),
    Index("ix_events_account_id_sequence", "account_id", "sequence"),
    Index("ix_events_secret_id_sequence", "secret_id", "sequence"),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("event_id", TombstoneKey(), primary_key=True),
    Column("account_id", ShortString(36)),
    Column("secret_id", ShortString(64), nullable=True),
    Column("sequence", ShortString(26)),
    Index("ix_tombstones_account_id_sequence", "account_id", "sequence"),
    Index("ix_tombstones_secret_id_sequence", "secret_id", "sequence"),
    Index("ix_tombstones_sequence", "sequence"),
)

migrations = Table(
    "migrations",
    metadata,
    Column("id", String(255), primary_key=True),
)

account_keys = Table(
    "account_keys",
    metadata,
    Column("account_id", String(36), nullable=False),
    Column("key_version", BigInt(), nullable=False),
    Column("public_key", Text(), nullable=False),
    Column("encrypted_private_key", Text(), nullable=False),
    Column("created", Timestamp(), nullable=False),
    PrimaryKeyConstraint("account_id", "key_version", name="pk_account_keys"),
)

OFFEN_DATA_TABLES: tuple[Table, ...] = (
    accounts,
    account_users,
    account_user_relationships,
    secrets,
    events,
    tombstones,
)
"""Offen's six data tables; the instance is empty when all of them are."""
