# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""ULID event ids and sequences: shape, order within a process and across threads, times."""

from __future__ import annotations

import os
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from offen_core.errors import InvalidInputError, OffenError
from offen_core.events import (
    UlidGenerator,
    is_ulid,
    min_ulid_at,
    new_ulid,
    new_ulid_prefix,
    ulid_at,
    ulid_time,
)
from offen_core.testing import FakeClock

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ONE_MS = timedelta(milliseconds=1)
# Aware datetimes a ULID can hold, at millisecond precision.
instants = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(9999, 12, 31),
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def _ms(when: datetime) -> int:
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_new_ulid_is_26_crockford_characters_with_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    value = new_ulid()
    after = time.time_ns() // 1_000_000

    assert len(value) == 26
    assert set(value) <= set(CROCKFORD)
    assert is_ulid(value)
    assert before <= ULID.from_str(value).milliseconds <= after


def test_new_ulid_sorts_in_call_order_within_a_millisecond() -> None:
    values = [new_ulid() for _ in range(20_000)]

    assert values == sorted(values)
    assert len(set(values)) == len(values)
    # So many calls share milliseconds, so the ordering within one was exercised.
    assert len({v[:10] for v in values}) < len(values)


def test_generator_increments_within_one_millisecond() -> None:
    clock = FakeClock()
    generator = UlidGenerator(clock.time)

    first, second, third = generator.new(), generator.new(), generator.new()

    assert first[:10] == second[:10] == third[:10]
    assert int(ULID.from_str(second)) == int(ULID.from_str(first)) + 1
    assert int(ULID.from_str(third)) == int(ULID.from_str(first)) + 2
    now = clock.now()
    assert ulid_time(first) == now.replace(microsecond=now.microsecond // 1000 * 1000)


def test_generator_stays_ordered_when_the_clock_steps_back() -> None:
    # A system clock can be set back (NTP); FakeClock cannot, so a list of readings stands in.
    readings = iter([1_700_000_000.0, 1_699_999_995.0, 1_700_000_010.0])
    generator = UlidGenerator(lambda: next(readings))

    first, second, third = generator.new(), generator.new(), generator.new()

    assert first < second < third
    assert ulid_time(second) == ulid_time(first)
    assert ulid_time(third) - ulid_time(first) == timedelta(seconds=10)


def test_generator_moves_to_the_next_millisecond_when_the_random_bits_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    generator = UlidGenerator(clock.time)
    monkeypatch.setattr(os, "urandom", lambda n: b"\xff" * n)

    first = generator.new()
    second = generator.new()

    assert first.endswith("Z" * 16)
    assert first < second
    assert ulid_time(second) - ulid_time(first) == timedelta(milliseconds=1)
    assert second.endswith("0" * 16)


def test_ids_from_many_threads_are_unique_and_each_thread_sees_them_ascending() -> None:
    per_thread: list[list[str]] = [[] for _ in range(8)]
    start = threading.Barrier(len(per_thread))

    def work(out: list[str]) -> None:
        start.wait()
        for _ in range(3_000):
            out.append(new_ulid())

    threads = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [value for out in per_thread for value in out]
    assert len(set(every)) == len(every)
    for out in per_thread:
        assert out == sorted(out)


def test_ids_from_many_threads_sort_in_the_order_they_were_made() -> None:
    made: list[str] = []
    order = threading.Lock()

    def work() -> None:
        for _ in range(2_000):
            # The outer lock fixes a global order of calls; ids must sort in that order.
            with order:
                made.append(new_ulid())

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert made == sorted(made)
    times = [ulid_time(value) for value in made]
    assert times == sorted(times)


@given(instants)
def test_ulid_at_carries_the_given_millisecond(when: datetime) -> None:
    value = ulid_at(when)

    assert is_ulid(value)
    assert ulid_time(value) == when
    assert ULID.from_str(value).milliseconds == _ms(when)


def test_ulid_at_is_random_within_its_millisecond() -> None:
    when = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)

    values = {ulid_at(when) for _ in range(50)}

    assert len(values) == 50
    assert {v[:10] for v in values} == {min_ulid_at(when)[:10]}


def test_ulid_at_drops_sub_millisecond_precision_and_honours_offsets() -> None:
    when = datetime(2024, 1, 1, 11, 0, 0, 123_999, tzinfo=timezone(timedelta(hours=1)))

    assert ulid_time(ulid_at(when)) == datetime(2024, 1, 1, 10, 0, 0, 123_000, tzinfo=UTC)


@given(instants)
def test_min_ulid_at_bounds_every_id_of_its_instant(when: datetime) -> None:
    smallest = min_ulid_at(when)

    assert smallest.endswith("0" * 16)
    assert ulid_time(smallest) == when
    assert smallest <= ulid_at(when)
    if when > datetime(1970, 1, 1, tzinfo=UTC):
        assert ulid_at(when - timedelta(milliseconds=1)) < smallest


def test_min_ulid_at_selects_a_half_open_time_window() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    end = start + timedelta(days=1)
    inside = [ulid_at(start), ulid_at(start + timedelta(hours=5)), ulid_at(end - _ONE_MS)]
    outside = [ulid_at(start - _ONE_MS), ulid_at(end), ulid_at(end + timedelta(days=3))]

    lo, hi = min_ulid_at(start), min_ulid_at(end)

    assert all(lo <= value < hi for value in inside)
    assert not any(lo <= value < hi for value in outside)


