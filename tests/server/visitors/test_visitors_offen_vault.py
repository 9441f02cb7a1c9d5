# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The server accepts exactly what Offen's browser vault sends (from the interop vectors)."""

from __future__ import annotations

from typing import Any

from visitor_helpers import count_rows, make_account

from offen_core import client
from offen_core.crypto import (
    KeyPair,
    PrivateKey,
    decrypt_asymmetric,
    hash_fast,
    parse_cipher_string,
)
from offen_core.server.visitors import VisitorFlows
from offen_core.storage import Store

VISITOR = "e3b0c442-98fc-4c14-9afb-f4c8996fb924"


def test_vault_exchanges_and_events_round_trip(
    store: Store, flows: VisitorFlows, offen_vectors: dict[str, Any]
) -> None:
    pairs = {item["id"]: item for item in offen_vectors["rsa_keypairs"]}
    secrets = {item["id"]: item["jwk"] for item in offen_vectors["user_secrets"]}
    by_secret: dict[str, list[dict[str, Any]]] = {}
    for case in offen_vectors["symmetric_cases"]:
        if not case["compressed"]:
            by_secret.setdefault(case["secret_id"], []).append(case)
    exchanges = [c for c in offen_vectors["asymmetric_cases"] if isinstance(c["plaintext"], dict)]
    assert exchanges

    for case in exchanges:
        secret_name = next(n for n, jwk in secrets.items() if jwk == case["plaintext"])
        vectors = pairs[case["keypair_id"]]
        private = PrivateKey.from_jwk(vectors["private_jwk"])
        account, _ = make_account(store, pair=KeyPair(private, private.public_key()))

        flows.exchange(
            VISITOR, {"accountId": account.account_id, "encryptedSecret": case["ciphertext"]}
        )
        stored = store.get_secret(hash_fast(VISITOR, account.user_salt))
        assert parse_cipher_string(stored).key_version == 1
        assert decrypt_asymmetric(private, stored) == case["plaintext_serialized"].encode()

        for event in by_secret[secret_name]:
            body = {"accountId": account.account_id, "payload": event["ciphertext"]}
            assert flows.post_event(VISITOR, True, body).stored, event["id"]
        served = flows.events(VISITOR).body()["events"][account.account_id]
        assert {item["payload"] for item in served} == {
            event["ciphertext"] for event in by_secret[secret_name]
        }
        for item in served:
            view = client.decrypt_own_event(case["plaintext"], item["payload"])
            assert view.type == "PAGEVIEW"
        flows.purge(VISITOR)

    assert count_rows(store, "events") == 0
