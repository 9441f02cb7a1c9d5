# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Sharing accounts, invitations (mailed links, auto-accept at login) and joining."""

from __future__ import annotations

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

from offen_core.crypto import KeyPair, verify_password
from offen_core.errors import (
    ConflictError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    InvalidTokenError,
    PasswordPolicyError,
)
from offen_core.server import Route, ServerConfig, status_for
from offen_core.server._email import email_lookup
from offen_core.server.mail import MailDeliveryError
from offen_core.server.operators import Operators, OperatorSession
from offen_core.server.tokens import INVITE_TOKEN_LIFETIME
from offen_core.storage import Store
from offen_core.testing import FakeClock, KeyPairPool


def _share(ann: Credentials, invitee: str, **extra: object) -> dict[str, object]:
    return {
        "invitee": invitee,
        "emailAddress": ann.email,
        "password": ann.password,
        "urlTemplate": "https://evil.example/{token}",
        **extra,
    }


def _snapshot(store: Store) -> tuple[object, ...]:
    users = store.list_account_users()
    relationships = [
        item
        for user in users
        for item in store.relationships_for_user(user.account_user_id, include_pending=True)
    ]
    return tuple(users), tuple(relationships)


def test_a_new_operator_is_invited_joins_and_logs_in(
    flows: Operators,
    store: Store,
    ann: Credentials,
    pair: KeyPair,
    mailer: RecordingMailer,
    argon2: Argon2Counter,
) -> None:
    anns = seed(store, ann, pair, ("Site A", "Site B"))
    session = session_for(flows, ann)
    argon2.reset()

    result = flows.share_account(
        session, _share(ann, " New@Example.org", grantAdminPrivileges=True)
    )
    assert result.status == 204
    assert (result.invitee_exists, result.mail_sent) == (False, True)
    assert sorted(result.account_names) == ["Site A", "Site B"]
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 2, "hash_password": 1}

    (message,) = mailer.sent
    assert message.to == "new@example.org"
    assert f"{BASE_URL}/join/" in message.body
    assert "evil.example" not in message.body
    invitee = store.find_account_user_by_lookup(email_lookup(SECRET, "new@example.org"))
    assert invitee is not None
    assert invitee.hashed_password == ""
    assert invitee.admin_level == 1
    assert verify_password("new@example.org", invitee.hashed_email)
    pending = store.relationships_for_user(invitee.account_user_id, include_pending=True)
    assert len(pending) == 2
    assert all(item.pending for item in pending)

    argon2.reset()
    assert (
        flows.join(
            {"emailAddress": "new@example.org", "password": "new password", "token": mailer.token()}
        ).status
        == 204
    )
    assert argon2.as_dict() == {"derive_key": 2, "hash_password": 1}
    login = flows.login({"username": "new@example.org", "password": "new password"})
    assert {entry.account_id: entry.key_encryption_key for entry in login.accounts} == anns.keks

    # The invitation is spent.
    with pytest.raises(InvalidTokenError) as again:
        flows.join(
            {
                "emailAddress": "new@example.org",
                "password": "other password",
                "token": mailer.token(),
            }
        )
    assert status_for(again.value, Route.JOIN) == 400


def test_an_existing_operator_accepts_at_the_next_login(
    flows: Operators,
    store: Store,
    ann: Credentials,
    bob: Credentials,
    pair: KeyPair,
    mailer: RecordingMailer,
) -> None:
    anns = seed(store, ann, pair, ("Shared", "Not shared"))
    bobs = seed(store, bob, pair, ("Bob's",), admin_level=1)
    shared_id = next(
        account_id for account_id, account in anns.accounts.items() if account.name == "Shared"
    )
    session = session_for(flows, ann)

    result = flows.share_account(session, _share(ann, bob.email), shared_id)
    assert (result.invitee_exists, list(result.account_names)) == (True, ["Shared"])
    (message,) = mailer.sent
    assert "/join/" not in message.body
    assert "Shared" in message.body
    # Sharing without admin rights never demotes an admin (Offen did).
    assert store.get_account_user(bobs.user.account_user_id).admin_level == 1

    login = flows.login({"username": bob.email, "password": bob.password})
    keks = {entry.account_id: entry.key_encryption_key for entry in login.accounts}
    assert keks[shared_id] == anns.keks[shared_id]
    assert len(keks) == 2
    assert all(
        not item.pending
        for item in store.relationships_for_user(bobs.user.account_user_id, include_pending=True)
    )

    with pytest.raises(ConflictError) as refused:
        flows.share_account(session, _share(ann, bob.email), shared_id)
    assert status_for(refused.value, Route.SHARE_ACCOUNT) == 409


