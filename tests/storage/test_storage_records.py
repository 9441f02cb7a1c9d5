# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Accounts, operators, relationships, key pairs and secrets through the Store."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from storage_helpers import ENCRYPTED_SECRET, new_account, secret_id

from offen_core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
    UnknownAccountError,
    UnknownSecretError,
)
from offen_core.storage import Account, AccountKey, AccountUser, Relationship, Store


def _operator(**changes: object) -> AccountUser:
    values: dict[str, object] = {
        "account_user_id": str(uuid.uuid4()),
        "hashed_email": "{3,} ZW1haWw= c2FsdA==",
        "hashed_password": "{3,} cGFzcw== c2FsdA==",
        "salt": "{3,} c2FsdHNhbHRzYWx0c2FsdA==",
        "admin_level": 1,
        "email_lookup": uuid.uuid4().hex,
    }
    values.update(changes)
    return AccountUser(**values)  # type: ignore[arg-type]


def _relationship(user: AccountUser, account: Account, *, pending: bool = False) -> Relationship:
    return Relationship(
        relationship_id=str(uuid.uuid4()),
        account_user_id=user.account_user_id,
        account_id=account.account_id,
        password_encrypted_key_encryption_key="" if pending else "{1,} cHc= bm9uY2U=",
        email_encrypted_key_encryption_key="{1,} ZW0= bm9uY2U=",
    )


# --- accounts -------------------------------------------------------------------------------


def test_created_account_reads_back_with_its_values(store: Store) -> None:
    account = new_account(name="  My site  ")

    stored = store.create_account(account)

    assert stored.name == "My site"
    read = store.get_account(account.account_id)
    assert read == stored
    assert read.created == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert read.retired is False


def test_account_is_created_with_relationships_and_keys_in_one_transaction(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)
    account = new_account()
    key = AccountKey(account.account_id, 1, "{}", "{1,} a b", account.created)
    taken = _relationship(user, account)
    store.create_relationships([taken])

    # The second relationship reuses an id: the whole creation must roll back.
    with pytest.raises(ConflictError):
        store.create_account(account, [_relationship(user, account), taken], [key])

    with pytest.raises(UnknownAccountError):
        store.get_account(account.account_id, include_retired=True)
    assert store.account_keys(account.account_id) == []

    store.create_account(account, [_relationship(user, account)], [key])
    assert store.account_keys(account.account_id) == [key]


def test_account_with_an_invalid_id_or_name_is_rejected_before_storing(store: Store) -> None:
    with pytest.raises(InvalidInputError) as error:
        store.create_account(new_account(account_id="not-a-uuid"))
    assert error.value.field == "accountId"
    with pytest.raises(InvalidInputError):
        store.create_account(new_account(name=" "))
    with pytest.raises(InvalidInputError):
        store.create_account(new_account(name="x" * 101))
    assert store.list_accounts() == []


def test_unknown_account_raises_unknown_account_error(store: Store) -> None:
    with pytest.raises(UnknownAccountError):
        store.get_account(str(uuid.uuid4()))


def test_retire_hides_the_account_and_deletes_its_relationships(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)
    account = new_account()
    store.create_account(account, [_relationship(user, account)])

    store.retire_account(account.account_id)

    with pytest.raises(UnknownAccountError):
        store.get_account(account.account_id)
    assert store.get_account(account.account_id, include_retired=True).retired is True
    assert store.relationships_for_account(account.account_id, include_pending=True) == []
    with pytest.raises(UnknownAccountError):
        store.retire_account(account.account_id)
    with pytest.raises(UnknownAccountError):
        store.retire_account(str(uuid.uuid4()))


def test_list_accounts_includes_retired_ones(store: Store) -> None:
    first = store.create_account(new_account(created=datetime(2024, 1, 1, tzinfo=UTC)))
    second = store.create_account(new_account(created=datetime(2024, 2, 1, tzinfo=UTC)))
    store.retire_account(first.account_id)

    listed = store.list_accounts()

    assert [item.account_id for item in listed] == [first.account_id, second.account_id]
    assert store.get_accounts([first.account_id], include_retired=False) == {}
    assert set(store.get_accounts([first.account_id, second.account_id])) == {
        first.account_id,
        second.account_id,
    }


def test_account_name_taken_matches_retired_accounts_too(store: Store) -> None:
    account = store.create_account(new_account(name="Shop"))
    store.retire_account(account.account_id)

    assert store.account_name_taken("Shop") is True
    assert store.account_name_taken(" Shop ") is True
    assert store.account_name_taken("Blog") is False


