# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The operator's sync: unlock, decrypt, follow the cursor and the deletions, count failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from opsync_helpers import NOW, Site, page_view, wrong_key_payload
from sqlalchemy import delete

from offen_core.client import encrypt_page_view, wrap_user_secret
from offen_core.crypto import (
    SymmetricKey,
    encrypt_asymmetric,
    encrypt_symmetric,
    generate_symmetric_key,
)
from offen_core.errors import DecryptionError, ForbiddenError, InvalidInputError
from offen_core.events import DecryptedEvent, PageView
from offen_core.operator import AccountState, Operator, Reason, StoreSource
from offen_core.storage import AccountKey, Store, secrets
from offen_core.testing import KeyPairPool


def _snapshot(state: AccountState) -> dict[str, tuple[str | None, PageView]]:
    return {event.event_id: (event.secret_id, event.payload) for event in state.events()}


def test_a_sync_decrypts_every_event_of_every_visitor(site: Site, store: Store) -> None:
    visitors = [site.visitor() for _ in range(3)]
    sent = {visitor.secret_id: site.send(visitor, 4) for visitor in visitors}

    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(StoreSource(store, site.account_id))

    assert len(state) == 12
    assert state.undecryptable_counts() == {}
    for visitor in visitors:
        for event_id in sent[visitor.secret_id]:
            event = state.event(event_id)
            assert event is not None
            assert event.secret_id == visitor.secret_id
            assert event.account_id == site.account_id
            assert event.payload.type == "PAGEVIEW"
    # Payloads come back as they were sent.
    first = state.event(sent[visitors[0].secret_id][0])
    assert first is not None
    assert first.payload == PageView.model_validate(page_view(1))


def test_an_incremental_sync_equals_a_full_decrypt_after_inserts_purges_and_expiry(
    site: Site, store: Store
) -> None:
    now = datetime.now(UTC)
    old, stays, leaves = site.visitor(), site.visitor(), site.visitor()
    site.send(old, 3, at=now - timedelta(days=40))
    site.send(stays, 3, at=now - timedelta(days=2))
    site.send(leaves, 2, at=now - timedelta(days=1))
    source = StoreSource(store, site.account_id)

    with Operator(site.login(), workers=1, page_size=2) as operator:
        state = operator.sync(source)
        assert len(state) == 8

        # Expire what is older than 7 days, purge a visitor, add new events and a visitor.
        assert store.expire("7days").events_expired == 3
        assert store.purge_secrets([leaves.secret_id]) == 2
        site.send(stays, 2)
        newcomer = site.visitor()
        site.send(newcomer, 3)

        operator.sync(source, state)

    with Operator(site.login(), workers=1) as fresh:
        full = fresh.sync(StoreSource(store, site.account_id))

    assert len(full) == 8
    assert _snapshot(state) == _snapshot(full)
    assert state.undecryptable_counts() == full.undecryptable_counts() == {}
    assert {event.secret_id for event in state.events()} == {stays.secret_id, newcomer.secret_id}


def test_events_that_come_again_inside_the_safety_lag_are_kept_once(
    site: Site, store: Store
) -> None:
    visitor = site.visitor()
    site.send(visitor, 5)
    source = StoreSource(store, site.account_id)

    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(source)
        cursor = state.sequence
        # Everything is inside the Store's safety lag: the cursor stays behind it.
        batches = list(operator.iter_batches(source, since=cursor))
        operator.sync(source, state)

    assert sum(len(batch.events) for batch in batches) == 5
    assert len(state) == 5


