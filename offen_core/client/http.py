# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""An HTTP client for servers that speak Offen's routes (needs ``httpx``, the ``http`` extra).

`OffenClient` holds the cookies a browser would hold on the server's origin (``user``,
``auth``, ``consent``) and offers one method per route: the visitor routes in full, and a thin
operator part (login, logout, reading an account page by page) for tools such as an export.
`Visitor` plays Offen's vault on top of it: it keeps user secrets, runs the exchange, encrypts
pageviews, retries once after a 400 as the vault does, and decrypts the visitor's own events.

Errors answered by the server are raised as `OffenError` subclasses chosen by status: 400 and
413 `InvalidInputError`, 401 `InvalidCredentialsError`, 403 `ForbiddenError`, 404
`NotFoundError` (`UnknownAccountError` on the visitor routes), 409 `ConflictError`, 429
`ThrottledError` (with the ``Retry-After`` seconds), 5xx `StorageError`. Failures of the
connection itself are httpx's own exceptions (`httpx.TransportError`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx

from offen_core.client._vault import (
    create_user_secret,
    decrypt_own_event,
    encrypt_page_view,
    wrap_user_secret,
)
from offen_core.crypto import SymmetricKey
from offen_core.errors import (
    ConflictError,
    CryptoError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
    OffenError,
    StorageError,
    ThrottledError,
    UnknownAccountError,
)
from offen_core.events import PageView, parse_page_view

__all__ = ["AccountInfo", "EventsPage", "OffenClient", "Visitor"]

_DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """The public facts of an account, from ``GET /api/exchange``.

    Attributes:
        account_id: The account's id.
        name: Its name.
        public_key: Its current public key as a JWK.
        created: When it was created, as the server wrote it (RFC 3339).
    """

    account_id: str
    name: str
    public_key: Mapping[str, Any] = field(repr=False)
    created: str


@dataclass(frozen=True, slots=True)
class EventsPage:
    """A visitor's events, from ``GET /api/events``.

    Attributes:
        events: Per account id, the events as the server sent them
            (``{"accountId", "eventId", "payload"}``), payloads encrypted.
        deleted_events: Ids of events deleted since the cursor.
        sequence: The cursor for the next call, or ``None`` to keep the previous one.
        retention_period: The server's retention setting.
        more: Whether the server has more for this cursor (a full page).
    """

    events: Mapping[str, list[dict[str, Any]]]
    deleted_events: tuple[str, ...]
    sequence: str | None
    retention_period: str | None
    more: bool


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return response.reason_phrase


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _error_for(response: httpx.Response, *, visitor_route: bool) -> OffenError:
    """Turn an error answer into the matching OffenError (see the module docstring)."""
    status = response.status_code
    message = _message(response)
    if status in (400, 413):
        return InvalidInputError(None, message)
    if status == 401:
        return InvalidCredentialsError(message)
    if status == 403:
        return ForbiddenError(message)
    if status == 404:
        return UnknownAccountError(message) if visitor_route else NotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if status == 429:
        return ThrottledError(_retry_after(response), message)
    return StorageError(f"the server answered {status}: {message}")


def _page_params(since: str | None, limit: int | None) -> dict[str, str]:
    """The query of a paged read: ``since`` when there is a cursor, ``limit`` when set."""
    params: dict[str, str] = {}
    if since:
        params["since"] = since
    if limit is not None:
        params["limit"] = str(limit)
    return params


