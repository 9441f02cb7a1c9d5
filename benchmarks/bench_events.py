# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of offen_core.events against bare pydantic models with the same fields.

Measures, on PAGEVIEW payloads of about 260 bytes from 1,000 visitors (100,000 events; 2,000
with ``--smoke``), each against a baseline measured in the same process:

- validating the decrypted payload JSON into a `PageView` (what the operator does for every
  event of a report), against a plain pydantic model with the same fields, aliases and types
  but none of the rules;
- validating the same payloads given as parsed dicts;
- serialising payloads back to JSON bytes (what the client does before encrypting);
- validating a `DecryptedEvent` (envelope and payload) from a dict;
- validating the body a client posts (`EncryptedEvent`) on the server;
- minting ids with `new_ulid` against python-ulid's own ``ULID()``.

Run ``python benchmarks/bench_events.py`` for the full measurement or add ``--smoke`` for a
run of a few seconds that only proves the script works. It needs no services.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from ulid import ULID

from offen_core.events import (
    DecryptedEvent,
    EncryptedEvent,
    new_ulid,
    parse_page_view,
    serialize_page_view,
)


class BarePageView(BaseModel):
    """The same members as PageView, plain types, no rules, no custom (de)serialisation."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str = "PAGEVIEW"
    href: str | None = None
    referrer: str | None = None
    pageload: int | float | None = None
    is_mobile: bool | None = Field(default=None, alias="isMobile")
    raw_href: str | None = Field(default=None, alias="rawHref")
    timestamp: datetime | None = None
    session_id: str | None = Field(default=None, alias="sessionId")
    geo: str | None = None


class BareDecryptedEvent(BaseModel):
    """The same members as DecryptedEvent, plain types."""

    model_config = ConfigDict(populate_by_name=True)

    event_id: str = Field(alias="eventId")
    account_id: str = Field(alias="accountId")
    secret_id: str | None = Field(default=None, alias="secretId")
    payload: BarePageView


class BareEncryptedEvent(BaseModel):
    """The same members as EncryptedEvent, plain types."""

    account_id: str = Field(alias="accountId")
    payload: str


def _payloads(count: int, rng: random.Random) -> list[bytes]:
    """PAGEVIEW payloads shaped like the vault's, about 260 bytes of JSON each."""
    sessions = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(1_000)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for _ in range(count):
        page = rng.choice(["/", "/blog/", "/about/", "/pricing/", "/docs/getting-started/"])
        event: dict[str, Any] = {
            "type": "PAGEVIEW",
            "href": f"https://www.example.com{page}",
            "title": "Example \u2013 a page title",
            "referrer": rng.choice(["", "https://duckduckgo.com/", "https://news.example.org/x"]),
            "pageload": rng.choice([None, rng.randint(200, 4000)]),
            "isMobile": rng.random() < 0.4,
            "timestamp": (start + timedelta(seconds=rng.randrange(15_000_000)))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "sessionId": rng.choice(sessions),
            "geo": rng.choice(["DE", "FR", "US", "JP", None]),
        }
        out.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode())
    return out


def _per_item(
    library: Callable[[list[Any]], object],
    bare: Callable[[list[Any]], object],
    items: list[Any],
    chunk: int,
    rounds: int,
) -> tuple[float, float]:
    """Best seconds per item of each side, timed chunk by chunk, interleaved.

    The machine is shared, so each side is timed on chunks of ``chunk`` items, alternating
    with the other side, and the best chunk counts: a burst of load elsewhere spoils a few
    chunks, not the figure. The cyclic garbage collector is paused while a chunk runs, so that
    its passes over the objects a chunk makes are not charged to whichever side triggers one.
    """
    best_lib = best_bare = float("inf")
    for _ in range(rounds):
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            for side in ("bare", "lib"):
                gc.collect()
                gc.disable()
                try:
                    began = time.perf_counter()
                    (bare if side == "bare" else library)(part)
                    spent = (time.perf_counter() - began) / len(part)
                finally:
                    gc.enable()
                if side == "bare":
                    best_bare = min(best_bare, spent)
                else:
                    best_lib = min(best_lib, spent)
    return best_lib, best_bare


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, only proves it runs")
    args = parser.parse_args()
    count, chunk, rounds = (2_000, 1_000, 1) if args.smoke else (100_000, 10_000, 3)

    rng = random.Random(4)
    raw = _payloads(count, rng)
    dicts = [json.loads(r) for r in raw]
    account = "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0"
    secrets = [rng.randbytes(32).hex() for _ in range(1_000)]
    envelopes = [
        {"eventId": new_ulid(), "accountId": account, "secretId": rng.choice(secrets), "payload": d}
        for d in dicts
    ]
    bodies = [
        json.dumps({"accountId": account, "payload": "{1,} " + "QUJD" * 80 + " " + "QUJD" * 4})
        for _ in range(count)
    ]
    views = [parse_page_view(r) for r in raw]
    bare_views = [BarePageView.model_validate_json(r) for r in raw]

    rows: list[tuple[str, Callable[[list[Any]], object], Callable[[list[Any]], object], list[Any]]]
    rows = [
        (
            "PageView from JSON bytes",
            lambda part: [parse_page_view(r) for r in part],
            lambda part: [BarePageView.model_validate_json(r) for r in part],
            raw,
        ),
        (
            "PageView from dict",
            lambda part: [parse_page_view(d) for d in part],
            lambda part: [BarePageView.model_validate(d) for d in part],
            dicts,
        ),
        (
            # Items are (ours, bare) pairs of the same payload; each side takes its own.
            "PageView to JSON bytes",
            lambda part: [serialize_page_view(v) for v, _ in part],
            lambda part: [b.model_dump_json(by_alias=True).encode() for _, b in part],
            list(zip(views, bare_views, strict=True)),
        ),
        (
            "DecryptedEvent from dict",
            lambda part: [DecryptedEvent.model_validate(e) for e in part],
            lambda part: [BareDecryptedEvent.model_validate(e) for e in part],
            envelopes,
        ),
        (
            "EncryptedEvent from JSON body",
            lambda part: [EncryptedEvent.model_validate_json(b) for b in part],
            lambda part: [BareEncryptedEvent.model_validate_json(b) for b in part],
            bodies,
        ),
        (
            "new_ulid vs python-ulid ULID()",
            lambda part: [new_ulid() for _ in part],
            lambda part: [str(ULID()) for _ in part],
            raw,
        ),
    ]
    print(f"{count:,} events in chunks of {chunk:,}, best chunk of {rounds} rounds")
    print(f"{'operation':<36} {'offen_core':>12} {'bare':>12} {'ratio':>7}")
    measured = {}
    for name, library, bare, items in rows:
        lib_s, bare_s = _per_item(library, bare, items, chunk, rounds)
        measured[name] = (lib_s, bare_s)
        print(f"{name:<36} {lib_s * 1e6:>9.2f} µs {bare_s * 1e6:>9.2f} µs {lib_s / bare_s:>6.2f}x")
    lib_total = sum(measured[n][0] for n in ("PageView from JSON bytes", "PageView to JSON bytes"))
    bare_total = sum(measured[n][1] for n in ("PageView from JSON bytes", "PageView to JSON bytes"))
    print(
        f"{'validate + serialise ' + format(count, ',') + ' events':<36}"
        f" {lib_total * count:>10.3f} s {bare_total * count:>10.3f} s"
        f" {lib_total / bare_total:>6.2f}x"
    )


if __name__ == "__main__":
    main()
