# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The account view, creating and retiring accounts, and the auditorium played by the book."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from operator_helpers import (
    Argon2Counter,
    Credentials,
    RecordingMailer,
    new_account,
    seed,
    session_for,
)

from offen_core.crypto import (
    KeyPair,
    PrivateKey,
    SymmetricKey,
    decrypt_asymmetric,
    decrypt_symmetric,
    encrypt_asymmetric,
    encrypt_symmetric,
    generate_symmetric_key,
    hash_fast,
)
from offen_core.errors import (
    ConflictError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    UnknownAccountError,
)
from offen_core.server import Route, ServerConfig, status_for
from offen_core.server.operators import Operators
from offen_core.storage import Account, AccountKey, NewEvent, Store
from offen_core.testing import KeyPairPool

UNKNOWN_ID = "0b3c5a52-7a4e-4d2c-9d0a-2f2b0c8b1e11"


def _visit(store: Store, account: Account, pages: list[str]) -> str:
    """Play a visitor: wrap a user secret with the account key, post encrypted pageviews."""
    user_id = str(uuid.uuid4())
    user_secret = generate_symmetric_key()
    secret_id = hash_fast(user_id, account.user_salt)
    store.exchange_secret(
        account.account_id,
        secret_id,
        encrypt_asymmetric(
            json.loads(account.public_key), json.dumps(user_secret.to_jwk()).encode()
        ),
        parked_secret_id=hash_fast(str(uuid.uuid4()), account.user_salt),
    )
    store.insert_events(
        [
            NewEvent(
                account.account_id,
                secret_id,
                encrypt_symmetric(
                    user_secret, json.dumps({"type": "PAGEVIEW", "href": page}).encode()
                ),
            )
            for page in pages
        ]
    )
    return secret_id


# --- the auditorium by the book -----------------------------------------------------------


def test_the_auditorium_decrypts_everything_with_the_crypto_module_alone(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair
) -> None:
    seeded = seed(store, ann, pair, ("Site",))
    (account,) = seeded.accounts.values()
    _visit(store, account, ["/", "/about/"])
    _visit(store, account, ["/blog/"])

    # 1. Log in; keep the JSON as the auditorium keeps it in sessionStorage.
    login = json.loads(
        json.dumps(flows.login({"username": ann.email, "password": ann.password}).body())
    )
    (entry,) = login["accounts"]
    session = flows.authenticate(
        flows.login({"username": ann.email, "password": ann.password}).token
    )

    # 2. Fetch the account as JSON.
    view = json.loads(json.dumps(flows.account_view(session, entry["accountId"]).body()))
    assert view["retentionPeriod"] == "6months"
    assert set(view["events"]) == {account.account_id}

    # 3. Decrypt everything: KEK -> private key -> user secrets -> payloads.
    kek = SymmetricKey.from_jwk(entry["keyEncryptionKey"])
    private_key = PrivateKey.from_jwk(decrypt_symmetric(kek, view["encryptedPrivateKey"]).decode())
    user_secrets = {
        secret_id: SymmetricKey.from_jwk(decrypt_asymmetric(private_key, wrapped).decode())
        for secret_id, wrapped in view["secrets"].items()
    }
    pages = sorted(
        json.loads(decrypt_symmetric(user_secrets[event["secretId"]], event["payload"]))["href"]
        for event in view["events"][account.account_id]
    )
    assert pages == ["/", "/about/", "/blog/"]
    assert len(user_secrets) == 2
    assert private_key.public_key().to_jwk() == view["publicKey"]


# --- the account view ---------------------------------------------------------------------


