# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the throttle tests: a clock, a key prefix, the storages, private servers.

The storages are memory, the shared Redis and a memcached server these tests start for
themselves (memcached keeps nothing on disk and is cheap to start). A test that stops a
server gets a private one of its own; the shared Redis on 6379 is never stopped or flushed.
The Redis topologies are private too: a three-node Redis Cluster for the session, and a
Sentinel watching a master of its own for each test that takes one.
"""

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
from limits.storage import Storage
from throttle_helpers import free_port

from offen_core.ratelimit import open_storage
from offen_core.ratelimit.storage import close_storage
from offen_core.testing import FakeClock

REQUIRE_SERVICES = os.environ.get("OFFEN_CORE_REQUIRE_SERVICES") == "1"

HASH_KEY = b"a test key shared by all processes"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "memcached: needs the memcached binary (a private server)")
    config.addinivalue_line("markers", "mongodb: the MongoDB adapter, on a stand-in collection")


def _missing(what: str) -> None:
    """Skip for a missing prerequisite, or fail when ``OFFEN_CORE_REQUIRE_SERVICES=1``."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} (OFFEN_CORE_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(what)


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


class PrivateServer:
    """A server process of these tests alone, on a free port of 127.0.0.1."""

    name = "server"
    scheme = ""

    def __init__(self, command: list[str], port: int) -> None:
        self.port = port
        self.url = f"{self.scheme}://127.0.0.1:{port}"
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self._process.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the private {self.name} did not start within 10 s")

    def stop(self) -> None:
        """Stop this server (and only this one) and wait until it is gone."""
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)


def _redis_server_command(port: int, directory: Path, *options: str) -> list[str]:
    """A redis-server on 127.0.0.1:``port`` that keeps nothing on disk, with ``options``."""
    return [
        "redis-server",
        *("--port", str(port), "--bind", "127.0.0.1"),
        *options,
        *("--save", "", "--appendonly", "no", "--dir", str(directory)),
    ]


class PrivateRedis(PrivateServer):
    """A redis-server with no persistence."""

    name = "redis-server"
    scheme = "redis"

    def __init__(self, directory: Path) -> None:
        port = free_port()
        super().__init__(_redis_server_command(port, directory), port)
        self.url += "/0"


class PrivateMemcached(PrivateServer):
    """A memcached listening on TCP only."""

    name = "memcached"
    scheme = "memcached"

    def __init__(self) -> None:
        port = free_port()
        command = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
        if os.geteuid() == 0:
            # memcached refuses to run as root unless told which user to be.
            command += ["-u", "root"]
        super().__init__(command, port)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private redis-server the test may stop; the shared one on 6379 is never touched."""
    if shutil.which("redis-server") is None:
        _missing("redis-server is not on the PATH")
    server = PrivateRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _memcached_on_path() -> None:
    if shutil.which("memcached") is None:
        _missing("memcached is not on the PATH (Debian: apt-get install memcached)")


@pytest.fixture(scope="session")
def memcached_url() -> Iterator[str]:
    """The URL of a memcached these tests started, shared by the session's tests."""
    _memcached_on_path()
    server = PrivateMemcached()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def private_memcached() -> Iterator[PrivateMemcached]:
    """A memcached of this test alone, which the test may stop."""
    _memcached_on_path()
    server = PrivateMemcached()
    try:
        yield server
    finally:
        server.stop()


