# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Recovery-key mode: setup, invitations, POST /api/recover, new recovery keys."""

from __future__ import annotations

import base64
from typing import Any

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
)

from offen_core.crypto import decrypt_symmetric, derive_key
from offen_core.errors import (
    InvalidCredentialsError,
    InvalidInputError,
    InvalidTokenError,
    NotFoundError,
    OffenError,
    PasswordPolicyError,
)
from offen_core.server import ROUTE_THROTTLES, Route, status_for
from offen_core.server.operators import Operators
from offen_core.server.recovery import format_recovery_key, parse_recovery_key
from offen_core.storage import Relationship, Store
from offen_core.testing import KeyPairPool

NEW_PASSWORD = "a brand new password"


def _kek(flows: Operators, who: tuple[str, str], account_id: str) -> bytes:
    login = flows.login({"username": who[0], "password": who[1]})
    entry = login.account(account_id)
    assert entry is not None
    assert entry.key_encryption_key is not None
    return entry.key_encryption_key


def _relationships(store: Store) -> list[Relationship]:
    found: list[Relationship] = []
    for user in store.list_account_users():
        found += store.relationships_for_user(user.account_user_id, include_pending=True)
    return found


def _recover(flows: Operators, email: str, key: str, password: str = NEW_PASSWORD) -> Any:
    return flows.recover({"emailAddress": email, "recoveryKey": key, "password": password})


@pytest.fixture
def flows(store: Store, pool: KeyPairPool, mailer: RecordingMailer) -> Operators:
    """Operator flows in recovery-key mode."""
    return make_flows(store, pool, mailer, recovery_mode=True)


def test_setup_shows_a_recovery_key_once_and_writes_no_email_copy(
    flows: Operators, store: Store
) -> None:
    result = setup(flows)

    assert result.status == 200
    key = parse_recovery_key(result.body()["recoveryKey"])
    assert key.hex() not in repr(result)
    (user,) = store.list_account_users()
    assert user.recovery_public_key
    assert user.recovery_encrypted_private_key
    (relationship,) = _relationships(store)
    assert relationship.email_encrypted_key_encryption_key == ""
    assert relationship.recovery_encrypted_key_encryption_key


def test_recover_sets_a_new_password_with_the_key_and_fails_without_it(
    flows: Operators, store: Store
) -> None:
    recovery_key = setup(flows).body()["recoveryKey"]
    account_id = only_account(flows, ANN)
    kek = _kek(flows, ANN, account_id)
    old_token = flows.login({"username": ANN[0], "password": ANN[1]}).token
    other_key = format_recovery_key(b"\x07" * 32)

    with pytest.raises(InvalidCredentialsError):
        _recover(flows, ANN[0], other_key)
    with pytest.raises(InvalidCredentialsError):
        _recover(flows, "nobody@example.org", recovery_key)
    with pytest.raises(InvalidInputError) as malformed:
        _recover(flows, ANN[0], recovery_key[:-1] + ("A" if recovery_key[-1] != "A" else "B"))
    assert malformed.value.field == "recoveryKey"
    with pytest.raises(PasswordPolicyError):
        _recover(flows, ANN[0], recovery_key, "short")
    with pytest.raises(InvalidInputError):
        flows.recover({"emailAddress": ANN[0], "password": NEW_PASSWORD})
    assert flows.login({"username": ANN[0], "password": ANN[1]}).accounts  # nothing changed

    result = _recover(flows, " ANN@example.org ", recovery_key.lower())

    assert result.status == 204
    assert [cookie.cleared for cookie in result.cookies] == [True]
    with pytest.raises(InvalidCredentialsError):
        flows.login({"username": ANN[0], "password": ANN[1]})
    assert _kek(flows, (ANN[0], NEW_PASSWORD), account_id) == kek
    with pytest.raises(InvalidTokenError):
        flows.authenticate(old_token)
    # The recovery key stays valid for the next time.
    _recover(flows, ANN[0], recovery_key, "yet another password")
    assert _kek(flows, (ANN[0], "yet another password"), account_id) == kek


