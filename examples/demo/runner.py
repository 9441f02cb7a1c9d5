# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The one-command demo: a set-up, seeded ASGI example server on a temporary SQLite database.

``python -m examples.demo`` (from the root of a clone) does, in order:

1. binds a port on 127.0.0.1 (a free one unless ``--port`` names one);
2. opens a new SQLite database in a temporary folder and migrates it;
3. runs the server's setup flow (`offen_core.server.Operators.setup`): an account "Demo site"
   and a super-admin operator with a generated password, so that logging in works exactly as
   on any instance (the web login, `offen_core.client.http.OffenClient`, ``offen-core``);
4. seeds a few hundred visitors with their sessions over the retention period
   (`examples.demo.traffic`, `examples.demo.seed`);
5. prints the addresses and the operator's credentials (the only place where the examples
   print a credential; the demo's instance is a throwaway one);
6. serves the FastAPI example with uvicorn until Ctrl-C, then deletes the temporary folder.

``--seed-only`` stops after step 5 (CI runs the demo that way).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from examples.common.service import Service
from examples.common.settings import Settings
from examples.demo.seed import SeedReport, seed_account
from examples.demo.traffic import plan_traffic
from offen_core.crypto import KeyPair, generate_key_pair
from offen_core.errors import InvalidInputError, OffenError
from offen_core.server import load_server_secret

__all__ = ["DEMO_ACCOUNT_NAME", "DEMO_EMAIL", "Demo", "main", "prepare_demo"]

DEMO_ACCOUNT_NAME = "Demo site"
"""The name of the demo's account."""

DEMO_EMAIL = "demo@example.org"
"""The demo operator's email address."""

_DEFAULT_VISITORS = 300


@dataclass(frozen=True, slots=True)
class Demo:
    """A set-up and seeded demo instance, ready to be served.

    Attributes:
        service: The example server's service over the demo database (started).
        url: The server's base URL, such as ``http://127.0.0.1:8000``.
        account_id: The demo account's id.
        email: The operator's email address.
        password: The operator's generated password.
        database_url: The SQLite URL of the demo database.
        seeded: What the seeding stored.
    """

    service: Service
    url: str
    account_id: str
    email: str
    password: str = field(repr=False)
    database_url: str
    seeded: SeedReport


def prepare_demo(
    url: str,
    database: Path,
    *,
    visitors: int = _DEFAULT_VISITORS,
    rng: random.Random | None = None,
    key_pair_factory: Callable[[], KeyPair] = generate_key_pair,
    outbox: Path | None = None,
    secret: bytes | None = None,
) -> Demo:
    """Create, set up and seed a demo instance (without serving it).

    Args:
        url: The base URL the server will be reached at; mail links and the seeded pages'
            addresses are built from it.
        database: The SQLite file to create (it must not hold an instance already).
        visitors: How many visitors to seed.
        rng: The randomness of the traffic plan (seed it for a reproducible plan); user
            secrets and nonces always come from the operating system.
        key_pair_factory: Makes the account's RSA key pair (RSA-4096 by default).
        outbox: Where the server writes mails; next to the database by default.
        secret: The server secret; a random one by default (the operator's email lookup
            is keyed with it, so a kept database needs the same secret to be served again).

    Returns:
        The demo, with its service started. Close it with ``demo.service.close()``.

    Raises:
        ConflictError: The database holds an instance already.
        OffenError: Another value was refused.
    """
    settings = Settings(
        secret=secret if secret is not None else secrets.token_bytes(32),
        database_url=f"sqlite:///{database}",
        base_url=url.rstrip("/"),
        mail_outbox=str(outbox if outbox is not None else database.parent / "outbox"),
    )
    service = Service(settings, key_pair_factory=key_pair_factory)
    try:
        service.start()
        # 16 characters from a 96-bit random value: well inside the 8-to-64 policy.
        password = secrets.token_urlsafe(12)
        service.operators.setup(
            {"accountName": DEMO_ACCOUNT_NAME, "emailAddress": DEMO_EMAIL, "password": password}
        )
        (account,) = service.store.list_accounts()
        plan = plan_traffic(
            rng if rng is not None else random.Random(),  # noqa: S311 (made-up traffic)
            visitors,
            origin=settings.base_url or url,
            now=datetime.now(UTC),
            retention=service.config.retention_period,
        )
        seeded = seed_account(service.store, service.visitors, account.account_id, plan)
    except BaseException:
        service.close()
        raise
    return Demo(
        service=service,
        url=url.rstrip("/"),
        account_id=account.account_id,
        email=DEMO_EMAIL,
        password=password,
        database_url=settings.database_url,
        seeded=seeded,
    )


