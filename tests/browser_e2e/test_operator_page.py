# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The operator page in Chromium: the links of invitation and reset mails, opened and used.

Each test reads the link from the server's outbox as the operator would from their mail,
fills the page's form, and checks both what the page shows and what the server now accepts
at ``POST /api/login``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from browser_helpers import LiveServer

pytestmark = pytest.mark.browser

# A password with letters outside ASCII and outside the Basic Multilingual Plane: the page
# must send it exactly as typed.
NEW_PASSWORD = "Grüße aus dem Browser 🔑"


def _api_requests(page: Any, server: LiveServer) -> list[Any]:
    """Collect every request the page sends to the server's API, from now on."""
    sent: list[Any] = []

    def keep(request: Any) -> None:
        if request.url.startswith(f"{server.url}/api/"):
            sent.append(request)

    page.on("request", keep)
    return sent


def _fill(page: Any, email: str, password: str, repeat: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(repeat)


def _log_in(server: LiveServer, email: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=server.url) as client:
        return client.post("/api/login", json={"username": email, "password": password})


def test_an_invited_operator_joins_on_the_page_and_can_log_in(
    context: Any, server: LiveServer
) -> None:
    invitee = "joins.on.the.page@example.org"
    link = server.invite(invitee)
    page = context.new_page()
    sent = _api_requests(page, server)
    page.goto(link)

    assert page.title() == "Accept your invitation"
    assert page.get_by_role("heading", level=1).inner_text() == "Accept your invitation"
    _fill(page, invitee, NEW_PASSWORD, NEW_PASSWORD)
    page.get_by_role("button", name="Join").click()

    done = page.locator("#done-text")
    done.wait_for(state="visible")
    assert page.get_by_role("heading", name="Invitation accepted").is_visible()
    assert done.inner_text().startswith("You have joined.")
    assert page.get_by_role("link", name="Go to the start page").get_attribute("href") == "/"
    assert not page.locator("#operator-form").is_visible()
    assert not page.locator("#recovery").is_visible()
    assert page.evaluate("document.activeElement.id") == "done"
    (request,) = sent
    assert request.method == "POST"
    assert request.url == f"{server.url}/api/join"
    assert request.headers["content-type"] == "application/json"
    assert request.post_data_json == {
        "emailAddress": invitee,
        "password": NEW_PASSWORD,
        "token": unquote(urlsplit(link).path.split("/")[2]),
    }

    logged_in = _log_in(server, invitee, NEW_PASSWORD)
    assert logged_in.status_code == 200, logged_in.text
    assert [item["accountId"] for item in logged_in.json()["accounts"]] == [server.account_id]


def test_an_operator_sets_a_new_password_through_the_reset_link(
    context: Any, server: LiveServer
) -> None:
    operator = "resets.on.the.page@example.org"
    old_password = "the password before the reset"
    token = unquote(urlsplit(server.invite(operator)).path.split("/")[2])
    with httpx.Client(base_url=server.url) as client:
        joined = client.post(
            "/api/join", json={"emailAddress": operator, "password": old_password, "token": token}
        )
        assert joined.status_code == 204, joined.text
        forgot = client.post("/api/forgot-password", json={"emailAddress": operator})
        assert forgot.status_code == 204
    link = server.mailed_link(operator, "reset-password")
    page = context.new_page()
    sent = _api_requests(page, server)
    page.goto(link)

    assert page.get_by_role("heading", level=1).inner_text() == "Choose a new password"
    _fill(page, operator, NEW_PASSWORD, NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()

    done = page.locator("#done-text")
    done.wait_for(state="visible")
    assert page.get_by_role("heading", name="Password changed").is_visible()
    assert done.inner_text().startswith("Your password was changed.")
    assert [request.url for request in sent] == [f"{server.url}/api/reset-password"]
    assert _log_in(server, operator, old_password).status_code == 401
    assert _log_in(server, operator, NEW_PASSWORD).status_code == 200


def test_a_repetition_that_differs_or_a_short_password_is_refused_before_sending(
    context: Any, server: LiveServer
) -> None:
    page = context.new_page()
    sent = _api_requests(page, server)
    page.goto(f"{server.url}/join/never.sent-token/")
    error = page.get_by_role("alert")
    repeat = page.get_by_label("Repeat the new password")

    _fill(page, "someone@example.org", NEW_PASSWORD, NEW_PASSWORD + "!")
    page.get_by_role("button", name="Join").click()

    assert error.inner_text() == "The two passwords differ. Type the same password in both fields."
    assert repeat.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "password-repeat"

    # Seven characters, though String.length counts eight (the key is two UTF-16 units).
    _fill(page, "someone@example.org", "abcdef🔑", "abcdef🔑")
    page.get_by_role("button", name="Join").click()

    assert error.inner_text() == "The password must have from 8 to 64 characters; this one has 7."
    assert page.get_by_label("New password", exact=True).get_attribute("aria-invalid") == "true"
    assert repeat.get_attribute("aria-invalid") is None
    page.wait_for_timeout(300)
    assert sent == []
    assert page.locator("#operator-form").is_visible()


def test_the_servers_refusal_is_shown_with_its_message(context: Any, server: LiveServer) -> None:
    page = context.new_page()
    sent = _api_requests(page, server)
    page.goto(f"{server.url}/join/a.forged-token/")
    _fill(page, "forger@example.org", NEW_PASSWORD, NEW_PASSWORD)

    page.get_by_role("button", name="Join").click()

    error = page.get_by_role("alert")
    error.filter(has_text="token").wait_for()
    assert error.inner_text() == (
        "The invite token is not valid here: forged, damaged or of another kind."
    )
    (request,) = sent
    assert request.response().status == 400
    assert page.locator("#operator-form").is_visible()
    assert not page.locator("#done").is_visible()


def test_in_recovery_key_mode_the_page_shows_the_recovery_key_once(
    context: Any, recovery_server: LiveServer
) -> None:
    invitee = "keeps.the.key@example.org"
    link = recovery_server.invite(invitee)
    page = context.new_page()
    page.goto(link)
    _fill(page, invitee, NEW_PASSWORD, NEW_PASSWORD)

    page.get_by_role("button", name="Join").click()

    key_element = page.locator("#recovery-key")
    key_element.wait_for(state="visible")
    assert page.get_by_role("heading", name="Your recovery key").is_visible()
    assert "shown only this once" in page.locator("#recovery").inner_text()
    assert "offline" in page.locator("#recovery").inner_text()
    recovery_key = key_element.inner_text().strip()
    assert len(recovery_key) > 40
    # The page keeps it nowhere: no storage, no cookie a script could read.
    kept = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), "
        "document.cookie])"
    )
    assert recovery_key not in kept
    # It is the invitee's real key: it sets a new password for them.
    with httpx.Client(base_url=recovery_server.url) as client:
        recovered = client.post(
            "/api/recover",
            json={
                "emailAddress": invitee,
                "recoveryKey": recovery_key,
                "password": "set with the recovery key",
            },
        )
    assert recovered.status_code == 204, recovered.text
    assert _log_in(recovery_server, invitee, "set with the recovery key").status_code == 200
