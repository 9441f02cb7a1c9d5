# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Time windows: ranges, resolutions, Monday weeks, time zones, and bad parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.errors import InvalidInputError
from offen_core.metrics import RESOLUTIONS, query_window

MONDAY_NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
MS = timedelta(milliseconds=1)


def test_default_window_is_seven_days_up_to_the_end_of_today() -> None:
    window = query_window(now=MONDAY_NOON)
    assert (window.range, window.resolution) == (7, "days")
    assert window.lower == datetime(2025, 12, 30, tzinfo=UTC)
    assert window.upper == datetime(2026, 1, 6, tzinfo=UTC) - MS
    assert [bucket.date for bucket in window.buckets] == [
        MONDAY_NOON - timedelta(days=n) for n in range(6, -1, -1)
    ]
    assert window.buckets[0].start == window.lower
    assert window.buckets[-1].end == window.upper


def test_weeks_start_on_monday() -> None:
    sunday = datetime(2026, 1, 4, 18, 0, tzinfo=UTC)
    window = query_window(now=sunday, range=6, resolution="weeks")
    assert window.upper == datetime(2026, 1, 5, tzinfo=UTC) - MS
    assert window.lower == datetime(2025, 11, 24, tzinfo=UTC)
    assert all(bucket.start.weekday() == 0 for bucket in window.buckets)
    assert len(window.buckets) == 6


def test_months_clamp_the_day_as_date_fns_does() -> None:
    window = query_window(now=datetime(2026, 3, 31, 9, 0, tzinfo=UTC), range=2, resolution="months")
    assert [bucket.date.date() for bucket in window.buckets] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert window.lower == datetime(2026, 2, 1, tzinfo=UTC)
    assert window.upper == datetime(2026, 4, 1, tzinfo=UTC) - MS


def test_hours_step_back_exactly() -> None:
    now = datetime(2026, 1, 5, 12, 34, 56, 789000, tzinfo=UTC)
    window = query_window(now=now, range=24, resolution="hours")
    assert window.lower == datetime(2026, 1, 4, 13, 0, tzinfo=UTC)
    assert window.upper == datetime(2026, 1, 5, 13, 0, tzinfo=UTC) - MS
    assert len(window.buckets) == 24


def test_yesterday_uses_the_given_now_and_the_time_zone() -> None:
    # 23:30 UTC on 5 January is already 6 January in Berlin, so yesterday is the 5th there.
    now = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    window = query_window(now=now, range="yesterday", resolution="hours", time_zone="Europe/Berlin")
    assert window.lower == datetime(2026, 1, 5, tzinfo=BERLIN)
    assert window.upper == datetime(2026, 1, 6, tzinfo=BERLIN) - MS
    assert window.range == 24
    assert window.buckets[0].start == window.lower
    assert window.buckets[-1].end == window.upper

    in_days = query_window(now=now, range="yesterday")
    assert (in_days.lower, in_days.range) == (datetime(2026, 1, 4, tzinfo=UTC), 1)


def test_yesterday_across_the_spring_change_has_23_hours() -> None:
    now = datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN)
    window = query_window(now=now, range="yesterday", resolution="hours", time_zone=BERLIN)
    assert window.range == 23
    assert window.upper.astimezone(UTC) - window.lower == timedelta(hours=23) - MS


def test_days_follow_the_time_zone() -> None:
    now = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    window = query_window(now=now, range=1, time_zone="Europe/Berlin")
    assert window.lower == datetime(2026, 1, 6, tzinfo=BERLIN)
    assert window.lower.astimezone(UTC) == datetime(2026, 1, 5, 23, 0, tzinfo=UTC)


def test_custom_range_widens_to_whole_units() -> None:
    window = query_window(now=MONDAY_NOON, start=date(2025, 12, 3), end=date(2025, 12, 17))
    assert window.range == 15
    assert window.lower == datetime(2025, 12, 3, tzinfo=UTC)
    assert window.upper == datetime(2025, 12, 18, tzinfo=UTC) - MS
    assert window.buckets[-1].date == window.upper

    weeks = query_window(
        now=MONDAY_NOON, start=date(2025, 12, 3), end=date(2025, 12, 17), resolution="weeks"
    )
    assert weeks.range == 3
    assert weeks.lower == datetime(2025, 12, 1, tzinfo=UTC)
    assert weeks.upper == datetime(2025, 12, 22, tzinfo=UTC) - MS


