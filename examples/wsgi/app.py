# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The Flask (WSGI) example server: routing, cookies and status codes over `offen_core.server`.

Run it with::

    OFFEN_CORE_SECRET=$(offen-core secret -q) gunicorn 'examples.wsgi.app:create_app()'

Every request goes through `examples.common.Service`: the throttle step before the flow. A
WSGI worker that sleeps serves nobody else meanwhile, so this server never waits out a
throttle delay: it refuses at once with 429 and ``Retry-After``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from examples.common.accesslog import configure_logging, log_access
from examples.common.headers import response_headers
from examples.common.routes import allowed_methods
from examples.common.service import Incoming, Outgoing, Service
from examples.common.settings import Settings
from examples.common.wire import parse_cookie_header, parse_query
from offen_core.server import MAX_BODY_BYTES, Route

__all__ = ["HardeningMiddleware", "create_app"]

StartResponse = Callable[..., Any]


class HardeningMiddleware:
    """Bounds request bodies, sets the security headers and writes the access log (WSGI).

    Args:
        app: The WSGI application.
        tls: Tells, from the request's scheme, whether the answer goes out over TLS.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], tls: Callable[[str], bool]) -> None:
        self.app = app
        self._tls = tls

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request.

        Args:
            environ: The WSGI environment.
            start_response: The WSGI ``start_response``.

        Returns:
            The body.
        """
        path = environ.get("PATH_INFO", "/") or "/"
        extra = response_headers(path, tls=self._tls(environ.get("wsgi.url_scheme", "http")))
        replaced = {name.lower() for name, _ in extra}
        status = 500

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status
            status = int(code.split(" ", 1)[0])
            kept = [item for item in headers if item[0].lower() not in replaced]
            return start_response(code, kept + extra, exc_info)

        try:
            if _declared_length(environ) > MAX_BODY_BYTES or not _buffer_stream(environ):
                content = Outgoing.too_large().content()
                start(
                    "413 Request Entity Too Large",
                    [
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(content))),
                        ("Connection", "close"),
                    ],
                )
                return [content]
            return self.app(environ, start)
        finally:
            log_access(
                environ.get("REQUEST_METHOD", "-"),
                path,
                environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                status,
            )


def _buffer_stream(environ: dict[str, Any]) -> bool:
    """Read a body sent without ``Content-Length`` (chunked) into memory, up to the limit.

    Returns:
        ``False`` when the body is larger than the limit.
    """
    if (
        environ.get("CONTENT_LENGTH")
        or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        return True
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        chunk = stream.read(min(16_384, MAX_BODY_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY_BYTES:
        return False
    body = b"".join(chunks)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return True


def _declared_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_BODY_BYTES + 1


def _render(answer: Outgoing) -> Response:
    response = Response(answer.content(), status=answer.status)
    if answer.body is not None:
        response.headers["Content-Type"] = "application/json"
    else:
        response.headers.remove("Content-Type")
    for cookie in answer.cookies:
        response.headers.add("Set-Cookie", cookie.header_value())
    if answer.retry_after is not None:
        response.headers["Retry-After"] = answer.retry_after
    return response


# (path, methods, route, has an id in the path)
_API: tuple[tuple[str, str, Route], ...] = (
    ("/healthz", "GET", Route.HEALTHZ),
    ("/versionz", "GET", Route.VERSIONZ),
    ("/api/exchange", "GET", Route.GET_EXCHANGE),
    ("/api/exchange", "POST", Route.POST_EXCHANGE),
    ("/api/events", "GET", Route.GET_EVENTS),
    ("/api/events", "POST", Route.POST_EVENTS),
    ("/api/purge", "POST", Route.PURGE),
    ("/api/login", "GET", Route.GET_LOGIN),
    ("/api/login", "POST", Route.POST_LOGIN),
    ("/api/logout", "POST", Route.LOGOUT),
    ("/api/accounts", "POST", Route.POST_ACCOUNTS),
    ("/api/accounts/<account_id>", "GET", Route.GET_ACCOUNT),
    ("/api/accounts/<account_id>", "DELETE", Route.DELETE_ACCOUNT),
    ("/api/change-password", "POST", Route.CHANGE_PASSWORD),
    ("/api/change-email", "POST", Route.CHANGE_EMAIL),
    ("/api/forgot-password", "POST", Route.FORGOT_PASSWORD),
    ("/api/reset-password", "POST", Route.RESET_PASSWORD),
    ("/api/share-account", "POST", Route.SHARE_ACCOUNT),
    ("/api/share-account/<account_id>", "POST", Route.SHARE_ACCOUNT),
    ("/api/join", "POST", Route.JOIN),
    ("/api/recover", "POST", Route.RECOVER),
    ("/api/setup", "GET", Route.GET_SETUP),
    ("/api/setup", "POST", Route.POST_SETUP),
)

_PAGES: tuple[str, ...] = (
    "/",
    "/script.js",
    "/vault",
    "/vault/",
    "/visitor",
    "/visitor/",
    "/demo",
    "/demo/<path:rest>",
    "/browser/<name>",
    "/join/<token>",
    "/reset-password/<token>",
)


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> Flask:
    """Build the Flask example server.

    Args:
        settings: The settings; read from ``OFFEN_CORE_*`` environment variables if omitted.
        service: A service to use (tests pass one with a test Store and clock); built from
            ``settings`` if omitted.

    Returns:
        The application. Its database is migrated and its expiry thread started on the first
        request, inside the worker process (a thread started before gunicorn forks would not
        survive the fork).

    Raises:
        InvalidInputError: A setting is missing or invalid.
    """
    if service is None:
        service = Service(settings if settings is not None else Settings.from_env(os.environ))
    current = service
    configure_logging(current.settings.log_level, access_log=current.settings.access_log)
    step = current.throttle_step()

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["offen_core_service"] = current
    app.extensions["offen_core_throttle_step"] = step
    app.wsgi_app = HardeningMiddleware(app.wsgi_app, current.tls)  # type: ignore[method-assign]

    def handler(route: Route) -> Callable[..., Response]:
        def view(account_id: str | None = None) -> Response:
            current.start()
            environ = request.environ
            incoming = Incoming(
                route=route,
                address=current.client_address(request.remote_addr, list(request.headers.items())),
                cookies=parse_cookie_header(request.headers.get("Cookie")),
                body=request.get_data(cache=False),
                query=parse_query(environ.get("QUERY_STRING", "")),
                path_id=account_id,
            )
            return _render(current.handle(incoming, step))

        return view

    for path, method, route in _API:
        name = f"{route.name.lower()}{'_id' if '<' in path else ''}"
        app.add_url_rule(
            path,
            name,
            handler(route),
            methods=[method],
            strict_slashes=False,
            provide_automatic_options=False,
        )

    def page(**_: str) -> Response:
        found = current.pages.lookup(request.path)
        if found is None:
            return _render(Outgoing.not_found())
        return Response(found.body, content_type=found.content_type)

    for path in _PAGES:
        app.add_url_rule(
            path,
            f"page {path}",
            page,
            methods=["GET"],
            strict_slashes=False,
            provide_automatic_options=False,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = _render(Outgoing.for_status(error.code or 500))
        if error.code == 405:
            response.headers["Allow"] = allowed_methods(request.path)
        return response

    @app.before_request
    def no_head() -> None:
        # Werkzeug answers HEAD for every GET route; the ASGI server does not, and the two
        # must answer alike.
        if request.method == "HEAD":
            raise MethodNotAllowed()

    return app
