# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The validators of envelope values: account ids, secret ids, event ids, ciphers, names."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.errors import InvalidInputError, OffenError
from offen_core.events import (
    MAX_ACCOUNT_NAME_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_ENCRYPTED_SECRET_LENGTH,
    MAX_PAYLOAD_LENGTH,
    MAX_URL_LENGTH,
    new_ulid,
    validate_account_id,
    validate_account_name,
    validate_encrypted_secret,
    validate_event_id,
    validate_payload_cipher,
    validate_secret_id,
)

ACCOUNT_ID = "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0"
SECRET_ID = "5f" * 32


def test_limits_are_those_of_the_design() -> None:
    assert MAX_PAYLOAD_LENGTH == 32_768
    assert MAX_ENCRYPTED_SECRET_LENGTH == 2_048
    assert MAX_ACCOUNT_NAME_LENGTH == 100
    assert MAX_EMAIL_LENGTH == 254
    assert MAX_URL_LENGTH == 2_000


# --- account ids --------------------------------------------------------------------------


@given(st.uuids(), st.booleans())
def test_any_uuid_is_an_account_id_and_comes_back_lower_case(value: uuid.UUID, upper: bool) -> None:
    text = str(value).upper() if upper else str(value)

    assert validate_account_id(text) == str(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "9b63c4d4d5d64d249f1f0d9c02b9b1f0",  # no hyphens
        "{9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0}",
        "urn:uuid:9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0",
        " 9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0",
        "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f",
        "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0a",
        "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1g0",
        "9b63c4d4_d5d6_4d24_9f1f_0d9c02b9b1f0",
        "abc-123",
        None,
        42,
        uuid.UUID(ACCOUNT_ID),
    ],
)
def test_anything_else_is_not_an_account_id(value: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate_account_id(value)

    assert raised.value.field == "accountId"
    assert "UUID" in raised.value.rule


def test_validators_name_the_field_they_are_given() -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate_account_id("nope", field="account")
    assert raised.value.field == "account"
    assert str(raised.value).startswith("account: ")


# --- secret ids ---------------------------------------------------------------------------


@given(st.binary(min_size=32, max_size=32))
def test_64_lower_case_hex_characters_are_a_secret_id(raw: bytes) -> None:
    assert validate_secret_id(raw.hex()) == raw.hex()


@pytest.mark.parametrize(
    "value",
    [
        "",
        SECRET_ID.upper(),
        SECRET_ID[:-1],
        SECRET_ID + "0",
        "g" * 64,
        " " + SECRET_ID[1:],
        None,
        7,
    ],
)
def test_anything_else_is_not_a_secret_id(value: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate_secret_id(value)

    assert raised.value.field == "secretId"
    assert "hexadecimal" in raised.value.rule


# --- event ids ----------------------------------------------------------------------------


def test_event_ids_are_ulids() -> None:
    value = new_ulid()

    assert validate_event_id(value) == value
    with pytest.raises(InvalidInputError) as raised:
        validate_event_id(value + "0")
    assert raised.value.field == "eventId"
    with pytest.raises(InvalidInputError) as raised:
        validate_event_id(value.lower(), field="since")
    assert raised.value.field == "since"


# --- cipher strings -----------------------------------------------------------------------

CIPHERS = [
    "{1,} YQ== YWJjZGVmZ2hpamts",  # symmetric: ciphertext and nonce
    "{1,} ku/nRiFiiaQX0ftr+A==",  # asymmetric: ciphertext only
    "{1,3} YWJj",  # a key version, as offen_core stamps secrets
    "{12,} YWJj YWJj",
]


@pytest.mark.parametrize("value", CIPHERS)
@pytest.mark.parametrize(
    ("validate", "field"),
    [(validate_payload_cipher, "payload"), (validate_encrypted_secret, "encryptedSecret")],
)
def test_cipher_strings_pass_unchanged(
    validate: Callable[..., str], field: str, value: str
) -> None:
    assert validate(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "YWJj",  # no version prefix
        "{1,}YWJj",  # no space
        "{1,}  YWJj",  # two spaces
        "{1,} YWJj ",  # trailing space
        "{1,} YWJj YWJj YWJj",  # three chunks
        "{a,} YWJj",
        "{1} YWJj",
        "{,} YWJj",
        " {1,} YWJj",  # anchored, as Offen's Go server parses
        "{1,} YW-_",  # base64url is not what Offen writes
        "{1,} YWJj===",
        "{1,} YWJj\n",
        "{\u0661,} YWJj",  # an Arabic-Indic digit one
        None,
        b"{1,} YWJj",
        {"payload": "{1,} YWJj"},
    ],
)
@pytest.mark.parametrize(
    ("validate", "field"),
    [(validate_payload_cipher, "payload"), (validate_encrypted_secret, "encryptedSecret")],
)
def test_malformed_cipher_strings_are_rejected(
    validate: Callable[..., str], field: str, value: object
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate(value)

    assert raised.value.field == field
    assert "cipher string" in raised.value.rule


@pytest.mark.parametrize(
    ("validate", "field", "limit"),
    [
        (validate_payload_cipher, "payload", MAX_PAYLOAD_LENGTH),
        (validate_encrypted_secret, "encryptedSecret", MAX_ENCRYPTED_SECRET_LENGTH),
    ],
)
def test_cipher_strings_are_limited_in_length(
    validate: Callable[..., str], field: str, limit: int
) -> None:
    prefix = "{1,} "
    longest = prefix + "A" * (limit - len(prefix))

    assert validate(longest) == longest
    with pytest.raises(InvalidInputError) as raised:
        validate(longest + "A")
    assert raised.value.field == field
    assert str(limit) in raised.value.rule


# --- account names ------------------------------------------------------------------------


def test_account_names_are_stripped() -> None:
    assert validate_account_name("  My site \n") == "My site"
    assert validate_account_name("Café Zürich 🍰") == "Café Zürich 🍰"


def test_account_names_may_hold_the_limit_after_stripping() -> None:
    name = "x" * MAX_ACCOUNT_NAME_LENGTH

    assert validate_account_name(f"  {name}  ") == name
    with pytest.raises(InvalidInputError) as raised:
        validate_account_name(name + "y")
    assert raised.value.field == "accountName"
    assert str(MAX_ACCOUNT_NAME_LENGTH) in raised.value.rule


@pytest.mark.parametrize("value", ["", "   ", "\t\n", None, 5, b"name"])
def test_blank_or_non_string_account_names_are_rejected(value: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate_account_name(value)

    assert raised.value.field == "accountName"


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validate", "value"),
    [
        (validate_account_id, "secret-visitor-9b63c4d4"),
        (validate_secret_id, "secret-visitor-9b63c4d4"),
        (validate_event_id, "secret-visitor-9b63c4d4"),
        (validate_payload_cipher, "secret-visitor-9b63c4d4"),
        (validate_encrypted_secret, "secret-visitor-9b63c4d4"),
    ],
)
def test_errors_are_offen_errors_that_do_not_repeat_the_value(
    validate: Callable[..., str], value: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate(value)

    assert isinstance(raised.value, OffenError)
    assert isinstance(raised.value, ValueError)
    assert "secret-visitor" not in str(raised.value)
