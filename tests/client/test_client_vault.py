# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""What the vault does with keys and payloads, checked against Offen's own browser output."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from offen_core import client
from offen_core.crypto import (
    PrivateKey,
    SymmetricKey,
    decrypt_asymmetric,
    decrypt_symmetric,
    parse_cipher_string,
)
from offen_core.errors import DecryptionError, InvalidInputError, InvalidKeyError
from offen_core.testing import shared_key_pair_pool

PAGE_VIEW: dict[str, Any] = {
    "type": "PAGEVIEW",
    "href": "https://www.example.com/blog/",
    "referrer": "https://search.example.net/",
    "pageload": 830,
    "isMobile": True,
    "timestamp": "2026-01-05T12:00:00.000Z",
    "sessionId": "c3a2e0c2-3a6b-4a8e-bb0b-9d1d7e0c2f33",
    "geo": None,
}


def test_a_user_secret_is_aes_128_exported_as_webcrypto_does() -> None:
    secret = client.create_user_secret()

    jwk = client.user_secret_jwk(secret)

    assert secret.bits == 128
    assert list(jwk) == ["alg", "ext", "k", "key_ops", "kty"]
    assert jwk["alg"] == "A128GCM"
    assert jwk["ext"] is True
    assert jwk["key_ops"] == ["encrypt", "decrypt"]
    assert jwk["kty"] == "oct"
    assert len(jwk["k"]) == 22
    assert SymmetricKey.from_jwk(jwk) == secret
    assert client.create_user_secret() != secret


def test_wrapping_writes_the_jwk_as_json_stringify_without_a_key_version() -> None:
    pair = shared_key_pair_pool()()
    secret = client.create_user_secret()

    wrapped = client.wrap_user_secret(secret, pair.public_key.to_jwk())

    parsed = parse_cipher_string(wrapped)
    assert (parsed.algo, parsed.key_version, parsed.nonce) == (1, None, None)
    plaintext = decrypt_asymmetric(pair.private_key, wrapped)
    assert plaintext == json.dumps(client.user_secret_jwk(secret), separators=(",", ":")).encode()
    assert client.wrap_user_secret(client.user_secret_jwk(secret), pair.public_key) != wrapped


def test_wrapping_refuses_a_jwk_the_operator_could_not_import() -> None:
    pair = shared_key_pair_pool()()
    jwk = {**client.user_secret_jwk(client.create_user_secret()), "key_ops": ["encrypt"]}

    with pytest.raises(InvalidKeyError):
        client.wrap_user_secret(jwk, pair.public_key)
    with pytest.raises(InvalidKeyError):
        client.wrap_user_secret(client.create_user_secret(), {"kty": "RSA"})


def test_a_pageview_is_encrypted_as_the_vault_does() -> None:
    secret = client.create_user_secret()

    payload = client.encrypt_page_view(secret, PAGE_VIEW)

    cipher = parse_cipher_string(payload)
    assert cipher.algo == 1
    assert cipher.nonce is not None
    assert len(cipher.nonce) == 12
    assert json.loads(decrypt_symmetric(secret, payload)) == PAGE_VIEW
    assert client.encrypt_page_view(secret, PAGE_VIEW) != payload  # fresh nonce


def test_an_invalid_pageview_is_refused_before_encryption() -> None:
    with pytest.raises(InvalidInputError) as caught:
        client.encrypt_page_view(client.create_user_secret(), {**PAGE_VIEW, "href": "/relative"})

    assert caught.value.field == "href"


def test_own_events_decrypt_and_foreign_ones_fail() -> None:
    secret = client.create_user_secret()
    payload = client.encrypt_page_view(secret, PAGE_VIEW)

    view = client.decrypt_own_event(secret, payload)

    assert view.model_dump(mode="json", by_alias=True, exclude_unset=True) == PAGE_VIEW
    with pytest.raises(DecryptionError):
        client.decrypt_own_event(client.create_user_secret(), payload)


def test_vault_payloads_from_offens_browser_code_decrypt(offen_vectors: dict[str, Any]) -> None:
    secrets = {item["id"]: item["jwk"] for item in offen_vectors["user_secrets"]}
    cases = [c for c in offen_vectors["symmetric_cases"] if not c["compressed"]]
    assert cases

    for case in cases:
        view = client.decrypt_own_event(secrets[case["secret_id"]], case["ciphertext"])
        given = view.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert given == case["plaintext"], case["id"]


def test_our_payload_bytes_equal_the_vaults(offen_vectors: dict[str, Any]) -> None:
    secrets = {item["id"]: item["jwk"] for item in offen_vectors["user_secrets"]}
    cases = [c for c in offen_vectors["symmetric_cases"] if not c["compressed"]]

    for case in cases:
        key = secrets[case["secret_id"]]
        ours = client.encrypt_page_view(key, case["plaintext"])
        assert decrypt_symmetric(key, ours) == case["plaintext_serialized"].encode(), case["id"]


def test_vault_user_secrets_wrap_like_the_vault(offen_vectors: dict[str, Any]) -> None:
    cases = [c for c in offen_vectors["asymmetric_cases"] if isinstance(c["plaintext"], dict)]
    assert cases
    # Import each private key once: a JWK import with validation costs about 230 ms.
    keys = {
        item["id"]: PrivateKey.from_jwk(item["private_jwk"])
        for item in offen_vectors["rsa_keypairs"]
    }

    for case in cases:
        key = keys[case["keypair_id"]]
        ours = client.wrap_user_secret(case["plaintext"], key.public_key().to_jwk())
        theirs = decrypt_asymmetric(key, case["ciphertext"])
        assert decrypt_asymmetric(key, ours) == theirs, case["id"]
        assert theirs == case["plaintext_serialized"].encode()


def test_the_vault_functions_import_without_httpx() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None\n"
        "import offen_core.client as c\n"
        "assert c.create_user_secret().bits == 128\n"
        "try:\n"
        "    import offen_core.client.http\n"
        "except ImportError:\n"
        "    print('no-http')\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "no-http"
