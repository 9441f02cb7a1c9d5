# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Export formats for decrypted events: JSON Lines and CSV, each carrying a format version.

The guide "Export format" describes both. In short:

- JSON Lines (``.jsonl``): one JSON object per line, each with a ``record`` member: a
  ``header`` first (with ``format`` and ``formatVersion``), then ``event``, ``deleted`` and
  ``undecryptable`` records in the order they were read, and an ``end`` record with the cursor
  and the counts. A file without its ``end`` record is incomplete. `read_jsonl` reads one
  back and applies it to what an earlier export held.
- CSV (``.csv``): a header row, then one row per decrypted event; the first column,
  ``formatVersion``, holds the format version on every row. Deletions and undecryptable events
  have no rows; the writer's `ExportSummary` counts them.

Writers take batches from `offen_core.operator.Operator.iter_batches` and write them as they
come, so an export of any size runs in bounded memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Final, Literal

from offen_core.errors import InvalidInputError
from offen_core.events import DecryptedEvent, ulid_time
from offen_core.operator._operator import Batch
from offen_core.operator._pipeline import Reason, Undecryptable, merge_counts

__all__ = [
    "CSV_COLUMNS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "CsvWriter",
    "ExportFormat",
    "ExportSnapshot",
    "ExportSummary",
    "JsonLinesWriter",
    "open_writer",
    "read_jsonl",
]

FORMAT_NAME: Final = "offen-core-export"
"""The ``format`` member of a JSON Lines header."""

FORMAT_VERSION: Final = 1
"""The version of both export formats; it changes when a reader would need to change."""

CSV_COLUMNS: Final = (
    "formatVersion",
    "eventId",
    "time",
    "accountId",
    "secretId",
    "type",
    "href",
    "rawHref",
    "referrer",
    "pageload",
    "isMobile",
    "timestamp",
    "sessionId",
    "geo",
    "extra",
)
"""The CSV header row, in order."""

ExportFormat = Literal["jsonl", "csv"]


def _iso(when: datetime) -> str:
    utc = when.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote.

    Attributes:
        events: Decrypted events written.
        deleted: Deletions received (JSON Lines writes them as records; CSV cannot).
        undecryptable: Events that could not be decrypted, by reason.
        sequence: The cursor after the export: pass it as ``since`` for the next one.
    """

    events: int
    deleted: int
    undecryptable: Mapping[str, int]
    sequence: str | None

    @property
    def undecryptable_total(self) -> int:
        """All undecryptable events, whatever the reason."""
        return sum(self.undecryptable.values())


class _Writer:
    def __init__(self) -> None:
        self._events = 0
        self._deleted = 0
        self._failures: dict[str, int] = {}
        self._sequence: str | None = None
        self._closed = False

    def _count(self, batch: Batch) -> None:
        self._events += len(batch.events)
        self._deleted += len(batch.deleted_event_ids)
        more: dict[str, int] = {}
        for failure in batch.undecryptable:
            more[failure.reason] = more.get(failure.reason, 0) + 1
        self._failures = merge_counts(self._failures, more)
        if batch.sequence is not None:
            self._sequence = batch.sequence

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidInputError("writer", "is closed; open a new one for another export")

    def summary(self) -> ExportSummary:
        """Give what was written so far.

        Returns:
            The counts and the cursor.
        """
        return ExportSummary(self._events, self._deleted, dict(self._failures), self._sequence)


class JsonLinesWriter(_Writer):
    """Writes an export as JSON Lines: a header, the records of each batch, an end record.

    Args:
        stream: A text stream opened for writing (UTF-8; ``newline=""`` is not needed).
        account_id: The account's id.
        account_name: The account's name.
        since: The cursor the export starts after (an incremental export), or ``None``.
        exported_at: When the export was made, aware; now by default.
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        account_id: str,
        account_name: str = "",
        since: str | None = None,
        exported_at: datetime | None = None,
    ) -> None:
        super().__init__()
        self._stream = stream
        self._account_id = account_id
        header = {
            "record": "header",
            "format": FORMAT_NAME,
            "formatVersion": FORMAT_VERSION,
            "accountId": account_id,
            "accountName": account_name,
            "since": since,
            "exportedAt": _iso(exported_at or datetime.now(UTC)),
        }
        stream.write(_dumps(header) + "\n")

    def write(self, batch: Batch) -> None:
        """Write one batch: its events, its undecryptable events, its deletions.

        Args:
            batch: The batch.

        Raises:
            InvalidInputError: The writer was closed.
        """
        self._check_open()
        lines = []
        for event in batch.events:
            lines.append(
                f'{{"record":"event","eventId":"{event.event_id}",'
                f'"accountId":"{event.account_id}",'
                f'"secretId":{_dumps(event.secret_id)},'
                f'"time":"{_iso(ulid_time(event.event_id))}",'
                f'"payload":{event.payload.model_dump_json()}}}\n'
            )
        for failure in batch.undecryptable:
            record = {
                "record": "undecryptable",
                "eventId": failure.event_id,
                "secretId": failure.secret_id,
                "reason": str(failure.reason),
            }
            lines.append(_dumps(record) + "\n")
        for event_id in batch.deleted_event_ids:
            lines.append(f'{{"record":"deleted","eventId":{_dumps(event_id)}}}\n')
        self._stream.write("".join(lines))
        self._count(batch)

    def close(self) -> ExportSummary:
        """Write the end record (the cursor and the counts); the stream stays open.

        Returns:
            The summary.
        """
        summary = self.summary()
        if not self._closed:
            end = {
                "record": "end",
                "sequence": summary.sequence,
                "events": summary.events,
                "deleted": summary.deleted,
                "undecryptable": dict(summary.undecryptable),
            }
            self._stream.write(_dumps(end) + "\n")
            self._stream.flush()
            self._closed = True
        return summary


