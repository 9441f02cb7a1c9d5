# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Setup, login, the auth token, and the argon2 work of each login case."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from operator_helpers import (
    SECRET,
    Argon2Counter,
    Credentials,
    add_grant,
    new_account,
    seed,
)

from offen_core.crypto import (
    KeyPair,
    PrivateKey,
    SymmetricKey,
    decrypt_symmetric,
    derive_key,
    encrypt_symmetric,
    hash_password,
    verify_password,
)
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
from offen_core.server.operators import Operators
from offen_core.server.tokens import AUTH_TOKEN_LIFETIME, TokenSigner
from offen_core.storage import AccountUser, Relationship, Store
from offen_core.testing import FakeClock

SETUP = {"accountName": "My Site", "emailAddress": " Ann@Example.org ", "password": "a password"}


def _kek(entry: dict[str, object]) -> bytes:
    return SymmetricKey.from_jwk(entry["keyEncryptionKey"]).to_bytes()  # type: ignore[arg-type]


# --- setup --------------------------------------------------------------------------------


def test_setup_creates_the_first_account_and_operator(
    flows: Operators, store: Store, argon2: Argon2Counter
) -> None:
    assert flows.setup_status().status == 204
    assert flows.setup(json.dumps(SETUP).encode()).status == 204
    assert argon2.as_dict() == {"hash_password": 2, "derive_key": 2}

    (user,) = store.list_account_users()
    (account,) = store.list_accounts()
    (relationship,) = store.relationships_for_user(user.account_user_id)
    assert account.name == "My Site"
    assert user.admin_level == 1
    assert user.email_lookup == email_lookup(SECRET, "ann@example.org")
    # Offen's columns in Offen's formats: argon2 {3,} hashes of the normalised address.
    assert user.hashed_email.startswith("{3,} ")
    assert verify_password("ann@example.org", user.hashed_email)
    assert verify_password("a password", user.hashed_password)
    assert user.salt.startswith("{3,} ")
    assert relationship.account_id == account.account_id
    keys = store.account_keys(account.account_id)
    assert [key.key_version for key in keys] == [1]
    assert keys[0].public_key == account.public_key

    # The KEK wraps the private key; password and email keys both unwrap the KEK.
    kek = decrypt_symmetric(
        derive_key("a password", user.salt), relationship.password_encrypted_key_encryption_key
    )
    assert kek == decrypt_symmetric(
        derive_key("ann@example.org", user.salt), relationship.email_encrypted_key_encryption_key
    )
    private = PrivateKey.from_jwk(decrypt_symmetric(kek, account.encrypted_private_key).decode())
    assert private.public_key().to_jwk() == json.loads(account.public_key)

    with pytest.raises(ForbiddenError) as refused:
        flows.setup_status()
    assert status_for(refused.value, Route.GET_SETUP) == 403


def test_setup_is_refused_once_there_is_data(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair, argon2: Argon2Counter
) -> None:
    seed(store, ann, pair)
    with pytest.raises(ConflictError) as refused:
        flows.setup(SETUP)
    assert status_for(refused.value, Route.POST_SETUP) == 409
    assert argon2.total == 0
    assert len(store.list_accounts()) == 1


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        (b"not json", InvalidInputError, "body"),
        ([], InvalidInputError, "body"),
        ({**SETUP, "accountName": "  "}, InvalidInputError, "accountName"),
        ({**SETUP, "accountName": "x" * 101}, InvalidInputError, "accountName"),
        ({**SETUP, "emailAddress": "not an address"}, InvalidInputError, "emailAddress"),
        ({**SETUP, "password": "short"}, PasswordPolicyError, "password"),
        ({**SETUP, "password": "p" * 65}, PasswordPolicyError, "password"),
        ({**SETUP, "password": 12345678}, InvalidInputError, "password"),
        ({"accountName": "Site", "password": "a password"}, InvalidInputError, "emailAddress"),
    ],
)
def test_setup_with_bad_input_changes_nothing(
    flows: Operators, store: Store, body: object, error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as refused:
        flows.setup(body)
    assert refused.value.field == field  # type: ignore[attr-defined]
    assert status_for(refused.value, Route.POST_SETUP) == 400  # type: ignore[arg-type]
    assert store.is_empty()


# --- login --------------------------------------------------------------------------------


def test_login_returns_offens_result_with_working_keys(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair, argon2: Argon2Counter
) -> None:
    seeded = seed(store, ann, pair, ("Site A", "Site B"))
    result = flows.login({"username": "ANN@example.org ", "password": ann.password})
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 1}

    body = result.body()
    assert set(body) == {"accountUserId", "adminLevel", "accounts"}
    assert body["accountUserId"] == seeded.user.account_user_id
    assert body["adminLevel"] == 1
    assert {entry["accountName"] for entry in body["accounts"]} == {"Site A", "Site B"}
    for entry in body["accounts"]:
        assert set(entry) == {"accountName", "accountId", "created", "keyEncryptionKey"}
        assert entry["created"] == "2026-01-02T08:00:00Z"
        assert set(entry["keyEncryptionKey"]) == {"k", "kty"}
        assert entry["keyEncryptionKey"]["kty"] == "oct"
        assert _kek(entry) == seeded.keks[entry["accountId"]]

    (cookie,) = result.cookies
    assert cookie.name == "auth"
    assert cookie.expires is None
    assert cookie.same_site == "Lax"
    assert cookie.http_only
    assert result.token == cookie.value
    session = flows.authenticate(cookie.value)
    assert session.account_user_id == seeded.user.account_user_id
    assert session.account_ids == frozenset(seeded.accounts)


