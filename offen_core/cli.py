# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The ``offen-core`` command.

Each subcommand is a pair of functions: one adds its arguments to a parser, the other runs it
and returns the exit status. Library modules are imported inside the functions that need them,
so that ``offen-core --version`` stays fast and nothing in the library imports this module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from offen_core import __version__
from offen_core.errors import OffenError

__all__ = ["main"]


@dataclass(frozen=True)
class _Command:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _configure_secret(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--length", type=int, default=16, help="random bytes per secret (default 16, as Offen)"
    )
    parser.add_argument("--count", type=int, default=1, help="how many secrets (default 1)")


def _run_secret(args: argparse.Namespace) -> int:
    """Print random secrets as standard base64, one a line, as Offen's ``offen secret`` does."""
    from offen_core.crypto import random_value
    from offen_core.errors import InvalidInputError

    if not 1 <= args.length <= 1024:
        raise InvalidInputError("--length", "must be from 1 to 1024 bytes")
    if not 1 <= args.count <= 1000:
        raise InvalidInputError("--count", "must be from 1 to 1000")
    for _ in range(args.count):
        print(random_value(args.length))
    return 0


def _database_url_argument(parser: argparse.ArgumentParser) -> None:
    import os

    parser.add_argument(
        "--database-url",
        default=os.environ.get("OFFEN_CORE_DATABASE_URL") or "sqlite:///offen.db",
        help=(
            "the database: sqlite:///path, postgresql+psycopg://... or mysql+pymysql://... "
            "(default: $OFFEN_CORE_DATABASE_URL, else the SQLite file offen.db in the "
            "current folder)"
        ),
    )


def _configure_migrate(parser: argparse.ArgumentParser) -> None:
    _database_url_argument(parser)


def _run_migrate(args: argparse.Namespace) -> int:
    """Create, upgrade or adopt the schema and print what was done."""
    from offen_core.storage import Store

    store = Store(args.database_url)
    try:
        report = store.migrate()
    finally:
        store.close()
    if report.adopted:
        print("adopted an existing Offen database")
    if report.revision_before == report.revision_after:
        print(f"schema already at revision {report.revision_after}")
    else:
        print(f"schema migrated to revision {report.revision_after}")
    if report.operators_without_lookup:
        print(
            f"{report.operators_without_lookup} operator(s) adopted from Offen still lack the "
            "email lookup column; each gets it at their next login"
        )
    return 0


def _configure_expire(parser: argparse.ArgumentParser) -> None:
    import os

    _database_url_argument(parser)
    parser.add_argument(
        "--retention",
        default=os.environ.get("OFFEN_CORE_RETENTION") or "6months",
        help=(
            "6months (186 days), 12weeks, 6weeks, 30days, 7days or a number of days from 7 "
            "to 1825 (default: $OFFEN_CORE_RETENTION, else 6months)"
        ),
    )


def _run_expire(args: argparse.Namespace) -> int:
    """Expire events and tombstones older than the retention period once."""
    from offen_core.storage import Store, parse_retention

    retention = parse_retention(args.retention)
    store = Store(args.database_url)
    try:
        report = store.expire(retention)
    finally:
        store.close()
    print(
        f"expired {report.events_expired} event(s) and pruned {report.tombstones_pruned} "
        f"tombstone(s) older than {retention.days} days"
    )
    return 0


