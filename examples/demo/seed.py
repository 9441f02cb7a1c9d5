# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Seeding an account with planned traffic, the way real visitors would have filled it.

Each planned visitor does what the vault does, in Python: `offen_core.client` makes a user
secret and wraps it with the account's public key, the server's exchange flow stores it under
the visitor's secret id (stamping the key version, as for a browser), and every pageview is
encrypted under the user secret. The events then go in through the Store's import path, which
mints each event id at the pageview's time, so the server holds exactly what it would hold had
the visits happened, and expiry ages them from then. Only ciphertext reaches the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from examples.demo.traffic import PlannedVisitor
from offen_core.client import create_user_secret, encrypt_page_view, wrap_user_secret
from offen_core.crypto import PublicKey, hash_fast
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import ImportedEvent, Store

__all__ = ["SeedReport", "seed_account"]

_BATCH = 2000
"""Events per import transaction."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What `seed_account` stored.

    Attributes:
        visitors: Visitors (user secrets exchanged).
        sessions: Sessions.
        pageviews: Events imported.
        oldest: The time of the oldest event, or ``None`` without events.
        newest: The time of the newest event, or ``None`` without events.
        seconds: How long the seeding took.
    """

    visitors: int
    sessions: int
    pageviews: int
    oldest: datetime | None
    newest: datetime | None
    seconds: float


def seed_account(
    store: Store,
    visitor_flows: VisitorFlows,
    account_id: str,
    plan: Iterable[PlannedVisitor],
) -> SeedReport:
    """Store planned visitors and their pageviews for an account, encrypted as a browser would.

    Args:
        store: The Store the server uses.
        visitor_flows: The server's visitor flows over ``store`` (their exchange stores the
            user secrets).
        account_id: The account to seed (active).
        plan: The visitors, from `examples.demo.traffic.plan_traffic`.

    Returns:
        What was stored.

    Raises:
        UnknownAccountError: The account does not exist or is retired.
        OffenError: The Store refused a value (nothing of that batch is stored).
    """
    started = time.perf_counter()
    account = store.get_account(account_id)
    # Import the public key once: the JWK text would be parsed for every visitor.
    public_key = PublicKey.from_jwk(account.public_key)

    pending: list[ImportedEvent] = []
    visitors = sessions = pageviews = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    for visitor in plan:
        user_secret = create_user_secret()
        body = {
            "accountId": account.account_id,
            "encryptedSecret": wrap_user_secret(user_secret, public_key),
        }
        visitor_flows.exchange(visitor.user_id, body)
        secret_id = hash_fast(visitor.user_id, account.user_salt)
        for at, payload in visitor.payloads():
            cipher = encrypt_page_view(user_secret, payload)
            pending.append(ImportedEvent(account.account_id, secret_id, cipher, at))
            oldest = at if oldest is None or at < oldest else oldest
            newest = at if newest is None or at > newest else newest
        visitors += 1
        sessions += len(visitor.sessions)
        if len(pending) >= _BATCH:
            pageviews += len(store.import_events(pending))
            pending = []
    if pending:
        pageviews += len(store.import_events(pending))
    return SeedReport(
        visitors=visitors,
        sessions=sessions,
        pageviews=pageviews,
        oldest=oldest,
        newest=newest,
        seconds=time.perf_counter() - started,
    )
