# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Sending invitations and password resets: the `Mailer` protocol and two mailers.

A server sends two kinds of mail: an invitation to join accounts and a password reset link.
Both carry a signed token (the reset token also a one-time key), so a message is as sensitive
as a password. The mailers here:

- `OutboxMailer`, the default: writes each message as an ``.eml`` file, readable only by its
  owner, into a local folder. Printing messages to the console is a development switch that
  is off by default.
- `SmtpMailer`: delivers through an SMTP server with the standard library (STARTTLS by
  default, implicit TLS or none on request).

Links are built from the server's configured base URL (`ServerConfig.base_url`) with
`invite_link` and `reset_link`. Offen put a client-supplied ``urlTemplate`` into its mails,
which let anyone have the server mail a victim a genuine reset link to an attacker's host; a
``urlTemplate`` is still accepted in requests for compatibility, and never used.
"""

from __future__ import annotations

import itertools
import os
import smtplib
import ssl
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable
from urllib.parse import quote

from offen_core.errors import InvalidInputError, OffenError

__all__ = [
    "DEFAULT_SENDER",
    "MailDeliveryError",
    "MailMessage",
    "Mailer",
    "OutboxMailer",
    "SmtpMailer",
    "invitation_message",
    "invite_link",
    "reset_link",
    "reset_message",
]

DEFAULT_SENDER = "no-reply@offen.dev"
"""The sender address Offen uses when none is configured."""


class MailDeliveryError(OffenError):
    """A message could not be written or delivered; the message names no address."""


@dataclass(frozen=True)
class MailMessage:
    """One plain-text message.

    Attributes:
        to: The recipient's address.
        subject: The subject line.
        body: The plain-text body.
    """

    to: str
    subject: str
    body: str

    def __repr__(self) -> str:
        # The body carries a token and the recipient is personal data.
        return f"MailMessage(to=..., subject={self.subject!r}, body=...)"


@runtime_checkable
class Mailer(Protocol):
    """Anything that can send a `MailMessage`."""

    def send(self, message: MailMessage) -> None:
        """Send one message.

        Args:
            message: The message.

        Raises:
            MailDeliveryError: If it could not be sent.
        """


def _link(base_url: str, path: str, token: str) -> str:
    if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
        raise InvalidInputError("base_url", "must be an absolute http(s) URL to build mail links")
    return f"{base_url.rstrip('/')}/{path}/{quote(token, safe='')}/"


def invite_link(base_url: str, token: str) -> str:
    """Build the link that lets an invited operator join: ``{base_url}/join/{token}/``.

    Args:
        base_url: The server's public URL (`ServerConfig.base_url`).
        token: The invitation token.

    Returns:
        The link.

    Raises:
        InvalidInputError: If ``base_url`` is not an absolute http(s) URL.
    """
    return _link(base_url, "join", token)


def reset_link(base_url: str, token: str) -> str:
    """Build the password reset link: ``{base_url}/reset-password/{token}/``.

    Args:
        base_url: The server's public URL (`ServerConfig.base_url`).
        token: The reset token.

    Returns:
        The link.

    Raises:
        InvalidInputError: If ``base_url`` is not an absolute http(s) URL.
    """
    return _link(base_url, "reset-password", token)


def invitation_message(
    to: str, link: str | None, account_names: Sequence[str], *, new_operator: bool
) -> MailMessage:
    """Write the mail that tells an operator about accounts shared with them.

    Args:
        to: The invitee's address.
        link: The join link for a new operator; ``None`` for an operator who already has a
            password (they get access at their next login).
        account_names: The names of the shared accounts.
        new_operator: Whether the invitee still has to choose a password.

    Returns:
        The message.
    """
    names = "\n".join(f"  - {name}" for name in account_names)
    if new_operator and link is not None:
        body = (
            "You have been invited to view the analytics of these accounts:\n\n"
            f"{names}\n\n"
            "Open this link within 7 days to choose your password and join:\n\n"
            f"{link}\n\n"
            "If you did not expect this invitation, ignore this message.\n"
        )
        return MailMessage(to=to, subject="You have been invited to Offen", body=body)
    body = (
        "You have been given access to the analytics of these accounts:\n\n"
        f"{names}\n\n"
        "They appear the next time you log in.\n"
    )
    return MailMessage(to=to, subject="You have been added to accounts", body=body)


def reset_message(to: str, link: str) -> MailMessage:
    """Write the password reset mail.

    Args:
        to: The operator's address.
        link: The reset link.

    Returns:
        The message.
    """
    body = (
        "Someone asked to reset the password of your operator login.\n\n"
        "Open this link within 24 hours to choose a new password:\n\n"
        f"{link}\n\n"
        "If it was not you, ignore this message; your password stays as it is.\n"
    )
    return MailMessage(to=to, subject="Reset your password", body=body)


def _to_email(message: MailMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(message.body)
    return mail


class OutboxMailer:
    """Writes each message as an ``.eml`` file into a folder; the default mailer.

    Files are created with mode ``0600`` (the folder with ``0700`` if it is created here),
    because a reset mail carries a one-time key. Their names sort by time of writing.

    Args:
        folder: Where to write; created if missing.
        sender: The ``From`` address.
        print_to_console: Development switch: also print each message to ``stream``. Off by
            default, because a reset mail carries a one-time key; never turn it on where
            others read the console or its logs.
        stream: Where printed messages go; standard output by default.

    .. warning::
        Anyone who can read the folder can take over operator logins with the links in it.
        Keep it private and empty it regularly.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        sender: str = DEFAULT_SENDER,
        print_to_console: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.sender = sender
        self.print_to_console = print_to_console
        self._stream = stream
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OutboxMailer(folder={str(self.folder)!r})"

    def send(self, message: MailMessage) -> None:
        """Write ``message`` to a new file in the outbox folder.

        Args:
            message: The message.

        Raises:
            MailDeliveryError: If the folder or file cannot be written.
        """
        data = _to_email(message, self.sender).as_bytes()
        with self._lock:
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._counter):06d}.eml"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
        except OSError:
            raise MailDeliveryError(
                "the mail could not be written to the outbox folder; check that it is writable"
            ) from None
        if self.print_to_console:
            stream = self._stream if self._stream is not None else sys.stdout
            stream.write(data.decode("utf-8", errors="replace") + "\n")
            stream.flush()


