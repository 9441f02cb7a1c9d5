# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The tracker and the vault in Chromium: encryption in the browser, consent, isolation."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_helpers import (
    FRAME_TITLE,
    SECRET_PREFIX,
    SESSION_PREFIX,
    HostSite,
    LiveServer,
    decrypt_account,
    wait_until,
)

from offen_core.crypto import parse_cipher_string

pytestmark = pytest.mark.browser

_NAVIGATION_PAGELOAD = """() => {
  const [entry] = performance.getEntriesByType('navigation');
  return Math.round(entry.domContentLoadedEventEnd - entry.startTime);
}"""


def _allow(page: Any) -> None:
    page.frame_locator(f'iframe[title="{FRAME_TITLE}"]').get_by_role("button", name="Allow").click()


def _vault_frame(page: Any, server: LiveServer) -> Any:
    def find() -> Any:
        for frame in page.frames:
            if frame.url.startswith(f"{server.url}/vault/"):
                return frame
        return None

    return wait_until(find, what="the vault iframe")


def _user_id(context: Any, server: LiveServer) -> str | None:
    for cookie in context.cookies(f"{server.url}/api/events"):
        if cookie["name"] == "user" and cookie["value"]:
            return str(cookie["value"])
    return None


def _api_requests(context: Any, server: LiveServer) -> list[str]:
    seen: list[str] = []

    def record(request: Any) -> None:
        if request.url.startswith(f"{server.url}/api/"):
            seen.append(f"{request.method} {request.url.removeprefix(server.url)}")

    context.on("request", record)
    return seen


def test_a_pageview_is_encrypted_in_the_browser_and_the_operator_decrypts_it(
    context: Any, server: LiveServer, host: HostSite
) -> None:
    sent: list[dict[str, Any]] = []
    context.on(
        "request",
        lambda request: (
            sent.append(json.loads(request.post_data or "{}"))
            if request.method == "POST" and request.url == f"{server.url}/api/events"
            else None
        ),
    )
    before = datetime.now(UTC) - timedelta(milliseconds=5)
    page = context.new_page()
    page.goto(f"{host.url}/start.html?from=newsletter")
    page.click("#to-article")
    page.wait_for_url(re.compile(r"/article\.html"))
    _allow(page)

    user_id = wait_until(lambda: _user_id(context, server), what="the user cookie")
    (stored,) = wait_until(lambda: server.events_of(user_id), what="the first event")
    pageload = page.evaluate(_NAVIGATION_PAGELOAD)
    vault = _vault_frame(page, server)
    session_id = vault.evaluate(
        "(key) => sessionStorage.getItem(key)", SESSION_PREFIX + server.account_id
    )
    secret_jwk = json.loads(
        vault.evaluate("(key) => localStorage.getItem(key)", SECRET_PREFIX + server.account_id)
    )

    # A single-page navigation and then a page with a canonical link, in the same tab.
    page.evaluate("history.pushState({}, '', '/spa/next?step=2')")
    wait_until(lambda: len(server.events_of(user_id)) == 2, what="the second event")
    page.goto(f"{host.url}/canonical.html?utm_source=canon")
    wait_until(lambda: len(server.events_of(user_id)) == 3, what="the third event")
    after = datetime.now(UTC) + timedelta(milliseconds=5)

    # What left the browser was ciphertext, and the server stored it verbatim. (A call into
    # Playwright lets it deliver the request events it holds.)
    wait_until(lambda: page.evaluate("true") and len(sent) == 3, what="the request events")
    stored_payloads = sorted(event.payload for event in server.events_of(user_id))
    assert sorted(body["payload"] for body in sent) == stored_payloads
    assert {body["accountId"] for body in sent} == {server.account_id}
    for payload in stored_payloads:
        assert parse_cipher_string(payload).algo == 1
        assert "article" not in payload
        assert host.url not in payload
    assert secret_jwk["kty"] == "oct"
    assert secret_jwk["alg"] == "A128GCM"

    payloads = decrypt_account(server.operator_view())
    mine = [payloads[event.event_id] for event in server.events_of(user_id)]
    first, second, third = sorted(mine, key=lambda payload: payload["timestamp"])
    assert first["type"] == "PAGEVIEW"
    assert first["href"] == f"{host.url}/article.html?utm_source=e2e&utm_campaign=tests"
    assert first["referrer"] == f"{host.url}/start.html"  # the vault drops the query
    assert first["pageload"] == pageload
    assert 0 < pageload < 60_000
    assert first["isMobile"] is False
    assert first["geo"] == "DE"  # from the Europe/Berlin time zone
    assert first["sessionId"] == session_id
    assert uuid.UUID(session_id).version == 4
    assert "rawHref" not in first or first["rawHref"] is None
    timestamps = [datetime.fromisoformat(item["timestamp"]) for item in (first, second, third)]
    assert all(before <= stamp <= after for stamp in timestamps)
    assert stored.event_id == min(event.event_id for event in server.events_of(user_id))

    assert second["href"] == f"{host.url}/spa/next?step=2"
    assert second["pageload"] is None  # no document was loaded
    assert second["referrer"] == first["referrer"]  # the document's referrer did not change
    assert second["sessionId"] == session_id

    assert third["href"] == f"{host.url}/articles/the-one"
    assert third["rawHref"] == f"{host.url}/canonical.html?utm_source=canon"
    assert isinstance(third["pageload"], int)
    assert third["pageload"] > 0
    assert third["sessionId"] == session_id


