# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The throttle imports nothing of the library but its errors, and no password hashing."""

from __future__ import annotations

import json
import subprocess
import sys


def test_ratelimit_imports_only_errors_and_no_argon2() -> None:
    code = (
        "import json, sys, offen_core.ratelimit;"
        "names = [m for m in sys.modules if m.startswith(('offen_core', 'argon2'))];"
        "print(json.dumps(sorted(names)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    modules = json.loads(output)
    outside = [
        m
        for m in modules
        if m not in {"offen_core", "offen_core.errors"} and not m.startswith("offen_core.ratelimit")
    ]
    assert outside == []
    assert "offen_core.ratelimit.throttle" in modules
