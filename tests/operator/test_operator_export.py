# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The export formats: JSON Lines round trips, incremental exports, CSV rows, versions."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from opsync_helpers import Site, page_view, wrong_key_payload

from offen_core.client import encrypt_page_view
from offen_core.errors import InvalidInputError
from offen_core.events import is_ulid
from offen_core.operator import Operator, StoreSource
from offen_core.operator.export import (
    CSV_COLUMNS,
    FORMAT_NAME,
    FORMAT_VERSION,
    CsvWriter,
    ExportSnapshot,
    JsonLinesWriter,
    open_writer,
    read_jsonl,
)
from offen_core.storage import Store


def _export(operator: Operator, source: StoreSource, since: str | None = None) -> str:
    stream = io.StringIO()
    writer = JsonLinesWriter(stream, account_id=source.account_id, account_name="site", since=since)
    for batch in operator.iter_batches(source, since=since):
        writer.write(batch)
    writer.close()
    return stream.getvalue()


def test_a_jsonl_export_reads_back_into_the_synced_events(site: Site, store: Store) -> None:
    visitors = [site.visitor() for _ in range(3)]
    for visitor in visitors:
        site.send(visitor, 3)
    site.send(visitors[0], 1, payload=wrong_key_payload)
    source = StoreSource(store, site.account_id)

    with Operator(site.login(), workers=1, page_size=4) as operator:
        text = _export(operator, source)
        state = operator.sync(source)

    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["record"] == "header"
    assert lines[0]["format"] == FORMAT_NAME
    assert lines[0]["formatVersion"] == FORMAT_VERSION
    assert is_ulid(lines[-1]["sequence"])
    assert lines[-1] == {
        "record": "end",
        "sequence": lines[-1]["sequence"],
        "events": 9,
        "deleted": 0,
        "undecryptable": {"bad_payload": 1},
    }
    event_line = next(line for line in lines if line["record"] == "event")
    assert event_line["time"].endswith("Z")
    assert set(event_line) == {"record", "eventId", "accountId", "secretId", "time", "payload"}

    snapshot = read_jsonl(text.splitlines())
    assert snapshot.sequence == lines[-1]["sequence"]
    assert snapshot.events == {event.event_id: event for event in state.events()}
    assert [f.event_id for f in snapshot.undecryptable.values()] == [
        f.event_id for f in state.undecryptable()
    ]


def test_incremental_exports_applied_in_order_equal_a_full_export(site: Site, store: Store) -> None:
    now = datetime.now(UTC)
    old, stays, leaves = site.visitor(), site.visitor(), site.visitor()
    site.send(old, 2, at=now - timedelta(days=30))
    site.send(stays, 2, at=now - timedelta(days=1))
    site.send(leaves, 2, at=now - timedelta(days=1))
    source = StoreSource(store, site.account_id)

    with Operator(site.login(), workers=1, page_size=3) as operator:
        first = read_jsonl(_export(operator, source).splitlines())
        store.expire("7days")
        store.purge_secrets([leaves.secret_id])
        site.send(stays, 3)
        both = read_jsonl(_export(operator, source, first.sequence).splitlines(), first)
        full = read_jsonl(_export(operator, source).splitlines())

    assert both is first
    assert len(both.events) == 5
    assert both.events == full.events


def test_a_csv_export_has_the_version_on_every_row(site: Site, store: Store) -> None:
    visitor = site.visitor()
    site.send(visitor, 1)
    site.send(
        visitor,
        1,
        payload=lambda v, n: encrypt_page_view(
            v.secret, page_view(n, title='Hello, "world"', pageload=12.5, geo=None)
        ),
    )
    source = StoreSource(store, site.account_id)
    stream = io.StringIO(newline="")
    with Operator(site.login(), workers=1) as operator:
        writer = open_writer("csv", stream, account_id=site.account_id)
        assert isinstance(writer, CsvWriter)
        for batch in operator.iter_batches(source):
            writer.write(batch)
        summary = writer.close()

    rows = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3
    assert summary.events == 2
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert {record["formatVersion"] for record in records} == {str(FORMAT_VERSION)}
    # Rows come in the source's order (by sequence), which need not be the order of sending.
    second = next(record for record in records if record["extra"])
    first = next(record for record in records if not record["extra"])
    assert second["secretId"] == visitor.secret_id
    assert second["pageload"] == "12.5"
    assert second["isMobile"] == "true"
    assert second["geo"] == ""
    assert second["timestamp"] == "2026-03-01T10:00:00.000Z"
    assert json.loads(second["extra"]) == {"title": 'Hello, "world"'}
    assert first["geo"] == "DE"


def test_a_reader_refuses_other_versions_cut_files_and_other_accounts() -> None:
    header = {
        "record": "header",
        "format": FORMAT_NAME,
        "formatVersion": FORMAT_VERSION,
        "accountId": "a",
        "accountName": "",
        "since": None,
        "exportedAt": "2026-01-01T00:00:00.000Z",
    }
    end = json.dumps({"record": "end", "sequence": None, "events": 0, "deleted": 0})
    assert read_jsonl([json.dumps(header), end]).events == {}
    with pytest.raises(InvalidInputError, match="end record"):
        read_jsonl([json.dumps(header)])
    with pytest.raises(InvalidInputError) as caught:
        read_jsonl([json.dumps({**header, "formatVersion": 2}), end])
    assert caught.value.field == "formatVersion"
    with pytest.raises(InvalidInputError):
        read_jsonl([json.dumps(header), end], ExportSnapshot("b"))
    with pytest.raises(InvalidInputError):
        read_jsonl(["{not json"])
    with pytest.raises(InvalidInputError):
        read_jsonl([json.dumps(header), '{"record":"mystery"}', end])
    with pytest.raises(InvalidInputError):
        read_jsonl([])
    with pytest.raises(InvalidInputError):
        open_writer("xml", io.StringIO(), account_id="a")  # type: ignore[arg-type]


def test_a_closed_writer_refuses_more(site: Site, store: Store) -> None:
    writer = JsonLinesWriter(io.StringIO(), account_id=site.account_id)
    writer.close()
    with Operator(site.login(), workers=1) as operator:
        (batch,) = list(operator.iter_batches(StoreSource(store, site.account_id)))
    with pytest.raises(InvalidInputError):
        writer.write(batch)