def test_update_account_changes_keys_and_keeps_retired_and_created(store: Store) -> None:
    account = store.create_account(new_account())

    store.update_account(
        replace(account, public_key='{"new":1}', retired=True, created=datetime.now(UTC))
    )

    read = store.get_account(account.account_id)
    assert read.public_key == '{"new":1}'
    assert read.retired is False
    assert read.created == account.created
    with pytest.raises(UnknownAccountError):
        store.update_account(new_account())


def test_account_keys_are_kept_by_version(store: Store) -> None:
    account = store.create_account(new_account())
    keys = [AccountKey(account.account_id, v, "{}", "{1,} a b", account.created) for v in (2, 1)]
    for key in keys:
        store.add_account_key(key)

    assert [key.key_version for key in store.account_keys(account.account_id)] == [1, 2]
    with pytest.raises(ConflictError):
        store.add_account_key(keys[0])


# --- operators ------------------------------------------------------------------------------


def test_operator_is_found_by_id_and_by_lookup(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)

    assert store.get_account_user(user.account_user_id) == user
    assert store.find_account_user_by_lookup(user.email_lookup or "") == user
    assert store.find_account_user_by_lookup("f" * 64) is None
    with pytest.raises(NotFoundError):
        store.get_account_user(str(uuid.uuid4()))


def test_email_lookup_is_unique(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)

    with pytest.raises(ConflictError):
        store.create_account_user(_operator(email_lookup=user.email_lookup))
    with pytest.raises(InvalidInputError):
        store.create_account_user(_operator(email_lookup="x" * 129))


def test_operators_without_lookup_are_listed_and_counted(store: Store) -> None:
    adopted = [_operator(email_lookup=None) for _ in range(2)]
    for user in [*adopted, _operator()]:
        store.create_account_user(user)

    assert store.count_account_users_without_lookup() == 2
    assert {user.account_user_id for user in store.account_users_without_lookup()} == {
        user.account_user_id for user in adopted
    }
    assert len(store.list_account_users()) == 3

    store.update_account_user(replace(adopted[0], email_lookup="a" * 64))
    assert store.count_account_users_without_lookup() == 1


def test_update_operator_writes_every_column(store: Store) -> None:
    user = _operator(email_lookup=None)
    store.create_account_user(user)
    changed = replace(
        user,
        hashed_password="{3,} bmV3 c2FsdA==",
        hashed_email="{3,} bmV3ZW1haWw= c2FsdA==",
        salt="{3,} bmV3c2FsdA==",
        email_lookup="b" * 64,
        admin_level=0,
        recovery_public_key="{}",
        recovery_encrypted_private_key="{1,} cg== bg==",
    )

    store.update_account_user(changed)

    assert store.get_account_user(user.account_user_id) == changed
    with pytest.raises(NotFoundError):
        store.update_account_user(_operator())


def test_delete_operator_removes_their_relationships(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)
    account = new_account()
    store.create_account(account, [_relationship(user, account)])

    store.delete_account_user(user.account_user_id)

    assert store.relationships_for_account(account.account_id, include_pending=True) == []
    with pytest.raises(NotFoundError):
        store.delete_account_user(user.account_user_id)


# --- relationships --------------------------------------------------------------------------


def test_pending_invitations_are_only_listed_when_asked_for(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)
    accepted_account, pending_account = new_account(), new_account()
    accepted = _relationship(user, accepted_account)
    pending = _relationship(user, pending_account, pending=True)
    store.create_account(accepted_account, [accepted])
    store.create_account(pending_account, [pending])

    assert store.relationships_for_user(user.account_user_id) == [accepted]
    assert {
        item.relationship_id
        for item in store.relationships_for_user(user.account_user_id, include_pending=True)
    } == {accepted.relationship_id, pending.relationship_id}
    assert pending.pending is True
    assert accepted.pending is False
    assert store.relationships_for_account(pending_account.account_id) == []
    assert store.relationships_for_account(pending_account.account_id, include_pending=True) == [
        pending
    ]


def test_update_relationship_accepts_an_invitation(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)
    account = new_account()
    pending = _relationship(user, account, pending=True)
    store.create_account(account, [pending])
    accepted = replace(
        pending,
        password_encrypted_key_encryption_key="{1,} cA== bg==",
        one_time_encrypted_key_encryption_key="",
        recovery_encrypted_key_encryption_key="{1,} cmVj",
    )

    store.update_relationship(accepted)

    assert store.relationships_for_user(user.account_user_id) == [accepted]
    with pytest.raises(NotFoundError):
        store.update_relationship(_relationship(user, account))


