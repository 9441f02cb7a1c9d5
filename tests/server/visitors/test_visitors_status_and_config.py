# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The shared server pieces: status codes, error bodies, configuration, cookies, models."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core import errors
from offen_core.errors import InvalidInputError, OffenError
from offen_core.events import StoredEvent
from offen_core.server import (
    MAX_BODY_BYTES,
    Cookie,
    EventsResult,
    ExchangeRequest,
    PostEventRequest,
    Route,
    ServerConfig,
    body_too_large,
    error_body,
    format_time,
    load_server_secret,
    parse_json_body,
    status_for,
)
from offen_core.storage import parse_retention


@pytest.mark.parametrize(
    ("error", "route", "status"),
    [
        (errors.InvalidInputError("f", "rule"), None, 400),
        (errors.PasswordPolicyError("password", "too short"), None, 400),
        (errors.MalformedCipherError("bad"), None, 400),
        (errors.DecryptionError("bad"), None, 400),
        (errors.UnknownSecretError("exchange again"), Route.POST_EVENTS, 400),
        (errors.UnknownAccountError("no account"), Route.POST_EVENTS, 404),
        (errors.NotFoundError("none"), None, 404),
        (errors.ConflictError("taken"), None, 409),
        (errors.DatabaseUnavailableError("down"), Route.HEALTHZ, 502),
        (errors.DatabaseUnavailableError("down"), Route.POST_EVENTS, 503),
        (errors.StorageError("odd"), None, 500),
        (errors.InvalidCredentialsError("wrong"), None, 401),
        (errors.ForbiddenError("no"), None, 403),
        (errors.InvalidTokenError("bad"), Route.RESET_PASSWORD, 400),
        (errors.InvalidTokenError("bad"), Route.JOIN, 400),
        (errors.InvalidTokenError("bad"), Route.GET_ACCOUNT, 401),
        (errors.InvalidTokenError("bad"), None, 401),
        (errors.AuthError("no"), None, 401),
        (errors.ThrottledError(3.0), None, 429),
        (errors.ThrottleStorageError("down"), None, 503),
    ],
)
def test_every_error_has_its_status(error: OffenError, route: Route | None, status: int) -> None:
    assert status_for(error, route) == status
    assert error_body(error, route)["status"] == status


def test_every_error_class_maps_to_a_status() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        if cls is errors.OffenError or not issubclass(cls, OffenError):
            continue
        instance = cls.__new__(cls)
        assert 400 <= status_for(instance) <= 503, name


def test_server_errors_hide_their_details() -> None:
    leaky = errors.DatabaseUnavailableError("postgresql://admin@db.internal/offen: timeout")
    sql = errors.StorageError("INSERT INTO secrets VALUES ('abc')")

    for error in (leaky, sql):
        body = error_body(error)
        assert "db.internal" not in body["error"]
        assert "INSERT" not in body["error"]
        assert json.loads(json.dumps(body)) == body


def test_client_errors_say_what_was_wrong() -> None:
    body = error_body(InvalidInputError("accountId", "must be a UUID"))

    assert body == {"error": "accountId: must be a UUID", "status": 400}


def test_body_too_large_is_413() -> None:
    assert body_too_large()["status"] == 413
    assert str(MAX_BODY_BYTES) in body_too_large()["error"]


def test_every_route_is_spelled_method_and_path() -> None:
    for route in Route:
        method, path = route.value.split(" ")
        assert method in {"GET", "POST", "DELETE"}
        assert path.startswith("/")


def test_the_offen_secret_form_is_read() -> None:
    raw = bytes(range(16))

    assert load_server_secret(base64.b64encode(raw).decode() + "\n") == raw
    assert ServerConfig.from_offen_secret(base64.b64encode(raw).decode()).secret == raw


