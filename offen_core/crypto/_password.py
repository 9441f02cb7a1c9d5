# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's password policy, kept apart from hashing (which also hashes emails)."""

from __future__ import annotations

from typing import Final

from offen_core.errors import PasswordPolicyError

__all__ = ["MAX_PASSWORD_CHARS", "MIN_PASSWORD_CHARS", "check_password_policy"]

MIN_PASSWORD_CHARS: Final = 8
"""The fewest characters a new password may have."""

MAX_PASSWORD_CHARS: Final = 64
"""The most characters a new password may have."""


def check_password_policy(password: str) -> None:
    """Check a new password against Offen's policy: 8 to 64 characters.

    Characters are Unicode code points. Offen's Go server counts UTF-8 bytes instead, so
    it refuses a password of 30 Chinese characters (90 bytes) and accepts ``"äöüäö"``
    (5 characters, 10 bytes); this function does the opposite in both cases, which is what
    a person counting characters expects. Every password that
    passes here fits `MAX_SECRET_BYTES` (64 characters are at most 256 bytes).

    Apply it where a password is set (setup, join, change, reset), not at login: passwords
    set under Offen's byte count must keep working.

    Args:
        password: The new password.

    Raises:
        PasswordPolicyError: If ``password`` is not a str, or has fewer than 8 or more than
            64 characters.
    """
    if not isinstance(password, str):
        raise PasswordPolicyError("password", f"must be a str, not {type(password).__name__}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordPolicyError("password", f"must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordPolicyError("password", f"must have at most {MAX_PASSWORD_CHARS} characters")
