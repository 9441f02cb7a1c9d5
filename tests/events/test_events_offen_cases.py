# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Every accepted and rejected example of Offen's payload and event schemas.

The cases are those of offen-client.md §2.4 (checked with Ajv 6 against Offen's schemas) and
§6.2 (Offen's queries.test.js). Where this library decides differently from Offen, the test
says so and the events guide gives the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from offen_core.errors import InvalidInputError
from offen_core.events import (
    DecryptedEvent,
    StoredEvent,
    new_ulid,
    parse_page_view,
    serialize_page_view,
    validate_event_id,
)

ACCOUNT_ID = "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0"
ZALGO = '<script>alert("ZALGO")</script>'


# --- §2.4 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00:00.123Z", datetime(2024, 1, 1, 10, 0, 0, 123_000, tzinfo=UTC)),
        ("2024-01-01 10:00:00Z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        # Further spellings of Ajv's date-time grammar.
        ("2024-01-01t10:00:00z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00:00+01:00", datetime(2024, 1, 1, 9, tzinfo=UTC)),
        ("2024-01-01T10:00:00+0100", datetime(2024, 1, 1, 9, tzinfo=UTC)),
        ("2024-01-01T10:00:00-02", datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01T10:00:00.5Z", datetime(2024, 1, 1, 10, 0, 0, 500_000, tzinfo=UTC)),
        (
            "2024-01-01T10:00:00.123456789Z",
            datetime(2024, 1, 1, 10, 0, 0, 123_456, tzinfo=UTC),
        ),
    ],
)
def test_timestamps_with_a_zone_are_accepted(text: str, expected: datetime) -> None:
    view = parse_page_view({"timestamp": text})

    assert view.timestamp == expected
    assert view.timestamp is not None
    assert view.timestamp.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T10:00:00",  # no zone: Offen rejects it
        "2024-01-01",
        "10:00:00Z",
        "2024-01-01T10:00Z",
        "2024-1-01T10:00:00Z",
        "2024-01-01T10:00:00.Z",
        "2024-01-01T10:00:00ZZ",
        "2024-01-01T10:00:00.0000000000000000Z",  # 37 characters, over Offen's maxLength 36
        "",
    ],
)
def test_timestamps_without_a_zone_or_out_of_grammar_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view({"timestamp": text})

    assert raised.value.field == "timestamp"
    assert "zone" in raised.value.rule


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01T10:00:00Z",
        "2024-02-30T10:00:00Z",
        "2024-01-39T10:00:00Z",
        "2024-01-01T29:00:00Z",
        "2024-12-31T23:59:60Z",  # a leap second: Ajv's grammar allows it, Python cannot hold it
    ],
)
def test_timestamps_that_do_not_exist_are_rejected_where_ajv_is_looser(text: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view({"timestamp": text})

    assert raised.value.field == "timestamp"
    assert "exist" in raised.value.rule


@pytest.mark.parametrize("href", ["mailto:x", "https://www.offen.dev/foo", "a:", "web+app:x/y"])
def test_urls_in_the_uri_format_are_accepted(href: str) -> None:
    assert parse_page_view({"href": href}).href == href
    assert parse_page_view({"rawHref": href}).raw_href == href
    assert parse_page_view({"referrer": href}).referrer == href


@pytest.mark.parametrize(
    "href",
    [
        "/foo",
        "https://a b",
        "",
        "1https://x",
        "https://a\tb",
        "https://a\u00a0b",  # white space as JavaScript's \s knows it, beyond ASCII
        "https://a\u2028b",
        "https://a\ufeffb",
        "https://a\x85b",  # NEL: Unicode white space, though not JavaScript's (stricter here)
        "://x",
        "www.offen.dev",
        ZALGO,
    ],
)
def test_urls_outside_the_uri_format_are_rejected(href: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view({"href": href})
    assert raised.value.field == "href"

    with pytest.raises(InvalidInputError) as raised:
        parse_page_view({"rawHref": href})
    assert raised.value.field == "rawHref"


def test_an_empty_referrer_is_accepted() -> None:
    assert parse_page_view({"referrer": ""}).referrer == ""


def test_a_null_raw_href_is_accepted() -> None:
    assert parse_page_view({"rawHref": None}).raw_href is None


def test_an_empty_object_is_accepted_as_nothing_is_required() -> None:
    view = parse_page_view(b"{}")

    assert view.type == "PAGEVIEW"
    assert view.href is None
    assert view.timestamp is None


def test_extra_members_are_accepted_and_kept() -> None:
    view = parse_page_view({"href": "https://x.org/", "title": "Home", "nested": {"a": [1, None]}})

    assert view.extra == {"title": "Home", "nested": {"a": [1, None]}}


def test_a_string_pageload_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view({"pageload": "1"})

    assert raised.value.field == "pageload"


def test_an_event_id_of_27_characters_is_rejected() -> None:
    value = new_ulid() + "0"

    with pytest.raises(InvalidInputError) as raised:
        validate_event_id(value)
    assert raised.value.field == "eventId"

    with pytest.raises(InvalidInputError) as raised:
        StoredEvent.model_validate(
            {
                "eventId": value,
                "sequence": new_ulid(),
                "accountId": ACCOUNT_ID,
                "payload": "{1,} YWJj YWJj",
            }
        )
    assert raised.value.field == "eventId"


def test_a_null_payload_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view(b"null")
    assert raised.value.field == "payload"

    with pytest.raises(InvalidInputError) as raised:
        DecryptedEvent.model_validate(
            {"eventId": new_ulid(), "accountId": ACCOUNT_ID, "payload": None}
        )
    assert raised.value.field == "payload"


def test_a_still_encrypted_payload_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view(b'"{1,} YWJj YWJj"')
    assert raised.value.field == "payload"
    assert "object" in raised.value.rule

    with pytest.raises(InvalidInputError) as raised:
        DecryptedEvent.model_validate(
            {"eventId": new_ulid(), "accountId": ACCOUNT_ID, "payload": "{1,} YWJj YWJj"}
        )
    assert raised.value.field == "payload"


def test_events_with_neither_href_nor_referrer_are_accepted() -> None:
    view = parse_page_view({"sessionId": "s", "isMobile": False})

    assert view.href is None
    assert view.referrer is None


# --- §6.2 -----------------------------------------------------------------------------------


def test_a_referrer_on_another_host_is_accepted_as_given() -> None:
    view = parse_page_view(
        {"href": "https://www.offen.dev/foo", "referrer": "https://blog.foo.bar"}
    )

    # Normalising it to https://blog.foo.bar/ is the metrics' work; the payload keeps it.
    assert view.referrer == "https://blog.foo.bar"
    assert view.href == "https://www.offen.dev/foo"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"href": "https://www.offen.dev/", "referrer": ZALGO}, "referrer"),
        ({"href": ZALGO}, "href"),
        ({"type": "ZALGO", "href": "https://www.offen.dev/"}, "type"),
        ({"timestamp": 8192, "href": "https://www.offen.dev/"}, "timestamp"),
    ],
)
def test_the_events_offen_drops_are_rejected(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view(payload)

    assert raised.value.field == field


@pytest.mark.parametrize(
    "href",
    [
        "https://www.offen.dev/foo",
        "https://www.offen.dev/foo/",
        "https://www.offen.dev/foo/?bar-baz",
        "https://www.offen.dev/foo?bar-baz",
    ],
)
def test_hrefs_are_kept_exactly_as_the_client_sent_them(href: str) -> None:
    view = parse_page_view({"href": href})

    # Offen appends a slash to the path when it counts pages; the payload itself is unchanged.
    assert view.href == href
    assert parse_page_view(serialize_page_view(view)).href == href


def test_an_offset_timestamp_is_kept_as_the_same_instant() -> None:
    view = parse_page_view({"timestamp": "2024-01-01T12:00:00+02:00"})

    assert view.timestamp == datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert b'"timestamp":"2024-01-01T10:00:00.000Z"' in serialize_page_view(view)
