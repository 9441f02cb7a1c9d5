# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The visitor's data page in Chromium: it shows the visitor's events, deletes them, opts out."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import FRAME_TITLE, SECRET_PREFIX, HostSite, LiveServer, wait_until

pytestmark = pytest.mark.browser


def _user_id(context: Any, server: LiveServer) -> str | None:
    for cookie in context.cookies(f"{server.url}/api/events"):
        if cookie["name"] == "user" and cookie["value"]:
            return str(cookie["value"])
    return None


def _consent(context: Any, server: LiveServer) -> str | None:
    for cookie in context.cookies(server.url):
        if cookie["name"] == "consent":
            return str(cookie["value"])
    return None


def _two_pageviews(context: Any, server: LiveServer, host: HostSite) -> str:
    page = context.new_page()
    page.goto(f"{host.url}/article.html?first=1")
    page.frame_locator(f'iframe[title="{FRAME_TITLE}"]').get_by_role("button", name="Allow").click()
    user_id = wait_until(lambda: _user_id(context, server), what="the user cookie")
    wait_until(lambda: server.events_of(user_id), what="the first event")
    page.evaluate("history.pushState({}, '', '/article.html?second=2')")
    wait_until(lambda: len(server.events_of(user_id)) == 2, what="the second event")
    page.close()
    return user_id


def test_the_visitor_page_lists_the_events_decrypted_in_the_browser(
    context: Any, server: LiveServer, host: HostSite
) -> None:
    _two_pageviews(context, server, host)
    page = context.new_page()
    page.goto(f"{server.url}/visitor/")

    status = page.locator("#events-status")
    wait_until(lambda: "2 events" in status.inner_text(), what="the events to be listed")
    rows = page.locator("#events-rows tr")
    assert rows.count() == 2
    pages = [rows.nth(index).locator("td").nth(1).inner_text() for index in range(2)]
    assert pages == [f"{host.url}/article.html?second=2", f"{host.url}/article.html?first=1"]
    assert page.locator("#events-table").is_visible()
    assert "allowed" in page.locator("#consent-status").inner_text()


def test_deleting_on_the_visitor_page_purges_the_events_on_the_server(
    context: Any, server: LiveServer, host: HostSite
) -> None:
    user_id = _two_pageviews(context, server, host)
    secret_id = server.secret_id(user_id)
    event_ids = {event.event_id for event in server.events_of(user_id)}
    page = context.new_page()
    page.goto(f"{server.url}/visitor/")
    status = page.locator("#events-status")
    wait_until(lambda: "2 events" in status.inner_text(), what="the events to be listed")

    page.get_by_role("button", name="Delete my events").click()
    wait_until(lambda: status.inner_text() == "Your events were deleted.", what="the deletion")
    assert server.events_of(user_id) == []
    assert not page.locator("#events-table").is_visible()
    # Operators learn of the deletion through tombstones; the purge takes the secret too.
    tombstones = server.service.store.tombstones_for_account(server.account_id)
    assert event_ids <= {tombstone.event_id for tombstone in tombstones}
    assert server.service.store.get_secrets([secret_id]) == {}

    page.get_by_role("button", name="Opt out and delete my data").click()
    wait_until(lambda: "opted out" in status.inner_text(), what="the opt-out")
    assert _consent(context, server) == "deny"
    assert _user_id(context, server) is None  # the server cleared the cookie
    stored = page.evaluate(
        "(prefix) => Object.keys(localStorage).filter((key) => key.startsWith(prefix))",
        SECRET_PREFIX,
    )
    assert stored == []
    assert page.get_by_role("button", name="Allow anonymous statistics again").is_visible()

    # After opting out, visiting the host page again sends nothing.
    before = len(server.events())
    again = context.new_page()
    again.goto(f"{host.url}/article.html?after=opt-out")
    again.wait_for_timeout(1000)
    assert len(server.events()) == before
    assert _user_id(context, server) is None
