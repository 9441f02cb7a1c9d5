# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The route table both servers serve: paths, documented statuses and request body schemas.

The statuses are those of the design's "Routes and status codes" table; 413 and 429 apply to
every route. The schemas describe the JSON bodies for the FastAPI example's OpenAPI document
(bodies are parsed by `offen_core.server`, which also accepts them as ``text/plain``).
"""

from __future__ import annotations

import re
from typing import Any, Final

from offen_core.server import Route
from offen_core.server.operator_models import (
    ChangeEmailRequest,
    ChangePasswordRequest,
    CreateAccountRequest,
    ForgotPasswordRequest,
    JoinRequest,
    LoginRequest,
    ResetPasswordRequest,
    SetupRequest,
    ShareAccountRequest,
)

__all__ = ["BODY_SCHEMAS", "STATUSES", "allowed_methods"]

STATUSES: Final[dict[Route, tuple[int, ...]]] = {
    Route.HEALTHZ: (200, 502),
    Route.VERSIONZ: (200,),
    Route.GET_EXCHANGE: (200, 400, 404),
    Route.POST_EXCHANGE: (204, 400, 404),
    Route.POST_EVENTS: (201, 204, 400, 404),
    Route.GET_EVENTS: (200, 400),
    Route.PURGE: (204, 400),
    Route.POST_LOGIN: (200, 400, 401),
    Route.GET_LOGIN: (200, 401),
    Route.LOGOUT: (204,),
    Route.GET_ACCOUNT: (200, 400, 401, 403, 404),
    Route.POST_ACCOUNTS: (201, 400, 401, 403, 409),
    Route.DELETE_ACCOUNT: (204, 400, 401, 403, 404),
    Route.CHANGE_PASSWORD: (204, 400, 401),
    Route.CHANGE_EMAIL: (204, 400, 401, 409),
    Route.FORGOT_PASSWORD: (204, 400, 404),
    Route.RESET_PASSWORD: (204, 400, 404),
    Route.SHARE_ACCOUNT: (204, 400, 401, 403, 409),
    Route.JOIN: (200, 204, 400),
    Route.RECOVER: (204, 400, 401, 404),
    Route.GET_SETUP: (204, 403),
    Route.POST_SETUP: (200, 204, 400, 409),
}
"""The statuses each route answers, besides 413 and 429.

In recovery-key mode setup and join answer 200 with the new recovery key; forgot and reset
password answer 404 there, as recover does outside it.
"""

_UUID: Final = {"type": "string", "format": "uuid"}
_CIPHER: Final = {"type": "string", "maxLength": 32768}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


BODY_SCHEMAS: Final[dict[Route, dict[str, Any]]] = {
    Route.POST_EXCHANGE: _object(
        {"accountId": _UUID, "encryptedSecret": {"type": "string", "maxLength": 2048}},
        ["accountId", "encryptedSecret"],
    ),
    Route.POST_EVENTS: _object({"accountId": _UUID, "payload": _CIPHER}, ["accountId", "payload"]),
    Route.POST_LOGIN: LoginRequest.model_json_schema(by_alias=True),
    Route.POST_SETUP: SetupRequest.model_json_schema(by_alias=True),
    Route.POST_ACCOUNTS: CreateAccountRequest.model_json_schema(by_alias=True),
    Route.CHANGE_PASSWORD: ChangePasswordRequest.model_json_schema(by_alias=True),
    Route.CHANGE_EMAIL: ChangeEmailRequest.model_json_schema(by_alias=True),
    Route.FORGOT_PASSWORD: ForgotPasswordRequest.model_json_schema(by_alias=True),
    Route.RESET_PASSWORD: ResetPasswordRequest.model_json_schema(by_alias=True),
    Route.SHARE_ACCOUNT: ShareAccountRequest.model_json_schema(by_alias=True),
    Route.JOIN: JoinRequest.model_json_schema(by_alias=True),
    Route.RECOVER: _object(
        {
            "emailAddress": {"type": "string"},
            "recoveryKey": {"type": "string"},
            "password": {"type": "string"},
        },
        ["emailAddress", "recoveryKey", "password"],
    ),
}
"""The JSON schema of each route's request body."""


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(path)) + "$")


_METHODS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    *((_pattern(route.value.split(" ", 1)[1]), route.value.split(" ", 1)[0]) for route in Route),
    (_pattern("/api/share-account/{id}"), "POST"),
)


def allowed_methods(path: str) -> str:
    """Give the ``Allow`` header of a 405 answer: the methods the path's routes take.

    Both servers answer ``HEAD`` and ``OPTIONS`` with 405 alike (the frameworks would
    each add their own).

    Args:
        path: The request path.

    Returns:
        The methods, comma separated (``GET`` for the static pages).
    """
    methods = sorted({method for pattern, method in _METHODS if pattern.match(path)})
    return ", ".join(methods) or "GET"
