# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Database URLs, engine set-up, unreachable databases, emptiness and the health ping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from storage_helpers import PAYLOAD

from offen_core.errors import DatabaseUnavailableError, InvalidInputError
from offen_core.storage import Account, NewEvent, Store, normalise_url, redact_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///offen.db", "sqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("mysql://u@h/db", "mysql+pymysql"),
        ("mariadb://u@h/db", "mariadb+pymysql"),
    ],
)
def test_urls_get_the_library_drivers(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


def test_mysql_urls_get_utf8mb4() -> None:
    assert normalise_url("mysql://u@h/db").query["charset"] == "utf8mb4"
    assert normalise_url("mysql://u@h/db?charset=latin1").query["charset"] == "latin1"


@pytest.mark.parametrize("given", ["", "not a url", "oracle://u@h/db", "redis://h/0"])
def test_unsupported_urls_are_rejected(given: str) -> None:
    with pytest.raises(InvalidInputError):
        Store(given)


def test_redacted_url_has_no_password() -> None:
    redacted = redact_url("postgresql+psycopg://offen:hunter2@db.example/offen")

    assert "hunter2" not in redacted
    assert "offen@" not in redacted
    assert redacted.startswith("postgresql+psycopg://offen:")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://offen:hunter2@127.0.0.1:1/offen?connect_timeout=2",
        "mysql+pymysql://offen:hunter2@127.0.0.1:1/offen?connect_timeout=2",
    ],
)
def test_unreachable_server_raises_a_clear_error_without_the_password(url: str) -> None:
    store = Store(url)

    with pytest.raises(DatabaseUnavailableError) as error:
        store.ping()

    message = str(error.value)
    assert "hunter2" not in message
    assert "127.0.0.1:1" in message
    with pytest.raises(DatabaseUnavailableError):
        store.migrate()


def test_unopenable_sqlite_file_raises_database_unavailable(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'offen.db'}")

    with pytest.raises(DatabaseUnavailableError, match="missing"):
        store.ping()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'offen.db'}")
    with store.engine.connect() as connection:
        mode = connection.execute(text("PRAGMA journal_mode")).scalar()
        timeout = connection.execute(text("PRAGMA busy_timeout")).scalar()
    store.close()

    assert mode == "wal"
    assert timeout == 30_000


def test_ping_answers_on_a_running_database(store: Store) -> None:
    store.ping()


def test_is_empty_until_any_data_table_has_a_row(store: Store, account: Account) -> None:
    assert store.is_empty() is False
    store.retire_account(account.account_id)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM accounts"))
    assert store.is_empty() is True

    with store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tombstones (event_id, account_id, sequence) VALUES ('x', 'a', 's')")
        )
    assert store.is_empty() is False


def test_a_database_without_tables_is_empty(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'new.db'}")

    assert store.is_empty() is True
    store.migrate()
    assert store.is_empty() is True
    store.close()


def test_repr_names_the_url_without_password() -> None:
    store = Store("postgresql+psycopg://offen:hunter2@127.0.0.1:1/offen")

    assert "hunter2" not in repr(store)
    assert "hunter2" not in store.url


def test_in_memory_sqlite_works_for_single_threaded_use() -> None:
    store = Store("sqlite://")
    store.migrate()
    account = Account(
        account_id="6f1f8c1e-4d3b-4b8e-9b43-0d3e4bbf7f10",
        name="memory",
        public_key="{}",
        encrypted_private_key="{1,} a",
        user_salt="{1,} b",
        created=datetime.now(UTC),
    )
    store.create_account(account)

    assert len(store.insert_events([NewEvent(account.account_id, None, PAYLOAD)])) == 1


def test_events_read_from_rows_equal_validated_models() -> None:
    from offen_core.events import StoredEvent
    from offen_core.storage import _rows

    values = {
        "event_id": "01HF0000000000000000000001",
        "sequence": "01HF0000000000000000000002",
        "account_id": "6f1f8c1e-4d3b-4b8e-9b43-0d3e4bbf7f10",
        "secret_id": "a" * 64,
        "payload": PAYLOAD,
    }

    built = _rows._make(StoredEvent, dict(values))

    # The fast path is in use on this pydantic, and its result is the validated model.
    assert _rows._make is _rows._build
    assert built == StoredEvent(**values)
    assert built.model_dump(by_alias=True)["eventId"] == values["event_id"]


def test_batch_sequences_are_distinct_ordered_ulids_of_now() -> None:
    from offen_core.events import is_ulid, ulid_time
    from offen_core.storage import _rows

    first, second = _rows._sequences(3000), _rows._sequences(3000)

    assert first == sorted(first)
    assert len(set(first) | set(second)) == 6000
    assert all(is_ulid(value) for value in first)
    assert abs(ulid_time(first[0]) - datetime.now(UTC)).total_seconds() < 60
    with pytest.raises(ValueError, match="2\\*\\*25"):
        _rows._sequences(1 << 25)
