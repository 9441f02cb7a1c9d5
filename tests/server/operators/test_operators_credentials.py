# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Changing password and email, forgetting and resetting the password by one-time key."""

from __future__ import annotations

from pathlib import Path

import pytest
from operator_helpers import (
    BASE_URL,
    SECRET,
    Argon2Counter,
    Credentials,
    RecordingMailer,
    seed,
    session_for,
)

from offen_core.crypto import KeyPair, decrypt_symmetric, derive_key, verify_password
from offen_core.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidInputError,
    InvalidTokenError,
    PasswordPolicyError,
)
from offen_core.server import Route, ServerConfig, status_for
from offen_core.server._email import email_lookup
from offen_core.server.mail import MailDeliveryError, OutboxMailer
from offen_core.server.operators import Operators
from offen_core.server.tokens import RESET_TOKEN_LIFETIME
from offen_core.storage import Store
from offen_core.testing import FakeClock, KeyPairPool


def _rows(store: Store) -> tuple[object, ...]:
    users = store.list_account_users()
    return tuple(users) + tuple(
        item
        for user in users
        for item in store.relationships_for_user(user.account_user_id, include_pending=True)
    )


# --- change password ----------------------------------------------------------------------


def test_changing_the_password_rewraps_keys_and_ends_old_logins(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair, argon2: Argon2Counter
) -> None:
    seeded = seed(store, ann, pair, ("Site",))
    old_token = flows.login({"username": ann.email, "password": ann.password}).token
    session = flows.authenticate(old_token)
    argon2.reset()

    result = flows.change_password(
        session, {"currentPassword": ann.password, "changedPassword": "a new password"}
    )
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 2, "hash_password": 1}
    (cleared,) = result.cookies
    assert (result.status, cleared.name, cleared.cleared) == (204, "auth", True)
    with pytest.raises(InvalidTokenError):
        flows.authenticate(old_token)
    with pytest.raises(InvalidCredentialsError):
        flows.login({"username": ann.email, "password": ann.password})
    login = flows.login({"username": ann.email, "password": "a new password"})
    assert [entry.key_encryption_key for entry in login.accounts] == list(seeded.keks.values())
    # The email-wrapped copy is untouched.
    (relationship,) = store.relationships_for_user(seeded.user.account_user_id)
    assert decrypt_symmetric(
        ann.email_key, relationship.email_encrypted_key_encryption_key
    ) == next(iter(seeded.keks.values()))


def test_changing_the_password_is_refused_and_changes_nothing(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair
) -> None:
    seed(store, ann, pair, ("Site",))
    session = session_for(flows, ann)
    before = _rows(store)
    cases: list[tuple[object, type[Exception], int]] = [
        ({"currentPassword": ann.password}, InvalidInputError, 400),
        ({"currentPassword": ann.password, "changedPassword": "short"}, PasswordPolicyError, 400),
        (
            {"currentPassword": "wrong password", "changedPassword": "a new password"},
            InvalidCredentialsError,
            401,
        ),
        (b"{", InvalidInputError, 400),
    ]
    for body, error, status in cases:
        with pytest.raises(error) as refused:
            flows.change_password(session, body)
        assert status_for(refused.value, Route.CHANGE_PASSWORD) == status  # type: ignore[arg-type]
    assert _rows(store) == before


# --- change email -------------------------------------------------------------------------


def test_changing_the_email_rewraps_the_email_keys(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair
) -> None:
    seeded = seed(store, ann, pair, ("Site",))
    old_token = flows.login({"username": ann.email, "password": ann.password}).token
    session = flows.authenticate(old_token)

    result = flows.change_email(
        session,
        {
            "emailAddress": " Ann.New@Example.org",
            "emailCurrent": ann.email,
            "password": ann.password,
        },
    )
    assert result.status == 204
    assert result.cookies[0].cleared
    user = store.get_account_user(seeded.user.account_user_id)
    assert user.email_lookup == email_lookup(SECRET, "ann.new@example.org")
    assert verify_password("ann.new@example.org", user.hashed_email)
    (relationship,) = store.relationships_for_user(user.account_user_id)
    assert decrypt_symmetric(
        derive_key("ann.new@example.org", user.salt),
        relationship.email_encrypted_key_encryption_key,
    ) == next(iter(seeded.keks.values()))

    with pytest.raises(InvalidCredentialsError):
        flows.login({"username": ann.email, "password": ann.password})
    assert (
        len(flows.login({"username": "ann.new@example.org", "password": ann.password}).accounts)
        == 1
    )


def test_changing_the_email_is_refused_and_changes_nothing(
    flows: Operators, store: Store, ann: Credentials, bob: Credentials, pair: KeyPair
) -> None:
    seed(store, ann, pair, ("Site",))
    seed(store, bob, pair, ())
    session = session_for(flows, ann)
    before = _rows(store)
    good = {
        "emailAddress": "fresh@example.org",
        "emailCurrent": ann.email,
        "password": ann.password,
    }
    cases: list[tuple[object, type[Exception], int]] = [
        ({**good, "emailAddress": "nope"}, InvalidInputError, 400),
        ({**good, "emailAddress": "ANN@example.org"}, InvalidInputError, 400),
        ({**good, "emailCurrent": bob.email}, InvalidCredentialsError, 401),
        ({**good, "password": "wrong password"}, InvalidCredentialsError, 401),
        ({**good, "emailAddress": " BOB@example.org"}, ConflictError, 409),
    ]
    for body, error, status in cases:
        with pytest.raises(error) as refused:
            flows.change_email(session, body)
        assert status_for(refused.value, Route.CHANGE_EMAIL) == status  # type: ignore[arg-type]
        assert not any(name in str(refused.value) for name in ("ann@", "bob@", "fresh@", "BOB@"))
    assert _rows(store) == before


