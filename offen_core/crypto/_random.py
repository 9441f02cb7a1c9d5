# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Random bytes and values from the operating system's CSPRNG."""

from __future__ import annotations

import os

from offen_core.crypto._base64 import b64encode
from offen_core.errors import InvalidInputError

__all__ = ["random_bytes", "random_value"]

_MAX_RANDOM = 1 << 20


def random_bytes(n: int) -> bytes:
    """Return ``n`` random bytes from the operating system's CSPRNG.

    Args:
        n: How many bytes, from 0 to 1,048,576.

    Returns:
        The bytes.

    Raises:
        InvalidInputError: If ``n`` is not an integer in that range.
    """
    if type(n) is not int or not 0 <= n <= _MAX_RANDOM:
        raise InvalidInputError("n", f"must be an integer from 0 to {_MAX_RANDOM}")
    return os.urandom(n)


def random_value(n: int = 32) -> str:
    """Return ``n`` random bytes as standard base64 with padding, as Offen's secrets are made.

    Offen uses such values for its server secret and for one-time keys.

    Args:
        n: How many random bytes to encode, from 0 to 1,048,576.

    Returns:
        The base64 text.

    Raises:
        InvalidInputError: If ``n`` is not an integer in that range.
    """
    return b64encode(random_bytes(n))
