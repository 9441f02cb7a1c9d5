# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The browser's JavaScript modules, tested by Node's own test runner from pytest.

``crypto.test.mjs`` proves that ``examples/browser/crypto.js`` reads and writes Offen's formats
(against Offen's vectors when they are present); ``vault.test.mjs`` covers the vault's logic
that needs no page: payload checks, the consent cookie and the exchange with its retry.

Node 20 or later must be on the PATH; without it these tests are skipped, unless
``OFFEN_CORE_REQUIRE_SERVICES=1`` makes its absence a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEST_DIR = Path(__file__).resolve().parent
VECTORS_PATH = Path(
    os.environ.get(
        "OFFEN_CORE_VECTORS",
        PROJECT_ROOT.parent / "shared" / "interop" / "offen-vectors.json",
    )
)
REQUIRE_SERVICES = os.environ.get("OFFEN_CORE_REQUIRE_SERVICES") == "1"
MINIMUM_NODE_MAJOR = 20


def _missing(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} (OFFEN_CORE_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def node() -> str:
    """The path of a Node.js 20 or later; skips (or fails) when there is none."""
    path = shutil.which("node")
    if path is None:
        _missing("node is not on the PATH; the browser modules are tested with Node 20 or later")
        raise AssertionError("unreachable")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    match = re.match(r"v(\d+)\.", version.stdout.strip())
    if match is None or int(match.group(1)) < MINIMUM_NODE_MAJOR:
        _missing(f"node {version.stdout.strip()} is too old; Node {MINIMUM_NODE_MAJOR} is needed")
    return path


def _run_node_tests(node: str, test_file: Path) -> str:
    """Runs one Node test file with the TAP reporter and returns its output."""
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(test_file)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test {test_file.name} failed:\n{output[-6000:]}"
    return output


def _summary(output: str, name: str) -> int:
    match = re.search(rf"^# {name} (\d+)$", output, re.MULTILINE)
    assert match is not None, f"no '# {name}' line in the TAP output:\n{output[-2000:]}"
    return int(match.group(1))


def test_crypto_js_matches_offens_formats(node: str) -> None:
    output = _run_node_tests(node, TEST_DIR / "crypto.test.mjs")

    assert _summary(output, "fail") == 0
    assert _summary(output, "pass") > 40
    if not VECTORS_PATH.is_file():
        return
    # With the vectors present, every symmetric, asymmetric and browser-side negative case ran
    # and passed; only the server-side negative cases (argon2, HashFast) are skipped.
    assert "test vectors are not at" not in output
    for case in ("sym-1 ", "sym-51 ", "asym-8 ", "neg-11 ", "neg-16 "):
        assert re.search(rf"^\s*ok \d+ - {re.escape(case)}", output, re.MULTILINE), case
    reasons = [reason for reason in re.findall(r"# SKIP ?(.*)$", output, re.MULTILINE) if reason]
    assert reasons
    assert all("server-side operation" in reason for reason in reasons), reasons


def test_vault_logic_runs_in_node(node: str) -> None:
    output = _run_node_tests(node, TEST_DIR / "vault.test.mjs")

    assert _summary(output, "fail") == 0
    assert _summary(output, "pass") > 20
