# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The per-route throttle step that sits in front of every flow.

A server calls the step once per request, before the flow, with the route, the identity the
route is limited by and the resolved client address (`offen_core.ratelimit.client_address`).
The step answers the throttle's `Decision` (allowed now, allowed after a delay, or refused
with a retry-after); the server waits, runs the flow, or answers 429 with ``Retry-After``
(pass ``max_wait``: the longest delay the server will wait out; a longer one is refused
without being counted, so a client that honours ``Retry-After`` gets through). The flows
never call the throttle, so every attempt let through is counted once; `throttle_identity` reads
what a route is limited by from a request. After a successful login the server reports it with
`ThrottleStep.login_succeeded`, which forgets that email's failed attempts.

`ROUTE_THROTTLES` says, for every route, which policy of `offen_core.ratelimit` applies and
what the identity is. `SERVER_POLICIES` are the ratelimit module's default policies (Offen's
limits, reference ``offen-server.md`` §4.4, made atomic) with one change: the routes that
check a password, a token or an email address (login, recover, forgot password, reset
password, join, share) all go through the login guard's shape, identity first, then the
client address, then an instance-wide budget, and they share the login guard's address and
global counters, so an address cannot spread its attempts over several of them. Build the
throttle with `make_throttle` (or `make_async_throttle`) to get these policies and an
identifier key derived from the server secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from limits.aio.storage import Storage as AsyncStorage
from limits.storage import Storage

from offen_core.errors import InvalidInputError
from offen_core.ratelimit import (
    DEFAULT_POLICIES,
    DEFAULT_STORAGE_URL,
    AsyncThrottle,
    Decision,
    Outcome,
    RoutePolicy,
    Scope,
    Step,
    Throttle,
)
from offen_core.ratelimit import Route as LimitRoute
from offen_core.server._config import ServerConfig
from offen_core.server._email import normalize_email
from offen_core.server._status import Route
from offen_core.server.operator_models import (
    CreateAccountRequest,
    ForgotPasswordRequest,
    JoinRequest,
    LoginRequest,
    RecoverRequest,
    ResetPasswordRequest,
)

__all__ = [
    "ROUTE_THROTTLES",
    "SERVER_POLICIES",
    "AsyncThrottleStep",
    "Identity",
    "RouteThrottle",
    "ThrottleStep",
    "make_async_throttle",
    "make_throttle",
    "throttle_identity",
    "throttle_key",
]


class Identity(StrEnum):
    """What the caller passes as the identity of a throttled route."""

    VISITOR = "visitor"
    """The ``user`` cookie's value; pass ``""`` without one (the client address counts)."""
    EMAIL = "email"
    """The email address from the body or the token, as given; the step normalises it."""
    OPERATOR = "operator"
    """The id of the logged-in operator."""
    ACCOUNT = "account"
    """The account id from the path."""
    NONE = "none"
    """Nothing: one budget for everyone; pass ``""``."""


@dataclass(frozen=True, slots=True)
class RouteThrottle:
    """How one route is throttled.

    Attributes:
        policy: The name of the route's policy in `SERVER_POLICIES`.
        identity: What the caller passes as the identity.
        login_guard: Whether the policy has the login guard's shape (identity, client
            address, global budget).
    """

    policy: LimitRoute
    identity: Identity
    login_guard: bool = False


