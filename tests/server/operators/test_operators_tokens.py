# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Signed tokens: one kind per purpose, fixed lifetimes, expiry from the injected clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.errors import InvalidInputError, InvalidTokenError
from offen_core.server.tokens import (
    AUTH_TOKEN_LIFETIME,
    INVITE_TOKEN_LIFETIME,
    RESET_TOKEN_LIFETIME,
    TokenSigner,
    credential_stamp,
)
from offen_core.testing import FakeClock

SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def signer(clock: FakeClock) -> TokenSigner:
    return TokenSigner(SECRET, clock=clock.time)


def test_each_kind_round_trips_its_claims(signer: TokenSigner) -> None:
    auth = signer.read_auth(signer.issue_auth("user-1", "stamp-1"))
    assert (auth.account_user_id, auth.stamp) == ("user-1", "stamp-1")
    assert signer.read_invite(signer.issue_invite("ann@example.org")).email == "ann@example.org"
    reset = signer.read_reset(signer.issue_reset("ann@example.org", "a2V5", "stamp-2"))
    assert (reset.email, reset.one_time_key, reset.stamp) == ("ann@example.org", "a2V5", "stamp-2")


def test_a_token_of_one_kind_is_refused_where_another_is_expected(signer: TokenSigner) -> None:
    tokens = {
        "auth": signer.issue_auth("user-1", "s"),
        "invite": signer.issue_invite("ann@example.org"),
        "reset": signer.issue_reset("ann@example.org", "k", "s"),
    }
    readers = {"auth": signer.read_auth, "invite": signer.read_invite, "reset": signer.read_reset}
    for kind, token in tokens.items():
        for other, read in readers.items():
            if other != kind:
                with pytest.raises(InvalidTokenError):
                    read(token)


@pytest.mark.parametrize(
    ("kind", "lifetime"),
    [
        ("auth", AUTH_TOKEN_LIFETIME),
        ("invite", INVITE_TOKEN_LIFETIME),
        ("reset", RESET_TOKEN_LIFETIME),
    ],
)
def test_tokens_expire_after_their_own_lifetime(
    signer: TokenSigner, clock: FakeClock, kind: str, lifetime: object
) -> None:
    issue = {
        "auth": lambda: signer.issue_auth("u", "s"),
        "invite": lambda: signer.issue_invite("ann@example.org"),
        "reset": lambda: signer.issue_reset("ann@example.org", "k", "s"),
    }[kind]
    read = {"auth": signer.read_auth, "invite": signer.read_invite, "reset": signer.read_reset}[
        kind
    ]
    seconds = lifetime.total_seconds()  # type: ignore[attr-defined]
    token = issue()
    clock.advance(seconds)
    read(token)
    clock.advance(2)
    with pytest.raises(InvalidTokenError, match="expired"):
        read(token)


def test_issuing_another_kind_does_not_change_a_lifetime(
    signer: TokenSigner, clock: FakeClock
) -> None:
    # Offen's shared codec let an auth cookie live 7 days once an invite had been issued.
    auth = signer.issue_auth("u", "s")
    signer.issue_invite("ann@example.org")
    clock.advance(AUTH_TOKEN_LIFETIME.total_seconds() + 2)
    with pytest.raises(InvalidTokenError):
        signer.read_auth(auth)


def test_a_token_signed_with_another_secret_is_refused(clock: FakeClock) -> None:
    other = TokenSigner(b"another secret of enough bytes!!", clock=clock.time)
    with pytest.raises(InvalidTokenError):
        TokenSigner(SECRET, clock=clock.time).read_auth(other.issue_auth("u", "s"))


def test_a_token_from_the_future_is_refused(clock: FakeClock) -> None:
    later = FakeClock(clock.now())
    later.advance(3600)
    token = TokenSigner(SECRET, clock=later.time).issue_auth("u", "s")
    with pytest.raises(InvalidTokenError):
        TokenSigner(SECRET, clock=clock.time).read_auth(token)


@pytest.mark.parametrize("token", [None, "", 42, "x" * 5000, "abc", "a.b.c", b"bytes"])
def test_malformed_tokens_are_refused(signer: TokenSigner, token: object) -> None:
    with pytest.raises(InvalidTokenError):
        signer.read_auth(token)


@given(st.integers(min_value=0), st.data())
def test_any_change_to_a_token_is_refused(position: int, data: st.DataObject) -> None:
    signer = TokenSigner(SECRET, clock=FakeClock().time)
    token = signer.issue_reset("ann@example.org", "a2V5", "stamp")
    index = position % len(token)
    replacement = data.draw(st.sampled_from("ABCabc012-_.").filter(lambda c: c != token[index]))
    tampered = token[:index] + replacement + token[index + 1 :]
    try:
        claims = signer.read_reset(tampered)
    except InvalidTokenError:
        return
    # base64 can spell the same bytes two ways in its last character; then nothing changed.
    assert (claims.email, claims.one_time_key) == ("ann@example.org", "a2V5")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        TokenSigner(b"short")


def test_credential_stamp_differs_between_hashes_and_hides_them() -> None:
    first = credential_stamp("{3,} aGFzaA== c2FsdA==")
    assert first == credential_stamp("{3,} aGFzaA== c2FsdA==")
    assert first != credential_stamp("{3,} aGFzaQ== c2FsdA==")
    assert len(first) == 16
    assert "aGFzaA" not in first


def test_reprs_hide_secrets(signer: TokenSigner) -> None:
    claims = signer.read_reset(signer.issue_reset("ann@example.org", "a2V5", "s"))
    assert "ann@" not in repr(claims)
    assert "a2V5" not in repr(claims)
    assert "0123" not in repr(signer)