def test_the_view_follows_the_cursor_pages_and_reports_deletions(
    store: Store, config: ServerConfig, ann: Credentials, pair: KeyPair
) -> None:
    seeded = seed(store, ann, pair, ("Site",))
    (account,) = seeded.accounts.values()
    first = _visit(store, account, ["/a/", "/b/", "/c/"])
    # Without a safety lag, so that the fresh events page like settled ones.
    eager = Store(store.engine.url.render_as_string(hide_password=False), safety_lag=timedelta(0))
    flows = Operators(eager, config, mailer=RecordingMailer())
    session = session_for(flows, ann)

    page = flows.account_view(session, account.account_id, limit="2")
    body = page.body()
    assert len(body["events"][account.account_id]) == 2
    assert body["more"] is True
    rest = flows.account_view(session, account.account_id, since=body["sequence"], limit=2).body()
    seen = {event["eventId"] for event in body["events"][account.account_id]} | {
        event["eventId"] for event in rest["events"][account.account_id]
    }
    assert len(seen) == 3
    assert "more" not in rest
    assert set(rest["secrets"]) <= {first}

    store.purge_secrets([first])
    after = flows.account_view(session, account.account_id, since=body["sequence"]).body()
    assert set(after["deletedEvents"]) == seen
    assert after["events"] == {account.account_id: []}
    eager.close()


def test_the_view_lists_older_key_pairs(
    flows: Operators, store: Store, ann: Credentials, pool: KeyPairPool
) -> None:
    seeded = seed(store, ann, pool(), ("Site",))
    (account,) = seeded.accounts.values()
    old = store.account_keys(account.account_id)[0]
    newer = pool()
    kek = seeded.keks[account.account_id]
    wrapped = encrypt_symmetric(kek, json.dumps(newer.private_key.to_jwk()).encode())
    store.add_account_key(
        AccountKey(
            account.account_id, 2, json.dumps(newer.public_key.to_jwk()), wrapped, old.created
        )
    )
    from dataclasses import replace

    store.update_account(
        replace(
            account, public_key=json.dumps(newer.public_key.to_jwk()), encrypted_private_key=wrapped
        )
    )
    body = flows.account_view(session_for(flows, ann), account.account_id).body()
    assert body["encryptedPrivateKey"] == wrapped
    (older,) = body["keys"]
    assert older["keyVersion"] == 1
    assert older["encryptedPrivateKey"] == old.encrypted_private_key


def test_the_view_refuses_what_the_operator_may_not_see(
    flows: Operators, store: Store, ann: Credentials, bob: Credentials, pair: KeyPair
) -> None:
    seed(store, ann, pair, ("Ann's",))
    bobs = seed(store, bob, pair, ("Bob's",))
    session = session_for(flows, ann)
    (bobs_account,) = bobs.accounts

    cases = [
        (bobs_account, {}, ForbiddenError, 403),
        (UNKNOWN_ID, {}, ForbiddenError, 403),
        ("not-a-uuid", {}, InvalidInputError, 400),
        (next(iter(session.account_ids)), {"since": "not a ulid"}, InvalidInputError, 400),
        (next(iter(session.account_ids)), {"limit": "0"}, InvalidInputError, 400),
        (next(iter(session.account_ids)), {"limit": "ten"}, InvalidInputError, 400),
        (next(iter(session.account_ids)), {"limit": True}, InvalidInputError, 400),
    ]
    for account_id, options, error, status in cases:
        with pytest.raises(error) as refused:
            flows.account_view(session, account_id, **options)
        assert status_for(refused.value, Route.GET_ACCOUNT) == status


def test_the_view_of_a_retired_account_is_not_found(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair
) -> None:
    seeded = seed(store, ann, pair, ("Site",))
    (account_id,) = seeded.accounts
    session = session_for(flows, ann)
    with store.engine.begin() as connection:
        from offen_core.storage import accounts

        connection.execute(
            accounts.update().where(accounts.c.account_id == account_id).values(retired=True)
        )
    with pytest.raises(UnknownAccountError) as refused:
        flows.account_view(session, account_id)
    assert status_for(refused.value, Route.GET_ACCOUNT) == 404


# --- creating accounts --------------------------------------------------------------------


