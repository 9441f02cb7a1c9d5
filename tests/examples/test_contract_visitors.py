# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Contract: the visitor routes (exchange, events, purge), their cookies and failures."""

from __future__ import annotations

import uuid
from email.utils import parsedate_to_datetime

import pytest
from example_helpers import PAYLOAD, Instance, Server, add_account, exchange, set_cookies

from offen_core.client import create_user_secret, encrypt_page_view, wrap_user_secret
from offen_core.testing import FakeClock


@pytest.fixture
def instance(server: Server) -> Instance:
    """An instance with one account (stored directly: visitors need no operator)."""
    return add_account(server)


def _post_event(server: Server, account_id: str, payload: str = PAYLOAD) -> object:
    return server.client.post("/api/events", json={"accountId": account_id, "payload": payload})


def test_get_exchange_gives_the_public_key(server: Server, instance: Instance) -> None:
    response = server.client.get("/api/exchange", params={"accountId": instance.account_id})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accountId", "name", "publicKey", "created"}
    assert body["accountId"] == instance.account_id
    assert body["publicKey"]["kty"] == "RSA"
    assert body["created"].endswith("Z")


@pytest.mark.parametrize(
    ("query", "status"),
    [({}, 400), ({"accountId": "not-a-uuid"}, 400), ({"accountId": str(uuid.uuid4())}, 404)],
)
def test_get_exchange_failures(
    server: Server, instance: Instance, query: dict[str, str], status: int
) -> None:
    response = server.client.get("/api/exchange", params=query)

    assert response.status_code == status
    assert response.json()["status"] == status


def test_exchange_sets_the_user_cookie_for_the_retention_period(
    server: Server, instance: Instance, clock: FakeClock
) -> None:
    response = exchange(server.client, instance)

    assert response.status_code == 204
    assert response.content == b""
    cookie = set_cookies(response)["user"]
    visitor = cookie.split(";", 1)[0].removeprefix("user=")
    assert uuid.UUID(visitor).version == 4
    assert "Path=/api" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=", 1)[1].split(";", 1)[0])
    assert (expires - clock.now()).days == 186


def test_exchange_keeps_an_existing_visitor_id(server: Server, instance: Instance) -> None:
    first = exchange(server.client, instance)
    visitor = server.client.cookies["user"]

    second = exchange(server.client, instance)

    assert first.status_code == second.status_code == 204
    assert f"user={visitor};" in set_cookies(second)["user"]


def test_exchange_accepts_a_text_plain_body_as_offens_vault_sends_it(
    server: Server, instance: Instance
) -> None:
    wrapped = wrap_user_secret(create_user_secret(), instance.public_key)
    body = f'{{"accountId":"{instance.account_id}","encryptedSecret":"{wrapped}"}}'

    response = server.client.post(
        "/api/exchange", content=body, headers={"content-type": "text/plain;charset=UTF-8"}
    )

    assert response.status_code == 204


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[]", 400),
        (b'{"accountId": "00000000-0000-4000-8000-000000000000"}', 400),
        (b'{"accountId": "00000000-0000-4000-8000-000000000000", "encryptedSecret": "x"}', 400),
    ],
)
def test_exchange_refuses_invalid_bodies(
    server: Server, instance: Instance, body: bytes, status: int
) -> None:
    response = server.client.post("/api/exchange", content=body)

    assert response.status_code == status
    assert "user" not in set_cookies(response)


def test_exchange_for_an_unknown_account_is_404(server: Server, instance: Instance) -> None:
    wrapped = wrap_user_secret(create_user_secret(), instance.public_key)

    response = server.client.post(
        "/api/exchange", json={"accountId": str(uuid.uuid4()), "encryptedSecret": wrapped}
    )

    assert response.status_code == 404


def test_event_without_consent_is_a_silent_204(server: Server, instance: Instance) -> None:
    exchange(server.client, instance)
    server.client.cookies.set("consent", "deny", path="/")

    response = _post_event(server, instance.account_id)

    assert response.status_code == 204
    assert response.content == b""
    assert set_cookies(response) == {}
    assert server.service.store.events_for_account(instance.account_id).events == ()