def test_undecryptable_events_are_counted_by_reason(
    site: Site, store: Store, pool: KeyPairPool
) -> None:
    good = site.visitor()
    site.send(good, 2)
    site.send(good, 1, payload=wrong_key_payload)
    site.send(good, 1, payload=lambda v, _: encrypt_symmetric(v.secret, b"not json"))
    site.send(
        good,
        1,
        payload=lambda v, _: encrypt_symmetric(v.secret, json.dumps({"href": "no url"}).encode()),
    )
    other_pair = next(pair for pair in pool.pairs if pair.public_key != site.public_key)
    stranger = site.visitor(
        wrapped=wrap_user_secret(generate_symmetric_key(), other_pair.public_key)
    )
    site.send(stranger, 2)
    not_a_key = site.visitor(wrapped=encrypt_asymmetric(site.public_key, b'{"kty":"RSA"}'))
    site.send(not_a_key, 1)
    site.send(
        None, 2, payload=lambda _v, n: encrypt_page_view(generate_symmetric_key(), page_view(n))
    )
    gone = site.visitor()
    site.send(gone, 3)
    with store.engine.begin() as connection:
        connection.execute(delete(secrets).where(secrets.c.secret_id == gone.secret_id))

    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(StoreSource(store, site.account_id))

    assert len(state) == 2
    assert state.undecryptable_counts() == {
        "anonymous": 2,
        "missing_secret": 3,
        "bad_secret": 3,
        "bad_payload": 1,
        "invalid_payload": 2,
    }
    reasons = {failure.reason for failure in state.undecryptable()}
    assert reasons == {
        Reason.ANONYMOUS,
        Reason.MISSING_SECRET,
        Reason.BAD_SECRET,
        Reason.BAD_PAYLOAD,
        Reason.INVALID_PAYLOAD,
    }


def test_undecryptable_events_leave_the_count_when_they_are_deleted(
    site: Site, store: Store
) -> None:
    visitor = site.visitor()
    site.send(visitor, 1)
    site.send(visitor, 2, payload=wrong_key_payload)
    source = StoreSource(store, site.account_id)
    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(source)
        assert state.undecryptable_counts() == {"bad_payload": 2}
        store.purge_secrets([visitor.secret_id])
        operator.sync(source, state)
    assert len(state) == 0
    assert state.undecryptable_counts() == {}


def test_unwrapping_over_processes_gives_what_one_process_gives(site: Site, store: Store) -> None:
    visitors = [site.visitor() for _ in range(12)]
    for visitor in visitors:
        site.send(visitor, 2)
    site.send(visitors[0], 1, payload=wrong_key_payload)
    source = StoreSource(store, site.account_id)
    seen: list[tuple[int, int]] = []

    with Operator(site.login(), workers=2, parallel_threshold=4) as parallel:
        spread = parallel.sync(
            source, progress=lambda p: seen.append((p.secrets_done, p.secrets_total))
        )
    with Operator(site.login(), workers=1) as single:
        alone = single.sync(source)

    assert _snapshot(spread) == _snapshot(alone)
    assert spread.undecryptable_counts() == alone.undecryptable_counts() == {"bad_payload": 1}
    assert (12, 12) in seen


def test_a_revisiting_visitor_with_a_new_secret_is_unwrapped_again(
    site: Site, store: Store
) -> None:
    visitor = site.visitor()
    site.send(visitor, 2)
    source = StoreSource(store, site.account_id)
    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(source)
        # The visitor lost their key and exchanges a new one under the same secret id: the
        # old secret and events are parked, the new ones arrive under the old secret id.
        new_secret = generate_symmetric_key()
        parked = "f" * 64
        store.exchange_secret(
            site.account_id,
            visitor.secret_id,
            wrap_user_secret(new_secret, site.public_key),
            parked_secret_id=parked,
        )
        visitor.secret = new_secret
        site.send(visitor, 2)
        operator.sync(source, state)

    with Operator(site.login(), workers=1) as fresh:
        full = fresh.sync(source)
    assert len(state) == 4
    assert _snapshot(state) == _snapshot(full)
    assert state.undecryptable_counts() == {}


