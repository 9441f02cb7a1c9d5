# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""GET /api/events: a visitor's own events, the cursor, paging, deletions, retention."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from visitor_helpers import event_body, exchange_body, make_account

from offen_core import client
from offen_core.errors import InvalidInputError
from offen_core.server import ServerConfig
from offen_core.server.visitors import MAX_EVENTS_LIMIT, VisitorFlows
from offen_core.storage import Store, parse_retention
from offen_core.testing import FakeClock

VISITOR = "16fd2706-8baf-433b-82eb-8c7fada847da"
OTHER = "886313e1-3b8a-4372-9b90-0c9aee199e5d"


def _visitor_on(flows: VisitorFlows, account: Any, visitor: str = VISITOR) -> Any:
    secret = client.create_user_secret()
    flows.exchange(visitor, exchange_body(account, secret))
    return secret


def _next_millisecond() -> None:
    """Wait until the wall clock enters a new millisecond.

    Sequences are minted on the real clock, and without a safety lag the cursor is the
    smallest id of the current millisecond: a row minted in that same millisecond comes
    again, as rows inside the lag do. Past it, the cursor is exact.
    """
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 == start:
        time.sleep(0.0001)


def test_events_are_grouped_by_account_and_decrypt_on_the_client(
    store: Store, flows: VisitorFlows
) -> None:
    first, _ = make_account(store)
    second, _ = make_account(store)
    secrets = {
        first.account_id: _visitor_on(flows, first),
        second.account_id: _visitor_on(flows, second),
    }
    other_secret = _visitor_on(flows, first, OTHER)
    flows.post_event(VISITOR, True, event_body(first, secrets[first.account_id], pageload=1))
    flows.post_event(VISITOR, True, event_body(second, secrets[second.account_id], pageload=2))
    flows.post_event(OTHER, True, event_body(first, other_secret, pageload=3))

    result = flows.events(VISITOR)
    body = result.body()

    assert result.status == 200
    assert set(body["events"]) == {first.account_id, second.account_id}
    assert "deletedEvents" not in body
    assert body["retentionPeriod"] == "6months"
    assert "more" not in body
    for account_id, items in body["events"].items():
        (item,) = items
        assert set(item) == {"accountId", "eventId", "payload"}
        assert item["accountId"] == account_id
        view = client.decrypt_own_event(secrets[account_id], item["payload"])
        assert view.pageload == (1 if account_id == first.account_id else 2)


def test_a_visitor_without_events_gets_an_empty_object(store: Store, flows: VisitorFlows) -> None:
    make_account(store)

    body = flows.events(str(uuid.uuid4())).body()

    assert body["events"] == {}
    assert body["retentionPeriod"] == "6months"


def test_no_accounts_at_all_gives_an_empty_answer(flows: VisitorFlows) -> None:
    assert flows.events(VISITOR).body() == {"events": {}, "retentionPeriod": "6months"}


def test_events_of_retired_accounts_are_still_the_visitors(
    store: Store, flows: VisitorFlows
) -> None:
    account, _ = make_account(store)
    secret = _visitor_on(flows, account)
    flows.post_event(VISITOR, True, event_body(account, secret))
    store.retire_account(account.account_id)

    assert list(flows.events(VISITOR).body()["events"]) == [account.account_id]


def test_the_cursor_returns_only_what_came_after_it(
    store: Store, lagless_flows: VisitorFlows
) -> None:
    flows = lagless_flows
    account, _ = make_account(store)
    secret = _visitor_on(flows, account)
    early = flows.post_event(VISITOR, True, event_body(account, secret)).event_id
    _next_millisecond()
    cursor = flows.events(VISITOR).sequence
    late = flows.post_event(VISITOR, True, event_body(account, secret)).event_id

    after = flows.events(VISITOR, since=cursor)

    assert [event.event_id for event in after.events] == [late]
    assert early != late
    assert after.sequence is not None
    assert cursor is not None
    assert after.sequence >= cursor


def test_deletions_reach_the_visitor_only_with_a_cursor(
    store: Store, lagless_flows: VisitorFlows
) -> None:
    flows = lagless_flows
    account, _ = make_account(store)
    secret = _visitor_on(flows, account)
    posted = flows.post_event(VISITOR, True, event_body(account, secret)).event_id
    cursor = flows.events(VISITOR).sequence
    flows.purge(VISITOR)

    assert flows.events(VISITOR, since=cursor).body()["deletedEvents"] == [posted]
    assert "deletedEvents" not in flows.events(VISITOR).body()
    assert flows.events(VISITOR, since="").body()["events"] == {}


def test_paging_with_a_limit_returns_everything_once(
    store: Store, lagless_flows: VisitorFlows
) -> None:
    flows = lagless_flows
    account, _ = make_account(store)
    secret = _visitor_on(flows, account)
    posted = [
        flows.post_event(VISITOR, True, event_body(account, secret, pageload=n)).event_id
        for n in range(7)
    ]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = flows.events(VISITOR, since=cursor, limit="3")
        pages += 1
        body = page.body()
        seen.extend(item["eventId"] for item in body["events"].get(account.account_id, []))
        if not body.get("more"):
            break
        assert body["more"] is True
        cursor = body["sequence"]

    assert pages == 3
    assert sorted(set(seen)) == sorted(posted)
    assert len(seen) == len(posted)


@pytest.mark.parametrize(
    ("since", "limit", "field"),
    [
        ("not-a-ulid", None, "since"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FA", None, "since"),
        ("01arz3ndektsv4rrffq69g5fav", None, "since"),
        (None, 0, "limit"),
        (None, -1, "limit"),
        (None, "0", "limit"),
        (None, "ten", "limit"),
        (None, "1e3", "limit"),
        (None, MAX_EVENTS_LIMIT + 1, "limit"),
        (None, True, "limit"),
    ],
)
def test_bad_cursors_and_limits_are_400(
    flows: VisitorFlows, since: str | None, limit: Any, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        flows.events(VISITOR, since=since, limit=limit)

    assert caught.value.field == field


@pytest.mark.parametrize("cookie", [None, "", "not-a-visitor"])
def test_reading_needs_a_user_cookie(flows: VisitorFlows, cookie: str | None) -> None:
    with pytest.raises(InvalidInputError) as caught:
        flows.events(cookie)

    assert caught.value.field == "user"


def test_the_retention_period_is_the_instances(store: Store, clock: FakeClock) -> None:
    config = ServerConfig(b"k" * 16, retention=parse_retention("30days"))

    body = VisitorFlows(store, config, clock=clock.now).events(VISITOR).body()

    assert body["retentionPeriod"] == "30days"