def describe(demo: Demo, *, serving: bool, kept: bool) -> str:
    """The text the demo prints: addresses, credentials, what was seeded.

    Args:
        demo: The demo.
        serving: Whether the server is about to run.
        kept: Whether the database outlives the demo.

    Returns:
        The text, several lines.
    """
    seeded = demo.seeded
    days = ""
    if seeded.oldest is not None and seeded.newest is not None:
        days = f" over {(seeded.newest - seeded.oldest).days + 1} days"
    fate = "kept" if kept else "deleted when the demo stops"
    lines = [
        f"offen_core demo: seeded {seeded.visitors} visitors, {seeded.sessions} sessions and "
        f"{seeded.pageviews} encrypted pageviews{days} in {seeded.seconds:.1f} s",
        "",
        f"  demo site (counts your visits)  {demo.url}/demo/",
        f"  your data, as a visitor         {demo.url}/visitor/",
        f"  operator email                  {demo.email}",
        f"  operator password               {demo.password}",
        f"  account id                      {demo.account_id}",
        f"  database ({fate})",
        f"    {demo.database_url}",
        "",
        "  the operator's report, in another terminal:",
        f"    {report_command(demo)}",
    ]
    if serving:
        lines += ["", f"serving {demo.url}/ (Ctrl-C stops the demo)"]
    return "\n".join(lines)


def report_command(demo: Demo) -> str:
    """The ``offen-core report`` command line that reads the demo account over HTTP.

    Args:
        demo: The demo.

    Returns:
        The command; it asks for the password (or reads ``$OFFEN_CORE_PASSWORD``).
    """
    return (
        f"{_offen_core()} report --server {demo.url} --email {demo.email} "
        f"--account {demo.account_id}"
    )


def _offen_core() -> str:
    """How to call ``offen-core`` here: the one of the demo's virtual environment, if any."""
    script = Path(sys.executable).parent / "offen-core"
    if not script.is_file():
        return "offen-core"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m examples.demo",
        description=(
            "Start the FastAPI example server on a temporary SQLite database with an operator, "
            "an account and a few hundred seeded visitors."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--visitors",
        type=int,
        default=_DEFAULT_VISITORS,
        help=f"how many visitors to seed (default {_DEFAULT_VISITORS})",
    )
    parser.add_argument(
        "--random-seed", type=int, default=None, help="seed of the traffic plan, to repeat it"
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="SQLite file to create and keep (default: a temporary one, deleted at the end)",
    )
    parser.add_argument(
        "--seed-only", action="store_true", help="set up, seed, print and exit without serving"
    )
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _secret_from_env() -> bytes | None:
    # A kept database (--database) can only be served again with the secret it was made with.
    text = os.environ.get("OFFEN_CORE_SECRET", "").strip()
    return load_server_secret(text) if text else None


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _url(host: str, port: int) -> str:
    # A wildcard address is where the server listens, not an address to browse to.
    wildcard = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}  # noqa: S104
    shown = wildcard.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _serve(demo: Demo, sock: socket.socket) -> None:
    import uvicorn

    from examples.asgi.app import create_app

    app = create_app(service=demo.service)
    config = uvicorn.Config(
        app,
        log_level="warning",
        # uvicorn's own logging set-up would re-enable every logger the app configured.
        log_config=None,
        access_log=False,  # the example writes its own access log, without client addresses
        proxy_headers=False,
        server_header=False,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the demo.

    Args:
        argv: The arguments (``sys.argv[1:]`` by default).
        out: Where to print (standard output by default).

    Returns:
        The exit status: 0, or 1 when the demo could not be set up.
    """
    args = _parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    if args.visitors < 0:
        print("--visitors cannot be negative", file=sys.stderr)
        return 2
    if args.database is not None and args.database.exists():
        print(f"{args.database} exists already; name a new file", file=sys.stderr)
        return 2

    try:
        secret = _secret_from_env()
    except InvalidInputError as error:
        print(f"OFFEN_CORE_SECRET {error.rule}", file=sys.stderr)
        return 2

    try:
        sock = _listen(args.host, args.port)
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port} ({error.strerror})", file=sys.stderr)
        return 1
    # Stop on SIGTERM as on Ctrl-C, so the temporary folder is deleted either way.
    signal.signal(signal.SIGTERM, _interrupt)
    folder = Path(tempfile.mkdtemp(prefix="offen-core-demo-"))
    database = args.database.resolve() if args.database is not None else folder / "demo.db"
    demo: Demo | None = None
    try:
        demo = prepare_demo(
            _url(args.host, sock.getsockname()[1]),
            database,
            visitors=args.visitors,
            rng=random.Random(args.random_seed),  # noqa: S311 (made-up traffic, not keys)
            outbox=folder / "outbox",
            secret=secret,
        )
        print(
            describe(demo, serving=not args.seed_only, kept=args.database is not None),
            file=stream,
            flush=True,
        )
        if not args.seed_only:
            _serve(demo, sock)
    except OffenError as error:
        print(f"the demo could not be set up: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if demo is not None:
            demo.service.close()
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)
    return 0
