# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Event insert and import, the secret exchange with parking, purge, and atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from storage_helpers import (
    ENCRYPTED_SECRET,
    PAYLOAD,
    InjectedError,
    failing,
    new_account,
    secret_id,
)

import offen_core.storage.store as store_module
from offen_core.errors import InvalidInputError, UnknownAccountError, UnknownSecretError
from offen_core.events import MAX_PAYLOAD_LENGTH, is_ulid, ulid_time
from offen_core.storage import (
    Account,
    ImportedEvent,
    NewEvent,
    Store,
    events,
    secrets,
    tombstones,
)


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _exchange(store: Store, account: Account, name: str, secret: str = ENCRYPTED_SECRET) -> bool:
    return store.exchange_secret(
        account.account_id, secret_id(name), secret, parked_secret_id=secret_id(f"parked {name}")
    )


# --- insert -------------------------------------------------------------------------------


def test_insert_assigns_ids_and_sequences_in_order(store: Store, account: Account) -> None:
    _exchange(store, account, "visitor")

    stored = store.insert_events(
        [NewEvent(account.account_id, secret_id("visitor"), PAYLOAD) for _ in range(5)]
    )

    assert all(is_ulid(item.event_id) and is_ulid(item.sequence) for item in stored)
    assert [item.sequence for item in stored] == sorted(item.sequence for item in stored)
    assert len({item.event_id for item in stored}) == 5
    page = store.events_for_account(account.account_id)
    assert list(page.events) == stored


def test_anonymous_events_need_no_secret(store: Store, account: Account) -> None:
    stored = store.insert_events([NewEvent(account.account_id, None, PAYLOAD)])

    assert stored[0].secret_id is None
    assert store.events_for_account(account.account_id).events[0].secret_id is None


def test_insert_for_unknown_or_retired_account_stores_nothing(
    store: Store, account: Account
) -> None:
    retired = store.create_account(new_account())
    store.retire_account(retired.account_id)

    for account_id in (retired.account_id, new_account().account_id):
        with pytest.raises(UnknownAccountError):
            store.insert_events(
                [NewEvent(account.account_id, None, PAYLOAD), NewEvent(account_id, None, PAYLOAD)]
            )
    assert _count(store, events) == 0


