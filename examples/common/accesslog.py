# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""An access log that never prints client addresses, and the logging set-up of the servers.

Each line has the shape of Offen's log: ``- - - [time] "METHOD PATH PROTOCOL" STATUS -``.
The three leading dashes stand where the common log format prints the client's address and
identity; the query string is left out (it can name accounts and cursors), and so is the
token of a mailed link (``/join/-``); every 2xx and 3xx
status is written as 200, as Offen does, so that the log does not tell whether a visitor had
given consent (``POST /api/events`` answers 201 with consent and 204 without).

uvicorn and gunicorn write their own access logs with the client address in them; the
servers drop those records (`DropServerAccessLog`) and write this one instead.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "ACCESS_LOGGER",
    "DropServerAccessLog",
    "access_line",
    "configure_logging",
    "log_access",
]

ACCESS_LOGGER: Final = "examples.access"
"""The logger the access log is written to, at INFO level."""

_SERVER_ACCESS_LOGGERS: Final = ("uvicorn.access", "gunicorn.access")

_access = logging.getLogger(ACCESS_LOGGER)


class DropServerAccessLog(logging.Filter):
    """Drops every record: attached to uvicorn's and gunicorn's access loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop the record.

        Args:
            record: A record of the server's access log, which names the client address.

        Returns:
            ``False``, always.
        """
        return False


def _clean(text: str) -> str:
    """Escape what could forge or break a log line (control characters, quotes)."""
    return "".join(
        char if char.isprintable() and char not in '"\\' else f"%{ord(char):02X}" for char in text
    )


_MAILED_LINKS: Final = ("/join/", "/reset-password/")
"""Paths whose rest is the token of an invitation or reset mail."""


def _without_token(path: str) -> str:
    # A mailed link's path is its token, which opens the invitation or the reset to whoever
    # reads it; the log keeps only which kind of link was opened.
    for prefix in _MAILED_LINKS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return f"{prefix}-"
    return path


def access_line(method: str, path: str, protocol: str, status: int, when: datetime) -> str:
    """Format one access log line.

    Args:
        method: The request method.
        path: The request path; a query string, if given, is cut off, and so is what
            follows ``/join/`` or ``/reset-password/`` (a mailed link's token).
        protocol: For example ``HTTP/1.1``.
        status: The status answered; 2xx and 3xx are written as 200.
        when: When the request was answered.

    Returns:
        ``- - - [03/Dec/2026:17:00:00 +0000] "GET /healthz HTTP/1.1" 200 -``.
    """
    shown = 200 if 200 <= status < 400 else status
    stamp = when.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S %z")
    shown_path = _without_token(path.split("?", 1)[0])
    request = f"{_clean(method)} {_clean(shown_path)} {_clean(protocol)}"
    return f'- - - [{stamp}] "{request}" {shown} -'


def log_access(method: str, path: str, protocol: str, status: int) -> None:
    """Write one access log line, if the access logger is enabled for INFO.

    Args:
        method: The request method.
        path: The request path.
        protocol: For example ``HTTP/1.1``.
        status: The status answered.
    """
    if _access.isEnabledFor(logging.INFO):
        _access.info("%s", access_line(method, path, protocol, status, datetime.now(UTC)))


def configure_logging(level: str = "INFO", *, access_log: bool = True) -> None:
    """Set up the application's logging: its own access log, and no server access log.

    Adds a handler writing to standard error to the access logger and to ``examples`` when
    they have none, and attaches `DropServerAccessLog` to uvicorn's and gunicorn's access
    loggers. Safe to call more than once.

    Args:
        level: The level of the ``examples`` loggers (``INFO``, ``DEBUG`` ...).
        access_log: Whether to write the access log.
    """
    for name in _SERVER_ACCESS_LOGGERS:
        server_log = logging.getLogger(name)
        if not any(isinstance(item, DropServerAccessLog) for item in server_log.filters):
            server_log.addFilter(DropServerAccessLog())
    application = logging.getLogger("examples")
    application.setLevel(level)
    if not application.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        application.addHandler(handler)
        application.propagate = False
    _access.disabled = not access_log