def test_login_without_accounts_gives_null_accounts(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair
) -> None:
    seed(store, ann, pair, ())
    body = flows.login({"username": ann.email, "password": ann.password}).body()
    assert body["accounts"] is None


def test_unknown_email_and_wrong_password_cost_what_a_login_costs(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair, argon2: Argon2Counter
) -> None:
    seed(store, ann, pair)
    # The dummy record is made once per Operators; make it before counting.
    with pytest.raises(InvalidCredentialsError):
        flows.login({"username": "nobody@example.org", "password": "whatever1"})
    argon2.reset()

    for username, password in [
        ("nobody@example.org", "whatever1"),
        (ann.email, "wrong password"),
    ]:
        with pytest.raises(InvalidCredentialsError) as refused:
            flows.login({"username": username, "password": password})
        assert status_for(refused.value, Route.POST_LOGIN) == 401
        assert "example.org" not in str(refused.value)
        assert argon2.as_dict() == {"verify_password": 1, "derive_key": 1}
        argon2.reset()


def test_an_invited_operator_without_password_cannot_log_in(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair
) -> None:
    seed(store, ann, pair, joined=False, pending=True)
    with pytest.raises(InvalidCredentialsError):
        flows.login({"username": ann.email, "password": ann.password})


def test_login_accepts_pending_invitations_with_one_more_derivation(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair, argon2: Argon2Counter
) -> None:
    seeded = seed(store, ann, pair, ("Mine",))
    shared, key, kek = new_account(pair, "Shared with Ann")
    store.create_account(shared, [], [key])
    add_grant(store, seeded, ann, shared, kek, pending=True)

    result = flows.login({"username": ann.email, "password": ann.password})
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 2}
    entry = result.account(shared.account_id)
    assert entry is not None
    assert entry.key_encryption_key == kek

    (accepted,) = [
        item
        for item in store.relationships_for_user(seeded.user.account_user_id)
        if item.account_id == shared.account_id
    ]
    assert (
        decrypt_symmetric(ann.password_key, accepted.password_encrypted_key_encryption_key) == kek
    )
    argon2.reset()
    flows.login({"username": ann.email, "password": ann.password})
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 1}


def test_login_upgrades_a_deprecated_password_hash_with_one_hash(
    flows: Operators,
    store: Store,
    pair: KeyPair,
    argon2: Argon2Counter,
    offen_vectors: dict[str, Any],
) -> None:
    # An operator as Offen's first versions wrote it: an algo-1 password hash and KDF salt.
    legacy_hash = offen_vectors["argon2_password_hash_cases"][0]
    legacy_salt = offen_vectors["argon2_derive_key_cases"][0]
    assert legacy_hash["algo_version"] == legacy_salt["algo_version"] == 1
    password = legacy_hash["hashed_value"]
    assert legacy_salt["value"] == password
    password_key = base64.b64decode(legacy_salt["expected_key_base64"])
    account, key, kek = new_account(pair, "Old Site")
    user = AccountUser(
        account_user_id=str(uuid.uuid4()),
        hashed_email=hash_password("old@example.org"),
        hashed_password=legacy_hash["versioned_hash"],
        salt=legacy_salt["versioned_salt"],
        admin_level=1,
        email_lookup=email_lookup(SECRET, "old@example.org"),
    )
    store.create_account_user(user)
    store.create_account(
        account,
        [
            Relationship(
                str(uuid.uuid4()),
                user.account_user_id,
                account.account_id,
                password_encrypted_key_encryption_key=encrypt_symmetric(password_key, kek),
            )
        ],
        [key],
    )
    argon2.reset()

    result = flows.login({"username": "old@example.org", "password": password})
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 1, "hash_password": 1}
    assert [entry.key_encryption_key for entry in result.accounts] == [kek]
    upgraded = store.get_account_user(user.account_user_id)
    assert upgraded.hashed_password.startswith("{3,} ")
    assert verify_password(password, upgraded.hashed_password)
    # The token was issued for the upgraded hash, and the next login needs no upgrade.
    flows.authenticate(result.token)
    argon2.reset()
    flows.login({"username": "old@example.org", "password": password})
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 1}


