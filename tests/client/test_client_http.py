# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The HTTP client against a server built on offen_core.server, by the book of Offen's vault."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_helpers import TestServer

from offen_core import client
from offen_core.client.http import OffenClient, Visitor
from offen_core.crypto import (
    PublicKey,
    SymmetricKey,
    decrypt_asymmetric,
    decrypt_symmetric,
    hash_fast,
)
from offen_core.errors import (
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
    ThrottledError,
    UnknownAccountError,
)
from offen_core.storage import Store
from offen_core.testing import shared_key_pair_pool

EMAIL = "Operator@Example.com"
PASSWORD = "correct horse battery"

PAGE_VIEW: dict[str, Any] = {
    "type": "PAGEVIEW",
    "href": "https://www.example.com/",
    "referrer": "",
    "pageload": 412,
    "isMobile": False,
    "timestamp": "2026-01-05T12:00:00.000Z",
    "sessionId": "8f14e45f-ceea-467f-a0e6-d2a1d8c5b1a0",
    "geo": "FR",
}


@pytest.fixture
def account_id(server: TestServer, store: Store) -> str:
    """Set the instance up with one operator and one account; return the account's id."""
    server.operators.setup({"accountName": "Example", "emailAddress": EMAIL, "password": PASSWORD})
    (account,) = store.list_accounts()
    return account.account_id


@pytest.fixture
def http(server: TestServer) -> Iterator[OffenClient]:
    """A client that talks to the test server in-process."""
    with OffenClient("http://testserver", transport=httpx.WSGITransport(app=server)) as c:
        yield c


def test_a_visitor_by_the_book(http: OffenClient, store: Store, account_id: str) -> None:
    visitor = Visitor(http)
    http.set_consent(True)

    views = [{**PAGE_VIEW, "pageload": n} for n in range(3)]
    assert all(visitor.send_page_view(account_id, view) for view in views)

    # The exchange stored the vault's JWK shape, wrapped for the account, under a hash.
    user_id = http.user_id
    assert user_id is not None
    assert uuid.UUID(user_id).version == 4
    account = store.get_account(account_id)
    stored = store.get_secret(hash_fast(user_id, account.user_salt))
    secret = visitor.user_secret(account_id)
    assert secret is not None
    (pair,) = [
        pair
        for pair in shared_key_pair_pool().pairs
        if pair.public_key == PublicKey.from_jwk(account.public_key)
    ]
    jwk = json.loads(decrypt_asymmetric(pair.private_key, stored))
    assert list(jwk) == ["alg", "ext", "k", "key_ops", "kty"]
    assert SymmetricKey.from_jwk(jwk) == secret

    # Reading back decrypts the visitor's own events.
    mine = visitor.read_events()
    assert sorted(v.pageload for v in mine[account_id].values()) == [0, 1, 2]
    page = http.get_events()
    assert page.retention_period == "6months"
    assert page.sequence

    # Purging deletes them on the server; a later sync learns the deletions.
    http.purge()
    after = http.get_events(since=page.sequence)
    assert after.events == {}
    assert set(after.deleted_events) == set(mine[account_id])
    assert http.user_id == user_id

    # Withdrawing consent forgets the visitor id too.
    http.purge(forget=True)
    assert http.user_id is None
    with pytest.raises(InvalidInputError):
        http.get_events()


def test_the_vault_exchanges_again_after_a_400(
    http: OffenClient, server: TestServer, account_id: str
) -> None:
    visitor = Visitor(http)
    http.set_consent(True)
    visitor.send_page_view(account_id, PAGE_VIEW)
    first = visitor.user_secret(account_id)
    http.purge()  # the server forgets the secret; the vault still holds it

    assert visitor.send_page_view(account_id, PAGE_VIEW)

    assert visitor.user_secret(account_id) != first
    statuses = [(m, p, s) for m, p, s in server.requests if p in ("/api/events", "/api/exchange")]
    assert statuses[-4:] == [
        ("POST", "/api/events", 400),
        ("GET", "/api/exchange", 200),
        ("POST", "/api/exchange", 204),
        ("POST", "/api/events", 201),
    ]


