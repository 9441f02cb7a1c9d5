# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Email normalisation and lookup hash, the mailers and the ``offen-core secret`` command."""

from __future__ import annotations

import base64
import email
import io
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.cli import main
from offen_core.errors import InvalidInputError
from offen_core.server._email import email_lookup, normalize_email
from offen_core.server.mail import (
    MailDeliveryError,
    Mailer,
    MailMessage,
    OutboxMailer,
    SmtpMailer,
    invitation_message,
    invite_link,
    reset_link,
    reset_message,
)

SECRET = b"0123456789abcdef"


# --- normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Ann@Example.ORG\t", "ann@example.org"),
        ("ann@example.org", "ann@example.org"),
        # "e" followed by a combining acute accent becomes the single character é (NFC).
        ("Ren\u0065\u0301@example.org", "ren\u00e9@example.org"),
        ("RENÉ@EXAMPLE.ORG", "rené@example.org"),
    ],
)
def test_normalize_email_strips_composes_and_lowers(typed: str, expected: str) -> None:
    assert normalize_email(typed) == expected


@pytest.mark.parametrize(
    "bad",
    [
        None,
        42,
        "",
        "   ",
        "ann",
        "@example.org",
        "ann@",
        "a b@example.org",
        "a@b@c",
        "ann\x00@example.org",
        "a" * 250 + "@example.org",
    ],
)
def test_normalize_email_refuses_what_is_no_address(bad: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        normalize_email(bad, "invitee")
    assert caught.value.field == "invitee"


def test_email_lookup_is_one_hash_for_every_spelling_and_keyed() -> None:
    assert email_lookup(SECRET, " Ann@Example.org") == email_lookup(SECRET, "ann@example.org")
    assert email_lookup(SECRET, "ann@example.org") != email_lookup(SECRET, "bob@example.org")
    assert email_lookup(SECRET, "ann@example.org") != email_lookup(
        b"another secret!!", "ann@example.org"
    )
    assert len(email_lookup(SECRET, "ann@example.org")) == 64
    with pytest.raises(InvalidInputError):
        email_lookup(b"", "ann@example.org")


@given(st.emails(), st.sampled_from(["", " ", "\t", "\n "]))
def test_normalisation_is_idempotent_and_ignores_surrounding_space(
    address: str, space: str
) -> None:
    once = normalize_email(address)
    assert normalize_email(once) == once
    assert normalize_email(space + address + space) == once
    assert once == once.lower()


# --- links and messages -------------------------------------------------------------------


def test_links_come_from_the_base_url() -> None:
    assert invite_link("https://a.example/", "t.o-k_en") == "https://a.example/join/t.o-k_en/"
    assert reset_link("https://a.example", "tok") == "https://a.example/reset-password/tok/"
    with pytest.raises(InvalidInputError):
        reset_link("javascript:alert(1)", "tok")


def test_messages_carry_the_link_and_the_names() -> None:
    invite = invitation_message("ann@example.org", "https://x/join/t/", ["Site"], new_operator=True)
    assert "https://x/join/t/" in invite.body
    assert "Site" in invite.body
    added = invitation_message("ann@example.org", None, ["Site"], new_operator=False)
    assert "https://" not in added.body
    assert "log in" in added.body
    reset = reset_message("ann@example.org", "https://x/reset-password/t/")
    assert "https://x/reset-password/t/" in reset.body
    assert "ann@" not in repr(reset)
    assert "reset-password" not in repr(reset)


# --- outbox -------------------------------------------------------------------------------


def test_outbox_writes_one_private_file_per_message(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    mailer = OutboxMailer(folder)
    assert isinstance(mailer, Mailer)
    mailer.send(MailMessage("ann@example.org", "First", "one"))
    mailer.send(MailMessage("bob@example.org", "Second", "two"))

    files = sorted(folder.iterdir())
    assert len(files) == 2
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    parsed = [email.message_from_bytes(path.read_bytes()) for path in files]
    assert [message["To"] for message in parsed] == ["ann@example.org", "bob@example.org"]
    assert [message["Subject"] for message in parsed] == ["First", "Second"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_outbox_prints_only_when_switched_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    OutboxMailer(tmp_path / "quiet").send(MailMessage("a@example.org", "S", "secret link"))
    assert "secret link" not in capsys.readouterr().out
    stream = io.StringIO()
    OutboxMailer(tmp_path / "loud", print_to_console=True, stream=stream).send(
        MailMessage("a@example.org", "S", "secret link")
    )
    assert "secret link" in stream.getvalue()


def test_outbox_that_cannot_write_raises_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MailDeliveryError) as caught:
        OutboxMailer(blocker).send(MailMessage("ann@example.org", "S", "B"))
    assert "ann@" not in str(caught.value)


# --- SMTP ---------------------------------------------------------------------------------


class _SmtpSink:
    """A tiny SMTP server on a socket, enough for smtplib to deliver one message."""

    def __init__(self) -> None:
        import socket

        self.received: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._server.accept()
        with connection, connection.makefile("rwb") as stream:
            stream.write(b"220 sink\r\n")
            stream.flush()
            data: list[bytes] = []
            reading = False
            for line in stream:
                if reading:
                    if line == b".\r\n":
                        reading = False
                        self.received.append(b"".join(data))
                        stream.write(b"250 ok\r\n")
                    else:
                        data.append(line)
                    stream.flush()
                    continue
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    stream.write(b"250 sink\r\n")
                elif verb == b"DATA":
                    reading = True
                    stream.write(b"354 go\r\n")
                elif verb == b"QUIT":
                    stream.write(b"221 bye\r\n")
                    stream.flush()
                    return
                else:
                    stream.write(b"250 ok\r\n")
                stream.flush()

    def close(self) -> None:
        self._thread.join(timeout=5)
        self._server.close()


@pytest.fixture
def smtp_sink() -> Iterator[_SmtpSink]:
    sink = _SmtpSink()
    yield sink
    sink.close()


def test_smtp_mailer_delivers_a_message(smtp_sink: _SmtpSink) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_sink.port, security="none", sender="me@example.org")
    mailer.send(MailMessage("ann@example.org", "Hello", "the body"))
    smtp_sink.close()
    assert len(smtp_sink.received) == 1
    message = email.message_from_bytes(smtp_sink.received[0])
    assert message["To"] == "ann@example.org"
    assert message["From"] == "me@example.org"
    assert "the body" in message.get_payload()


def test_smtp_mailer_without_server_raises_a_delivery_error() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    mailer = SmtpMailer("127.0.0.1", port, security="none", timeout=2)
    with pytest.raises(MailDeliveryError):
        mailer.send(MailMessage("ann@example.org", "S", "B"))


def test_smtp_mailer_hides_its_password_and_checks_security() -> None:
    assert "hunter2" not in repr(SmtpMailer("mail.example", username="u", password="hunter2"))
    with pytest.raises(InvalidInputError):
        SmtpMailer("mail.example", security="ssl-ish")


# --- offen-core secret --------------------------------------------------------------------


def test_secret_command_prints_base64_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secret"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert len(base64.b64decode(line, validate=True)) == 16

    assert main(["secret", "--length", "32", "--count", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert len(set(lines)) == 3
    assert all(len(base64.b64decode(value, validate=True)) == 32 for value in lines)


@pytest.mark.parametrize("args", [["--length", "0"], ["--count", "0"], ["--length", "5000"]])
def test_secret_command_refuses_bad_sizes(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(["secret", *args]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "offen-core secret" in captured.err


def test_secret_values_load_as_a_server_secret(capsys: pytest.CaptureFixture[str]) -> None:
    from offen_core.server import load_server_secret

    main(["secret"])
    assert len(load_server_secret(capsys.readouterr().out)) == 16