def test_delete_relationship(store: Store) -> None:
    user = _operator()
    store.create_account_user(user)
    account = new_account()
    relationship = _relationship(user, account)
    store.create_account(account, [relationship])

    store.delete_relationship(relationship.relationship_id)

    assert store.relationships_for_user(user.account_user_id, include_pending=True) == []
    with pytest.raises(NotFoundError):
        store.delete_relationship(relationship.relationship_id)


def test_transaction_commits_several_operations_together(store: Store) -> None:
    user = _operator(email_lookup=None)
    store.create_account_user(user)
    account = new_account()
    pending = _relationship(user, account, pending=True)
    store.create_account(account, [pending])

    with store.transaction() as tx:
        tx.update_account_user(replace(user, email_lookup="c" * 64))
        tx.update_relationship(replace(pending, password_encrypted_key_encryption_key="{1,} a"))

    assert store.get_account_user(user.account_user_id).email_lookup == "c" * 64
    assert len(store.relationships_for_user(user.account_user_id)) == 1


def test_transaction_rolls_back_every_operation_on_error(store: Store) -> None:
    user = _operator(email_lookup=None)
    store.create_account_user(user)
    account = new_account()
    pending = _relationship(user, account, pending=True)
    store.create_account(account, [pending])

    def change_both() -> None:
        with store.transaction() as tx:
            tx.update_account_user(replace(user, email_lookup="c" * 64))
            tx.update_relationship(replace(pending, relationship_id=str(uuid.uuid4())))

    with pytest.raises(NotFoundError):
        change_both()

    assert store.get_account_user(user.account_user_id).email_lookup is None


def test_lock_instance_makes_a_racing_transaction_wait_until_the_first_commits(
    store: Store, make_store: Callable[..., Store]
) -> None:
    other = make_store()
    seen: list[bool] = []

    def second_setup() -> None:
        with other.transaction() as tx:
            tx.lock_instance()
            seen.append(tx.is_empty())

    with store.transaction() as tx:
        tx.lock_instance()
        assert tx.is_empty()
        racing = threading.Thread(target=second_setup)
        racing.start()
        racing.join(timeout=0.5)
        assert racing.is_alive(), "the second transaction went past the lock"
        assert seen == []
        tx.create_account(new_account())
    racing.join(timeout=30)

    assert not racing.is_alive()
    assert seen == [False]


def test_lock_instance_is_refused_outside_a_transaction(store: Store) -> None:
    with pytest.raises(StorageError, match="inside a transaction"):
        store.lock_instance()


def test_lock_instance_needs_a_migrated_database(scratch_url: str) -> None:
    unmigrated = Store(scratch_url)
    try:
        if unmigrated.engine.dialect.name == "sqlite":
            # The write transaction holds the database file from its start: nothing to lock.
            with unmigrated.transaction() as tx:
                tx.lock_instance()
        else:
            with pytest.raises(StorageError), unmigrated.transaction() as tx:
                tx.lock_instance()
    finally:
        unmigrated.close()


# --- secrets --------------------------------------------------------------------------------


def test_secrets_are_read_one_or_many(store: Store, account: Account) -> None:
    store.exchange_secret(
        account.account_id, secret_id("a"), ENCRYPTED_SECRET, parked_secret_id=secret_id("p")
    )

    assert store.get_secret(secret_id("a")) == ENCRYPTED_SECRET
    assert store.get_secrets([secret_id("a"), secret_id("b")]) == {secret_id("a"): ENCRYPTED_SECRET}
    with pytest.raises(UnknownSecretError):
        store.get_secret(secret_id("b"))


def test_exchange_checks_the_account_and_the_values(store: Store, account: Account) -> None:
    retired = store.create_account(new_account())
    store.retire_account(retired.account_id)

    with pytest.raises(UnknownAccountError):
        store.exchange_secret(
            retired.account_id, secret_id("a"), ENCRYPTED_SECRET, parked_secret_id=secret_id("p")
        )
    with pytest.raises(InvalidInputError):
        store.exchange_secret(
            account.account_id,
            secret_id("a"),
            "{1,} " + "A" * 2100,
            parked_secret_id=secret_id("p"),
        )
    with pytest.raises(InvalidInputError):
        store.exchange_secret(
            account.account_id, "ABC", ENCRYPTED_SECRET, parked_secret_id=secret_id("p")
        )
    with pytest.raises(InvalidInputError):
        store.exchange_secret(
            account.account_id, secret_id("a"), ENCRYPTED_SECRET, parked_secret_id=secret_id("a")
        )
    assert store.get_secrets([secret_id("a")]) == {}
