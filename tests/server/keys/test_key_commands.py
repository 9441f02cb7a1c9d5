# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""``offen-core rotate`` and ``offen-core recovery``, and moving a database to recovery keys."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from keyrot_helpers import (
    ANN,
    SECRET,
    RecordingMailer,
    make_flows,
    only_account,
    session_for,
    setup,
)

from offen_core import crypto
from offen_core.cli import main
from offen_core.crypto import decrypt_symmetric, derive_key
from offen_core.storage import Store
from offen_core.testing import KeyPairPool


@pytest.fixture
def file_store(tmp_path: Path) -> Store:
    """A migrated SQLite file of its own."""
    store = Store(f"sqlite:///{tmp_path / 'offen.db'}")
    store.migrate()
    return store


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, pool: KeyPairPool, tmp_path: Path) -> None:
    """The server secret and Ann's credentials in the environment; pairs from the pool."""
    monkeypatch.setenv("OFFEN_CORE_SECRET", base64.b64encode(SECRET).decode())
    monkeypatch.setenv("OFFEN_CORE_EMAIL", ANN[0])
    monkeypatch.setenv("OFFEN_CORE_PASSWORD", ANN[1])
    monkeypatch.setattr(crypto, "generate_key_pair", pool)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("environment")
def test_rotate_makes_a_new_key_pair_and_with_kek_a_new_kek(
    file_store: Store, pool: KeyPairPool, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = make_flows(file_store, pool, RecordingMailer())
    setup(flows)
    account_id = only_account(flows, ANN)
    login = flows.login({"username": ANN[0], "password": ANN[1]})
    old_kek = login.accounts[0].key_encryption_key
    url = file_store.url

    assert main(["rotate", "--database-url", url, "--account", account_id]) == 0
    assert "current key version is 2" in capsys.readouterr().out
    assert main(["rotate", "--database-url", url, "--account", account_id, "--kek"]) == 0
    assert "version 3" in capsys.readouterr().out

    new_kek = flows.login({"username": ANN[0], "password": ANN[1]}).accounts[0].key_encryption_key
    assert new_kek != old_kek
    assert [key.key_version for key in file_store.account_keys(account_id)] == [1, 2, 3]
    assert (
        main(["rotate", "--database-url", url, "--account", account_id, "--invite", "x@y.z"]) == 1
    )
    assert "--kek" in capsys.readouterr().err


@pytest.mark.usefixtures("environment")
def test_an_offen_database_moves_to_recovery_keys_and_loses_its_email_copies(
    file_store: Store, pool: KeyPairPool, capsys: pytest.CaptureFixture[str]
) -> None:
    mailer = RecordingMailer()
    setup(make_flows(file_store, pool, mailer))  # written the Offen way, with an email copy
    url = file_store.url
    user = file_store.list_account_users()[0]
    (relationship,) = file_store.relationships_for_user(user.account_user_id)
    email_key = derive_key(ANN[0], user.salt)
    kek = decrypt_symmetric(email_key, relationship.email_encrypted_key_encryption_key)

    assert main(["recovery", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "1 operator(s), 1 without a recovery key" in out
    assert user.account_user_id in out
    assert main(["recovery", "--database-url", url, "--remove-email-keys"]) == 1
    assert "lack a recovery key" in capsys.readouterr().err
    assert file_store.relationships_for_user(user.account_user_id)[0] == relationship

    flows = make_flows(file_store, pool, mailer, recovery_mode=True)
    recovery_key = flows.new_recovery_key(session_for(flows, ANN), {"password": ANN[1]})
    assert main(["recovery", "--database-url", url]) == 0
    assert "run again with --remove-email-keys" in capsys.readouterr().out
    assert main(["recovery", "--database-url", url, "--remove-email-keys"]) == 0
    assert "removed 1 email-wrapped" in capsys.readouterr().out

    (after,) = file_store.relationships_for_user(user.account_user_id)
    assert after.email_encrypted_key_encryption_key == ""
    flows.recover(
        {
            "emailAddress": ANN[0],
            "recoveryKey": recovery_key.body()["recoveryKey"],
            "password": "recovered password",
        }
    )
    login = flows.login({"username": ANN[0], "password": "recovered password"})
    assert login.accounts[0].key_encryption_key == kek
