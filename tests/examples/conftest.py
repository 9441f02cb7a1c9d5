# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the example servers' contract suite: both apps, one client shape, every engine.

Every contract test takes `server`, which is parametrised over the two frameworks (FastAPI
through Starlette's TestClient, Flask through ``httpx.WSGITransport``) and over the database
engines (through the shared `store` fixture of tests/conftest.py), and talks to it with an
`httpx.Client`. The throttle's clock is a `FakeClock` and the ASGI server's wait cap is 0 (it
refuses as the WSGI server does) unless a test asks otherwise, so no test sleeps.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

# The examples run from a clone, not from the installed package.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from example_helpers import Server, open_server  # noqa: E402

from offen_core.storage import Store  # noqa: E402
from offen_core.testing import FakeClock  # noqa: E402


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the flows and of the throttle; it moves only when a test moves it.

    It starts at the real time, so that cookies the servers set are not expired for the
    client that keeps them.
    """
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(params=["asgi", "wsgi"])
def framework(request: pytest.FixtureRequest) -> str:
    """Each framework in turn."""
    name: str = request.param
    return name


@pytest.fixture
def make_server(
    framework: str, store: Store, clock: FakeClock, tmp_path: Path
) -> Iterator[Callable[..., Server]]:
    """Build servers of the test's framework over the test's Store (settings as keywords)."""
    opened: list[Server] = []

    def make(**settings: object) -> Server:
        server = open_server(framework, store, clock, tmp_path / f"outbox{len(opened)}", settings)
        opened.append(server)
        return server

    yield make
    for server in opened:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    """A server of each framework with the default test settings."""
    return make_server()
