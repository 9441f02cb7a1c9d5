# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The default report: windows, filters, the result shape and the failure paths."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from metrics_factory import ACCOUNT, NOW, OTHER_ACCOUNT, Events, ulid_for

from offen_core.errors import InvalidInputError
from offen_core.events import DecryptedEvent, PageView
from offen_core.metrics import CountRow, Filter, SessionRow, default_stats

PAGE = "https://www.offen.dev/"
ABOUT = "https://www.offen.dev/about/"

RESULT_KEYS = [
    "uniqueUsers",
    "uniqueAccounts",
    "uniqueSessions",
    "referrers",
    "pages",
    "pageviews",
    "bounceRate",
    "avgPageload",
    "avgPageDepth",
    "landingPages",
    "exitPages",
    "mobileShare",
    "livePages",
    "liveUsers",
    "campaigns",
    "sources",
    "retentionMatrix",
    "empty",
    "returningUsers",
    "onboardingStats",
    "geo",
    "resolution",
    "range",
    "filter",
    "account",
]


def test_result_has_offens_members_in_offens_order() -> None:
    report = default_stats([], now=NOW)
    assert list(report.as_dict()) == RESULT_KEYS
    assert json.loads(report.to_json()) == report.as_dict()


def test_main_window_excludes_older_events_but_history_counts_them() -> None:
    old = Events(NOW - timedelta(days=25))
    recent = Events(NOW - timedelta(days=1))
    events = [
        old(user="returning", sessionId="old", href=PAGE),
        recent(user="returning", sessionId="r1", href=PAGE),
        recent(user="new", sessionId="r2", href=ABOUT),
        recent(user="new", sessionId="r2", href=PAGE),
    ]
    report = default_stats(events, now=NOW)
    assert report.unique_users == 2
    assert report.unique_sessions == 2
    assert report.pages == (CountRow(PAGE, 2), CountRow(ABOUT, 1))
    assert report.landing_pages == (CountRow(PAGE, 1), CountRow(ABOUT, 1))
    assert report.exit_pages == (CountRow(PAGE, 1),)
    assert report.bounce_rate == 0.5
    assert report.returning_users == 0.5
    assert [row.pageviews for row in report.pageviews] == [0, 0, 0, 0, 0, 3, 0]
    assert [row.visitors for row in report.pageviews] == [0, 0, 0, 0, 0, 2, 0]
    assert [row.accounts for row in report.pageviews] == [0, 0, 0, 0, 0, 1, 0]
    assert report.empty is False
    # The old event is 25 days back: it is in the oldest retention chunk (21 to 28 days).
    assert report.retention_matrix == ((1, 0, 0, 1), (0, 0, 0), (0, 0), (1,))


def test_window_edges_are_inclusive_to_the_millisecond() -> None:
    make = Events()
    lower = datetime(2025, 12, 30, tzinfo=UTC)
    upper = datetime(2026, 1, 6, tzinfo=UTC) - timedelta(milliseconds=1)
    events = [
        make(user="before", at=lower - timedelta(milliseconds=1)),
        make(user="first", at=lower),
        make(user="last", at=upper),
        make(user="after", at=upper + timedelta(milliseconds=1)),
    ]
    assert default_stats(events, now=NOW).unique_users == 2


def test_live_users_and_pages_look_back_fifteen_minutes() -> None:
    make = Events()
    events = [
        make(user="gone", at=NOW - timedelta(minutes=16), href=ABOUT, timestamp=NOW),
        make(user="here", at=NOW - timedelta(minutes=14), href=PAGE, timestamp=NOW),
        make(
            user="here",
            at=NOW - timedelta(minutes=10),
            href=ABOUT,
            timestamp=NOW - timedelta(hours=1),
        ),
        make(user="later", at=NOW + timedelta(minutes=1), href=ABOUT, timestamp=NOW),
    ]
    report = default_stats(events, now=NOW)
    assert report.live_users == 1
    # The live page is the one with the latest client timestamp, not the latest event id.
    assert report.live_pages == (CountRow(PAGE, 1),)


