# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""POST /api/exchange: storing a wrapped user secret, minting visitor ids, parking."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from visitor_helpers import count_rows, event_body, exchange_body, make_account

from offen_core import client
from offen_core.crypto import (
    decrypt_asymmetric,
    encrypt_asymmetric,
    generate_symmetric_key,
    hash_fast,
    parse_cipher_string,
)
from offen_core.errors import InvalidInputError, UnknownAccountError
from offen_core.server import Route, ServerConfig, status_for
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import Store, parse_retention
from offen_core.testing import FakeClock

VISITOR = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_exchange_without_a_cookie_mints_a_visitor_and_sets_the_cookie(
    store: Store, flows: VisitorFlows, clock: FakeClock
) -> None:
    account, pair = make_account(store)
    secret = client.create_user_secret()

    result = flows.exchange(None, exchange_body(account, secret))

    assert result.status == 204
    assert result.body() is None
    assert result.created_user
    assert not result.parked
    assert uuid.UUID(result.user_id).version == 4
    (cookie,) = result.cookies
    assert (cookie.name, cookie.value, cookie.path) == ("user", result.user_id, "/api")
    assert cookie.expires == clock.now() + timedelta(days=186)
    assert cookie.http_only
    assert (cookie.secure, cookie.same_site) == (False, "Lax")

    # Stored under the hash of the visitor id, never the id itself.
    secret_id = hash_fast(result.user_id, account.user_salt)
    stored = store.get_secret(secret_id)
    assert (
        decrypt_asymmetric(pair.private_key, stored)
        == json.dumps(client.user_secret_jwk(secret), separators=(",", ":")).encode()
    )
    assert count_rows(store, "secrets") == 1


def test_exchange_keeps_the_visitor_id_from_the_cookie(store: Store, flows: VisitorFlows) -> None:
    account, _ = make_account(store)

    result = flows.exchange(VISITOR, exchange_body(account, client.create_user_secret()))

    assert result.user_id == VISITOR
    assert not result.created_user
    assert store.get_secrets([hash_fast(VISITOR, account.user_salt)])


@pytest.mark.parametrize("cookie", ["", "   ", "garbage", "0f8fad5b-d9cb-469f-a165-70867728950"])
def test_exchange_replaces_a_blank_or_foreign_cookie(
    store: Store, flows: VisitorFlows, cookie: str
) -> None:
    account, _ = make_account(store)

    result = flows.exchange(cookie, exchange_body(account, client.create_user_secret()))

    assert result.created_user
    assert result.user_id != cookie
    assert uuid.UUID(result.user_id).version == 4


def test_exchange_stamps_the_accounts_key_version(store: Store, flows: VisitorFlows) -> None:
    account, _ = make_account(store)

    result = flows.exchange(VISITOR, exchange_body(account, client.create_user_secret()))

    stored = store.get_secret(hash_fast(result.user_id, account.user_salt))
    assert parse_cipher_string(stored).key_version == 1


def test_exchange_leaves_the_version_empty_without_kept_keys(
    store: Store, flows: VisitorFlows
) -> None:
    account, _ = make_account(store, keep_key=False)
    body = exchange_body(account, client.create_user_secret())

    flows.exchange(VISITOR, body)

    assert store.get_secret(hash_fast(VISITOR, account.user_salt)) == body["encryptedSecret"]


def test_exchange_keeps_a_known_version_sent_by_the_client(
    store: Store, flows: VisitorFlows
) -> None:
    account, pair = make_account(store)
    wrapped = encrypt_asymmetric(pair.public_key, b"{}", key_version=1)

    flows.exchange(VISITOR, {"accountId": account.account_id, "encryptedSecret": wrapped})

    assert store.get_secret(hash_fast(VISITOR, account.user_salt)) == wrapped


def test_exchange_refuses_an_unknown_key_version(store: Store, flows: VisitorFlows) -> None:
    account, pair = make_account(store)
    wrapped = encrypt_asymmetric(pair.public_key, b"{}", key_version=7)

    with pytest.raises(InvalidInputError) as caught:
        flows.exchange(VISITOR, {"accountId": account.account_id, "encryptedSecret": wrapped})

    assert caught.value.field == "encryptedSecret"
    assert count_rows(store, "secrets") == 0