def _configure_operator(parser: argparse.ArgumentParser, *, report: bool) -> None:
    import os

    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--database-url",
        default=os.environ.get("OFFEN_CORE_DATABASE_URL") or "sqlite:///offen.db",
        help="read the account from this database (needs $OFFEN_CORE_SECRET, the server's "
        "secret; default: $OFFEN_CORE_DATABASE_URL, else sqlite:///offen.db)",
    )
    source.add_argument("--server", metavar="URL", help="read the account from this server")
    parser.add_argument("--email", help="the operator's email (default: $OFFEN_CORE_EMAIL)")
    parser.add_argument("--account", metavar="ID", help="the account (needed if several)")
    parser.add_argument(
        "--workers", type=int, help="processes sharing the work, this one included (default: CPUs)"
    )
    if not report:
        parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
        parser.add_argument("--output", metavar="FILE", help="where to write (default: stdout)")
        parser.add_argument("--since", metavar="CURSOR", help="only what changed after it")
        parser.add_argument("--list-accounts", action="store_true", help="list and exit")
        return
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page")
    parser.add_argument("--range", help="units to show, or yesterday (default 7)")
    parser.add_argument(
        "--resolution", default="days", choices=("hours", "days", "weeks", "months")
    )
    parser.add_argument("--tz", default="UTC", help="time zone of days (default UTC)")
    parser.add_argument("--now", help="the report's instant, ISO 8601 (default: now)")
    parser.add_argument("--filter", help="<property>:<value>, such as href:https://...")
    parser.add_argument("--quiet", action="store_true", help="print no tables")


def _database_login(url: str, email: str, password: str) -> tuple[object, object]:
    """Log an operator in with the server's own flow against the database."""
    import os

    from offen_core.errors import InvalidInputError
    from offen_core.server import Operators, ServerConfig, load_server_secret
    from offen_core.storage import Store

    secret = os.environ.get("OFFEN_CORE_SECRET")
    if not secret:
        raise InvalidInputError("OFFEN_CORE_SECRET", "is required to log in against a database")
    config = ServerConfig(load_server_secret(secret))
    store = Store(url)
    try:
        result = Operators(store, config).login({"username": email, "password": password})
    except BaseException:
        store.close()
        raise
    return result, store


def _run_export(args: argparse.Namespace) -> int:
    """Export an account's decrypted events as JSON Lines or CSV."""
    from offen_core.operator._cli import run_export

    return run_export(args, _database_login)


def _run_report(args: argparse.Namespace) -> int:
    """Print an account's metrics report; write it as JSON or HTML too."""
    from offen_core.operator._cli import run_report

    return run_report(args, _database_login)


def _configure_recovery(parser: argparse.ArgumentParser) -> None:
    _database_url_argument(parser)
    parser.add_argument(
        "--remove-email-keys",
        action="store_true",
        help="remove Offen's email-wrapped key-encryption keys (only once every operator has a "
        "recovery key)",
    )


def _run_recovery(args: argparse.Namespace) -> int:
    """Report which operators lack a recovery key; remove the email-wrapped KEKs on request."""
    from offen_core.server.recovery import recovery_report, remove_email_keys
    from offen_core.storage import Store

    store = Store(args.database_url)
    try:
        report = recovery_report(store)
        missing = report.without_recovery_key
        print(f"{report.operators} operator(s), {len(missing)} without a recovery key")
        for account_user_id in missing:
            print(f"  no recovery key yet: operator {account_user_id}")
        print(f"{report.email_wrapped_keys} email-wrapped key-encryption key(s) remain")
        if report.pending_email_invitations:
            print(
                f"{report.pending_email_invitations} pending invitation(s) depend on their "
                "email copy: share those accounts again in recovery-key mode"
            )
        if args.remove_email_keys:
            print(f"removed {remove_email_keys(store)} email-wrapped key-encryption key(s)")
        elif report.ready and report.email_wrapped_keys:
            print("every operator has a recovery key: run again with --remove-email-keys")
    finally:
        store.close()
    return 0


def _configure_rotate(parser: argparse.ArgumentParser) -> None:
    import os

    _database_url_argument(parser)
    parser.add_argument("--account", metavar="ID", required=True, help="the account to rotate")
    parser.add_argument("--email", help="your email address (default: $OFFEN_CORE_EMAIL)")
    parser.add_argument(
        "--kek",
        action="store_true",
        help="also rotate the key-encryption key: every other operator loses access",
    )
    parser.add_argument(
        "--invite",
        metavar="EMAIL",
        action="append",
        default=[],
        help="with --kek: an operator to invite again (repeat for several)",
    )
    parser.add_argument(
        "--base-url",
        default=os.environ.get("OFFEN_CORE_BASE_URL"),
        help="the server's public URL, for invitation links (default: $OFFEN_CORE_BASE_URL)",
    )
    parser.add_argument(
        "--outbox", default="offen-outbox", help="where invitation mails are written"
    )
    parser.add_argument(
        "--recovery-mode",
        action="store_true",
        default=bool(os.environ.get("OFFEN_CORE_RECOVERY_MODE")),
        help="the instance uses recovery keys (default: $OFFEN_CORE_RECOVERY_MODE set)",
    )