def test_an_operator_adopted_from_offen_is_found_by_the_scan_and_gets_the_lookup(
    flows: Operators, store: Store, pair: KeyPair, argon2: Argon2Counter
) -> None:
    # Offen hashed the address as typed; the operator types it the same way again.
    typed = Credentials.make("Carol@Example.org", "carol's password")
    seeded = seed(store, typed, pair, lookup=False)
    other = Credentials.make("dave@example.org", "dave's password")
    seed(store, other, pair, (), lookup=False)
    argon2.reset()

    result = flows.login({"username": "Carol@Example.org", "password": typed.password})
    counts = argon2.as_dict()
    # Up to two scan comparisons per row (as typed, then normalised), then the login's own
    # work, the normalised hashed_email, and the email key under the normalised address.
    assert 1 <= counts["verify_password"] - 1 <= 4
    assert counts["hash_password"] == 1
    assert counts["derive_key"] == 2
    assert [entry.key_encryption_key for entry in result.accounts] == list(seeded.keks.values())

    adopted = store.get_account_user(seeded.user.account_user_id)
    assert adopted.email_lookup == email_lookup(SECRET, "carol@example.org")
    assert verify_password("carol@example.org", adopted.hashed_email)
    (relationship,) = store.relationships_for_user(adopted.account_user_id)
    assert decrypt_symmetric(
        derive_key("carol@example.org", adopted.salt),
        relationship.email_encrypted_key_encryption_key,
    ) == next(iter(seeded.keks.values()))
    assert store.count_account_users_without_lookup() == 1

    # From now on she is found by the lookup, in any spelling, without a scan.
    argon2.reset()
    flows.login({"username": "carol@EXAMPLE.org", "password": typed.password})
    assert argon2.as_dict() == {"verify_password": 1, "derive_key": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "username"),
        ({"username": "ann@example.org"}, "password"),
        ({"username": "ann", "password": "a password"}, "username"),
        ({"username": ["ann@example.org"], "password": "a password"}, "username"),
        ({"username": "ann@example.org", "password": ""}, "password"),
        ({"username": "ann@example.org", "password": "x" * 300}, "password"),
        ("[1, 2]", "body"),
    ],
)
def test_login_with_bad_input_is_a_bad_request(
    flows: Operators, store: Store, argon2: Argon2Counter, body: object, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        flows.login(body)
    assert refused.value.field == field
    assert status_for(refused.value, Route.POST_LOGIN) == 400
    assert argon2.total == 0
    assert store.is_empty()


# --- the auth token -----------------------------------------------------------------------


def test_authenticate_refuses_bad_tokens(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair, clock: FakeClock
) -> None:
    seeded = seed(store, ann, pair)
    token = flows.login({"username": ann.email, "password": ann.password}).token
    signer = TokenSigner(SECRET, clock=clock.time)
    stamp = flows.tokens.read_auth(token).stamp

    for bad in [
        None,
        "",
        "garbage",
        signer.issue_invite(ann.email),
        signer.issue_reset(ann.email, "a2V5", stamp),
        signer.issue_auth("7c1f5a0e-1111-4a4a-8b8b-123456789abc", stamp),
        TokenSigner(b"some other server secret", clock=clock.time).issue_auth(
            seeded.user.account_user_id, stamp
        ),
    ]:
        with pytest.raises(InvalidTokenError) as refused:
            flows.authenticate(bad)
        assert status_for(refused.value, Route.GET_LOGIN) == 401

    flows.authenticate(token)
    clock.advance(AUTH_TOKEN_LIFETIME.total_seconds() + 1)
    with pytest.raises(InvalidTokenError, match="expired"):
        flows.authenticate(token)


def test_login_status_and_logout(
    flows: Operators, store: Store, ann: Credentials, pair: KeyPair
) -> None:
    seeded = seed(store, ann, pair, ("Site",))
    session = flows.authenticate(
        flows.login({"username": ann.email, "password": ann.password}).token
    )
    status = flows.login_status(session)
    assert status.cookies == ()
    (entry,) = status.body()["accounts"]
    assert "keyEncryptionKey" not in entry
    assert entry["accountId"] in seeded.accounts

    (cleared,) = flows.logout().cookies
    assert cleared.name == "auth"
    assert cleared.cleared


def test_no_address_or_password_is_stored_in_clear(flows: Operators, store: Store) -> None:
    flows.setup({**SETUP, "emailAddress": "plain@example.org", "password": "plain password"})
    flows.share_account(
        flows.authenticate(
            flows.login({"username": "plain@example.org", "password": "plain password"}).token
        ),
        {
            "invitee": "guest@example.org",
            "emailAddress": "plain@example.org",
            "password": "plain password",
        },
    )
    with store.engine.connect() as connection:
        from offen_core.storage import metadata

        dump = " ".join(
            str(value)
            for table in metadata.sorted_tables
            for row in connection.execute(table.select())
            for value in row
        )
    for secret in ("plain@example.org", "guest@example.org", "plain password", "@example"):
        assert secret not in dump


def test_a_database_that_cannot_be_reached_is_reported_as_such(pool: object) -> None:
    from offen_core.errors import DatabaseUnavailableError

    unreachable = Store("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    flows = Operators(unreachable, ServerConfig(SECRET), key_pair_factory=pool)  # type: ignore[arg-type]
    with pytest.raises(DatabaseUnavailableError) as refused:
        flows.login({"username": "ann@example.org", "password": "a password"})
    assert status_for(refused.value, Route.POST_LOGIN) == 503
    unreachable.close()
