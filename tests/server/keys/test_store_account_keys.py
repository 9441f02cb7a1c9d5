# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""`Store.update_account_key`, added for KEK rotation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from offen_core.errors import NotFoundError
from offen_core.storage import Account, AccountKey, Store

ACCOUNT_ID = "0b6e4a38-51a7-4c0e-9f39-6a3f2b1e7d10"
CREATED = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


def test_only_the_wrapped_private_key_of_one_version_changes(store: Store) -> None:
    account = Account(ACCOUNT_ID, "Site", '{"n":"1"}', "{1,} AAAA AAAA", "{1,} AAAA", CREATED)
    keys = [
        AccountKey(ACCOUNT_ID, 1, '{"n":"1"}', "{1,} AAAA AAAA", CREATED),
        AccountKey(ACCOUNT_ID, 2, '{"n":"2"}', "{1,} BBBB BBBB", CREATED),
    ]
    store.create_account(account, [], keys)

    store.update_account_key(replace(keys[0], encrypted_private_key="{1,} CCCC CCCC"))

    assert store.account_keys(ACCOUNT_ID) == [
        replace(keys[0], encrypted_private_key="{1,} CCCC CCCC"),
        keys[1],
    ]
    with pytest.raises(NotFoundError):
        store.update_account_key(replace(keys[0], key_version=3))
    with pytest.raises(NotFoundError):
        store.update_account_key(
            replace(keys[0], account_id="1c8b1a9e-6a6f-4b2e-8c1d-2f3e4d5c6b7a")
        )
