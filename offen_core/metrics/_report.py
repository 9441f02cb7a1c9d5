# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The default report: every metric Offen's auditorium shows, computed in one go."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from offen_core._gc import collector_paused
from offen_core.errors import InvalidInputError
from offen_core.metrics._columns import Columns
from offen_core.metrics._filters import Filter
from offen_core.metrics._stats import (
    CountRow,
    OnboardingStats,
    SessionRow,
    _avg_page_depth,
    _avg_pageload,
    _bounce_rate,
    _exit_pages,
    _landing_pages,
    _live_pages,
    _locations,
    _mobile_share,
    _onboarding_stats,
    _pageviews,
    _referrers,
    _retention,
    _returning_users,
    _secrets,
    _session_counts,
    _top_pages,
    _unique_accounts,
    _unique_sessions,
    _unique_users,
    _utm_table,
    js_number,
)
from offen_core.metrics._windows import QueryWindow, json_date, query_window, to_ms

if TYPE_CHECKING:
    from offen_core.events import DecryptedEvent

__all__ = ["PageviewsRow", "Stats", "default_stats"]


@dataclass(frozen=True)
class PageviewsRow:
    """One bar of the chart.

    Attributes:
        date: The bucket's label instant (see `Bucket.date`), aware, in the report's zone.
        pageviews: Events with a secret id in the bucket.
        visitors: Distinct secret ids in the bucket.
        accounts: Distinct account ids in the bucket.
    """

    date: datetime
    pageviews: int
    visitors: int
    accounts: int

    def as_dict(self) -> dict[str, Any]:
        """The row as Offen writes it; ``date`` as JavaScript's ``Date.toJSON`` does.

        Returns:
            A JSON-ready dict.
        """
        return {
            "date": json_date(self.date),
            "pageviews": self.pageviews,
            "visitors": self.visitors,
            "accounts": self.accounts,
        }