def test_realtime_and_retention_windows_count_back_from_now() -> None:
    window = query_window(now=MONDAY_NOON)
    assert window.realtime == (MONDAY_NOON - timedelta(minutes=15), MONDAY_NOON)
    chunks = window.retention_chunks
    assert chunks[-1] == (MONDAY_NOON - timedelta(days=7), MONDAY_NOON)
    assert chunks[0] == (MONDAY_NOON - timedelta(days=28), MONDAY_NOON - timedelta(days=21))
    assert all(chunks[i][1] == chunks[i + 1][0] for i in range(3))


def test_now_is_cut_to_whole_milliseconds() -> None:
    window = query_window(now=datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=UTC))
    assert window.now.microsecond == 123000


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"now": datetime(2026, 1, 5, 12, 0)}, "now"),
        ({"now": MONDAY_NOON, "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"now": MONDAY_NOON, "time_zone": "../etc/passwd"}, "time_zone"),
        ({"now": MONDAY_NOON, "time_zone": ""}, "time_zone"),
        ({"now": MONDAY_NOON, "resolution": "aeons"}, "resolution"),
        ({"now": MONDAY_NOON, "range": 0}, "range"),
        ({"now": MONDAY_NOON, "range": -3}, "range"),
        ({"now": MONDAY_NOON, "range": "soon"}, "range"),
        ({"now": MONDAY_NOON, "range": True}, "range"),
        ({"now": MONDAY_NOON, "range": 10**6}, "range"),
        ({"now": MONDAY_NOON, "start": date(2026, 1, 1)}, "end"),
        ({"now": MONDAY_NOON, "end": date(2026, 1, 1)}, "start"),
        ({"now": MONDAY_NOON, "start": date(2026, 1, 2), "end": date(2026, 1, 1)}, "start"),
        ({"now": MONDAY_NOON, "start": MONDAY_NOON, "end": date(2026, 1, 6)}, "start"),
        (
            {"now": MONDAY_NOON, "range": 7, "start": date(2026, 1, 1), "end": date(2026, 1, 2)},
            "range",
        ),
    ],
)
def test_bad_parameters_raise_invalid_input_naming_the_parameter(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        query_window(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_range_given_as_digits_is_read_as_a_number() -> None:
    assert query_window(now=MONDAY_NOON, range="30").range == 30


def test_fixed_offset_tzinfo_is_accepted() -> None:
    window = query_window(now=MONDAY_NOON, range=1, time_zone=timezone(timedelta(hours=-5)))
    assert window.lower.astimezone(UTC) == datetime(2026, 1, 5, 5, 0, tzinfo=UTC)


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
    resolution=st.sampled_from(RESOLUTIONS),
    span=st.integers(min_value=1, max_value=40),
)
def test_buckets_tile_the_main_window(now: datetime, zone: str, resolution: str, span: int) -> None:
    window = query_window(now=now, range=span, resolution=resolution, time_zone=zone)
    assert len(window.buckets) == window.range == span
    # Compare in UTC: aware datetimes of one zone compare as wall times, blind to DST folds.
    buckets = [
        (bucket.start.astimezone(UTC), bucket.date.astimezone(UTC), bucket.end.astimezone(UTC))
        for bucket in window.buckets
    ]
    assert buckets[0][0] == window.lower.astimezone(UTC)
    assert buckets[-1][2] == window.upper.astimezone(UTC)
    assert window.lower.astimezone(UTC) <= window.now.astimezone(UTC) <= buckets[-1][2]
    for earlier, later in pairwise(buckets):
        assert earlier[2] + MS == later[0]
    for start, label, end in buckets:
        assert start <= label <= end
