# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the visitor flow tests: accounts with real keys and the vault's side."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from offen_core import client
from offen_core.crypto import KeyPair, SymmetricKey, new_fast_salt
from offen_core.storage import Account, AccountKey, Store, metadata
from offen_core.testing import shared_key_pair_pool

SECRET = b"visitor-tests-server-secret-0123"

PAGE_VIEW: dict[str, Any] = {
    "type": "PAGEVIEW",
    "href": "https://www.example.com/about/",
    "referrer": "",
    "pageload": 120,
    "isMobile": False,
    "timestamp": "2026-01-05T12:00:00.000Z",
    "sessionId": "3d0c8a52-5a4e-4d2c-9d0a-2f2b0c8b1e11",
    "geo": "DE",
}


def make_account(
    store: Store,
    *,
    pair: KeyPair | None = None,
    keep_key: bool = True,
    name: str | None = None,
) -> tuple[Account, KeyPair]:
    """Store an active account with a real public key (from the shared test pool)."""
    pair = pair or shared_key_pair_pool()()
    account = Account(
        account_id=str(uuid.uuid4()),
        name=name or f"site {uuid.uuid4().hex[:8]}",
        public_key=json.dumps(pair.public_key.to_jwk()),
        encrypted_private_key="{1,} cHJpdmF0ZQ== bm9uY2Vub25jZQ==",
        user_salt=new_fast_salt(),
        created=datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
    )
    keys = (
        [
            AccountKey(
                account_id=account.account_id,
                key_version=1,
                public_key=account.public_key,
                encrypted_private_key=account.encrypted_private_key,
                created=account.created,
            )
        ]
        if keep_key
        else []
    )
    return store.create_account(account, keys=keys), pair


def exchange_body(account: Account, secret: SymmetricKey) -> dict[str, str]:
    """The body the vault posts to ``/api/exchange``, made with the client functions."""
    return {
        "accountId": account.account_id,
        "encryptedSecret": client.wrap_user_secret(secret, json.loads(account.public_key)),
    }


def event_body(account: Account, secret: SymmetricKey, **changes: Any) -> dict[str, str]:
    """The body the vault posts to ``/api/events``."""
    return {
        "accountId": account.account_id,
        "payload": client.encrypt_page_view(secret, {**PAGE_VIEW, **changes}),
    }


def count_rows(store: Store, table_name: str) -> int:
    """How many rows a table holds."""
    table = metadata.tables[table_name]
    with store.engine.connect() as connection:
        return len(connection.execute(table.select()).all())
