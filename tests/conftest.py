# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: the services each backend needs, the Offen test vectors, hypothesis profiles.

Services are found at the addresses of the project's CI machines unless environment variables
name others. A missing service skips its tests, unless ``OFFEN_CORE_REQUIRE_SERVICES=1`` (set by
``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings

REQUIRE_SERVICES = os.environ.get("OFFEN_CORE_REQUIRE_SERVICES") == "1"

POSTGRES_URL = os.environ.get(
    "OFFEN_CORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("OFFEN_CORE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("OFFEN_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

VECTORS_PATH = Path(
    os.environ.get(
        "OFFEN_CORE_VECTORS",
        Path(__file__).resolve().parents[2] / "shared" / "interop" / "offen-vectors.json",
    )
)

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _missing(what: str) -> None:
    """Skip the test for a missing prerequisite, or fail it when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} (OFFEN_CORE_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(what)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    try:
        with socket.create_connection((host, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of the PostgreSQL test database; skips (or fails) when it is not reachable."""
    if not _reachable(POSTGRES_URL, 5432):
        _missing(f"PostgreSQL is not reachable at {urlsplit(POSTGRES_URL).netloc}")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """The URL of the MySQL or MariaDB test database; skips (or fails) when not reachable."""
    if not _reachable(MYSQL_URL, 3306):
        _missing(f"MySQL/MariaDB is not reachable at {urlsplit(MYSQL_URL).netloc}")
    return MYSQL_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of the Redis server for tests; skips (or fails) when it is not reachable."""
    if not _reachable(REDIS_URL, 6379):
        _missing(f"Redis is not reachable at {urlsplit(REDIS_URL).netloc}")
    return REDIS_URL


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a SQLite database file that lives for the test session."""
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'offen.db'}"


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each database engine in turn: SQLite always, PostgreSQL and MariaDB where they run."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
def offen_vectors() -> dict[str, Any]:
    """Offen's interoperability test vectors, read from ``../shared/interop/``."""
    if not VECTORS_PATH.is_file():
        _missing(
            "Offen's test vectors are not here; they live beside the project in "
            "shared/interop/offen-vectors.json (set OFFEN_CORE_VECTORS to another path)"
        )
    vectors: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return vectors


# --- storage: a migrated Store on each engine, emptied before each test ----------------------

from collections.abc import Callable, Iterator  # noqa: E402 - kept beside the fixtures that use it

from offen_core.storage import Store, metadata  # noqa: E402


@pytest.fixture(scope="session")
def migrated_store(database_url: str) -> Iterator[Store]:
    """One `offen_core.storage.Store` per database engine, migrated once per test session."""
    store = Store(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def store(migrated_store: Store) -> Store:
    """The session's Store on each engine (SQLite, PostgreSQL, MariaDB), with empty tables.

    Every table is emptied with DELETE before the test (Offen's ``migrations`` rows and the
    schema revision stay), so each test starts from an empty, migrated database.
    """
    with migrated_store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "migrations":
                connection.execute(table.delete())
    return migrated_store


@pytest.fixture
def make_store(store: Store) -> Iterator[Callable[..., Store]]:
    """Open further Stores on the test's database (other safety lags or clocks).

    Each one uses the session's migrated database, whose tables `store` has just emptied, so
    no folder migrates a database of its own; all are closed after the test. A folder's own
    ``store`` may be made here (tests/client's is): requested from an overriding ``store``,
    ``store`` means this file's.
    """
    opened: list[Store] = []

    def make(**options: Any) -> Store:
        other = Store(store.engine.url.render_as_string(hide_password=False), **options)
        opened.append(other)
        return other

    yield make
    for other in opened:
        other.close()
