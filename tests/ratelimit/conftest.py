# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the throttle tests: a clock, a key prefix per test, a private Redis server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from offen_core.testing import FakeClock

HASH_KEY = b"a test key shared by all processes"


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test moves it."""
    return FakeClock()


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    """A key prefix unique to this test; its keys on the shared Redis are removed afterwards."""
    value = f"offen-test-{uuid.uuid4().hex}"
    yield value
    if "redis_url" in request.fixturenames:
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        try:
            keys = list(client.scan_iter(match=f"LIMITS:{value}:*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


class PrivateRedis:
    """A redis-server of this test alone, on a free port, with no persistence."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("the private redis-server did not start within 10 s")

    def stop(self) -> None:
        """Stop this server (and only this one) and wait until it is gone."""
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private redis-server the test may stop; the shared one on 6379 is never touched."""
    if shutil.which("redis-server") is None:
        message = "redis-server is not on the PATH"
        if os.environ.get("OFFEN_CORE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} (OFFEN_CORE_REQUIRE_SERVICES=1 makes this a failure)")
        pytest.skip(message)
    server = PrivateRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()
