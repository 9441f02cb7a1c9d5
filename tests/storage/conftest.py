# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the storage tests (``store`` and ``make_store`` live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from storage_helpers import ENGINES, new_account

from offen_core.storage import Account, Store


@pytest.fixture
def account(store: Store) -> Account:
    """An active account stored in the test's database."""
    return store.create_account(new_account())


@pytest.fixture(params=ENGINES)
def scratch_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """The URL of a new, empty database on each engine, dropped after the test."""
    engine_name: str = request.param
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    base = make_url(request.getfixturevalue(f"{engine_name}_url"))
    name = f"{base.database}_scratch"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    drop = (
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        if engine_name == "postgres"
        else f"DROP DATABASE IF EXISTS `{name}`"
    )
    create = (
        f'CREATE DATABASE "{name}"'
        if engine_name == "postgres"
        else f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
    )
    with admin.connect() as connection:
        connection.execute(text(drop))
        connection.execute(text(create))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(drop))
    admin.dispose()
