# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Load test of the FastAPI example server on loopback, reported the way vegeta reports.

It starts the example as a real ``uvicorn`` process on a free port and a temporary SQLite
database (or ``--database-url``), then, with a load generator in this script (threads and
``http.client`` on a fixed-rate, open-loop schedule over keep-alive connections):

1. the experiment of Offen's hardening write-up: 5 seconds at 50 requests per second each of
   ``GET /healthz``, ``GET /`` (a static page) and ``POST /api/login`` with the known email and
   a wrong password (all from 127.0.0.1); while the login flood runs, another operator logs in
   correctly from 127.0.0.2 (Linux routes all of 127/8 to the loopback device, and the server
   trusts no proxy, so the two addresses are two clients);
2. two server processes sharing one Redis: wrong logins alternate between them and the login
   budget is spent once, not once per process (with ``memory://`` for contrast);
3. ``POST /api/events`` from a few hundred visitors at rising rates until the 99th percentile
   passes 100 ms: the highest rate the server sustains on this machine.

Every attack's latencies are also given as a ratio against a baseline measured in the same
run: ``GET /`` on a bare ASGI app (no middleware, no database) under the same uvicorn.

Run ``python benchmarks/bench_http.py`` for the full measurement (needs Redis at
``OFFEN_CORE_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/0``; without it step 2 is
skipped) or add ``--smoke`` for one second at a low rate against SQLite, without Redis.
Run it from a clone: the example servers are not part of the installed package.
"""

from __future__ import annotations

import argparse
import base64
import email
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from offen_core.client import create_user_secret, encrypt_page_view
from offen_core.crypto import hash_fast
from offen_core.storage import Store

ROOT = Path(__file__).resolve().parents[1]
UVICORN = [sys.executable, "-m", "uvicorn"]
KNOWN = "operator@example.org"
OTHER = "second@example.org"
PASSWORD = "the operator's good password"  # noqa: S105 (a test operator)
OTHER_PASSWORD = "another operator's password"  # noqa: S105


async def bare_app(scope: dict, receive: Callable, send: Callable) -> None:  # type: ignore[type-arg]
    """The baseline: the smallest ASGI app that answers JSON (no middleware, no database)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b'{"ok":true}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- servers --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _request(
    port: int,
    method: str,
    path: str,
    body: object = None,
    *,
    cookie: str = "",
    source: str = "127.0.0.1",
) -> tuple[int, bytes, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    headers = {"content-type": "application/json"}
    if cookie:
        headers["cookie"] = cookie
    try:
        data = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), response
    finally:
        connection.close()


@dataclass
class ServerProcess:
    """A uvicorn process of the example (or of the baseline app)."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def serve(
    app: str, env: dict[str, str], workdir: Path, app_dir: Path = ROOT
) -> Iterator[ServerProcess]:
    """Start uvicorn with ``app`` on a free port; yield once ``/healthz`` answers."""
    port = _free_port()
    log = workdir / f"server-{port}.log"
    command = [
        *UVICORN,
        app,
        "--app-dir",
        str(app_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-proxy-headers",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    server = ServerProcess(port, process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except (OSError, http.client.HTTPException):
                # Not listening yet (a connection to a closed loopback port can even meet
                # itself and read its own request back).
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


def example_env(workdir: Path, database_url: str, port_hint: str, **extra: str) -> dict[str, str]:
    """The environment of an example server process."""
    env = {
        **os.environ,
        "OFFEN_CORE_SECRET": base64.b64encode(b"load test secret of 32 bytes....").decode(),
        "OFFEN_CORE_DATABASE_URL": database_url,
        "OFFEN_CORE_BASE_URL": "http://127.0.0.1",
        "OFFEN_CORE_MAIL_OUTBOX": str(workdir / "outbox"),
        "OFFEN_CORE_RATELIMIT_PREFIX": f"bench-{port_hint}-{uuid.uuid4().hex[:8]}",
    }
    env.update({f"OFFEN_CORE_{name}": value for name, value in extra.items()})
    return env


# --- the load generator ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One request of an attack."""

    method: str
    path: str
    body: bytes | None = None
    cookie: str = ""
    source: str = "127.0.0.1"


