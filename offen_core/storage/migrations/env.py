# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Alembic environment: runs the revisions on the connection `migrate` hands over.

Online mode only: ``offen_core.storage.migrate`` puts an open connection into the Alembic
configuration's ``attributes["connection"]``; there is no ``alembic.ini``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from offen_core.storage.tables import VERSION_TABLE


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or not isinstance(connection, Connection):
        raise RuntimeError(
            "offen_core's migrations run through offen_core.storage.migrate or "
            "`offen-core migrate`, which pass an open connection"
        )
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


_run()
