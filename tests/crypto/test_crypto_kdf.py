# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Argon2id: key derivation, password hashes, deprecated versions, the input cap, the policy.

Argon2 runs at Offen's real parameters (tens of milliseconds per call), so these tests keep
the number of calls small.
"""

from __future__ import annotations

import base64
import re

import pytest
from argon2.low_level import Type, hash_secret_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from offen_core import crypto
from offen_core.errors import (
    InvalidInputError,
    MalformedCipherError,
    OffenError,
    PasswordPolicyError,
    UnsupportedAlgorithmError,
)

_B64 = r"[A-Za-z0-9+/]+={0,2}"


def _bare(secret: str, salt: bytes, time: int, memory: int, threads: int) -> bytes:
    return hash_secret_raw(secret.encode(), salt, time, memory, threads, 32, Type.ID, version=19)


# --- Offen's own cases (server/keys/*_test.go) ----------------------------------------------


def test_key_derived_from_a_legacy_algo_1_salt_encrypts_and_decrypts() -> None:
    key = crypto.derive_key("mypassword", "{1,} XqiWf9CdPpmT3bu0aHkzjQ==")

    cipher = crypto.encrypt_symmetric(key, b"value")

    assert len(key) == 32
    assert crypto.decrypt_symmetric(key, cipher) == b"value"


def test_hash_matches_its_secret_and_nothing_else() -> None:
    hashed = crypto.hash_password("develop")

    assert crypto.verify_password("develop", hashed) is True
    assert crypto.verify_password("developer", hashed) is False
    assert crypto.verify_password("", hashed) is False


def test_empty_secret_is_not_hashed() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        crypto.hash_password("")


@pytest.mark.parametrize("stored", ["", "{3,}", "{3,} AAAA", "plain text"])
def test_comparing_against_an_unusable_hash_is_an_error_not_a_mismatch(stored: str) -> None:
    with pytest.raises(MalformedCipherError):
        crypto.verify_password("develop", stored)


# --- formats and parameters ----------------------------------------------------------------


def test_hash_has_offens_format_with_a_16_byte_salt_and_algo_3_parameters() -> None:
    hashed = crypto.hash_password("correct horse")

    match = re.fullmatch(rf"\{{3,\}} ({_B64}) ({_B64})", hashed)
    assert match is not None
    digest, salt = (base64.b64decode(group) for group in match.groups())
    assert len(digest) == 32
    assert len(salt) == crypto.KDF_SALT_BYTES == 16
    assert digest == _bare("correct horse", salt, 4, 16384, 4)
    assert crypto.needs_upgrade(hashed) is False


def test_new_kdf_salt_is_algo_3_with_16_random_bytes() -> None:
    salts = {crypto.new_kdf_salt() for _ in range(16)}

    assert len(salts) == 16
    for salt in salts:
        parsed = crypto.parse_cipher_string(salt)
        assert (parsed.algo, parsed.key_version, parsed.nonce) == (3, None, None)
        assert len(parsed.cipher) == 16


def test_derive_key_uses_the_parameters_of_each_algo_version() -> None:
    raw = b"\x01" * 16
    body = base64.b64encode(raw).decode()

    assert crypto.derive_key("pw", "{3,} " + body) == _bare("pw", raw, 4, 16384, 4)
    assert crypto.derive_key("pw", "{2,} " + body, threads=2) == _bare("pw", raw, 4, 16384, 2)
    assert crypto.derive_key("pw", "{1,} " + body, threads=2) == _bare("pw", raw, 1, 65536, 4)


def test_threads_matter_for_algo_2_only() -> None:
    salt2 = "{2,} " + base64.b64encode(b"\x02" * 8).decode()
    salt3 = "{3,} " + base64.b64encode(b"\x02" * 8).decode()

    assert crypto.derive_key("pw", salt2, threads=1) != crypto.derive_key("pw", salt2)
    assert crypto.derive_key("pw", salt3, threads=1) == crypto.derive_key("pw", salt3)


def test_eight_byte_salts_of_offen_are_still_read() -> None:
    salt = "{3,} " + base64.b64encode(b"12345678").decode()

    assert crypto.derive_key("pw", salt) == _bare("pw", b"12345678", 4, 16384, 4)


@pytest.mark.parametrize(
    ("salt", "error"),
    [
        ("{3,} " + base64.b64encode(b"1234567").decode(), MalformedCipherError),
        ("{3,} MTIzNDU2Nzg= MTIzNDU2Nzg=", MalformedCipherError),
        ("{0,} MTIzNDU2Nzg=", UnsupportedAlgorithmError),
        ("{4,} MTIzNDU2Nzg=", UnsupportedAlgorithmError),
        ("MTIzNDU2Nzg=", MalformedCipherError),
        (None, MalformedCipherError),
    ],
)
def test_unusable_salts_are_refused(salt: str, error: type[OffenError]) -> None:
    with pytest.raises(error):
        crypto.derive_key("pw", salt)


@pytest.mark.parametrize("threads", [0, -1, 256, "4", 2.0, True])
def test_thread_count_for_algo_2_must_be_sensible(threads: object) -> None:
    with pytest.raises(InvalidInputError, match="threads"):
        crypto.derive_key("pw", "{2,} MTIzNDU2Nzg=", threads=threads)  # type: ignore[arg-type]


def test_hash_of_wrong_length_is_unusable() -> None:
    salt = base64.b64encode(bytes(16)).decode()

    with pytest.raises(MalformedCipherError, match="32 bytes"):
        crypto.verify_password("pw", f"{{3,}} {base64.b64encode(bytes(31)).decode()} {salt}")


def test_hash_of_unknown_version_is_an_error() -> None:
    hashed = crypto.hash_password("develop")

    with pytest.raises(UnsupportedAlgorithmError):
        crypto.verify_password("develop", "{4," + hashed[3:])


def test_deprecated_versions_need_an_upgrade() -> None:
    assert crypto.needs_upgrade("{1,} MTIzNDU2Nzg=") is True
    assert crypto.needs_upgrade("{2,} MTIzNDU2Nzg= MTIzNDU2Nzg=") is True
    assert crypto.needs_upgrade("{3,} MTIzNDU2Nzg=") is False
    with pytest.raises(UnsupportedAlgorithmError):
        crypto.needs_upgrade("{5,} MTIzNDU2Nzg=")
    with pytest.raises(MalformedCipherError):
        crypto.needs_upgrade("{1,} MTIzNDU2Nzg")


# --- the byte cap --------------------------------------------------------------------------


def test_cap_admits_64_four_byte_characters_and_a_254_character_address() -> None:
    longest_password = "🔑" * 64  # 256 bytes of UTF-8
    # The worst case: 254 characters that each take four bytes of UTF-8.
    longest_email = "𐍈" * 64 + "@" + ("𐍈" * 63 + ".") * 2 + "𐍈" * 61
    assert len(longest_email) == 254
    assert len(longest_email.encode()) == 1007 <= crypto.MAX_SECRET_BYTES

    hashed = crypto.hash_password(longest_password)

    assert crypto.verify_password(longest_password, hashed) is True
    assert len(crypto.derive_key(longest_email, crypto.new_kdf_salt())) == 32


def test_input_over_the_cap_is_rejected_not_truncated() -> None:
    over = "a" * (crypto.MAX_SECRET_BYTES + 1)
    salt = crypto.new_kdf_salt()
    hashed = "{3,} " + base64.b64encode(bytes(32)).decode() + " " + salt[5:]

    for call in (
        lambda: crypto.hash_password(over),
        lambda: crypto.derive_key(over, salt),
        lambda: crypto.verify_password(over, hashed),
    ):
        with pytest.raises(InvalidInputError, match="1024 bytes"):
            call()


@pytest.mark.parametrize("secret", [None, b"bytes", 12, "\ud800"])
def test_secret_must_be_text(secret: object) -> None:
    with pytest.raises(InvalidInputError, match="secret"):
        crypto.hash_password(secret)  # type: ignore[arg-type]


# --- the password policy -------------------------------------------------------------------


@pytest.mark.parametrize("password", ["development", "a" * 8, "a" * 64, "密码" * 15, "äöüäöüäö"])
def test_passwords_of_8_to_64_characters_pass(password: str) -> None:
    crypto.check_password_policy(password)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("dev", "at least 8"),
        ("", "at least 8"),
        ("äöüäö", "at least 8"),  # 10 bytes, which Offen's byte count lets through
        ("a" * 65, "at most 64"),
        ("🔑" * 65, "at most 64"),
    ],
)
def test_passwords_outside_the_policy_are_refused(password: str, rule: str) -> None:
    with pytest.raises(PasswordPolicyError, match=rule) as excinfo:
        crypto.check_password_policy(password)
    assert excinfo.value.field == "password"
    assert password not in str(excinfo.value) or not password


def test_policy_is_not_applied_by_the_hash_function() -> None:
    hashed = crypto.hash_password("dev")  # an email or a legacy password may be short

    assert crypto.verify_password("dev", hashed) is True


# --- properties (few examples: argon2 is slow on purpose) ------------------------------------


@settings(max_examples=5, deadline=None)
@given(st.text(min_size=1, max_size=64))
def test_any_unicode_password_verifies_against_its_own_hash(password: str) -> None:
    hashed = crypto.hash_password(password)

    assert crypto.verify_password(password, hashed) is True
    assert crypto.verify_password(password + "x", hashed) is False


@given(st.text(max_size=60))
def test_arbitrary_stored_hashes_raise_offen_errors_without_hashing(text: str) -> None:
    # Anything that is not a two-chunk hash with a 32-byte hash is refused before argon2 runs.
    if re.fullmatch(rf"\{{[123],\d*\}} {_B64} {_B64}", text):
        return
    with pytest.raises(OffenError):
        crypto.verify_password("pw", text)