@pytest.mark.parametrize("value", ["", "not base64!", "AAAA", base64.b64encode(b"x" * 15).decode()])
def test_bad_or_short_secrets_are_refused(value: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_server_secret(value)

    assert caught.value.field == "secret"


def test_the_config_validates_and_hides_its_secret() -> None:
    config = ServerConfig(b"s" * 32, base_url="https://stats.example.com/")

    assert config.base_url == "https://stats.example.com"
    assert "sss" not in repr(config)
    assert config.retention_name == "6months"
    assert config.retention_period.days == 186
    with pytest.raises(InvalidInputError):
        ServerConfig(b"short")
    with pytest.raises(InvalidInputError):
        ServerConfig(b"s" * 16, base_url="stats.example.com")
    with pytest.raises(InvalidInputError):
        ServerConfig(b"s" * 16, retention="3days")  # type: ignore[arg-type]
    assert ServerConfig(b"s" * 16, retention=parse_retention(90)).retention_period.days == 90


def test_cookies_follow_the_secure_context() -> None:
    expires = datetime(2026, 7, 8, 12, tzinfo=UTC)
    secure = ServerConfig(b"s" * 16).cookie("user", "abc", expires)
    plain = ServerConfig(b"s" * 16, secure_context=False).cookie("user", "abc", expires)

    assert secure.header_value() == (
        "user=abc; Path=/api; Expires=Wed, 08 Jul 2026 12:00:00 GMT; HttpOnly; Secure; "
        "SameSite=None"
    )
    assert plain.header_value() == (
        "user=abc; Path=/api; Expires=Wed, 08 Jul 2026 12:00:00 GMT; HttpOnly; SameSite=Lax"
    )
    assert not secure.cleared
    assert "abc" not in repr(secure)
    assert Cookie("auth", "x", None).header_value() == (
        "auth=x; Path=/api; HttpOnly; Secure; SameSite=None"
    )


def test_times_are_written_as_go_writes_them() -> None:
    assert format_time(datetime(2026, 1, 5, 12, tzinfo=UTC)) == "2026-01-05T12:00:00Z"
    assert format_time(datetime(2026, 1, 5, 12, 0, 0, 250000)) == "2026-01-05T12:00:00.25Z"


def test_events_result_leaves_empty_members_out() -> None:
    event = StoredEvent(
        eventId="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        sequence="01ARZ3NDEKTSV4RRFFQ69G5FAW",
        accountId="9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
        payload="{1,} AAAA AAAA",
    )

    empty = EventsResult((), (), None, "7days").body()
    full = EventsResult((event,), ("01ARZ3NDEKTSV4RRFFQ69G5FAX",), "01B", "7days", True).body()

    assert empty == {"events": {}, "retentionPeriod": "7days"}
    assert full == {
        "events": {
            event.account_id: [
                {
                    "accountId": event.account_id,
                    "eventId": event.event_id,
                    "payload": "{1,} AAAA AAAA",
                }
            ]
        },
        "deletedEvents": ["01ARZ3NDEKTSV4RRFFQ69G5FAX"],
        "sequence": "01B",
        "retentionPeriod": "7days",
        "more": True,
    }


def test_requests_write_back_offens_json() -> None:
    body = {
        "accountId": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
        "payload": "{1,} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAA",
    }

    assert PostEventRequest.parse(json.dumps(body)).to_json() == body
    assert PostEventRequest.parse({**body, "extra": 1}).to_json() == body


@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_request_parsers_only_raise_invalid_input(raw: bytes | str) -> None:
    for model in (ExchangeRequest, PostEventRequest):
        with pytest.raises(InvalidInputError):
            model.parse(raw)


@given(
    st.dictionaries(
        st.sampled_from(["accountId", "encryptedSecret", "payload", "x"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=80), st.lists(st.integers())),
    )
)
def test_request_parsers_reject_wrong_shapes_with_invalid_input(data: dict[str, object]) -> None:
    for model in (ExchangeRequest, PostEventRequest):
        with pytest.raises(InvalidInputError) as caught:
            model.parse(data)
        assert caught.value.field in {"accountId", "encryptedSecret", "payload"}


def test_parse_json_body_needs_an_object() -> None:
    assert parse_json_body('{"a": 1}') == {"a": 1}
    for raw in ("1", "null", '"x"', "[1]"):
        with pytest.raises(InvalidInputError):
            parse_json_body(raw)