def test_recover_answers_the_designs_statuses_and_is_throttled_like_login(
    flows: Operators,
) -> None:
    recovery_key = setup(flows).body()["recoveryKey"]
    spec = ROUTE_THROTTLES[Route.RECOVER]
    assert spec is not None
    assert spec.login_guard
    errors: list[OffenError] = []
    for body in (
        {"emailAddress": ANN[0], "recoveryKey": recovery_key},
        {"emailAddress": ANN[0], "recoveryKey": "nope", "password": NEW_PASSWORD},
        {"emailAddress": ANN[0], "recoveryKey": recovery_key, "password": "short"},
        {"emailAddress": BOB[0], "recoveryKey": recovery_key, "password": NEW_PASSWORD},
    ):
        with pytest.raises(OffenError) as caught:
            flows.recover(body)
        errors.append(caught.value)
    assert [status_for(error, Route.RECOVER) for error in errors] == [400, 400, 400, 401]


def test_recovery_routes_are_off_by_default_and_reset_by_mail_is_off_in_recovery_mode(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, flows: Operators
) -> None:
    default = make_flows(store, pool, mailer)
    setup(default)
    session = session_for(default, ANN)
    with pytest.raises(NotFoundError):
        _recover(default, ANN[0], format_recovery_key(b"\x01" * 32))
    with pytest.raises(NotFoundError):
        default.new_recovery_key(session, {"password": ANN[1]})
    with pytest.raises(NotFoundError):
        flows.forgot_password({"emailAddress": ANN[0]})
    with pytest.raises(NotFoundError):
        flows.reset_password({"emailAddress": ANN[0], "password": NEW_PASSWORD, "token": "x"})
    assert mailer.sent == []


def test_an_invitation_carries_its_kek_under_a_one_time_key_in_the_token(
    flows: Operators, store: Store, mailer: RecordingMailer
) -> None:
    setup(flows)
    account_id = only_account(flows, ANN)
    kek = _kek(flows, ANN, account_id)
    session = session_for(flows, ANN)
    flows.share_account(session, {"invitee": BOB[0], "emailAddress": ANN[0], "password": ANN[1]})

    token = mailer.token()
    claims = flows.tokens.read_invite(token)
    assert claims.one_time_key is not None
    pending = next(item for item in _relationships(store) if item.pending)
    assert pending.email_encrypted_key_encryption_key == ""
    one_time = base64.b64decode(claims.one_time_key)
    assert decrypt_symmetric(one_time, pending.one_time_encrypted_key_encryption_key) == kek

    joined = flows.join({"emailAddress": BOB[0], "password": BOB[1], "token": token})

    assert joined.status == 200
    bob_key = joined.body()["recoveryKey"]
    assert _kek(flows, BOB, account_id) == kek
    accepted = next(
        item for item in _relationships(store) if item.account_user_id == pending.account_user_id
    )
    assert accepted.one_time_encrypted_key_encryption_key == ""
    assert accepted.email_encrypted_key_encryption_key == ""
    assert accepted.recovery_encrypted_key_encryption_key
    with pytest.raises(InvalidTokenError):
        flows.join({"emailAddress": BOB[0], "password": BOB[1], "token": token})
    _recover(flows, BOB[0], bob_key)
    assert _kek(flows, (BOB[0], NEW_PASSWORD), account_id) == kek


def test_an_operator_with_a_password_accepts_an_invitation_with_it(
    flows: Operators, mailer: RecordingMailer
) -> None:
    setup(flows)
    session = session_for(flows, ANN)
    credentials = {"emailAddress": ANN[0], "password": ANN[1]}
    flows.share_account(session, {"invitee": BOB[0], **credentials})
    flows.join({"emailAddress": BOB[0], "password": BOB[1], "token": mailer.token()})
    flows.create_account(session, {"accountName": "Second", **credentials})
    session = session_for(flows, ANN)
    second = next(
        entry.account_id
        for entry in flows.login({"username": ANN[0], "password": ANN[1]}).accounts
        if entry.account_name == "Second"
    )

    flows.share_account(session, {"invitee": BOB[0], **credentials}, second)

    token = mailer.token()
    assert "confirm with your password" in mailer.sent[-1].body
    assert len(flows.login({"username": BOB[0], "password": BOB[1]}).accounts) == 1
    with pytest.raises(InvalidInputError):
        flows.join({"emailAddress": BOB[0], "password": "not bob's password", "token": token})
    result = flows.join({"emailAddress": BOB[0], "password": BOB[1], "token": token})
    assert result.status == 204  # Bob keeps the recovery key he has
    assert _kek(flows, BOB, second) == _kek(flows, ANN, second)


