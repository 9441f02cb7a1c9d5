# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""KEK rotation after an operator lost access: no old copy remains, nothing new leaks."""

from __future__ import annotations

import json

import pytest
from keyrot_helpers import (
    ANN,
    BOB,
    CY,
    RecordingMailer,
    make_flows,
    only_account,
    session_for,
    setup,
    visit,
)

from offen_core.crypto import (
    PrivateKey,
    decrypt_asymmetric,
    decrypt_symmetric,
    derive_key,
    hash_fast,
)
from offen_core.errors import InvalidCredentialsError, InvalidInputError, OffenError
from offen_core.operator import Operator, StoreSource
from offen_core.server import VisitorFlows
from offen_core.server.operators import Operators
from offen_core.storage import Store
from offen_core.testing import KeyPairPool

ANN_CREDENTIALS = {"emailAddress": ANN[0], "password": ANN[1]}


def _kek(flows: Operators, who: tuple[str, str], account_id: str) -> bytes | None:
    entry = flows.login({"username": who[0], "password": who[1]}).account(account_id)
    return None if entry is None else entry.key_encryption_key


def _private_keys(store: Store, account_id: str, kek: bytes) -> list[PrivateKey]:
    """What someone holding ``kek`` can open of the account's stored private keys."""
    wrapped = [key.encrypted_private_key for key in store.account_keys(account_id)]
    wrapped.append(store.get_account(account_id).encrypted_private_key)
    opened = []
    for cipher in wrapped:
        try:
            opened.append(PrivateKey.from_jwk(json.loads(decrypt_symmetric(kek, cipher))))
        except OffenError:
            continue
    return opened


def _team(flows: Operators, mailer: RecordingMailer) -> str:
    """Ann set up the instance; Bob and Cy joined her account."""
    setup(flows)
    session = session_for(flows, ANN)
    for who in (BOB, CY):
        flows.share_account(session, {"invitee": who[0], **ANN_CREDENTIALS})
        flows.join({"emailAddress": who[0], "password": who[1], "token": mailer.token()})
    return only_account(flows, ANN)


@pytest.mark.parametrize("recovery_mode", [False, True], ids=["offen-default", "recovery-keys"])
def test_after_a_kek_rotation_no_old_copy_remains_and_a_removed_operator_reads_nothing_new(
    store: Store,
    pool: KeyPairPool,
    mailer: RecordingMailer,
    visitors: VisitorFlows,
    recovery_mode: bool,
) -> None:
    flows = make_flows(store, pool, mailer, recovery_mode=recovery_mode)
    account_id = _team(flows, mailer)
    old_kek = _kek(flows, BOB, account_id)
    assert old_kek is not None
    bob_id = flows.login({"username": BOB[0], "password": BOB[1]}).account_user_id
    bobs_keys = _private_keys(store, account_id, old_kek)  # what Bob could keep
    before = visit(visitors, account_id, 2)

    result = flows.rotate_kek(
        session_for(flows, ANN), account_id, {**ANN_CREDENTIALS, "invitees": [CY[0]]}
    )

    assert (result.status, result.invited, result.removed) == (200, 1, 2)
    new_kek = _kek(flows, ANN, account_id)
    assert new_kek is not None
    assert new_kek != old_kek
    # No copy of the old KEK is left, and it opens no stored private key.
    assert _private_keys(store, account_id, old_kek) == []
    opened = _private_keys(store, account_id, new_kek)  # accounts + both kept versions
    assert len(opened) == 3
    assert len({key.public_key().to_jwk()["n"] for key in opened}) == 2
    for user in store.list_account_users():
        salt_keys = [derive_key(secret, user.salt) for secret in (*ANN, *BOB, *CY)]
        for item in store.relationships_for_user(user.account_user_id, include_pending=True):
            assert (item.account_user_id, item.account_id) != (bob_id, account_id)
            for cipher in (
                item.password_encrypted_key_encryption_key,
                item.email_encrypted_key_encryption_key,
                item.one_time_encrypted_key_encryption_key,
            ):
                for key in salt_keys:
                    try:
                        assert decrypt_symmetric(key, cipher) != old_kek
                    except OffenError:
                        continue
    assert _kek(flows, BOB, account_id) is None

    # Bob, with everything he could keep, opens no secret written after the rotation.
    after = visit(visitors, account_id, 2, first=10)
    account = store.get_account(account_id)
    new_secret = store.get_secret(hash_fast(after.user_id, account.user_salt))
    for key in bobs_keys:
        with pytest.raises(OffenError):
            decrypt_asymmetric(key, new_secret)

    # Ann reads everything, old and new; Cy does once he accepts the new invitation.
    login = flows.login({"username": ANN[0], "password": ANN[1]})
    with Operator(login, workers=1) as operator:
        state = operator.sync(StoreSource(store, account_id))
    assert state.undecryptable() == []
    assert {event.event_id for event in state.events()} == {*before.event_ids, *after.event_ids}
    assert _kek(flows, CY, account_id) in (None, new_kek)
    if recovery_mode:
        assert _kek(flows, CY, account_id) is None  # accepted through the link only
        flows.join({"emailAddress": CY[0], "password": CY[1], "token": mailer.token()})
    assert _kek(flows, CY, account_id) == new_kek


def test_the_rotating_operators_recovery_copy_holds_the_new_kek(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer
) -> None:
    flows = make_flows(store, pool, mailer, recovery_mode=True)
    recovery_key = setup(flows).body()["recoveryKey"]
    account_id = only_account(flows, ANN)
    flows.rotate_kek(session_for(flows, ANN), account_id, ANN_CREDENTIALS)
    new_kek = _kek(flows, ANN, account_id)

    flows.recover(
        {"emailAddress": ANN[0], "recoveryKey": recovery_key, "password": "after the rotation"}
    )

    assert _kek(flows, (ANN[0], "after the rotation"), account_id) == new_kek


def test_a_kek_rotation_checks_its_input_before_writing(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer
) -> None:
    flows = make_flows(store, pool, mailer)
    setup(flows)
    account_id = only_account(flows, ANN)
    session = session_for(flows, ANN)
    account = store.get_account(account_id)

    with pytest.raises(InvalidInputError):
        flows.rotate_kek(session, account_id, {**ANN_CREDENTIALS, "invitees": [ANN[0]]})
    with pytest.raises(InvalidInputError):
        flows.rotate_kek(session, account_id, {**ANN_CREDENTIALS, "invitees": "cy@example.org"})
    with pytest.raises(InvalidInputError):
        flows.rotate_kek(session, account_id, {**ANN_CREDENTIALS, "invitees": ["not an address"]})
    with pytest.raises(InvalidCredentialsError):
        flows.rotate_kek(session, account_id, {**ANN_CREDENTIALS, "password": "wrong one"})

    assert store.get_account(account_id) == account
    assert _kek(flows, ANN, account_id) is not None