def test_sharing_again_while_pending_resends_without_duplicates(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair, mailer: RecordingMailer
) -> None:
    seed(store, ann, pair, ("Site",))
    session = session_for(flows, ann)
    mailer.fail = True
    first = flows.share_account(session, _share(ann, "carol@example.org"))
    assert first.mail_sent is False
    before = _snapshot(store)

    mailer.fail = False
    second = flows.share_account(session, _share(ann, "Carol@example.org"))
    assert second.mail_sent is True
    assert _snapshot(store) == before
    flows.join(
        {"emailAddress": "carol@example.org", "password": "carol's pass", "token": mailer.token()}
    )
    assert (
        len(flows.login({"username": "carol@example.org", "password": "carol's pass"}).accounts)
        == 1
    )


def test_sharing_is_refused_in_the_documented_order_and_changes_nothing(
    flows: Operators,
    store: Store,
    ann: Credentials,
    bob: Credentials,
    pair: KeyPair,
    mailer: RecordingMailer,
) -> None:
    seed(store, ann, pair, ("Ann's",))
    bobs = seed(store, bob, pair, ("Bob's",), admin_level=0)
    ann_session = session_for(flows, ann)
    bob_session = session_for(flows, bob)
    (bobs_account,) = bobs.accounts
    before = _snapshot(store)

    cases: list[tuple[OperatorSession, dict[str, object], str | None, type[Exception], int]] = [
        (
            ann_session,
            {**_share(ann, "x@example.org"), "invitee": "not an address"},
            None,
            InvalidInputError,
            400,
        ),
        (
            ann_session,
            _share(ann, "x@example.org", grantAdminPrivileges="yes"),
            None,
            InvalidInputError,
            400,
        ),
        (ann_session, _share(ann, "x@example.org"), "not-a-uuid", InvalidInputError, 400),
        (
            ann_session,
            {**_share(ann, "x@example.org"), "password": "wrong password"},
            None,
            InvalidCredentialsError,
            401,
        ),
        (
            ann_session,
            {**_share(ann, "x@example.org"), "emailAddress": bob.email, "password": bob.password},
            None,
            InvalidCredentialsError,
            401,
        ),
        (
            bob_session,
            {**_share(bob, "x@example.org")},
            None,
            ForbiddenError,
            403,
        ),
        (ann_session, _share(ann, "x@example.org"), bobs_account, ForbiddenError, 403),
        (ann_session, _share(ann, ann.email), None, ConflictError, 409),
    ]
    for session, body, account_id, error, status in cases:
        with pytest.raises(error) as refused:
            flows.share_account(session, body, account_id)
        assert status_for(refused.value, Route.SHARE_ACCOUNT) == status  # type: ignore[arg-type]
    assert _snapshot(store) == before
    assert mailer.sent == []


def test_sharing_with_a_new_operator_needs_a_base_url(
    store: Store, ann: Credentials, pair: KeyPair, pool: KeyPairPool, mailer: RecordingMailer
) -> None:
    seed(store, ann, pair, ("Site",))
    flows = Operators(
        store,
        ServerConfig(SECRET),
        mailer=mailer,
        key_pair_factory=pool,
    )
    session = session_for(flows, ann)
    before = _snapshot(store)
    with pytest.raises(MailDeliveryError):
        flows.share_account(session, _share(ann, "new@example.org"))
    assert _snapshot(store) == before


def test_join_refuses_bad_tokens_addresses_and_passwords(
    flows: Operators,
    store: Store,
    ann: Credentials,
    pair: KeyPair,
    mailer: RecordingMailer,
    clock: FakeClock,
) -> None:
    seed(store, ann, pair, ("Site",))
    flows.share_account(session_for(flows, ann), _share(ann, "new@example.org"))
    token = mailer.token()
    reset_token = flows.tokens.issue_reset("new@example.org", "a2V5", "stamp")
    auth_token = flows.tokens.issue_auth("someone", "stamp")
    before = _snapshot(store)

    good = {"emailAddress": "new@example.org", "password": "new password", "token": token}
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        ({**good, "token": reset_token}, InvalidTokenError),
        ({**good, "token": auth_token}, InvalidTokenError),
        ({**good, "token": token[:-2]}, InvalidTokenError),
        ({**good, "emailAddress": "other@example.org"}, InvalidTokenError),
        ({**good, "password": "short"}, PasswordPolicyError),
        ({**good, "token": ""}, InvalidInputError),
        ({"emailAddress": "new@example.org", "password": "new password"}, InvalidInputError),
    ]
    for body, error in cases:
        with pytest.raises(error) as refused:
            flows.join(body)
        assert status_for(refused.value, Route.JOIN) == 400  # type: ignore[arg-type]
    assert _snapshot(store) == before

    clock.advance(INVITE_TOKEN_LIFETIME.total_seconds() + 1)
    with pytest.raises(InvalidTokenError, match="expired"):
        flows.join(good)
    assert _snapshot(store) == before
