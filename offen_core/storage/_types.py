# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Column types that render as the types Offen's GORM models create on each engine.

GORM picks a column type per dialect: a sized string is ``varchar(n)`` on PostgreSQL and MySQL
but ``text`` on SQLite; an unsized string is ``text`` on PostgreSQL and SQLite and ``longtext``
on MySQL (``varchar(191)`` when it is a primary key); a boolean is ``numeric`` on SQLite; a time
is ``timestamptz``, ``datetime(3)`` or ``datetime``; an int is ``bigint`` (``integer`` on
SQLite). The migrations and the table definitions both use these helpers, so that a database
created here has the column types Offen's own server would have created.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["BigInt", "Flag", "LongString", "ShortString", "Timestamp", "TombstoneKey"]

_MYSQL = ("mysql", "mariadb")


def ShortString(length: int) -> TypeEngine[str]:  # noqa: N802 - reads like a type
    """GORM's ``size:n`` string: ``varchar(n)``, or ``text`` on SQLite."""
    return String(length).with_variant(Text(), "sqlite")


def LongString() -> TypeEngine[str]:  # noqa: N802 - reads like a type
    """GORM's unsized string: ``text``, or ``longtext`` on MySQL."""
    return Text().with_variant(mysql.LONGTEXT(), *_MYSQL)


def TombstoneKey() -> TypeEngine[str]:  # noqa: N802 - reads like a type
    """GORM's unsized string primary key: ``text``, or ``varchar(191)`` on MySQL."""
    return Text().with_variant(String(191), *_MYSQL)


def BigInt() -> TypeEngine[int]:  # noqa: N802 - reads like a type
    """GORM's int: ``bigint``, or ``integer`` on SQLite."""
    return BigInteger().with_variant(Integer(), "sqlite")


class Flag(TypeDecorator[bool]):
    """GORM's bool: ``boolean`` (``tinyint(1)`` on MySQL), or ``numeric`` on SQLite."""

    impl = Boolean
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Pick the engine's column type."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sqlite.NUMERIC(asdecimal=False))
        return dialect.type_descriptor(Boolean(create_constraint=False))

    def process_bind_param(self, value: bool | None, dialect: Dialect) -> Any:
        """Store ``1``/``0`` on SQLite, as Go's driver does."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return 1 if value else 0
        return bool(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> bool | None:
        """Read any stored truth value as a ``bool``."""
        if value is None:
            return None
        return bool(value)


class Timestamp(TypeDecorator[datetime]):
    """GORM's ``time.Time``: ``timestamptz``, ``datetime(3)`` on MySQL, ``datetime`` on SQLite.

    Values are written in UTC and read back as aware UTC datetimes, whichever engine holds them
    (MySQL and SQLite keep no offset; Offen's Go driver writes SQLite times with one, which is
    understood too).
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Pick the engine's column type."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(mysql.DATETIME(fsp=3))
        return dialect.type_descriptor(sqlite.DATETIME())  # type: ignore[no-untyped-call]

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Convert to UTC; drop the offset where the column keeps none."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "postgresql":
            return value
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
