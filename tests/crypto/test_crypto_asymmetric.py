# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""RSA-OAEP-SHA256: JWK import and export, wrapping, key versions, tampering, hostile keys."""

from __future__ import annotations

import base64
import json
import pickle
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from offen_core import crypto
from offen_core.crypto import KeyPair, PrivateKey, PublicKey
from offen_core.errors import (
    DecryptionError,
    InvalidInputError,
    InvalidKeyError,
    MalformedCipherError,
    OffenError,
    UnsupportedAlgorithmError,
)
from offen_core.testing import shared_key_pair_pool

ALICE_BOB = "alice \u2013 bob \u2714\ufe0f"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _int_b64url(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@pytest.fixture(scope="module")
def small_private_jwk() -> dict[str, str]:
    """A 1024-bit key (fast to make), which the library must refuse."""
    numbers = rsa.generate_private_key(65537, 1024).private_numbers()  # noqa: S505
    return {
        "kty": "RSA",
        "n": _int_b64url(numbers.public_numbers.n),
        "e": _int_b64url(numbers.public_numbers.e),
        "d": _int_b64url(numbers.d),
        "p": _int_b64url(numbers.p),
        "q": _int_b64url(numbers.q),
        "dp": _int_b64url(numbers.dmp1),
        "dq": _int_b64url(numbers.dmq1),
        "qi": _int_b64url(numbers.iqmp),
    }


# --- round trips ---------------------------------------------------------------------------


def test_round_trip_of_offens_test_string(key_pair: KeyPair) -> None:
    plaintext = json.dumps(ALICE_BOB, ensure_ascii=False).encode()

    cipher = crypto.encrypt_asymmetric(key_pair.public_key, plaintext)

    assert json.loads(crypto.decrypt_asymmetric(key_pair.private_key, cipher)) == ALICE_BOB


def test_cipher_has_offens_shape_and_bare_oaep_sha256_opens_it(key_pair: KeyPair) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"user secret")

    header, chunk = cipher.split(" ")
    assert header == "{1,}"
    bare = key_pair.private_key._key
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    assert bare.decrypt(base64.b64decode(chunk), oaep) == b"user secret"


def test_bare_oaep_sha256_ciphertext_decrypts(key_pair: KeyPair) -> None:
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    sealed = key_pair.public_key._key.encrypt(b"from elsewhere", oaep)

    cipher = "{1,} " + base64.b64encode(sealed).decode()

    assert crypto.decrypt_asymmetric(key_pair.private_key, cipher) == b"from elsewhere"


def test_sha1_oaep_is_not_accepted(key_pair: KeyPair) -> None:
    oaep = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)  # noqa: S303
    sealed = key_pair.public_key._key.encrypt(b"sha1", oaep)

    with pytest.raises(DecryptionError):
        crypto.decrypt_asymmetric(key_pair.private_key, "{1,} " + base64.b64encode(sealed).decode())


@pytest.mark.parametrize("form", ["object", "dict", "json", "private-object"])
def test_every_public_key_form_encrypts(key_pair: KeyPair, form: str) -> None:
    key: Any = {
        "object": key_pair.public_key,
        "dict": key_pair.public_key.to_jwk(),
        "json": json.dumps(key_pair.public_key.to_jwk()),
        "private-object": key_pair.private_key,
    }[form]

    cipher = crypto.encrypt_asymmetric(key, b"x")

    assert crypto.decrypt_asymmetric(key_pair.private_key, cipher) == b"x"


@pytest.mark.parametrize("form", ["dict", "json"])
def test_private_jwk_forms_decrypt(key_pair: KeyPair, form: str) -> None:
    jwk = key_pair.private_key.to_jwk()
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x")

    key = jwk if form == "dict" else json.dumps(jwk)

    assert crypto.decrypt_asymmetric(key, cipher) == b"x"


@pytest.mark.parametrize("version", [0, 1, 7, 999_999_999])
def test_key_version_is_written_when_asked_and_read_back(key_pair: KeyPair, version: int) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x", key_version=version)

    assert cipher.startswith(f"{{1,{version}}} ")
    assert crypto.parse_cipher_string(cipher).key_version == version
    assert crypto.decrypt_asymmetric(key_pair.private_key, cipher) == b"x"


