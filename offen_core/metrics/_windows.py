# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Time windows: the range, the chart buckets, the realtime window and the retention chunks.

All calendar arithmetic happens in the time zone given by the caller (Offen uses the
browser's), weeks start on Monday, and instants are compared as whole milliseconds since the
epoch, which is the resolution of an event id's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from offen_core.errors import InvalidInputError

__all__ = [
    "MAX_BUCKETS",
    "REALTIME_WINDOW",
    "RESOLUTIONS",
    "RETENTION_CHUNK",
    "RETENTION_CHUNKS",
    "Bucket",
    "QueryWindow",
    "Resolution",
    "query_window",
]

Resolution = Literal["hours", "days", "weeks", "months"]

RESOLUTIONS: tuple[Resolution, ...] = ("hours", "days", "weeks", "months")
"""The resolutions Offen offers for the chart and the range."""

REALTIME_WINDOW = timedelta(minutes=15)
"""How far back "live" users and pages look from ``now``."""

RETENTION_CHUNK = timedelta(days=7)
"""The length of one retention chunk, counted back from ``now``."""

RETENTION_CHUNKS = 4
"""How many retention chunks the matrix compares."""

MAX_BUCKETS = 100_000
"""The largest range accepted, in units of the resolution; it keeps a typo from hanging a
report (five years in hours is 43,800)."""

DEFAULT_RANGE = 7

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(when: datetime) -> int:
    """Whole milliseconds since the epoch (floor) of an aware datetime."""
    return (when - _EPOCH) // _MS


def json_date(when: datetime) -> str:
    """``Date.prototype.toJSON`` of an instant: UTC, milliseconds, ``Z``."""
    utc = when.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Bucket:
    """One row of the chart: the instant Offen labels it with and the span it counts.

    Attributes:
        date: The label, ``now`` (or the end of the custom range) minus a number of units;
            Offen labels a bucket with this instant, not with the bucket's start.
        start: The first instant of the bucket (start of its hour, day, week or month).
        end: The last millisecond of the bucket.
    """

    date: datetime
    start: datetime
    end: datetime


@dataclass(frozen=True)
class QueryWindow:
    """The time windows of one report, resolved against ``now`` and a time zone.

    Attributes:
        lower: The first instant of the main window.
        upper: The last millisecond of the main window.
        range: The number of units the main window spans (Offen's numeric ``range``).
        resolution: ``"hours"``, ``"days"``, ``"weeks"`` or ``"months"``.
        buckets: The chart's buckets, oldest first.
        now: The instant the report is made for, cut to whole milliseconds.
        time_zone: The time zone the calendar arithmetic used.
    """

    lower: datetime
    upper: datetime
    range: int
    resolution: Resolution
    buckets: tuple[Bucket, ...]
    now: datetime
    time_zone: tzinfo

    @property
    def realtime(self) -> tuple[datetime, datetime]:
        """The realtime window, the 15 minutes up to and including ``now``."""
        now = self.now.astimezone(UTC)
        return now - REALTIME_WINDOW, now

    @property
    def retention_chunks(self) -> tuple[tuple[datetime, datetime], ...]:
        """The retention chunks, oldest first: 7-day spans counted back from ``now``.

        Neighbouring chunks share their boundary instant, as in Offen. The chunks are exact
        spans of 168 hours, also across a daylight saving change.
        """
        now = self.now.astimezone(UTC)
        chunks = [
            (now - (i + 1) * RETENTION_CHUNK, now - i * RETENTION_CHUNK)
            for i in range(RETENTION_CHUNKS)
        ]
        return tuple(reversed(chunks))


def resolve_time_zone(time_zone: str | tzinfo) -> tzinfo:
    """Turn a zoneinfo name or a tzinfo into a tzinfo, or raise `InvalidInputError`."""
    if isinstance(time_zone, tzinfo):
        return time_zone
    if isinstance(time_zone, str) and time_zone:
        try:
            return ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise InvalidInputError(
        "time_zone", "unknown time zone; give an IANA name such as 'Europe/Berlin' or a tzinfo"
    )


def resolve_now(now: datetime) -> datetime:
    """Check that ``now`` is aware and cut it to whole milliseconds, as a JS ``Date`` is."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInputError(
            "now", "must be an aware datetime (for example datetime.now(UTC)); it has no zone"
        )
    return now - timedelta(microseconds=now.microsecond % 1000)


def resolve_resolution(resolution: str) -> Resolution:
    """Check the resolution name."""
    for name in RESOLUTIONS:
        if resolution == name:
            return name
    raise InvalidInputError("resolution", f"must be one of {', '.join(RESOLUTIONS)}")


# --- calendar arithmetic (date-fns semantics in the given zone) ---------------------------


def _wall(year: int, month: int, day: int, zone: tzinfo) -> datetime:
    # A wall time in a DST gap resolves to the instant after the gap, as a JS Date does.
    return datetime(year, month, day, tzinfo=zone).astimezone(UTC).astimezone(zone)


def _start_of(when: datetime, resolution: Resolution, zone: tzinfo) -> datetime:
    local = when.astimezone(zone)
    if resolution == "hours":
        return local.replace(minute=0, second=0, microsecond=0)
    if resolution == "days":
        return _wall(local.year, local.month, local.day, zone)
    if resolution == "weeks":
        monday = local.date() - timedelta(days=local.weekday())
        return _wall(monday.year, monday.month, monday.day, zone)
    return _wall(local.year, local.month, 1, zone)


def _next_start(start: datetime, resolution: Resolution, zone: tzinfo) -> datetime:
    if resolution == "hours":
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    if resolution == "days" or resolution == "weeks":
        days = 1 if resolution == "days" else 7
        following = start.date() + timedelta(days=days)
        return _wall(following.year, following.month, following.day, zone)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return _wall(year, month, 1, zone)


def _end_of(when: datetime, resolution: Resolution, zone: tzinfo) -> datetime:
    start = _start_of(when, resolution, zone)
    return (_next_start(start, resolution, zone).astimezone(UTC) - _MS).astimezone(zone)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (following - timedelta(days=1)).day


def _subtract(when: datetime, resolution: Resolution, units: int, zone: tzinfo) -> datetime:
    """``sub{Hours,Days,Weeks,Months}``: hours are exact, the rest keep the wall-clock time."""
    if resolution == "hours":
        return (when.astimezone(UTC) - timedelta(hours=units)).astimezone(zone)
    local = when.astimezone(zone).replace(fold=0)
    if resolution == "months":
        index = local.year * 12 + local.month - 1 - units
        year, month = divmod(index, 12)
        month += 1
        day = min(local.day, _days_in_month(year, month))
        moved = local.replace(year=year, month=month, day=day)
    else:
        moved = local - timedelta(days=units * (7 if resolution == "weeks" else 1))
    return moved.astimezone(UTC).astimezone(zone)


def _units_between(lower: datetime, upper: datetime, resolution: Resolution) -> int:
    """Whole units from ``lower`` (a unit start) to ``upper`` (a unit end), plus one."""
    if resolution == "hours":
        # Aware datetimes of one zone subtract as wall times; UTC gives the real hours.
        return (upper.astimezone(UTC) - lower.astimezone(UTC)) // timedelta(hours=1) + 1
    if resolution == "days":
        return (upper.date() - lower.date()).days + 1
    if resolution == "weeks":
        return (upper.date() - lower.date()).days // 7 + 1
    return (upper.year - lower.year) * 12 + upper.month - lower.month + 1


def _as_date(value: object, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInputError(field, "must be a datetime.date (a calendar day), not a datetime")
    return value


def query_window(
    *,
    now: datetime,
    range: int | str | None = None,
    resolution: str = "days",
    start: date | None = None,
    end: date | None = None,
    time_zone: str | tzinfo = "UTC",
) -> QueryWindow:
    """Resolve Offen's query parameters into the windows a report counts.

    With ``range`` (default 7) the main window spans that many units up to and including
    the one that holds ``now``; ``range="yesterday"`` spans the day before ``now``'s day.
    With ``start`` and ``end`` it spans those calendar days, widened to whole units of the
    resolution. The chart buckets step back one unit at a time from ``now`` (or from the end
    of the custom range).

    Args:
        now: The instant the report is made for; an aware datetime.
        range: A number of units (an int, or a string of digits as in Offen's query), or
            ``"yesterday"``; ``None`` means 7. Not allowed together with ``start``/``end``.
        resolution: ``"hours"``, ``"days"``, ``"weeks"`` or ``"months"``.
        start: The first calendar day of a custom range; needs ``end``.
        end: The last calendar day of a custom range; needs ``start``.
        time_zone: A zoneinfo name or a tzinfo for the calendar arithmetic.

    Returns:
        The resolved windows.

    Raises:
        InvalidInputError: For a naive ``now``, an unknown time zone or resolution, a range
            that is not a positive whole number (at most `MAX_BUCKETS`) or ``"yesterday"``,
            only one of ``start`` and ``end``, ``start`` after ``end``, or a range given
            together with them. The error's ``field`` names the parameter.
    """
    zone = resolve_time_zone(time_zone)
    now = resolve_now(now).astimezone(zone)
    res = resolve_resolution(resolution)

    anchor = now
    if start is not None or end is not None:
        if start is None or end is None:
            raise InvalidInputError(
                "start" if start is None else "end", "give both start and end, or neither"
            )
        if range is not None:
            raise InvalidInputError("range", "give either range or start and end, not both")
        first, last = _as_date(start, "start"), _as_date(end, "end")
        if first > last:
            raise InvalidInputError("start", "must not be after end")
        lower = _start_of(_wall(first.year, first.month, first.day, zone), res, zone)
        day_after = last + timedelta(days=1)
        last_ms = _wall(day_after.year, day_after.month, day_after.day, zone) - _MS
        upper = _end_of(last_ms.astimezone(zone), res, zone)
        span = _units_between(lower, upper, res)
        anchor = upper
    elif range == "yesterday":
        yesterday = _subtract(now, "days", 1, zone)
        lower = _start_of(yesterday, "days", zone)
        upper = _end_of(yesterday, "days", zone)
        span = _units_between(lower, upper, res) if res == "hours" else 1
        anchor = upper
    else:
        span = _parse_range(range)
        lower = _start_of(_subtract(now, res, span - 1, zone), res, zone)
        upper = _end_of(now, res, zone)
    if span > MAX_BUCKETS:
        raise InvalidInputError("range", f"spans more than {MAX_BUCKETS} units; narrow it")

    buckets = []
    for distance in reversed(_int_range(span)):
        label = _subtract(anchor, res, distance, zone)
        buckets.append(
            Bucket(date=label, start=_start_of(label, res, zone), end=_end_of(label, res, zone))
        )
    return QueryWindow(
        lower=lower,
        upper=upper,
        range=span,
        resolution=res,
        buckets=tuple(buckets),
        now=now,
        time_zone=zone,
    )


_int_range = range


def _parse_range(value: int | str | None) -> int:
    if value is None:
        return DEFAULT_RANGE
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError("range", "must be a positive whole number of units or 'yesterday'")
    if value > MAX_BUCKETS:
        raise InvalidInputError("range", f"must be at most {MAX_BUCKETS} units")
    return value
