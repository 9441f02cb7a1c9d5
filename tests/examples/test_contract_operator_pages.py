# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Contract: the operator page behind the mailed links, and the API calls it makes.

Invitation and reset mails link to ``/join/<token>/`` and ``/reset-password/<token>/``; both
servers answer those paths with ``examples/browser/operator.html`` and the page's policy. The
page posts ``{"emailAddress", "password", "token"}`` to ``POST /api/join`` or
``POST /api/reset-password``; the flows below make the same requests with the token of the
link the server mailed. The page itself runs in Chromium in tests/browser_e2e.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

import httpx
import pytest
from example_helpers import ACCOUNT_NAME, EMAIL, PASSWORD, Server, log_in, set_up

from examples.common.headers import CSP, PageKind
from examples.common.pages import BROWSER_DIR

INVITEE = "grace@example.org"
NEW_PASSWORD = "a password from the page"
# Shaped like the tokens the server signs: URL-safe base64 parts joined by dots.
TOKEN = "eyJraW5kIjoiaW52aXRlIn0.Zm9v-YmFy_YmF6.c2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def _ticking(server: Server) -> None:
    """Each request in a new throttle window: these tests are about the pages and flows."""
    server.ticking()


def _assert_operator_page(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == (BROWSER_DIR / "operator.html").read_bytes()
    assert response.headers["content-security-policy"] == CSP[PageKind.OPERATOR]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    # The address carries a one-time token: no cache may keep the answer.
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        f"/join/{TOKEN}/",
        f"/join/{TOKEN}",
        f"/reset-password/{TOKEN}/",
        f"/reset-password/{TOKEN}",
        "/join/.compressed-token~/",
    ],
)
def test_both_mailed_paths_serve_the_operator_page_with_its_policy(
    server: Server, path: str
) -> None:
    response = server.client.get(path)

    _assert_operator_page(response)
    assert unquote(path.split("/")[2]) not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/join",
        "/join/",
        "/reset-password/",
        "/join/a/b/",
        "/reset-password/a/b",
        "/join/a%2Fb/",
        "/join/a%20b/",
        "/joining/abc/",
        f"/join/{TOKEN}/extra",
    ],
)
def test_paths_beside_the_mailed_links_are_not_the_operator_page(server: Server, path: str) -> None:
    response = server.client.get(path)

    assert response.status_code == 404
    assert response.json() == {"error": "there is no such route", "status": 404}
    assert response.headers["content-security-policy"] == CSP[PageKind.API]


def test_the_operator_page_is_read_only(server: Server) -> None:
    response = server.client.post(f"/join/{TOKEN}/", json={"token": TOKEN})

    assert response.status_code == 405
    assert response.json()["status"] == 405
    assert response.headers["allow"] == "GET"


def test_the_scripts_and_styles_the_operator_page_names_are_served(server: Server) -> None:
    page = server.client.get(f"/reset-password/{TOKEN}/").text
    scripts = re.findall(r'<script type="module" src="([^"]+)"', page)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert scripts == ["/browser/operator.js"]
    assert styles == ["/browser/pages.css"]
    assert "<style" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script
    assert " style=" not in page

    for path, content_type in ((scripts[0], "text/javascript"), (styles[0], "text/css")):
        asset = server.client.get(path)
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(content_type)
        assert asset.headers["content-security-policy"] == CSP[PageKind.ASSET]
    script = server.client.get(scripts[0]).text
    assert "'/api/join'" in script
    assert "'/api/reset-password'" in script


def _invite(server: Server, email: str, password: str) -> None:
    """Log in as the operator ``email`` and share every account with `INVITEE`."""
    assert log_in(server.client, email, password).status_code == 200
    shared = server.client.post(
        "/api/share-account",
        json={
            "invitee": INVITEE,
            "emailAddress": email,
            "password": password,
            "grantAdminPrivileges": False,
        },
    )
    assert shared.status_code == 204, shared.text


def _as_the_page(client: httpx.Client, link: str, email: str, password: str) -> httpx.Response:
    """Open the mailed link and post what the page posts for it."""
    _assert_operator_page(client.get(link))
    endpoint = "/api/join" if link.startswith("/join/") else "/api/reset-password"
    token = unquote(link.split("/")[2])
    return client.post(endpoint, json={"emailAddress": email, "password": password, "token": token})


def test_an_invitee_joins_through_the_mailed_link_and_logs_in(server: Server) -> None:
    instance = set_up(server)
    _invite(server, instance.email, instance.password)
    link = server.last_link("join")
    browser = server.new_client()

    refused = _as_the_page(browser, link, "someone.else@example.org", NEW_PASSWORD)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "the invitation was sent to another email address",
        "status": 400,
    }
    joined = _as_the_page(browser, link, INVITEE, NEW_PASSWORD)

    assert joined.status_code == 204, joined.text
    assert joined.content == b""
    logged_in = log_in(server.new_client(), INVITEE, NEW_PASSWORD)
    assert logged_in.status_code == 200
    assert [item["accountId"] for item in logged_in.json()["accounts"]] == [instance.account_id]
    again = _as_the_page(browser, link, INVITEE, NEW_PASSWORD)
    assert again.status_code == 400
    assert again.json()["error"]


def test_an_operator_resets_the_password_through_the_mailed_link(server: Server) -> None:
    instance = set_up(server)
    forgot = server.client.post("/api/forgot-password", json={"emailAddress": instance.email})
    assert forgot.status_code == 204
    link = server.last_link("reset-password")

    reset = _as_the_page(server.new_client(), link, instance.email, NEW_PASSWORD)

    assert reset.status_code == 204, reset.text
    assert log_in(server.new_client(), instance.email, instance.password).status_code == 401
    assert log_in(server.new_client(), instance.email, NEW_PASSWORD).status_code == 200


def test_in_recovery_key_mode_joining_answers_the_recovery_key_once(
    make_server: Callable[..., Server],
) -> None:
    server = make_server(recovery_keys=True)
    server.ticking()
    setup = server.client.post(
        "/api/setup",
        json={"accountName": ACCOUNT_NAME, "emailAddress": EMAIL, "password": PASSWORD},
    )
    assert setup.status_code == 200, setup.text
    _invite(server, EMAIL, PASSWORD)
    link = server.last_link("join")

    joined = _as_the_page(server.new_client(), link, INVITEE, NEW_PASSWORD)

    assert joined.status_code == 200, joined.text
    recovery_key = joined.json()["recoveryKey"]
    assert set(joined.json()) == {"recoveryKey"}
    assert log_in(server.new_client(), INVITEE, NEW_PASSWORD).status_code == 200
    # The key is the invitee's own: it sets a new password for them.
    recovered = server.new_client().post(
        "/api/recover",
        json={"emailAddress": INVITEE, "recoveryKey": recovery_key, "password": PASSWORD},
    )
    assert recovered.status_code == 204, recovered.text
    assert log_in(server.new_client(), INVITEE, PASSWORD).status_code == 200