@pytest.mark.parametrize("function", [ulid_at, min_ulid_at])
def test_naive_and_out_of_range_times_are_rejected(function: object) -> None:
    assert callable(function)
    with pytest.raises(InvalidInputError) as naive:
        function(datetime(2024, 1, 1))
    assert naive.value.field == "when"
    assert "timezone-aware" in naive.value.rule

    with pytest.raises(InvalidInputError):
        function(datetime(1969, 12, 31, 23, 59, tzinfo=UTC))
    with pytest.raises(InvalidInputError):
        function("2024-01-01T00:00:00Z")


def test_ulid_time_reads_the_time_as_python_ulid_does() -> None:
    # The example id of the ULID specification.
    value = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        milliseconds=ULID.from_str(value).milliseconds
    )

    assert ulid_time(value) == expected
    assert ulid_time(value).tzinfo is UTC
    assert ulid_time("0" * 26) == datetime(1970, 1, 1, tzinfo=UTC)
    year_9999 = datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
    assert ulid_time(min_ulid_at(year_9999)) == year_9999


def test_ids_beyond_the_year_9999_are_refused_rather_than_overflowing() -> None:
    with pytest.raises(InvalidInputError) as raised:
        ulid_time("7" + "Z" * 25)
    assert raised.value.field == "eventId"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 characters
        "01ARZ3NDEKTSV4RRFFQ69G5FAVX",  # 27, as Offen's schema rejects
        "01arz3ndektsv4rrffq69g5fav",  # lower case would sort wrongly as a string
        "01ARZ3NDEKTSV4RRFFQ69G5FAI",  # I, L, O and U are not Crockford digits
        "01ARZ3NDEKTSV4RRFFQ69G5FAL",
        "01ARZ3NDEKTSV4RRFFQ69G5FAO",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",
        "81ARZ3NDEKTSV4RRFFQ69G5FAV",  # over 128 bits
        " 1ARZ3NDEKTSV4RRFFQ69G5FAV",
        None,
        12345,
        b"01ARZ3NDEKTSV4RRFFQ69G5FAV",
    ],
)
def test_malformed_ids_are_not_ulids(value: object) -> None:
    assert not is_ulid(value)
    with pytest.raises(InvalidInputError) as raised:
        ulid_time(value)  # type: ignore[arg-type]
    assert raised.value.field == "eventId"
    assert isinstance(raised.value, OffenError)
    assert isinstance(raised.value, ValueError)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_count_on_from_its_parents_last_id() -> None:
    # A frozen clock makes parent and child share a millisecond: without the reset at fork
    # both would continue from the same last id and mint the same next one.
    generator = UlidGenerator(lambda: 1_700_000_000.0)
    generator.new()
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 warns about forking while other tests' threads may still run; the
        # child here only writes to a pipe and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        os.write(write, generator.new().encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read().decode()
    os.waitpid(pid, 0)
    parent = generator.new()

    assert is_ulid(child)
    assert child != parent
    assert child[:10] == parent[:10]


# --- reserved blocks of ids --------------------------------------------------------------


def _complete(prefix: str, free_bits: int, fill: str) -> str:
    return prefix + fill * (free_bits // 5)


@pytest.mark.parametrize("free_bits", [5, 25, 50, 75])
def test_a_reserved_block_sorts_between_the_ids_made_before_and_after_it(free_bits: int) -> None:
    # The clock stands still, so all of it happens within one millisecond, where only the
    # generator's bookkeeping (not the time) can keep the order.
    generator = UlidGenerator(FakeClock().time)
    before = generator.new()

    prefix = generator.new_prefix(free_bits)
    after = generator.new()

    lowest, highest = _complete(prefix, free_bits, "0"), _complete(prefix, free_bits, "Z")
    assert len(prefix) == 26 - free_bits // 5
    assert is_ulid(lowest)
    assert is_ulid(highest)
    assert before < lowest <= highest < after


def test_blocks_follow_each_other_and_the_ids_between_them() -> None:
    generator = UlidGenerator(FakeClock().time)
    made = [
        generator.new_prefix(25) + "00000",
        generator.new(),
        generator.new_prefix(50) + "ZZZZZZZZZZ",
        generator.new_prefix(25) + "00000",
    ]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_a_block_that_no_longer_fits_moves_on_to_the_next_millisecond() -> None:
    clock = FakeClock()
    generator = UlidGenerator(clock.time)
    # 2**80 random values hold at most 32 blocks of 2**75: by the 33rd the clock that stands
    # still must have been left behind by exactly one millisecond, and the order kept.
    firsts = [_complete(generator.new_prefix(75), 75, "0") for _ in range(33)]

    assert firsts == sorted(firsts)
    assert len(set(firsts)) == len(firsts)
    times = {ulid_time(first) for first in firsts}
    assert times == {clock.now(), clock.now() + _ONE_MS}


@pytest.mark.parametrize("free_bits", [0, 3, 80, -5])
def test_a_block_size_that_is_not_whole_base32_characters_is_refused(free_bits: int) -> None:
    with pytest.raises(InvalidInputError, match="free_bits"):
        UlidGenerator().new_prefix(free_bits)


def test_the_module_level_block_follows_new_ulid() -> None:
    before = new_ulid()
    prefix = new_ulid_prefix(25)
    assert before < prefix + "00000" < prefix + "ZZZZZ" < new_ulid()