def test_session_filter_scopes_chart_buckets_to_sessions_matched_in_main_window() -> None:
    two_days_ago = Events(NOW - timedelta(days=2))
    yesterday = Events(NOW - timedelta(days=1))
    events = [
        two_days_ago(user="a", sessionId="s1", href=ABOUT),
        two_days_ago(user="b", sessionId="s2", href=PAGE),
        yesterday(user="a", sessionId="s1", href=PAGE),
        yesterday(user="b", sessionId="s2", href=ABOUT),
    ]
    report = default_stats(events, now=NOW, filter="landing:https://www.offen.dev/about")
    assert report.filter == "landing:https://www.offen.dev/about"
    assert report.unique_sessions == 1
    assert report.pages == (CountRow(PAGE, 1), CountRow(ABOUT, 1))
    # Yesterday's bucket holds s1's second pageview; s2, which lands on the page only
    # within that bucket, stays out because the main window decided the sessions.
    assert [row.pageviews for row in report.pageviews][-3:] == [1, 1, 0]
    assert [row.visitors for row in report.pageviews][-3:] == [1, 1, 0]

    make = Events(NOW - timedelta(hours=3))
    # Offen's exit filter also matches single-page sessions; the exit table does not.
    single = [make(user="c", sessionId="s3", href=ABOUT)]
    exit_report = default_stats(single, now=NOW, filter=Filter("exit", ABOUT))
    assert exit_report.unique_sessions == 1
    assert exit_report.exit_pages == ()
    assert exit_report.filter == f"exit:{ABOUT}"


def test_href_filter_keeps_single_pageviews() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [
        make(user="a", sessionId="s1", href=ABOUT, isMobile=True),
        make(user="a", sessionId="s1", href=PAGE, isMobile=False),
    ]
    report = default_stats(events, now=NOW, filter="href:https://www.offen.dev/about/")
    assert report.pages == (CountRow(ABOUT, 1),)
    assert report.mobile_share == 1
    assert report.bounce_rate == 1


def test_geo_and_referrer_filters_use_the_none_keys() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [
        make(user="a", sessionId="s1", href=PAGE, geo="DE", referrer="https://www.google.de/"),
        make(user="b", sessionId="s2", href=PAGE),
    ]
    no_geo = default_stats(events, now=NOW, filter="geo:__NONE_GEOLOCATION__")
    assert no_geo.geo == (SessionRow("__NONE_GEOLOCATION__", 1, 1),)
    google = default_stats(events, now=NOW, filter="referrer:Google")
    assert google.referrers == (SessionRow("Google", 1, 1),)
    no_referrer = default_stats(events, now=NOW, filter="referrer:__NONE_REFERRER__")
    assert no_referrer.referrers == (SessionRow("__NONE_REFERRER__", 1, 1),)


def test_campaign_and_source_filters_drop_sessions_without_the_parameter() -> None:
    make = Events(NOW - timedelta(days=1))
    tagged = f"{PAGE}?utm_campaign=spring&utm_source=mail"
    events = [
        make(user="a", sessionId="s1", href=PAGE),
        make(user="a", sessionId="s1", href=tagged),
        make(user="b", sessionId="s2", href=PAGE),
    ]
    assert default_stats(events, now=NOW, filter="campaign:spring").unique_sessions == 1
    assert default_stats(events, now=NOW, filter="source:mail").sources == (
        SessionRow("mail", 1, 2),
    )


def test_returning_users_hidden_for_six_months() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [make(user="a")]
    assert default_stats(events, now=NOW, range=6, resolution="months").returning_users is None
    assert default_stats(events, now=NOW, range=5, resolution="months").returning_users == 0


def test_as_dict_writes_whole_floats_as_integers_and_rows_in_offens_shape() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [
        make(user="a", sessionId="s1", href=PAGE, referrer="https://t.co/x", geo="DE"),
        make(user="a", sessionId="s1", href=ABOUT),
    ]
    result = default_stats(events, now=NOW).as_dict(account={"accountId": ACCOUNT})
    assert result["referrers"] == [{"key": "Twitter", "count": [1, 2]}]
    assert result["geo"] == [{"key": "DE", "count": [1, 2]}]
    assert result["avgPageDepth"] == 2
    assert isinstance(result["avgPageDepth"], int)
    assert result["bounceRate"] == 0
    assert result["pageviews"][-2] == {
        "date": "2026-01-04T12:00:00.000Z",
        "pageviews": 2,
        "visitors": 1,
        "accounts": 1,
    }
    assert result["account"] == {"accountId": ACCOUNT}


