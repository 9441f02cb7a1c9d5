# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The sync cursor: paging, the safety lag, late commits, concurrent writers."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from storage_helpers import PAYLOAD, secret_id

from offen_core.errors import InvalidInputError
from offen_core.events import min_ulid_at, new_ulid
from offen_core.storage import Account, EventPage, NewEvent, Store, events

_FUTURE = timedelta(minutes=1)


def _settled_store(make_store: Callable[..., Store]) -> Store:
    """A Store whose clock runs a minute ahead: every row is outside the safety lag."""
    return make_store(clock=lambda: datetime.now(UTC) + _FUTURE)


def _drain(store: Store, account_id: str, limit: int | None) -> list[EventPage]:
    pages = []
    since = None
    while True:
        page = store.events_for_account(account_id, since=since, limit=limit)
        pages.append(page)
        since = page.sequence
        if not page.more:
            return pages


def test_paging_delivers_every_event_and_deletion_once_in_order(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    store.exchange_secret(
        account.account_id, secret_id("v"), "{1,} YQ==", parked_secret_id=secret_id("p")
    )
    first = store.insert_events([NewEvent(account.account_id, secret_id("v"), PAYLOAD)] * 7)
    store.purge_secrets([secret_id("v")])
    later = store.insert_events([NewEvent(account.account_id, None, PAYLOAD)] * 16)
    reader = _settled_store(make_store)

    pages = _drain(reader, account.account_id, limit=10)

    assert [page.more for page in pages] == [True, True, False]
    assert [len(page.events) + len(page.deleted_event_ids) for page in pages] == [10, 10, 3]
    delivered = [item.event_id for page in pages for item in page.events]
    assert delivered == [item.event_id for item in later]
    deleted = [event_id for page in pages for event_id in page.deleted_event_ids]
    assert sorted(deleted) == sorted(item.event_id for item in first)


def test_without_limit_one_page_holds_everything(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    stored = store.insert_events([NewEvent(account.account_id, None, PAYLOAD)] * 30)

    pages = _drain(_settled_store(make_store), account.account_id, limit=None)

    assert len(pages) == 1
    assert list(pages[0].events) == stored


def test_rows_inside_the_safety_lag_come_again(store: Store, account: Account) -> None:
    stored = store.insert_events([NewEvent(account.account_id, None, PAYLOAD)] * 3)

    page = store.events_for_account(account.account_id, limit=1)
    again = store.events_for_account(account.account_id, since=page.sequence, limit=1)

    # All rows are younger than the lag: the final page carries them beyond the limit, and
    # the cursor stays behind them, so they are delivered again (clients de-duplicate).
    assert page.more is False
    assert list(page.events) == stored
    assert page.sequence < stored[0].sequence
    assert list(again.events) == stored


def test_cursor_trails_now_by_the_safety_lag(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    store.insert_events([NewEvent(account.account_id, None, PAYLOAD)])
    lagging = make_store(safety_lag=timedelta(seconds=30))

    before = datetime.now(UTC)
    page = lagging.events_for_account(account.account_id)

    assert page.sequence <= min_ulid_at(datetime.now(UTC) - timedelta(seconds=30))
    assert page.sequence >= min_ulid_at(before - timedelta(seconds=30))


def test_a_page_never_ends_inside_a_group_sharing_one_sequence(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    # Offen gives one sequence to every row of a batch; write such a group directly.
    shared = min_ulid_at(datetime.now(UTC) - timedelta(hours=1))
    ids = sorted(new_ulid() for _ in range(5))
    with store.engine.begin() as connection:
        connection.execute(
            insert(events),
            [
                {
                    "event_id": event_id,
                    "sequence": shared,
                    "account_id": account.account_id,
                    "secret_id": None,
                    "payload": PAYLOAD,
                }
                for event_id in ids
            ],
        )
    tail = store.insert_events([NewEvent(account.account_id, None, PAYLOAD)] * 2)

    pages = _drain(_settled_store(make_store), account.account_id, limit=2)

    assert [item.event_id for item in pages[0].events] == ids
    assert pages[0].sequence == shared
    delivered = [item.event_id for page in pages for item in page.events]
    assert delivered == ids + [item.event_id for item in tail]


def test_events_for_secrets_filters_by_secret(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    for name in ("a", "b"):
        store.exchange_secret(
            account.account_id, secret_id(name), "{1,} YQ==", parked_secret_id=secret_id("p" + name)
        )
    mine = store.insert_events([NewEvent(account.account_id, secret_id("a"), PAYLOAD)] * 3)
    store.insert_events([NewEvent(account.account_id, secret_id("b"), PAYLOAD)] * 3)
    reader = _settled_store(make_store)

    first = reader.events_for_secrets([secret_id("a")], limit=2)
    rest = reader.events_for_secrets([secret_id("a")], since=first.sequence, limit=2)

    assert first.more is True
    assert list(first.events + rest.events) == mine
    assert reader.events_for_secrets([]).events == ()


def test_without_deletions_tombstones_are_not_read(store: Store, account: Account) -> None:
    store.exchange_secret(
        account.account_id, secret_id("v"), "{1,} YQ==", parked_secret_id=secret_id("p")
    )
    store.insert_events([NewEvent(account.account_id, secret_id("v"), PAYLOAD)])
    store.purge_secrets([secret_id("v")])

    assert (
        store.events_for_account(account.account_id, include_deleted=False).deleted_event_ids == ()
    )
    assert len(store.events_for_account(account.account_id).deleted_event_ids) == 1
    assert len(store.tombstones_for_account(account.account_id)) == 1
    assert store.tombstones_for_account(account.account_id, since=new_ulid()) == []


@pytest.mark.parametrize(("since", "limit"), [("yesterday", None), (None, 0), (None, -3)])
def test_invalid_cursor_or_limit_is_rejected(
    store: Store, account: Account, since: str | None, limit: int | None
) -> None:
    with pytest.raises(InvalidInputError):
        store.events_for_account(account.account_id, since=since, limit=limit)


def test_a_row_committed_late_is_still_delivered(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    if store.dialect == "sqlite":
        pytest.skip("SQLite serialises writers: no transaction commits after a later one")
    reader = make_store(safety_lag=timedelta(seconds=5))
    naive = make_store(safety_lag=timedelta(0))
    minted = threading.Event()
    proceed = threading.Event()
    late: list[str] = []

    def slow_writer() -> None:
        with store.transaction() as tx:
            late.extend(
                item.event_id
                for item in tx.insert_events([NewEvent(account.account_id, None, PAYLOAD)])
            )
            minted.set()
            proceed.wait(timeout=30)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert minted.wait(timeout=30)
    early = store.insert_events([NewEvent(account.account_id, None, PAYLOAD)])
    first = reader.events_for_account(account.account_id)
    naive_first = naive.events_for_account(account.account_id)
    proceed.set()
    thread.join()

    assert [item.event_id for item in first.events] == [early[0].event_id]
    second = reader.events_for_account(account.account_id, since=first.sequence)
    assert late[0] in {item.event_id for item in second.events}
    # Without the lag the cursor would have passed the late row, which would be lost.
    assert naive_first.sequence > late[0]


def test_two_writers_and_a_reader_lose_and_duplicate_nothing(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    reader = make_store(safety_lag=timedelta(milliseconds=500))
    written: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    received: dict[str, int] = {}
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        chance = random.Random(seed)
        try:
            for _ in range(25):
                with store.transaction() as tx:
                    stored = tx.insert_events(
                        [NewEvent(account.account_id, None, PAYLOAD)] * chance.randint(1, 3)
                    )
                    # Hold the transaction a moment, so commits land out of sequence order.
                    done.wait(chance.uniform(0, 0.02))
                with lock:
                    written.extend(item.event_id for item in stored)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def read(since: str | None) -> str:
        page = reader.events_for_account(account.account_id, since=since, limit=7)
        for item in page.events:
            received[item.event_id] = received.get(item.event_id, 0) + 1
        return page.sequence

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in (1, 2)]
    for thread in writers:
        thread.start()
    cursor: str | None = None
    while any(thread.is_alive() for thread in writers):
        cursor = read(cursor)
    for thread in writers:
        thread.join()
    done.wait(0.6)  # let the safety lag pass, then drain
    while True:
        page = reader.events_for_account(account.account_id, since=cursor, limit=7)
        for item in page.events:
            received[item.event_id] = received.get(item.event_id, 0) + 1
        cursor = page.sequence
        if not page.more:
            break

    assert errors == []
    assert set(received) == set(written)
    assert len(written) == len(set(written))