@dataclass(frozen=True)
class Stats:
    """Offen's default report: the numbers and tables of the auditorium.

    The fields are Offen's result members in snake case; `as_dict` and `to_json` give them
    the camelCase names the auditorium receives. Ratios are plain floats in [0, 1], never
    rounded (Offen rounds only for display).

    Attributes:
        unique_users: Distinct visitors (secret ids) in the range.
        unique_accounts: Distinct accounts in the range.
        unique_sessions: Distinct session ids in the range.
        referrers: Sessions per referrer (see `referrers`).
        pages: Pageviews per page, Offen's top pages (see `top_pages`).
        pageviews: The chart, one row per bucket, oldest first.
        bounce_rate: Share of sessions with one pageview (see `bounce_rate`).
        avg_pageload: Mean page load in milliseconds, or ``None``.
        avg_page_depth: Mean pageviews per session, or ``None``.
        landing_pages: Sessions per first page (see `landing_pages`).
        exit_pages: Sessions per last page (see `exit_pages`).
        mobile_share: Share of pageviews from mobile devices, or ``None``.
        live_pages: Each live visitor's latest page, counted (last 15 minutes).
        live_users: Distinct visitors in the last 15 minutes.
        campaigns: Sessions per ``utm_campaign`` (see `campaigns`).
        sources: Sessions per ``utm_source`` (see `sources`).
        retention_matrix: The weekly retention triangle, oldest week first.
        empty: Whether there are no events at all (any time).
        returning_users: Share of the range's visitors seen before it; ``None`` for a
            range of 6 months (Offen hides it there: with its default retention there is no
            "before").
        onboarding_stats: The visitor's own summary, only for a user view.
        geo: Sessions per country (see `locations`).
        resolution: The resolution of the chart.
        range: The number of units the range spans.
        filter: The filter as given (``"<property>:<value>"``), or ``None``.
        window: The resolved time windows (not part of Offen's result).
    """

    unique_users: int
    unique_accounts: int
    unique_sessions: int
    referrers: tuple[SessionRow, ...]
    pages: tuple[CountRow, ...]
    pageviews: tuple[PageviewsRow, ...]
    bounce_rate: float
    avg_pageload: float | None
    avg_page_depth: float | None
    landing_pages: tuple[CountRow, ...]
    exit_pages: tuple[CountRow, ...]
    mobile_share: float | None
    live_pages: tuple[CountRow, ...]
    live_users: int
    campaigns: tuple[SessionRow, ...]
    sources: tuple[SessionRow, ...]
    retention_matrix: tuple[tuple[float, ...], ...]
    empty: bool
    returning_users: float | None
    onboarding_stats: OnboardingStats | None
    geo: tuple[SessionRow, ...]
    resolution: str
    range: int
    filter: str | None
    window: QueryWindow = field(repr=False, compare=False)

    def as_dict(self, *, account: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The report in the shape the auditorium receives, with camelCase names.

        Args:
            account: What to put in Offen's ``account`` member (the operator's account
                object); metrics know nothing about it, so it is ``None`` unless given.

        Returns:
            A JSON-ready dict; whole-number floats are written as integers, as
            JavaScript's JSON does.
        """
        return {
            "uniqueUsers": self.unique_users,
            "uniqueAccounts": self.unique_accounts,
            "uniqueSessions": self.unique_sessions,
            "referrers": [row.as_dict() for row in self.referrers],
            "pages": [row.as_dict() for row in self.pages],
            "pageviews": [row.as_dict() for row in self.pageviews],
            "bounceRate": js_number(self.bounce_rate),
            "avgPageload": js_number(self.avg_pageload),
            "avgPageDepth": js_number(self.avg_page_depth),
            "landingPages": [row.as_dict() for row in self.landing_pages],
            "exitPages": [row.as_dict() for row in self.exit_pages],
            "mobileShare": js_number(self.mobile_share),
            "livePages": [row.as_dict() for row in self.live_pages],
            "liveUsers": self.live_users,
            "campaigns": [row.as_dict() for row in self.campaigns],
            "sources": [row.as_dict() for row in self.sources],
            "retentionMatrix": [[js_number(cell) for cell in row] for row in self.retention_matrix],
            "empty": self.empty,
            "returningUsers": js_number(self.returning_users),
            "onboardingStats": (
                None if self.onboarding_stats is None else self.onboarding_stats.as_dict()
            ),
            "geo": [row.as_dict() for row in self.geo],
            "resolution": self.resolution,
            "range": self.range,
            "filter": self.filter,
            "account": None if account is None else dict(account),
        }

    def to_json(self, *, account: Mapping[str, Any] | None = None) -> str:
        """The report as compact JSON text, as the vault would send it.

        Args:
            account: See `as_dict`.

        Returns:
            JSON text (UTF-8 characters kept, no ASCII escaping).
        """
        return json.dumps(self.as_dict(account=account), separators=(",", ":"), ensure_ascii=False)


def _resolve_filter(value: str | Filter | None) -> Filter | None:
    if value is None or isinstance(value, Filter):
        return value
    if isinstance(value, str):
        return Filter.parse(value)
    raise InvalidInputError("filter", "must be a Filter, a string '<property>:<value>' or None")


# The report builds columns of every event and drops them at the end: nothing for the
# cyclic garbage collector to find, and its passes would cost more than the report.
@collector_paused()
def default_stats(
    events: Iterable[DecryptedEvent],
    *,
    now: datetime,
    range: int | str | None = None,
    resolution: str = "days",
    start: date | None = None,
    end: date | None = None,
    time_zone: str | tzinfo = "UTC",
    filter: str | Filter | None = None,
    user_view: bool = False,
) -> Stats:
    """Compute Offen's default report over decrypted events.

    ``events`` are all the events known for the account (or, in a user view, for the
    visitor), in any order; the report picks its windows out of them by the time of each
    event id. See `query_window` for how ``range``, ``resolution``, ``start`` and ``end``
    make the windows, and `Filter` for the filters.

    Args:
        events: Every known event; they also serve as the history for returning users.
        now: The instant the report is made for; an aware datetime. There is no hidden
            clock: pass ``datetime.now(UTC)`` for a live report.
        range: A number of units, or ``"yesterday"``; ``None`` means 7 (or the custom
            range when ``start`` and ``end`` are given).
        resolution: ``"hours"``, ``"days"``, ``"weeks"`` or ``"months"``.
        start: The first day of a custom range (with ``end``).
        end: The last day of a custom range (with ``start``).
        time_zone: A zoneinfo name or a tzinfo; days, weeks (from Monday) and months are
            counted in it.
        filter: A `Filter`, a string ``"<property>:<value>"``, or ``None``.
        user_view: Compute the visitor's ``onboarding_stats`` (Offen does so only when a
            visitor looks at their own data).

    Returns:
        The report.

    Raises:
        InvalidInputError: For a bad parameter (``now``, ``time_zone``, ``resolution``,
            ``range``, ``start``, ``end`` or ``filter``, named in the error's ``field``) or
            an event whose id is not a ULID.
    """
    window = query_window(
        now=now, range=range, resolution=resolution, start=start, end=end, time_zone=time_zone
    )
    active_filter = _resolve_filter(filter)
    root = Columns(events)

    main = root.between(to_ms(window.lower), to_ms(window.upper))
    matched: frozenset[str | None] | None = None
    if active_filter is not None:
        main, matched = active_filter._apply_columns(main)
    counts = _session_counts(main)

    chart = []
    for bucket in window.buckets:
        cell = root.between(to_ms(bucket.start), to_ms(bucket.end))
        if active_filter is not None:
            cell = active_filter._scope_columns(cell, matched)
        chart.append(
            PageviewsRow(
                date=bucket.date,
                pageviews=_pageviews(cell),
                visitors=_unique_users(cell),
                accounts=_unique_accounts(cell),
            )
        )

    def windowed(lower: datetime, upper: datetime) -> Columns:
        cols = root.between(to_ms(lower), to_ms(upper))
        return cols if active_filter is None else active_filter._apply_columns(cols)[0]

    live = windowed(*window.realtime)
    chunks = [_secrets(windowed(lower, upper)) for lower, upper in window.retention_chunks]

    returning: float | None = _returning_users(main, root)
    if window.resolution == "months" and window.range == 6:
        returning = None

    return Stats(
        unique_users=_unique_users(main),
        unique_accounts=_unique_accounts(main),
        unique_sessions=_unique_sessions(main),
        referrers=tuple(_referrers(main)),
        pages=tuple(_top_pages(main)),
        pageviews=tuple(chart),
        bounce_rate=_bounce_rate(counts),
        avg_pageload=_avg_pageload(main),
        avg_page_depth=_avg_page_depth(counts),
        landing_pages=tuple(_landing_pages(main)),
        exit_pages=tuple(_exit_pages(main)),
        mobile_share=_mobile_share(main),
        live_pages=tuple(_live_pages(live)),
        live_users=_unique_users(live),
        campaigns=tuple(_utm_table(main, "campaign")),
        sources=tuple(_utm_table(main, "source")),
        retention_matrix=tuple(tuple(row) for row in _retention(chunks)),
        empty=len(root) == 0,
        returning_users=returning,
        onboarding_stats=_onboarding_stats(root) if user_view else None,
        geo=tuple(_locations(main)),
        resolution=window.resolution,
        range=window.range,
        filter=None
        if active_filter is None
        else (filter if isinstance(filter, str) else str(active_filter)),
        window=window,
    )