def test_a_super_admin_creates_an_account_with_a_key_from_the_factory(
    flows: Operators, store: Store, ann: Credentials, pool: KeyPairPool, argon2: Argon2Counter
) -> None:
    seed(store, ann, pool(), ("First",))
    session = session_for(flows, ann)
    argon2.reset()
    result = flows.create_account(
        session, {"accountName": " Second ", "emailAddress": ann.email, "password": ann.password}
    )
    assert (result.status, result.body()) == (201, None)
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 2}

    created = store.get_account(result.account_id)
    assert created.name == "Second"
    assert json.loads(created.public_key) in [pair.public_key.to_jwk() for pair in pool.pairs]
    assert created.user_salt.startswith("{1,} ")
    login = flows.login({"username": ann.email, "password": ann.password})
    entry = login.account(result.account_id)
    assert entry is not None
    private = decrypt_symmetric(entry.key_encryption_key, created.encrypted_private_key)  # type: ignore[arg-type]
    assert PrivateKey.from_jwk(private.decode()).public_key().to_jwk() == json.loads(
        created.public_key
    )
    # Other operators of the instance get no access.
    assert (
        store.relationships_for_account(result.account_id)[0].account_user_id
        == login.account_user_id
    )


def test_creating_an_account_is_refused_in_the_documented_order(
    flows: Operators, store: Store, ann: Credentials, bob: Credentials, pair: KeyPair
) -> None:
    seed(store, ann, pair, ("Taken",))
    seed(store, bob, pair, ("Bob's",), admin_level=0)
    ann_session = session_for(flows, ann)
    bob_session = session_for(flows, bob)
    before = len(store.list_accounts())

    good = {"accountName": "New", "emailAddress": ann.email, "password": ann.password}
    cases = [
        (ann_session, {**good, "accountName": ""}, InvalidInputError, 400),
        (ann_session, {**good, "emailAddress": "x"}, InvalidInputError, 400),
        (ann_session, {**good, "password": "wrong password"}, InvalidCredentialsError, 401),
        (
            ann_session,
            {**good, "emailAddress": bob.email, "password": bob.password},
            InvalidCredentialsError,
            401,
        ),
        (
            bob_session,
            {**good, "emailAddress": bob.email, "password": bob.password},
            ForbiddenError,
            403,
        ),
        (ann_session, {**good, "accountName": "Taken"}, ConflictError, 409),
    ]
    for session, body, error, status in cases:
        with pytest.raises(error) as refused:
            flows.create_account(session, body)
        assert status_for(refused.value, Route.POST_ACCOUNTS) == status
    assert len(store.list_accounts()) == before


# --- retiring accounts --------------------------------------------------------------------


def test_retiring_an_account_removes_every_operators_access(
    flows: Operators, store: Store, ann: Credentials, bob: Credentials, pair: KeyPair
) -> None:
    seeded = seed(store, ann, pair, ("Site", "Other"))
    account_id = next(iter(seeded.accounts))
    bobs = seed(store, bob, pair, ())
    from operator_helpers import add_grant, session_for

    add_grant(store, bobs, bob, seeded.accounts[account_id], seeded.keks[account_id], pending=False)
    session = session_for(flows, ann)

    assert flows.retire_account(session, account_id).status == 204
    assert store.get_account(account_id, include_retired=True).retired
    assert store.relationships_for_account(account_id, include_pending=True) == []
    assert {
        entry.account_id
        for entry in flows.login({"username": bob.email, "password": bob.password}).accounts
    } == set()

    with pytest.raises(UnknownAccountError) as again:
        flows.retire_account(session, account_id)
    assert status_for(again.value, Route.DELETE_ACCOUNT) == 404


def test_retiring_is_refused_without_rights(
    flows: Operators, store: Store, ann: Credentials, bob: Credentials, pair: KeyPair
) -> None:
    anns = seed(store, ann, pair, ("Ann's",))
    bobs = seed(store, bob, pair, ("Bob's",), admin_level=0)
    other, key, _ = new_account(pair, "Nobody's")
    store.create_account(other, [], [key])
    ann_session = session_for(flows, ann)
    bob_session = session_for(flows, bob)

    cases = [
        (bob_session, next(iter(bobs.accounts)), ForbiddenError, 403),
        (ann_session, other.account_id, ForbiddenError, 403),
        (ann_session, UNKNOWN_ID, UnknownAccountError, 404),
        (ann_session, "nope", InvalidInputError, 400),
    ]
    for session, account_id, error, status in cases:
        with pytest.raises(error) as refused:
            flows.retire_account(session, account_id)
        assert status_for(refused.value, Route.DELETE_ACCOUNT) == status
    assert not any(account.retired for account in store.list_accounts())
    assert len(store.relationships_for_account(next(iter(anns.accounts)))) == 1
