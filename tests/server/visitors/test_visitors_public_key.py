# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""GET /api/exchange: an account's public key."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from visitor_helpers import make_account

from offen_core.crypto import PublicKey
from offen_core.errors import InvalidInputError, UnknownAccountError
from offen_core.server import Route, error_body, status_for
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import Store


def test_public_key_answers_offens_shape(store: Store, flows: VisitorFlows) -> None:
    account, pair = make_account(store, name="Example site")

    result = flows.public_key(account.account_id.upper())

    assert result.status == 200
    assert result.cookies == ()
    body = result.body()
    assert list(body) == ["accountId", "name", "publicKey", "created"]
    assert body["accountId"] == account.account_id
    assert body["name"] == "Example site"
    assert body["created"] == "2026-01-01T09:30:00Z"
    assert PublicKey.from_jwk(body["publicKey"]) == pair.public_key
    assert json.loads(json.dumps(body)) == body


@pytest.mark.parametrize("value", [None, "", "abc", 42, "not-a-uuid-at-all-not-a-uuid-at-all!"])
def test_public_key_refuses_a_bad_account_id(flows: VisitorFlows, value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        flows.public_key(value)

    assert caught.value.field == "accountId"
    assert status_for(caught.value, Route.GET_EXCHANGE) == 400


def test_public_key_of_an_unknown_account_is_404(flows: VisitorFlows) -> None:
    with pytest.raises(UnknownAccountError) as caught:
        flows.public_key(str(uuid.uuid4()))

    assert status_for(caught.value) == 404


def test_public_key_of_a_retired_account_is_404(store: Store, flows: VisitorFlows) -> None:
    account, _ = make_account(store)
    store.retire_account(account.account_id)

    with pytest.raises(UnknownAccountError) as caught:
        flows.public_key(account.account_id)

    assert error_body(caught.value) == {"error": str(caught.value), "status": 404}
    assert account.account_id not in str(caught.value)
