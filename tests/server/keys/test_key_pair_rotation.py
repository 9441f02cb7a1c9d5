# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Key-pair rotation: a new current pair, the old ones kept, every event still decrypts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from keyrot_helpers import (
    ANN,
    RecordingMailer,
    make_flows,
    only_account,
    session_for,
    setup,
    transport,
    visit,
)

from offen_core.client.http import OffenClient
from offen_core.crypto import parse_cipher_string
from offen_core.errors import ConflictError, ForbiddenError, InvalidCredentialsError
from offen_core.operator import HttpSource, Operator, StoreSource
from offen_core.server import VisitorFlows
from offen_core.server.keys import current_key_version
from offen_core.server.operators import Operators
from offen_core.storage import Store, account_keys
from offen_core.testing import KeyPairPool

CREDENTIALS = {"emailAddress": ANN[0], "password": ANN[1]}


def _decrypted(flows: Operators, store: Store, account_id: str) -> dict[str, int]:
    login = flows.login({"username": ANN[0], "password": ANN[1]})
    with Operator(login, workers=1) as operator:
        state = operator.sync(StoreSource(store, account_id))
        assert state.undecryptable() == []
        return {event.event_id: _number(event.payload.href) for event in state.events()}


def _number(href: Any) -> int:
    return int(str(href).rsplit("/", 1)[1])


def _stamp(store: Store, visitor_user_id: str, account_id: str) -> int | None:
    from offen_core.crypto import hash_fast

    account = store.get_account(account_id)
    return parse_cipher_string(
        store.get_secret(hash_fast(visitor_user_id, account.user_salt))
    ).key_version


