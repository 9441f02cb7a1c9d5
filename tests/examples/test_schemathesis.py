# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Property-based requests from the FastAPI example's OpenAPI document: never a 5xx answer.

Schemathesis generates requests for every operation (bodies, query parameters, cookies, path
ids) from the schema; they are sent through the same TestClient as the contract suite, on
SQLite, to an instance with an operator and an account. The number of examples per operation
is small, so the whole run stays within CI's budget. One engine is enough here: the contract
suite runs every route on all three.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from example_helpers import Server, empty_tables, exchange, log_in, open_server, set_up
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offen_core.storage import Store
from offen_core.testing import FakeClock

_EXAMPLES = 12


@pytest.fixture
def asgi_server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    """The FastAPI server on the session's SQLite database, emptied first."""
    store = Store(sqlite_url)
    store.migrate()
    empty_tables(store)
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    server = open_server("asgi", store, clock, tmp_path / "outbox", {})
    yield server
    server.close()
    store.close()


def _operations(server: Server) -> list[Any]:
    app = server._app
    schema = schemathesis.openapi.from_dict(app.openapi())
    return [result.ok() for result in schema.get_all_operations()]


def test_no_generated_request_gets_a_server_error(asgi_server: Server) -> None:
    server = asgi_server
    instance = set_up(server)
    assert exchange(server.client, instance).status_code == 204
    assert log_in(server.client, instance.email, instance.password).status_code == 200
    operations = _operations(server)
    assert len(operations) == 23
    failures: list[str] = []
    seen: set[int] = set()

    for operation in operations:

        @settings(
            max_examples=_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), keep_cookies=st.booleans())
        def check(case: Any, keep_cookies: bool) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver")
            client = server.client if keep_cookies else server.new_client()
            response = client.request(
                kwargs["method"],
                kwargs["url"],
                params=kwargs.get("params"),
                headers={
                    **(kwargs.get("headers") or {}),
                    **_cookie_header(kwargs.get("cookies")),
                },
                content=_content(kwargs),
            )
            seen.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        check()

    assert failures == []
    # The generated requests reach the flows, not only the validation in front of them.
    assert {200, 204, 400, 401} <= seen


def _cookie_header(cookies: dict[str, Any] | None) -> dict[str, str]:
    if not cookies:
        return {}
    return {"cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def _content(kwargs: dict[str, Any]) -> bytes | None:
    if "json" in kwargs:
        return json.dumps(kwargs["json"]).encode("utf-8")
    data = kwargs.get("data") or kwargs.get("content")
    if isinstance(data, str):
        return data.encode("utf-8")
    return data if isinstance(data, bytes) else None
