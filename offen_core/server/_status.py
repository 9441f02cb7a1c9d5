# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The routes a server speaks and the one place that maps errors to HTTP status codes.

Every error a flow raises is an `OffenError` subclass; `status_for` turns it into the status
code of the design's "Routes and status codes" table and `error_body` into Offen's error body
``{"error": "<message>", "status": <code>}``. The HTTP layer of a server calls these two and
nothing else, so every framework answers alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final, Protocol, TypedDict

from offen_core.errors import (
    AuthError,
    ConflictError,
    CryptoError,
    DatabaseUnavailableError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    InvalidTokenError,
    NotFoundError,
    OffenError,
    StorageError,
    ThrottledError,
    ThrottleStorageError,
    UnknownAccountError,
    UnknownSecretError,
)
from offen_core.server._config import Cookie

__all__ = [
    "MAX_BODY_BYTES",
    "ErrorBody",
    "FlowResult",
    "Route",
    "body_too_large",
    "error_body",
    "status_for",
]

MAX_BODY_BYTES: Final = 64 * 1024
"""The largest request body a server accepts; larger ones get 413 (see `body_too_large`)."""


class Route(StrEnum):
    """Every route of a server that speaks Offen's API, named ``"METHOD /path"``.

    Paths with a parameter name it in braces (``/api/accounts/{id}``). The throttle table and
    the status mapping are keyed by these values.
    """

    HEALTHZ = "GET /healthz"
    VERSIONZ = "GET /versionz"
    GET_EXCHANGE = "GET /api/exchange"
    POST_EXCHANGE = "POST /api/exchange"
    GET_EVENTS = "GET /api/events"
    POST_EVENTS = "POST /api/events"
    PURGE = "POST /api/purge"
    POST_LOGIN = "POST /api/login"
    GET_LOGIN = "GET /api/login"
    LOGOUT = "POST /api/logout"
    GET_ACCOUNT = "GET /api/accounts/{id}"
    POST_ACCOUNTS = "POST /api/accounts"
    DELETE_ACCOUNT = "DELETE /api/accounts/{id}"
    CHANGE_PASSWORD = "POST /api/change-password"  # noqa: S105 (a route, not a password)
    CHANGE_EMAIL = "POST /api/change-email"
    FORGOT_PASSWORD = "POST /api/forgot-password"  # noqa: S105
    RESET_PASSWORD = "POST /api/reset-password"  # noqa: S105
    SHARE_ACCOUNT = "POST /api/share-account"
    JOIN = "POST /api/join"
    RECOVER = "POST /api/recover"
    GET_SETUP = "GET /api/setup"
    POST_SETUP = "POST /api/setup"


# Routes whose token travels in the body (reset, join): a bad token there is a bad request,
# while a bad `auth` cookie on any other route means "not authenticated".
_BODY_TOKEN_ROUTES: Final = frozenset({Route.RESET_PASSWORD, Route.JOIN})

# Server-side failures answer with a fixed message: the error's own text may name a database
# URL, a driver message or SQL, none of which a client should see.
_SERVER_MESSAGES: Final = {
    500: "the server could not complete the request; try again later",
    502: "the database cannot be reached",
    503: "a service the server depends on is unavailable; try again later",
}


class FlowResult(Protocol):
    """What every flow returns: enough for the HTTP layer to answer without any logic.

    A server answers ``status`` with ``body()`` as JSON (no body when it is ``None``) and sets
    each of ``cookies``.
    """

    @property
    def status(self) -> int:
        """The HTTP status code of the answer."""
        ...

    @property
    def cookies(self) -> tuple[Cookie, ...]:
        """The cookies to set or clear, in order."""
        ...

    def body(self) -> Mapping[str, Any] | None:
        """The JSON body in Offen's shape, or ``None`` for an empty answer."""
        ...


class NoCookies:
    """A base for flow results that set no cookie: supplies `FlowResult.cookies` as empty."""

    __slots__ = ()

    @property
    def cookies(self) -> tuple[Cookie, ...]:
        """None: the answer sets no cookie."""
        return ()


class ErrorBody(TypedDict):
    """Offen's JSON error body."""

    error: str
    status: int


def status_for(error: OffenError, route: Route | None = None) -> int:
    """Give the HTTP status code for an error raised by a flow.

    The mapping, most specific class first:

    | error | status |
    |---|---|
    | `InvalidInputError` (and `PasswordPolicyError`), `CryptoError` | 400 |
    | `UnknownSecretError` (the client must exchange again) | 400 |
    | `UnknownAccountError`, other `NotFoundError` | 404 |
    | `ConflictError` | 409 |
    | `DatabaseUnavailableError` | 502 on ``GET /healthz``, else 503 |
    | other `StorageError` | 500 |
    | `InvalidCredentialsError` | 401 |
    | `ForbiddenError` | 403 |
    | `InvalidTokenError` | 400 on reset-password and join (a token in the body), else 401 |
    | other `AuthError` | 401 |
    | `ThrottledError` | 429 (send ``Retry-After``) |
    | `ThrottleStorageError` | 503 |
    | any other `OffenError` | 500 |

    Args:
        error: The error.
        route: The route that raised it, where the status depends on it.

    Returns:
        The status code.
    """
    match error:
        case InvalidInputError() | CryptoError() | UnknownSecretError():
            return 400
        case UnknownAccountError() | NotFoundError():
            return 404
        case ConflictError():
            return 409
        case DatabaseUnavailableError():
            return 502 if route is Route.HEALTHZ else 503
        case StorageError():
            return 500
        case InvalidCredentialsError():
            return 401
        case ForbiddenError():
            return 403
        case InvalidTokenError():
            return 400 if route in _BODY_TOKEN_ROUTES else 401
        case AuthError():
            return 401
        case ThrottledError():
            return 429
        case ThrottleStorageError():
            return 503
        case _:
            return 500


def error_body(error: OffenError, route: Route | None = None) -> ErrorBody:
    """Give Offen's error body for an error raised by a flow.

    For a 4xx status the message is the error's own text, which by the library's rule says
    what was wrong without secrets, ids, emails or addresses. For a 5xx status it is a fixed
    sentence, so no database URL, driver message or SQL reaches a client; log the error itself
    on the server if you need it.

    Args:
        error: The error.
        route: The route that raised it (see `status_for`).

    Returns:
        ``{"error": message, "status": code}``.
    """
    status = status_for(error, route)
    message = _SERVER_MESSAGES.get(status, _SERVER_MESSAGES[500]) if status >= 500 else str(error)
    return {"error": message, "status": status}


def body_too_large() -> ErrorBody:
    """Give the error body for a request body over `MAX_BODY_BYTES` (status 413).

    Returns:
        ``{"error": message, "status": 413}``.
    """
    return {
        "error": f"the request body is larger than {MAX_BODY_BYTES} bytes; send less",
        "status": 413,
    }