def test_unlocking_needs_a_grant_and_the_right_key(
    site: Site, store: Store, pool: KeyPairPool
) -> None:
    other = Site.create(store, pool(), name="other")
    source = StoreSource(store, other.account_id)
    with Operator(site.login(), workers=1) as operator, pytest.raises(ForbiddenError):
        operator.sync(source)

    forged = site.login()
    forged["accounts"][0]["accountId"] = other.account_id
    with Operator(forged, workers=1) as operator, pytest.raises(DecryptionError):
        operator.sync(source)


def test_a_login_without_keys_is_refused() -> None:
    status = {
        "accountUserId": "x",
        "adminLevel": 0,
        "accounts": [{"accountId": "0" * 8 + "-0000-0000-0000-" + "0" * 12}],
    }
    with pytest.raises(InvalidInputError):
        Operator(status)
    with pytest.raises(InvalidInputError):
        Operator({"accounts": "nope"})
    with pytest.raises(InvalidInputError):
        Operator(["not", "a", "login"])  # type: ignore[arg-type]


def test_a_state_of_another_account_is_refused(site: Site, store: Store) -> None:
    with Operator(site.login(), workers=1) as operator, pytest.raises(InvalidInputError):
        operator.sync(StoreSource(store, site.account_id), AccountState("another"))


def test_decrypted_events_equal_events_validated_from_their_json(site: Site, store: Store) -> None:
    visitor = site.visitor()
    site.send(visitor, 3)
    site.send(
        visitor,
        1,
        payload=lambda v, n: encrypt_page_view(v.secret, page_view(n, title="extra member")),
    )
    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(StoreSource(store, site.account_id))

    for event in state.events():
        again = DecryptedEvent.model_validate_json(event.model_dump_json())
        assert again == event
        assert again.model_dump() == event.model_dump()
        assert again.model_fields_set == event.model_fields_set
    assert state.events()[-1].payload.extra == {"title": "extra member"}


def test_a_payload_followed_by_more_json_is_invalid(site: Site, store: Store) -> None:
    visitor = site.visitor()
    site.send(
        visitor,
        1,
        payload=lambda v, n: encrypt_symmetric(
            v.secret, json.dumps(page_view(n)).encode() + b',"eventId":"01ARZ3NDEKTSV4RRFFQ69G5FAV"'
        ),
    )
    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(StoreSource(store, site.account_id))
    assert state.undecryptable_counts() == {"invalid_payload": 1}


def test_after_a_key_rotation_secrets_of_every_key_version_unwrap(
    store: Store, pool: KeyPairPool
) -> None:
    old_pair, new_pair = pool.pairs[0], pool.pairs[1]
    site = Site.create(store, new_pair, key_version=2)
    wrapped_old = encrypt_symmetric(site.kek, json.dumps(old_pair.private_key.to_jwk()).encode())
    store.add_account_key(
        AccountKey(site.account_id, 1, json.dumps(old_pair.public_key.to_jwk()), wrapped_old, NOW)
    )

    def secret_for(public_key: object, version: int | None) -> tuple[str, SymmetricKey]:
        key = generate_symmetric_key()
        jwk = json.dumps(key.to_jwk()).encode()
        return encrypt_asymmetric(public_key, jwk, key_version=version), key  # type: ignore[arg-type]

    senders = []
    for public_key, version in (
        (old_pair.public_key, 1),  # stamped with the old version
        (new_pair.public_key, 2),  # stamped with the current version
        (old_pair.public_key, None),  # unstamped, as Offen's vault writes: tried in turn
    ):
        wrapped, key = secret_for(public_key, version)
        visitor = site.visitor(wrapped=wrapped)
        visitor.secret = key
        senders.append(visitor)
        site.send(visitor, 2)

    with Operator(site.login(), workers=1) as operator:
        keys = operator.unlock(StoreSource(store, site.account_id))
        state = operator.sync(StoreSource(store, site.account_id))

    assert [version for version, _ in keys.keys] == [2, 1]
    assert len(state) == 6
    assert state.undecryptable_counts() == {}
