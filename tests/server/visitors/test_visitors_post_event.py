# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""POST /api/events: consent, the user cookie, unknown secrets, validation."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from visitor_helpers import count_rows, event_body, exchange_body, make_account

from offen_core import client
from offen_core.crypto import encrypt_asymmetric, encrypt_symmetric, generate_symmetric_key
from offen_core.errors import InvalidInputError, UnknownAccountError, UnknownSecretError
from offen_core.events import MAX_PAYLOAD_LENGTH, ulid_time
from offen_core.server import Route, error_body, status_for
from offen_core.server.visitors import VisitorFlows, consent_given
from offen_core.storage import Store
from offen_core.testing import FakeClock

VISITOR = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@pytest.fixture
def setup(store: Store, flows: VisitorFlows) -> tuple[Any, Any]:
    """An account and a visitor who exchanged a secret for it."""
    account, _ = make_account(store)
    secret = client.create_user_secret()
    flows.exchange(VISITOR, exchange_body(account, secret))
    return account, secret


def test_an_event_with_consent_is_stored_verbatim(
    store: Store, flows: VisitorFlows, clock: FakeClock, setup: tuple[Any, Any]
) -> None:
    account, secret = setup
    body = event_body(account, secret)
    clock.advance(3600)

    result = flows.post_event(VISITOR, True, body)

    assert result.status == 201
    assert result.body() == {"ack": True}
    (cookie,) = result.cookies
    assert cookie.value == VISITOR
    assert cookie.expires == clock.now() + timedelta(days=186)
    (stored,) = store.events_for_account(account.account_id).events
    assert stored.event_id == result.event_id
    assert stored.payload == body["payload"]
    # Event ids are minted on the real clock at insert (the Store's rule), not the fake one.
    assert abs(ulid_time(stored.event_id) - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize("body", [b"garbage", {}, {"accountId": "x", "payload": 1}])
def test_without_consent_nothing_is_read_or_stored(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any], body: Any
) -> None:
    result = flows.post_event(VISITOR, False, body)
    also = flows.post_event(None, False, event_body(*setup))

    for answer in (result, also):
        assert answer.status == 204
        assert answer.body() is None
        assert answer.cookies == ()
    assert count_rows(store, "events") == 0


def test_consent_needs_exactly_allow() -> None:
    assert consent_given("allow")
    for value in (None, "", "deny", "ALLOW", "allow "):
        assert not consent_given(value)


@pytest.mark.parametrize("cookie", [None, "", "  "])
def test_no_or_blank_user_cookie_is_400_and_stores_no_anonymous_event(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any], cookie: str | None
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        flows.post_event(cookie, True, event_body(*setup))

    assert caught.value.field == "user"
    assert "no or blank identifier" in str(caught.value)
    assert status_for(caught.value, Route.POST_EVENTS) == 400
    assert count_rows(store, "events") == 0


def test_a_cookie_that_is_no_visitor_id_is_400(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any]
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        flows.post_event("'; DROP TABLE events; --", True, event_body(*setup))

    assert "DROP" not in str(caught.value)
    assert count_rows(store, "events") == 0


def test_an_unknown_secret_is_400_so_the_client_exchanges_again(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any]
) -> None:
    with pytest.raises(UnknownSecretError) as caught:
        flows.post_event(str(uuid.uuid4()), True, event_body(*setup))

    assert error_body(caught.value, Route.POST_EVENTS)["status"] == 400
    assert count_rows(store, "events") == 0


def test_events_for_unknown_or_retired_accounts_are_404(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any]
) -> None:
    account, secret = setup
    with pytest.raises(UnknownAccountError):
        flows.post_event(
            VISITOR, True, {**event_body(account, secret), "accountId": str(uuid.uuid4())}
        )
    store.retire_account(account.account_id)

    with pytest.raises(UnknownAccountError) as caught:
        flows.post_event(VISITOR, True, event_body(account, secret))

    assert status_for(caught.value, Route.POST_EVENTS) == 404
    assert count_rows(store, "events") == 0


def _cipher(ciphertext: int, nonce: int | None) -> str:
    text = "{1,} " + base64.b64encode(b"c" * ciphertext).decode()
    if nonce is not None:
        text += " " + base64.b64encode(b"n" * nonce).decode()
    return text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"accountId": None}, "accountId"),
        ({"accountId": ""}, "accountId"),
        ({"accountId": ["ACCOUNT"]}, "accountId"),
        ({"accountId": "ACCOUNT" + "x"}, "accountId"),
        ({"payload": None}, "payload"),
        ({"payload": ""}, "payload"),
        ({"payload": {"type": "PAGEVIEW"}}, "payload"),
        ({"payload": 3.5}, "payload"),
        ({"payload": "{1,} not-base64! AAAA"}, "payload"),
        ({"payload": _cipher(32, None)}, "payload"),
        ({"payload": _cipher(32, 8)}, "payload"),
        ({"payload": _cipher(8, 12)}, "payload"),
        ({"payload": "{2,} " + _cipher(32, 12)[5:]}, "payload"),
        ({"payload": " " + _cipher(32, 12)}, "payload"),
        ({"payload": _cipher(32, 12) + " AAAA"}, "payload"),
        ({"payload": "{1,} " + "A" * MAX_PAYLOAD_LENGTH + " " + "A" * 16}, "payload"),
    ],
)
def test_bad_bodies_are_400_and_store_nothing(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any], changes: dict[str, Any], field: str
) -> None:
    account, secret = setup
    body = event_body(account, secret)
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = (
                value.replace("ACCOUNT", account.account_id) if isinstance(value, str) else value
            )

    with pytest.raises(InvalidInputError) as caught:
        flows.post_event(VISITOR, True, body)

    assert caught.value.field == field
    assert count_rows(store, "events") == 0


def test_an_rsa_shaped_payload_is_refused(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any]
) -> None:
    account, _ = setup
    wrapped = encrypt_asymmetric(json.loads(account.public_key), b"x")

    with pytest.raises(InvalidInputError):
        flows.post_event(VISITOR, True, {"accountId": account.account_id, "payload": wrapped})

    assert count_rows(store, "events") == 0


def test_forge_style_payloads_with_16_byte_nonces_are_accepted(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any]
) -> None:
    account, _ = setup
    payload = _cipher(64, 16)

    flows.post_event(VISITOR, True, {"accountId": account.account_id, "payload": payload})

    assert store.events_for_account(account.account_id).events[0].payload == payload


def test_a_payload_under_another_key_is_stored_as_the_server_cannot_tell(
    store: Store, flows: VisitorFlows, setup: tuple[Any, Any]
) -> None:
    account, _ = setup
    payload = encrypt_symmetric(generate_symmetric_key(), b'{"type":"PAGEVIEW"}')

    result = flows.post_event(VISITOR, True, {"accountId": account.account_id, "payload": payload})

    assert result.stored
