# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The event models: names on the wire and in Python, strictness, serialisation, errors."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest

from offen_core.errors import InvalidInputError, OffenError
from offen_core.events import (
    MAX_PAYLOAD_LENGTH,
    MAX_URL_LENGTH,
    DecryptedEvent,
    EncryptedEvent,
    PageView,
    StoredEvent,
    Tombstone,
    new_ulid,
    parse_page_view,
    serialize_page_view,
    ulid_at,
    ulid_time,
)

ACCOUNT_ID = "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0"
SECRET_ID = "ab" * 32
CIPHER = "{1,} ku/nRiFiiaQX0ftr+A== plRO/CT3yBNPskhC"
VAULT_PAYLOAD: dict[str, Any] = {
    "type": "PAGEVIEW",
    "href": "https://www.example.com/docs/",
    "referrer": "https://news.ycombinator.com/",
    "pageload": 412,
    "isMobile": False,
    "rawHref": "https://www.example.com/docs/?utm_source=hn",
    "timestamp": "2024-05-18T00:52:04.982Z",
    "sessionId": "f0a815bf-d6a3-471d-8271-7c79607875f1",
    "geo": "DE",
}


# --- PageView -------------------------------------------------------------------------------


def test_a_vault_payload_reads_into_snake_case_attributes() -> None:
    view = parse_page_view(json.dumps(VAULT_PAYLOAD))

    assert view.type == "PAGEVIEW"
    assert view.href == "https://www.example.com/docs/"
    assert view.referrer == "https://news.ycombinator.com/"
    assert view.pageload == 412
    assert view.is_mobile is False
    assert view.raw_href == "https://www.example.com/docs/?utm_source=hn"
    assert view.timestamp == datetime(2024, 5, 18, 0, 52, 4, 982_000, tzinfo=UTC)
    assert view.session_id == "f0a815bf-d6a3-471d-8271-7c79607875f1"
    assert view.geo == "DE"


def test_a_vault_payload_is_written_back_member_for_member() -> None:
    view = parse_page_view(VAULT_PAYLOAD)

    assert json.loads(serialize_page_view(view)) == VAULT_PAYLOAD
    assert view.model_dump(mode="json") == VAULT_PAYLOAD


def test_snake_case_names_are_accepted_too() -> None:
    view = PageView(
        href="https://x.org/",
        is_mobile=True,
        raw_href="https://x.org/?a=1",
        session_id="s",
        timestamp=datetime(2024, 1, 1, tzinfo=UTC),
    )

    assert parse_page_view(serialize_page_view(view)) == view
    assert json.loads(serialize_page_view(view))["isMobile"] is True


@pytest.mark.parametrize(
    "data",
    [
        json.dumps(VAULT_PAYLOAD),
        json.dumps(VAULT_PAYLOAD).encode(),
        bytearray(json.dumps(VAULT_PAYLOAD).encode()),
        VAULT_PAYLOAD,
        MappingProxyType(VAULT_PAYLOAD),
    ],
)
def test_parse_page_view_reads_text_bytes_and_mappings_alike(data: Any) -> None:
    assert parse_page_view(data) == parse_page_view(VAULT_PAYLOAD)


@pytest.mark.parametrize("data", [b"[]", b"1", b'"x"', b"{", b"\xff\xfe", b"", [("href", "x")], 3])
def test_parse_page_view_rejects_what_is_not_a_json_object(data: Any) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view(data)

    assert raised.value.field == "payload"


def test_the_timestamp_is_written_as_javascript_writes_it() -> None:
    for given, written in [
        (datetime(2024, 1, 1, 10, tzinfo=UTC), "2024-01-01T10:00:00.000Z"),
        (datetime(2024, 1, 1, 10, 0, 0, 7_000, tzinfo=UTC), "2024-01-01T10:00:00.007Z"),
        (datetime(2024, 1, 1, 11, tzinfo=timezone(timedelta(hours=1))), "2024-01-01T10:00:00.000Z"),
        (datetime(2024, 1, 1, 10, 0, 0, 123_456, tzinfo=UTC), "2024-01-01T10:00:00.123456Z"),
        (datetime(5, 1, 1, tzinfo=UTC), "0005-01-01T00:00:00.000Z"),
    ]:
        view = PageView(timestamp=given)
        assert json.loads(serialize_page_view(view))["timestamp"] == written
        assert parse_page_view(serialize_page_view(view)).timestamp == given