@dataclass
class Report:
    """What an attack measured (vegeta's report)."""

    name: str
    rate: float
    latencies: list[float] = field(default_factory=list)
    codes: Counter[int] = field(default_factory=Counter)
    by_code: dict[int, list[float]] = field(default_factory=dict)
    attack: float = 0.0
    total: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def successes(self) -> int:
        return sum(count for code, count in self.codes.items() if 200 <= code < 400)

    @property
    def success_ratio(self) -> float:
        return 100 * self.successes / self.requests

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
        return ordered[index]

    def lines(self) -> list[str]:
        lat = self.latencies
        mean = sum(lat) / len(lat) if lat else 0.0
        codes = " ".join(f"{code}:{count}" for code, count in sorted(self.codes.items()))
        return [
            f"Requests      [total, rate, throughput]         {self.requests}, "
            f"{self.requests / self.attack:.2f}, {self.successes / self.total:.2f}",
            f"Duration      [total, attack, wait]             {self.total:.3f}s, "
            f"{self.attack:.3f}s, {_ms(self.total - self.attack)}",
            "Latencies     [min, mean, 50, 90, 95, 99, max]  "
            + ", ".join(
                _ms(value)
                for value in (
                    min(lat),
                    mean,
                    self.percentile(0.5),
                    self.percentile(0.9),
                    self.percentile(0.95),
                    self.percentile(0.99),
                    max(lat),
                )
            ),
            f"Success       [ratio]                           {self.success_ratio:.2f}%",
            f"Status Codes  [code:count]                      {codes}",
        ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}ms"


