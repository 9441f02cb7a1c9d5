# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The report: Offen's metrics over the synced events, as JSON, terminal tables and HTML."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from opsync_helpers import Site, page_view, wrong_key_payload

from offen_core.client import encrypt_page_view
from offen_core.metrics import default_stats
from offen_core.operator import Operator, StoreSource, account_report, format_tables, render_html
from offen_core.storage import Store


def _synced_report(site: Site, store: Store, now: datetime):  # type: ignore[no-untyped-def]
    with Operator(site.login(), workers=1) as operator:
        state = operator.sync(StoreSource(store, site.account_id))
    return state, account_report(state, now=now, account_name="<b>shop</b>")


def test_the_report_is_offens_metrics_plus_the_undecryptable_counts(
    site: Site, store: Store
) -> None:
    now = datetime.now(UTC)
    visitors = [site.visitor() for _ in range(3)]
    for number, visitor in enumerate(visitors):
        site.send(visitor, 2, at=now - timedelta(days=number))
        site.send(visitor, 1, at=now - timedelta(days=9 + number))
    site.send(visitors[0], 1, payload=wrong_key_payload)

    state, report = _synced_report(site, store, now)
    data = json.loads(report.to_json())

    expected = default_stats(state.events(), now=now).as_dict(
        account={"accountId": site.account_id, "name": "<b>shop</b>"}
    )
    assert data == {**expected, "undecryptable": {"bad_payload": 1}, "events": 9}
    assert data["uniqueUsers"] == 3
    assert "privateKey" not in json.dumps(data)


def test_terminal_tables_show_the_figures_and_the_failures(site: Site, store: Store) -> None:
    now = datetime.now(UTC)
    visitor = site.visitor()
    site.send(visitor, 4, at=now - timedelta(hours=2))
    site.send(visitor, 1, payload=wrong_key_payload)
    _, report = _synced_report(site, store, now)

    text = format_tables(report)
    assert re.search(r"Unique visitors\s+1\n", text)
    assert re.search(r"Pageviews\s+4\n", text)
    assert re.search(r"bad_payload\s+1\n", text)
    assert "Retention" in text
    assert "week 4" in text


def test_the_html_report_is_self_contained_and_escapes_what_visitors_sent(
    site: Site, store: Store
) -> None:
    now = datetime.now(UTC)
    visitor = site.visitor()
    evil = "https://www.example.org/<script>alert(1)</script>"
    site.send(
        visitor,
        3,
        at=now - timedelta(days=1),
        payload=lambda v, n: encrypt_page_view(v.secret, page_view(n, href=evil)),
    )
    site.send(visitor, 2, at=now - timedelta(days=8))
    _, report = _synced_report(site, store, now)

    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "&lt;b&gt;shop&lt;/b&gt;" in page
    # Two inline charts, nothing loaded from anywhere.
    assert page.count("<svg") == 2
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", page)
    assert page.count('<rect class="bar"') == len(report.stats.pageviews)
    assert "100.0 %" in page  # the first cell of a non-empty retention row