def _b64(size: int) -> str:
    return base64.b64encode(bytes(range(256)) * (size // 256) + bytes(size % 256)).decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "accountId"),
        ({"accountId": None, "encryptedSecret": "{1,} AAAA"}, "accountId"),
        ({"encryptedSecret": "{1,} AAAA"}, "accountId"),
        ({"accountId": "ACCOUNT"}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": ""}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": 12}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": ["{1,} AAAA"]}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": "not a cipher"}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": "{1,} AAAA AAAA"}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": "{2,} " + _b64(256)}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": "{1,} " + _b64(100)}, "encryptedSecret"),
        ({"accountId": "ACCOUNT", "encryptedSecret": "{1,} " + _b64(2048)}, "encryptedSecret"),
        ({"accountId": 5, "encryptedSecret": "{1,} AAAA"}, "accountId"),
        ("[]", "body"),
        ("{", "body"),
        (b"\xff\xfe", "body"),
        ("[" * 5000 + "]" * 5000, "body"),
        ("x" * (64 * 1024 + 1), "body"),
    ],
)
def test_exchange_refuses_bad_bodies_and_stores_nothing(
    store: Store, flows: VisitorFlows, body: Any, field: str
) -> None:
    account, _ = make_account(store)
    if isinstance(body, dict):
        body = {k: account.account_id if v == "ACCOUNT" else v for k, v in body.items()}

    with pytest.raises(InvalidInputError) as caught:
        flows.exchange(None, body)

    assert caught.value.field == field
    assert status_for(caught.value, Route.POST_EXCHANGE) == 400
    assert count_rows(store, "secrets") == 0


def test_exchange_refuses_a_secret_shorter_than_the_accounts_key(
    store: Store, flows: VisitorFlows
) -> None:
    account, pair = make_account(store)
    wrapped = encrypt_asymmetric(pair.public_key, b"{}")
    short = (
        wrapped[: wrapped.index(" ") + 1]
        + base64.b64encode(base64.b64decode(wrapped.split(" ")[1])[:-8]).decode()
    )

    with pytest.raises(InvalidInputError):
        flows.exchange(None, {"accountId": account.account_id, "encryptedSecret": short})

    assert count_rows(store, "secrets") == 0


def test_exchange_for_an_unknown_or_retired_account_is_404(
    store: Store, flows: VisitorFlows
) -> None:
    account, _ = make_account(store)
    body = exchange_body(account, client.create_user_secret())
    store.retire_account(account.account_id)

    with pytest.raises(UnknownAccountError) as retired:
        flows.exchange(None, body)
    with pytest.raises(UnknownAccountError):
        flows.exchange(None, {**body, "accountId": str(uuid.uuid4())})

    assert status_for(retired.value, Route.POST_EXCHANGE) == 404
    assert count_rows(store, "secrets") == 0


def test_a_second_exchange_parks_the_old_secret_and_events(
    store: Store, flows: VisitorFlows
) -> None:
    account, _ = make_account(store)
    first = client.create_user_secret()
    flows.exchange(VISITOR, exchange_body(account, first))
    bodies = [event_body(account, first, pageload=n) for n in range(3)]
    posted = [flows.post_event(VISITOR, True, body) for body in bodies]
    old_ids = {result.event_id for result in posted}
    cursor = flows.events(VISITOR).sequence
    operator_cursor = store.events_for_account(account.account_id).sequence
    secret_id = hash_fast(VISITOR, account.user_salt)
    old_wrapped = store.get_secret(secret_id)

    second = client.create_user_secret()
    result = flows.exchange(VISITOR, exchange_body(account, second))

    assert result.parked
    assert not result.created_user
    assert store.get_secret(secret_id) != old_wrapped
    # The visitor's clients see the old events as deleted; nothing of theirs remains.
    after = flows.events(VISITOR, since=cursor)
    assert set(after.deleted_event_ids) == old_ids
    assert after.events == ()
    # The operator keeps them, under a secret id that is not the visitor's, same payloads.
    operator_view = store.events_for_account(account.account_id)
    assert len(operator_view.events) == 3
    parked_ids = {event.secret_id for event in operator_view.events}
    assert len(parked_ids) == 1
    assert secret_id not in parked_ids
    (parked_id,) = parked_ids
    assert store.get_secret(parked_id) == old_wrapped
    assert not {event.event_id for event in operator_view.events} & old_ids
    assert {event.payload for event in operator_view.events} == {b["payload"] for b in bodies}
    # An operator syncing incrementally receives the parked events and the old ids' deletion.
    synced = store.events_for_account(account.account_id, since=operator_cursor)
    assert {event.event_id for event in synced.events} == {
        event.event_id for event in operator_view.events
    }
    assert set(synced.deleted_event_ids) == old_ids
    # New events go under the visitor's own secret id again.
    flows.post_event(VISITOR, True, event_body(account, second))
    mine = flows.events(VISITOR)
    assert len(mine.events) == 1
    assert client.decrypt_own_event(second, mine.events[0].payload).href


def test_exchange_cookie_lives_for_the_configured_retention(store: Store, clock: FakeClock) -> None:
    config = ServerConfig(b"s" * 16, retention=parse_retention("30days"))
    flows = VisitorFlows(store, config, clock=clock.now)
    account, _ = make_account(store)

    result = flows.exchange(None, exchange_body(account, generate_symmetric_key()))

    assert result.user_cookie.expires == clock.now() + timedelta(days=30)
    assert (result.user_cookie.secure, result.user_cookie.same_site) == (True, "None")