# --- forgot and reset ---------------------------------------------------------------------


def test_a_forgotten_password_is_reset_with_the_one_time_key(
    flows: Operators,
    store: Store,
    ann: Credentials,
    pair: KeyPair,
    mailer: RecordingMailer,
    argon2: Argon2Counter,
) -> None:
    seeded = seed(store, ann, pair, ("Site A", "Site B"))
    old_token = flows.login({"username": ann.email, "password": ann.password}).token
    argon2.reset()

    assert (
        flows.forgot_password(
            {"emailAddress": "ANN@example.org", "urlTemplate": "https://evil/{token}"}
        ).status
        == 204
    )
    assert argon2.as_dict() == {"derive_key": 1}
    (message,) = mailer.sent
    assert message.to == ann.email
    assert f"{BASE_URL}/reset-password/" in message.body
    assert "evil" not in message.body
    relationships = store.relationships_for_user(seeded.user.account_user_id)
    assert all(item.one_time_encrypted_key_encryption_key for item in relationships)

    argon2.reset()
    flows.reset_password(
        {"emailAddress": ann.email, "password": "brand new pass", "token": mailer.token()}
    )
    assert argon2.as_dict() == {"derive_key": 1, "hash_password": 1}
    assert all(
        not item.one_time_encrypted_key_encryption_key
        for item in store.relationships_for_user(seeded.user.account_user_id)
    )
    login = flows.login({"username": ann.email, "password": "brand new pass"})
    assert {entry.account_id: entry.key_encryption_key for entry in login.accounts} == seeded.keks
    with pytest.raises(InvalidTokenError):
        flows.authenticate(old_token)

    # The link is spent once used.
    with pytest.raises(InvalidTokenError) as again:
        flows.reset_password(
            {"emailAddress": ann.email, "password": "another pass", "token": mailer.token()}
        )
    assert status_for(again.value, Route.RESET_PASSWORD) == 400


def test_forgot_password_answers_alike_for_unknown_addresses_and_failed_mail(
    flows: Operators,
    store: Store,
    ann: Credentials,
    pair: KeyPair,
    mailer: RecordingMailer,
    argon2: Argon2Counter,
) -> None:
    seed(store, ann, pair, ("Site",))
    flows.forgot_password({"emailAddress": "nobody@example.org"})  # makes the dummy record
    argon2.reset()
    before = _rows(store)
    assert flows.forgot_password({"emailAddress": "nobody@example.org"}).status == 204
    assert argon2.as_dict() == {"derive_key": 1}
    assert mailer.sent == []
    assert _rows(store) == before

    mailer.fail = True
    assert flows.forgot_password({"emailAddress": ann.email}).status == 204

    with pytest.raises(InvalidInputError) as refused:
        flows.forgot_password({"emailAddress": 42})
    assert status_for(refused.value, Route.FORGOT_PASSWORD) == 400


def test_forgot_password_without_a_base_url_fails_for_every_address(
    store: Store, ann: Credentials, pair: KeyPair, pool: KeyPairPool
) -> None:
    seed(store, ann, pair, ("Site",))
    flows = Operators(store, ServerConfig(SECRET), mailer=RecordingMailer(), key_pair_factory=pool)
    for address in (ann.email, "nobody@example.org"):
        with pytest.raises(MailDeliveryError) as refused:
            flows.forgot_password({"emailAddress": address})
        assert status_for(refused.value, Route.FORGOT_PASSWORD) == 500


def test_reset_refuses_bad_tokens_addresses_and_passwords(
    flows: Operators,
    store: Store,
    ann: Credentials,
    pair: KeyPair,
    mailer: RecordingMailer,
    clock: FakeClock,
) -> None:
    seed(store, ann, pair, ("Site",))
    flows.forgot_password({"emailAddress": ann.email})
    token = mailer.token()
    claims = flows.tokens.read_reset(token)
    before = _rows(store)

    good = {"emailAddress": ann.email, "password": "brand new pass", "token": token}
    forged_key = flows.tokens.issue_reset(
        ann.email, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", claims.stamp
    )
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        ({**good, "token": flows.tokens.issue_invite(ann.email)}, InvalidTokenError),
        ({**good, "token": flows.tokens.issue_auth("x", claims.stamp)}, InvalidTokenError),
        ({**good, "token": token + "x"}, InvalidTokenError),
        ({**good, "token": forged_key}, InvalidTokenError),
        ({**good, "emailAddress": "bob@example.org"}, InvalidTokenError),
        ({**good, "password": "short"}, PasswordPolicyError),
        ({"emailAddress": ann.email, "token": token}, InvalidInputError),
    ]
    for body, error in cases:
        with pytest.raises(error) as refused:
            flows.reset_password(body)
        assert status_for(refused.value, Route.RESET_PASSWORD) == 400  # type: ignore[arg-type]
    assert _rows(store) == before

    clock.advance(RESET_TOKEN_LIFETIME.total_seconds() + 1)
    with pytest.raises(InvalidTokenError, match="expired"):
        flows.reset_password(good)
    assert _rows(store) == before


def test_the_default_mailer_writes_the_reset_mail_to_the_outbox(
    store: Store, ann: Credentials, pair: KeyPair, pool: KeyPairPool, tmp_path: Path
) -> None:
    seed(store, ann, pair, ("Site",))
    outbox = tmp_path / "outbox"
    flows = Operators(
        store,
        ServerConfig(SECRET, base_url=BASE_URL),
        mailer=OutboxMailer(outbox),
        key_pair_factory=pool,
    )
    flows.forgot_password({"emailAddress": ann.email})
    (written,) = outbox.iterdir()
    assert f"{BASE_URL}/reset-password/" in written.read_text()
