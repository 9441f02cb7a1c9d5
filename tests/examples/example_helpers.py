# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the contract suite: opening either server, an operator instance, cookies, mail."""

from __future__ import annotations

import email
import json
import re
import uuid
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

from examples.asgi.app import create_app as create_asgi_app
from examples.common.service import Service
from examples.common.settings import Settings
from examples.wsgi.app import create_app as create_wsgi_app
from offen_core.client import create_user_secret, wrap_user_secret
from offen_core.crypto import new_fast_salt
from offen_core.server.mail import OutboxMailer
from offen_core.storage import Account, Store, metadata
from offen_core.testing import FakeClock, shared_key_pair_pool

with warnings.catch_warnings():
    # Starlette asks for its own httpx fork; its TestClient works the same with httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SECRET = b"contract-suite-server-secret-32b"
BASE_URL = "http://testserver"
EMAIL = "ada@example.org"
PASSWORD = "correct horse battery"
ACCOUNT_NAME = "Example site"
PAYLOAD = "{1,} " + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY" + " " + "MTIzNDU2Nzg5MDEy"
THROTTLE_WINDOW = 901.0
"""Seconds past the longest throttle window of the server's policies (login: 900 s)."""


def empty_tables(store: Store) -> None:
    """Delete every row the Store writes (Offen's ``migrations`` rows stay)."""
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "migrations":
                connection.execute(table.delete())


@dataclass
class Server:
    """One example server under test and the client that talks to it.

    Attributes:
        framework: ``"asgi"`` or ``"wsgi"``.
        client: The client; it keeps cookies as a browser does.
        service: The server's service (flows, Store, settings).
        outbox: The folder the server's mails are written to.
        sleeps: The delays the ASGI server waited out (it sleeps on a fake).
    """

    framework: str
    client: httpx.Client
    service: Service
    outbox: Path
    sleeps: list[float] = field(default_factory=list)
    _stack: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        """Close the client (and run the ASGI server's shutdown)."""
        self._stack.close()

    def new_client(self, address: str = "127.0.0.1") -> httpx.Client:
        """Open another client (another browser) on the same server, from ``address``."""
        client = _client(self.framework, self._app, address)
        self._hook(client)
        self._stack.enter_context(client)
        return client

    def ticking(self, seconds: float = THROTTLE_WINDOW) -> None:
        """Move the clock on by ``seconds`` before each request of this server's clients.

        For tests that walk a route through several answers: each request then falls in a
        new throttle window. Throttle tests leave the clock alone.
        """
        self.tick = seconds

    _app: Any = None
    _clock: FakeClock | None = None
    tick: float = 0.0

    def _hook(self, client: httpx.Client) -> None:
        def advance(request: httpx.Request) -> None:
            if self.tick and self._clock is not None:
                self._clock.advance(self.tick)

        client.event_hooks = {"request": [advance], "response": []}

    def mails(self) -> list[email.message.Message]:
        """The mails the server wrote, oldest first."""
        if not self.outbox.exists():
            return []
        return [
            email.message_from_bytes(path.read_bytes()) for path in sorted(self.outbox.iterdir())
        ]

    def last_token(self, kind: str) -> str:
        """The token of the newest link of a kind (``join`` or ``reset-password``)."""
        return unquote(self.last_link(kind).split("/")[2])

    def last_link(self, kind: str) -> str:
        """The path of the newest link of a kind, as mailed (``/join/<token>/``)."""
        for message in reversed(self.mails()):
            text = message.get_payload(decode=True).decode("utf-8")
            found = re.search(rf"https?://[^/\s]+(/{kind}/[^/\s]+/)", text)
            if found:
                return found.group(1)
        raise AssertionError(f"no {kind} link was mailed")


def _client(framework: str, app: Any, address: str) -> httpx.Client:
    if framework == "asgi":
        return TestClient(app, base_url=BASE_URL, client=(address, 50000))
    transport = httpx.WSGITransport(app=app, remote_addr=address)
    return httpx.Client(transport=transport, base_url=BASE_URL)


