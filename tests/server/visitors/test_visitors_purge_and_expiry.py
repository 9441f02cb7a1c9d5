# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""POST /api/purge and retention expiry as a visitor sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from visitor_helpers import count_rows, event_body, exchange_body, make_account

from offen_core import client
from offen_core.crypto import hash_fast
from offen_core.errors import InvalidInputError, UnknownSecretError
from offen_core.server import ServerConfig
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import ImportedEvent, Store

VISITOR = "a8098c1a-f86e-41c1-a5b0-44a4a8f8d3c2"
OTHER = "5f2b9e84-8b3e-4b0e-9f26-0e3f8d3f1c55"


def _active_visitor(flows: VisitorFlows, account: Any, visitor: str, events: int) -> Any:
    secret = client.create_user_secret()
    flows.exchange(visitor, exchange_body(account, secret))
    for n in range(events):
        flows.post_event(visitor, True, event_body(account, secret, pageload=n))
    return secret


def test_purge_deletes_events_and_secrets_in_every_account_and_leaves_tombstones(
    store: Store, lagless_flows: VisitorFlows
) -> None:
    flows = lagless_flows
    first, _ = make_account(store)
    second, _ = make_account(store)
    _active_visitor(flows, first, VISITOR, 2)
    _active_visitor(flows, second, VISITOR, 1)
    _active_visitor(flows, first, OTHER, 2)
    mine = {e.event_id for e in flows.events(VISITOR).events}

    result = flows.purge(VISITOR)

    assert result.status == 204
    assert result.body() is None
    assert result.cookies == ()
    assert result.events_deleted == 3
    assert flows.events(VISITOR).events == ()
    assert (
        store.get_secrets(
            [hash_fast(VISITOR, first.user_salt), hash_fast(VISITOR, second.user_salt)]
        )
        == {}
    )
    # The other visitor keeps everything.
    assert len(flows.events(OTHER).events) == 2
    assert store.get_secrets([hash_fast(OTHER, first.user_salt)])
    # Operators learn the deletions from tombstones.
    deleted = set(store.events_for_account(first.account_id, since="0" * 26).deleted_event_ids)
    deleted |= set(store.events_for_account(second.account_id, since="0" * 26).deleted_event_ids)
    assert deleted == mine
    assert count_rows(store, "tombstones") == 3


def test_after_a_purge_the_next_event_asks_for_a_new_exchange(
    store: Store, flows: VisitorFlows
) -> None:
    account, _ = make_account(store)
    secret = _active_visitor(flows, account, VISITOR, 1)
    flows.purge(VISITOR)

    with pytest.raises(UnknownSecretError):
        flows.post_event(VISITOR, True, event_body(account, secret))

    new_secret = client.create_user_secret()
    exchanged = flows.exchange(VISITOR, exchange_body(account, new_secret))
    assert not exchanged.parked
    assert flows.post_event(VISITOR, True, event_body(account, new_secret)).stored


def test_purge_with_forget_clears_the_cookie(store: Store, flows: VisitorFlows) -> None:
    account, _ = make_account(store)
    _active_visitor(flows, account, VISITOR, 1)

    result = flows.purge(VISITOR, forget=True)

    (cookie,) = result.cookies
    assert cookie.cleared
    assert cookie.value == ""
    assert cookie.expires == datetime(1970, 1, 1, tzinfo=UTC)
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in cookie.header_value()


def test_purging_a_visitor_without_data_deletes_nothing(store: Store, flows: VisitorFlows) -> None:
    make_account(store)

    assert flows.purge(VISITOR).events_deleted == 0
    assert count_rows(store, "tombstones") == 0


@pytest.mark.parametrize("cookie", [None, "", "nope"])
def test_purge_needs_a_user_cookie(store: Store, flows: VisitorFlows, cookie: str | None) -> None:
    account, _ = make_account(store)
    _active_visitor(flows, account, VISITOR, 1)

    with pytest.raises(InvalidInputError):
        flows.purge(cookie)

    assert count_rows(store, "events") == 1


def test_expired_events_vanish_and_reach_the_visitor_as_deletions(
    store: Store, lagless_flows: VisitorFlows, config: ServerConfig
) -> None:
    flows = lagless_flows
    account, _ = make_account(store)
    secret = _active_visitor(flows, account, VISITOR, 1)
    secret_id = hash_fast(VISITOR, account.user_salt)
    now = datetime.now(UTC)
    old, recent = store.import_events(
        [
            ImportedEvent(
                account.account_id,
                secret_id,
                event_body(account, secret)["payload"],
                now - config.retention_period - timedelta(days=1),
            ),
            ImportedEvent(
                account.account_id,
                secret_id,
                event_body(account, secret)["payload"],
                now - config.retention_period + timedelta(days=1),
            ),
        ]
    )
    cursor = flows.events(VISITOR).sequence
    assert len(flows.events(VISITOR).events) == 3

    report = store.expire(config.retention)

    assert report.events_expired == 1
    after = flows.events(VISITOR, since=cursor)
    assert after.deleted_event_ids == (old.event_id,)
    remaining = {event.event_id for event in flows.events(VISITOR).events}
    assert old.event_id not in remaining
    assert recent.event_id in remaining
    assert len(remaining) == 2
