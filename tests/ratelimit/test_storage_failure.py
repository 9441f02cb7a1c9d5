# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""A storage that goes away: fail closed by default, fail open or raise when configured.

Each test starts its own redis-server on a free port and stops only that one; the shared
Redis on 6379 keeps running.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import pytest

from offen_core.errors import ThrottledError, ThrottleStorageError
from offen_core.ratelimit import AsyncThrottle, Outcome, StorageFailure, Throttle
from offen_core.testing import FakeClock


class PrivateRedis(Protocol):
    """The shape of the ``private_redis`` fixture (see this folder's conftest)."""

    url: str
    port: int

    def stop(self) -> None: ...


pytestmark = pytest.mark.redis

HASH_KEY = b"a test key shared by all processes"
EMAIL = "ada@example.com"
ADDRESS = "192.0.2.7"


def _throttle(server: PrivateRedis, clock: FakeClock, mode: StorageFailure) -> Throttle:
    return Throttle(
        server.url + "?socket_timeout=2&socket_connect_timeout=2",
        hash_key=HASH_KEY,
        clock=clock.time,
        on_storage_error=mode,
        storage_retry_after=7.0,
    )


def test_login_guard_fails_closed_when_redis_goes_away(
    private_redis: PrivateRedis, clock: FakeClock
) -> None:
    throttle = _throttle(private_redis, clock, StorageFailure.REFUSE)
    assert throttle.check_login(EMAIL, ADDRESS).outcome is Outcome.ALLOWED
    assert throttle.healthy()

    private_redis.stop()

    decision = throttle.check_login(EMAIL, ADDRESS)
    assert decision.outcome is Outcome.REFUSED
    assert decision.storage_failed
    assert decision.retry_after == 7.0
    with pytest.raises(ThrottledError):
        decision.raise_if_refused()
    assert not throttle.healthy()
    with pytest.raises(ThrottleStorageError):
        throttle.login_succeeded(EMAIL)


def test_fail_open_lets_attempts_through_and_says_so(
    private_redis: PrivateRedis, clock: FakeClock
) -> None:
    throttle = _throttle(private_redis, clock, StorageFailure.ALLOW)
    private_redis.stop()
    decision = throttle.check_login(EMAIL, ADDRESS)
    assert decision.outcome is Outcome.ALLOWED
    assert decision.storage_failed


def test_raise_mode_raises_a_clear_error(private_redis: PrivateRedis, clock: FakeClock) -> None:
    throttle = _throttle(private_redis, clock, StorageFailure.RAISE)
    private_redis.stop()
    with pytest.raises(ThrottleStorageError) as caught:
        throttle.check_login(EMAIL, ADDRESS)
    message = str(caught.value)
    assert "reachable" in message
    assert str(private_redis.port) not in message
    assert EMAIL not in message


def test_async_guard_fails_closed_too(private_redis: PrivateRedis, clock: FakeClock) -> None:
    async def scenario() -> None:
        async with AsyncThrottle(
            private_redis.url, hash_key=HASH_KEY, clock=clock.time, storage_retry_after=7.0
        ) as throttle:
            assert (await throttle.check_login(EMAIL, ADDRESS)).outcome is Outcome.ALLOWED
            private_redis.stop()
            decision = await throttle.check_login(EMAIL, ADDRESS)
            assert (decision.outcome, decision.storage_failed) == (Outcome.REFUSED, True)
            assert not await throttle.healthy()
            with pytest.raises(ThrottleStorageError):
                await throttle.login_succeeded(EMAIL)

    asyncio.run(scenario())
