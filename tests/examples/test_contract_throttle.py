# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Contract: the throttle step in front of every flow, client addresses, the access log.

The throttle runs on the test's `FakeClock`; the ASGI server refuses like the WSGI one (its
wait cap is 0) except where a test gives it a cap, and then it waits on a fake sleep.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from example_helpers import EMAIL, PASSWORD, Instance, Server, add_account, log_in, set_up

import offen_core.server.operators as operators_module
from examples.common.accesslog import ACCESS_LOGGER
from offen_core.testing import FakeClock


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts every password verification and key derivation of the operator flows."""
    runs: list[str] = []

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            runs.append(name)
            return function(*args, **kwargs)

        return wrapper

    for name in ("verify_password", "derive_key", "hash_password"):
        monkeypatch.setattr(operators_module, name, counting(name, getattr(operators_module, name)))
    return runs


def test_login_flood_is_refused_before_any_argon2_work(
    server: Server, argon2_runs: list[str]
) -> None:
    set_up(server)
    argon2_runs.clear()
    answers = [log_in(server.client, EMAIL, "a wrong password") for _ in range(12)]

    assert [answer.status_code for answer in answers[:3]] == [401, 401, 401]
    assert {answer.status_code for answer in answers[3:]} == {429}
    for answer in answers[3:]:
        assert int(answer.headers["retry-after"]) >= 1
        assert answer.json()["status"] == 429
    # One verification and one derivation per attempt that reached the flow, none after.
    assert len(argon2_runs) == 6


def test_a_flood_on_one_email_leaves_other_logins_alone(server: Server) -> None:
    set_up(server)
    for _ in range(6):
        log_in(server.client, EMAIL, "a wrong password")

    other = server.new_client("127.0.0.2")

    assert log_in(other, "someone.else@example.org", PASSWORD).status_code == 401


def test_a_login_after_failures_waits_on_asgi_and_is_refused_on_wsgi(
    make_server: Callable[..., Server], framework: str
) -> None:
    server = make_server(throttle_wait_cap=5.0)
    set_up(server)
    for _ in range(3):
        assert log_in(server.client, EMAIL, "a wrong password").status_code == 401

    fourth = log_in(server.client, EMAIL, PASSWORD)

    if framework == "asgi":
        assert fourth.status_code == 200
        assert server.sleeps == [1.0]
        # The success forgot the failures: the next mistake is not slowed.
        assert log_in(server.client, EMAIL, "a wrong password").status_code == 401
        assert server.sleeps == [1.0]
    else:
        assert fourth.status_code == 429
        assert fourth.headers["retry-after"] == "1"
        assert server.sleeps == []


def test_asgi_refuses_delays_beyond_its_cap(make_server: Callable[..., Server]) -> None:
    server = make_server(throttle_wait_cap=1.5)
    set_up(server)
    statuses = [log_in(server.client, EMAIL, "a wrong password").status_code for _ in range(6)]

    if server.framework == "asgi":
        # After three free attempts each may go 1, 2, 4 s after the one before it was
        # counted: the server waits 1 s, then 1 s more (2 s after the fourth), then the
        # sixth would need 3 s more than the cap allows.
        assert statuses == [401, 401, 401, 401, 401, 429]
        assert server.sleeps == [1.0, 1.0]
    else:
        assert statuses == [401, 401, 401, 429, 429, 429]


def test_a_client_that_honours_retry_after_reaches_the_login_flow(
    make_server: Callable[..., Server], clock: FakeClock, argon2_runs: list[str]
) -> None:
    # Cap 0 on both servers: every delay is refused with 429, and the refusal is not counted.
    server = make_server()
    set_up(server)
    for _ in range(3):
        assert log_in(server.client, EMAIL, "a wrong password").status_code == 401
    argon2_runs.clear()

    refused = log_in(server.client, EMAIL, "a wrong password")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    # Refused again at once, with the same Retry-After: nothing was counted.
    assert log_in(server.client, EMAIL, "a wrong password").headers["retry-after"] == "1"
    assert argon2_runs == []

    clock.advance(int(refused.headers["retry-after"]))
    assert log_in(server.client, EMAIL, "a wrong password").status_code == 401

    refused = log_in(server.client, EMAIL, PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    clock.advance(int(refused.headers["retry-after"]))
    assert log_in(server.client, EMAIL, PASSWORD).status_code == 200
    assert server.sleeps == []


def test_asgi_waits_up_to_its_cap_and_a_refusal_beyond_it_is_not_counted(
    make_server: Callable[..., Server], clock: FakeClock
) -> None:
    server = make_server(throttle_wait_cap=1.5)
    set_up(server)
    for _ in range(5):
        log_in(server.client, EMAIL, "a wrong password")

    refused = log_in(server.client, EMAIL, PASSWORD)
    assert refused.status_code == 429
    clock.advance(int(refused.headers["retry-after"]))
    answer = log_in(server.client, EMAIL, PASSWORD)

    assert answer.status_code == 200
    if server.framework == "asgi":
        assert refused.headers["retry-after"] == "3"
        assert server.sleeps == [1.0, 1.0]


def test_event_flood_of_one_visitor_is_refused(server: Server) -> None:
    instance = add_account(server)
    server.client.cookies.set("consent", "allow", path="/")
    server.client.cookies.set("user", str(uuid.uuid4()), path="/api")
    body = {"accountId": instance.account_id, "payload": "{1,} YWJj YWJj"}

    statuses = [server.client.post("/api/events", json=body).status_code for _ in range(32)]

    assert set(statuses[:30]) == {400}
    assert statuses[30:] == [429, 429]


def _exchange_flood(server: Server, forwarded: Iterator[str]) -> list[int]:
    return [
        server.client.post(
            "/api/exchange", content=b"{}", headers={"x-forwarded-for": next(forwarded)}
        ).status_code
        for _ in range(16)
    ]


def test_forwarding_headers_count_only_from_trusted_proxies(
    make_server: Callable[..., Server],
) -> None:
    untrusted = make_server()
    trusted = make_server(trusted_proxies=("127.0.0.1",), ratelimit_prefix="other")

    spoofed = _exchange_flood(untrusted, (f"198.51.100.{n}" for n in range(100)))
    proxied = _exchange_flood(trusted, (f"198.51.100.{n}" for n in range(100)))

    assert spoofed[:15] == [400] * 15
    assert spoofed[15] == 429
    assert proxied == [400] * 16


@pytest.mark.redis
def test_two_servers_sharing_redis_enforce_one_login_budget(
    make_server: Callable[..., Server], redis_url: str
) -> None:
    prefix = f"offen-test-{uuid.uuid4().hex}"
    first = make_server(ratelimit_storage=redis_url, ratelimit_prefix=prefix)
    second = make_server(ratelimit_storage=redis_url, ratelimit_prefix=prefix)
    instance: Instance = set_up(first)
    for _ in range(3):
        assert log_in(first.client, instance.email, "a wrong password").status_code == 401

    refused = log_in(second.client, instance.email, "a wrong password")

    assert refused.status_code == 429


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_access_log_never_names_the_client(server: Server) -> None:
    instance = add_account(server)
    logger = logging.getLogger(ACCESS_LOGGER)
    handler = _Lines()
    logger.addHandler(handler)
    try:
        server.client.get(
            "/api/exchange",
            params={"accountId": instance.account_id},
            headers={"x-forwarded-for": "203.0.113.77", "user-agent": "secret-agent"},
        )
        server.client.post("/api/events", json={})
    finally:
        logger.removeHandler(handler)

    lines = handler.lines
    assert len(lines) == 2
    assert lines[0].startswith("- - - [")
    assert lines[0].endswith('"GET /api/exchange HTTP/1.1" 200 -')
    assert lines[1].endswith('"POST /api/events HTTP/1.1" 200 -')  # 204, shown as 200
    for line in lines:
        for secret in ("127.0.0.1", "203.0.113.77", "secret-agent", instance.account_id):
            assert secret not in line
