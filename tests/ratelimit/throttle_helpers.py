# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the throttle tests of several storages."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable

import pytest

from offen_core.errors import ThrottleStorageError
from offen_core.ratelimit import AsyncThrottle, Decision, Outcome


def hammer(check: Callable[[], Decision], *, threads: int, per_thread: int) -> list[Decision]:
    """Run ``check`` ``per_thread`` times in each of ``threads`` threads that start together.

    The interpreter switches threads as often as it can meanwhile, so that a race between
    reading a count and writing it back (a lost update) shows up instead of hiding behind
    the GIL's default interval.

    Returns:
        Every decision, in no particular order.
    """
    decided: list[Decision] = []
    guard = threading.Lock()
    ready = threading.Barrier(threads)

    def run() -> None:
        ready.wait()
        mine = [check() for _ in range(per_thread)]
        with guard:
            decided.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    return decided


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def assert_async_guard_fails_closed(
    throttle: AsyncThrottle, email: str, address: str, retry_after: float
) -> None:
    """Check what an async login guard does by default while its storage is down.

    The login is refused as a storage failure with the throttle's ``retry_after``, the
    health check fails, and a success cannot be recorded.
    """
    decision = await throttle.check_login(email, address)
    assert (decision.outcome, decision.storage_failed) == (Outcome.REFUSED, True)
    assert decision.retry_after == retry_after
    assert not await throttle.healthy()
    with pytest.raises(ThrottleStorageError):
        await throttle.login_succeeded(email)
