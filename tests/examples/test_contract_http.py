# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Contract: health, version, security headers, body limit, unknown routes, static pages."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from example_helpers import Server, add_account

from examples.common.headers import CSP, HSTS, PageKind
from offen_core.server import MAX_BODY_BYTES
from offen_core.storage import Store


def _assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" in response.headers


def test_healthz_answers_ok_without_caching(server: Server) -> None:
    response = server.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"] == CSP[PageKind.API]
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers
    _assert_hardened(response)


def test_healthz_answers_502_when_the_database_is_unreachable(
    make_server: Callable[..., Server], tmp_path: object
) -> None:
    server = make_server()
    broken = Store("sqlite:////nonexistent-folder/for/offen.db")
    server.service.store = broken
    try:
        response = server.client.get("/healthz")
    finally:
        broken.close()

    assert response.status_code == 502
    assert response.json() == {"error": "the database cannot be reached", "status": 502}


def test_versionz_reports_the_configured_revision(make_server: Callable[..., Server]) -> None:
    server = make_server(revision="v1.2.3-test")

    response = server.client.get("/versionz")

    assert response.status_code == 200
    assert response.json() == {"revision": "v1.2.3-test"}
    assert response.headers["cache-control"] == "no-store"


def test_https_base_url_adds_hsts_and_secure_cookies(make_server: Callable[..., Server]) -> None:
    server = make_server(base_url="https://analytics.example", secure_context=True)

    response = server.client.post("/api/logout")

    assert response.status_code == 204
    assert response.headers["strict-transport-security"] == HSTS
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("auth=;")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_unknown_route_is_a_json_404(server: Server) -> None:
    response = server.client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"error": "there is no such route", "status": 404}
    _assert_hardened(response)


def test_wrong_method_is_a_json_405(server: Server) -> None:
    response = server.client.put("/api/login", json={})

    assert response.status_code == 405
    assert response.json()["status"] == 405
    assert "POST" in response.headers["allow"]


def test_body_over_64_kib_is_refused_with_413(server: Server) -> None:
    response = server.client.post("/api/events", content=b"{" + b" " * MAX_BODY_BYTES + b"}")

    assert response.status_code == 413
    assert response.json()["status"] == 413
    _assert_hardened(response)


def test_body_of_exactly_64_kib_reaches_the_flow(server: Server) -> None:
    body = b'{"accountId": "x"' + b" " * (MAX_BODY_BYTES - 18) + b"}"
    assert len(body) == MAX_BODY_BYTES

    response = server.client.post("/api/exchange", content=body)

    assert response.status_code == 400
    assert "accountId" in response.json()["error"]


def test_recover_is_not_offered_without_recovery_keys(server: Server) -> None:
    response = server.client.post("/api/recover", json={})

    assert response.status_code == 404
    assert "recovery keys are not enabled" in response.json()["error"]


# --- static pages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind", "content_type"),
    [
        ("/", PageKind.INDEX, "text/html"),
        ("/vault/", PageKind.VAULT, "text/html"),
        ("/vault", PageKind.VAULT, "text/html"),
        ("/visitor/", PageKind.VISITOR, "text/html"),
        ("/script.js", PageKind.ASSET, "text/javascript"),
        ("/browser/vault.js", PageKind.ASSET, "text/javascript"),
        ("/browser/pages.css", PageKind.ASSET, "text/css"),
    ],
)
def test_static_pages_have_their_type_and_policy(
    server: Server, path: str, kind: PageKind, content_type: str
) -> None:
    response = server.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["content-security-policy"] == CSP[kind]
    assert response.headers["cache-control"] == "no-cache"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    _assert_hardened(response)


def test_only_the_vault_may_be_framed(server: Server) -> None:
    vault = server.client.get("/vault/?accountId=00000000-0000-4000-8000-000000000000")
    visitor = server.client.get("/visitor/")

    assert "frame-ancestors *" in vault.headers["content-security-policy"]
    assert "x-frame-options" not in vault.headers
    assert "frame-ancestors 'none'" in visitor.headers["content-security-policy"]
    assert visitor.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/demo/", "/demo/features/deep"])
def test_demo_page_names_the_tracker_and_the_first_account(server: Server, path: str) -> None:
    instance = add_account(server)

    response = server.client.get(path)

    assert response.status_code == 200
    assert "{{" not in response.text
    assert 'src="/script.js"' in response.text
    assert f'data-account-id="{instance.account_id}"' in response.text
    assert response.headers["content-security-policy"] == CSP[PageKind.DEMO]


@pytest.mark.parametrize(
    "path", ["/browser/missing.js", "/browser/..%2Fcommon%2Fsettings.py", "/browser/"]
)
def test_browser_folder_serves_only_its_own_files(server: Server, path: str) -> None:
    response = server.client.get(path)

    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_a_streamed_body_over_64_kib_is_refused_with_413(server: Server) -> None:
    chunks = iter([b"{" + b" " * 40_000, b" " * 40_000 + b"}"])

    response = server.client.post("/api/exchange", content=chunks)

    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_a_small_streamed_body_reaches_the_flow(server: Server) -> None:
    response = server.client.post("/api/exchange", content=iter([b'{"accountId":', b' "x"}']))

    assert response.status_code == 400
    assert response.json()["error"].startswith("accountId")
