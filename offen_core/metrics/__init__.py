# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's metrics over decrypted events: the numbers and tables of the auditorium.

`default_stats` computes the whole report Offen's vault hands its auditorium, in the same
shape (`Stats.as_dict`), from a list of `offen_core.events.DecryptedEvent`; every metric is
also a function of its own (`unique_users`, `bounce_rate`, `referrers`, ...). Definitions
follow Offen's code, quirks included, except where the design fixes them: referrer buckets
match whole host labels, and ``now`` and the time zone are parameters (no hidden clock, no
host time zone). The guide "Metrics" lists every definition and every difference.

The module reads events only; it decrypts nothing and keeps no state but caches of parsed
URLs.

Example:
    >>> from datetime import UTC, datetime
    >>> from offen_core.metrics import default_stats
    >>> report = default_stats([], now=datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    >>> report.unique_users, report.bounce_rate, report.empty
    (0, 0.0, True)
    >>> len(report.pageviews)
    7
"""

from offen_core.metrics._filters import FILTER_PROPS, Filter, FilterProp
from offen_core.metrics._report import PageviewsRow, Stats, default_stats
from offen_core.metrics._stats import (
    NONE_GEOLOCATION,
    NONE_REFERRER,
    CountRow,
    OnboardingStats,
    SessionRow,
    avg_page_depth,
    avg_pageload,
    bounce_rate,
    campaigns,
    exit_pages,
    landing_pages,
    live_pages,
    locations,
    mobile_share,
    onboarding_stats,
    pageviews,
    referrers,
    retention_matrix,
    returning_users,
    sources,
    top_pages,
    unique_accounts,
    unique_sessions,
    unique_users,
)
from offen_core.metrics._urls import page_key, referrer_bucket
from offen_core.metrics._windows import (
    MAX_BUCKETS,
    REALTIME_WINDOW,
    RESOLUTIONS,
    RETENTION_CHUNK,
    RETENTION_CHUNKS,
    Bucket,
    QueryWindow,
    Resolution,
    query_window,
)

__all__ = [
    "FILTER_PROPS",
    "MAX_BUCKETS",
    "NONE_GEOLOCATION",
    "NONE_REFERRER",
    "REALTIME_WINDOW",
    "RESOLUTIONS",
    "RETENTION_CHUNK",
    "RETENTION_CHUNKS",
    "Bucket",
    "CountRow",
    "Filter",
    "FilterProp",
    "OnboardingStats",
    "PageviewsRow",
    "QueryWindow",
    "Resolution",
    "SessionRow",
    "Stats",
    "avg_page_depth",
    "avg_pageload",
    "bounce_rate",
    "campaigns",
    "default_stats",
    "exit_pages",
    "landing_pages",
    "live_pages",
    "locations",
    "mobile_share",
    "onboarding_stats",
    "page_key",
    "pageviews",
    "query_window",
    "referrer_bucket",
    "referrers",
    "retention_matrix",
    "returning_users",
    "sources",
    "top_pages",
    "unique_accounts",
    "unique_sessions",
    "unique_users",
]
