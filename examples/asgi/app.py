# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The FastAPI (ASGI) example server: routing, cookies and status codes over `offen_core.server`.

Run it with::

    OFFEN_CORE_SECRET=$(offen-core secret -q) uvicorn examples.asgi.app:app --no-proxy-headers

``app`` is built from the environment when first looked up; `create_app` builds one from
explicit settings (``uvicorn --factory examples.asgi.app:create_app`` reads the environment
too). Every request goes through `examples.common.Service`: the throttle step before the flow,
waiting out delays up to ``OFFEN_CORE_THROTTLE_WAIT_CAP`` seconds (an ``await`` holds no
thread) and refusing longer ones with 429.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Cookie, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from examples.asgi.middleware import HardeningMiddleware
from examples.common.accesslog import configure_logging
from examples.common.routes import BODY_SCHEMAS, STATUSES, allowed_methods
from examples.common.service import Incoming, Outgoing, Service
from examples.common.settings import Settings
from examples.common.wire import parse_cookie_header, parse_query
from offen_core.server import Route

__all__ = ["create_app"]

_OptionalCookie = Annotated[str | None, Cookie()]
_OptionalQuery = Annotated[str | None, Query()]


def _render(answer: Outgoing) -> Response:
    content = answer.content()
    response = Response(
        content=content,
        status_code=answer.status,
        media_type="application/json" if answer.body is not None else None,
    )
    for cookie in answer.cookies:
        response.headers.append("set-cookie", cookie.header_value())
    if answer.retry_after is not None:
        response.headers["retry-after"] = answer.retry_after
    return response


def _docs(route: Route) -> dict[str, Any]:
    """The OpenAPI extras of a route: its body schema and documented statuses."""
    extra: dict[str, Any] = {}
    schema = BODY_SCHEMAS.get(route)
    if schema is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    responses = {
        str(code): {"description": "see docs/guides/examples.md"}
        for code in (*STATUSES[route], 413, 429)
    }
    return {"openapi_extra": extra, "responses": responses}


