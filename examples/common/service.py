# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What both servers share above HTTP: the flows, wired together, and one request pipeline.

A server reads a request into an `Incoming` (the route, the resolved client address, the
cookies, the raw body, the query and the id from the path) and writes the `Outgoing` it gets
back (status, JSON body, cookies, ``Retry-After``). In between, for every route alike:

1. `Service.prepare` authenticates the operator on routes that need one (401 otherwise) and
   finds what the route is throttled by (`offen_core.server.ROUTE_THROTTLES`); a body too
   malformed to name it is answered 400 at once, as the flow would, without any work;
2. the throttle step decides, told how long the server will wait: the ASGI server waits out
   a delay up to its cap, the WSGI server never waits (a sleeping worker thread is a worker
   lost); a longer delay or a spent budget is 429 with ``Retry-After``, the refused attempt
   is not counted (so a client that honours ``Retry-After`` gets through), no flow runs and
   no argon2 work is done for it;
3. `Service.run` runs the flow of `offen_core.server` and maps its errors with
   `offen_core.server.status_for` and `offen_core.server.error_body`;
4. a successful login is reported to the throttle, which forgets that email's failures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import anyio.to_thread

from examples.common.expiry import ExpiryThread
from examples.common.pages import Pages
from examples.common.settings import Settings
from offen_core.crypto import KeyPair, generate_key_pair
from offen_core.errors import OffenError, ThrottledError
from offen_core.ratelimit import TrustedProxies, client_address
from offen_core.server import (
    MAX_BODY_BYTES,
    AsyncThrottleStep,
    Cookie,
    Route,
    ThrottleStep,
    body_too_large,
    error_body,
    make_async_throttle,
    make_throttle,
    throttle_identity,
)
from offen_core.server.mail import Mailer, OutboxMailer, SmtpMailer
from offen_core.server.operators import AUTH_COOKIE, Operators, OperatorSession
from offen_core.server.visitors import USER_COOKIE, VisitorFlows, consent_given
from offen_core.storage import Store

__all__ = ["AUTH_ROUTES", "Incoming", "Outgoing", "Service"]

_log = logging.getLogger(__name__)

AUTH_ROUTES: Final = frozenset(
    {
        Route.GET_LOGIN,
        Route.GET_ACCOUNT,
        Route.POST_ACCOUNTS,
        Route.DELETE_ACCOUNT,
        Route.CHANGE_PASSWORD,
        Route.CHANGE_EMAIL,
        Route.SHARE_ACCOUNT,
    }
)
"""The routes that need the ``auth`` cookie of a logged-in operator."""

_RECOVERY_OFF: Final = (
    "recovery keys are not enabled on this instance; use POST /api/forgot-password"
)


