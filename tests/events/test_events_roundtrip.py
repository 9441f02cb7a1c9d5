# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Round trips through offen_core.crypto, and Offen's own payloads from the test vectors.

The vectors come from the ``offen_vectors`` fixture, which skips (or fails, when services
are required) if ``../shared/interop/offen-vectors.json`` is absent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offen_core import crypto
from offen_core.errors import CryptoError
from offen_core.events import (
    DecryptedEvent,
    EncryptedEvent,
    new_ulid,
    parse_page_view,
    serialize_page_view,
    validate_encrypted_secret,
    validate_payload_cipher,
)

ACCOUNT_ID = "9b63c4d4-d5d6-4d24-9f1f-0d9c02b9b1f0"


def test_every_vector_payload_validates_and_keeps_its_members(
    offen_vectors: dict[str, Any],
) -> None:
    cases = offen_vectors["symmetric_cases"]
    assert cases

    for case in cases:
        view = parse_page_view(case["plaintext_serialized"].encode())

        assert view == parse_page_view(case["plaintext"]), case["id"]
        written = json.loads(serialize_page_view(view))
        for key, value in case["plaintext"].items():
            assert written[key] == value, (case["id"], key)


def test_every_vector_cipher_has_the_shape_the_server_accepts(
    offen_vectors: dict[str, Any],
) -> None:
    for case in offen_vectors["symmetric_cases"]:
        assert validate_payload_cipher(case["ciphertext"]) == case["ciphertext"]
        assert EncryptedEvent(account_id=ACCOUNT_ID, payload=case["ciphertext"]).payload
    wrapped = [c["ciphertext"] for c in offen_vectors["asymmetric_cases"]]
    assert wrapped
    for cipher in wrapped:
        assert validate_encrypted_secret(cipher) == cipher


def test_vector_ciphers_decrypt_into_valid_page_views(offen_vectors: dict[str, Any]) -> None:
    secrets = {
        s["id"]: crypto.SymmetricKey.from_jwk(s["jwk"]) for s in offen_vectors["user_secrets"]
    }

    for case in offen_vectors["symmetric_cases"]:
        plaintext = crypto.decrypt_symmetric(
            secrets[case["secret_id"]], case["ciphertext"], compressed=case["compressed"]
        )

        event = DecryptedEvent(
            event_id=new_ulid(), account_id=ACCOUNT_ID, payload=parse_page_view(plaintext)
        )
        assert event.payload == parse_page_view(case["plaintext"]), case["id"]


def test_vector_payloads_survive_serialise_encrypt_decrypt_parse(
    offen_vectors: dict[str, Any],
) -> None:
    key = crypto.generate_symmetric_key()

    for case in offen_vectors["symmetric_cases"]:
        original = parse_page_view(case["plaintext"])

        cipher = crypto.encrypt_symmetric(key, serialize_page_view(original))
        posted = EncryptedEvent.model_validate_json(
            json.dumps({"accountId": ACCOUNT_ID, "payload": cipher})
        )
        again = parse_page_view(crypto.decrypt_symmetric(key, posted.payload))

        assert again == original, case["id"]


_url = st.from_regex(r"\Ahttps://[a-z]{1,12}\.example/[a-zA-Z0-9/%?=&_-]{0,60}\Z")


@settings(max_examples=25)
@given(
    st.fixed_dictionaries(
        {"type": st.just("PAGEVIEW"), "href": _url, "isMobile": st.booleans()},
        optional={
            "referrer": st.one_of(st.just(""), _url),
            "pageload": st.one_of(st.none(), st.integers(0, 60_000)),
            "rawHref": _url,
            "sessionId": st.uuids().map(str),
            "geo": st.one_of(st.none(), st.sampled_from(["DE", "FR", "US"])),
            "title": st.text(max_size=30),
        },
    ),
    st.booleans(),
)
def test_generated_payloads_survive_the_crypto_round_trip(
    payload: dict[str, Any], compress: bool
) -> None:
    key = crypto.generate_symmetric_key()
    original = parse_page_view(payload)

    cipher = crypto.encrypt_symmetric(key, serialize_page_view(original), compress=compress)

    assert validate_payload_cipher(cipher) == cipher
    decrypted = crypto.decrypt_symmetric(key, cipher, compressed=compress)
    assert parse_page_view(decrypted) == original


@pytest.mark.parametrize("tamper", [lambda c: c[:-2] + "A=", lambda c: c.replace("{1,}", "{9,}")])
def test_a_tampered_cipher_never_yields_a_page_view(tamper: Any) -> None:
    key = crypto.generate_symmetric_key()
    cipher = crypto.encrypt_symmetric(key, serialize_page_view(parse_page_view({"href": "a:b"})))

    with pytest.raises(CryptoError):
        parse_page_view(crypto.decrypt_symmetric(key, tamper(cipher)))
