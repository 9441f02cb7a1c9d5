# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Reading the query string and the cookies of a request, the same way in both servers.

Starlette and Werkzeug disagree on small things (which of two repeated parameters wins, how a
malformed cookie header is read); both servers read the raw values with these functions so
that they answer alike.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

__all__ = ["parse_cookie_header", "parse_query"]


def parse_query(query: bytes | str) -> dict[str, str]:
    """Read a query string; the first of repeated parameters wins.

    Args:
        query: The raw query string, without ``?``.

    Returns:
        Each parameter's first value (blank values kept).
    """
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    values: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        values.setdefault(name, value)
    return values


def parse_cookie_header(header: str | None) -> dict[str, str]:
    """Read a ``Cookie`` header leniently; the first of repeated names wins.

    Browsers send the cookie with the most specific path first, so the first value is the
    one meant for this path. A pair without ``=`` is skipped; surrounding double quotes are
    removed.

    Args:
        header: The header's value, or ``None``.

    Returns:
        The cookies by name.
    """
    cookies: dict[str, str] = {}
    for chunk in (header or "").split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies.setdefault(name, value)
    return cookies
