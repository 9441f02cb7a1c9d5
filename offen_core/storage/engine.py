# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Database URLs and SQLAlchemy engines, configured the same way for every Store.

- ``sqlite:///path/to/offen.db``: the embedded default; WAL mode, a busy timeout, and write
  transactions that take SQLite's write lock up front (``BEGIN IMMEDIATE``), so concurrent
  writers wait for each other instead of failing.
- ``postgresql+psycopg://user:password@host/db`` (``postgresql://`` and ``postgres://`` mean
  the same).
- ``mysql+pymysql://user:password@host/db`` for MySQL and MariaDB (``mysql://`` and
  ``mariadb://`` mean the same); the connection uses ``utf8mb4`` and ``READ COMMITTED``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from offen_core.errors import InvalidInputError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "SQLITE_BUSY_TIMEOUT_MS",
    "WRITE_OPTION",
    "normalise_url",
    "open_engine",
    "redact_url",
]

DEFAULT_DATABASE_URL = "sqlite:///offen.db"
"""The embedded default: a SQLite file ``offen.db`` in the current folder."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer before giving up."""

WRITE_OPTION = "offen_core_write"
"""Execution option that marks a connection's transaction as one that writes."""

_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}

_RULE = (
    "must be a database URL such as sqlite:///offen.db, "
    "postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db"
)


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL and fill in the driver the library uses for its engine.

    Args:
        url: A SQLAlchemy database URL; a bare ``postgresql://`` or ``mysql://`` gets the
            psycopg or PyMySQL driver, and MySQL connections get ``charset=utf8mb4``.

    Returns:
        The parsed URL.

    Raises:
        InvalidInputError: ``url`` is not a URL of SQLite, PostgreSQL, MySQL or MariaDB.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise InvalidInputError("database URL", _RULE) from error
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb"):
        raise InvalidInputError("database URL", _RULE)
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def redact_url(url: str | URL) -> str:
    """Render a database URL without its password, for messages and logs.

    Args:
        url: The database URL.

    Returns:
        The URL with the password replaced by ``***``.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def open_engine(url: str | URL, **options: Any) -> Engine:
    """Create the engine a Store uses for a database URL.

    Args:
        url: The database URL (see `normalise_url`).
        **options: Further keyword arguments for `sqlalchemy.create_engine`.

    Returns:
        A configured engine; nothing is connected yet.

    Raises:
        InvalidInputError: ``url`` is not a supported database URL.
    """
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, options)
    options.setdefault("pool_pre_ping", True)
    if backend in ("mysql", "mariadb"):
        options.setdefault("isolation_level", "READ COMMITTED")
    return create_engine(parsed, **options)


def _sqlite_engine(url: URL, options: dict[str, Any]) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        # One shared connection: an in-memory database exists only inside its connection.
        options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself, so it can choose the mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine
