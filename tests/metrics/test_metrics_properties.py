# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Properties of the default report over generated events."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from metrics_factory import ACCOUNT, NOW, OTHER_ACCOUNT, Events

from offen_core.events import DecryptedEvent
from offen_core.metrics import Stats, default_stats, page_key, referrer_bucket

SITE = "https://www.offen.dev"
HREFS = [None, f"{SITE}/", f"{SITE}/about", f"{SITE}/about/?utm_campaign=spring", f"{SITE}/1"]
REFERRERS = ["", "https://www.google.de/", "https://t.co/x", f"{SITE}/", "android-app://com.slack/"]
FILTERS = [
    "href:https://www.offen.dev/about",
    "geo:DE",
    "geo:__NONE_GEOLOCATION__",
    "referrer:Google",
    "referrer:__NONE_REFERRER__",
    "campaign:spring",
    "source:mail",
    "landing:https://www.offen.dev/",
    "exit:https://www.offen.dev/about/",
]

event_specs = st.lists(
    st.fixed_dictionaries(
        {
            # Up to 35 days back (beyond the retention chunks) and a little after now.
            "minutes": st.integers(min_value=-35 * 24 * 60, max_value=30),
            "user": st.sampled_from([None, "a", "b", "c", "d"]),
            "session": st.sampled_from([None, "s1", "s2", "s3", "17", "4"]),
            "href": st.sampled_from(HREFS),
            "raw_href": st.sampled_from([None, f"{SITE}/?utm_source=mail"]),
            "referrer": st.sampled_from(REFERRERS),
            "pageload": st.sampled_from([None, 0, -4, 120, 333.5]),
            "mobile": st.sampled_from([None, True, False]),
            "geo": st.sampled_from([None, "DE", "FR"]),
            "account": st.sampled_from([ACCOUNT, OTHER_ACCOUNT]),
        }
    ),
    max_size=40,
)


def build(specs: list[dict[str, object]]) -> list[DecryptedEvent]:
    make = Events()
    events = []
    for spec in specs:
        payload: dict[str, object] = {"referrer": spec["referrer"]}
        for name, member in (
            ("href", "href"),
            ("raw_href", "rawHref"),
            ("pageload", "pageload"),
            ("mobile", "isMobile"),
            ("geo", "geo"),
            ("session", "sessionId"),
        ):
            if spec[name] is not None:
                payload[member] = spec[name]
        when = NOW + timedelta(minutes=int(str(spec["minutes"])))
        events.append(
            make(
                user=spec["user"],
                at=when,
                account=str(spec["account"]),
                timestamp=when,
                **payload,
            )
        )
    return events


def rates(report: Stats) -> list[float]:
    values = [report.bounce_rate]
    values += [
        value for value in (report.mobile_share, report.returning_users) if value is not None
    ]
    values += [cell for row in report.retention_matrix for cell in row]
    return values


@given(specs=event_specs, resolution=st.sampled_from(["hours", "days", "weeks", "months"]))
def test_rates_stay_between_zero_and_one(specs: list[dict[str, object]], resolution: str) -> None:
    report = default_stats(build(specs), now=NOW, resolution=resolution, range=5)
    assert all(0 <= value <= 1 for value in rates(report))
    if report.avg_page_depth is not None:
        assert report.avg_page_depth >= 1


@given(specs=event_specs, filter_text=st.sampled_from([None, *FILTERS]))
def test_counts_add_up_across_buckets_and_tables(
    specs: list[dict[str, object]], filter_text: str | None
) -> None:
    events = build(specs)
    report = default_stats(events, now=NOW, range=30, filter=filter_text)
    lower, upper = report.window.lower, report.window.upper
    in_window = [event for event in events if lower <= event.time <= upper]

    chart_total = sum(row.pageviews for row in report.pageviews)
    if filter_text is None:
        assert chart_total == sum(1 for event in in_window if event.secret_id)
    # Every pageview with a page and a secret id is one of the top pages' count.
    assert sum(row.count for row in report.pages) <= sum(
        1 for event in in_window if event.payload.href
    )
    # Session tables: sessions add up, and sessions times depth gives back the pageviews.
    sessionless = any(not event.payload.session_id for event in in_window)
    total_sessions = sum(row.sessions for row in report.referrers)
    if filter_text is None:
        assert total_sessions == report.unique_sessions + (1 if sessionless else 0)
        views = sum(row.sessions * row.page_depth for row in report.geo)
        assert round(views) == len(in_window)
    assert sum(row.sessions for row in report.geo) == total_sessions
    assert sum(row.count for row in report.landing_pages) <= report.unique_sessions


@given(specs=event_specs, filter_text=st.sampled_from(FILTERS))
def test_filtering_never_increases_counts(specs: list[dict[str, object]], filter_text: str) -> None:
    events = build(specs)
    plain = default_stats(events, now=NOW, range=30)
    narrowed = default_stats(events, now=NOW, range=30, filter=filter_text)
    for name in ("unique_users", "unique_sessions", "unique_accounts", "live_users"):
        assert getattr(narrowed, name) <= getattr(plain, name)
    for wide, narrow in zip(plain.pageviews, narrowed.pageviews, strict=True):
        assert narrow.pageviews <= wide.pageviews
        assert narrow.visitors <= wide.visitors
    assert sum(row.count for row in narrowed.pages) <= sum(row.count for row in plain.pages)
    assert sum(r.sessions for r in narrowed.referrers) <= sum(r.sessions for r in plain.referrers)


@given(specs=event_specs, seed=st.integers(), filter_text=st.sampled_from([None, *FILTERS]))
def test_results_do_not_depend_on_input_order(
    specs: list[dict[str, object]], seed: int, filter_text: str | None
) -> None:
    # Event ids are unique, and Offen's order rules all follow event id order, so any input
    # order must give the same report.
    events = build(specs)
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    first = default_stats(events, now=NOW, filter=filter_text, user_view=True)
    second = default_stats(shuffled, now=NOW, filter=filter_text, user_view=True)
    assert first == second
    assert first.to_json() == second.to_json()


labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@given(prefix=labels)
def test_bucket_patterns_match_only_whole_labels(prefix: str) -> None:
    assert referrer_bucket(f"{prefix}t.co") != "Twitter"
    assert referrer_bucket(f"{prefix}.t.co") == "Twitter"
    assert referrer_bucket(f"{prefix}baidu.com") != "Baidu"
    assert referrer_bucket(f"www.{prefix}wikipedia.org") != "Wikipedia"
    assert referrer_bucket(f"{prefix}.wikipedia.org") == "Wikipedia"


@given(
    host=st.lists(labels, min_size=1, max_size=3).map(".".join),
    path=st.lists(labels, max_size=3).map("/".join),
    query=st.sampled_from(["", "?a=1", "?utm_campaign=x#frag", "#top"]),
)
def test_page_keys_are_idempotent_and_end_in_a_slash(host: str, path: str, query: str) -> None:
    key = page_key(f"https://{host}/{path}{query}")
    assert key is not None
    assert key.endswith("/")
    assert "?" not in key
    assert "#" not in key
    assert page_key(key) == key