def test_a_new_recovery_key_rewraps_every_copy_and_the_old_key_stops_working(
    flows: Operators, store: Store
) -> None:
    old_key = setup(flows).body()["recoveryKey"]
    account_id = only_account(flows, ANN)
    kek = _kek(flows, ANN, account_id)
    session = session_for(flows, ANN)

    with pytest.raises(InvalidCredentialsError):
        flows.new_recovery_key(session, {"password": "wrong password"})
    result = flows.new_recovery_key(session, {"password": ANN[1]})

    assert result.status == 200
    new_key = result.body()["recoveryKey"]
    assert new_key != old_key
    with pytest.raises(InvalidCredentialsError):
        _recover(flows, ANN[0], old_key)
    _recover(flows, ANN[0], new_key)
    assert _kek(flows, (ANN[0], NEW_PASSWORD), account_id) == kek


def test_a_database_copy_gives_nothing_to_someone_who_knows_every_email_and_hash(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer, flows: Operators
) -> None:
    # The same instance in both modes: Offen's default leaks the KEK to the email key, the
    # recovery mode leaks nothing to it (nor to keys made from the stored hashes).
    def attack() -> set[bytes]:
        emails = {ANN[0], BOB[0], CY[0]}
        opened: set[bytes] = set()
        for user in store.list_account_users():
            candidates = [*emails, user.hashed_email, user.hashed_password]
            keys = [derive_key(candidate, user.salt) for candidate in candidates if candidate]
            for item in store.relationships_for_user(user.account_user_id, include_pending=True):
                for cipher in (
                    item.password_encrypted_key_encryption_key,
                    item.email_encrypted_key_encryption_key,
                    item.one_time_encrypted_key_encryption_key,
                ):
                    for key in keys:
                        try:
                            opened.add(decrypt_symmetric(key, cipher))
                        except OffenError:
                            continue
        return opened

    def instance(operators: Operators) -> bytes:
        setup(operators)
        session = session_for(operators, ANN)
        credentials = {"emailAddress": ANN[0], "password": ANN[1]}
        operators.share_account(session, {"invitee": BOB[0], **credentials})
        operators.join({"emailAddress": BOB[0], "password": BOB[1], "token": mailer.token()})
        operators.share_account(session, {"invitee": CY[0], **credentials})  # stays pending
        return _kek(operators, ANN, only_account(operators, ANN))

    kek = instance(flows)
    assert attack() == set()

    from keyrot_helpers import empty_tables

    empty_tables(store)
    default_kek = instance(make_flows(store, pool, mailer))
    assert attack() == {default_kek}
    assert kek != default_kek


def test_a_login_gives_a_grant_written_without_a_recovery_copy_one(
    flows: Operators, store: Store
) -> None:
    recovery_key = setup(flows).body()["recoveryKey"]
    account_id = only_account(flows, ANN)
    (relationship,) = _relationships(store)
    # As Offen's own server would write it: no recovery copy.
    store.update_relationship(
        Relationship(
            relationship.relationship_id,
            relationship.account_user_id,
            relationship.account_id,
            relationship.password_encrypted_key_encryption_key,
        )
    )
    kek = _kek(flows, ANN, account_id)  # this login seals the copy again

    (restored,) = _relationships(store)
    assert restored.recovery_encrypted_key_encryption_key
    _recover(flows, ANN[0], recovery_key)
    assert _kek(flows, (ANN[0], NEW_PASSWORD), account_id) == kek


def test_the_default_mode_writes_what_offen_writes_and_nothing_of_recovery(
    store: Store, pool: KeyPairPool, mailer: RecordingMailer
) -> None:
    default = make_flows(store, pool, mailer)
    assert setup(default).status == 204
    session = session_for(default, ANN)
    default.share_account(session, {"invitee": BOB[0], "emailAddress": ANN[0], "password": ANN[1]})
    token = mailer.token()
    assert default.tokens.read_invite(token).one_time_key is None
    assert default.join({"emailAddress": BOB[0], "password": BOB[1], "token": token}).status == 204

    for user in store.list_account_users():
        assert user.recovery_public_key is None
        assert user.recovery_encrypted_private_key is None
        for item in store.relationships_for_user(user.account_user_id, include_pending=True):
            assert item.recovery_encrypted_key_encryption_key is None
            assert item.one_time_encrypted_key_encryption_key == ""
            assert item.email_encrypted_key_encryption_key.startswith("{1,} ")
    email_keys = {
        derive_key(who[0], user.salt) for user in store.list_account_users() for who in (ANN, BOB)
    }
    opened = set()
    for item in _relationships(store):
        for key in email_keys:
            try:
                opened.add(decrypt_symmetric(key, item.email_encrypted_key_encryption_key))
            except OffenError:
                continue
    assert opened == {_kek(default, ANN, only_account(default, ANN))}