def attack(
    name: str, port: int, rate: float, duration: float, target: Callable[[int], Target]
) -> Report:
    """Send ``rate * duration`` requests on a fixed schedule, each from its own slot."""
    count = max(1, int(rate * duration))
    workers = min(120, max(16, int(rate / 8)))
    report = Report(name, rate)
    lock = threading.Lock()
    next_index = iter(range(count))
    start = time.perf_counter() + 0.1
    last_sent = [start]

    def work() -> None:
        connection: http.client.HTTPConnection | None = None
        source = ""
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            wanted = target(index)
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if connection is None or source != wanted.source:
                if connection is not None:
                    connection.close()
                source = wanted.source
                connection = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=60, source_address=(source, 0)
                )
            headers = {"content-type": "application/json"}
            if wanted.cookie:
                headers["cookie"] = wanted.cookie
            sent = time.perf_counter()
            try:
                connection.request(wanted.method, wanted.path, body=wanted.body, headers=headers)
                response = connection.getresponse()
                response.read()
                code = response.status
                if (response.getheader("connection") or "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                code = 0
                if connection is not None:
                    connection.close()
                connection = None
            done = time.perf_counter()
            with lock:
                report.latencies.append(done - sent)
                report.codes[code] += 1
                report.by_code.setdefault(code, []).append(done - sent)
                last_sent[0] = max(last_sent[0], sent)
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(min(workers, count))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = time.perf_counter()
    report.attack = max(last_sent[0] - start, 1e-9)
    report.total = end - start
    return report


# --- the scenario ---------------------------------------------------------------------------


def _last_join_token(outbox: Path) -> str:
    for path in sorted(outbox.iterdir(), reverse=True):
        payload = email.message_from_bytes(path.read_bytes()).get_payload(decode=True)
        text = payload.decode() if isinstance(payload, bytes) else ""
        found = re.search(r"/join/([^/\s]+)/", text)
        if found:
            return unquote(found.group(1))
    raise RuntimeError("no invitation was mailed")


def set_up_instance(port: int, outbox: Path) -> None:
    """Two operators over HTTP: KNOWN (a super-admin with one account) and OTHER (invited)."""
    status, _, _ = _request(
        port,
        "POST",
        "/api/setup",
        {"accountName": "Load test", "emailAddress": KNOWN, "password": PASSWORD},
    )
    assert status == 204, status
    status, _, response = _request(
        port, "POST", "/api/login", {"username": KNOWN, "password": PASSWORD}
    )
    assert status == 200, status
    auth = (response.getheader("set-cookie") or "").split(";", 1)[0]
    share = {
        "invitee": OTHER,
        "emailAddress": KNOWN,
        "password": PASSWORD,
        "grantAdminPrivileges": False,
    }
    assert _request(port, "POST", "/api/share-account", share, cookie=auth)[0] == 204
    join = {"emailAddress": OTHER, "password": OTHER_PASSWORD, "token": _last_join_token(outbox)}
    assert _request(port, "POST", "/api/join", join)[0] == 204


def _print_report(report: Report, baseline: Report | None) -> None:
    print(f"\n== {report.name}: {report.rate:g} req/s")
    for line in report.lines():
        print(line)
    if baseline is not None:
        ratios = ", ".join(
            f"{label} {report.percentile(q) / baseline.percentile(q):.2f}x"
            for label, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
        )
        print(f"Ratio to the bare-app baseline                  {ratios}")


@dataclass
class Hardening:
    """What step 1 measured."""

    health: Report
    page: Report
    flood: Report
    other_status: int
    other_seconds: float


def run_hardening(port: int, duration: float, rate: float, baseline: Report) -> Hardening:
    """Step 1: /healthz, / and the login flood, with a good login from 127.0.0.2 during it."""
    health = attack("GET /healthz", port, rate, duration, lambda i: Target("GET", "/healthz"))
    _print_report(health, baseline)
    page = attack("GET /", port, rate, duration, lambda i: Target("GET", "/"))
    _print_report(page, baseline)

    wrong = json.dumps({"username": KNOWN, "password": "not the password"}).encode()
    other: dict[str, float] = {}

    def good_login() -> None:
        time.sleep(duration / 2)
        started = time.perf_counter()
        status, _, _ = _request(
            port,
            "POST",
            "/api/login",
            {"username": OTHER, "password": OTHER_PASSWORD},
            source="127.0.0.2",
        )
        other.update(status=status, seconds=time.perf_counter() - started)

    helper = threading.Thread(target=good_login)
    helper.start()
    flood = attack(
        "POST /api/login (known email, wrong password)",
        port,
        rate,
        duration,
        lambda i: Target("POST", "/api/login", wrong),
    )
    helper.join()
    _print_report(flood, baseline)
    for code in sorted(flood.by_code):
        values = flood.by_code[code]
        print(f"  answers {code}: {len(values)}, mean latency {_ms(sum(values) / len(values))}")
    print(
        f"Correct login of another operator from 127.0.0.2 during the flood: "
        f"{other.get('status', 0):.0f} in {_ms(other.get('seconds', 0.0))}"
    )
    return Hardening(health, page, flood, int(other.get("status", 0)), other.get("seconds", 0.0))


def run_shared_budget(workdir: Path, database_url: str, storage: str, attempts: int) -> list[int]:
    """Step 2: wrong logins alternating between two processes on one throttle storage."""
    prefix = f"bench-shared-{uuid.uuid4().hex[:8]}"
    env = example_env(
        workdir,
        database_url,
        "shared",
        RATELIMIT_STORAGE=storage,
        THROTTLE_WAIT_CAP="0",
        EXPIRY_INTERVAL="0",
    )
    env["OFFEN_CORE_RATELIMIT_PREFIX"] = prefix
    wrong = {"username": KNOWN, "password": "still not the password"}
    statuses: list[int] = []
    with (
        serve("examples.asgi.app:app", env, workdir) as first,
        serve("examples.asgi.app:app", env, workdir) as second,
    ):
        for attempt in range(attempts):
            server = first if attempt % 2 == 0 else second
            statuses.append(
                _request(server.port, "POST", "/api/login", wrong, source="127.0.0.3")[0]
            )
    return statuses


def run_events(port: int, database_url: str, rates: list[float], duration: float) -> list[Report]:
    """Step 3: POST /api/events at rising rates until p99 passes 100 ms."""
    store = Store(database_url)
    try:
        (account,) = [item for item in store.list_accounts() if not item.retired]
        visitors = []
        for _ in range(max(50, int(max(rates) * duration / 25) + 1)):
            visitor = str(uuid.uuid4())
            secret_id = hash_fast(visitor, account.user_salt)
            store.exchange_secret(
                account.account_id,
                secret_id,
                "{1,} " + base64.b64encode(os.urandom(512)).decode(),
                parked_secret_id=hash_fast(str(uuid.uuid4()), account.user_salt),
            )
            visitors.append(visitor)
    finally:
        store.close()
    payload = encrypt_page_view(
        create_user_secret(),
        {
            "type": "PAGEVIEW",
            "href": "https://www.example.org/blog/a-post-about-fair-analytics/",
            "referrer": "https://search.example/",
            "timestamp": "2026-12-03T17:00:00.000Z",
            "sessionId": str(uuid.uuid4()),
            "pageload": 480,
            "isMobile": False,
        },
    )
    body = json.dumps({"accountId": account.account_id, "payload": payload}).encode()
    reports = []
    for rate in rates:
        report = attack(
            "POST /api/events",
            port,
            rate,
            duration,
            lambda i: Target(
                "POST", "/api/events", body, f"user={visitors[i % len(visitors)]}; consent=allow"
            ),
        )
        reports.append(report)
        ok = report.successes == report.requests
        print(
            f"  {rate:6.0f} req/s offered: achieved {report.requests / report.attack:7.1f}, "
            f"p50 {_ms(report.percentile(0.5))}, p99 {_ms(report.percentile(0.99))}, "
            f"success {100 * report.successes / report.requests:.1f}% "
            f"({' '.join(f'{c}:{n}' for c, n in sorted(report.codes.items()))})"
        )
        if not ok or report.percentile(0.99) > 0.1:
            break
    return reports


def _redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2):
            return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--smoke", action="store_true", help="one second at a low rate")
    parser.add_argument("--database-url", help="use this database instead of a SQLite file")
    args = parser.parse_args()
    redis_url = os.environ.get("OFFEN_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    duration, rate = (1.0, 10.0) if args.smoke else (5.0, 50.0)
    event_rates = [20.0] if args.smoke else [50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 600.0]

    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        workdir = Path(folder)
        database_url = args.database_url or f"sqlite:///{workdir / 'offen.db'}"
        print(f"uvicorn, one worker, {os.cpu_count()} CPUs; database {database_url.split(':')[0]}")

        with serve("bench_http:bare_app", dict(os.environ), workdir, ROOT / "benchmarks") as bare:
            baseline = attack(
                "baseline: GET / on a bare ASGI app",
                bare.port,
                rate,
                duration,
                lambda i: Target("GET", "/"),
            )
        _print_report(baseline, None)

        # The smoke run refuses throttle delays instead of waiting them out (seconds saved).
        env = example_env(
            workdir, database_url, "main", **({"THROTTLE_WAIT_CAP": "0"} if args.smoke else {})
        )
        with serve("examples.asgi.app:app", env, workdir) as server:
            set_up_instance(server.port, workdir / "outbox")
            results = run_hardening(server.port, duration, rate, baseline)
            print("\n== POST /api/events: the highest sustained rate with p99 under 100 ms")
            reports = run_events(server.port, database_url, event_rates, duration)

        flood = results.flood
        print("\n== Targets")
        for report in (results.health, results.page):
            print(
                f"{report.name}: success {100 * report.successes / report.requests:.0f}%, "
                f"p99 {_ms(report.percentile(0.99))} (target: all succeed, p99 < 20 ms)"
            )
        print(
            f"login flood: {flood.codes.get(429, 0)} of {flood.requests} answered 429, "
            f"{flood.codes.get(200, 0)} succeeded (target: almost all 429, none 200)"
        )
        print(f"good login from 127.0.0.2 during the flood: {results.other_status}")
        passing = [r for r in reports if r.successes == r.requests and r.percentile(0.99) <= 0.1]
        best = max((r.rate for r in passing), default=0.0)
        print(f"POST /api/events: highest rate sustained with p99 < 100 ms: {best:g} req/s")

        if not args.smoke:
            print("\n== Two server processes, wrong logins alternating between them (127.0.0.3)")
            if _redis_reachable(redis_url):
                shared = run_shared_budget(workdir, database_url, redis_url, 8)
                print(f"redis://  statuses {shared}: {shared.count(401)} attempts reached the flow")
            else:
                print("redis:// skipped: Redis is not reachable")
            separate = run_shared_budget(workdir, database_url, "memory://", 8)
            print(f"memory:// statuses {separate}: {separate.count(401)} attempts reached the flow")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