ROUTE_THROTTLES: Final[Mapping[Route, RouteThrottle | None]] = MappingProxyType(
    {
        Route.HEALTHZ: None,
        Route.VERSIONZ: None,
        Route.GET_EXCHANGE: None,
        Route.POST_EXCHANGE: RouteThrottle(LimitRoute.EXCHANGE, Identity.VISITOR),
        Route.GET_EVENTS: RouteThrottle(LimitRoute.GET_EVENTS, Identity.VISITOR),
        Route.POST_EVENTS: RouteThrottle(LimitRoute.POST_EVENTS, Identity.VISITOR),
        Route.PURGE: RouteThrottle(LimitRoute.PURGE, Identity.VISITOR),
        Route.POST_LOGIN: RouteThrottle(LimitRoute.LOGIN, Identity.EMAIL, login_guard=True),
        Route.GET_LOGIN: None,
        Route.LOGOUT: None,
        Route.GET_ACCOUNT: RouteThrottle(LimitRoute.GET_ACCOUNT, Identity.ACCOUNT),
        Route.POST_ACCOUNTS: RouteThrottle(LimitRoute.CREATE_ACCOUNT, Identity.EMAIL),
        Route.DELETE_ACCOUNT: RouteThrottle(LimitRoute.DELETE_ACCOUNT, Identity.ACCOUNT),
        Route.CHANGE_PASSWORD: RouteThrottle(LimitRoute.CHANGE_PASSWORD, Identity.OPERATOR),
        Route.CHANGE_EMAIL: RouteThrottle(LimitRoute.CHANGE_EMAIL, Identity.OPERATOR),
        Route.FORGOT_PASSWORD: RouteThrottle(
            LimitRoute.FORGOT_PASSWORD, Identity.EMAIL, login_guard=True
        ),
        Route.RESET_PASSWORD: RouteThrottle(
            LimitRoute.RESET_PASSWORD, Identity.EMAIL, login_guard=True
        ),
        Route.SHARE_ACCOUNT: RouteThrottle(
            LimitRoute.SHARE_ACCOUNT, Identity.OPERATOR, login_guard=True
        ),
        Route.JOIN: RouteThrottle(LimitRoute.JOIN, Identity.EMAIL, login_guard=True),
        Route.RECOVER: RouteThrottle(LimitRoute.RECOVER, Identity.EMAIL, login_guard=True),
        Route.GET_SETUP: None,
        Route.POST_SETUP: RouteThrottle(LimitRoute.SETUP, Identity.NONE),
    }
)
"""The throttle of every route (``None``: not throttled)."""


def _guarded(policy: RoutePolicy, address: Step, everyone: Step) -> RoutePolicy:
    """Give a policy the login guard's shape: its identity step, then address, then global."""
    identity = [step for step in policy.steps if step.scope is Scope.IDENTITY]
    own_global = [step for step in policy.steps if step.scope is Scope.GLOBAL]
    return RoutePolicy(
        steps=(*identity, address, *(own_global or [everyone])),
        reset_on_success=policy.reset_on_success,
    )


def _server_policies() -> Mapping[str, RoutePolicy]:
    login = DEFAULT_POLICIES[LimitRoute.LOGIN]
    address = next(step for step in login.steps if step.scope is Scope.ADDRESS)
    everyone = next(step for step in login.steps if step.scope is Scope.GLOBAL)
    policies = dict(DEFAULT_POLICIES)
    for spec in ROUTE_THROTTLES.values():
        if spec is not None and spec.login_guard:
            policies[spec.policy] = _guarded(DEFAULT_POLICIES[spec.policy], address, everyone)
    return MappingProxyType(policies)


SERVER_POLICIES: Final[Mapping[str, RoutePolicy]] = _server_policies()
"""The policies a server's throttle uses: `DEFAULT_POLICIES` with the guarded routes reshaped."""


def throttle_key(config: ServerConfig) -> bytes:
    """Derive the key that hashes throttle identifiers from the server secret.

    Every process of one site derives the same key, so their counts meet in a shared storage;
    the key is not the secret itself, so the storage learns nothing about it.

    Args:
        config: The server configuration.

    Returns:
        32 bytes.
    """
    return hmac.new(config.secret, b"offen_core throttle identifiers", hashlib.sha256).digest()


def make_throttle(
    config: ServerConfig, storage: str | Storage = DEFAULT_STORAGE_URL, **options: Any
) -> Throttle:
    """Build the synchronous throttle a server hands to `ThrottleStep`.

    Args:
        config: The server configuration (its secret keys the identifier hashes).
        storage: A `limits` storage URL (``memory://`` for one process, ``redis://...``
            when several processes serve the site) or an opened storage.
        **options: Further arguments of `offen_core.ratelimit.Throttle` (``clock``,
            ``key_prefix``, ``on_storage_error`` ...).

    Returns:
        A throttle with `SERVER_POLICIES`.
    """
    return Throttle(storage, hash_key=throttle_key(config), policies=SERVER_POLICIES, **options)


