# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The ``offen-core migrate`` and ``offen-core expire`` commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from storage_helpers import PAYLOAD, new_account

from offen_core.cli import main
from offen_core.storage import HEAD_REVISION, ImportedEvent, NewEvent, Store


def test_migrate_then_expire_on_each_engine(
    scratch_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--database-url", scratch_url]) == 0
    assert f"migrated to revision {HEAD_REVISION}" in capsys.readouterr().out

    store = Store(scratch_url)
    account = store.create_account(new_account())
    store.import_events(
        [ImportedEvent(account.account_id, None, PAYLOAD, datetime.now(UTC) - timedelta(days=40))]
    )
    store.insert_events([NewEvent(account.account_id, None, PAYLOAD)])

    assert main(["expire", "--database-url", scratch_url, "--retention", "30days"]) == 0
    assert "expired 1 event(s) and pruned 0 tombstone(s)" in capsys.readouterr().out
    assert len(store.events_for_account(account.account_id).events) == 1
    store.close()

    assert main(["migrate", "--database-url", scratch_url]) == 0
    assert "already at revision" in capsys.readouterr().out


def test_default_database_is_a_sqlite_file_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OFFEN_CORE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)

    assert main(["migrate"]) == 0

    assert (tmp_path / "offen.db").is_file()


def test_database_url_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFEN_CORE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.chdir(tmp_path)

    assert main(["migrate"]) == 0
    assert main(["expire"]) == 0

    assert (tmp_path / "env.db").is_file()
    assert not (tmp_path / "offen.db").exists()


def test_invalid_retention_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'offen.db'}"

    assert main(["expire", "--database-url", url, "--retention", "3days"]) == 1
    assert "retention" in capsys.readouterr().err


def test_unreachable_database_fails_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+psycopg://offen:hunter2@127.0.0.1:1/offen?connect_timeout=2"

    assert main(["migrate", "--database-url", url]) == 1

    error = capsys.readouterr().err
    assert "cannot connect" in error
    assert "hunter2" not in error
