# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The ASGI middleware in front of every route: body limit, security headers, access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from examples.common.accesslog import log_access
from examples.common.headers import response_headers
from examples.common.service import Outgoing
from offen_core.server import MAX_BODY_BYTES

__all__ = ["HardeningMiddleware"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


class HardeningMiddleware:
    """Bounds request bodies, sets the security headers and writes the access log.

    A body over 64 KiB (by ``Content-Length`` or by what arrives) is answered 413 before any
    route runs. Bodies are small, so the middleware reads each one whole and hands it on.

    Args:
        app: The ASGI application.
        tls: Tells, from the request's scheme, whether the answer goes out over TLS.
    """

    def __init__(self, app: Any, tls: Callable[[str], bool]) -> None:
        self.app = app
        self._tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection.

        Args:
            scope: The ASGI scope.
            receive: The ASGI receive callable.
            send: The ASGI send callable.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "/")
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response_headers(path, tls=self._tls(scope.get("scheme", "http")))
        ]
        replaced = {name for name, _ in extra}
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [
                    item for item in message.get("headers", []) if item[0].lower() not in replaced
                ]
                message = {**message, "headers": kept + extra}
            await send(message)

        try:
            body = await _read_body(scope, receive)
            if body is None:
                await _send_too_large(send_with_headers)
                return
            await self.app(scope, _replay(body, receive), send_with_headers)
        finally:
            protocol = f"HTTP/{scope.get('http_version', '1.1')}"
            log_access(scope.get("method", "-"), path, protocol, status)


async def _read_body(scope: Scope, receive: Receive) -> bytes | None:
    """Read the whole body; ``None`` when it is larger than the limit."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                if int(value) > MAX_BODY_BYTES:
                    return None
            except ValueError:
                return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: Message = await receive()
        return message

    return replay


async def _send_too_large(send: Send) -> None:
    answer = Outgoing.too_large()
    content = answer.content()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
