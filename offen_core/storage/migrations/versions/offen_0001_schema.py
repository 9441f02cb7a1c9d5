# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's schema: its six data tables and its ``migrations`` table, as Offen creates them.

An existing Offen database is stamped with this revision instead of running it. The
``migrations`` table is filled with the ids Offen's own migrator records, so that Offen's server
finds nothing left to do on a database created here.

Revision ID: 0001_offen_schema
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offen_core.storage._types import (
    BigInt,
    Flag,
    LongString,
    ShortString,
    Timestamp,
    TombstoneKey,
)

revision = "0001_offen_schema"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_OFFEN_IDS = (
    "SCHEMA_INIT",
    "001_introduce_admin_level",
    "002_mysql_set_column_sizes",
    "003_version_salts",
    "004_add_tombstones_event_revs",
    "005_update_secrets_table",
    "006_gorm_upgrade",
    "007_account_customStyles",
)


def upgrade() -> None:
    """Create Offen's tables with Offen's column types and record Offen's migration ids."""
    op.create_table(
        "accounts",
        sa.Column("account_id", ShortString(36), primary_key=True),
        sa.Column("name", LongString()),
        sa.Column("public_key", sa.Text()),
        sa.Column("encrypted_private_key", sa.Text()),
        sa.Column("user_salt", LongString()),
        sa.Column("retired", Flag()),
        sa.Column("account_styles", sa.Text()),
        sa.Column("created", Timestamp()),
    )
    op.create_table(
        "account_users",
        sa.Column("account_user_id", ShortString(36), primary_key=True),
        sa.Column("hashed_email", LongString()),
        sa.Column("hashed_password", LongString()),
        sa.Column("salt", LongString()),
        sa.Column("admin_level", BigInt()),
    )
    op.create_table(
        "account_user_relationships",
        sa.Column("relationship_id", ShortString(36), primary_key=True),
        sa.Column("account_user_id", ShortString(36)),
        sa.Column("account_id", ShortString(36)),
        sa.Column("password_encrypted_key_encryption_key", sa.Text()),
        sa.Column("email_encrypted_key_encryption_key", sa.Text()),
        sa.Column("one_time_encrypted_key_encryption_key", sa.Text()),
    )
    op.create_table(
        "secrets",
        sa.Column("secret_id", ShortString(64), primary_key=True),
        sa.Column("encrypted_secret", sa.Text()),
    )
    op.create_table(
        "events",
        sa.Column("event_id", ShortString(26), primary_key=True),
        sa.Column("sequence", ShortString(26)),
        sa.Column("account_id", ShortString(36)),
        sa.Column("secret_id", ShortString(64), nullable=True),
        sa.Column("payload", sa.Text()),
    )
    op.create_table(
        "tombstones",
        sa.Column("event_id", TombstoneKey(), primary_key=True),
        sa.Column("account_id", ShortString(36)),
        sa.Column("secret_id", ShortString(64), nullable=True),
        sa.Column("sequence", ShortString(26)),
    )
    migrations = op.create_table("migrations", sa.Column("id", sa.String(255), primary_key=True))
    op.bulk_insert(migrations, [{"id": value} for value in _OFFEN_IDS])


def downgrade() -> None:
    """Not supported: dropping Offen's tables would destroy the data."""
    raise NotImplementedError("offen_core's migrations only go forward")
