# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's own metric test cases (reference offen-client.md §6.1 to §6.4, §3.10), one each.

Adaptations, all forced by the input model and none changing what is asserted:

- visitor names become secret ids (their SHA-256) and event ids are ULIDs in listing order;
- Offen's stats tests feed URL objects that skipped its normalisation; through the vault's
  pipeline, which these functions follow, every page key ends in a slash, so the expected
  keys here carry one (``https://www.example.net/foo/``);
- where a case sets ``$referrer`` directly, the event gets a referrer URL on another host
  whose bucket is that value.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from metrics_factory import ACCOUNT, NOW, OTHER_ACCOUNT, Events, sessions, ulid_for

from offen_core.errors import InvalidInputError
from offen_core.events import DecryptedEvent, PageView
from offen_core.metrics import (
    NONE_GEOLOCATION,
    NONE_REFERRER,
    CountRow,
    Filter,
    OnboardingStats,
    SessionRow,
    avg_page_depth,
    avg_pageload,
    bounce_rate,
    campaigns,
    default_stats,
    exit_pages,
    landing_pages,
    live_pages,
    locations,
    mobile_share,
    onboarding_stats,
    page_key,
    pageviews,
    referrer_bucket,
    referrers,
    retention_matrix,
    returning_users,
    top_pages,
    unique_accounts,
    unique_sessions,
    unique_users,
)

SITE = "https://www.example.net"

# --- §6.1 stats.test.js -------------------------------------------------------------------


def test_unique_sessions_counts_distinct_session_ids_case_sensitively() -> None:
    make = Events()
    events = [make(), make(), *sessions("a", "b", "B", "a", "a", "B", events=make)]
    assert unique_sessions(events) == 3
    assert unique_sessions([]) == 0


def test_bounce_rate_is_share_of_single_pageview_sessions() -> None:
    make = Events()
    events = sessions("a", "b", "B", "c", "B", "B", "B", None, events=make)
    assert bounce_rate(events) == 0.75
    assert bounce_rate([]) == 0
    assert bounce_rate(sessions("a", "b", "B", "c", None)) == 1


def test_avg_pageload_is_mean_of_measured_values() -> None:
    make = Events()
    events = [make(), make(pageload=200), make(), *(make(pageload=v) for v in (200, 400, 100, 100))]
    assert avg_pageload(events) == 200
    assert avg_pageload([]) is None


def test_avg_page_depth_is_pageviews_per_session() -> None:
    assert avg_page_depth(sessions(None, "a", "b", "b", "a", "c", "a")) == 2
    assert avg_page_depth([]) is None


def test_pageviews_visitors_and_accounts_count_truthy_ids() -> None:
    make = Events()
    events = [make(user=name) for name in ("user-b", "user-a", None, "user-b", "user-c", None)]
    assert pageviews(events) == 4
    assert unique_users(events) == 3

    # Offen's operator events carry no account id; such events are only made unvalidated.
    accounts = [make(account=account) for account in (ACCOUNT, OTHER_ACCOUNT, ACCOUNT)]
    third = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
    accounts.append(make(account=third))
    for missing in (None, ""):
        accounts.append(
            DecryptedEvent.model_construct(
                event_id=ulid_for(NOW),
                account_id=missing,  # type: ignore[arg-type]
                secret_id=None,
                payload=PageView(),
            )
        )
    assert unique_accounts(accounts) == 3
    assert pageviews([]) == unique_users([]) == unique_accounts([]) == 0


def test_referrers_count_sessions_and_page_depth_per_first_referrer() -> None:
    make = Events()
    example = {"referrer": "https://www.example.net/", "href": "https://site.example/"}
    events = [
        make(sessionId="s-a", **example),
        make(sessionId="s-a", **example),
        make(sessionId="s-b", **example),
        make(sessionId="s-b", **example),
        make(sessionId="s-c", referrer="https://beep.boop/", href="https://site.example/"),
        make(sessionId="s-d", referrer="", href="https://site.example/"),
    ]
    assert referrers(events) == [
        SessionRow("www.example.net", 2, 2),
        SessionRow(NONE_REFERRER, 1, 1),
        SessionRow("beep.boop", 1, 1),
    ]
    assert referrers([]) == []


def test_locations_count_sessions_per_first_country() -> None:
    make = Events()
    spec = [("a", "FR"), ("a", "FR"), ("b", "RU"), ("b", "RU"), ("f", "AR"), ("c", None)]
    spec += [("d", None), ("y", "FR"), ("z", "FR")]
    events = [make(sessionId=sid, geo=geo) for sid, geo in spec]
    assert locations(events) == [
        SessionRow("FR", 3, 4 / 3),
        SessionRow(NONE_GEOLOCATION, 2, 1),
        SessionRow("RU", 1, 2),
        SessionRow("AR", 1, 1),
    ]
    assert locations([]) == []


def test_campaigns_read_utm_campaign_of_the_landing_url_preferring_raw_href() -> None:
    make = Events()
    events = [
        make(sessionId="a", href=f"{SITE}/foo?utm_campaign=beep"),
        make(sessionId="b", href=f"{SITE}/bar?something=12&utm_campaign=boop"),
        make(sessionId="b", href=f"{SITE}/baz"),
        make(sessionId="c", href=f"{SITE}/baz"),
        make(
            sessionId="d",
            href="https://beep.boop/site",
            rawHref="https://beep.boop/site?utm_campaign=beep",
        ),
        make(sessionId="e", href=f"{SITE}/qux"),
    ]
    assert campaigns(events) == [SessionRow("beep", 2, 1), SessionRow("boop", 1, 2)]
    assert campaigns([]) == []


def test_top_pages_drop_query_and_fragment() -> None:
    make = Events()
    events = [
        make(),
        make(user="A", href=f"{SITE}/foo"),
        make(user="A", href=f"{SITE}/foo?param=bar"),
        make(user="B", href="https://beep.boop/site#!/foo"),
        make(user="X", href="https://zomfg.site/resource"),
        make(user="A"),
    ]
    assert top_pages(events) == [
        CountRow(f"{SITE}/foo/", 2),
        CountRow("https://beep.boop/site/", 1),
        CountRow("https://zomfg.site/resource/", 1),
    ]


def test_live_pages_take_each_visitors_latest_page_by_timestamp() -> None:
    make = Events()
    base = NOW - timedelta(minutes=5)
    events = [
        make(user="user-a", timestamp=base + timedelta(seconds=100), href=f"{SITE}/bar"),
        make(user="user-a", timestamp=base + timedelta(seconds=120), href=f"{SITE}/foo?param=bar"),
        make(
            user="user-z",
            timestamp=base + timedelta(seconds=200),
            href="https://beep.boop/site#!/foo",
        ),
    ]
    assert live_pages(events) == [
        CountRow("https://beep.boop/site/", 1),
        CountRow(f"{SITE}/foo/", 1),
    ]


def _landing_exit_events() -> list[DecryptedEvent]:
    make = Events()
    return [
        make(sessionId="s-a", href=f"{SITE}/foo"),
        make(sessionId="s-a", href=f"{SITE}/bar"),
        make(sessionId="s-a", href=f"{SITE}/baz"),
        make(sessionId="s-b", href=f"{SITE}/foo?param=bar"),
        make(sessionId="s-b", href=f"{SITE}/bar?param=foo"),
        make(sessionId="s-c", href="https://beep.boop/site#!/foo"),
    ]


def test_landing_pages_count_each_sessions_first_page() -> None:
    assert landing_pages(_landing_exit_events()) == [
        CountRow(f"{SITE}/foo/", 2),
        CountRow("https://beep.boop/site/", 1),
    ]


def test_exit_pages_count_last_page_of_sessions_with_two_or_more_pageviews() -> None:
    assert exit_pages(_landing_exit_events()) == [
        CountRow(f"{SITE}/bar/", 1),
        CountRow(f"{SITE}/baz/", 1),
    ]


def test_returning_users_share_of_range_visitors_seen_before() -> None:
    make = Events()
    history = [make(user=name) for name in ("s-99", "s-00", "s-01", "s-99", "s-99")]
    in_range = [make(user=name) for name in ("s-01", "s-02", "s-03")]
    assert returning_users(in_range, history + in_range) == 1 - 2 / 3
    assert returning_users([], []) == 0


def test_retention_matrix_compares_each_chunk_with_later_ones() -> None:
    make = Events()
    chunks = [[make(user=name) for name in chunk] for chunk in ("abyz", "maz", "kmz", "")]
    assert retention_matrix(chunks) == [[1, 0.5, 0.25, 0], [1, 2 / 3, 0], [1, 0], [0]]
    assert retention_matrix([[], [], []]) == [[0, 0, 0], [0, 0], [0]]
    assert retention_matrix([]) == []


def test_onboarding_stats_describe_the_latest_event() -> None:
    make = Events()
    other = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
    common = {"referrer": "https://www.coolblog.com/", "isMobile": False, "geo": "PT"}
    first = make(account=ACCOUNT, href="https://www.offen.dev", **common)
    second = make(account=other, href="https://www.example.com", **common)
    third = make(account=ACCOUNT, href="https://www.offen.dev", **common)
    last = make(account=ACCOUNT, href="https://www.offen.dev/get-started", **common)
    assert onboarding_stats([first, last, second, third]) == OnboardingStats(
        domain="www.offen.dev",
        url="www.offen.dev/get-started/",
        referrer="www.coolblog.com",
        num_visits=3,
        is_mobile=False,
        geo="PT",
    )
    assert onboarding_stats([]) is None


# --- §6.2 queries.test.js (the parts that belong to metrics) ------------------------------


@pytest.mark.parametrize(
    ("href", "key"),
    [
        ("https://www.offen.dev/foo", "https://www.offen.dev/foo/"),
        ("https://www.offen.dev/foo/", "https://www.offen.dev/foo/"),
        ("https://www.offen.dev/foo/?bar-baz", "https://www.offen.dev/foo/"),
        ("https://www.offen.dev/foo?bar-baz", "https://www.offen.dev/foo/"),
        ("https://blog.foo.bar", "https://blog.foo.bar/"),
    ],
)
def test_page_keys_get_offens_trailing_slash(href: str, key: str) -> None:
    assert page_key(href) == key


def test_referrer_without_path_is_read_by_its_host() -> None:
    make = Events()
    event = make(sessionId="s", referrer="https://blog.foo.bar", href="https://www.offen.dev/foo")
    assert referrers([event]) == [SessionRow("blog.foo.bar", 1, 1)]


def test_unknown_resolution_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as caught:
        default_stats([], now=NOW, range=12, resolution="aeons")
    assert caught.value.field == "resolution"


# --- §6.3 buckets.test.js -----------------------------------------------------------------

BUCKET_CASES = [
    ("www.mysite.com", "www.mysite.com"),
    ("www.google.de", "Google"),
    ("www.googlelottery.com", "www.googlelottery.com"),
    ("www.google.com", "Google"),
    ("google.com", "Google"),
    ("m.facebook.com", "Facebook"),
    ("lm.facebook.com", "Facebook"),
    ("thefacebook.com", "thefacebook.com"),
    ("www.kewlorg.com", "www.kewlorg.com"),
    ("android-app://org.telegram.messenger", "Telegram"),
    ("android-app://org.telegrammmm.scam", "android-app://org.telegrammmm.scam"),
    ("www.facebook.com", "Facebook"),
    ("android-app://com.Slack", "Slack"),
    ("android-app://com.Slackers", "android-app://com.Slackers"),
    ("android-app://com.slack/", "Slack"),
    ("www.duckduckgo.com/something", "DuckDuckGo"),
    ("duckduckgo.com", "DuckDuckGo"),
    ("duckduckgone.com", "duckduckgone.com"),
    ("www.baidu.com", "Baidu"),
    ("baidu.com/search", "Baidu"),
    ("baidu.complete.com", "baidu.complete.com"),
    ("t.co.uk", "t.co.uk"),
    ("t.co/123", "Twitter"),
    ("linkedin.com/business-proposal", "LinkedIn"),
    ("www.linkedin.com", "LinkedIn"),
    ("linkedin.community/malware-download", "linkedin.community/malware-download"),
    ("android-app://com.linkedin.android", "LinkedIn"),
    ("android-app://com.linkedinteresting.scam", "android-app://com.linkedinteresting.scam"),
    ("news.ycombinator.com", "Hacker News"),
    ("news.ycombinator.com/item?id=1234567", "Hacker News"),
    ("news.ycombinator.community", "news.ycombinator.community"),
    ("old.redditors.community", "old.redditors.community"),
    ("old.reddit.com/r/distract-me", "Reddit"),
    ("www.reddit.com", "Reddit"),
    ("www.reddit.tk", "www.reddit.tk"),
    ("android-app://com.laurencedawson.reddit_sync.pro", "Reddit"),
    ("ecosia.org", "Ecosia"),
    ("www.qwant.com", "Qwant"),
    ("en.wikipedia.org", "Wikipedia"),
    ("fr.m.wikipedia.org", "Wikipedia"),
    ("fake.not-reallywikipedia.org", "fake.not-reallywikipedia.org"),
    ("st1.zoom.us", "Zoom"),
]


@pytest.mark.parametrize(("host", "bucket"), BUCKET_CASES, ids=[case[0] for case in BUCKET_CASES])
def test_referrer_bucket_matches_offens_expectations(host: str, bucket: str) -> None:
    assert referrer_bucket(host) == bucket


# --- §6.4 filters.test.js -----------------------------------------------------------------


def test_href_filter_keeps_pageviews_of_that_page_only() -> None:
    make = Events()
    events = [
        make(),
        make(sessionId="a", href="https://www.offen.dev/about"),
        make(sessionId="b", href="https://www.offen.dev/about"),
        make(sessionId="B", href="https://www.offen.dev/"),
        make(sessionId="a", href="https://www.offen.dev/about/imprint"),
        make(sessionId="a", href="https://www.offen.dev/"),
        make(sessionId="B", href="https://www.offen.dev/other"),
    ]
    about = Filter.parse("href:https://www.offen.dev/about")
    assert about.apply(events) == [events[1], events[2]]
    assert about.scope(events, reference=events) == [events[1], events[2]]


def test_referrer_filter_keeps_whole_sessions_grouped_and_scopes_to_them() -> None:
    make = Events()
    page = "https://www.offen.dev/"
    coolblog = {"referrer": "https://coolblog.com/", "href": page}
    a = make(sessionId="z", referrer="", href=page)
    b = make(sessionId="b", referrer="https://news.ycombinator.com/", href=page)
    c = make(sessionId="B", **coolblog)
    d = make(sessionId="a", **coolblog)
    e = make(sessionId="a", **coolblog)
    f = make(sessionId="B", referrer="https://www.google.com/", href=page)
    coolblog_filter = Filter("referrer", "coolblog.com")
    assert coolblog_filter.apply([a, b, c, d, e, f]) == [c, f, d, e]

    g = make(sessionId="z", href=page)
    h = make(sessionId="x", href=page)
    i = make(sessionId="B", href=page)
    assert coolblog_filter.scope([g, h, i], reference=[a, b, c, d, e, f]) == [i]


# --- §3.10 edge cases ---------------------------------------------------------------------


def test_single_event_metrics() -> None:
    event = Events()(
        sessionId="s",
        href="https://www.offen.dev/p/",
        pageload=120,
        isMobile=True,
        geo="DE",
        referrer="https://www.google.com/",
    )
    events = [event]
    assert bounce_rate(events) == 1
    assert avg_page_depth(events) == 1
    assert avg_pageload(events) == 120
    assert mobile_share(events) == 1
    assert referrers(events) == [SessionRow("Google", 1, 1)]
    assert locations(events) == [SessionRow("DE", 1, 1)]
    assert landing_pages(events) == [CountRow("https://www.offen.dev/p/", 1)]
    assert exit_pages(events) == []
    assert top_pages(events) == [CountRow("https://www.offen.dev/p/", 1)]
    assert returning_users(events, events) == 0


def test_empty_input_metrics() -> None:
    assert mobile_share([]) is None
    for table in (top_pages, live_pages, landing_pages, exit_pages, referrers, campaigns):
        assert table([]) == []


def test_events_without_session_form_one_pseudo_session_for_referrers() -> None:
    make = Events()
    google = {"referrer": "https://www.google.com/", "href": "https://www.offen.dev/"}
    events = [make(**google), make(**google), make(sessionId="s1", **google)]
    assert referrers(events) == [SessionRow("Google", 2, 1.5)]


def test_pageload_ignores_zero_negative_and_missing() -> None:
    make = Events()
    events = [make(pageload=value) for value in (0, -5, 100, None, 201)]
    assert avg_pageload(events) == 150.5


def test_same_url_in_two_accounts_gives_two_page_rows() -> None:
    make = Events()
    url = "https://www.offen.dev/"
    events = [make(account=ACCOUNT, href=url), make(account=OTHER_ACCOUNT, href=url)]
    assert top_pages(events) == [CountRow(url, 1), CountRow(url, 1)]


def test_full_ties_in_session_tables_come_out_in_offens_order() -> None:
    make = Events()
    names = ["zeta", "2", "alpha", "1", "a b c"]
    events = [
        make(
            sessionId=f"s{n}", href=f"https://www.offen.dev/?utm_campaign={name.replace(' ', '+')}"
        )
        for n, name in enumerate(names)
    ]
    assert [row.key for row in campaigns(events)] == ["a b c", "alpha", "zeta", "2", "1"]


def test_utm_values_decode_plus_and_percent_as_spaces() -> None:
    make = Events()
    events = [
        make(sessionId="a", href="https://www.offen.dev/?utm_campaign=a+b"),
        make(sessionId="b", href="https://www.offen.dev/?utm_campaign=a%20b"),
    ]
    assert campaigns(events) == [SessionRow("a b", 2, 1)]
