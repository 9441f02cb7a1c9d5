# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Property tests: generated valid payloads validate and round-trip; invalid members are named."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.errors import InvalidInputError
from offen_core.events import (
    MAX_URL_LENGTH,
    DecryptedEvent,
    EncryptedEvent,
    new_ulid,
    parse_page_view,
    serialize_page_view,
)

KNOWN = {
    "type",
    "href",
    "referrer",
    "pageload",
    "isMobile",
    "rawHref",
    "timestamp",
    "sessionId",
    "geo",
    "raw_href",
    "is_mobile",
    "session_id",
}

# URL characters: printable, never white space, some beyond ASCII.
url_chars = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
    exclude_characters="\x85\u180e\ufeff",
)
schemes = st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9+.\-]{0,9}\Z")
urls = st.builds(
    lambda scheme, rest: f"{scheme}:{rest}"[:MAX_URL_LENGTH],
    schemes,
    st.text(url_chars, max_size=120),
)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 30), timezones=zones
)


def _js_time(when: datetime) -> str:
    text = when.astimezone(UTC).isoformat(timespec="milliseconds")
    return text[:-6] + "Z"


timestamps = st.one_of(
    times.map(_js_time),
    times.map(lambda d: d.isoformat()),
    times.map(lambda d: d.isoformat(sep=" ", timespec="seconds")),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
extra_members = st.dictionaries(
    st.text(min_size=1, max_size=12).filter(lambda k: k not in KNOWN), json_values, max_size=3
)
payloads = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.just("PAGEVIEW"),
            "href": urls,
            "referrer": st.one_of(st.just(""), urls),
            "pageload": st.one_of(
                st.none(),
                st.integers(-(10**6), 10**6),
                st.floats(allow_nan=False, allow_infinity=False),
            ),
            "isMobile": st.booleans(),
            "rawHref": st.one_of(st.none(), urls),
            "timestamp": timestamps,
            "sessionId": st.one_of(st.none(), st.uuids().map(str), st.text(max_size=40)),
            "geo": st.one_of(st.none(), st.sampled_from(["DE", "US", "JP"]), st.text(max_size=4)),
        },
    ),
    extra_members,
)


@given(payloads)
def test_generated_payloads_validate_and_round_trip(payload: dict[str, Any]) -> None:
    view = parse_page_view(json.dumps(payload))

    written = serialize_page_view(view)
    again = parse_page_view(written)

    assert again == view
    assert serialize_page_view(again) == written
    members = json.loads(written)
    for key, value in payload.items():
        if key == "timestamp":
            assert datetime.fromisoformat(members[key]) == datetime.fromisoformat(value)
        else:
            assert members[key] == value


@given(payloads)
def test_parsing_a_mapping_and_its_json_agree(payload: dict[str, Any]) -> None:
    assert parse_page_view(payload) == parse_page_view(json.dumps(payload).encode())


invalid_members = st.one_of(
    st.tuples(
        st.just("type"),
        st.one_of(st.text().filter(lambda t: t != "PAGEVIEW"), st.none(), st.integers()),
    ),
    st.tuples(
        st.just("href"),
        st.one_of(
            st.text(url_chars, max_size=20).map(lambda t: "/" + t),
            st.builds(lambda u, w: u + w + "x", urls, st.sampled_from([" ", "\t", "\n", "\u2003"])),
            st.none(),
            st.integers(),
        ),
    ),
    st.tuples(
        st.just("rawHref"),
        st.one_of(
            st.text(url_chars, max_size=20).map(lambda t: "/" + t),
            st.booleans(),
        ),
    ),
    st.tuples(
        st.just("referrer"),
        st.one_of(
            st.text(url_chars, min_size=1, max_size=20).map(lambda t: "." + t),
            st.none(),
            st.lists(urls),
        ),
    ),
    st.tuples(st.just("pageload"), st.one_of(st.text(), st.booleans(), st.lists(st.integers()))),
    st.tuples(st.just("isMobile"), st.one_of(st.integers(), st.text(), st.none())),
    st.tuples(
        st.just("timestamp"),
        st.one_of(
            st.integers(),
            st.none(),
            st.datetimes().map(lambda d: d.isoformat()),
            st.text(max_size=10),
        ),
    ),
    st.tuples(st.just("sessionId"), st.one_of(st.integers(), st.booleans(), st.lists(st.text()))),
    st.tuples(
        st.just("geo"),
        st.one_of(st.integers(), st.booleans(), st.dictionaries(st.text(), st.text())),
    ),
)


@given(payloads, invalid_members)
def test_an_invalid_member_is_rejected_and_named(
    payload: dict[str, Any], invalid: tuple[str, Any]
) -> None:
    member, value = invalid
    # Keep the other members valid, so that the named one is the only one at fault.
    broken = {k: v for k, v in payload.items() if k != member}
    broken[member] = value

    with pytest.raises(InvalidInputError) as raised:
        parse_page_view(json.dumps(broken))

    assert raised.value.field == member


@given(
    payloads, st.uuids(), st.booleans(), st.one_of(st.none(), st.binary(min_size=32, max_size=32))
)
def test_decrypted_events_round_trip_through_json(
    payload: dict[str, Any], account: Any, upper: bool, secret: bytes | None
) -> None:
    account_id = str(account).upper() if upper else str(account)
    event = DecryptedEvent.model_validate(
        {
            "eventId": new_ulid(),
            "accountId": account_id,
            "secretId": secret.hex() if secret else None,
            "payload": payload,
        }
    )

    assert event.account_id == str(account)
    assert DecryptedEvent.model_validate_json(event.model_dump_json()) == event


@given(payloads, invalid_members)
def test_an_invalid_member_of_a_decrypted_payload_is_named_with_its_path(
    payload: dict[str, Any], invalid: tuple[str, Any]
) -> None:
    member, value = invalid
    broken = {k: v for k, v in payload.items() if k != member}
    broken[member] = value

    body = {
        "eventId": new_ulid(),
        "accountId": "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0",
        "payload": broken,
    }

    with pytest.raises(InvalidInputError) as raised:
        DecryptedEvent.model_validate_json(json.dumps(body))

    assert raised.value.field == f"payload.{member}"


def _is_hyphenated_uuid(text: str) -> bool:
    try:
        return len(text) == 36 and str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


@given(st.one_of(st.text(max_size=40), st.uuids().map(str), st.uuids().map(lambda u: u.hex)))
def test_account_ids_are_accepted_exactly_when_they_are_hyphenated_uuids(text: str) -> None:
    body = {"accountId": text, "payload": "{1,} YWJj YWJj"}

    if _is_hyphenated_uuid(text):
        assert EncryptedEvent.model_validate(body).account_id == text.lower()
    else:
        with pytest.raises(InvalidInputError) as raised:
            EncryptedEvent.model_validate(body)
        assert raised.value.field == "accountId"