def make_async_throttle(
    config: ServerConfig, storage: str | AsyncStorage = DEFAULT_STORAGE_URL, **options: Any
) -> AsyncThrottle:
    """Build the asynchronous throttle a server hands to `AsyncThrottleStep`.

    Create it inside the event loop that uses it (a Redis client belongs to its loop).

    Args:
        config: The server configuration (its secret keys the identifier hashes).
        storage: A `limits` storage URL or an opened async storage.
        **options: Further arguments of `offen_core.ratelimit.AsyncThrottle`.

    Returns:
        A throttle with `SERVER_POLICIES`.
    """
    return AsyncThrottle(
        storage, hash_key=throttle_key(config), policies=SERVER_POLICIES, **options
    )


_ALLOWED: Final = Decision(Outcome.ALLOWED)


def _email_identity(identity: str) -> str:
    """Normalise an email identity; a value that is no address counts as the empty identity."""
    try:
        return normalize_email(identity)
    except InvalidInputError:
        return ""


def _prepared(route: Route | str, identity: str) -> tuple[LimitRoute, str] | None:
    spec = _spec(route)
    if spec is None:
        return None
    if spec.identity is Identity.EMAIL:
        identity = _email_identity(identity)
    return spec.policy, identity


def _spec(route: Route | str) -> RouteThrottle | None:
    try:
        return ROUTE_THROTTLES[Route(route)]
    except ValueError:
        raise InvalidInputError("route", "must be one of offen_core.server.Route") from None


def _email_of(route: Route, body: bytes, read_reset_email: Callable[[str], str]) -> str:
    match route:
        case Route.POST_LOGIN:
            return normalize_email(LoginRequest.parse(body).username, "username")
        case Route.POST_ACCOUNTS:
            return normalize_email(CreateAccountRequest.parse(body).email_address)
        case Route.FORGOT_PASSWORD:
            return normalize_email(ForgotPasswordRequest.parse(body).email_address)
        case Route.RESET_PASSWORD:
            # The address the reset link was sent to: reading the token costs no argon2.
            return normalize_email(read_reset_email(ResetPasswordRequest.parse(body).token))
        case Route.JOIN:
            return normalize_email(JoinRequest.parse(body).email_address)
        case Route.RECOVER:
            return normalize_email(RecoverRequest.parse(body).email_address)
        case _:
            return ""


def throttle_identity(
    route: Route | str,
    *,
    body: bytes,
    user_cookie: str,
    session_id: str,
    path_id: str,
    read_reset_email: Callable[[str], str],
) -> str:
    """Read from a request what its route's throttle counts by (see `ROUTE_THROTTLES`).

    Call it before the throttle step, so that every server counts alike: visitor routes
    count the ``user`` cookie, operator routes the logged-in operator's id, account routes
    the account id from the path (lower case), and the email routes the address in the body
    (in the reset token for ``POST /api/reset-password``), normalised with
    `normalize_email`. Parsing the body here costs no password work.

    Args:
        route: The route (a `Route` or its value).
        body: The raw request body.
        user_cookie: The ``user`` cookie, or ``""``.
        session_id: The logged-in operator's id (`OperatorSession.account_user_id`), or
            ``""``.
        path_id: The ``{id}`` from the path, or ``""``.
        read_reset_email: Returns the address a password-reset token was issued for (for
            example ``lambda token: operators.tokens.read_reset(token).email``); raises on
            an invalid token.

    Returns:
        The identity to pass to `ThrottleStep.check`; ``""`` for a route without a throttle
        or without an identity (the client address or the global budget counts then).

    Raises:
        InvalidInputError: ``route`` is not a route of `Route`, or the body is too malformed
            to name the identity (the flow would refuse it the same way, with 400).
        InvalidTokenError: The reset token is invalid (400 on that route).
    """
    spec = _spec(route)
    if spec is None:
        return ""
    match spec.identity:
        case Identity.VISITOR:
            return user_cookie
        case Identity.OPERATOR:
            return session_id
        case Identity.ACCOUNT:
            return path_id.strip().lower()
        case Identity.EMAIL:
            return _email_of(Route(route), body, read_reset_email)
        case _:
            return ""


