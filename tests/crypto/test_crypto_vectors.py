# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Every case of Offen's interoperability vectors, one test per case id.

The case ids are read at collection time so that each shows in the test name; the data
itself comes from the ``offen_vectors`` fixture, which skips (or fails, when services are
required) if the vectors folder is absent.
"""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from offen_core import crypto
from offen_core.errors import OffenError

_PATH = Path(
    os.environ.get(
        "OFFEN_CORE_VECTORS",
        Path(__file__).resolve().parents[3] / "shared" / "interop" / "offen-vectors.json",
    )
)
_MISSING = "vectors-missing"


def _ids(section: str) -> list[str]:
    """The case ids of one section, or a placeholder that the fixture then skips."""
    if not _PATH.is_file():
        return [_MISSING]
    cases = json.loads(_PATH.read_text(encoding="utf-8"))[section]
    return [case["id"] for case in cases]


def _compare_ids() -> list[str]:
    if not _PATH.is_file():
        return [_MISSING]
    cases = json.loads(_PATH.read_text(encoding="utf-8"))["argon2_password_hash_cases"]
    return [f"{case['id']}-{i}" for case in cases for i in range(len(case["compare_checks"]))]


def _case(vectors: dict[str, Any], section: str, case_id: str) -> dict[str, Any]:
    matches = [case for case in vectors[section] if case["id"] == case_id]
    assert len(matches) == 1, f"{case_id} is not a unique case of {section}"
    return matches[0]


@cache
def _private_key(jwk_json: str) -> crypto.PrivateKey:
    # Imported once per key for the whole module: a full validation costs ~0.2 s.
    return crypto.PrivateKey.from_jwk(jwk_json)


def _keys(vectors: dict[str, Any]) -> dict[str, crypto.PrivateKey]:
    return {
        pair["id"]: _private_key(json.dumps(pair["private_jwk"], sort_keys=True))
        for pair in vectors["rsa_keypairs"]
    }


def _secret(vectors: dict[str, Any], secret_id: str) -> dict[str, Any]:
    jwk: dict[str, Any] = _case(vectors, "user_secrets", secret_id)["jwk"]
    return jwk


def test_vectors_hold_the_number_of_cases_they_announce(offen_vectors: dict[str, Any]) -> None:
    summary = offen_vectors["summary"]
    for section in (
        "rsa_keypairs",
        "user_secrets",
        "asymmetric_cases",
        "symmetric_cases",
        "negative_cases",
        "argon2_derive_key_cases",
        "argon2_password_hash_cases",
        "hash_fast_cases",
    ):
        assert len(offen_vectors[section]) == summary[section], section


@pytest.mark.parametrize("case_id", _ids("symmetric_cases"))
def test_symmetric_case_decrypts_to_the_recorded_payload(
    offen_vectors: dict[str, Any], case_id: str
) -> None:
    case = _case(offen_vectors, "symmetric_cases", case_id)
    jwk = _secret(offen_vectors, case["secret_id"])

    for key in (jwk, json.dumps(jwk), crypto.SymmetricKey.from_jwk(jwk)):
        plaintext = crypto.decrypt_symmetric(key, case["ciphertext"], compressed=case["compressed"])
        assert plaintext.decode("utf-8") == case["plaintext_serialized"]
        assert json.loads(plaintext) == case["plaintext"]


@pytest.mark.parametrize("case_id", _ids("symmetric_cases"))
def test_symmetric_case_header_and_sizes_match_the_record(
    offen_vectors: dict[str, Any], case_id: str
) -> None:
    case = _case(offen_vectors, "symmetric_cases", case_id)

    parsed = crypto.parse_cipher_string(case["ciphertext"])

    assert parsed.algo == crypto.AES_GCM_ALGO
    assert parsed.nonce is not None
    assert len(parsed.nonce) == case["nonce_bytes"]
    assert len(parsed.cipher) == case["ciphertext_bytes_including_16_byte_tag"]
    assert str(parsed) == case["ciphertext"]


@pytest.mark.parametrize("case_id", _ids("asymmetric_cases"))
def test_asymmetric_case_unwraps_to_the_recorded_value(
    offen_vectors: dict[str, Any], case_id: str
) -> None:
    case = _case(offen_vectors, "asymmetric_cases", case_id)
    key = _keys(offen_vectors)[case["keypair_id"]]

    plaintext = crypto.decrypt_asymmetric(key, case["ciphertext"])

    assert plaintext.decode("utf-8") == case["plaintext_serialized"]
    assert json.loads(plaintext) == case["plaintext"]
    assert len(crypto.parse_cipher_string(case["ciphertext"]).cipher) == case["ciphertext_bytes"]


@pytest.mark.parametrize("case_id", _ids("asymmetric_cases"))
def test_asymmetric_case_unwrapped_user_secret_is_usable(
    offen_vectors: dict[str, Any], case_id: str
) -> None:
    case = _case(offen_vectors, "asymmetric_cases", case_id)
    key = _keys(offen_vectors)[case["keypair_id"]]
    plaintext = json.loads(crypto.decrypt_asymmetric(key, case["ciphertext"]))
    if not isinstance(plaintext, dict):
        # asym-8 wraps a plain JSON string rather than a user secret.
        assert plaintext == case["plaintext"]
        return

    secret = crypto.SymmetricKey.from_jwk(plaintext)
    cipher = crypto.encrypt_symmetric(secret, b'{"type":"PAGEVIEW"}')

    assert crypto.decrypt_symmetric(plaintext, cipher) == b'{"type":"PAGEVIEW"}'


@pytest.mark.parametrize("pair_id", _ids("rsa_keypairs"))
def test_key_pair_round_trips_through_jwk_and_wraps_for_itself(
    offen_vectors: dict[str, Any], pair_id: str
) -> None:
    pair = _case(offen_vectors, "rsa_keypairs", pair_id)
    private = _keys(offen_vectors)[pair_id]
    public = crypto.PublicKey.from_jwk(pair["public_jwk"])

    assert private.key_size == public.key_size == pair["bits"]
    assert public.to_jwk() == pair["public_jwk"]
    assert private.to_jwk() == pair["private_jwk"]
    assert private.public_key() == public
    wrapped = crypto.encrypt_asymmetric(pair["public_jwk"], b"user secret")
    assert crypto.decrypt_asymmetric(private, wrapped) == b"user secret"


@pytest.mark.parametrize("secret_id", _ids("user_secrets"))
def test_user_secret_imports_and_exports_in_webcrypto_shape(
    offen_vectors: dict[str, Any], secret_id: str
) -> None:
    jwk = _secret(offen_vectors, secret_id)

    key = crypto.SymmetricKey.from_jwk(jwk)

    assert key.bits == _case(offen_vectors, "user_secrets", secret_id)["key_bits"]
    exported = key.to_jwk()
    assert exported["k"] == jwk["k"]
    assert exported == {
        "alg": "A128GCM",
        "ext": True,
        "k": jwk["k"],
        "key_ops": ["encrypt", "decrypt"],
        "kty": "oct",
    }


@pytest.mark.parametrize("case_id", _ids("argon2_derive_key_cases"))
def test_derive_key_case_gives_the_recorded_key(
    offen_vectors: dict[str, Any], case_id: str
) -> None:
    case = _case(offen_vectors, "argon2_derive_key_cases", case_id)
    params = case["argon2id_params"]

    key = crypto.derive_key(case["value"], case["versioned_salt"], threads=params["threads"])

    assert base64.b64encode(key).decode() == case["expected_key_base64"]
    assert crypto.needs_upgrade(case["versioned_salt"]) is (case["algo_version"] != 3)


@pytest.mark.parametrize("check_id", _compare_ids())
def test_password_hash_case_matches_only_the_right_candidate(
    offen_vectors: dict[str, Any], check_id: str
) -> None:
    case_id, _, index = check_id.rpartition("-")
    case = _case(offen_vectors, "argon2_password_hash_cases", case_id)
    check = case["compare_checks"][int(index)]
    threads = case["argon2id_params"]["threads"]

    matched = crypto.verify_password(check["candidate"], case["versioned_hash"], threads=threads)

    assert matched is check["expected_match"]


@pytest.mark.parametrize("case_id", _ids("hash_fast_cases"))
def test_hash_fast_case_gives_the_recorded_hex(offen_vectors: dict[str, Any], case_id: str) -> None:
    case = _case(offen_vectors, "hash_fast_cases", case_id)

    assert crypto.hash_fast(case["value"], case["versioned_salt"]) == case["expected_hex"]


def _run_negative(vectors: dict[str, Any], case: dict[str, Any]) -> object:
    operation = case["operation"]
    if operation == "decrypt_symmetric":
        key = crypto.SymmetricKey.from_jwk(_secret(vectors, case["secret_id"]))
        return crypto.decrypt_symmetric(key, case["ciphertext"], compressed=case["compressed"])
    if operation == "decrypt_asymmetric":
        return crypto.decrypt_asymmetric(_keys(vectors)[case["keypair_id"]], case["ciphertext"])
    if operation == "derive_key":
        return crypto.derive_key(case["value"], case["versioned_salt"])
    if operation == "compare_string":
        return crypto.verify_password(case["candidate"], case["versioned_hash"])
    if operation == "hash_fast":
        return crypto.hash_fast(case["value"], case["versioned_salt"])
    raise AssertionError(f"unknown operation {operation}")


_EXPECTED_ERROR = {
    "flipped_ciphertext_byte": "DecryptionError",
    "flipped_tag_byte": "DecryptionError",
    "flipped_nonce_byte": "DecryptionError",
    "wrong_key": "DecryptionError",
    "compression_flag_mismatch": "DecryptionError",
    "malformed_versioned_cipher": "MalformedCipherError",
    "unknown_algo_version": "UnsupportedAlgorithmError",
}


@pytest.mark.parametrize("case_id", _ids("negative_cases"))
def test_negative_case_is_rejected_with_the_fitting_error(
    offen_vectors: dict[str, Any], case_id: str
) -> None:
    case = _case(offen_vectors, "negative_cases", case_id)
    assert case["expected_outcome"] == "error"

    with pytest.raises(OffenError) as excinfo:
        _run_negative(offen_vectors, case)

    assert type(excinfo.value).__name__ == _EXPECTED_ERROR[case["kind"]]
    assert str(excinfo.value)
