# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the operator tests: accounts built through the Store, visitors, a tiny server."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from offen_core.client import create_user_secret, encrypt_page_view, wrap_user_secret
from offen_core.crypto import (
    KeyPair,
    PublicKey,
    SymmetricKey,
    encrypt_symmetric,
    generate_symmetric_key,
    hash_fast,
    new_fast_salt,
    random_bytes,
)
from offen_core.errors import NotFoundError, OffenError
from offen_core.server import error_body
from offen_core.server.operators import Operators
from offen_core.storage import Account, AccountKey, ImportedEvent, Store

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def page_view(number: int, **changes: Any) -> dict[str, Any]:
    """A pageview payload as the vault writes it."""
    values: dict[str, Any] = {
        "type": "PAGEVIEW",
        "href": f"https://www.example.org/page/{number % 7}",
        "referrer": "https://www.google.com/" if number % 3 == 0 else "",
        "pageload": 100 + number if number % 4 == 0 else None,
        "isMobile": number % 2 == 0,
        "timestamp": "2026-03-01T10:00:00.000Z",
        "sessionId": f"session-{number % 5}",
        "geo": "DE",
        "rawHref": None,
    }
    values.update(changes)
    return values


@dataclass
class Visitor:
    """A visitor of the test site: their id, secret id and user secret."""

    user_id: str
    secret_id: str
    secret: SymmetricKey = field(repr=False)


@dataclass
class Site:
    """An account built directly through the Store, with what an operator's login would hold."""

    store: Store
    public_key: PublicKey
    account: Account
    kek: bytes = field(default=b"", repr=False)
    counter: int = 0

    @classmethod
    def create(cls, store: Store, pair: KeyPair, name: str = "site", key_version: int = 1) -> Site:
        kek = random_bytes(32)
        public = json.dumps(pair.public_key.to_jwk(), separators=(",", ":"))
        private = json.dumps(pair.private_key.to_jwk(), separators=(",", ":"))
        wrapped = encrypt_symmetric(kek, private.encode())
        account = Account(
            account_id=str(uuid.uuid4()),
            name=name,
            public_key=public,
            encrypted_private_key=wrapped,
            user_salt=new_fast_salt(),
            created=NOW,
        )
        key = AccountKey(account.account_id, key_version, public, wrapped, NOW)
        store.create_account(account, [], [key])
        return cls(store, pair.public_key, account, kek)

    @classmethod
    def existing(cls, store: Store, account: Account) -> Site:
        """A site for an account made by the server's flows (its KEK stays unknown)."""
        return cls(store, PublicKey.from_jwk(account.public_key), account)

    @property
    def account_id(self) -> str:
        return self.account.account_id

    def login(self) -> dict[str, Any]:
        """The JSON of a login result granting this account, as POST /api/login answers."""
        jwk = SymmetricKey(self.kek).to_jwk()
        return {
            "accountUserId": str(uuid.uuid4()),
            "adminLevel": 1,
            "accounts": [
                {
                    "accountName": self.account.name,
                    "accountId": self.account_id,
                    "created": "2026-03-02T12:00:00Z",
                    "keyEncryptionKey": {"k": jwk["k"], "kty": "oct"},
                }
            ],
        }

    def visitor(self, *, wrapped: str | None = None) -> Visitor:
        """A visitor who exchanged a user secret (or the given wrapped value) with the site."""
        user_id = str(uuid.uuid4())
        secret = create_user_secret()
        secret_id = hash_fast(user_id, self.account.user_salt)
        cipher = wrapped if wrapped is not None else wrap_user_secret(secret, self.public_key)
        parked = hash_fast(str(uuid.uuid4()), self.account.user_salt)
        self.store.exchange_secret(self.account_id, secret_id, cipher, parked_secret_id=parked)
        return Visitor(user_id, secret_id, secret)

    def send(
        self,
        visitor: Visitor | None,
        count: int = 1,
        *,
        at: datetime | None = None,
        payload: Callable[[Visitor | None, int], str] | None = None,
    ) -> list[str]:
        """Import ``count`` pageviews of a visitor at a time (now by default); their ids."""
        when = at or datetime.now(UTC)
        rows = []
        for _ in range(count):
            self.counter += 1
            if payload is not None:
                cipher = payload(visitor, self.counter)
            else:
                assert visitor is not None
                cipher = encrypt_page_view(visitor.secret, page_view(self.counter))
            rows.append(
                ImportedEvent(
                    self.account_id,
                    None if visitor is None else visitor.secret_id,
                    cipher,
                    when + timedelta(milliseconds=self.counter),
                )
            )
        return [event.event_id for event in self.store.import_events(rows)]


def wrong_key_payload(_visitor: Visitor | None, number: int) -> str:
    """A payload encrypted under a key no visitor holds."""
    return encrypt_page_view(generate_symmetric_key(), page_view(number))


_ACCOUNT_PATH = re.compile(r"/api/accounts/([^/]+)")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class OperatorServer:
    """A WSGI app serving POST /api/login and GET /api/accounts/{id} over the flows."""

    __test__ = False

    def __init__(self, operators: Operators) -> None:
        self.operators = operators
        self.requests: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        cookies = {k: m.value for k, m in SimpleCookie(environ.get("HTTP_COOKIE", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self.requests.append(f"{method} {path}")
        try:
            match = _ACCOUNT_PATH.fullmatch(path)
            if (method, path) == ("POST", "/api/login"):
                result: Any = self.operators.login(body)
            elif method == "GET" and match:
                session = self.operators.authenticate(cookies.get("auth"))
                result = self.operators.account_view(
                    session, match.group(1), since=query.get("since"), limit=query.get("limit")
                )
            else:
                raise NotFoundError("no such route")
        except OffenError as error:
            data = dict(error_body(error, None))
            start_response(f"{data['status']} Error", [("Content-Type", "application/json")])
            return [json.dumps(data).encode()]
        headers = [("Content-Type", "application/json")]
        headers += [("Set-Cookie", cookie.header_value()) for cookie in result.cookies]
        start_response(f"{result.status} OK", headers)
        return [json.dumps(result.body()).encode()]


__all__ = [
    "NOW",
    "OperatorServer",
    "Site",
    "Visitor",
    "page_view",
    "wrong_key_payload",
]