# Which storages each storage fixture takes in turn, parametrized here rather than in the
# fixtures' decorators: the memcached mark exists only once `pytest_configure` has run.
_STORAGES = {
    "storage_url": ("memory", "redis", "memcached"),
    "shared_url": ("redis", "memcached"),
    "opened_storage": ("memory", "memcached"),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, storages in _STORAGES.items():
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(
                fixture,
                [
                    pytest.param(name, marks=getattr(pytest.mark, name), id=name)
                    if name != "memory"
                    else pytest.param(name, id=name)
                    for name in storages
                ],
                indirect=True,
                scope="module" if fixture == "opened_storage" else None,
            )


@pytest.fixture
def storage_url(request: pytest.FixtureRequest) -> str:
    """Each storage in turn: memory, the shared Redis, the session's memcached."""
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def shared_url(request: pytest.FixtureRequest) -> str:
    """Each storage that several processes can share in turn: Redis, memcached."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="module")
def opened_storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    """An opened storage that lives for a module: memory, then the session's memcached.

    For hypothesis tests, whose examples cannot take function-scoped fixtures: each example
    keeps apart from the others with a key prefix of its own.
    """
    url = "memory://" if request.param == "memory" else request.getfixturevalue("memcached_url")
    storage = open_storage(url)
    yield storage
    close_storage(storage)


def _redis_tools_on_path(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            _missing(f"{tool} is not on the PATH (Debian: apt-get install redis-server)")


class PrivateClusterNode(PrivateServer):
    """A redis-server in cluster mode with no persistence; its node table is in ``directory``."""

    name = "redis-server (cluster node)"
    scheme = "redis"

    def __init__(self, directory: Path) -> None:
        port = free_port()
        cluster = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(directory / "nodes.conf"),
        ]
        # The bus port defaults to port + 10000, past 65535 for a high free port.
        cluster += ["--cluster-port", str(free_port())]
        super().__init__(_redis_server_command(port, directory, *cluster), port)


class PrivateCluster:
    """Three cluster nodes of these tests alone, joined into one Redis Cluster, no replicas.

    ``url`` names every node, as `limits`' ``redis+cluster://host:port,host:port`` does.
    """

    size = 3

    def __init__(self, directory: Path) -> None:
        self.nodes: list[PrivateClusterNode] = []
        try:
            for index in range(self.size):
                node_directory = directory / f"node-{index}"
                node_directory.mkdir()
                self.nodes.append(PrivateClusterNode(node_directory))
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            create = ["redis-cli", "--cluster", "create", *addresses]
            subprocess.run(
                [*create, "--cluster-replicas", "0", "--cluster-yes"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
            )
            self._wait_until_ok()
        except BaseException:
            self.stop()
            raise
        self.url = "redis+cluster://" + ",".join(addresses)

    def _wait_until_ok(self) -> None:
        # `--cluster create` returns once the nodes agree on the slots; each node says
        # `cluster_state:ok` only when it has also seen every slot served.
        deadline = time.monotonic() + 10
        for node in self.nodes:
            client = redis.Redis(host="127.0.0.1", port=node.port)
            try:
                while client.execute_command("CLUSTER INFO")["cluster_state"] != "ok":
                    if time.monotonic() > deadline:
                        raise RuntimeError("the private Redis Cluster did not form within 10 s")
                    time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """Stop every node this cluster started (and only those)."""
        for node in self.nodes:
            node.stop()


class PrivateSentinel(PrivateServer):
    """A Redis Sentinel watching a private master it starts first, on free ports.

    ``url`` reaches the master through the Sentinel (``redis+sentinel://host:port/service``);
    ``master`` is that master, which a test may stop.
    """

    name = "redis-server --sentinel"
    scheme = "redis+sentinel"
    service = "mymaster"

    def __init__(self, directory: Path) -> None:
        master_directory = directory / "master"
        master_directory.mkdir()
        self.master = PrivateRedis(master_directory)
        port = free_port()
        # Sentinel rewrites its configuration file, so it lives in the test's directory.
        config = directory / "sentinel.conf"
        config.write_text(
            f"port {port}\n"
            "bind 127.0.0.1\n"
            f"dir {directory}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.service} 500\n"
        )
        try:
            super().__init__(["redis-server", str(config), "--sentinel"], port)
        except BaseException:
            self.master.stop()
            raise
        self.url += f"/{self.service}"

    def stop(self) -> None:
        """Stop the Sentinel and its master (if the test has not stopped it already)."""
        super().stop()
        self.master.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateCluster]:
    """A private three-node Redis Cluster, shared by the session's tests.

    It takes a few seconds to form, hence one per session; tests keep apart by key prefix.
    """
    _redis_tools_on_path("redis-server", "redis-cli")
    cluster = PrivateCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_sentinel(tmp_path: Path) -> Iterator[PrivateSentinel]:
    """A private Sentinel and its master, of this test alone; the test may stop the master."""
    _redis_tools_on_path("redis-server")
    sentinel = PrivateSentinel(tmp_path)
    try:
        yield sentinel
    finally:
        sentinel.stop()
