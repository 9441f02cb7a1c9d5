# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""offen_core's additions: the email lookup and recovery columns, indexes, ``account_keys``.

Only adds: Offen's server ignores every column, index and table created here.

Revision ID: 0002_offen_core_additions
Revises: 0001_offen_schema
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offen_core.storage._types import BigInt, Timestamp

revision = "0002_offen_core_additions"
down_revision: str | None = "0001_offen_schema"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the columns, the secondary indexes and the ``account_keys`` table."""
    op.add_column("account_users", sa.Column("email_lookup", sa.String(128)))
    op.add_column("account_users", sa.Column("recovery_public_key", sa.Text()))
    op.add_column("account_users", sa.Column("recovery_encrypted_private_key", sa.Text()))
    op.add_column(
        "account_user_relationships",
        sa.Column("recovery_encrypted_key_encryption_key", sa.Text()),
    )
    op.create_index("ux_account_users_email_lookup", "account_users", ["email_lookup"], unique=True)
    op.create_index(
        "ix_account_user_relationships_account_user_id",
        "account_user_relationships",
        ["account_user_id"],
    )
    op.create_index(
        "ix_account_user_relationships_account_id", "account_user_relationships", ["account_id"]
    )
    op.create_index("ix_events_account_id_sequence", "events", ["account_id", "sequence"])
    op.create_index("ix_events_secret_id_sequence", "events", ["secret_id", "sequence"])
    op.create_index("ix_tombstones_account_id_sequence", "tombstones", ["account_id", "sequence"])
    op.create_index("ix_tombstones_secret_id_sequence", "tombstones", ["secret_id", "sequence"])
    op.create_index("ix_tombstones_sequence", "tombstones", ["sequence"])
    op.create_table(
        "account_keys",
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("key_version", BigInt(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("encrypted_private_key", sa.Text(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key_version", name="pk_account_keys"),
    )


def downgrade() -> None:
    """Not supported: offen_core's migrations only go forward."""
    raise NotImplementedError("offen_core's migrations only go forward")