def test_a_naive_datetime_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as raised:
        PageView(timestamp=datetime(2024, 1, 1, 10))

    assert raised.value.field == "timestamp"


@pytest.mark.parametrize("value", [0, -5, 1652, 10**20, 12.5, None])
def test_pageload_is_any_finite_number_or_null(value: float | None) -> None:
    view = parse_page_view({"pageload": value})

    assert view.pageload == value
    assert type(view.pageload) is type(value)
    assert json.loads(serialize_page_view(view))["pageload"] == value


@pytest.mark.parametrize("value", [True, "1", [1], {"ms": 1}, math.nan, math.inf, -math.inf])
def test_pageload_rejects_anything_else(value: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view({"pageload": value})

    assert raised.value.field == "pageload"
    assert "number" in raised.value.rule


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("isMobile", 1),
        ("isMobile", "true"),
        ("isMobile", None),
        ("sessionId", 5),
        ("sessionId", ["s"]),
        ("geo", 49),
        ("href", 5),
        ("href", None),
        ("referrer", None),
        ("referrer", 0),
        ("rawHref", 1),
        ("type", None),
        ("type", "pageview"),
        ("timestamp", None),
        ("timestamp", 1_704_103_200),
    ],
)
def test_members_are_checked_strictly_without_coercion(member: str, value: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_page_view({member: value})

    assert raised.value.field == member


def test_urls_may_hold_2000_characters_and_no_more() -> None:
    longest = "https://x.org/" + "a" * (MAX_URL_LENGTH - len("https://x.org/"))

    for member in ("href", "rawHref", "referrer"):
        assert (
            len(json.loads(serialize_page_view(parse_page_view({member: longest})))[member]) == 2000
        )
        with pytest.raises(InvalidInputError) as raised:
            parse_page_view({member: longest + "a"})
        assert raised.value.field == member
        assert "2000" in raised.value.rule


def test_missing_members_stay_missing_where_offen_has_no_null() -> None:
    written = json.loads(serialize_page_view(parse_page_view({})))

    assert written == {
        "type": "PAGEVIEW",
        "rawHref": None,
        "pageload": None,
        "sessionId": None,
        "geo": None,
    }


def test_further_members_are_written_back() -> None:
    view = parse_page_view({"href": "https://x.org/", "title": "Grüße 🚀", "n": [1, {"a": None}]})

    written = json.loads(serialize_page_view(view))

    assert written["title"] == "Grüße 🚀"
    assert written["n"] == [1, {"a": None}]
    assert "Grüße 🚀".encode() in serialize_page_view(view)  # UTF-8, not \\u escapes


def test_models_are_frozen() -> None:
    view = parse_page_view(VAULT_PAYLOAD)

    with pytest.raises(ValueError, match="frozen"):
        view.href = "https://elsewhere.org/"  # type: ignore[misc]
    assert view.model_copy(update={"geo": "FR"}).geo == "FR"
    assert view.geo == "DE"


def test_constructor_errors_are_offen_errors_that_do_not_repeat_the_value() -> None:
    with pytest.raises(InvalidInputError) as raised:
        PageView(href="visitor-secret path")

    assert isinstance(raised.value, OffenError)
    assert raised.value.field == "href"
    assert "visitor-secret" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


# --- envelope models -------------------------------------------------------------------------


def test_an_encrypted_event_reads_the_body_a_client_posts() -> None:
    body = json.dumps({"accountId": ACCOUNT_ID.upper(), "payload": CIPHER, "other": 1})

    event = EncryptedEvent.model_validate_json(body)

    assert event.account_id == ACCOUNT_ID
    assert event.payload == CIPHER
    assert event.model_dump(mode="json") == {"accountId": ACCOUNT_ID, "payload": CIPHER}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"payload": CIPHER}, "accountId", "required"),
        ({"accountId": ACCOUNT_ID}, "payload", "required"),
        ({"accountId": "abc-123", "payload": CIPHER}, "accountId", "UUID"),
        ({"accountId": ACCOUNT_ID, "payload": ""}, "payload", "cipher string"),
        ({"accountId": ACCOUNT_ID, "payload": {"href": "x"}}, "payload", "cipher string"),
        (
            {"accountId": ACCOUNT_ID, "payload": "{1,} " + "A" * MAX_PAYLOAD_LENGTH},
            "payload",
            str(MAX_PAYLOAD_LENGTH),
        ),
    ],
)
def test_an_encrypted_event_names_what_is_wrong(
    body: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        EncryptedEvent.model_validate_json(json.dumps(body))

    assert raised.value.field == field
    assert words in raised.value.rule


def test_an_encrypted_event_body_must_be_an_object() -> None:
    with pytest.raises(InvalidInputError) as raised:
        EncryptedEvent.model_validate_json(b"[1]")

    assert raised.value.field == "event"


def test_a_stored_event_serves_camel_case_and_knows_its_time() -> None:
    when = datetime(2024, 2, 3, 4, 5, 6, 789_000, tzinfo=UTC)
    event = StoredEvent(
        event_id=ulid_at(when), sequence=new_ulid(), account_id=ACCOUNT_ID, payload=CIPHER
    )

    assert event.secret_id is None  # anonymous
    assert event.time == when
    assert set(event.model_dump()) == {"eventId", "sequence", "accountId", "secretId", "payload"}
    assert StoredEvent.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eventId": "x"}, "eventId"),
        ({"sequence": None}, "sequence"),
        ({"secretId": SECRET_ID.upper()}, "secretId"),
        ({"accountId": 7}, "accountId"),
        ({"payload": "plaintext"}, "payload"),
    ],
)
def test_a_stored_event_names_what_is_wrong(change: dict[str, Any], field: str) -> None:
    row = {
        "eventId": new_ulid(),
        "sequence": new_ulid(),
        "accountId": ACCOUNT_ID,
        "secretId": SECRET_ID,
        "payload": CIPHER,
    }
    row.update(change)

    with pytest.raises(InvalidInputError) as raised:
        StoredEvent.model_validate(row)

    assert raised.value.field == field