def test_event_with_consent_is_stored_verbatim_and_refreshes_the_cookie(
    server: Server, instance: Instance
) -> None:
    secret = create_user_secret()
    wrapped = wrap_user_secret(secret, instance.public_key)
    server.client.post(
        "/api/exchange", json={"accountId": instance.account_id, "encryptedSecret": wrapped}
    )
    server.client.cookies.set("consent", "allow", path="/")
    payload = encrypt_page_view(
        secret,
        {
            "type": "PAGEVIEW",
            "href": "https://example.org/",
            "timestamp": "2026-01-05T12:00:00.000Z",
        },
    )

    response = _post_event(server, instance.account_id, payload)

    assert response.status_code == 201
    assert response.json() == {"ack": True}
    assert "user" in set_cookies(response)
    mine = server.client.get("/api/events")
    assert mine.status_code == 200
    body = mine.json()
    (event,) = body["events"][instance.account_id]
    assert event["payload"] == payload
    assert event["accountId"] == instance.account_id
    assert body["retentionPeriod"] == "6months"


@pytest.mark.parametrize("cookie", [None, ""])
def test_event_with_consent_needs_a_user_cookie(
    server: Server, instance: Instance, cookie: str | None
) -> None:
    server.client.cookies.set("consent", "allow", path="/")
    if cookie is not None:
        server.client.cookies.set("user", cookie, path="/api")

    response = _post_event(server, instance.account_id)

    assert response.status_code == 400
    assert "user cookie" in response.json()["error"]


def test_event_of_a_visitor_without_a_secret_is_400(server: Server, instance: Instance) -> None:
    server.client.cookies.set("consent", "allow", path="/")
    server.client.cookies.set("user", str(uuid.uuid4()), path="/api")

    response = _post_event(server, instance.account_id)

    assert response.status_code == 400


def test_event_for_an_unknown_account_is_404(server: Server, instance: Instance) -> None:
    exchange(server.client, instance)
    server.client.cookies.set("consent", "allow", path="/")

    response = _post_event(server, str(uuid.uuid4()))

    assert response.status_code == 404


@pytest.mark.parametrize("payload", ["", "plain text", "{1,} YWJj", "{2,} YWJj YWJj"])
def test_event_with_an_invalid_payload_is_400(
    server: Server, instance: Instance, payload: str
) -> None:
    exchange(server.client, instance)
    server.client.cookies.set("consent", "allow", path="/")

    response = _post_event(server, instance.account_id, payload)

    assert response.status_code == 400
    assert server.service.store.events_for_account(instance.account_id).events == ()


def test_get_events_needs_a_user_cookie(server: Server, instance: Instance) -> None:
    response = server.client.get("/api/events")

    assert response.status_code == 400


def test_get_events_with_a_bad_cursor_is_400(server: Server, instance: Instance) -> None:
    exchange(server.client, instance)

    response = server.client.get("/api/events", params={"since": "not-a-sequence"})

    assert response.status_code == 400


def test_purge_deletes_the_events_and_reports_them_deleted(
    server: Server, instance: Instance
) -> None:
    exchange(server.client, instance)
    server.client.cookies.set("consent", "allow", path="/")
    assert _post_event(server, instance.account_id).status_code == 201
    first = server.client.get("/api/events").json()
    assert len(first["events"][instance.account_id]) == 1

    purged = server.client.post("/api/purge")

    assert purged.status_code == 204
    assert set_cookies(purged) == {}
    assert server.service.store.events_for_account(instance.account_id).events == ()
    again = server.client.get("/api/events").json()
    assert again["events"] == {}


def test_purge_with_user_clears_the_cookie(server: Server, instance: Instance) -> None:
    exchange(server.client, instance)

    response = server.client.post("/api/purge", params={"user": "1"})

    assert response.status_code == 204
    cookie = set_cookies(response)["user"]
    assert cookie.startswith("user=;")
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in cookie


def test_purge_needs_a_user_cookie(server: Server, instance: Instance) -> None:
    response = server.client.post("/api/purge")

    assert response.status_code == 400