def test_without_consent_events_are_dropped_silently(
    http: OffenClient, store: Store, account_id: str
) -> None:
    visitor = Visitor(http)

    assert visitor.send_page_view(account_id, PAGE_VIEW) is False
    http.set_consent(False)
    assert visitor.send_page_view(account_id, PAGE_VIEW) is False
    assert store.events_for_account(account_id).events == ()


def test_server_errors_arrive_as_offen_errors(http: OffenClient, account_id: str) -> None:
    with pytest.raises(UnknownAccountError):
        http.get_public_key(str(uuid.uuid4()))
    with pytest.raises(InvalidInputError) as caught:
        http.get_public_key("not-an-id")
    assert "accountId" in str(caught.value)
    with pytest.raises(InvalidInputError):
        http.get_events()
    with pytest.raises(InvalidInputError):
        http.post_user_secret(account_id, "{1,} AAAA")
    http.set_consent(True)
    with pytest.raises(InvalidInputError):
        http.post_event(
            account_id, client.encrypt_page_view(client.create_user_secret(), PAGE_VIEW)
        )


def test_a_refusal_is_a_throttled_error_with_retry_after(
    http: OffenClient, account_id: str
) -> None:
    info = http.get_public_key(account_id)
    with pytest.raises(ThrottledError) as caught:  # noqa: PT012 - the loop is the attempt
        for _ in range(100):
            http.post_user_secret(
                account_id, client.wrap_user_secret(client.create_user_secret(), info.public_key)
            )
    assert caught.value.retry_after >= 1


def test_a_body_over_64_kib_is_413(http: OffenClient, account_id: str) -> None:
    http.set_consent(True)

    with pytest.raises(InvalidInputError) as caught:
        http.post_event(account_id, "x" * (64 * 1024 + 10))

    assert "larger than" in str(caught.value)


def test_the_operator_reads_an_account_page_by_page(
    http: OffenClient, account_id: str, server: TestServer
) -> None:
    visitor = Visitor(http)
    http.set_consent(True)
    for n in range(5):
        visitor.send_page_view(account_id, {**PAGE_VIEW, "pageload": n})
    secret = visitor.user_secret(account_id)
    assert secret is not None

    with pytest.raises(InvalidCredentialsError):
        http.get_account(account_id)
    with pytest.raises(InvalidCredentialsError):
        http.login(EMAIL, "wrong password!")
    login = http.login(EMAIL, PASSWORD)
    assert [entry["accountId"] for entry in login["accounts"]] == [account_id]
    assert http.get_login()["accountUserId"] == login["accountUserId"]

    pages = list(http.iter_account(account_id, limit=2))

    assert len(pages) == 3
    assert [page.get("more") for page in pages] == [True, True, None]
    events = {e["eventId"]: e for page in pages for e in page.get("events", {}).get(account_id, [])}
    assert len(events) == 5
    pageloads = sorted(
        json.loads(decrypt_symmetric(secret, e["payload"]))["pageload"] for e in events.values()
    )
    assert pageloads == [0, 1, 2, 3, 4]
    with pytest.raises(ForbiddenError):
        http.get_account(str(uuid.uuid4()))

    http.logout()
    with pytest.raises(InvalidCredentialsError):
        http.get_login()
    with pytest.raises(NotFoundError):
        http._request("GET", "/api/nowhere")


def test_an_invalid_pageview_is_refused_before_anything_is_sent(
    http: OffenClient, server: TestServer, account_id: str
) -> None:
    visitor = Visitor(http)
    http.set_consent(True)
    sent = len(server.requests)

    with pytest.raises(InvalidInputError) as caught:
        visitor.send_page_view(account_id, {**PAGE_VIEW, "href": "no url"})

    assert caught.value.field == "href"
    assert len(server.requests) == sent
    assert visitor.user_secret(account_id) is None
