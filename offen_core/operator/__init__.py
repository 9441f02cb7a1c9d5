# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What an operator does: unlock accounts, decrypt their events, export and report them.

The operator role walks down Offen's key chain for the accounts of one login:

1. A login result (from `offen_core.server.Operators.login` for a database, or from
   `offen_core.client.http.OffenClient.login` for a running server) carries each account's
   key-encryption key (KEK). `Operator` takes it; it never logs in itself.
2. An account source (`StoreSource` for a database, `HttpSource` for a server) delivers the
   account's wrapped private keys, its events page by page after a cursor, the wrapped user
   secrets of those events and the ids of deleted events.
3. `Operator.unlock` unwraps the private keys once per session; each visitor's user secret is
   unwrapped once and cached (over several processes when there are many, see `Decryptor`);
   each payload is decrypted and validated into an `offen_core.events.DecryptedEvent`.
4. `Operator.sync` keeps an `AccountState` up to date incrementally (new events in, deleted
   events out, repeated events de-duplicated); `Operator.iter_batches` streams pages in
   bounded memory for large accounts. Events that cannot be decrypted are counted by `Reason`
   and reported, never dropped silently.

`offen_core.operator.export` writes decrypted events as JSON Lines or CSV; `account_report`,
`format_tables` and `render_html` turn an account's state into Offen's metrics report as JSON,
terminal tables or a self-contained HTML page. The ``offen-core export`` and
``offen-core report`` commands use all of this; the guide "Operator" shows how.
"""

from offen_core.operator._keys import (
    AccountGrant,
    AccountKeys,
    LoginAccountLike,
    LoginResultLike,
    WrappedPrivateKey,
    grants_from_login,
    unlock_keys,
)
from offen_core.operator._operator import (
    DEFAULT_PAGE_SIZE,
    AccountState,
    Batch,
    Operator,
    Progress,
    ProgressCallback,
)
from offen_core.operator._pipeline import (
    DEFAULT_READ_AHEAD,
    Decryptor,
    Reason,
    SecretCache,
    Undecryptable,
)
from offen_core.operator._report import AccountReport, account_report, format_tables
from offen_core.operator._report_html import render_html
from offen_core.operator._sources import (
    AccountHeader,
    AccountSource,
    HttpSource,
    RawEvent,
    SourcePage,
    StoreSource,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_READ_AHEAD",
    "AccountGrant",
    "AccountHeader",
    "AccountKeys",
    "AccountReport",
    "AccountSource",
    "AccountState",
    "Batch",
    "Decryptor",
    "HttpSource",
    "LoginAccountLike",
    "LoginResultLike",
    "Operator",
    "Progress",
    "ProgressCallback",
    "RawEvent",
    "Reason",
    "SecretCache",
    "SourcePage",
    "StoreSource",
    "Undecryptable",
    "WrappedPrivateKey",
    "account_report",
    "format_tables",
    "grants_from_login",
    "render_html",
    "unlock_keys",
]
