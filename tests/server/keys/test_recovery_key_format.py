# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The recovery key for people, and the recovery key pair that seals KEKs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.crypto import random_bytes
from offen_core.errors import DecryptionError, InvalidInputError, InvalidKeyError
from offen_core.server.recovery import (
    RECOVERY_KEY_BYTES,
    format_recovery_key,
    new_recovery_credentials,
    open_recovery_private_key,
    parse_recovery_key,
    seal_kek,
    unseal_kek,
)

keys = st.binary(min_size=RECOVERY_KEY_BYTES, max_size=RECOVERY_KEY_BYTES)


@given(keys)
def test_a_formatted_key_reads_back_and_has_fourteen_groups_of_four(key: bytes) -> None:
    text = format_recovery_key(key)
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){13}", text)
    assert parse_recovery_key(text) == key


@given(keys)
def test_case_spaces_and_hyphens_do_not_matter(key: bytes) -> None:
    text = format_recovery_key(key)
    assert parse_recovery_key(" " + text.replace("-", " ").lower() + "\n") == key
    assert parse_recovery_key(text.replace("-", "")) == key


def test_digits_people_mistake_for_letters_are_read_as_those_letters() -> None:
    key = next(
        candidate
        for candidate in (random_bytes(RECOVERY_KEY_BYTES) for _ in range(1000))
        if "O" in format_recovery_key(candidate) and "I" in format_recovery_key(candidate)
    )
    typed = format_recovery_key(key).replace("O", "0").replace("I", "1")
    assert parse_recovery_key(typed) == key


@given(
    keys, st.integers(min_value=0, max_value=55), st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ234567")
)
def test_one_mistyped_character_is_caught_by_the_checksum(
    key: bytes, position: int, replacement: str
) -> None:
    compact = format_recovery_key(key).replace("-", "")
    if compact[position] == replacement:
        return
    typo = compact[:position] + replacement + compact[position + 1 :]
    with pytest.raises(InvalidInputError) as caught:
        parse_recovery_key(typo)
    assert caught.value.field == "recoveryKey"


@pytest.mark.parametrize(
    "text",
    ["", "not a key", "AAAA-AAAA", "A" * 300, "ÄÄÄÄ-" * 14, 42, None],
)
def test_what_is_not_a_recovery_key_is_refused(text: object) -> None:
    with pytest.raises(InvalidInputError):
        parse_recovery_key(text)


def test_only_32_bytes_are_formatted() -> None:
    with pytest.raises(InvalidInputError):
        format_recovery_key(b"short")


def test_a_sealed_kek_opens_only_with_its_recovery_key() -> None:
    mine, theirs = new_recovery_credentials(), new_recovery_credentials()
    kek = random_bytes(32)
    sealed = seal_kek(mine.public_key, kek)

    assert sealed.startswith("{1,} ")
    assert sealed != seal_kek(mine.public_key, kek)  # a fresh ephemeral key each time
    private = open_recovery_private_key(mine.recovery_key, mine.encrypted_private_key)
    assert unseal_kek(private, sealed) == kek
    other = open_recovery_private_key(theirs.recovery_key, theirs.encrypted_private_key)
    with pytest.raises(DecryptionError):
        unseal_kek(other, sealed)
    with pytest.raises(DecryptionError):
        open_recovery_private_key(theirs.recovery_key, mine.encrypted_private_key)
    with pytest.raises(DecryptionError):
        unseal_kek(private, sealed[:-8] + "AAAAAAA=")
    with pytest.raises(DecryptionError):
        unseal_kek(private, "{2,} AAAA AAAA")


def test_credentials_hide_their_secrets_and_format_their_key() -> None:
    credentials = new_recovery_credentials()
    assert credentials.encrypted_private_key not in repr(credentials)
    assert parse_recovery_key(credentials.formatted_key) == credentials.recovery_key
    with pytest.raises(InvalidKeyError):
        seal_kek('{"kty": "RSA"}', random_bytes(32))
