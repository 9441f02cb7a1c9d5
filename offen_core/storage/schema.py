# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Bringing a database to the latest schema revision, including adopting Offen's databases.

A database is in one of three states: empty (every revision runs), managed by offen_core (its
revision is in ``offen_core_version``; the missing revisions run), or written by Offen (it has
Offen's ``migrations`` table but no ``offen_core_version``; it is stamped with the first
revision, which is Offen's schema, and the later revisions run). Later revisions only add, so
Offen's own server keeps working on the result.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select, text

from offen_core.errors import StorageError
from offen_core.storage.records import MigrationReport
from offen_core.storage.tables import (
    OFFEN_DATA_TABLES,
    OFFEN_MIGRATION_IDS,
    VERSION_TABLE,
    account_users,
    migrations,
)

__all__ = ["HEAD_REVISION", "OFFEN_SCHEMA_REVISION", "current_revision", "upgrade"]

OFFEN_SCHEMA_REVISION = "0001_offen_schema"
"""The first revision: Offen's schema as Offen's latest migration leaves it."""

HEAD_REVISION = "0002_offen_core_additions"
"""The latest revision."""

_PG_LOCK_KEY = 0x0FFE_C0E
_MYSQL_LOCK_NAME = "offen_core_migrate"
_MYSQL_LOCK_WAIT_SECONDS = 300


def _config(connection: Connection) -> Config:
    config = Config()
    location = resources.files("offen_core.storage") / "migrations"
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    return config


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or ``None`` when it has none.

    Args:
        connection: An open connection.

    Returns:
        The revision id, or ``None``.
    """
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _adoptable(connection: Connection, tables: set[str]) -> bool:
    offen_tables = {table.name for table in OFFEN_DATA_TABLES}
    if migrations.name not in tables:
        if tables & offen_tables:
            raise StorageError(
                "the database holds some of Offen's tables but no migrations table; "
                "point the URL at an empty database or at a complete Offen database"
            )
        return False
    missing = sorted(offen_tables - tables)
    if missing:
        raise StorageError(
            f"the Offen database lacks the tables {', '.join(missing)}; "
            "run Offen's own `offen migrate` on it first"
        )
    recorded = set(connection.execute(select(migrations.c.id)).scalars())
    if not set(OFFEN_MIGRATION_IDS[1:]) <= recorded:
        raise StorageError(
            "the Offen database has not run all of Offen's migrations; "
            "run Offen's own `offen migrate` on it first"
        )
    return True


def _lock(connection: Connection) -> None:
    # Two processes starting at once must not both create the schema.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif connection.dialect.name in ("mysql", "mariadb"):
        acquired = connection.execute(
            text("SELECT GET_LOCK(:name, :wait)"),
            {"name": _MYSQL_LOCK_NAME, "wait": _MYSQL_LOCK_WAIT_SECONDS},
        ).scalar()
        if acquired != 1:
            raise StorageError(
                "another process is migrating this database; wait for it and run migrate again"
            )


def _unlock(connection: Connection) -> None:
    if connection.dialect.name in ("mysql", "mariadb"):
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _MYSQL_LOCK_NAME})


def upgrade(engine: Engine) -> MigrationReport:
    """Bring the database behind ``engine`` to the latest revision.

    Args:
        engine: The engine of the database.

    Returns:
        What was done, and how many operators adopted from Offen still lack the email lookup
        column.

    Raises:
        StorageError: The database holds tables that are neither offen_core's nor a complete
            Offen schema, or an Offen database whose own migrations have not all run.
    """
    with engine.connect() as connection:
        connection = connection.execution_options(offen_core_write=True)
        try:
            with connection.begin():
                _lock(connection)
                before = current_revision(connection)
                tables = set(inspect(connection).get_table_names())
                adopted = before is None and _adoptable(connection, tables)
                config = _config(connection)
                if adopted:
                    command.stamp(config, OFFEN_SCHEMA_REVISION)
                command.upgrade(config, "head")
                after = current_revision(connection) or ""
                lacking = connection.execute(
                    select(func.count())
                    .select_from(account_users)
                    .where(account_users.c.email_lookup.is_(None))
                ).scalar_one()
        finally:
            _unlock(connection)
            connection.commit()
    return MigrationReport(
        revision_before=before,
        revision_after=after,
        adopted=adopted,
        operators_without_lookup=int(lacking),
    )


def _head() -> str:
    """The head revision read from the scripts (tests compare it with `HEAD_REVISION`)."""
    with resources.as_file(resources.files("offen_core.storage") / "migrations") as location:
        config = Config()
        config.set_main_option("script_location", str(location))
        head = ScriptDirectory.from_config(config).get_current_head()
    return head or ""
