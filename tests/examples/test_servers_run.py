# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The examples start as documented: FastAPI under uvicorn, Flask under gunicorn."""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OFFEN_CORE_SECRET": base64.b64encode(os.urandom(16)).decode(),
        "OFFEN_CORE_DATABASE_URL": f"sqlite:///{tmp_path / 'offen.db'}",
        "OFFEN_CORE_MAIL_OUTBOX": str(tmp_path / "outbox"),
    }


def _run(command: list[str], environment: dict[str, str], port: int) -> Iterator[str]:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(port, "/healthz")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the server did not start") from None
                time.sleep(0.2)
        assert (status, body) == (200, b'{"ok":true}')
        assert _get(port, "/api/setup")[0] == 204
        yield "started"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert '"GET /healthz HTTP/1.1" 200 -' in output
    assert "127.0.0.1" not in output.replace(f"127.0.0.1:{port}", "")


def test_fastapi_example_runs_under_uvicorn(environment: dict[str, str]) -> None:
    port = _free_port()
    command = [
        str(BIN / "uvicorn"),
        "examples.asgi.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-proxy-headers",
    ]

    assert list(_run(command, environment, port)) == ["started"]


def test_flask_example_runs_under_gunicorn(environment: dict[str, str]) -> None:
    port = _free_port()
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--access-logfile",
        "-",
        "examples.wsgi.app:create_app()",
    ]

    assert list(_run(command, environment, port)) == ["started"]
