# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Expiry of events and tombstones, retention settings, and concurrent inserts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from storage_helpers import PAYLOAD, InjectedError, failing, secret_id

from offen_core.errors import InvalidInputError
from offen_core.events import is_ulid, ulid_time
from offen_core.storage import (
    DEFAULT_RETENTION,
    Account,
    ImportedEvent,
    NewEvent,
    Retention,
    Store,
    events,
    parse_retention,
    tombstones,
)
from offen_core.testing import FakeClock


def _count(store: Store, table: object) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table)).scalar_one()  # type: ignore[arg-type]
        )


# --- retention ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "days"),
    [("6months", 186), ("12weeks", 84), ("6weeks", 42), ("30days", 30), ("7days", 7)],
)
def test_offen_retention_names(value: str, days: int) -> None:
    assert parse_retention(value) == Retention(value, days)


def test_default_retention_is_offens_six_months() -> None:
    assert DEFAULT_RETENTION.period == timedelta(days=186)


@given(st.integers(min_value=7, max_value=1825))
def test_a_number_of_days_in_range_is_accepted(days: int) -> None:
    assert parse_retention(days).days == days
    assert parse_retention(str(days)).period == timedelta(days=days)


@given(
    st.one_of(
        st.integers(max_value=6),
        st.integers(min_value=1826),
        st.text().filter(
            lambda text: (
                text.strip() not in {"6months", "12weeks", "6weeks", "30days", "7days"}
                and not (
                    text.strip().isdigit()
                    and text.strip().isascii()
                    and 7 <= int(text.strip()) <= 1825
                )
            )
        ),
    )
)
def test_anything_else_is_rejected(value: int | str) -> None:
    with pytest.raises(InvalidInputError) as error:
        parse_retention(value)
    assert error.value.field == "retention"


def test_booleans_are_not_days() -> None:
    with pytest.raises(InvalidInputError):
        parse_retention(True)


# --- expiry ---------------------------------------------------------------------------------


def _clocked(make_store: Callable[..., Store], clock: FakeClock) -> Store:
    return make_store(clock=clock.now)


def test_old_events_expire_into_tombstones_and_young_ones_stay(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    now = datetime.now(UTC)
    clock = FakeClock(now)
    store.exchange_secret(
        account.account_id, secret_id("v"), "{1,} YQ==", parked_secret_id=secret_id("p")
    )
    old = store.import_events(
        [ImportedEvent(account.account_id, secret_id("v"), PAYLOAD, now - timedelta(days=8))] * 3
    )
    young = store.import_events(
        [ImportedEvent(account.account_id, None, PAYLOAD, now - timedelta(days=6))] * 2
    )

    report = _clocked(make_store, clock).expire("7days", batch_size=2)

    assert report.events_expired == 3
    assert report.tombstones_pruned == 0
    assert report.batches == 2
    remaining = store.events_for_account(account.account_id)
    assert list(remaining.events) == young
    stones = store.tombstones_for_account(account.account_id)
    assert {stone.event_id for stone in stones} == {item.event_id for item in old}
    assert {stone.secret_id for stone in stones} == {secret_id("v")}
    # Each tombstone has its own sequence (no ties to page around), minted now.
    assert len({stone.sequence for stone in stones}) == 3
    assert all(is_ulid(stone.sequence) for stone in stones)
    assert all(ulid_time(stone.sequence) > now - timedelta(minutes=1) for stone in stones)


def test_tombstones_live_a_full_retention_after_they_were_written(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    now = datetime.now(UTC)
    clock = FakeClock(now)
    store.import_events([ImportedEvent(account.account_id, None, PAYLOAD, now - timedelta(days=8))])
    expirer = _clocked(make_store, clock)
    expirer.expire("7days")

    clock.advance(timedelta(days=6).total_seconds())
    assert expirer.expire("7days").tombstones_pruned == 0
    assert _count(store, tombstones) == 1

    clock.advance(timedelta(days=2).total_seconds())
    report = expirer.expire("7days")
    assert report.tombstones_pruned == 1
    assert _count(store, tombstones) == 0


def test_expiry_with_nothing_to_do_commits_no_batch(store: Store, account: Account) -> None:
    store.insert_events([NewEvent(account.account_id, None, PAYLOAD)])

    report = store.expire()

    assert (report.events_expired, report.tombstones_pruned, report.batches) == (0, 0, 0)
    assert _count(store, events) == 1


def test_a_failure_in_a_batch_rolls_back_only_that_batch(
    store: Store, account: Account, make_store: Callable[..., Store]
) -> None:
    now = datetime.now(UTC)
    store.import_events(
        [ImportedEvent(account.account_id, None, PAYLOAD, now - timedelta(days=30))] * 5
    )
    expirer = _clocked(make_store, FakeClock(now))

    with (
        failing(expirer, lambda sql, count: sql == "DELETE FROM EVENTS" and count == 2),
        pytest.raises(InjectedError),
    ):
        expirer.expire("7days", batch_size=3)

    # The first batch (3 events) committed whole; the second left nothing half-written.
    assert _count(store, events) == 2
    assert _count(store, tombstones) == 3
    assert expirer.expire("7days").events_expired == 2
    assert _count(store, tombstones) == 5


def test_invalid_batch_size_is_rejected(store: Store) -> None:
    with pytest.raises(InvalidInputError):
        store.expire(batch_size=0)


# --- concurrency ----------------------------------------------------------------------------


def test_eight_threads_inserting_at_once_lose_no_event(store: Store, account: Account) -> None:
    stored: list[list[str]] = [[] for _ in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def insert(index: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(20):
                batch = store.insert_events([NewEvent(account.account_id, None, PAYLOAD)] * 3)
                stored[index].extend(item.event_id for item in batch)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=insert, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    every = [event_id for ids in stored for event_id in ids]
    assert len(every) == len(set(every)) == 8 * 20 * 3
    assert _count(store, events) == 8 * 20 * 3
    page = store.events_for_account(account.account_id)
    assert {item.event_id for item in page.events} == set(every)
