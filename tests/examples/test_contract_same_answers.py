# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Contract: one scripted session against both servers gives the same answers, byte for byte.

Ids, times and tokens differ between two runs; they are replaced by placeholders before the
transcripts are compared. Everything else must be equal: statuses, JSON bodies, the cookies
set (names and flags) and every security header.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from example_helpers import (
    EMAIL,
    PASSWORD,
    PAYLOAD,
    exchange,
    log_in,
    open_server,
    set_up,
)

from offen_core.storage import Store, metadata
from offen_core.testing import FakeClock

_HEADERS = (
    "cache-control",
    "content-security-policy",
    "content-type",
    "referrer-policy",
    "retry-after",
    "x-content-type-options",
    "x-frame-options",
    "strict-transport-security",
    "allow",
)
_MASKS = (
    (re.compile(r"\{\d+,\d*\} [A-Za-z0-9+/=]+( [A-Za-z0-9+/=]+)?"), "<cipher>"),
    (re.compile(r"[0-9a-f]{64}"), "<secret id>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"[0-9A-HJKMNP-TV-Z]{26}"), "<ulid>"),
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z"), "<time>"),
    (re.compile(r"Expires=[^;]+"), "Expires=<date>"),
    (re.compile(r"auth=[^;]+"), "auth=<token>"),
    (re.compile(r'"(k|n|encryptedPrivateKey)":"[^"]+"'), r'"\1":"<key>"'),
)


def _mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def _record(response: httpx.Response) -> dict[str, Any]:
    headers = {name: response.headers.get(name) for name in _HEADERS}
    headers["content-type"] = (headers["content-type"] or "").split(";")[0] or None
    return {
        "request": f"{response.request.method} {response.request.url.path}",
        "status": response.status_code,
        "body": _mask(response.text),
        "cookies": sorted(_mask(item) for item in response.headers.get_list("set-cookie")),
        "headers": headers,
    }


def _session(client: httpx.Client, server_set_up: Any) -> list[dict[str, Any]]:
    """The scripted session: every kind of answer the visitor and login routes give."""
    calls = [
        lambda: client.get("/healthz"),
        lambda: client.get("/versionz"),
        lambda: client.get("/api/setup"),
        lambda: client.get("/nowhere"),
        lambda: client.delete("/api/login"),
        lambda: client.post("/api/exchange", content=b"{"),
        lambda: client.get("/api/events"),
        lambda: client.post("/api/purge"),
        lambda: client.get("/api/login"),
        lambda: client.post("/api/logout"),
        lambda: client.post("/api/events", json={"accountId": "x", "payload": "y"}),
        lambda: client.post("/api/recover", json={}),
        lambda: client.post("/api/join", json={"token": "x"}),
        lambda: client.post("/api/events", content=b" " * 70_000),
    ]
    transcript = [_record(call()) for call in calls]
    instance = server_set_up()
    after = [
        lambda: client.get("/api/setup"),
        lambda: client.get("/api/exchange", params={"accountId": instance.account_id}),
        lambda: exchange(client, instance),
        lambda: client.post(
            "/api/events", json={"accountId": instance.account_id, "payload": PAYLOAD}
        ),
        lambda: client.get("/api/events"),
        lambda: log_in(client, EMAIL, "a wrong password"),
        lambda: log_in(client, EMAIL, PASSWORD),
        lambda: client.get("/api/login"),
        lambda: client.get(f"/api/accounts/{instance.account_id}"),
        lambda: client.post("/api/purge", params={"user": "1"}),
        lambda: client.post("/api/logout"),
        lambda: log_in(client, EMAIL, "a wrong password"),
        lambda: log_in(client, EMAIL, "a wrong password"),
        lambda: log_in(client, EMAIL, "a wrong password"),
        lambda: log_in(client, EMAIL, "a wrong password"),
        lambda: client.head("/healthz"),
        lambda: client.get("/"),
        lambda: client.get("/vault/"),
        lambda: client.get("/script.js"),
        lambda: client.get("/join/a.token-like_value~/"),
        lambda: client.get("/reset-password/a.token-like_value"),
        lambda: client.get("/join/"),
        lambda: client.get("/reset-password/a/b/"),
        lambda: client.get("/join/a%20b/"),
        lambda: client.post("/join/a.token/"),
    ]
    transcript += [_record(call()) for call in after]
    return transcript


def test_both_servers_answer_a_session_alike(store: Store, tmp_path: Path) -> None:
    transcripts = {}
    for framework in ("asgi", "wsgi"):
        with store.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                if table.name != "migrations":
                    connection.execute(table.delete())
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        server = open_server(framework, store, clock, tmp_path / framework, {})
        try:
            server.client.cookies.set("consent", "allow", path="/")
            transcripts[framework] = _session(server.client, partial(set_up, server))
        finally:
            server.close()

    asgi, wsgi = transcripts["asgi"], transcripts["wsgi"]
    assert len(asgi) == len(wsgi) == 39
    for left, right in zip(asgi, wsgi, strict=True):
        assert left == right, (left, right)
    statuses = [item["status"] for item in asgi]
    assert {200, 201, 204, 400, 401, 404, 405, 413, 429} <= set(statuses)
