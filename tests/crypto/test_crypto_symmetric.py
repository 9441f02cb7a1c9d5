# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""AES-GCM: key shapes, round trips, nonces, compression, tampering, and JWK rules."""

from __future__ import annotations

import base64
import gzip
import json
import pickle
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from offen_core import crypto
from offen_core.crypto import SymmetricKey
from offen_core.errors import (
    DecryptionError,
    InvalidInputError,
    InvalidKeyError,
    MalformedCipherError,
    OffenError,
    UnsupportedAlgorithmError,
)

# The string of Offen's web-crypto.test.js: an en dash and a check mark with VS16.
ALICE_BOB = "alice \u2013 bob \u2714\ufe0f"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- round trips (Offen's web-crypto.test.js and keys/symmetric_test.go) ---------------------


@pytest.mark.parametrize("bits", [128, 192, 256])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_of_offens_test_string(bits: int, compress: bool) -> None:
    key = crypto.generate_symmetric_key(bits)
    plaintext = json.dumps(ALICE_BOB, ensure_ascii=False).encode()

    cipher = crypto.encrypt_symmetric(key, plaintext, compress=compress)

    assert crypto.decrypt_symmetric(key, cipher, compressed=compress) == plaintext
    assert json.loads(crypto.decrypt_symmetric(key, cipher, compressed=compress)) == ALICE_BOB


def test_round_trip_of_an_object_with_a_random_32_byte_key() -> None:
    raw = crypto.random_bytes(32)
    plaintext = json.dumps({"value": [12, 90]}).encode()

    cipher = crypto.encrypt_symmetric(raw, plaintext)

    assert json.loads(crypto.decrypt_symmetric(raw, cipher)) == {"value": [12, 90]}


def test_written_cipher_string_has_offens_shape() -> None:
    key = crypto.generate_symmetric_key()

    cipher = crypto.encrypt_symmetric(key, b"x" * 40)

    header, ct, nonce = cipher.split(" ")
    assert header == "{1,}"
    assert len(base64.b64decode(nonce)) == 12
    assert len(base64.b64decode(ct)) == 40 + 16
    # Bare AES-GCM opens it: ciphertext || tag, no associated data.
    aead = AESGCM(key.to_bytes())
    assert aead.decrypt(base64.b64decode(nonce), base64.b64decode(ct), None) == b"x" * 40


def test_each_encryption_uses_a_fresh_nonce() -> None:
    key = crypto.generate_symmetric_key()

    nonces = {crypto.encrypt_symmetric(key, b"same").split(" ")[2] for _ in range(32)}

    assert len(nonces) == 32


@pytest.mark.parametrize("nonce_size", [12, 16])
def test_nonces_of_12_and_16_bytes_are_read(nonce_size: int) -> None:
    raw = crypto.random_bytes(16)
    nonce = crypto.random_bytes(nonce_size)
    sealed = AESGCM(raw).encrypt(nonce, b"payload", None)

    cipher = f"{{1,}} {_b64(sealed)} {_b64(nonce)}"

    assert crypto.decrypt_symmetric(raw, cipher) == b"payload"


@pytest.mark.parametrize("nonce_size", [8, 11, 13, 15, 17, 32, 64])
def test_other_nonce_sizes_are_refused_even_when_they_would_authenticate(
    nonce_size: int,
) -> None:
    raw = crypto.random_bytes(16)
    nonce = crypto.random_bytes(nonce_size)
    sealed = AESGCM(raw).encrypt(nonce, b"payload", None)

    with pytest.raises(MalformedCipherError, match="12 or 16 bytes"):
        crypto.decrypt_symmetric(raw, f"{{1,}} {_b64(sealed)} {_b64(nonce)}")


def test_key_version_in_the_header_is_accepted_and_ignored() -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, b"payload")

    relabelled = "{1,7}" + cipher[len("{1,}") :]

    assert crypto.decrypt_symmetric(key, relabelled) == b"payload"


@pytest.mark.parametrize("algo", [0, 2, 3, 99])
def test_unknown_algo_versions_are_refused(algo: int) -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, b"payload")

    with pytest.raises(UnsupportedAlgorithmError, match=f"version {algo}"):
        crypto.decrypt_symmetric(key, f"{{{algo},}}" + cipher[len("{1,}") :])


def test_cipher_without_nonce_is_malformed() -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, b"payload")

    with pytest.raises(MalformedCipherError, match="nonce"):
        crypto.decrypt_symmetric(key, cipher.rsplit(" ", 1)[0])


def test_truncated_ciphertext_shorter_than_a_tag_does_not_decrypt() -> None:
    key = crypto.generate_symmetric_key()
    nonce = _b64(bytes(12))

    with pytest.raises(DecryptionError):
        crypto.decrypt_symmetric(key, f"{{1,}} {_b64(b'short')} {nonce}")


# --- compression ---------------------------------------------------------------------------


