# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""A minimal WSGI server over `offen_core.server`, for driving the HTTP client in tests.

It does what the design asks of a server's HTTP layer and nothing more: route, read cookies
and the body (413 above 64 KiB), call the throttle step and then the flow, and write the
flow's status, JSON body and cookies; errors go through `status_for` and `error_body`.
The example servers of the project are fuller; this one keeps the client tests standalone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from offen_core.errors import NotFoundError, OffenError, ThrottledError
from offen_core.server import (
    MAX_BODY_BYTES,
    FlowResult,
    Route,
    ThrottleStep,
    body_too_large,
    error_body,
)
from offen_core.server.operators import Operators
from offen_core.server.visitors import VisitorFlows, consent_given

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_ACCOUNT_PATH = re.compile(r"/api/accounts/([^/]+)")


class TestServer:
    """A WSGI app serving the visitor routes and the operator routes a client tool needs."""

    __test__ = False  # not a test class, despite its name

    def __init__(
        self, visitors: VisitorFlows, operators: Operators, throttle: ThrottleStep
    ) -> None:
        self.visitors = visitors
        self.operators = operators
        self.throttle = throttle
        self.requests: list[tuple[str, str, int]] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        jar = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        cookies = {name: morsel.value for name, morsel in jar.items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            return self._answer(start_response, method, path, 413, dict(body_too_large()), ())
        body = environ["wsgi.input"].read(length) if length else b""
        route: Route | None = None
        try:
            route, run, identity = self._route(method, path, query, cookies, body)
            decision = self.throttle.check(route, identity, environ.get("REMOTE_ADDR", ""))
            decision.wait_time(0.0)
            result: FlowResult = run()
        except ThrottledError as error:
            headers = [("Retry-After", str(max(1, round(error.retry_after))))]
            return self._answer(
                start_response, method, path, 429, dict(error_body(error, route)), (), headers
            )
        except OffenError as error:
            payload = dict(error_body(error, route))
            return self._answer(start_response, method, path, payload["status"], payload, ())
        return self._answer(
            start_response, method, path, result.status, result.body(), result.cookies
        )

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        cookies: dict[str, str],
        body: bytes,
    ) -> tuple[Route, Callable[[], FlowResult], str]:
        user = cookies.get("user")
        flows = self.visitors
        if (method, path) == ("GET", "/api/exchange"):
            return Route.GET_EXCHANGE, lambda: flows.public_key(query.get("accountId")), ""
        if (method, path) == ("POST", "/api/exchange"):
            return Route.POST_EXCHANGE, lambda: flows.exchange(user, body), user or ""
        if (method, path) == ("POST", "/api/events"):
            consent = consent_given(cookies.get("consent"))
            return Route.POST_EVENTS, lambda: flows.post_event(user, consent, body), user or ""
        if (method, path) == ("GET", "/api/events"):
            return (
                Route.GET_EVENTS,
                lambda: flows.events(user, query.get("since"), query.get("limit")),
                user or "",
            )
        if (method, path) == ("POST", "/api/purge"):
            forget = bool(query.get("user"))
            return Route.PURGE, lambda: flows.purge(user, forget), user or ""
        if (method, path) == ("POST", "/api/login"):
            return Route.POST_LOGIN, lambda: self.operators.login(body), _username(body)
        if (method, path) == ("POST", "/api/logout"):
            return Route.LOGOUT, self.operators.logout, ""
        if (method, path) == ("GET", "/api/login"):
            operators = self.operators
            return (
                Route.GET_LOGIN,
                lambda: operators.login_status(operators.authenticate(cookies.get("auth"))),
                "",
            )
        match = _ACCOUNT_PATH.fullmatch(path)
        if method == "GET" and match:
            account_id = match.group(1)

            def view() -> FlowResult:
                session = self.operators.authenticate(cookies.get("auth"))
                return self.operators.account_view(
                    session, account_id, since=query.get("since"), limit=query.get("limit")
                )

            return Route.GET_ACCOUNT, view, account_id
        raise NotFoundError("no such route")

    def _answer(
        self,
        start_response: StartResponse,
        method: str,
        path: str,
        status: int,
        body: Any,
        cookies: Iterable[Any],
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        self.requests.append((method, path, status))
        headers = [("Cache-Control", "no-store"), *(extra or [])]
        headers += [("Set-Cookie", cookie.header_value()) for cookie in cookies]
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        return [payload]


def _username(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    value = data.get("username") if isinstance(data, dict) else None
    return value.strip().lower() if isinstance(value, str) else ""