@pytest.mark.parametrize("version", [-1, 10**9, "1", 1.0, True])
def test_key_version_must_fit_the_grammar(key_pair: KeyPair, version: object) -> None:
    with pytest.raises(InvalidInputError, match="key_version"):
        crypto.encrypt_asymmetric(key_pair.public_key, b"x", key_version=version)  # type: ignore[arg-type]


def test_plaintext_longer_than_oaep_allows_is_refused(key_pair: KeyPair) -> None:
    limit = key_pair.public_key.key_size // 8 - 66

    crypto.encrypt_asymmetric(key_pair.public_key, bytes(limit))
    with pytest.raises(InvalidInputError, match=f"at most {limit} bytes"):
        crypto.encrypt_asymmetric(key_pair.public_key, bytes(limit + 1))


@pytest.mark.parametrize("plaintext", ["text", None, 3])
def test_plaintext_must_be_bytes(key_pair: KeyPair, plaintext: object) -> None:
    with pytest.raises(InvalidInputError, match="plaintext"):
        crypto.encrypt_asymmetric(key_pair.public_key, plaintext)  # type: ignore[arg-type]


# --- failures ------------------------------------------------------------------------------


def test_flipping_any_single_byte_is_detected(key_pair: KeyPair) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b'{"kty":"oct"}')
    sealed = crypto.parse_cipher_string(cipher).cipher

    for index in range(len(sealed)):
        flipped = bytearray(sealed)
        flipped[index] ^= 0x01
        tampered = str(crypto.CipherString(1, None, bytes(flipped), None))
        with pytest.raises(DecryptionError):
            crypto.decrypt_asymmetric(key_pair.private_key, tampered)


def test_wrong_key_of_the_same_size_fails(key_pair: KeyPair, other_key_pair: KeyPair) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x")

    with pytest.raises(DecryptionError):
        crypto.decrypt_asymmetric(other_key_pair.private_key, cipher)


def test_truncated_ciphertext_fails(key_pair: KeyPair) -> None:
    sealed = crypto.parse_cipher_string(crypto.encrypt_asymmetric(key_pair.public_key, b"x"))

    truncated = str(crypto.CipherString(1, None, sealed.cipher[:-1], None))

    with pytest.raises(DecryptionError, match="bytes"):
        crypto.decrypt_asymmetric(key_pair.private_key, truncated)


def test_unknown_algo_version_is_refused(key_pair: KeyPair) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x")

    with pytest.raises(UnsupportedAlgorithmError, match="version 2"):
        crypto.decrypt_asymmetric(key_pair.private_key, "{2,}" + cipher[4:])


def test_a_nonce_chunk_is_malformed_for_rsa(key_pair: KeyPair) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x")

    with pytest.raises(MalformedCipherError, match="no nonce"):
        crypto.decrypt_asymmetric(key_pair.private_key, cipher + " AAAAAAAAAAAAAAAA")


def test_public_key_cannot_decrypt(key_pair: KeyPair) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x")

    with pytest.raises(InvalidKeyError, match="private key"):
        crypto.decrypt_asymmetric(key_pair.public_key, cipher)  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyError):
        crypto.decrypt_asymmetric(key_pair.public_key.to_jwk(), cipher)


# --- JWKs ----------------------------------------------------------------------------------


def test_exported_jwks_have_the_go_servers_shape(key_pair: KeyPair) -> None:
    public = key_pair.public_key.to_jwk()
    private = key_pair.private_key.to_jwk()

    assert sorted(public) == ["e", "kty", "n"]
    assert sorted(private) == ["d", "dp", "dq", "e", "kty", "n", "p", "q", "qi"]
    assert public["e"] == "AQAB"
    assert public["kty"] == private["kty"] == "RSA"
    assert public["n"] == private["n"]
    assert all(
        "=" not in value and "+" not in value and "/" not in value for value in private.values()
    )
    assert PublicKey.from_jwk(public) == key_pair.public_key
    assert PrivateKey.from_jwk(private) == key_pair.private_key


def test_webcrypto_style_members_are_accepted(key_pair: KeyPair) -> None:
    public = {
        **key_pair.public_key.to_jwk(),
        "alg": "RSA-OAEP-256",
        "ext": True,
        "key_ops": ["encrypt"],
    }
    private = {
        **key_pair.private_key.to_jwk(),
        "alg": "RSA-OAEP-256",
        "ext": True,
        "key_ops": ["decrypt"],
    }

    cipher = crypto.encrypt_asymmetric(public, b"x")

    assert crypto.decrypt_asymmetric(private, cipher) == b"x"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kty": "oct"}, "kty"),
        ({"alg": "RSA-OAEP"}, "RSA-OAEP-256"),
        ({"key_ops": ["sign"]}, "key_ops"),
        ({"use": "sig"}, '"use"'),
        ({"n": None}, '"n"'),
        ({"e": "AQAB=="}, '"e"'),
        ({"e": _int_b64url(65536)}, "exponent"),
        ({"e": _int_b64url(1)}, "exponent"),
        ({"e": _int_b64url(2**31 + 1)}, "exponent"),
        ({"oth": []}, "primes"),
        ({"d": "AQAB"}, "private members"),
    ],
)
def test_unusable_public_jwks_are_refused(
    key_pair: KeyPair, change: dict[str, Any], message: str
) -> None:
    jwk = {**key_pair.public_key.to_jwk(), **change}
    jwk = {name: value for name, value in jwk.items() if value is not None}

    with pytest.raises(InvalidKeyError, match=message):
        PublicKey.from_jwk(jwk)


def test_modulus_of_16385_bits_is_refused() -> None:
    jwk = {"kty": "RSA", "e": "AQAB", "n": _int_b64url(2**16384 + 1)}

    with pytest.raises(InvalidKeyError, match="at most 16384"):
        PublicKey.from_jwk(jwk)


def test_keys_under_2048_bits_are_refused(small_private_jwk: dict[str, str]) -> None:
    public = {name: small_private_jwk[name] for name in ("kty", "n", "e")}

    with pytest.raises(InvalidKeyError, match="1024-bit modulus; at least 2048"):
        PublicKey.from_jwk(public)
    with pytest.raises(InvalidKeyError, match="at least 2048"):
        PrivateKey.from_jwk(small_private_jwk)
    with pytest.raises(InvalidKeyError, match="at least 2048"):
        crypto.encrypt_asymmetric(public, b"x")


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi"])
@pytest.mark.parametrize("validate", [True, False])
def test_inconsistent_private_members_are_refused_even_without_validation(
    key_pair: KeyPair, member: str, validate: bool
) -> None:
    jwk = key_pair.private_key.to_jwk()
    value = int.from_bytes(base64.urlsafe_b64decode(jwk[member] + "=="), "big")
    jwk[member] = _int_b64url(value + 2)

    with pytest.raises(InvalidKeyError, match="inconsistent"):
        PrivateKey.from_jwk(jwk, validate=validate)


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi"])
def test_private_jwk_missing_a_member_is_refused(key_pair: KeyPair, member: str) -> None:
    jwk = key_pair.private_key.to_jwk()
    del jwk[member]

    with pytest.raises(InvalidKeyError, match=f'"{member}"'):
        PrivateKey.from_jwk(jwk)


def test_full_validation_catches_a_composite_prime_that_cheap_checks_cannot(
    key_pair: KeyPair,
) -> None:
    # n = p * q with q composite: the members are consistent, but this is no RSA key.
    p = key_pair.private_key._key.private_numbers().p
    q = 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23 * 29 * 31 * 37 * 41 * 43 * 47 * 53 * 59 * 61 * 67
    while (p * q).bit_length() < 2048:
        q *= 71
    n, e = p * q, 65537
    phi = (p - 1) * (q - 1)
    d = pow(e, -1, phi)  # 65537 is prime; it divides phi with negligible probability
    jwk = {
        "kty": "RSA",
        "n": _int_b64url(n),
        "e": _int_b64url(e),
        "d": _int_b64url(d),
        "p": _int_b64url(p),
        "q": _int_b64url(q),
        "dp": _int_b64url(d % (p - 1)),
        "dq": _int_b64url(d % (q - 1)),
        "qi": _int_b64url(pow(q, -1, p)),
    }

    with pytest.raises(InvalidKeyError, match="valid RSA key"):
        PrivateKey.from_jwk(jwk)


def test_skipping_validation_gives_the_same_working_key(key_pair: KeyPair) -> None:
    jwk = key_pair.private_key.to_jwk()
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x")

    trusted = PrivateKey.from_jwk(jwk, validate=False)

    assert trusted == key_pair.private_key
    assert crypto.decrypt_asymmetric(trusted, cipher) == b"x"


def test_repr_and_str_show_the_size_only(key_pair: KeyPair) -> None:
    private_jwk = key_pair.private_key.to_jwk()

    for key, name in ((key_pair.private_key, "PrivateKey"), (key_pair.public_key, "PublicKey")):
        assert repr(key) == str(key) == f"{name}(bits=2048)"
        assert not any(value[:16] in repr(key) for value in private_jwk.values() if len(value) > 8)


def test_key_objects_survive_pickling(key_pair: KeyPair) -> None:
    cipher = crypto.encrypt_asymmetric(key_pair.public_key, b"x")

    private = pickle.loads(pickle.dumps(key_pair.private_key))  # noqa: S301
    public = pickle.loads(pickle.dumps(key_pair.public_key))  # noqa: S301

    assert private == key_pair.private_key
    assert public == key_pair.public_key
    assert hash(public) == hash(key_pair.public_key)
    assert crypto.decrypt_asymmetric(private, crypto.encrypt_asymmetric(public, b"y")) == b"y"
    assert crypto.decrypt_asymmetric(private, cipher) == b"x"


def test_public_key_of_private_key_matches(key_pair: KeyPair) -> None:
    assert key_pair.private_key.public_key() == key_pair.public_key
    assert key_pair.private_key.key_size == key_pair.public_key.key_size == 2048


@pytest.mark.parametrize("bits", [1024, 2047, 2049, 16392, "2048", True])
def test_generate_refuses_unusable_sizes(bits: object) -> None:
    with pytest.raises(InvalidInputError, match="bits"):
        crypto.generate_key_pair(bits)  # type: ignore[arg-type]


# --- hostile input -------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
_members = st.sampled_from(["AQAB", "", "AQAB=", "_-_-", "A"]) | st.text(max_size=12)


def _rsa_like(base: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            **{name: st.just(value) | _members | _json_values for name, value in base.items()},
            "alg": st.sampled_from(["RSA-OAEP-256", "RS256"]) | _json_values,
            "key_ops": st.sampled_from([["encrypt"], ["decrypt"], []]) | _json_values,
            "ext": _json_values,
            "oth": _json_values,
        },
    )


@given(data=st.data())
def test_rsa_jwk_importers_fed_arbitrary_objects_raise_only_offen_errors(
    data: st.DataObject, small_private_jwk: dict[str, str]
) -> None:
    value = data.draw(_rsa_like(small_private_jwk) | _json_values | st.binary(max_size=20))

    for importer in (PublicKey.from_jwk, PrivateKey.from_jwk):
        try:
            importer(value)
        except OffenError:
            continue
        pytest.fail("a key under 2048 bits or a malformed JWK was imported")


@given(st.text(max_size=300))
def test_rsa_jwk_importers_fed_arbitrary_text_raise_only_offen_errors(text: str) -> None:
    for importer in (PublicKey.from_jwk, PrivateKey.from_jwk):
        with pytest.raises(OffenError):
            importer(text)


@given(st.text(max_size=200))
def test_arbitrary_cipher_text_never_unwraps(text: str) -> None:
    with pytest.raises(OffenError):
        crypto.decrypt_asymmetric(shared_key_pair_pool().pairs[0].private_key, text)


def test_wrapping_cryptography_keys_checks_kind_and_size(
    key_pair: KeyPair, small_private_jwk: dict[str, str]
) -> None:
    raw_small = rsa.generate_private_key(65537, 1024)  # noqa: S505

    assert PublicKey(key_pair.public_key._key) == key_pair.public_key
    assert PrivateKey(key_pair.private_key._key) == key_pair.private_key
    with pytest.raises(InvalidKeyError, match="at least 2048"):
        PrivateKey(raw_small)
    with pytest.raises(InvalidKeyError, match="at least 2048"):
        PublicKey(raw_small.public_key())
    with pytest.raises(InvalidKeyError, match="RSA private key"):
        PrivateKey(key_pair.public_key._key)  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyError, match="RSA public key"):
        PublicKey(small_private_jwk)  # type: ignore[arg-type]