@dataclass(frozen=True, slots=True)
class Incoming:
    """What a server read from a request.

    Attributes:
        route: The route.
        address: The client address, resolved with `Service.client_address`.
        cookies: The request's cookies.
        body: The raw body (at most 64 KiB; larger ones never get here).
        query: The query parameters (the first value of each).
        path_id: The ``{id}`` of ``/api/accounts/{id}`` or ``/api/share-account/{id}``.
    """

    route: Route
    address: str = ""
    cookies: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)
    path_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a server answers.

    Attributes:
        status: The status code.
        body: The JSON body, or ``None`` for none.
        cookies: The cookies to set or clear.
        retry_after: The ``Retry-After`` header, on 429.
    """

    status: int
    body: Mapping[str, Any] | None = None
    cookies: tuple[Cookie, ...] = ()
    retry_after: str | None = None

    def content(self) -> bytes:
        """The body as compact JSON bytes (empty when there is no body)."""
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @staticmethod
    def too_large() -> Outgoing:
        """The 413 answer for a body over 64 KiB.

        Returns:
            The answer.
        """
        return Outgoing(413, dict(body_too_large()))

    @staticmethod
    def for_status(status: int) -> Outgoing:
        """The answer of the HTTP framework itself (no such route, method not allowed).

        Args:
            status: The framework's status code.

        Returns:
            The answer, with the same message in both servers.
        """
        messages = {
            400: "the request is not valid",
            404: "there is no such route",
            405: "this route does not take this method",
            413: f"the request body is larger than {MAX_BODY_BYTES} bytes; send less",
        }
        message = messages.get(status, "the request failed")
        return Outgoing(status, {"error": message, "status": status})

    @staticmethod
    def not_found(message: str = "there is no such route") -> Outgoing:
        """A 404 answer in Offen's error shape.

        Args:
            message: The error message.

        Returns:
            The answer.
        """
        return Outgoing(404, {"error": message, "status": 404})


@dataclass(frozen=True, slots=True)
class _Prepared:
    incoming: Incoming
    identity: str = field(default="", repr=False)
    session: OperatorSession | None = None
    answer: Outgoing | None = None


def _retry_after(seconds: float) -> str:
    whole = int(seconds) if seconds == int(seconds) else int(seconds) + 1
    return str(max(1, whole))


class Service:
    """The flows of one server process, and the request pipeline both servers share.

    Args:
        settings: The settings.
        store: A Store to use instead of opening ``settings.database_url`` (tests); it is
            not closed by `close`.
        clock: The flows' clock (aware datetimes); the system clock by default.
        key_pair_factory: Makes accounts' RSA key pairs (tests pass
            `offen_core.testing.KeyPairPool`).
        mailer: The mailer; by default SMTP when ``settings.smtp_host`` is set, else the
            outbox folder.
        throttle_clock: The throttle's clock (epoch seconds), for tests.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        clock: Callable[[], datetime] | None = None,
        key_pair_factory: Callable[[], KeyPair] = generate_key_pair,
        mailer: Mailer | None = None,
        throttle_clock: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self.config = settings.server_config()
        self._owns_store = store is None
        self.store = store if store is not None else Store(settings.database_url)
        self.visitors = VisitorFlows(self.store, self.config, clock=clock)
        self.operators = Operators(
            self.store,
            self.config,
            mailer=mailer if mailer is not None else _default_mailer(settings),
            key_pair_factory=key_pair_factory,
            clock=clock,
            argon2_threads=settings.argon2_threads,
        )
        self.proxies = TrustedProxies(settings.trusted_proxies, header=settings.forwarded_header)
        self.pages = Pages(demo_account_id=self._demo_account_id)
        self._throttle_options: dict[str, Any] = {"key_prefix": settings.ratelimit_prefix}
        if throttle_clock is not None:
            self._throttle_options["clock"] = throttle_clock
        self._lock = threading.Lock()
        self._started = False
        self._expiry: ExpiryThread | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Migrate the database (if configured) and start the expiry thread, once."""
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            if self.settings.migrate:
                self.store.migrate()
            self._started = True
            if self.settings.expiry_interval > 0:
                self._expiry = ExpiryThread(
                    self.store, self.config.retention, self.settings.expiry_interval
                )
                self._expiry.start()

    def close(self) -> None:
        """Stop the expiry thread and close the Store if this service opened it."""
        if self._expiry is not None:
            self._expiry.stop()
            self._expiry = None
        if self._owns_store:
            self.store.close()

    def throttle_step(self) -> ThrottleStep:
        """Build the synchronous throttle step (for the WSGI server).

        Returns:
            The step, on ``settings.ratelimit_storage``.
        """
        throttle = make_throttle(
            self.config, self.settings.ratelimit_storage, **self._throttle_options
        )
        return ThrottleStep(throttle)

    def async_throttle_step(self) -> AsyncThrottleStep:
        """Build the asynchronous throttle step (for the ASGI server); call it in its loop.

        Returns:
            The step, on ``settings.ratelimit_storage``.
        """
        throttle = make_async_throttle(
            self.config, self.settings.ratelimit_storage, **self._throttle_options
        )
        return AsyncThrottleStep(throttle)

    # --- addresses and pages ------------------------------------------------------------

    def client_address(
        self, peer: str | None, headers: Mapping[str, str] | Iterable[tuple[Any, Any]]
    ) -> str:
        """Resolve the client address of a request.

        Args:
            peer: The socket peer's address.
            headers: The request headers.

        Returns:
            The peer, or the address a trusted proxy forwarded.
        """
        return client_address(peer, headers, self.proxies)

    def tls(self, scheme: str) -> bool:
        """Tell whether an answer goes out over TLS (HSTS is sent then).

        Args:
            scheme: The request's scheme as the server saw it.

        Returns:
            True for an https request or an https public URL.
        """
        return scheme == "https" or self.settings.public_tls

    def _demo_account_id(self) -> str:
        if self.settings.demo_account_id:
            return self.settings.demo_account_id
        try:
            accounts = self.store.list_accounts()
        except OffenError:
            return ""
        active = sorted(
            (item for item in accounts if not item.retired), key=lambda item: item.created
        )
        return active[0].account_id if active else ""

    # --- the pipeline -------------------------------------------------------------------

    def handle(self, incoming: Incoming, step: ThrottleStep) -> Outgoing:
        """Answer a request, refusing every throttle delay at once, uncounted (the WSGI way).

        Args:
            incoming: The request.
            step: The synchronous throttle step.

        Returns:
            The answer.
        """
        prepared = self.prepare(incoming)
        if prepared.answer is not None:
            return prepared.answer
        try:
            decision = step.check(incoming.route, prepared.identity, incoming.address, max_wait=0.0)
            decision.raise_if_refused()
        except ThrottledError as error:
            return self.throttled(error)
        except OffenError as error:
            return self.failure(error, incoming.route)
        answer = self.run(prepared)
        if incoming.route is Route.POST_LOGIN and answer.status == 200:
            self._report_login(lambda: step.login_succeeded(prepared.identity, incoming.address))
        return answer

    async def handle_async(
        self,
        incoming: Incoming,
        step: AsyncThrottleStep,
        *,
        max_wait: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> Outgoing:
        """Answer a request, waiting out throttle delays up to ``max_wait`` (the ASGI way).

        The flows run in a worker thread; the wait is an ``await``, which holds no thread.

        Args:
            incoming: The request.
            step: The asynchronous throttle step.
            max_wait: The longest delay waited out; longer ones are refused with 429.
            sleep: How to wait (tests pass one that advances a fake clock).

        Returns:
            The answer.
        """
        if incoming.route in AUTH_ROUTES:
            # Authentication reads the operator from the database.
            prepared = await anyio.to_thread.run_sync(self.prepare, incoming)
        else:
            prepared = self.prepare(incoming)
        if prepared.answer is not None:
            return prepared.answer
        try:
            decision = await step.check(
                incoming.route, prepared.identity, incoming.address, max_wait=max_wait
            )
            delay = decision.wait_time(max_wait)
        except ThrottledError as error:
            return self.throttled(error)
        except OffenError as error:
            return self.failure(error, incoming.route)
        if delay > 0:
            await sleep(delay)
        answer = await anyio.to_thread.run_sync(self.run, prepared)
        if incoming.route is Route.POST_LOGIN and answer.status == 200:
            try:
                await step.login_succeeded(prepared.identity, incoming.address)
            except OffenError as error:
                _log.warning("could not report a login to the throttle (%s)", type(error).__name__)
        return answer

    def _report_login(self, report: Callable[[], None]) -> None:
        try:
            report()
        except OffenError as error:
            _log.warning("could not report a login to the throttle (%s)", type(error).__name__)

    def prepare(self, incoming: Incoming) -> _Prepared:
        """Authenticate and find the throttle identity of a request (step 1 of the pipeline).

        Args:
            incoming: The request.

        Returns:
            What the throttle and the flow need, or an answer when the request ends here.
        """
        route = incoming.route
        if route is Route.RECOVER and not self.config.recovery_mode:
            return _Prepared(incoming, answer=Outgoing.not_found(_RECOVERY_OFF))
        session = None
        if route in AUTH_ROUTES:
            try:
                session = self.operators.authenticate(incoming.cookies.get(AUTH_COOKIE))
            except OffenError as error:
                clear = bool(incoming.cookies.get(AUTH_COOKIE))
                return _Prepared(incoming, answer=self.failure(error, route, clear_auth=clear))
        try:
            identity = throttle_identity(
                route,
                body=incoming.body,
                user_cookie=incoming.cookies.get(USER_COOKIE, ""),
                session_id=session.account_user_id if session is not None else "",
                path_id=incoming.path_id or "",
                read_reset_email=lambda token: self.operators.tokens.read_reset(token).email,
            )
        except OffenError as error:
            return _Prepared(incoming, answer=self.failure(error, route))
        return _Prepared(incoming, identity=identity, session=session)

    def run(self, prepared: _Prepared) -> Outgoing:
        """Run the flow of a prepared request and map its errors (step 3 of the pipeline).

        Args:
            prepared: From `prepare`.

        Returns:
            The answer.
        """
        route = prepared.incoming.route
        try:
            result = self._dispatch(prepared)
        except OffenError as error:
            return self.failure(error, route)
        except Exception as error:
            # A defect, not a bad request: answer a plain 500 and keep details in the log.
            _log.error("%s failed unexpectedly (%s)", route.value, type(error).__name__)
            _log.debug("details", exc_info=True)
            return Outgoing(500, {"error": "the server failed; try again later", "status": 500})
        return result

    def failure(self, error: OffenError, route: Route, *, clear_auth: bool = False) -> Outgoing:
        """Map an error to its answer, through `offen_core.server.status_for`.

        Args:
            error: The error a flow raised.
            route: The route.
            clear_auth: Also clear the ``auth`` cookie (a bad token on an operator route).

        Returns:
            The answer.
        """
        if isinstance(error, ThrottledError):
            return self.throttled(error)
        body = error_body(error, route)
        status = body["status"]
        if status >= 500:
            _log.warning("%s answered %d (%s)", route.value, status, type(error).__name__)
        cookies: tuple[Cookie, ...] = ()
        if clear_auth:
            cookies = (_lax(self.config.cleared_cookie(AUTH_COOKIE)),)
        return Outgoing(status, dict(body), cookies)

    def throttled(self, error: ThrottledError) -> Outgoing:
        """The 429 answer of a refused attempt.

        Args:
            error: The refusal.

        Returns:
            The answer, with ``Retry-After``.
        """
        body = dict(error_body(error))
        return Outgoing(429, body, retry_after=_retry_after(error.retry_after))

    def _dispatch(self, prepared: _Prepared) -> Outgoing:
        incoming = prepared.incoming
        route = incoming.route
        cookies = incoming.cookies
        query = incoming.query
        user = cookies.get(USER_COOKIE)
        operators = self.operators
        session = prepared.session
        result: Any
        match route:
            case Route.HEALTHZ:
                self.store.ping()
                return Outgoing(200, {"ok": True})
            case Route.VERSIONZ:
                return Outgoing(200, {"revision": self.settings.revision})
            case Route.GET_EXCHANGE:
                result = self.visitors.public_key(query.get("accountId"))
            case Route.POST_EXCHANGE:
                result = self.visitors.exchange(user, incoming.body)
            case Route.POST_EVENTS:
                consent = consent_given(cookies.get("consent"))
                result = self.visitors.post_event(user, consent, incoming.body)
            case Route.GET_EVENTS:
                result = self.visitors.events(user, query.get("since"), query.get("limit"))
            case Route.PURGE:
                result = self.visitors.purge(user, forget=bool(query.get("user")))
            case Route.POST_LOGIN:
                result = operators.login(incoming.body)
            case Route.GET_LOGIN:
                result = operators.login_status(_need(session))
            case Route.LOGOUT:
                result = operators.logout()
            case Route.GET_SETUP:
                result = operators.setup_status()
            case Route.POST_SETUP:
                result = operators.setup(incoming.body)
            case Route.GET_ACCOUNT:
                result = operators.account_view(
                    _need(session),
                    incoming.path_id,
                    since=query.get("since"),
                    limit=query.get("limit"),
                )
            case Route.POST_ACCOUNTS:
                result = operators.create_account(_need(session), incoming.body)
            case Route.DELETE_ACCOUNT:
                result = operators.retire_account(_need(session), incoming.path_id)
            case Route.CHANGE_PASSWORD:
                result = operators.change_password(_need(session), incoming.body)
            case Route.CHANGE_EMAIL:
                result = operators.change_email(_need(session), incoming.body)
            case Route.FORGOT_PASSWORD:
                result = operators.forgot_password(incoming.body)
            case Route.RESET_PASSWORD:
                result = operators.reset_password(incoming.body)
            case Route.SHARE_ACCOUNT:
                result = operators.share_account(_need(session), incoming.body, incoming.path_id)
            case Route.JOIN:
                result = operators.join(incoming.body)
            case Route.RECOVER:
                result = operators.recover(incoming.body)
            case _:
                return Outgoing.not_found(_RECOVERY_OFF)
        return Outgoing(result.status, result.body(), tuple(result.cookies))


def _need(session: OperatorSession | None) -> OperatorSession:
    # `prepare` answers 401 before a flow of AUTH_ROUTES runs without a session.
    assert session is not None
    return session


def _lax(cookie: Cookie) -> Cookie:
    # The auth cookie is SameSite=Lax (first-party), as Offen sets it; clear it the same way.
    return Cookie(
        cookie.name,
        cookie.value,
        cookie.expires,
        path=cookie.path,
        http_only=cookie.http_only,
        secure=cookie.secure,
        same_site="Lax",
    )


def _default_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            sender=settings.mail_sender,
            security=settings.smtp_security,
        )
    return OutboxMailer(
        Path(settings.mail_outbox),
        sender=settings.mail_sender,
        print_to_console=settings.mail_console,
    )