def _cell(value: object) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return _dumps(value)
    return str(value)


class CsvWriter(_Writer):
    """Writes decrypted events as CSV rows under `CSV_COLUMNS`.

    Values are written as they are: empty for a missing value, ``true``/``false`` for
    ``isMobile``, numbers as JSON writes them, ``timestamp`` as JavaScript writes dates, and
    the members beyond Offen's schema as a JSON object in ``extra``.

    .. warning::
        Visitors choose what their payloads hold. A spreadsheet that opens the file may treat
        a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula; import it as text.

    Args:
        stream: A text stream opened for writing with ``newline=""``.
        account_id: The account's id (not written; for symmetry with `JsonLinesWriter`).
        account_name: Not written.
        since: Not written.
        exported_at: Not written.
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        account_id: str = "",
        account_name: str = "",
        since: str | None = None,
        exported_at: datetime | None = None,
    ) -> None:
        super().__init__()
        self._stream = stream
        self._csv = csv.writer(stream, lineterminator="\r\n")
        self._csv.writerow(CSV_COLUMNS)

    def write(self, batch: Batch) -> None:
        """Write the batch's decrypted events; deletions and failures are only counted.

        Args:
            batch: The batch.

        Raises:
            InvalidInputError: The writer was closed.
        """
        self._check_open()
        rows = []
        for event in batch.events:
            view = event.payload
            extra = view.extra
            timestamp = view.model_dump(mode="json", include={"timestamp"}).get("timestamp")
            rows.append(
                (
                    FORMAT_VERSION,
                    event.event_id,
                    _iso(ulid_time(event.event_id)),
                    event.account_id,
                    _cell(event.secret_id),
                    view.type,
                    _cell(view.href),
                    _cell(view.raw_href),
                    _cell(view.referrer),
                    _cell(view.pageload),
                    _cell(view.is_mobile),
                    _cell(timestamp),
                    _cell(view.session_id),
                    _cell(view.geo),
                    _dumps(extra) if extra else "",
                )
            )
        self._csv.writerows(rows)
        self._count(batch)

    def close(self) -> ExportSummary:
        """Flush the stream (it stays open) and give the summary.

        Returns:
            The summary.
        """
        if not self._closed:
            self._stream.flush()
            self._closed = True
        return self.summary()


def open_writer(
    format: ExportFormat,
    stream: IO[str],
    *,
    account_id: str,
    account_name: str = "",
    since: str | None = None,
    exported_at: datetime | None = None,
) -> JsonLinesWriter | CsvWriter:
    """Make the writer of a format.

    Args:
        format: ``"jsonl"`` or ``"csv"``.
        stream: The text stream to write to (for CSV opened with ``newline=""``).
        account_id: The account's id.
        account_name: The account's name.
        since: The cursor the export starts after, or ``None``.
        exported_at: When the export was made; now by default.

    Returns:
        The writer.

    Raises:
        InvalidInputError: ``format`` is neither ``"jsonl"`` nor ``"csv"``.
    """
    if format == "jsonl":
        return JsonLinesWriter(
            stream,
            account_id=account_id,
            account_name=account_name,
            since=since,
            exported_at=exported_at,
        )
    if format == "csv":
        return CsvWriter(stream, account_id=account_id)
    raise InvalidInputError("format", "must be jsonl or csv")


@dataclass
class ExportSnapshot:
    """The events an export (or a chain of exports) holds, as `read_jsonl` rebuilt them.

    Attributes:
        account_id: The account's id.
        account_name: The account's name, from the latest header.
        sequence: The cursor after the latest export: start the next one after it.
        events: The decrypted events by event id, deletions applied.
        undecryptable: The undecryptable events by event id, deletions applied.
    """

    account_id: str
    account_name: str = ""
    sequence: str | None = None
    events: dict[str, DecryptedEvent] = field(default_factory=dict)
    undecryptable: dict[str, Undecryptable] = field(default_factory=dict)


def _record(line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise InvalidInputError(f"line {number}", "is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("record"), str):
        raise InvalidInputError(f"line {number}", "must be an object with a record member")
    return value


def read_jsonl(lines: Iterable[str], base: ExportSnapshot | None = None) -> ExportSnapshot:
    """Read a JSON Lines export back, applying it to what earlier exports held.

    Apply a full export first, then each incremental export (made with the previous one's
    ``sequence`` as ``since``) in order: the result equals a full export made afterwards.

    Args:
        lines: The export's lines (an open text file will do).
        base: What earlier exports of the account held, or ``None``.

    Returns:
        The events held after this export (``base`` itself, updated, when given).

    Raises:
        InvalidInputError: The text is not an export of a format version this library reads,
            is of another account than ``base``, or lacks its end record (it was cut off).
    """
    records: Iterator[tuple[int, str]] = (
        (number, line) for number, line in enumerate(lines, start=1) if line.strip()
    )
    first = next(records, None)
    if first is None:
        raise InvalidInputError("export", "is empty")
    header = _record(first[1], first[0])
    if header.get("record") != "header" or header.get("format") != FORMAT_NAME:
        raise InvalidInputError("export", f"does not start with a {FORMAT_NAME} header")
    if header.get("formatVersion") != FORMAT_VERSION:
        raise InvalidInputError(
            "formatVersion", f"must be {FORMAT_VERSION}; this library reads no other version"
        )
    account_id = header.get("accountId")
    if not isinstance(account_id, str):
        raise InvalidInputError("accountId", "is missing from the header")
    snapshot = base if base is not None else ExportSnapshot(account_id)
    if snapshot.account_id != account_id:
        raise InvalidInputError("accountId", "differs from the export it is applied to")
    name = header.get("accountName")
    snapshot.account_name = name if isinstance(name, str) else snapshot.account_name

    ended = False
    for number, line in records:
        if ended:
            raise InvalidInputError(f"line {number}", "follows the end record")
        record = _record(line, number)
        kind = record["record"]
        if kind == "event":
            event = DecryptedEvent.model_validate(
                {key: record.get(key) for key in ("eventId", "accountId", "secretId", "payload")}
            )
            snapshot.events[event.event_id] = event
            snapshot.undecryptable.pop(event.event_id, None)
        elif kind == "undecryptable":
            try:
                reason = Reason(str(record.get("reason")))
            except ValueError:
                raise InvalidInputError(f"line {number}", "has an unknown reason") from None
            secret_id = record.get("secretId")
            failure = Undecryptable(
                str(record.get("eventId")),
                secret_id if isinstance(secret_id, str) else None,
                reason,
            )
            snapshot.undecryptable[failure.event_id] = failure
            snapshot.events.pop(failure.event_id, None)
        elif kind == "deleted":
            event_id = str(record.get("eventId"))
            snapshot.events.pop(event_id, None)
            snapshot.undecryptable.pop(event_id, None)
        elif kind == "end":
            sequence = record.get("sequence")
            if isinstance(sequence, str):
                snapshot.sequence = sequence
            ended = True
        else:
            raise InvalidInputError(f"line {number}", f"has an unknown record kind {kind!r}")
    if not ended:
        raise InvalidInputError("export", "has no end record; it was cut off, export again")
    return snapshot
