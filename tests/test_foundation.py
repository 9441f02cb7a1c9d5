# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The package's own contract: version, command line, exception tree, test clock."""

from __future__ import annotations

import inspect
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

import offen_core
from offen_core import errors
from offen_core.cli import main
from offen_core.testing import FakeClock


def test_version_is_exposed_and_printed_by_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"offen-core {offen_core.__version__}"


def test_command_is_installed_as_a_console_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "offen_core.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"offen-core {offen_core.__version__}"


def test_command_without_subcommand_prints_help_and_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 2
    assert "usage: offen-core" in capsys.readouterr().out


def _library_exceptions() -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    ]


def test_every_library_exception_derives_from_offen_error() -> None:
    classes = _library_exceptions()
    assert len(classes) > 10
    for cls in classes:
        assert issubclass(cls, errors.OffenError), cls


def test_every_exception_is_exported() -> None:
    assert {cls.__name__ for cls in _library_exceptions()} == set(errors.__all__)


def test_bad_value_errors_are_value_errors() -> None:
    for cls in (
        errors.MalformedCipherError,
        errors.UnsupportedAlgorithmError,
        errors.InvalidKeyError,
        errors.InvalidInputError,
        errors.PasswordPolicyError,
    ):
        assert issubclass(cls, ValueError), cls
    assert not issubclass(errors.DecryptionError, ValueError)


def test_invalid_input_error_names_field_and_rule() -> None:
    error = errors.InvalidInputError("accountId", "must be a UUID")
    assert (error.field, error.rule, str(error)) == (
        "accountId",
        "must be a UUID",
        "accountId: must be a UUID",
    )
    assert str(errors.InvalidInputError(None, "body too large")) == "body too large"


def test_throttled_error_carries_retry_after() -> None:
    error = errors.ThrottledError(12.5)
    assert error.retry_after == 12.5
    assert "12" in str(error)


def test_fake_clock_moves_only_when_told() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    clock = FakeClock(start)
    assert clock.now() == start
    assert clock.time() == start.timestamp()
    clock.advance(1.5)
    assert clock.now() == start + timedelta(seconds=1.5)
    clock.set(start + timedelta(days=1))
    assert clock.now() == start + timedelta(days=1)


def test_fake_clock_refuses_to_run_backwards_or_naive_times() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(clock.now() - timedelta(seconds=1))
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 1, 1))