def test_every_event_of_every_key_version_decrypts_after_rotations(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, visitors: VisitorFlows
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    session = session_for(flows, ANN)
    first_public = dict(visitors.public_key(account_id).public_key)
    before = visit(visitors, account_id, 3, first=0)

    rotated = flows.rotate_key_pair(session, account_id, CREDENTIALS)
    assert rotated.status == 200
    assert rotated.body()["keyVersion"] == 2
    second_public = dict(visitors.public_key(account_id).public_key)
    assert second_public != first_public
    after = visit(visitors, account_id, 2, first=10)
    # A client that fetched the public key just before the rotation posts after it.
    late = visit(visitors, account_id, 2, first=20, public_key=first_public)

    assert flows.rotate_key_pair(session, account_id, CREDENTIALS).key_version == 3
    third = visit(visitors, account_id, 1, first=30)

    assert _stamp(store, before.user_id, account_id) == 1
    assert _stamp(store, after.user_id, account_id) == 2
    assert _stamp(store, late.user_id, account_id) == 2  # stamped current, opened by an older
    assert _stamp(store, third.user_id, account_id) == 3
    numbers = _decrypted(flows, store, account_id)
    expected = {
        **dict.fromkeys(before.event_ids),
        **dict.fromkeys(after.event_ids),
        **dict.fromkeys(late.event_ids),
        **dict.fromkeys(third.event_ids),
    }
    assert set(numbers) == set(expected)
    assert sorted(numbers.values()) == [0, 1, 2, 10, 11, 20, 21, 30]

    view = flows.account_view(session, account_id).body()
    assert [key["keyVersion"] for key in view["keys"]] == [1, 2]
    assert view["publicKey"] != first_public
    assert view["publicKey"] != second_public
    assert {json.dumps(key["publicKey"], sort_keys=True) for key in view["keys"]} == {
        json.dumps(first_public, sort_keys=True),
        json.dumps(second_public, sort_keys=True),
    }


def test_the_http_client_reads_every_key_version_from_the_account_view(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, visitors: VisitorFlows
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    old_public = dict(visitors.public_key(account_id).public_key)
    early = visit(visitors, account_id, 2)
    flows.rotate_key_pair(session_for(flows, ANN), account_id, CREDENTIALS)
    late = visit(visitors, account_id, 2, first=5, public_key=old_public)
    fresh = visit(visitors, account_id, 2, first=7)

    with OffenClient("http://testserver", transport=transport(flows)) as client:
        login = client.login(*ANN)
        with Operator(login, workers=1) as operator:
            state = operator.sync(HttpSource(client, account_id))
    assert state.undecryptable() == []
    assert {event.event_id for event in state.events()} == {
        *early.event_ids,
        *late.event_ids,
        *fresh.event_ids,
    }


def test_an_account_adopted_from_offen_keeps_its_pair_as_version_1_when_rotated(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, visitors: VisitorFlows
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    with store.engine.begin() as connection:  # Offen's databases have no account_keys rows
        connection.execute(account_keys.delete())
    offen_visitor = visit(visitors, account_id, 2)
    assert _stamp(store, offen_visitor.user_id, account_id) is None
    assert current_key_version(store, store.get_account(account_id)) is None

    result = flows.rotate_key_pair(session_for(flows, ANN), account_id, CREDENTIALS)

    assert result.key_version == 2
    kept = store.account_keys(account_id)
    assert [key.key_version for key in kept] == [1, 2]
    assert current_key_version(store, store.get_account(account_id)) == 2
    newer = visit(visitors, account_id, 1, first=9)
    assert sorted(_decrypted(flows, store, account_id).values()) == [0, 1, 9]
    assert _stamp(store, newer.user_id, account_id) == 2


def test_a_rotation_needs_the_operators_own_credentials_and_access(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    session = session_for(flows, ANN)
    before = store.get_account(account_id)

    with pytest.raises(InvalidCredentialsError):
        flows.rotate_key_pair(session, account_id, {**CREDENTIALS, "password": "not the one"})
    with pytest.raises(ForbiddenError):
        flows.rotate_key_pair(session, "6f4d8a52-5b8c-4c8e-9a0e-3c2b1a0f9e8d", CREDENTIALS)
    not_admin = type(session)(session.account_user_id, 0, session.account_ids)
    with pytest.raises(ForbiddenError):
        flows.rotate_key_pair(not_admin, account_id, CREDENTIALS)

    assert store.get_account(account_id) == before
    assert [key.key_version for key in store.account_keys(account_id)] == [1]


def test_a_factory_that_repeats_a_pair_the_account_had_is_refused(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer
) -> None:
    pairs = pool.pairs
    flows = make_flows(store, lambda: pairs[0], mailer)
    setup(flows)
    account_id = only_account(flows, ANN)

    with pytest.raises(ConflictError):
        flows.rotate_key_pair(session_for(flows, ANN), account_id, CREDENTIALS)

    assert [key.key_version for key in store.account_keys(account_id)] == [1]


def test_the_visitor_flows_hand_out_the_new_public_key(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, visitors: VisitorFlows
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    flows.rotate_key_pair(session_for(flows, ANN), account_id, CREDENTIALS)

    current = store.get_account(account_id)
    assert json.loads(current.public_key) == dict(visitors.public_key(account_id).public_key)
    assert store.account_keys(account_id)[-1].public_key == current.public_key


def test_offen_reads_a_rotated_account_through_its_own_columns(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer
) -> None:
    # Offen reads only `accounts` and the relationship: the KEK it unwraps must open the
    # current private key there, in Offen's cipher format (no key version on it).
    from offen_core.crypto import PrivateKey, decrypt_symmetric, derive_key

    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    flows.rotate_key_pair(session_for(flows, ANN), account_id, CREDENTIALS)

    user = store.list_account_users()[0]
    (relationship,) = store.relationships_for_user(user.account_user_id)
    kek = decrypt_symmetric(
        derive_key(ANN[1], user.salt), relationship.password_encrypted_key_encryption_key
    )
    account = store.get_account(account_id)
    assert account.encrypted_private_key.startswith("{1,} ")
    private = PrivateKey.from_jwk(json.loads(decrypt_symmetric(kek, account.encrypted_private_key)))
    assert private.public_key().to_jwk() == json.loads(account.public_key)


def test_an_operator_session_reads_the_keys_again_after_a_rotation_during_it(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, visitors: VisitorFlows
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    early = visit(visitors, account_id, 2)
    login = flows.login({"username": ANN[0], "password": ANN[1]})
    source = StoreSource(store, account_id)

    with Operator(login, workers=1) as operator:
        state = operator.sync(source)
        flows.rotate_key_pair(session_for(flows, ANN), account_id, CREDENTIALS)
        late = visit(visitors, account_id, 2, first=5)
        assert _stamp(store, late.user_id, account_id) == 2
        operator.sync(source, state)
        # The keys read again stay for the session: a third visitor costs no further read.
        reads = 0
        header = source.header

        def counted() -> Any:
            nonlocal reads
            reads += 1
            return header()

        source.header = counted  # type: ignore[method-assign]
        later = visit(visitors, account_id, 1, first=9)
        operator.sync(source, state)

    assert state.undecryptable() == []
    assert {event.event_id for event in state.events()} == {
        *early.event_ids,
        *late.event_ids,
        *later.event_ids,
    }
    assert reads == 0


def test_a_session_whose_kek_was_rotated_counts_the_new_secrets_and_goes_on(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, visitors: VisitorFlows
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    early = visit(visitors, account_id, 2)
    login = flows.login({"username": ANN[0], "password": ANN[1]})
    source = StoreSource(store, account_id)

    with Operator(login, workers=1) as operator:
        state = operator.sync(source)
        # A KEK rotation also makes a new key pair, wrapped under a KEK this login lacks.
        flows.rotate_kek(session_for(flows, ANN), account_id, CREDENTIALS)
        late = visit(visitors, account_id, 2, first=5)
        operator.sync(source, state)

    assert {event.event_id for event in state.events()} == set(early.event_ids)
    assert {failure.event_id for failure in state.undecryptable()} == set(late.event_ids)
    assert {str(failure.reason) for failure in state.undecryptable()} == {"bad_secret"}