def test_compressed_plaintext_is_gzip_and_shorter_for_repetitive_text() -> None:
    key = crypto.generate_symmetric_key()
    text = ("lorem ipsum dolor sit amet " * 40).encode()

    plain_cipher = crypto.encrypt_symmetric(key, text)
    packed_cipher = crypto.encrypt_symmetric(key, text, compress=True)

    assert len(packed_cipher) < len(plain_cipher)
    packed = crypto.decrypt_symmetric(key, packed_cipher)
    assert packed[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed) == text


def test_gzip_made_elsewhere_is_read() -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, gzip.compress(b'{"a":1}'))

    assert crypto.decrypt_symmetric(key, cipher, compressed=True) == b'{"a":1}'


@pytest.mark.parametrize(
    "plaintext",
    [
        b'{"a":1}',
        gzip.compress(b"one") + gzip.compress(b"two"),
        gzip.compress(b"whole")[:-3],
        gzip.compress(b"whole") + b"trailing",
    ],
    ids=["not-gzip", "two-members", "truncated", "trailing-bytes"],
)
def test_compressed_flag_on_anything_but_one_gzip_member_fails(plaintext: bytes) -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, plaintext)

    with pytest.raises(DecryptionError, match="gzip"):
        crypto.decrypt_symmetric(key, cipher, compressed=True)


# --- tampering -----------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_flipping_any_single_byte_of_ciphertext_tag_or_nonce_is_detected(compress: bool) -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, b'{"type":"PAGEVIEW","href":"/"}', compress=compress)
    parsed = crypto.parse_cipher_string(cipher)
    assert parsed.nonce is not None

    for chunk in ("cipher", "nonce"):
        data: bytes = getattr(parsed, chunk)
        for index in range(len(data)):
            for mask in (0x01, 0x80, 0xFF):
                flipped = bytearray(data)
                flipped[index] ^= mask
                tampered = str(crypto.CipherString(**{**vars_of(parsed), chunk: bytes(flipped)}))
                with pytest.raises(DecryptionError):
                    crypto.decrypt_symmetric(key, tampered, compressed=compress)


def vars_of(parsed: crypto.CipherString) -> dict[str, Any]:
    return {
        "algo": parsed.algo,
        "key_version": parsed.key_version,
        "cipher": parsed.cipher,
        "nonce": parsed.nonce,
    }


def test_a_wrong_key_of_the_same_size_is_detected() -> None:
    cipher = crypto.encrypt_symmetric(crypto.generate_symmetric_key(), b"payload")

    with pytest.raises(DecryptionError):
        crypto.decrypt_symmetric(crypto.generate_symmetric_key(), cipher)


# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("bits", "alg"), [(128, "A128GCM"), (192, "A192GCM"), (256, "A256GCM")])
def test_key_exports_webcrypto_jwk_and_imports_it_back(bits: int, alg: str) -> None:
    key = crypto.generate_symmetric_key(bits)

    jwk = key.to_jwk()

    assert jwk == {
        "alg": alg,
        "ext": True,
        "k": _b64url(key.to_bytes()),
        "key_ops": ["encrypt", "decrypt"],
        "kty": "oct",
    }
    assert SymmetricKey.from_jwk(jwk) == key
    assert SymmetricKey.from_jwk(json.dumps(jwk)) == key
    assert key.bits == bits


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "oct", "k": _b64url(bytes(range(32)))},  # the Go server's KEK
        {"kty": "oct", "k": _b64url(bytes(range(16)))},  # the fallback client's user secret
        {"kty": "oct", "k": _b64url(bytes(range(16))), "use": "enc", "ext": False},
    ],
)
def test_minimal_jwks_from_offen_are_imported(jwk: dict[str, Any]) -> None:
    assert SymmetricKey.from_jwk(jwk).to_bytes() == base64.urlsafe_b64decode(jwk["k"] + "==")


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"k": _b64url(bytes(16))}, "kty"),
        ({"kty": "RSA", "k": _b64url(bytes(16))}, "kty"),
        ({"kty": "oct"}, '"k"'),
        ({"kty": "oct", "k": 16}, '"k"'),
        ({"kty": "oct", "k": ""}, '"k"'),
        ({"kty": "oct", "k": _b64url(bytes(15))}, "15 bytes"),
        ({"kty": "oct", "k": _b64url(bytes(64))}, "64 bytes"),
        ({"kty": "oct", "k": _b64url(bytes(16)) + "=="}, "base64url"),
        ({"kty": "oct", "k": base64.b64encode(b"\xfb" * 16).decode().rstrip("=")}, "base64url"),
        ({"kty": "oct", "k": _b64url(bytes(16)), "alg": "A256GCM"}, "A128GCM"),
        ({"kty": "oct", "k": _b64url(bytes(16)), "alg": 128}, '"alg"'),
        ({"kty": "oct", "k": _b64url(bytes(16)), "key_ops": ["decrypt"]}, "key_ops"),
        ({"kty": "oct", "k": _b64url(bytes(16)), "key_ops": "encrypt"}, "key_ops"),
        ({"kty": "oct", "k": _b64url(bytes(16)), "use": "sig"}, '"use"'),
        ({"kty": "oct", "k": _b64url(bytes(16)), "ext": "true"}, '"ext"'),
    ],
)
def test_unusable_aes_jwks_are_refused_with_a_reason(jwk: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        SymmetricKey.from_jwk(jwk)


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '"k"', "[" * 100_000, "{" * 70_000])
def test_jwk_text_that_is_not_a_json_object_is_refused(text: str) -> None:
    with pytest.raises(InvalidKeyError):
        SymmetricKey.from_jwk(text)


