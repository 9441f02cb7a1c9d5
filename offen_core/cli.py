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


_COMMANDS: dict[str, _Command] = {}


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
