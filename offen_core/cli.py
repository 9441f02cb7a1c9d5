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
