# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The operator over HTTP: a login result from the client, the account view page by page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from opsync_helpers import OperatorServer, Site

from offen_core.client.http import OffenClient
from offen_core.errors import ForbiddenError, InvalidCredentialsError
from offen_core.operator import HttpSource, Operator, StoreSource
from offen_core.server import ServerConfig
from offen_core.server.mail import OutboxMailer
from offen_core.server.operators import Operators
from offen_core.storage import Store
from offen_core.testing import KeyPairPool

EMAIL, PASSWORD = "ops@example.org", "a long enough password"


@pytest.fixture
def flows(store: Store, pool: KeyPairPool, tmp_path: object) -> Operators:
    """The operator flows over the test's Store, set up with one operator and one account."""
    operators = Operators(
        store,
        ServerConfig(b"operator-tests-secret-0123456789", secure_context=False),
        mailer=OutboxMailer(str(tmp_path)),
        key_pair_factory=pool,
    )
    operators.setup({"accountName": "shop", "emailAddress": EMAIL, "password": PASSWORD})
    return operators


@pytest.fixture
def client(flows: Operators) -> Iterator[OffenClient]:
    """A client talking to a WSGI server over the flows, in-process."""
    app = OperatorServer(flows)
    with OffenClient("http://testserver", transport=httpx.WSGITransport(app=app)) as client:
        yield client


def test_an_account_read_over_http_equals_the_one_read_from_the_database(
    store: Store, flows: Operators, client: OffenClient
) -> None:
    (account,) = store.list_accounts()
    site = Site.existing(store, account)
    now = datetime.now(UTC)
    visitors = [site.visitor() for _ in range(4)]
    for number, visitor in enumerate(visitors):
        site.send(visitor, 3, at=now - timedelta(days=number + 1))

    login = client.login(EMAIL, PASSWORD)
    source = HttpSource(client, account.account_id)
    with Operator(login, workers=1, page_size=5) as operator:
        over_http = operator.sync(source)
        assert operator.header(source).name == "shop"
        site.send(visitors[0], 2)
        store.purge_secrets([visitors[1].secret_id])
        operator.sync(source, over_http)

    database_login = flows.login({"username": EMAIL, "password": PASSWORD})
    with Operator(database_login, workers=1) as operator:
        from_database = operator.sync(StoreSource(store, account.account_id))

    assert len(over_http) == 11
    assert [e.model_dump() for e in over_http.events()] == [
        e.model_dump() for e in from_database.events()
    ]


def test_a_client_without_login_or_access_is_refused(
    store: Store, flows: Operators, client: OffenClient, pool: KeyPairPool
) -> None:
    (account,) = store.list_accounts()
    login = flows.login({"username": EMAIL, "password": PASSWORD})
    with Operator(login, workers=1) as operator, pytest.raises(InvalidCredentialsError):
        operator.sync(HttpSource(client, account.account_id))

    client.login(EMAIL, PASSWORD)
    other = Site.create(store, pool(), name="not shared")
    forged = {"accounts": [{**other.login()["accounts"][0]}]}
    with Operator(forged, workers=1) as operator, pytest.raises(ForbiddenError):
        operator.sync(HttpSource(client, other.account_id))
