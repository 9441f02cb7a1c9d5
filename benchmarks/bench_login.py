# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of operator login: does its cost grow with the number of operators?

Offen finds an operator by comparing the typed address with the argon2 hash of every
operator's address, so a login costs one argon2 run per operator. offen_core finds the
operator by a keyed lookup hash over an index, so a login costs the same argon2 work (one
password verification, one key derivation) however many operators there are, and an unknown
address costs the same work as a known one (against a dummy record).

Measured, each as a median over many logins, against the baseline "login with 1 operator":

- a login among 1,000 operators (target: ratio under 1.2);
- a login with a wrong password and a login with an unknown address, among 1,000 operators
  (they must not be distinguishable beyond noise);
- for contrast, a login of an operator adopted from Offen (no lookup hash yet) found by
  Offen's scan over a few such rows; it grows with the number of rows, which is why adopted
  operators get the lookup hash at their first login.

How the 1,000 operators are made: through the Store, as `Operators.setup` and sharing write
them, but with the argon2 work done up front. Each operator has its own address, so each
``hashed_email`` is a real argon2 hash of that address (computed in a process pool, about
37 ms each); all of them share one password, one KDF salt and therefore one password hash
and one password-wrapped KEK, which changes nothing in what a login reads or computes. Doing
1,000 setups instead would cost 4,000 argon2 runs and 1,000 RSA-4096 key pairs for the same
rows.

Run ``python benchmarks/bench_login.py`` for the full measurement (about two minutes on two
cores) or add ``--smoke`` for a run of a few seconds that only proves the script works. It
uses temporary SQLite databases and needs no services.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from offen_core.crypto import (
    derive_key,
    encrypt_symmetric,
    generate_key_pair,
    hash_password,
    new_fast_salt,
    new_kdf_salt,
    random_bytes,
)
from offen_core.errors import InvalidCredentialsError
from offen_core.server import ServerConfig
from offen_core.server._email import email_lookup
from offen_core.server.operators import Operators
from offen_core.storage import Account, AccountKey, AccountUser, Relationship, Store

SECRET = b"benchmark-server-secret-01234567"
PASSWORD = "benchmark password"  # noqa: S105 - the operators' made-up password


def _address(index: int) -> str:
    return f"operator-{index:05d}@example.org"


def _hash_addresses(indexes: range) -> list[str]:
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(hash_password, [_address(i) for i in indexes], chunksize=16))


def _populate(store: Store, count: int, *, adopted: int, bits: int) -> None:
    """Store one account and ``count`` operators with access to it (``adopted`` without lookup)."""
    pair = generate_key_pair(bits)
    kek = random_bytes(32)
    now = datetime.now(UTC)
    public = json.dumps(pair.public_key.to_jwk())
    private = encrypt_symmetric(kek, json.dumps(pair.private_key.to_jwk()).encode())
    account = Account(str(uuid.uuid4()), "Benchmark", public, private, new_fast_salt(), now)
    store.create_account(account, [], [AccountKey(account.account_id, 1, public, private, now)])

    salt = new_kdf_salt()
    hashed_password = hash_password(PASSWORD)
    wrapped = encrypt_symmetric(derive_key(PASSWORD, salt), kek)
    hashed_emails = _hash_addresses(range(count))
    with store.transaction() as transaction:
        for index, hashed_email in enumerate(hashed_emails):
            user = AccountUser(
                account_user_id=str(uuid.uuid4()),
                hashed_email=hashed_email,
                hashed_password=hashed_password,
                salt=salt,
                admin_level=1,
                email_lookup=None if index < adopted else email_lookup(SECRET, _address(index)),
            )
            transaction.create_account_user(user)
            transaction.create_relationships(
                [
                    Relationship(
                        str(uuid.uuid4()),
                        user.account_user_id,
                        account.account_id,
                        password_encrypted_key_encryption_key=wrapped,
                    )
                ]
            )


def _attempt(flows: Operators, address: str, password: str) -> Callable[[], None]:
    body = {"username": address, "password": password}

    def run() -> None:
        with contextlib.suppress(InvalidCredentialsError):
            flows.login(body)

    return run


def _discard(_: object) -> None:
    return None


def _medians(cases: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Median time of each case, the cases interleaved round by round against drift."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for case in cases.values():
        case()  # warm up: connections, the dummy record, caches
    for _ in range(rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _open(folder: Path, name: str) -> Store:
    store = Store(f"sqlite:///{folder / name}.db")
    store.migrate()
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args()

    many = 20 if args.smoke else 1000
    scanned = 3 if args.smoke else 20
    rounds = 3 if args.smoke else 40
    bits = 2048 if args.smoke else 4096
    config = ServerConfig(SECRET)

    with tempfile.TemporaryDirectory() as folder:
        stores = {name: _open(Path(folder), name) for name in ("one", "many", "scan")}
        _populate(stores["one"], 1, adopted=0, bits=bits)
        _populate(stores["many"], many, adopted=0, bits=bits)
        _populate(stores["scan"], scanned, adopted=scanned, bits=bits)
        one, flows_many, flows_scan = (
            Operators(stores[name], config) for name in ("one", "many", "scan")
        )

        cases = {
            "login, 1 operator (baseline)": _attempt(one, _address(0), PASSWORD),
            f"login, {many} operators": _attempt(flows_many, _address(many // 2), PASSWORD),
            f"wrong password, {many} operators": _attempt(flows_many, _address(7), "wrong one"),
            f"unknown address, {many} operators": _attempt(
                flows_many, "nobody@example.org", PASSWORD
            ),
        }
        salt = new_kdf_salt()
        cases["for scale: one argon2id run (derive_key, algo 3)"] = lambda: _discard(
            derive_key(PASSWORD, salt)
        )
        medians = _medians(cases, rounds)

        # Offen's scan: each measured login finds the last adopted row; it then gets the
        # lookup hash, so every round needs a fresh database state. Measure a few rounds.
        scan_rounds = 1 if args.smoke else 3
        scan_times = []
        for round_index in range(scan_rounds):
            target = _address(scanned - 1 - round_index)
            start = time.perf_counter()
            _attempt(flows_scan, target, PASSWORD)()
            scan_times.append(time.perf_counter() - start)
        medians[f"adopted operator, Offen's scan over up to {scanned} rows"] = statistics.median(
            scan_times
        )
        for store in stores.values():
            store.close()

    baseline = medians["login, 1 operator (baseline)"]
    width = max(len(name) for name in medians)
    print(f"{'case':<{width}}  {'median ms':>10}  {'ratio':>6}")
    for name, seconds in medians.items():
        print(f"{name:<{width}}  {seconds * 1000:>10.1f}  {seconds / baseline:>6.2f}")


if __name__ == "__main__":
    main()
