# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Contract: the operator routes, each with its failure paths in the order a client meets them.

argon2 runs at its real cost (tens of milliseconds), so each test walks one route through its
answers instead of paying a login per answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from example_helpers import (
    EMAIL,
    PASSWORD,
    Instance,
    Server,
    add_operator,
    exchange,
    log_in,
    set_cookies,
    set_up,
)

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(autouse=True)
def _ticking(server: Server) -> None:
    """Each request in a new throttle window: these tests are about the flows."""
    server.ticking()


@pytest.fixture
def instance(server: Server) -> Instance:
    """An instance with its first operator (a super-admin) and one account."""
    return set_up(server)


@pytest.fixture
def operator(server: Server, instance: Instance) -> httpx.Client:
    """The server's client, logged in as the first operator."""
    assert log_in(server.client, instance.email, instance.password).status_code == 200
    return server.client


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    message: str = body["error"]
    return message


def test_setup_route(server: Server) -> None:
    client = server.client
    assert client.get("/api/setup").status_code == 204
    _error(client.post("/api/setup", content=b"{"), 400)
    _error(
        client.post(
            "/api/setup",
            json={"accountName": "x", "emailAddress": EMAIL, "password": "short"},
        ),
        400,
    )

    set_up(server, over_http=True)

    _error(client.get("/api/setup"), 403)
    _error(
        client.post(
            "/api/setup",
            json={"accountName": "y", "emailAddress": "b@example.org", "password": PASSWORD},
        ),
        409,
    )


def test_login_route(server: Server, instance: Instance) -> None:
    _error(server.client.post("/api/login", content=b"not json"), 400)

    wrong = log_in(server.client, instance.email, "not the password")
    _error(wrong, 401)
    assert set_cookies(wrong) == {}

    right = log_in(server.client, f"  {instance.email.upper()} ", instance.password)
    assert right.status_code == 200
    cookies = right.headers.get_list("set-cookie")
    assert len(cookies) == 1
    auth = cookies[0]
    assert auth.startswith("auth=")
    assert "Path=/api" in auth
    assert "HttpOnly" in auth
    assert "SameSite=Lax" in auth
    assert "Expires" not in auth
    body = right.json()
    assert body["adminLevel"] == 1
    (account,) = body["accounts"]
    assert account["accountId"] == instance.account_id
    assert account["keyEncryptionKey"]["kty"] == "oct"


def test_login_status_and_logout(server: Server, instance: Instance) -> None:
    missing = server.client.get("/api/login")
    _error(missing, 401)
    assert set_cookies(missing) == {}

    forged = server.new_client().get("/api/login", headers={"Cookie": "auth=forged.token"})
    _error(forged, 401)
    assert set_cookies(forged)["auth"].startswith("auth=;")

    assert log_in(server.client, instance.email, instance.password).status_code == 200
    status = server.client.get("/api/login")
    assert status.status_code == 200
    (account,) = status.json()["accounts"]
    assert account["accountId"] == instance.account_id
    assert "keyEncryptionKey" not in account

    out = server.client.post("/api/logout")
    assert out.status_code == 204
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in set_cookies(out)["auth"]
    _error(server.client.get("/api/login"), 401)


def test_account_view_route(server: Server, instance: Instance) -> None:
    path = f"/api/accounts/{instance.account_id}"
    _error(server.client.get(path), 401)
    visitor = server.new_client()
    assert exchange(visitor, instance).status_code == 204
    visitor.cookies.set("consent", "allow", path="/")
    payload = "{1,} QUJDREVGR0hJSktMTU5PUFFSU1RVVldY MTIzNDU2Nzg5MDEy"
    posted = visitor.post(
        "/api/events", json={"accountId": instance.account_id, "payload": payload}
    )
    assert posted.status_code == 201
    assert log_in(server.client, instance.email, instance.password).status_code == 200

    _error(server.client.get("/api/accounts/not-a-uuid"), 400)
    _error(server.client.get(f"/api/accounts/{uuid.uuid4()}"), 403)
    _error(server.client.get(path, params={"since": "garbage"}), 400)
    view = server.client.get(path)

    assert view.status_code == 200
    body = view.json()
    assert body["accountId"] == instance.account_id
    assert body["publicKey"]["kty"] == "RSA"
    assert body["encryptedPrivateKey"].startswith("{")
    assert body["retentionPeriod"] == "6months"
    (event,) = body["events"][instance.account_id]
    assert event["payload"] == payload
    assert body["secrets"][event["secretId"]].startswith("{1,")


def test_create_account_route(server: Server, instance: Instance) -> None:
    body = {"accountName": "Second site", "emailAddress": instance.email, "password": PASSWORD}
    _error(server.client.post("/api/accounts", json=body), 401)
    assert log_in(server.client, instance.email, instance.password).status_code == 200

    _error(server.client.post("/api/accounts", json={"accountName": "x"}), 400)
    _error(server.client.post("/api/accounts", json={**body, "password": "wrong password"}), 401)
    _error(server.client.post("/api/accounts", json={**body, "accountName": "Example site"}), 409)
    created = server.client.post("/api/accounts", json=body)

    assert created.status_code == 201
    assert created.content == b""
    names = sorted(
        item["accountName"] for item in server.client.get("/api/login").json()["accounts"]
    )
    assert names == ["Example site", "Second site"]


def test_retire_account_route(server: Server, instance: Instance) -> None:
    path = f"/api/accounts/{instance.account_id}"
    _error(server.client.delete(path), 401)
    assert log_in(server.client, instance.email, instance.password).status_code == 200

    _error(server.client.delete("/api/accounts/not-a-uuid"), 400)
    retired = server.client.delete(path)

    assert retired.status_code == 204
    _error(server.client.delete(path), 404)
    _error(server.client.get("/api/exchange", params={"accountId": instance.account_id}), 404)


