# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""`throttle_identity`: what each route's throttle counts by, read from a request."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from offen_core.errors import InvalidInputError, InvalidTokenError
from offen_core.ratelimit import Outcome
from offen_core.server import (
    ROUTE_THROTTLES,
    Identity,
    Route,
    ServerConfig,
    ThrottleStep,
    make_throttle,
    normalize_email,
    throttle_identity,
)
from offen_core.testing import FakeClock

CONFIG = ServerConfig(b"throttle-identity-tests-secret-0")


def _no_token(token: str) -> str:
    raise AssertionError("no reset token should be read on this route")


def _identity(
    route: Route | str,
    body: object = b"",
    *,
    user_cookie: str = "",
    session_id: str = "",
    path_id: str = "",
    read_reset_email: Callable[[str], str] = _no_token,
) -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return throttle_identity(
        route,
        body=raw,
        user_cookie=user_cookie,
        session_id=session_id,
        path_id=path_id,
        read_reset_email=read_reset_email,
    )


@pytest.mark.parametrize(
    ("route", "body"),
    [
        (Route.POST_LOGIN, {"username": "  Ada@Example.ORG ", "password": "pw"}),
        (
            Route.POST_ACCOUNTS,
            {"accountName": "Site", "emailAddress": "ADA@example.org", "password": "pw"},
        ),
        (Route.FORGOT_PASSWORD, {"emailAddress": "Ada@Example.org\t"}),
        (
            Route.JOIN,
            {"emailAddress": "ada@EXAMPLE.org", "password": "a long password", "token": "t"},
        ),
        (
            # Shares the login guard's counters, so it counts the same address.
            Route.RECOVER,
            {"emailAddress": " ADA@example.org", "recoveryKey": "k", "password": "a new pw"},
        ),
    ],
)
def test_email_routes_count_the_normalised_address_of_the_body(
    route: Route, body: dict[str, str]
) -> None:
    assert _identity(route, body) == "ada@example.org"


def test_reset_password_counts_the_address_the_token_was_issued_for() -> None:
    seen: list[str] = []

    def read(token: str) -> str:
        seen.append(token)
        return " Ada@Example.org"

    body = {"emailAddress": "someone.else@example.org", "password": "a new pw", "token": "tok"}

    assert _identity(Route.RESET_PASSWORD, body, read_reset_email=read) == "ada@example.org"
    assert seen == ["tok"]


def test_an_invalid_reset_token_is_raised_as_the_flow_would() -> None:
    def read(token: str) -> str:
        raise InvalidTokenError("the reset token is not valid; ask for a new link")

    body = {"emailAddress": "ada@example.org", "password": "a new pw", "token": "forged"}
    with pytest.raises(InvalidTokenError):
        _identity(Route.RESET_PASSWORD, body, read_reset_email=read)


def test_visitor_routes_count_the_user_cookie() -> None:
    for route in (Route.POST_EXCHANGE, Route.GET_EVENTS, Route.POST_EVENTS, Route.PURGE):
        assert _identity(route, b"not json", user_cookie="visitor-1") == "visitor-1"
        # No cookie: the empty identity, which the step counts by the client address.
        assert _identity(route, b"not json") == ""


def test_operator_routes_count_the_logged_in_operator() -> None:
    for route in (Route.CHANGE_PASSWORD, Route.CHANGE_EMAIL, Route.SHARE_ACCOUNT):
        assert _identity(route, b"{}", session_id="operator-7", path_id="x") == "operator-7"


def test_account_routes_count_the_account_id_of_the_path_in_lower_case() -> None:
    path_id = " 9B63C4D8-65C0-438C-9D30-CC4B01173393 "
    for route in (Route.GET_ACCOUNT, Route.DELETE_ACCOUNT):
        assert (
            _identity(route, session_id="operator-7", path_id=path_id)
            == "9b63c4d8-65c0-438c-9d30-cc4b01173393"
        )


def test_routes_without_an_identity_or_a_throttle_read_nothing() -> None:
    # The body is not even parsed: garbage is fine.
    for route, spec in ROUTE_THROTTLES.items():
        if spec is None or spec.identity is Identity.NONE:
            assert _identity(route, b"\xff garbage", user_cookie="c", session_id="s") == ""


def test_a_route_may_be_given_by_its_value() -> None:
    body = {"username": "Ada@Example.org", "password": "pw"}
    assert _identity(Route.POST_LOGIN.value, body) == "ada@example.org"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"password": "pw"}).encode(),
        json.dumps({"username": "no-at-sign", "password": "pw"}).encode(),
    ],
)
def test_a_body_that_names_no_address_is_invalid_input(body: bytes) -> None:
    with pytest.raises(InvalidInputError):
        _identity(Route.POST_LOGIN, body)


def test_an_unknown_route_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _identity("GET /nowhere")
    assert caught.value.field == "route"


def test_the_identity_is_what_normalize_email_gives() -> None:
    typed = "  ÅSA@Example.ORG"
    assert _identity(Route.FORGOT_PASSWORD, {"emailAddress": typed}) == normalize_email(typed)


def test_every_spelling_of_an_address_spends_one_login_budget() -> None:
    step = ThrottleStep(make_throttle(CONFIG, clock=FakeClock().time))
    spellings = ["Ada@Example.org", "ada@example.org ", "ADA@EXAMPLE.ORG", " ada@Example.Org"]
    outcomes = []
    for spelling in spellings:
        identity = _identity(Route.POST_LOGIN, {"username": spelling, "password": "pw"})
        outcomes.append(step.check(Route.POST_LOGIN, identity, "192.0.2.1", max_wait=0).outcome)

    # Three free attempts for one person; the fourth spelling is the same person.
    assert outcomes == [Outcome.ALLOWED] * 3 + [Outcome.REFUSED]
