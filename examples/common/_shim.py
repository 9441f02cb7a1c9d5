# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""SHIM until `offen_core.server` offers it: the throttle identity of a request.

`offen_core.server.ROUTE_THROTTLES` says *what* each route is limited by (`Identity`), but
not how to read it from a request; the email routes need the body parsed and the address
normalised with the library's one normalising function, which is private today
(``offen_core.server._email.normalize_email``). This module does that in one place, so that
both servers count alike; it should move into `offen_core.server.throttling` as a public
``throttle_identity`` and this file be deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from offen_core.server import ROUTE_THROTTLES, Identity, Route
from offen_core.server._email import normalize_email
from offen_core.server.operator_models import (
    CreateAccountRequest,
    ForgotPasswordRequest,
    JoinRequest,
    LoginRequest,
    ResetPasswordRequest,
)

__all__ = ["throttle_identity"]


def _email_of(route: Route, body: bytes, read_reset_email: Callable[[str], str]) -> str:
    match route:
        case Route.POST_LOGIN:
            return normalize_email(LoginRequest.parse(body).username, "username")
        case Route.POST_ACCOUNTS:
            return normalize_email(CreateAccountRequest.parse(body).email_address)
        case Route.FORGOT_PASSWORD:
            return normalize_email(ForgotPasswordRequest.parse(body).email_address)
        case Route.RESET_PASSWORD:
            # The address the reset link was sent to: checking the token costs no argon2.
            return normalize_email(read_reset_email(ResetPasswordRequest.parse(body).token))
        case Route.JOIN:
            return normalize_email(JoinRequest.parse(body).email_address)
        case _:
            return ""


def throttle_identity(
    route: Route,
    *,
    body: bytes,
    user_cookie: str,
    session_id: str,
    path_id: str,
    read_reset_email: Callable[[str], str],
) -> str:
    """Give what a route's throttle counts by.

    Args:
        route: The route.
        body: The raw request body.
        user_cookie: The ``user`` cookie, or ``""``.
        session_id: The logged-in operator's id, or ``""``.
        path_id: The id from the path, or ``""``.
        read_reset_email: Reads the address out of a reset token.

    Returns:
        The identity; ``""`` for routes without a throttle or without one.

    Raises:
        InvalidInputError: The body is too malformed to name the identity (the flow would
            refuse it the same way, 400).
        InvalidTokenError: The reset token is invalid (400 on that route).
    """
    spec = ROUTE_THROTTLES[route]
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
            return _email_of(route, body, read_reset_email)
        case _:
            return ""
