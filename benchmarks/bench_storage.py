# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of offen_core.storage against bare SQLAlchemy Core on the same engine.

Measures, on each engine, each figure against a baseline run in the same process:

- ingestion: `Store.insert_events` in batches (validation, account and secret checks, ids
  minted) against a bare Core ``executemany`` of the same, prebuilt rows in transactions of
  the same size; and single-event inserts (one transaction each, as one HTTP request makes)
  against bare single-row inserts;
- reading an account's events by cursor: `Store.events_for_account` page by page against one
  bare ``SELECT`` of the same rows;
- expiry: `Store.expire` (tombstones written, batches of 5,000) against two bare statements
  (``INSERT INTO tombstones SELECT ...`` and ``DELETE``) in one transaction; with the time,
  the peak of Python memory traced during the Store's run (it must stay bounded).

Run ``python benchmarks/bench_storage.py`` for the full measurement (SQLite, PostgreSQL and
MariaDB/MySQL; 100,000 events read, 1,000,000 expired; several minutes) or add ``--smoke``
for a few seconds on SQLite with a few hundred rows (no services needed). The server URLs come
from ``OFFEN_CORE_BENCH_POSTGRES_URL`` and ``OFFEN_CORE_BENCH_MYSQL_URL`` (default: the CI
databases ``test``). **The benchmark empties every offen_core table of the databases it is
given.** ``--engines`` and ``--expire-rows`` narrow a run.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, literal, select

from offen_core.events import min_ulid_at, new_ulid, ulid_at
from offen_core.storage import (
    Account,
    NewEvent,
    Store,
    events,
    metadata,
    secrets,
    tombstones,
)

_URLS = {
    "postgres": os.environ.get(
        "OFFEN_CORE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get(
        "OFFEN_CORE_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
    ),
}


@dataclass(frozen=True)
class Sizes:
    ingest_rows: int
    ingest_batch: int
    single_rows: int
    read_rows: int
    read_page: int
    expire_rows: int
    visitors: int


FULL = Sizes(
    ingest_rows=50_000,
    ingest_batch=1_000,
    single_rows=2_000,
    read_rows=100_000,
    read_page=5_000,
    expire_rows=1_000_000,
    visitors=1_000,
)
SMOKE = Sizes(
    ingest_rows=400,
    ingest_batch=100,
    single_rows=50,
    read_rows=300,
    read_page=100,
    expire_rows=300,
    visitors=20,
)


@dataclass(frozen=True)
class Row:
    engine: str
    operation: str
    rows: int
    seconds: float
    baseline_seconds: float
    peak_mib: float | None = None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    @property
    def ratio(self) -> float:
        """Throughput of offen_core as a fraction of the baseline's."""
        return self.baseline_seconds / self.seconds


def _payload(rng: random.Random) -> str:
    """An encrypted PAGEVIEW payload's cipher string (about 260 bytes of plaintext)."""
    nonce = base64.b64encode(rng.randbytes(12)).decode()
    cipher = base64.b64encode(rng.randbytes(276)).decode()
    return f"{{1,}} {nonce} {cipher}"


def _secret_id(index: int) -> str:
    return hashlib.sha256(f"visitor {index}".encode()).hexdigest()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "migrations":
                connection.execute(table.delete())


def _setup(store: Store, sizes: Sizes) -> Account:
    _empty(store.engine)
    account = Account(
        account_id=str(uuid.uuid4()),
        name="bench",
        public_key="{}",
        encrypted_private_key="{1,} a b",
        user_salt="{1,} c2FsdA==",
        created=datetime.now(UTC),
    )
    store.create_account(account)
    with store.engine.begin() as connection:
        connection.execute(
            insert(secrets),
            [
                {"secret_id": _secret_id(index), "encrypted_secret": "{1,} c2VjcmV0"}
                for index in range(sizes.visitors)
            ],
        )
    return account


def _clear_events(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(events))
        connection.execute(delete(tombstones))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _bulk_rows(account: Account, sizes: Sizes, count: int, at: datetime | None) -> list[Any]:
    rng = random.Random(count)
    payload = _payload(rng)
    return [
        {
            "event_id": ulid_at(at) if at is not None else new_ulid(),
            "sequence": new_ulid(),
            "account_id": account.account_id,
            "secret_id": _secret_id(index % sizes.visitors),
            "payload": payload,
        }
        for index in range(count)
    ]


def _fill(engine: Engine, rows: list[Any], chunk: int = 10_000) -> None:
    for start in range(0, len(rows), chunk):
        with engine.begin() as connection:
            connection.execute(insert(events), rows[start : start + chunk])