def create_app(
    settings: Settings | None = None,
    *,
    service: Service | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> FastAPI:
    """Build the FastAPI example server.

    Args:
        settings: The settings; read from ``OFFEN_CORE_*`` environment variables if omitted.
        service: A service to use (tests pass one with a test Store and clock); built from
            ``settings`` if omitted.
        sleep: How the server waits out throttle delays (tests pass a fake).

    Returns:
        The application.

    Raises:
        InvalidInputError: A setting is missing or invalid.
    """
    if service is None:
        service = Service(settings if settings is not None else Settings.from_env(os.environ))
    current = service
    configure_logging(current.settings.log_level, access_log=current.settings.access_log)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(current.start)
        app.state.step = current.async_throttle_step()
        try:
            yield
        finally:
            await app.state.step.throttle.aclose()
            await anyio.to_thread.run_sync(current.close)

    app = FastAPI(
        title="offen_core example server (FastAPI)",
        version=current.settings.revision,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = current
    app.add_middleware(HardeningMiddleware, tls=current.tls)

    async def answer(request: Request, route: Route, path_id: str | None = None) -> Response:
        peer = request.client.host if request.client is not None else None
        incoming = Incoming(
            route=route,
            address=current.client_address(peer, request.headers.raw),
            cookies=parse_cookie_header(request.headers.get("cookie")),
            body=await request.body(),
            query=parse_query(request.scope.get("query_string", b"")),
            path_id=path_id,
        )
        result = await current.handle_async(
            incoming,
            request.app.state.step,
            max_wait=current.settings.throttle_wait_cap,
            sleep=sleep,
        )
        return _render(result)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        response = _render(Outgoing.for_status(error.status_code))
        if error.status_code == 405:
            response.headers["allow"] = allowed_methods(request.url.path)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        return _render(Outgoing.for_status(400))

    # --- health -------------------------------------------------------------------------

    @app.get("/healthz", **_docs(Route.HEALTHZ))
    async def healthz(request: Request) -> Response:
        """Check that the database answers."""
        return await answer(request, Route.HEALTHZ)

    @app.get("/versionz", **_docs(Route.VERSIONZ))
    async def versionz(request: Request) -> Response:
        """Tell the server's revision."""
        return await answer(request, Route.VERSIONZ)

    # --- visitors -----------------------------------------------------------------------

    @app.get("/api/exchange", **_docs(Route.GET_EXCHANGE))
    async def get_exchange(
        request: Request,
        accountId: _OptionalQuery = None,  # noqa: N803
    ) -> Response:
        """Give an account's public key."""
        return await answer(request, Route.GET_EXCHANGE)

    @app.post("/api/exchange", **_docs(Route.POST_EXCHANGE))
    async def post_exchange(request: Request, user: _OptionalCookie = None) -> Response:
        """Store a visitor's wrapped user secret; sets the ``user`` cookie."""
        return await answer(request, Route.POST_EXCHANGE)

    @app.post("/api/events", **_docs(Route.POST_EVENTS))
    async def post_events(
        request: Request, user: _OptionalCookie = None, consent: _OptionalCookie = None
    ) -> Response:
        """Store one encrypted event (nothing without ``consent=allow``)."""
        return await answer(request, Route.POST_EVENTS)

    @app.get("/api/events", **_docs(Route.GET_EVENTS))
    async def get_events(
        request: Request,
        user: _OptionalCookie = None,
        since: _OptionalQuery = None,
        limit: _OptionalQuery = None,
    ) -> Response:
        """Give the visitor's own events after a cursor."""
        return await answer(request, Route.GET_EVENTS)

    @app.post("/api/purge", **_docs(Route.PURGE))
    async def purge(
        request: Request,
        user: _OptionalCookie = None,
        forget: Annotated[str | None, Query(alias="user")] = None,
    ) -> Response:
        """Delete the visitor's events (``?user=1`` also clears the cookie)."""
        return await answer(request, Route.PURGE)

    # --- operators ----------------------------------------------------------------------

    @app.post("/api/login", **_docs(Route.POST_LOGIN))
    async def post_login(request: Request) -> Response:
        """Log an operator in; sets the ``auth`` cookie."""
        return await answer(request, Route.POST_LOGIN)

    @app.get("/api/login", **_docs(Route.GET_LOGIN))
    async def get_login(request: Request, auth: _OptionalCookie = None) -> Response:
        """Describe the logged-in operator."""
        return await answer(request, Route.GET_LOGIN)

    @app.post("/api/logout", **_docs(Route.LOGOUT))
    async def logout(request: Request) -> Response:
        """Clear the ``auth`` cookie."""
        return await answer(request, Route.LOGOUT)

    @app.get("/api/accounts/{account_id}", **_docs(Route.GET_ACCOUNT))
    async def get_account(
        request: Request,
        account_id: str,
        auth: _OptionalCookie = None,
        since: _OptionalQuery = None,
        limit: _OptionalQuery = None,
    ) -> Response:
        """Read an account for its operator."""
        return await answer(request, Route.GET_ACCOUNT, account_id)

    @app.post("/api/accounts", status_code=201, **_docs(Route.POST_ACCOUNTS))
    async def post_accounts(request: Request, auth: _OptionalCookie = None) -> Response:
        """Create an account (super-admins, with their credentials again)."""
        return await answer(request, Route.POST_ACCOUNTS)

    @app.delete("/api/accounts/{account_id}", status_code=204, **_docs(Route.DELETE_ACCOUNT))
    async def delete_account(
        request: Request, account_id: str, auth: _OptionalCookie = None
    ) -> Response:
        """Retire an account."""
        return await answer(request, Route.DELETE_ACCOUNT, account_id)

    @app.post("/api/change-password", status_code=204, **_docs(Route.CHANGE_PASSWORD))
    async def change_password(request: Request, auth: _OptionalCookie = None) -> Response:
        """Change the operator's password; clears the ``auth`` cookie."""
        return await answer(request, Route.CHANGE_PASSWORD)

    @app.post("/api/change-email", status_code=204, **_docs(Route.CHANGE_EMAIL))
    async def change_email(request: Request, auth: _OptionalCookie = None) -> Response:
        """Change the operator's email address; clears the ``auth`` cookie."""
        return await answer(request, Route.CHANGE_EMAIL)

    @app.post("/api/forgot-password", status_code=204, **_docs(Route.FORGOT_PASSWORD))
    async def forgot_password(request: Request) -> Response:
        """Mail a reset link if the address is known; 204 either way."""
        return await answer(request, Route.FORGOT_PASSWORD)

    @app.post("/api/reset-password", status_code=204, **_docs(Route.RESET_PASSWORD))
    async def reset_password(request: Request) -> Response:
        """Set a new password with a reset token."""
        return await answer(request, Route.RESET_PASSWORD)

    @app.post("/api/share-account", status_code=204, **_docs(Route.SHARE_ACCOUNT))
    async def share_all(request: Request, auth: _OptionalCookie = None) -> Response:
        """Share all of the operator's accounts."""
        return await answer(request, Route.SHARE_ACCOUNT)

    @app.post("/api/share-account/{account_id}", status_code=204, **_docs(Route.SHARE_ACCOUNT))
    async def share_one(
        request: Request, account_id: str, auth: _OptionalCookie = None
    ) -> Response:
        """Share one account."""
        return await answer(request, Route.SHARE_ACCOUNT, account_id)

    @app.post("/api/join", status_code=204, **_docs(Route.JOIN))
    async def join(request: Request) -> Response:
        """Accept an invitation with a token and a new password."""
        return await answer(request, Route.JOIN)

    @app.post("/api/recover", status_code=204, **_docs(Route.RECOVER))
    async def recover(request: Request) -> Response:
        """Set a new password with a recovery key (recovery-key mode only)."""
        return await answer(request, Route.RECOVER)

    @app.get("/api/setup", status_code=204, **_docs(Route.GET_SETUP))
    async def get_setup(request: Request) -> Response:
        """Tell whether the instance may be set up."""
        return await answer(request, Route.GET_SETUP)

    @app.post("/api/setup", status_code=204, **_docs(Route.POST_SETUP))
    async def post_setup(request: Request) -> Response:
        """Set up an empty instance."""
        return await answer(request, Route.POST_SETUP)

    # --- pages --------------------------------------------------------------------------

    async def page(request: Request) -> Response:
        found = current.pages.lookup(request.url.path)
        if found is None:
            return _render(Outgoing.not_found())
        return Response(content=found.body, media_type=found.content_type)

    for path in ("/", "/script.js", "/vault", "/vault/", "/visitor", "/visitor/", "/demo"):
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/demo/{rest:path}", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/browser/{name}", page, methods=["GET"], include_in_schema=False)
    for prefix in ("/join", "/reset-password"):
        for path in (f"{prefix}/{{token}}", f"{prefix}/{{token}}/"):
            app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    return app


_APP: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # `uvicorn examples.asgi.app:app` looks `app` up; build it then, from the environment,
    # so that importing this module (tests, tools) needs no configuration.
    global _APP
    if name == "app":
        if _APP is None:
            _APP = create_app()
        return _APP
    raise AttributeError(name)