def test_change_password_route(server: Server, operator: httpx.Client, instance: Instance) -> None:
    stale = operator.cookies["auth"]
    _error(operator.post("/api/change-password", json={"currentPassword": PASSWORD}), 400)
    _error(
        operator.post(
            "/api/change-password",
            json={"currentPassword": PASSWORD, "changedPassword": "short"},
        ),
        400,
    )
    _error(
        operator.post(
            "/api/change-password",
            json={"currentPassword": "not the password", "changedPassword": NEW_PASSWORD},
        ),
        401,
    )

    changed = operator.post(
        "/api/change-password", json={"currentPassword": PASSWORD, "changedPassword": NEW_PASSWORD}
    )

    assert changed.status_code == 204
    assert set_cookies(changed)["auth"].startswith("auth=;")
    operator.cookies.set("auth", stale, path="/api")
    _error(operator.get("/api/login"), 401)
    assert log_in(operator, instance.email, NEW_PASSWORD).status_code == 200


def test_change_email_route(server: Server, operator: httpx.Client, instance: Instance) -> None:
    body = {"emailAddress": "grace@example.org", "emailCurrent": EMAIL, "password": PASSWORD}
    _error(operator.post("/api/change-email", json={**body, "emailAddress": EMAIL}), 400)
    _error(operator.post("/api/change-email", json={**body, "password": "wrong password"}), 401)

    changed = operator.post("/api/change-email", json=body)

    assert changed.status_code == 204
    assert set_cookies(changed)["auth"].startswith("auth=;")
    _error(log_in(operator, EMAIL, PASSWORD), 401)
    assert log_in(operator, "grace@example.org", PASSWORD).status_code == 200


def test_forgot_and_reset_password_routes(server: Server, instance: Instance) -> None:
    client = server.client
    _error(client.post("/api/forgot-password", json={"emailAddress": "no address"}), 400)
    unknown = client.post("/api/forgot-password", json={"emailAddress": "nobody@example.org"})
    assert unknown.status_code == 204
    assert server.mails() == []
    known = client.post(
        "/api/forgot-password",
        json={"emailAddress": EMAIL, "urlTemplate": "https://evil.example/{token}"},
    )
    assert known.status_code == 204
    (mail,) = server.mails()
    assert "evil.example" not in mail.get_payload(decode=True).decode()
    token = server.last_token("reset-password")

    reset = {"emailAddress": EMAIL, "password": NEW_PASSWORD, "token": token}
    _error(client.post("/api/reset-password", json={**reset, "token": "forged"}), 400)
    _error(client.post("/api/reset-password", json={**reset, "emailAddress": "x@example.org"}), 400)
    _error(client.post("/api/reset-password", json={**reset, "password": "short"}), 400)
    assert client.post("/api/reset-password", json=reset).status_code == 204
    _error(client.post("/api/reset-password", json=reset), 400)
    assert log_in(client, EMAIL, NEW_PASSWORD).status_code == 200


def test_forgot_password_without_a_base_url_fails_alike_for_every_address(
    make_server: Callable[..., Server],
) -> None:
    server = make_server(base_url=None)

    for address in (EMAIL, "nobody@example.org"):
        answer = server.client.post("/api/forgot-password", json={"emailAddress": address})
        assert answer.status_code == 500
        assert (
            answer.json()["error"] == "the server could not complete the request; try again later"
        )


def test_share_account_and_join_routes(
    server: Server, operator: httpx.Client, instance: Instance
) -> None:
    share = {
        "invitee": "grace@example.org",
        "emailAddress": EMAIL,
        "password": PASSWORD,
        "grantAdminPrivileges": False,
    }
    _error(operator.post("/api/share-account", json={"invitee": "x"}), 400)
    _error(operator.post("/api/share-account", json={**share, "password": "wrong password"}), 401)
    _error(operator.post(f"/api/share-account/{uuid.uuid4()}", json=share), 403)
    assert operator.post(f"/api/share-account/{instance.account_id}", json=share).status_code == 204
    token = server.last_token("join")

    join = {"emailAddress": "grace@example.org", "password": NEW_PASSWORD, "token": token}
    _error(operator.post("/api/join", json={**join, "token": "forged"}), 400)
    _error(operator.post("/api/join", json={**join, "emailAddress": "x@example.org"}), 400)
    assert operator.post("/api/join", json=join).status_code == 204
    _error(operator.post("/api/join", json=join), 400)
    _error(operator.post("/api/share-account", json=share), 409)

    taken = {"emailAddress": "grace@example.org", "emailCurrent": EMAIL, "password": PASSWORD}
    _error(operator.post("/api/change-email", json=taken), 409)

    invitee = server.new_client()
    logged_in = log_in(invitee, "grace@example.org", NEW_PASSWORD)
    assert logged_in.status_code == 200
    assert [item["accountId"] for item in logged_in.json()["accounts"]] == [instance.account_id]
    own = {"emailAddress": "grace@example.org", "password": NEW_PASSWORD}
    _error(invitee.post("/api/accounts", json={**own, "accountName": "Mine"}), 403)
    _error(invitee.post("/api/share-account", json={**own, "invitee": "h@example.org"}), 403)
    _error(invitee.delete(f"/api/accounts/{instance.account_id}"), 403)


def test_an_admin_invitee_may_create_accounts(server: Server, instance: Instance) -> None:
    password = add_operator(server, instance, "root@example.org", admin=True)
    client = server.new_client()
    assert log_in(client, "root@example.org", password).status_code == 200

    created = client.post(
        "/api/accounts",
        json={"accountName": "Root's", "emailAddress": "root@example.org", "password": password},
    )

    assert created.status_code == 201