class SmtpMailer:
    """Delivers messages through an SMTP server, on the standard library's `smtplib`.

    Args:
        host: The SMTP server's host name.
        port: Its port: 587 (submission with STARTTLS) by default, 465 for implicit TLS.
        username: The login, or ``None`` to send without authentication.
        password: The password for ``username``; hidden from ``repr``.
        sender: The ``From`` address.
        security: ``"starttls"`` (default), ``"tls"`` (implicit TLS) or ``"none"`` (plain
            text, for a relay on the same host only).
        timeout: Seconds to wait for the server.
        ssl_context: The TLS context; the system's default verification if ``None``.

    Raises:
        InvalidInputError: If ``security`` is not one of the three values.
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str | None = None,
        password: str | None = None,
        sender: str = DEFAULT_SENDER,
        security: str = "starttls",
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise InvalidInputError("security", "must be 'starttls', 'tls' or 'none'")
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.sender = sender
        self.security = security
        self.timeout = timeout
        self._context = ssl_context

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self.host!r}, port={self.port}, security={self.security!r})"

    def send(self, message: MailMessage) -> None:
        """Deliver ``message`` to the SMTP server.

        Args:
            message: The message.

        Raises:
            MailDeliveryError: If the server cannot be reached, refuses the login or the
                message.
        """
        mail = _to_email(message, self.sender)
        context = self._context or ssl.create_default_context()
        try:
            client: smtplib.SMTP
            if self.security == "tls":
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=context)
                if self.username is not None:
                    client.login(self.username, self._password or "")
                client.send_message(mail)
        except (OSError, smtplib.SMTPException):
            raise MailDeliveryError(
                "the mail could not be delivered through SMTP; check the mail settings"
            ) from None