class OffenClient:
    """A client for one server that speaks Offen's routes.

    It keeps the server's cookies the way a browser does, so a sequence of calls acts as one
    visitor (the ``user`` cookie) or one operator (the ``auth`` cookie). It is not safe to
    share between threads.

    Args:
        base_url: The server's origin, such as ``https://analytics.example.com``.
        transport: An httpx transport, for example `httpx.WSGITransport` to talk to a WSGI
            app in-process in tests; the network by default.
        timeout: Seconds to wait for each answer.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- cookies ------------------------------------------------------------------------

    @property
    def user_id(self) -> str | None:
        """The visitor id in the ``user`` cookie, or ``None`` when there is none."""
        return self._cookie("user")

    def set_consent(self, allow: bool) -> None:
        """Set the ``consent`` cookie as the vault does when the visitor decides.

        Args:
            allow: ``True`` for ``consent=allow`` (events are stored), ``False`` for
                ``consent=deny`` (the server silently drops events).
        """
        self._http.cookies.set("consent", "allow" if allow else "deny", path="/")

    def _cookie(self, name: str) -> str | None:
        for cookie in self._http.cookies.jar:
            if cookie.name == name and cookie.value:
                return cookie.value
        return None

    # --- plumbing -----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        visitor_route: bool = False,
    ) -> httpx.Response:
        response = self._http.request(method, path, json=body, params=params)
        if response.status_code >= 400:
            raise _error_for(response, visitor_route=visitor_route)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise StorageError("the server answered something that is not JSON") from None
        if not isinstance(data, dict):
            raise StorageError("the server answered JSON that is not an object")
        return data

    # --- visitor routes -----------------------------------------------------------------

    def get_public_key(self, account_id: str) -> AccountInfo:
        """Ask for an account's public key (``GET /api/exchange?accountId=``).

        Args:
            account_id: The account.

        Returns:
            The account's public facts.

        Raises:
            InvalidInputError: The id is not an account id.
            UnknownAccountError: No active account has this id.
        """
        response = self._request(
            "GET", "/api/exchange", params={"accountId": account_id}, visitor_route=True
        )
        data = self._json(response)
        return AccountInfo(
            account_id=str(data.get("accountId", "")),
            name=str(data.get("name", "")),
            public_key=dict(data.get("publicKey") or {}),
            created=str(data.get("created", "")),
        )

    def post_user_secret(self, account_id: str, encrypted_secret: str) -> None:
        """Store a wrapped user secret (``POST /api/exchange``); sets the ``user`` cookie.

        Args:
            account_id: The account.
            encrypted_secret: The user secret wrapped with the account's public key (see
                `offen_core.client.wrap_user_secret`).

        Raises:
            InvalidInputError: The body was refused.
            UnknownAccountError: No active account has this id.
        """
        body = {"accountId": account_id, "encryptedSecret": encrypted_secret}
        self._request("POST", "/api/exchange", body=body, visitor_route=True)

    def post_event(self, account_id: str, payload: str) -> bool:
        """Send one encrypted event (``POST /api/events``).

        Args:
            account_id: The account.
            payload: The encrypted pageview (see `offen_core.client.encrypt_page_view`).

        Returns:
            ``True`` when the server stored it (201), ``False`` when it dropped it silently
            because the ``consent`` cookie is not ``allow`` (204).

        Raises:
            InvalidInputError: No ``user`` cookie, a secret the server does not know (exchange
                again), or a refused body.
            UnknownAccountError: No active account has this id.
        """
        body = {"accountId": account_id, "payload": payload}
        response = self._request("POST", "/api/events", body=body, visitor_route=True)
        return response.status_code == 201

    def get_events(self, since: str | None = None, limit: int | None = None) -> EventsPage:
        """Read the visitor's own events (``GET /api/events``).

        Args:
            since: The ``sequence`` of the previous call, or ``None`` for everything.
            limit: The most events to return, or ``None`` for the server's default.

        Returns:
            One page of events.

        Raises:
            InvalidInputError: No ``user`` cookie, or a bad cursor or limit.
        """
        params = _page_params(since, limit)
        response = self._request("GET", "/api/events", params=params, visitor_route=True)
        if response.status_code == 204:
            return EventsPage({}, (), None, None, False)
        data = self._json(response)
        events = data.get("events") or {}
        return EventsPage(
            events={str(k): list(v) for k, v in events.items()},
            deleted_events=tuple(data.get("deletedEvents") or ()),
            sequence=data.get("sequence") or None,
            retention_period=data.get("retentionPeriod"),
            more=data.get("more") is True,
        )

    def purge(self, *, forget: bool = False) -> None:
        """Delete the visitor's events on the server (``POST /api/purge``).

        Args:
            forget: Also drop the ``user`` cookie (``?user=1``), as the vault does when the
                visitor withdraws consent.

        Raises:
            InvalidInputError: No ``user`` cookie.
        """
        params = {"user": "1"} if forget else None
        self._request("POST", "/api/purge", params=params, visitor_route=True)

    # --- operator routes (thin) ---------------------------------------------------------

    def login(self, email: str, password: str) -> dict[str, Any]:
        """Log in as an operator (``POST /api/login``); sets the ``auth`` cookie.

        Args:
            email: The operator's email address.
            password: The password.

        Returns:
            The login result as the server sent it (``accountUserId``, ``adminLevel``,
            ``accounts`` with each account's wrapped key-encryption key).

        Raises:
            InvalidCredentialsError: The server refused the credentials.
            ThrottledError: Too many attempts.
        """
        body = {"username": email, "password": password}
        return self._json(self._request("POST", "/api/login", body=body))

    def get_login(self) -> dict[str, Any]:
        """Ask who is logged in (``GET /api/login``).

        Returns:
            The login result without keys.

        Raises:
            InvalidCredentialsError: Not logged in.
        """
        return self._json(self._request("GET", "/api/login"))

    def logout(self) -> None:
        """Log out (``POST /api/logout``); the server clears the ``auth`` cookie."""
        self._request("POST", "/api/logout")

    def get_account(
        self, account_id: str, since: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """Read one page of an account (``GET /api/accounts/{id}``).

        Args:
            account_id: The account.
            since: The ``sequence`` of the previous page or sync, or ``None`` for all.
            limit: The most events per page, or ``None`` for the server's default.

        Returns:
            The account view as the server sent it; ``"more": true`` when another page
            follows, whose cursor is the view's ``sequence``.

        Raises:
            InvalidCredentialsError: Not logged in.
            ForbiddenError: No access to this account.
            NotFoundError: No such account.
        """
        path = f"/api/accounts/{account_id}"
        return self._json(self._request("GET", path, params=_page_params(since, limit)))

    def iter_account(
        self, account_id: str, since: str | None = None, limit: int | None = 1000
    ) -> Iterator[dict[str, Any]]:
        """Read an account page by page until the server has no more.

        Args:
            account_id: The account.
            since: Where to start, or ``None`` for the beginning.
            limit: The most events per page.

        Yields:
            Each page, as `get_account` returns it. Events near a page's end may come again
            on the next page (the cursor trails by a safety lag): de-duplicate by event id.

        Raises:
            InvalidCredentialsError: Not logged in.
            ForbiddenError: No access to this account.
            NotFoundError: No such account.
        """
        cursor = since
        while True:
            page = self.get_account(account_id, since=cursor, limit=limit)
            yield page
            if page.get("more") is not True or not page.get("sequence"):
                return
            cursor = str(page["sequence"])


class Visitor:
    """Plays Offen's vault for one visitor against a server.

    It keeps one user secret per account in memory (the vault keeps them in IndexedDB), runs
    the exchange when a secret is missing, and follows the vault's rules: a 400 on an event
    (no ``user`` cookie, or a secret the server does not know) makes it create a new secret,
    exchange again and resend, once.

    Args:
        client: The client whose cookies are this visitor's.
    """

    def __init__(self, client: OffenClient) -> None:
        self.client = client
        self._secrets: dict[str, SymmetricKey] = {}

    def user_secret(self, account_id: str) -> SymmetricKey | None:
        """The user secret held for an account, or ``None``.

        Args:
            account_id: The account.

        Returns:
            The secret, if one was made.
        """
        return self._secrets.get(account_id.lower())

    def ensure_user_secret(self, account_id: str, *, flush: bool = False) -> SymmetricKey:
        """Give the user secret for an account, exchanging a new one if there is none.

        Args:
            account_id: The account.
            flush: Drop the secret held and make a new one, as the vault does after a 400.

        Returns:
            The secret.

        Raises:
            InvalidInputError: The server refused the exchange.
            UnknownAccountError: No active account has this id.
        """
        key = account_id.lower()
        if flush:
            self._secrets.pop(key, None)
        secret = self._secrets.get(key)
        if secret is None:
            info = self.client.get_public_key(account_id)
            secret = create_user_secret()
            self.client.post_user_secret(account_id, wrap_user_secret(secret, info.public_key))
            self._secrets[key] = secret
        return secret

    def send_page_view(self, account_id: str, page_view: PageView | Mapping[str, Any]) -> bool:
        """Encrypt a pageview and send it, as the vault's ``relayEvent`` does.

        Args:
            account_id: The account.
            page_view: The pageview.

        Returns:
            ``True`` when stored, ``False`` when dropped for lack of consent.

        Raises:
            InvalidInputError: The pageview is invalid, or the server refused the event
                twice.
            UnknownAccountError: No active account has this id.
        """
        if not isinstance(page_view, PageView):
            parse_page_view(page_view)  # refuse a bad pageview before any exchange
        secret = self.ensure_user_secret(account_id)
        payload = encrypt_page_view(secret, page_view)
        try:
            return self.client.post_event(account_id, payload)
        except InvalidInputError:
            # The vault's rule: one new secret and one retry after a 400.
            secret = self.ensure_user_secret(account_id, flush=True)
            return self.client.post_event(account_id, encrypt_page_view(secret, page_view))

    def read_events(self, since: str | None = None) -> dict[str, dict[str, PageView]]:
        """Read and decrypt the visitor's own events.

        Events of accounts without a held secret, and events that do not decrypt, are left
        out, as the vault leaves them out.

        Args:
            since: A cursor from an earlier `EventsPage`, or ``None`` for all.

        Returns:
            Per account id, the pageviews by event id.

        Raises:
            InvalidInputError: No ``user`` cookie.
        """
        result: dict[str, dict[str, PageView]] = {}
        cursor = since
        while True:
            page = self.client.get_events(since=cursor)
            for account_id, items in page.events.items():
                secret = self.user_secret(account_id)
                if secret is None:
                    continue
                views = result.setdefault(account_id, {})
                for item in items:
                    try:
                        views[str(item["eventId"])] = decrypt_own_event(secret, item["payload"])
                    except (CryptoError, InvalidInputError, KeyError, TypeError):
                        continue
            if not page.more or not page.sequence:
                return result
            cursor = page.sequence
