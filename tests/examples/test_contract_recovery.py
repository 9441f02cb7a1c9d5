# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Contract: recovery-key mode (OFFEN_CORE_RECOVERY_KEYS) on both servers.

Setup hands out the first operator's recovery key once; POST /api/recover sets a new password
with it; the email-based reset routes are closed in this mode.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from example_helpers import ACCOUNT_NAME, EMAIL, PASSWORD, Server, log_in

from offen_core.server.recovery import RECOVERY_KEY_BYTES, format_recovery_key

NEW_PASSWORD = "recovered passphrase"


@pytest.fixture
def recovery_server(make_server: Callable[..., Server]) -> Server:
    """A server of each framework in recovery-key mode, each request in a new throttle window."""
    server = make_server(recovery_keys=True)
    server.ticking()
    return server


def test_setup_answers_the_recovery_key_once_and_recover_sets_a_new_password(
    recovery_server: Server,
) -> None:
    client = recovery_server.client
    setup = client.post(
        "/api/setup",
        json={"accountName": ACCOUNT_NAME, "emailAddress": EMAIL, "password": PASSWORD},
    )
    assert setup.status_code == 200, setup.text
    recovery_key = setup.json()["recoveryKey"]
    assert isinstance(recovery_key, str)
    assert len(recovery_key) > 40

    other_key = format_recovery_key(secrets.token_bytes(RECOVERY_KEY_BYTES))
    wrong = client.post(
        "/api/recover",
        json={"emailAddress": EMAIL, "recoveryKey": other_key, "password": NEW_PASSWORD},
    )
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["status"] == 401
    mistyped = client.post(
        "/api/recover",
        json={"emailAddress": EMAIL, "recoveryKey": recovery_key[:-5], "password": NEW_PASSWORD},
    )
    assert mistyped.status_code == 400, mistyped.text
    assert log_in(client, EMAIL, PASSWORD).status_code == 200

    recovered = client.post(
        "/api/recover",
        json={"emailAddress": EMAIL, "recoveryKey": recovery_key, "password": NEW_PASSWORD},
    )
    assert recovered.status_code == 204, recovered.text
    assert log_in(client, EMAIL, PASSWORD).status_code == 401
    assert log_in(client, EMAIL, NEW_PASSWORD).status_code == 200


def test_recover_checks_its_body_and_the_email_reset_routes_are_closed(
    recovery_server: Server,
) -> None:
    client = recovery_server.client
    missing = client.post("/api/recover", json={"emailAddress": EMAIL})
    assert missing.status_code == 400
    assert missing.json()["status"] == 400

    some_key = format_recovery_key(secrets.token_bytes(RECOVERY_KEY_BYTES))
    unknown = client.post(
        "/api/recover",
        json={"emailAddress": "nobody@example.org", "recoveryKey": some_key, "password": PASSWORD},
    )
    assert unknown.status_code == 401

    forgot = client.post("/api/forgot-password", json={"emailAddress": EMAIL})
    assert forgot.status_code == 404
    assert forgot.json()["status"] == 404
