# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The versioned cipher string: Offen's Go test cases, the strict grammar, and fuzzing."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offen_core.crypto import CipherString, parse_cipher_string
from offen_core.errors import MalformedCipherError, OffenError

# --- Offen's own cases (server/keys/version_test.go) ---------------------------------------


@pytest.mark.parametrize(
    ("parsed", "text"),
    [
        (CipherString(1, None, b"abc", None), "{1,} YWJj"),
        (CipherString(2, 3, b"abc", None), "{2,3} YWJj"),
        (CipherString(2, None, b"abc", b"xyz"), "{2,} YWJj eHl6"),
    ],
)
def test_cipher_strings_are_written_as_offen_writes_them(parsed: CipherString, text: str) -> None:
    assert str(parsed) == text
    assert parse_cipher_string(text) == parsed


def test_key_version_and_nonce_are_parsed() -> None:
    parsed = parse_cipher_string("{4,1} YWJj eHl6")

    assert parsed == CipherString(algo=4, key_version=1, cipher=b"abc", nonce=b"xyz")


def test_missing_key_version_parses_as_none() -> None:
    assert parse_cipher_string("{1,} YWJj").key_version is None


@pytest.mark.parametrize("text", ["xuuusxa", "{1, YWJj"])
def test_offen_rejects_these_and_so_do_we(text: str) -> None:
    with pytest.raises(MalformedCipherError):
        parse_cipher_string(text)


# --- the strict grammar --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{1,}",
        "{1,} ",
        "{,} YWJj",
        "{} YWJj",
        "{1} YWJj",
        "{-1,} YWJj",
        "{+1,} YWJj",
        "{1,-2} YWJj",
        "{01,} YWJj",
        "{1,02} YWJj",
        "{1234567890,} YWJj",
        "{1,2,3} YWJj",
        "{\u0661,} YWJj",  # an Arabic-Indic digit is a digit to str.isdigit, not to the grammar
        "{²,} YWJj",
        " {1,} YWJj",
        "x{1,} YWJj",
        "{1,}YWJj",
        "{1,}\tYWJj",
        "{1,}\nYWJj",
        "{1,}  YWJj",
        "{1,} YWJj ",
        "{1,} YWJj  eHl6",
        "{1,} YWJj eHl6 ",
        "{1,} YWJj eHl6 eHl6",
        "{1,} YWJj\n",
        "{1,} YWJj\neHl6",
        "{1,} YWJ",  # missing padding
        "{1,} YWI",
        "{1,} YWI==",  # surplus padding
        "{1,} YWJj====",
        "{1,} YR==",  # unused bits set: not the canonical spelling of b"a"
        "{1,} YWJ=",
        "{1,} YW-j",  # URL alphabet
        "{1,} YW_j",
        "{1,} YWJj=",
        "{1,} ====",
        "{1,} YWJj eHl",
        "{1,} Y\u00e4Jj",
    ],
)
def test_text_outside_the_grammar_is_rejected(text: str) -> None:
    with pytest.raises(MalformedCipherError) as excinfo:
        parse_cipher_string(text)
    assert "cipher string" in str(excinfo.value)


@pytest.mark.parametrize("value", [None, b"{1,} YWJj", 1, ["{1,} YWJj"], {"a": 1}])
def test_non_strings_are_rejected_with_the_library_error(value: object) -> None:
    with pytest.raises(MalformedCipherError, match="must be a str"):
        parse_cipher_string(value)  # type: ignore[arg-type]


def test_the_largest_numbers_that_fit_are_accepted() -> None:
    parsed = parse_cipher_string("{999999999,0} AA==")

    assert (parsed.algo, parsed.key_version, parsed.cipher) == (999_999_999, 0, b"\0")


def test_repr_shows_sizes_not_bytes() -> None:
    parsed = CipherString(3, None, b"hash-bytes-here", b"salt")

    assert repr(parsed) == (
        "CipherString(algo=3, key_version=None, cipher=<15 bytes>, nonce=<4 bytes>)"
    )
    assert "hash" not in repr(parsed)


def test_cipher_string_is_frozen() -> None:
    parsed = parse_cipher_string("{1,} YWJj")

    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.algo = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {"algo": -1, "key_version": None, "cipher": b"a", "nonce": None},
        {"algo": True, "key_version": None, "cipher": b"a", "nonce": None},
        {"algo": 10**9, "key_version": None, "cipher": b"a", "nonce": None},
        {"algo": 1, "key_version": -1, "cipher": b"a", "nonce": None},
        {"algo": 1, "key_version": "1", "cipher": b"a", "nonce": None},
        {"algo": 1, "key_version": None, "cipher": b"", "nonce": None},
        {"algo": 1, "key_version": None, "cipher": "YWJj", "nonce": None},
        {"algo": 1, "key_version": None, "cipher": b"a", "nonce": b""},
    ],
)
def test_fields_that_cannot_be_written_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(MalformedCipherError):
        CipherString(**fields)  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------

_numbers = st.integers(min_value=0, max_value=999_999_999)
_chunks = st.binary(min_size=1, max_size=64)


@given(_numbers, st.none() | _numbers, _chunks, st.none() | _chunks)
def test_formatting_then_parsing_gives_the_same_fields(
    algo: int, key_version: int | None, cipher: bytes, nonce: bytes | None
) -> None:
    original = CipherString(algo, key_version, cipher, nonce)

    text = str(original)

    assert parse_cipher_string(text) == original
    assert str(parse_cipher_string(text)) == text


@given(st.text(max_size=80))
def test_arbitrary_text_parses_canonically_or_raises_an_offen_error(text: str) -> None:
    try:
        parsed = parse_cipher_string(text)
    except OffenError:
        return
    assert str(parsed) == text


_near_miss = st.builds(
    lambda head, body: head + body,
    st.sampled_from(["{1,} ", "{2,3} ", "{0,}", "{1,", "{12,00} ", "{"]),
    st.text(alphabet="AYWJjeHl6=+/ -_\t\n{},0", max_size=40),
)


@given(_near_miss)
def test_near_miss_text_parses_canonically_or_raises_the_malformed_error(text: str) -> None:
    try:
        parsed = parse_cipher_string(text)
    except MalformedCipherError:
        return
    assert str(parsed) == text


_objects = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.binary(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner) | st.tuples(inner),
    max_leaves=8,
)


@given(_objects)
def test_arbitrary_non_strings_raise_the_malformed_cipher_error(value: object) -> None:
    with pytest.raises(MalformedCipherError):
        parse_cipher_string(value)  # type: ignore[arg-type]