def bench_ingestion(name: str, store: Store, account: Account, sizes: Sizes) -> list[Row]:
    rng = random.Random(1)
    payloads = [_payload(rng) for _ in range(64)]
    new = [
        NewEvent(account.account_id, _secret_id(index % sizes.visitors), payloads[index % 64])
        for index in range(sizes.ingest_rows)
    ]
    bare = [
        {
            "event_id": new_ulid(),
            "sequence": new_ulid(),
            "account_id": item.account_id,
            "secret_id": item.secret_id,
            "payload": item.payload,
        }
        for item in new
    ]
    batch = sizes.ingest_batch
    engine = store.engine

    def bare_batches() -> None:
        for start in range(0, len(bare), batch):
            with engine.begin() as connection:
                connection.execute(insert(events), bare[start : start + batch])

    def store_batches() -> None:
        for start in range(0, len(new), batch):
            store.insert_events(new[start : start + batch])

    _clear_events(engine)
    baseline = _timed(bare_batches)
    _clear_events(engine)
    ours = _timed(store_batches)
    rows = [Row(name, f"insert, batches of {batch}", len(new), ours, baseline)]

    singles = new[: sizes.single_rows]
    single_bare = bare[: sizes.single_rows]

    def bare_single() -> None:
        for row in single_bare:
            with engine.begin() as connection:
                connection.execute(insert(events), row)

    def store_single() -> None:
        for item in singles:
            store.insert_events([item])

    _clear_events(engine)
    baseline = _timed(bare_single)
    _clear_events(engine)
    ours = _timed(store_single)
    rows.append(Row(name, "insert, one event per call", len(singles), ours, baseline))
    return rows


def bench_read(name: str, store: Store, account: Account, sizes: Sizes) -> list[Row]:
    _clear_events(store.engine)
    _fill(store.engine, _bulk_rows(account, sizes, sizes.read_rows, None))
    reader = Store(
        store.engine.url.render_as_string(hide_password=False),
        clock=lambda: datetime.now(UTC) + timedelta(minutes=1),
    )
    query = (
        select(events)
        .where(events.c.account_id == account.account_id)
        .order_by(events.c.sequence, events.c.event_id)
    )

    def bare() -> None:
        with store.engine.connect() as connection:
            assert len(connection.execute(query).all()) == sizes.read_rows

    def paged() -> None:
        since = None
        seen = 0
        while True:
            page = reader.events_for_account(account.account_id, since=since, limit=sizes.read_page)
            seen += len(page.events)
            since = page.sequence
            if not page.more:
                break
        assert seen == sizes.read_rows

    def whole() -> None:
        assert len(reader.events_for_account(account.account_id).events) == sizes.read_rows

    baseline = _timed(bare)
    rows = [
        Row(
            name,
            f"read by cursor, pages of {sizes.read_page}",
            sizes.read_rows,
            _timed(paged),
            baseline,
        ),
        Row(name, "read by cursor, one page", sizes.read_rows, _timed(whole), baseline),
    ]
    reader.close()
    return rows


def bench_expiry(name: str, store: Store, account: Account, sizes: Sizes, count: int) -> Row:
    old = datetime.now(UTC) - timedelta(days=400)
    engine = store.engine
    deadline = min_ulid_at(datetime.now(UTC) - timedelta(days=186))
    sequence = new_ulid()

    def bare() -> None:
        with engine.begin() as connection:
            connection.execute(
                insert(tombstones).from_select(
                    ["event_id", "account_id", "secret_id", "sequence"],
                    select(
                        events.c.event_id,
                        events.c.account_id,
                        events.c.secret_id,
                        literal(sequence),
                    ).where(events.c.event_id < deadline),
                )
            )
            connection.execute(delete(events).where(events.c.event_id < deadline))

    _clear_events(engine)
    _fill(engine, _bulk_rows(account, sizes, count, old))
    baseline = _timed(bare)

    _clear_events(engine)
    _fill(engine, _bulk_rows(account, sizes, count, old))
    tracemalloc.start()
    start = time.perf_counter()
    report = store.expire("6months")
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.events_expired == count
    return Row(name, "expire (tombstones written)", count, seconds, baseline, peak / 2**20)


def _print(rows: list[Row]) -> None:
    header = (
        f"{'engine':<9} {'operation':<34} {'rows':>9} {'seconds':>8} {'rows/s':>9} "
        f"{'bare rows/s':>11} {'ratio':>6} {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        peak = "" if row.peak_mib is None else f"{row.peak_mib:.1f}"
        print(
            f"{row.engine:<9} {row.operation:<34} {row.rows:>9,} {row.seconds:>8.2f} "
            f"{row.rate:>9,.0f} {row.rows / row.baseline_seconds:>11,.0f} {row.ratio:>6.2f} "
            f"{peak:>8}"
        )
    print("ratio = offen_core throughput / bare SQLAlchemy Core throughput, same engine, same run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="SQLite only, a few hundred rows")
    parser.add_argument(
        "--engines", default="sqlite,postgres,mysql", help="comma list (default: all three)"
    )
    parser.add_argument("--expire-rows", type=int, default=None, help="events to expire")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    engines = ["sqlite"] if args.smoke else args.engines.split(",")
    expire_rows = args.expire_rows or sizes.expire_rows

    results: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in engines:
            url = f"sqlite:///{Path(folder) / 'bench.db'}" if name == "sqlite" else _URLS[name]
            store = Store(url)
            store.migrate()
            account = _setup(store, sizes)
            results.extend(bench_ingestion(name, store, account, sizes))
            results.extend(bench_read(name, store, account, sizes))
            results.append(bench_expiry(name, store, account, sizes, expire_rows))
            _empty(store.engine)
            store.close()
            print(f"{name}: done", file=sys.stderr)
    _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
