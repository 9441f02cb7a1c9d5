# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the real-browser tests: Debian's Chromium driven by Playwright, a live server.

Chromium is found through ``$OFFEN_CORE_CHROMIUM`` or ``chromium`` on the PATH and started by
Playwright with that executable (``playwright install`` is never run: it downloads browsers).
Playwright gives the browser a fresh temporary profile; each test gets a new browser context
(its own cookies and storage). Without Chromium or Playwright the tests skip, unless
``OFFEN_CORE_REQUIRE_SERVICES=1``, which makes that a failure.

axe-core comes from the npm registry, pinned in ``package.json`` and ``package-lock.json`` of
this folder; the `axe_script` fixture runs ``npm ci`` here when ``node_modules`` lacks it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The examples run from a clone, not from the installed package.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from browser_helpers import (  # noqa: E402
    AXE_SCRIPT,
    CHROMIUM_ARGS,
    E2E_DIR,
    HostSite,
    LiveServer,
    find_chromium,
    host_site,
    live_server,
)

REQUIRE_SERVICES = os.environ.get("OFFEN_CORE_REQUIRE_SERVICES") == "1"


def _missing(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} (OFFEN_CORE_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The Chromium to drive; skips (or fails) when there is none."""
    found = find_chromium()
    if found is None:
        _missing("Chromium is not installed (set OFFEN_CORE_CHROMIUM or put chromium on PATH)")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    """One headless Chromium per test module, started by Playwright with its executable.

    Module scope, not session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, which would break later tests that call `asyncio.run`.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (new cookies and storage) in Berlin's time zone."""
    created = browser.new_context(timezone_id="Europe/Berlin", locale="en-GB")
    created.set_default_timeout(15_000)
    yield created
    created.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The FastAPI example in uvicorn, set up with one operator and one account."""
    with live_server(tmp_path_factory.mktemp("e2e-server")) as running:
        yield running


@pytest.fixture(scope="session")
def recovery_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Another FastAPI example like `server`, in recovery-key mode."""
    with live_server(tmp_path_factory.mktemp("e2e-recovery"), recovery_keys=True) as running:
        yield running


@pytest.fixture(scope="session")
def host(server: LiveServer) -> Iterator[HostSite]:
    """The host pages, on another origin than the server."""
    with host_site(server) as site:
        yield site


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's browser script, installed from the lock file with ``npm ci`` if needed."""
    if not AXE_SCRIPT.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _missing("npm is needed to install axe-core (npm ci --prefix tests/browser_e2e)")
        assert npm is not None
        done = subprocess.run(
            [npm, "ci", "--prefix", str(E2E_DIR), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not AXE_SCRIPT.is_file():
            _missing(f"npm ci could not install axe-core: {done.stderr.strip()[-500:]}")
    pinned = json.loads((E2E_DIR / "package.json").read_text())["devDependencies"]["axe-core"]
    installed = json.loads((AXE_SCRIPT.parent / "package.json").read_text())["version"]
    assert installed == pinned, f"axe-core {installed} is installed, {pinned} is pinned: npm ci"
    return AXE_SCRIPT