class ThrottleStep:
    """The per-route throttle step, synchronous (for WSGI servers and threads).

    Args:
        throttle: The throttle, made by `make_throttle` (or any `Throttle` whose policies
            include `SERVER_POLICIES`' names).
    """

    def __init__(self, throttle: Throttle) -> None:
        self.throttle = throttle

    def check(
        self,
        route: Route | str,
        identity: str = "",
        address: str = "",
        *,
        max_wait: float | None = None,
    ) -> Decision:
        """Decide whether an attempt on a route may go ahead, and count it if it does.

        Args:
            route: The route (a `Route` or its value, such as ``"POST /api/events"``).
            identity: What the route is limited by (see `ROUTE_THROTTLES`); ``""`` when
                there is none (a visitor without a ``user`` cookie is then counted by
                address). An email identity is normalised here with the one normaliser of
                the server package (strip, NFC, lower case); text that is no address counts
                as one shared empty identity (its request fails validation anyway).
            address: The resolved client address.
            max_wait: The longest delay the server will wait out; a longer one is refused
                (429 with ``Retry-After``) without counting the attempt, so the client gets
                through when it comes back after ``Retry-After``. ``0`` for a server that
                never waits (WSGI); ``None`` accepts any delay up to the rules' deadline.

        Returns:
            The decision; always "allowed" on a route without a throttle, with no storage
            access.

        Raises:
            InvalidInputError: ``route`` is not a route of `Route`, or ``max_wait`` is
                negative.
            ThrottleStorageError: The storage failed and the throttle was built to raise.
        """
        prepared = _prepared(route, identity)
        if prepared is None:
            return _ALLOWED
        return self.throttle.check(prepared[0], prepared[1], address, max_wait=max_wait)

    def login_succeeded(self, identity: str, address: str = "") -> None:
        """Report a successful login, so that email's failed attempts are forgotten.

        Args:
            identity: The email the login was checked with (normalised here as in `check`).
            address: The client address (its count is kept: a good login does not wash out
                an address's attempts at other accounts).

        Raises:
            ThrottleStorageError: The storage failed.
        """
        self.throttle.report_success(LimitRoute.LOGIN, _email_identity(identity), address)


class AsyncThrottleStep:
    """The per-route throttle step, asynchronous (for ASGI servers); decides as `ThrottleStep`.

    Args:
        throttle: The throttle, made by `make_async_throttle`.
    """

    def __init__(self, throttle: AsyncThrottle) -> None:
        self.throttle = throttle

    async def check(
        self,
        route: Route | str,
        identity: str = "",
        address: str = "",
        *,
        max_wait: float | None = None,
    ) -> Decision:
        """Decide whether an attempt on a route may go ahead, and count it if it does.

        Args:
            route: The route (a `Route` or its value).
            identity: What the route is limited by (see `ROUTE_THROTTLES`).
            address: The resolved client address.
            max_wait: The longest delay the server will wait out (the ASGI example's cap);
                a longer one is refused without counting the attempt (see
                `ThrottleStep.check`).

        Returns:
            The decision; always "allowed" on a route without a throttle.

        Raises:
            InvalidInputError: ``route`` is not a route of `Route`, or ``max_wait`` is
                negative.
            ThrottleStorageError: The storage failed and the throttle was built to raise.
        """
        prepared = _prepared(route, identity)
        if prepared is None:
            return _ALLOWED
        return await self.throttle.check(prepared[0], prepared[1], address, max_wait=max_wait)

    async def login_succeeded(self, identity: str, address: str = "") -> None:
        """Report a successful login, so that email's failed attempts are forgotten.

        Args:
            identity: The email the login was checked with (normalised as in `check`).
            address: The client address.

        Raises:
            ThrottleStorageError: The storage failed.
        """
        await self.throttle.report_success(LimitRoute.LOGIN, _email_identity(identity), address)
