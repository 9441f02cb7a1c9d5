# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the operator flow tests: seeded operators, a recording mailer, argon2 counts.

Argon2 runs cost about 37 ms each, so most tests seed their operators straight into the Store
from credentials hashed once per session (`Credentials`), with exactly the rows that setup,
sharing and joining write; the flows that write those rows are tested on their own.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from offen_core.crypto import (
    KeyPair,
    derive_key,
    encrypt_symmetric,
    hash_password,
    new_fast_salt,
    new_kdf_salt,
    random_bytes,
)
from offen_core.server._email import email_lookup
from offen_core.server.mail import MailMessage
from offen_core.storage import Account, AccountKey, AccountUser, Relationship, Store

SECRET = b"operator-tests-server-secret-012"
BASE_URL = "https://analytics.example.com"
CREATED = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Credentials:
    """An operator's address and password with everything argon2 makes of them, made once."""

    email: str
    password: str
    salt: str
    hashed_email: str
    hashed_password: str
    password_key: bytes = field(repr=False)
    email_key: bytes = field(repr=False)

    @classmethod
    def make(cls, email: str, password: str) -> Credentials:
        salt = new_kdf_salt()
        return cls(
            email=email,
            password=password,
            salt=salt,
            hashed_email=hash_password(email),
            hashed_password=hash_password(password),
            password_key=derive_key(password, salt),
            email_key=derive_key(email, salt),
        )

    def user(
        self, *, admin_level: int = 1, lookup: bool = True, joined: bool = True
    ) -> AccountUser:
        """The operator's row under a new id (``lookup=False``: as adopted from Offen)."""
        return AccountUser(
            account_user_id=str(uuid.uuid4()),
            hashed_email=self.hashed_email,
            hashed_password=self.hashed_password if joined else "",
            salt=self.salt,
            admin_level=admin_level,
            email_lookup=email_lookup(SECRET, self.email) if lookup else None,
        )


def new_account(pair: KeyPair, name: str) -> tuple[Account, AccountKey, bytes]:
    """An account as `Operators` creates it, with its KEK."""
    kek = random_bytes(32)
    public = json.dumps(pair.public_key.to_jwk())
    private = encrypt_symmetric(kek, json.dumps(pair.private_key.to_jwk()).encode())
    account = Account(
        account_id=str(uuid.uuid4()),
        name=name,
        public_key=public,
        encrypted_private_key=private,
        user_salt=new_fast_salt(),
        created=CREATED,
    )
    key = AccountKey(account.account_id, 1, public, private, CREATED)
    return account, key, kek


def grant(
    user: AccountUser, credentials: Credentials, account: Account, kek: bytes, *, pending: bool
) -> Relationship:
    """A relationship as setup (accepted) or sharing (pending) writes it."""
    return Relationship(
        relationship_id=str(uuid.uuid4()),
        account_user_id=user.account_user_id,
        account_id=account.account_id,
        password_encrypted_key_encryption_key=""
        if pending
        else encrypt_symmetric(credentials.password_key, kek),
        email_encrypted_key_encryption_key=encrypt_symmetric(credentials.email_key, kek),
    )


@dataclass
class Seeded:
    """What `seed` stored."""

    user: AccountUser
    accounts: dict[str, Account]
    keks: dict[str, bytes]


def seed(
    store: Store,
    credentials: Credentials,
    pair: KeyPair,
    names: tuple[str, ...] = ("Site",),
    *,
    admin_level: int = 1,
    lookup: bool = True,
    joined: bool = True,
    pending: bool = False,
) -> Seeded:
    """Store an operator with accounts (accepted, or pending invitations)."""
    user = credentials.user(admin_level=admin_level, lookup=lookup, joined=joined)
    store.create_account_user(user)
    accounts: dict[str, Account] = {}
    keks: dict[str, bytes] = {}
    for name in names:
        account, key, kek = new_account(pair, name)
        store.create_account(
            account, [grant(user, credentials, account, kek, pending=pending)], [key]
        )
        accounts[account.account_id] = account
        keks[account.account_id] = kek
    return Seeded(user, accounts, keks)


def add_grant(
    store: Store,
    seeded: Seeded,
    credentials: Credentials,
    account: Account,
    kek: bytes,
    *,
    pending: bool,
) -> None:
    """Give a seeded operator access to another account."""
    store.create_relationships([grant(seeded.user, credentials, account, kek, pending=pending)])
    seeded.accounts[account.account_id] = account
    seeded.keks[account.account_id] = kek


def session_for(flows: Any, credentials: Credentials) -> Any:
    """Log in through the flows and return the session of the auth token."""
    result = flows.login({"username": credentials.email, "password": credentials.password})
    return flows.authenticate(result.token)


class RecordingMailer:
    """A mailer that keeps what it is given (or fails, when told to)."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []
        self.fail = False

    def send(self, message: MailMessage) -> None:
        from offen_core.server.mail import MailDeliveryError

        if self.fail:
            raise MailDeliveryError("the test mailer was told to fail")
        self.sent.append(message)

    def token(self, index: int = -1) -> str:
        """The token in the link of a sent message."""
        match = re.search(
            rf"{re.escape(BASE_URL)}/(?:join|reset-password)/([^/\s]+)/", self.sent[index].body
        )
        assert match is not None, "the message holds no link"
        return match.group(1)


class Argon2Counter:
    """Counts the argon2 runs of the operator flows by kind."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def reset(self) -> None:
        self.counts.clear()

    def wrap(self, name: str, function: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return function(*args, **kwargs)

        return counted

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        return {name: count for name, count in self.counts.items() if count}
