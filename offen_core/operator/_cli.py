# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The work behind ``offen-core export`` and ``offen-core report``.

`offen_core.cli` parses the arguments and hands over a function that logs in against a
database (the server's own flow, which this package must not import); everything else lives
here: reading the credentials, the HTTP login, the progress bar, writing the outputs.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TextIO

from offen_core.errors import InvalidInputError, StorageError
from offen_core.operator._keys import LoginResultLike
from offen_core.operator._operator import Operator, Progress
from offen_core.operator._report import account_report, format_tables
from offen_core.operator._report_html import render_html
from offen_core.operator._sources import AccountSource, HttpSource, StoreSource
from offen_core.operator.export import ExportSummary, open_writer

__all__ = ["DatabaseLogin", "ProgressBar", "run_export", "run_report"]

DatabaseLogin = Callable[[str, str, str], tuple[Any, Any]]
"""``login(database_url, email, password) -> (login result, Store)``, given by the CLI."""

_EMAIL_ENV = "OFFEN_CORE_EMAIL"
_PASSWORD_ENV = "OFFEN_CORE_PASSWORD"  # noqa: S105 - the name of a variable, not a password


class ProgressBar:
    """A one-line progress display on a terminal's standard error.

    It draws nothing when the stream is not a terminal, and nothing during the first
    ``delay`` seconds, so short runs and redirected output stay clean.

    Args:
        stream: Where to draw; standard error by default.
        delay: Seconds before the first drawing.
        width: Characters of the bar.
    """

    def __init__(
        self, stream: TextIO | None = None, *, delay: float = 0.5, width: int = 24
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty()
        self._start = time.monotonic()
        self._delay = delay
        self._width = width
        self._last = 0.0
        self._drawn = False

    def __call__(self, progress: Progress) -> None:
        """Redraw for ``progress`` (at most ten times a second)."""
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._start < self._delay or now - self._last < 0.1:
            return
        self._last = now
        if progress.secrets_total:
            filled = self._width * progress.secrets_done // progress.secrets_total
            bar = "#" * filled + "-" * (self._width - filled)
            head = f"[{bar}] {progress.secrets_done:,}/{progress.secrets_total:,} secrets"
        else:
            head = f"page {progress.pages:,}"
        line = (
            f"\r{head} | {progress.events:,} events | {progress.undecryptable:,} undecryptable"
            f" | {now - self._start:.1f} s"
        )
        self._stream.write(line.ljust(79))
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the line, if anything was drawn."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    email = args.email or os.environ.get(_EMAIL_ENV)
    if not email:
        if not sys.stdin.isatty():
            raise InvalidInputError("--email", f"is required (or set {_EMAIL_ENV})")
        email = input("Email: ").strip()
    password = os.environ.get(_PASSWORD_ENV)
    if not password:
        if not sys.stdin.isatty():
            raise InvalidInputError("password", f"is required: set {_PASSWORD_ENV}")
        password = getpass.getpass("Password: ")
    return email, password


@contextmanager
def _session(
    args: argparse.Namespace, database_login: DatabaseLogin
) -> Iterator[tuple[LoginResultLike | Mapping[str, Any], Callable[[str], AccountSource]]]:
    """Log in and give the login result and a way to make an account's source."""
    email, password = _credentials(args)
    if args.server:
        import httpx

        from offen_core.client.http import OffenClient

        client = OffenClient(args.server)
        try:
            login = client.login(email, password)
            yield login, lambda account_id: HttpSource(client, account_id)
        except httpx.TransportError:
            raise StorageError(
                "the server cannot be reached or broke off; check --server and try again"
            ) from None
        finally:
            client.close()
        return
    login, store = database_login(args.database_url, email, password)
    try:
        yield login, lambda account_id: StoreSource(store, account_id)
    finally:
        store.close()


def _account_id(operator: Operator, wanted: str | None) -> str:
    if wanted:
        return wanted.strip().lower()
    grants = operator.accounts
    if len(grants) == 1:
        return grants[0].account_id
    if not grants:
        raise InvalidInputError("--account", "the operator has access to no account")
    raise InvalidInputError(
        "--account", f"is required: the operator has access to {len(grants)} accounts"
    )


def _print_accounts(operator: Operator, stream: TextIO) -> None:
    for grant in operator.accounts:
        stream.write(f"{grant.account_id}  {grant.account_name}\n")


@contextmanager
def _output(path: str | None, *, newline: str | None = None) -> Iterator[IO[str]]:
    """Open ``path`` for writing through a temporary file renamed at the end ('-': stdout)."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline=newline) as stream:
            yield stream
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _summary_line(summary: ExportSummary) -> str:
    failures = ", ".join(f"{reason} {count:,}" for reason, count in summary.undecryptable.items())
    text = f"exported {summary.events:,} event(s), {summary.deleted:,} deletion(s)"
    if summary.undecryptable_total:
        text += f"; {summary.undecryptable_total:,} undecryptable ({failures})"
    return text + f"; next cursor: {summary.sequence or '-'}"


def run_export(args: argparse.Namespace, database_login: DatabaseLogin) -> int:
    """Run ``offen-core export``.

    Args:
        args: The parsed arguments.
        database_login: Logs in against a database (from `offen_core.cli`).

    Returns:
        The exit status.
    """
    with (
        _session(args, database_login) as (login, make_source),
        Operator(login, workers=args.workers) as operator,
    ):
        if args.list_accounts:
            _print_accounts(operator, sys.stdout)
            return 0
        source = make_source(_account_id(operator, args.account))
        header = operator.header(source)
        bar = ProgressBar()
        newline = "" if args.format == "csv" else None
        try:
            with _output(args.output, newline=newline) as stream:
                writer = open_writer(
                    args.format,
                    stream,
                    account_id=source.account_id,
                    account_name=header.name,
                    since=args.since,
                )
                for batch in operator.iter_batches(source, since=args.since, progress=bar):
                    writer.write(batch)
                summary = writer.close()
        finally:
            bar.finish()
    print(_summary_line(summary), file=sys.stderr)
    return 0


def _parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInputError("--now", "must be an ISO 8601 date and time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _range(text: str | None) -> int | str | None:
    if text is None or text == "yesterday":
        return text
    if text.isdigit():
        return int(text)
    raise InvalidInputError("--range", "must be a whole number or yesterday")


def run_report(args: argparse.Namespace, database_login: DatabaseLogin) -> int:
    """Run ``offen-core report``.

    Args:
        args: The parsed arguments.
        database_login: Logs in against a database (from `offen_core.cli`).

    Returns:
        The exit status.
    """
    now = _parse_now(args.now)
    span = _range(args.range)
    with (
        _session(args, database_login) as (login, make_source),
        Operator(login, workers=args.workers) as operator,
    ):
        source = make_source(_account_id(operator, args.account))
        header = operator.header(source)
        bar = ProgressBar()
        try:
            state = operator.sync(source, progress=bar)
        finally:
            bar.finish()
    report = account_report(
        state,
        now=now,
        account_name=header.name,
        range=span,
        resolution=args.resolution,
        time_zone=args.tz,
        filter=args.filter,
    )
    if args.json:
        with _output(args.json) as stream:
            stream.write(report.to_json(indent=2) + "\n")
    if args.html:
        with _output(args.html) as stream:
            stream.write(render_html(report))
    if not args.quiet and args.json != "-" and args.html != "-":
        sys.stdout.write(format_tables(report))
    return 0