def test_user_view_adds_onboarding_stats() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [make(user="a", href="https://www.offen.dev/docs", geo="PT", isMobile=True)]
    assert default_stats(events, now=NOW).onboarding_stats is None
    stats = default_stats(events, now=NOW, user_view=True).onboarding_stats
    assert stats is not None
    assert (stats.domain, stats.url, stats.num_visits) == (
        "www.offen.dev",
        "www.offen.dev/docs/",
        1,
    )


def test_same_host_referrer_is_internal_navigation() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [make(sessionId="s", href=ABOUT, referrer="https://www.offen.dev/")]
    assert default_stats(events, now=NOW).referrers == (SessionRow("__NONE_REFERRER__", 1, 1),)


def test_android_app_referrers_are_bucketed_by_app_id() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [
        make(sessionId="s1", href=PAGE, referrer="android-app://com.slack/"),
        make(sessionId="s2", href=PAGE, referrer="android-app://com.example.reader/"),
    ]
    keys = [row.key for row in default_stats(events, now=NOW).referrers]
    assert keys == ["com.example.reader", "Slack"]


def test_microsoft_co_is_not_twitter() -> None:
    make = Events(NOW - timedelta(days=1))
    events = [make(sessionId="s1", href=PAGE, referrer="https://microsoft.co/")]
    assert default_stats(events, now=NOW).referrers == (SessionRow("microsoft.co", 1, 1),)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"now": datetime(2026, 1, 5, 12, 0)}, "now"),
        ({"now": NOW, "time_zone": "Nowhere/Atlantis"}, "time_zone"),
        ({"now": NOW, "resolution": "fortnights"}, "resolution"),
        ({"now": NOW, "filter": "colour:blue"}, "filter"),
        ({"now": NOW, "filter": "geo:"}, "filter"),
        ({"now": NOW, "filter": "nocolon"}, "filter"),
        ({"now": NOW, "filter": 42}, "filter"),
        ({"now": NOW, "range": "tomorrow"}, "range"),
    ],
)
def test_bad_parameters_raise_invalid_input_naming_the_parameter(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        default_stats([], **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_filter_class_rejects_unknown_property() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Filter("colour", "blue")  # type: ignore[arg-type]
    assert caught.value.field == "filter"
    assert Filter("Href", PAGE).prop == "href"  # type: ignore[arg-type]


def test_event_id_that_is_not_a_ulid_is_rejected() -> None:
    broken = DecryptedEvent.model_construct(
        event_id="not-a-ulid", account_id=ACCOUNT, secret_id=None, payload=PageView()
    )
    good = DecryptedEvent.model_construct(
        event_id=ulid_for(NOW), account_id=ACCOUNT, secret_id=None, payload=PageView()
    )
    with pytest.raises(InvalidInputError) as caught:
        default_stats([good, broken], now=NOW)
    assert caught.value.field == "eventId"


@pytest.mark.parametrize("collecting", [True, False])
def test_the_report_pauses_the_garbage_collector_and_leaves_it_as_found(
    collecting: bool,
) -> None:
    make = Events()
    seen: list[bool] = []

    def events() -> Iterator[DecryptedEvent]:
        for user in ("a", "b", "a"):
            seen.append(gc.isenabled())
            yield make(user=user)

    was = gc.isenabled()
    try:
        gc.enable() if collecting else gc.disable()
        assert default_stats(events(), now=NOW).unique_users == 2
        assert seen == [False] * 3
        assert gc.isenabled() is collecting
        broken = DecryptedEvent.model_construct(
            event_id="not-a-ulid", account_id=ACCOUNT, secret_id=None, payload=PageView()
        )
        with pytest.raises(InvalidInputError):
            default_stats([broken], now=NOW)
        assert gc.isenabled() is collecting
    finally:
        gc.enable() if was else gc.disable()


def test_events_out_of_order_keep_their_own_visitor_and_account() -> None:
    make = Events()
    first, second, third = (
        make(user="x", account=ACCOUNT),
        make(user=None, account=ACCOUNT),
        make(user="y", account=OTHER_ACCOUNT),
    )
    report = default_stats([third, first, second], now=NOW)
    in_order = default_stats([first, second, third], now=NOW)
    assert report == in_order
    assert (report.unique_users, report.unique_accounts) == (2, 2)
    assert (report.pageviews[-1].visitors, report.pageviews[-1].accounts) == (2, 2)