def test_a_tombstone_holds_ids_only() -> None:
    tombstone = Tombstone(
        event_id=new_ulid(), sequence=new_ulid(), account_id=ACCOUNT_ID, secret_id=SECRET_ID
    )

    assert tombstone.model_dump()["secretId"] == SECRET_ID
    assert "payload" not in tombstone.model_dump()
    with pytest.raises(InvalidInputError) as raised:
        Tombstone(event_id=new_ulid(), sequence="late", account_id=ACCOUNT_ID)
    assert raised.value.field == "sequence"


def test_a_decrypted_event_carries_a_page_view_and_the_time_of_its_id() -> None:
    event_id = new_ulid()
    event = DecryptedEvent.model_validate(
        {
            "eventId": event_id,
            "accountId": ACCOUNT_ID,
            "secretId": SECRET_ID,
            "payload": VAULT_PAYLOAD,
        }
    )

    assert isinstance(event.payload, PageView)
    assert event.payload.geo == "DE"
    assert event.time == ulid_time(event_id)
    assert DecryptedEvent.model_validate_json(event.model_dump_json()) == event


def test_a_decrypted_event_names_nested_members_with_a_dotted_path() -> None:
    with pytest.raises(InvalidInputError) as raised:
        DecryptedEvent(
            event_id=new_ulid(), account_id=ACCOUNT_ID, payload={"href": "https://x.org/", "geo": 1}
        )
    assert raised.value.field == "payload.geo"

    with pytest.raises(InvalidInputError) as raised:
        DecryptedEvent(event_id=new_ulid(), account_id=ACCOUNT_ID, payload={"referrer": None})
    assert raised.value.field == "payload.referrer"
    assert "not null" in raised.value.rule