def test_without_consent_nothing_is_sent_or_stored(
    context: Any, server: LiveServer, host: HostSite
) -> None:
    requests = _api_requests(context, server)
    events_before = len(server.events())
    page = context.new_page()
    page.goto(f"{host.url}/article.html")
    frame = page.frame_locator(f'iframe[title="{FRAME_TITLE}"]')
    frame.get_by_role("button", name="Allow").wait_for(state="visible")

    # Undecided: the banner waits, nothing leaves the browser.
    page.evaluate("history.pushState({}, '', '/article.html?more=1')")
    page.wait_for_timeout(1000)
    assert requests == []
    assert _user_id(context, server) is None

    frame.get_by_role("button", name="Deny").click()
    iframe = page.locator(f'iframe[title="{FRAME_TITLE}"]')
    wait_until(lambda: iframe.evaluate("(node) => node.style.visibility") == "hidden")
    page.reload()
    page.evaluate("history.pushState({}, '', '/article.html?again=1')")
    page.wait_for_timeout(1000)
    assert requests == []
    assert _user_id(context, server) is None
    assert not iframe.is_visible()
    assert len(server.events()) == events_before

    # The server itself stores nothing without consent=allow, whatever a script sends.
    vault = _vault_frame(page, server)
    status = vault.evaluate(
        """async (accountId) => {
          const response = await fetch('/api/events', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ accountId, payload: '{1,} QUJD RERE' }),
          });
          return response.status;
        }""",
        server.account_id,
    )
    assert status == 204
    assert len(server.events()) == events_before
    # The recorder did see requests all along: this one is the only one.
    page.wait_for_timeout(100)
    assert requests == ["POST /api/events"]


def test_a_script_of_the_host_page_cannot_read_the_user_secret(
    context: Any, server: LiveServer, host: HostSite
) -> None:
    page = context.new_page()
    page.goto(f"{host.url}/hostile.html")
    _allow(page)
    user_id = wait_until(lambda: _user_id(context, server), what="the user cookie")
    wait_until(lambda: server.events_of(user_id), what="the event")
    vault = _vault_frame(page, server)
    stored = vault.evaluate("(key) => localStorage.getItem(key)", SECRET_PREFIX + server.account_id)
    secret = json.loads(stored)["k"]
    assert len(secret) >= 22  # the vault does hold the user secret

    found = page.evaluate("(origin) => window.probe(origin)", server.url)

    # Everything the host page's own origin holds is free of the secret.
    for name in ("ownLocalStorage", "ownSessionStorage", "ownCookies", "ownIndexedDB"):
        assert found[name]["ok"], found[name]
        assert secret not in found[name]["value"]
        assert "offen-core" not in found[name]["value"]
    assert "user=" not in found["ownCookies"]["value"]  # HttpOnly, and on /api only
    assert json.loads(found["ownIndexedDB"]["value"]) == []
    # The vault's window, document and storage are closed to it.
    assert found["frameContentDocument"] == {"ok": True, "value": None}
    for name in ("frameLocalStorage", "frameDocumentCookie", "frameBody", "popupLocalStorage"):
        assert found[name] == {"ok": False, "error": "SecurityError"}, name
    # The API answers the vault's origin only: a cross-origin read fails.
    assert found["fetchEvents"] == {"ok": False, "error": "TypeError"}
    # The vault told the host page nothing but how to show its banner.
    messages = page.evaluate("window.seenMessages")
    assert messages, "the vault sent no message at all"
    for message in messages:
        assert message["origin"] == server.url
        assert json.loads(message["data"])["type"] in {"SHOW_BANNER", "HIDE_BANNER"}
        assert secret not in message["data"]
