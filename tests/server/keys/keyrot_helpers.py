# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the key-management tests: an instance, visitors, a recording mailer, HTTP."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

from offen_core.client import create_user_secret, encrypt_page_view, wrap_user_secret
from offen_core.crypto import PublicKey, SymmetricKey
from offen_core.errors import OffenError
from offen_core.server import ServerConfig, VisitorFlows, error_body, status_for
from offen_core.server.mail import MailDeliveryError, MailMessage
from offen_core.server.operators import Operators, OperatorSession
from offen_core.storage import Store, metadata

SECRET = b"key-management-tests-secret-0123"
BASE_URL = "https://analytics.example.com"
ANN = ("ann@example.org", "ann's long password")
BOB = ("bob@example.org", "bob's long password")
CY = ("cy@example.org", "cy's long password")


def empty_tables(store: Store) -> None:
    """Delete every row the Store writes (Offen's ``migrations`` rows stay)."""
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "migrations":
                connection.execute(table.delete())


def page_view(number: int) -> dict[str, Any]:
    """A pageview payload as the vault writes it."""
    return {
        "type": "PAGEVIEW",
        "href": f"https://www.example.org/page/{number}",
        "referrer": "",
        "pageload": None,
        "isMobile": False,
        "timestamp": "2026-03-01T10:00:00.000Z",
        "sessionId": f"session-{number}",
        "geo": "DE",
        "rawHref": None,
    }


@dataclass
class Visitor:
    """A visitor who exchanged a secret and posted events."""

    user_id: str
    secret: SymmetricKey = field(repr=False)
    event_ids: list[str] = field(default_factory=list)


def visit(
    visitors: VisitorFlows,
    account_id: str,
    events: int,
    *,
    public_key: dict[str, Any] | None = None,
    first: int = 0,
) -> Visitor:
    """Exchange a new secret (wrapped with ``public_key``, else the current one) and post."""
    if public_key is None:
        public_key = dict(visitors.public_key(account_id).public_key)
    secret = create_user_secret()
    wrapped = wrap_user_secret(secret, PublicKey.from_jwk(public_key))
    result = visitors.exchange(None, {"accountId": account_id, "encryptedSecret": wrapped})
    visitor = Visitor(result.user_id, secret)
    for number in range(first, first + events):
        payload = encrypt_page_view(secret, page_view(number))
        stored = visitors.post_event(
            visitor.user_id, True, {"accountId": account_id, "payload": payload}
        )
        assert stored.event_id is not None
        visitor.event_ids.append(stored.event_id)
    return visitor


class RecordingMailer:
    """A mailer that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        if not message.to:
            raise MailDeliveryError("no recipient")
        self.sent.append(message)

    def token(self, index: int = -1) -> str:
        """The token in the link of a sent message."""
        match = re.search(rf"{re.escape(BASE_URL)}/join/([^/\s]+)/", self.sent[index].body)
        assert match is not None, "the message holds no join link"
        return match.group(1)


def make_flows(
    store: Store, pool: Any, mailer: RecordingMailer, *, recovery_mode: bool = False, **more: Any
) -> Operators:
    """Operator flows over the Store, with or without recovery keys."""
    config = ServerConfig(SECRET, base_url=BASE_URL, recovery_mode=recovery_mode)
    return Operators(store, config, mailer=mailer, key_pair_factory=pool, **more)


def session_for(flows: Operators, who: tuple[str, str]) -> OperatorSession:
    """Log in and return the session of the auth token."""
    result = flows.login({"username": who[0], "password": who[1]})
    return flows.authenticate(result.token)


def setup(flows: Operators, who: tuple[str, str] = ANN, name: str = "Site") -> Any:
    """Set up the instance; return the setup result."""
    return flows.setup({"accountName": name, "emailAddress": who[0], "password": who[1]})


def only_account(flows: Operators, who: tuple[str, str]) -> str:
    """The id of the one account an operator has."""
    (account,) = flows.login({"username": who[0], "password": who[1]}).accounts
    return account.account_id


def transport(flows: Operators) -> httpx.MockTransport:
    """An in-process server for ``POST /api/login`` and ``GET /api/accounts/{id}``."""

    def handle(request: httpx.Request) -> httpx.Response:
        try:
            if request.method == "POST" and request.url.path == "/api/login":
                result = flows.login(request.content)
                assert result.token is not None
                return httpx.Response(
                    200, json=result.body(), headers={"set-cookie": f"auth={result.token}; Path=/"}
                )
            match = re.fullmatch(r"/api/accounts/([0-9a-f-]+)", request.url.path)
            if request.method == "GET" and match:
                session = flows.authenticate(request.headers.get("cookie", "")[len("auth=") :])
                query = parse_qs(request.url.query.decode())
                view = flows.account_view(
                    session,
                    match.group(1),
                    since=query.get("since", [None])[0],
                    limit=query.get("limit", [None])[0],
                )
                return httpx.Response(200, content=json.dumps(view.body()))
        except OffenError as error:
            return httpx.Response(status_for(error), json=dict(error_body(error)))
        return httpx.Response(404, json={"error": "no such route", "status": 404})

    return httpx.MockTransport(handle)