@pytest.mark.parametrize("raw", [b"", bytes(15), bytes(17), bytes(33), "0" * 16, 16, None])
def test_raw_keys_of_wrong_size_or_type_are_refused(raw: object) -> None:
    with pytest.raises(InvalidKeyError):
        SymmetricKey(raw)  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyError):
        crypto.encrypt_symmetric(raw, b"x")  # type: ignore[arg-type]


def test_key_objects_of_the_other_kind_are_refused(
    key_pair: crypto.KeyPair,
) -> None:
    with pytest.raises(InvalidKeyError):
        crypto.encrypt_symmetric(key_pair.public_key, b"x")  # type: ignore[arg-type]


def test_repr_and_str_never_show_key_material() -> None:
    key = crypto.generate_symmetric_key(256)
    material = {key.to_bytes().hex(), _b64url(key.to_bytes()), _b64(key.to_bytes())}

    for text in (repr(key), str(key), f"{key}", f"{[key]}"):
        assert text == "SymmetricKey(bits=256)" or text == "[SymmetricKey(bits=256)]"
        assert not any(m in text for m in material)


def test_keys_compare_by_value_and_survive_pickling() -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, b"payload")

    clone = pickle.loads(pickle.dumps(key))  # noqa: S301

    assert clone == key
    assert hash(clone) == hash(key)
    assert clone != crypto.generate_symmetric_key()
    assert crypto.decrypt_symmetric(clone, cipher) == b"payload"


@pytest.mark.parametrize("bits", [0, 64, 512, 127, "128", True])
def test_generate_refuses_sizes_aes_does_not_have(bits: object) -> None:
    with pytest.raises(InvalidInputError, match="bits"):
        crypto.generate_symmetric_key(bits)  # type: ignore[arg-type]


@pytest.mark.parametrize("plaintext", ["text", None, 12, ["a"]])
def test_plaintext_must_be_bytes(plaintext: object) -> None:
    with pytest.raises(InvalidInputError, match="plaintext"):
        crypto.encrypt_symmetric(crypto.generate_symmetric_key(), plaintext)  # type: ignore[arg-type]


def test_bytearray_and_memoryview_plaintexts_are_accepted() -> None:
    key = crypto.generate_symmetric_key()

    for plaintext in (bytearray(b"abc"), memoryview(b"abc")):
        assert crypto.decrypt_symmetric(key, crypto.encrypt_symmetric(key, plaintext)) == b"abc"


# --- properties ----------------------------------------------------------------------------

_KEY = crypto.generate_symmetric_key()


@given(st.binary(max_size=2048), st.booleans())
def test_any_bytes_round_trip(plaintext: bytes, compress: bool) -> None:
    cipher = crypto.encrypt_symmetric(_KEY, plaintext, compress=compress)

    assert crypto.decrypt_symmetric(_KEY, cipher, compressed=compress) == plaintext


@given(st.text(max_size=500))
def test_any_unicode_json_round_trips(text: str) -> None:
    plaintext = json.dumps({"title": text}, ensure_ascii=False).encode("utf-8")

    cipher = crypto.encrypt_symmetric(_KEY.to_jwk(), plaintext)

    assert json.loads(crypto.decrypt_symmetric(_KEY.to_jwk(), cipher))["title"] == text


@given(st.text(max_size=200))
def test_arbitrary_cipher_text_never_yields_plaintext_or_a_foreign_error(text: str) -> None:
    with pytest.raises(OffenError):
        crypto.decrypt_symmetric(_KEY, text)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
_jwk_like = st.fixed_dictionaries(
    {},
    optional={
        "kty": st.sampled_from(["oct", "RSA", ""]) | st.text(max_size=4),
        "k": st.sampled_from([_b64url(bytes(16)), _b64url(bytes(32)), ""]) | st.text(max_size=44),
        "alg": st.sampled_from(["A128GCM", "A256GCM"]) | _json_values,
        "key_ops": st.just(["encrypt", "decrypt"]) | _json_values,
        "ext": _json_values,
        "use": _json_values,
    },
)


@given(_jwk_like | _json_values | st.binary())
def test_aes_jwk_importer_fed_arbitrary_objects_raises_only_offen_errors(value: object) -> None:
    try:
        key = SymmetricKey.from_jwk(value)  # type: ignore[arg-type]
    except OffenError:
        return
    assert key.bits in (128, 256)


@given(st.text(max_size=300))
def test_aes_jwk_importer_fed_arbitrary_text_raises_only_offen_errors(text: str) -> None:
    with pytest.raises(OffenError):
        SymmetricKey.from_jwk(text)