def open_server(
    framework: str, store: Store, clock: FakeClock, outbox: Path, overrides: dict[str, Any]
) -> Server:
    """Build a server of ``framework`` over ``store`` with test settings and open a client."""
    values: dict[str, Any] = {
        "secret": SECRET,
        "database_url": "sqlite://",
        "base_url": BASE_URL,
        "migrate": False,
        "expiry_interval": 0,
        "throttle_wait_cap": 0.0,
        "access_log": True,
    }
    values.update(overrides)
    settings = Settings(**values)
    service = Service(
        settings,
        store=store,
        clock=clock.now,
        key_pair_factory=shared_key_pair_pool(),
        mailer=OutboxMailer(outbox),
        throttle_clock=clock.time,
    )
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    app: Any
    if framework == "asgi":
        app = create_asgi_app(service=service, sleep=fake_sleep)
    else:
        app = create_wsgi_app(service=service)
    server = Server(framework, _client(framework, app, "127.0.0.1"), service, outbox, sleeps)
    server._app = app
    server._clock = clock
    server._hook(server.client)
    server._stack.enter_context(server.client)
    if framework == "wsgi":
        server._stack.callback(app.extensions["offen_core_throttle_step"].throttle.close)
    return server


# --- an instance with an operator and an account ------------------------------------------


@dataclass(frozen=True)
class Instance:
    """What `set_up` made: the first operator's credentials and the first account."""

    email: str
    password: str
    account_id: str
    public_key: dict[str, Any]


_SNAPSHOTS: dict[str, dict[str, list[dict[str, Any]]]] = {}


def set_up(server: Server, *, over_http: bool = False) -> Instance:
    """Set the instance up and read the account back.

    The first call per engine posts ``/api/setup`` and keeps the rows it wrote; later calls
    write those rows again, which spares the four argon2 runs of a setup (``over_http``
    forces the request).
    """
    store = server.service.store
    snapshot = _SNAPSHOTS.get(store.url)
    if snapshot is None or over_http:
        response = server.client.post(
            "/api/setup",
            json={"accountName": ACCOUNT_NAME, "emailAddress": EMAIL, "password": PASSWORD},
        )
        assert response.status_code == 204, response.text
        with store.engine.connect() as connection:
            _SNAPSHOTS[store.url] = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in metadata.sorted_tables
                if table.name != "migrations"
            }
    else:
        with store.engine.begin() as connection:
            for table in metadata.sorted_tables:
                if snapshot.get(table.name):
                    connection.execute(table.insert(), snapshot[table.name])
    (account,) = store.list_accounts()
    return Instance(EMAIL, PASSWORD, account.account_id, json.loads(account.public_key))


def add_account(server: Server, name: str = ACCOUNT_NAME) -> Instance:
    """Store an account directly, without an operator (no argon2 work), for visitor tests."""
    pair = shared_key_pair_pool()()
    public_jwk = pair.public_key.to_jwk()
    account = Account(
        account_id=str(uuid.uuid4()),
        name=name,
        public_key=json.dumps(public_jwk),
        encrypted_private_key="{1,} cHJpdmF0ZQ== bm9uY2Vub25jZQ==",
        user_salt=new_fast_salt(),
        created=datetime.now(UTC),
    )
    server.service.store.create_account(account)
    return Instance("", "", account.account_id, dict(public_jwk))


def log_in(client: httpx.Client, email_address: str, password: str) -> httpx.Response:
    """POST /api/login."""
    return client.post("/api/login", json={"username": email_address, "password": password})


def exchange(client: httpx.Client, instance: Instance) -> httpx.Response:
    """Run the exchange as the vault does: wrap a fresh user secret, post it."""
    wrapped = wrap_user_secret(create_user_secret(), instance.public_key)
    return client.post(
        "/api/exchange", json={"accountId": instance.account_id, "encryptedSecret": wrapped}
    )


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The ``Set-Cookie`` headers of a response by cookie name."""
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        found[header.split("=", 1)[0]] = header
    return found


def add_operator(server: Server, instance: Instance, invitee: str, *, admin: bool) -> str:
    """Invite ``invitee`` (logged in as the first operator), let them join; return the password."""
    client = server.new_client()
    assert log_in(client, instance.email, instance.password).status_code == 200
    shared = client.post(
        "/api/share-account",
        json={
            "invitee": invitee,
            "emailAddress": instance.email,
            "password": instance.password,
            "grantAdminPrivileges": admin,
        },
    )
    assert shared.status_code == 204, shared.text
    password = "another good password"
    joined = client.post(
        "/api/join",
        json={"emailAddress": invitee, "password": password, "token": server.last_token("join")},
    )
    assert joined.status_code == 204, joined.text
    return password
