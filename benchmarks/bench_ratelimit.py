# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of offen_core.ratelimit against the bare `limits` strategy on the same storage.

Measures, on memory storage, on Redis and on memcached:

- decisions per second of the login guard when every step lets the attempt through (three
  atomic increments: identity, address, global);
- the cost of an attempt refused at the first step (one read, no write, no password work);

each against the bare ``limits`` ``FixedWindowRateLimiter.hit`` on the same storage, measured
in the same run, and the refused attempt also against one argon2id run at Offen's algo 3
(``offen_core.crypto.hash_password``), the work a refusal saves.

Run ``python benchmarks/bench_ratelimit.py`` for the full measurement or add ``--smoke`` for
a run of a second or two that only proves the script works. It uses Redis at
``OFFEN_CORE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) under a key prefix of its
own, which it deletes afterwards; without a reachable Redis the Redis rows are skipped. The
memcached rows run against a memcached the script starts on a free port of 127.0.0.1 and stops
at the end; without the ``memcached`` binary on the PATH they are skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from limits import RateLimitItemPerHour
from limits.strategies import FixedWindowRateLimiter

from offen_core.crypto import hash_password
from offen_core.ratelimit import Curve, Route, RoutePolicy, Rule, Scope, Step, Throttle
from offen_core.ratelimit.storage import close_storage, open_storage

HASH_KEY = b"benchmark key, shared by nobody"
FIXED_NOW = 1_800_000_000.0

# The login guard's shape with budgets no benchmark reaches, so every step runs and allows.
OPEN_POLICY = RoutePolicy(
    (
        Step(Scope.IDENTITY, Rule("bench-identity", 1.0, Curve.EXPONENTIAL, free=10**9)),
        Step(Scope.ADDRESS, Rule("bench-address", 1.0, free=10**9)),
        Step(Scope.GLOBAL, Rule("bench-global", 0.5, free=10**9)),
    )
)


def _rate(fn: Callable[[int], object], count: int, repeats: int = 3) -> float:
    """Best rate of ``count`` calls of ``fn(i)``, in calls per second."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(count):
            fn(i)
        best = min(best, time.perf_counter() - start)
    return count / best


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def _measure(url: str, prefix: str, count: int) -> list[tuple[str, float, float]]:
    """Rows of (what, our rate, bare limits rate) on the storage at ``url``."""
    storage = open_storage(url, key_prefix=prefix) if "redis" in url else open_storage(url)
    bare = FixedWindowRateLimiter(storage)
    item = RateLimitItemPerHour(10**9)

    def bare_hit(i: int) -> None:
        bare.hit(item, prefix, str(i % 1000))

    open_throttle = Throttle(
        storage,
        hash_key=HASH_KEY,
        key_prefix=prefix,
        clock=lambda: FIXED_NOW,
        policies={Route.LOGIN: OPEN_POLICY},
    )
    throttle = Throttle(storage, hash_key=HASH_KEY, key_prefix=prefix, clock=lambda: FIXED_NOW)
    for _ in range(9):
        throttle.check_login("victim@example.com", "192.0.2.1")
    assert not throttle.check_login("victim@example.com", "192.0.2.1").allowed

    def allowed(i: int) -> None:
        open_throttle.check_login(f"user{i % 1000}@example.com", f"198.51.100.{i % 250}")

    def refused(i: int) -> None:
        throttle.check_login("victim@example.com", "192.0.2.1")

    bare_rate = _rate(bare_hit, count)
    rows = [
        ("login guard, allowed (3 steps)", _rate(allowed, count), bare_rate),
        ("login guard, refused at identity", _rate(refused, count), bare_rate),
    ]
    close_storage(storage)
    return rows


def _start_memcached() -> tuple[subprocess.Popen[bytes], str] | None:
    """Start a memcached of this benchmark alone; None when the binary is not installed."""
    binary = shutil.which("memcached")
    if binary is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
    if os.geteuid() == 0:
        command += ["-u", "root"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"memcached://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not _reachable(url):
        if time.monotonic() > deadline or process.poll() is not None:
            process.terminate()
            raise RuntimeError("the benchmark's memcached did not start within 10 s")
        time.sleep(0.02)
    return process, url


def _cleanup(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, proves the script runs")
    args = parser.parse_args(argv)
    count_memory = 500 if args.smoke else 50_000
    count_redis = 100 if args.smoke else 5_000

    argon2_runs = 1 if args.smoke else 5
    start = time.perf_counter()
    for _ in range(argon2_runs):
        hash_password("correct horse battery staple")
    argon2_seconds = (time.perf_counter() - start) / argon2_runs

    rows = [("memory", *row) for row in _measure("memory://", "bench", count_memory)]
    redis_url = os.environ.get("OFFEN_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if _reachable(redis_url):
        prefix = f"offen-bench-{uuid.uuid4().hex}"
        try:
            rows += [("redis", *row) for row in _measure(redis_url, prefix, count_redis)]
        finally:
            _cleanup(redis_url, prefix)
    else:
        print(f"Redis not reachable at {urlsplit(redis_url).netloc}: Redis rows skipped")

    memcached = _start_memcached()
    if memcached is None:
        print("memcached is not on the PATH: memcached rows skipped")
    else:
        process, memcached_url = memcached
        try:
            rows += [("memcached", *row) for row in _measure(memcached_url, "bench", count_redis)]
        finally:
            process.terminate()
            process.wait(timeout=10)

    print(f"argon2id at Offen's algo 3 (hash_password), one run: {argon2_seconds * 1e3:.1f} ms")
    print()
    header = (
        f"| {'storage':<9} | {'decision':<33} | {'per second':>10} | {'µs each':>8} "
        f"| {'bare limits hit/s':>17} | {'vs bare':>7} | {'vs argon2':>9} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(part) + 0) for part in header.split("|")[1:-1]) + "|")
    for storage, what, rate, bare_rate in rows:
        micro = 1e6 / rate
        versus_argon2 = f"1/{argon2_seconds * rate:,.0f}" if "refused" in what else ""
        print(
            f"| {storage:<9} | {what:<33} | {rate:>10,.0f} | {micro:>8.1f} "
            f"| {bare_rate:>17,.0f} | {rate / bare_rate:>6.2f}x | {versus_argon2:>9} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