def test_insert_with_unknown_secret_stores_nothing(store: Store, account: Account) -> None:
    _exchange(store, account, "known")

    with pytest.raises(UnknownSecretError):
        store.insert_events(
            [
                NewEvent(account.account_id, secret_id("known"), PAYLOAD),
                NewEvent(account.account_id, secret_id("unknown"), PAYLOAD),
            ]
        )
    assert _count(store, events) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account_id": "nope"}, "accountId"),
        ({"secret_id": "ABC"}, "secretId"),
        ({"payload": ""}, "payload"),
        ({"payload": "plain text"}, "payload"),
        ({"payload": "{1,} " + "A" * MAX_PAYLOAD_LENGTH}, "payload"),
    ],
)
def test_invalid_values_are_rejected_before_the_database(
    store: Store, account: Account, changes: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {"account_id": account.account_id, "secret_id": None}
    values["payload"] = PAYLOAD
    values.update(changes)

    with failing(store, lambda _sql, _count: True), pytest.raises(InvalidInputError) as error:
        store.insert_events([NewEvent(**values)])

    assert error.value.field == field


def test_a_failure_in_the_middle_of_a_batch_leaves_nothing(
    store: Store, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "_INSERT_CHUNK", 2)
    batch = [NewEvent(account.account_id, None, PAYLOAD) for _ in range(5)]

    with (
        failing(store, lambda sql, count: sql == "INSERT INTO EVENTS" and count == 2),
        pytest.raises(InjectedError),
    ):
        store.insert_events(batch)

    assert _count(store, events) == 0
    assert len(store.insert_events(batch)) == 5


def test_import_sets_each_event_time(store: Store, account: Account) -> None:
    _exchange(store, account, "visitor")
    when = datetime(2024, 3, 1, 8, 30, 15, 250000, tzinfo=UTC)

    stored = store.import_events(
        [
            ImportedEvent(account.account_id, secret_id("visitor"), PAYLOAD, when),
            ImportedEvent(account.account_id, None, PAYLOAD, when + timedelta(days=1)),
        ]
    )

    assert [ulid_time(item.event_id) for item in stored] == [when, when + timedelta(days=1)]
    # The sequence is minted now, so syncing clients still receive imported events.
    assert ulid_time(stored[0].sequence) > datetime.now(UTC) - timedelta(minutes=1)


def test_import_rejects_naive_times(store: Store, account: Account) -> None:
    with pytest.raises(InvalidInputError):
        store.import_events(
            [ImportedEvent(account.account_id, None, PAYLOAD, datetime(2024, 1, 1))]
        )
    assert _count(store, events) == 0


# --- exchange and parking -------------------------------------------------------------------


def test_first_exchange_stores_the_secret(store: Store, account: Account) -> None:
    assert _exchange(store, account, "visitor") is False
    assert store.get_secret(secret_id("visitor")) == ENCRYPTED_SECRET
    assert _count(store, tombstones) == 0


def test_second_exchange_parks_the_old_secret_and_events(store: Store, account: Account) -> None:
    _exchange(store, account, "visitor")
    old = store.insert_events(
        [NewEvent(account.account_id, secret_id("visitor"), PAYLOAD) for _ in range(3)]
    )
    replacement = "{1,} bmV3IHNlY3JldA=="

    assert _exchange(store, account, "visitor", replacement) is True

    assert store.get_secret(secret_id("visitor")) == replacement
    assert store.get_secret(secret_id("parked visitor")) == ENCRYPTED_SECRET
    mine = store.events_for_secrets([secret_id("visitor")], since=old[-1].sequence)
    assert mine.events == ()
    assert set(mine.deleted_event_ids) == {item.event_id for item in old}
    parked = store.events_for_account(account.account_id, since=old[-1].sequence).events
    assert {item.secret_id for item in parked} == {secret_id("parked visitor")}
    # Siblings: new ids at the same millisecond, new sequences, the same payloads.
    assert sorted(ulid_time(item.event_id) for item in parked) == sorted(
        ulid_time(item.event_id) for item in old
    )
    assert not {item.event_id for item in parked} & {item.event_id for item in old}
    assert all(item.sequence > old[-1].sequence for item in parked)


def test_a_failure_while_parking_leaves_everything_as_it_was(
    store: Store, account: Account
) -> None:
    _exchange(store, account, "visitor")
    old = store.insert_events(
        [NewEvent(account.account_id, secret_id("visitor"), PAYLOAD) for _ in range(3)]
    )

    with (
        failing(store, lambda sql, _count: sql == "DELETE FROM EVENTS"),
        pytest.raises(InjectedError),
    ):
        _exchange(store, account, "visitor", "{1,} bmV3")

    assert store.get_secret(secret_id("visitor")) == ENCRYPTED_SECRET
    assert store.get_secrets([secret_id("parked visitor")]) == {}
    assert list(store.events_for_account(account.account_id).events) == old
    assert _count(store, tombstones) == 0


# --- purge ----------------------------------------------------------------------------------


def test_purge_deletes_events_and_secrets_and_writes_tombstones(
    store: Store, account: Account
) -> None:
    other_account = store.create_account(new_account())
    _exchange(store, account, "visitor")
    _exchange(store, other_account, "visitor elsewhere")
    _exchange(store, account, "someone else")
    mine = store.insert_events(
        [
            NewEvent(account.account_id, secret_id("visitor"), PAYLOAD),
            NewEvent(other_account.account_id, secret_id("visitor elsewhere"), PAYLOAD),
        ]
    )
    theirs = store.insert_events([NewEvent(account.account_id, secret_id("someone else"), PAYLOAD)])

    purged = store.purge_secrets([secret_id("visitor"), secret_id("visitor elsewhere")])

    assert purged == 2
    assert store.get_secrets([secret_id("visitor"), secret_id("visitor elsewhere")]) == {}
    assert list(store.events_for_account(account.account_id).events) == theirs
    stones = store.tombstones_for_secrets([secret_id("visitor"), secret_id("visitor elsewhere")])
    assert {stone.event_id for stone in stones} == {item.event_id for item in mine}
    assert {stone.account_id for stone in stones} == {account.account_id, other_account.account_id}
    assert store.purge_secrets([secret_id("visitor")]) == 0


def test_a_failure_during_purge_leaves_nothing_half_done(store: Store, account: Account) -> None:
    _exchange(store, account, "visitor")
    stored = store.insert_events(
        [NewEvent(account.account_id, secret_id("visitor"), PAYLOAD) for _ in range(4)]
    )

    with (
        failing(store, lambda sql, _count: sql == "DELETE FROM SECRETS"),
        pytest.raises(InjectedError),
    ):
        store.purge_secrets([secret_id("visitor")])

    assert list(store.events_for_account(account.account_id).events) == stored
    assert _count(store, tombstones) == 0
    assert _count(store, secrets) == 1