def _run_rotate(args: argparse.Namespace) -> int:
    """Rotate an account's key pair, or its KEK and key pair, as one of its super-admins."""
    import getpass
    import os

    from offen_core import crypto
    from offen_core.errors import InvalidInputError
    from offen_core.server import Operators, OutboxMailer, ServerConfig, load_server_secret
    from offen_core.storage import Store

    secret = os.environ.get("OFFEN_CORE_SECRET")
    if not secret:
        raise InvalidInputError("OFFEN_CORE_SECRET", "is required: the server's secret")
    email = args.email or os.environ.get("OFFEN_CORE_EMAIL")
    if not email:
        raise InvalidInputError("email", "is required: pass --email or set OFFEN_CORE_EMAIL")
    password = os.environ.get("OFFEN_CORE_PASSWORD") or getpass.getpass("Password: ")
    if args.invite and not args.kek:
        raise InvalidInputError("--invite", "needs --kek")
    config = ServerConfig(
        load_server_secret(secret), base_url=args.base_url, recovery_mode=args.recovery_mode
    )
    store = Store(args.database_url)
    try:
        operators = Operators(
            store,
            config,
            mailer=OutboxMailer(args.outbox),
            key_pair_factory=crypto.generate_key_pair,
        )
        login = operators.login({"username": email, "password": password})
        session = operators.authenticate(login.token)
        body = {"emailAddress": email, "password": password}
        if args.kek:
            result = operators.rotate_kek(session, args.account, {**body, "invitees": args.invite})
            print(
                f"rotated the key-encryption key and the key pair (now version "
                f"{result.key_version}); removed {result.removed} other operator copy(ies), "
                f"invited {result.invited}"
            )
        else:
            result = operators.rotate_key_pair(session, args.account, body)
            print(f"rotated the key pair: the current key version is {result.key_version}")
    finally:
        store.close()
    return 0


_COMMANDS: dict[str, _Command] = {
    "secret": _Command(
        help="Print random secrets (standard base64) for OFFEN_SECRET and similar settings.",
        configure=_configure_secret,
        run=_run_secret,
    ),
    "migrate": _Command(
        help="Create or upgrade the database schema, adopting an existing Offen database.",
        configure=_configure_migrate,
        run=_run_migrate,
    ),
    "expire": _Command(
        help="Delete events and tombstones older than the retention period (run it hourly).",
        configure=_configure_expire,
        run=_run_expire,
    ),
    "export": _Command(
        help="Decrypt an account's events and write them as JSON Lines or CSV.",
        configure=lambda parser: _configure_operator(parser, report=False),
        run=_run_export,
    ),
    "report": _Command(
        help="Decrypt an account's events and print its metrics (JSON and HTML on request).",
        configure=lambda parser: _configure_operator(parser, report=True),
        run=_run_report,
    ),
    "recovery": _Command(
        help="Report operators without a recovery key; remove email-wrapped keys when ready.",
        configure=_configure_recovery,
        run=_run_recovery,
    ),
    "rotate": _Command(
        help="Rotate an account's key pair, or with --kek its key-encryption key as well.",
        configure=_configure_rotate,
        run=_run_rotate,
    ),
}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="offen-core",
        description="Tools for privacy-analytics data in Offen's formats.",
    )
    parser.add_argument("--version", action="version", version=f"offen-core {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in _COMMANDS.items():
        sub = subcommands.add_parser(name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (defaults to ``sys.argv[1:]``) and return its status.

    Errors the library raises on bad input are printed as one line on standard error with
    status 1; usage errors exit with status 2.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return run(args)
    except OffenError as error:
        print(f"offen-core {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
