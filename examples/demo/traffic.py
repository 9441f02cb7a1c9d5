# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Made-up but plausible traffic for the demo: visitors, their sessions and their pageviews.

Nothing here encrypts or stores anything; `plan_traffic` only decides who visits which page
when, from a `random.Random`, so that a seed gives the same plan every time. It avoids the
mistakes of Offen's own demo generator (reference ``offen-server.md`` §8, wart 20):

- every page, referrer and country of the lists below can be drawn (weighted choices over
  the whole list, no off-by-one picker);
- ``isMobile`` is a real coin with the given odds, kept per visitor (one device);
- pageviews of a session are seconds to minutes apart, sessions of a visitor days apart;
- the referrer is what the browser would report: the external referrer (or none) on the
  landing page, the previous page after a link, the unchanged document referrer after a
  single-page navigation, with its query string dropped as the vault drops it;
- ``pageload`` is set for full page loads only, ``null`` for single-page navigations;
- the number of sessions and of pageviews is drawn once per visitor and session.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "CAMPAIGN_PAGES",
    "COUNTRIES",
    "PAGES",
    "REFERRERS",
    "PlannedPageview",
    "PlannedSession",
    "PlannedVisitor",
    "plan_traffic",
]

PAGES: Final[tuple[tuple[str, float], ...]] = (
    ("/demo/", 14),
    ("/demo/?page=home", 6),
    ("/demo/?page=pricing", 7),
    ("/demo/features", 10),
    ("/demo/about", 6),
    ("/demo/?tab=details", 3),
    ("/demo/blog/encrypted-pageviews", 5),
    ("/demo/blog/why-opt-in", 4),
    ("/demo/docs/getting-started", 5),
    ("/demo/contact", 2),
    ("/demo/imprint", 1),
)
"""Pages of the demo site (path and query) with their weights, for every pageview."""

CAMPAIGN_PAGES: Final[tuple[tuple[str, float], ...]] = (
    ("/demo/?page=pricing&utm_source=demo&utm_campaign=launch", 3),
    ("/demo/?utm_source=newsletter&utm_medium=email&utm_campaign=autumn", 2),
    ("/demo/blog/why-opt-in?utm_source=mastodon&utm_medium=social", 1),
)
"""Landing pages reached through campaign links; only a session's first pageview uses them."""

REFERRERS: Final[tuple[tuple[str, float], ...]] = (
    ("", 34),
    ("https://www.google.com/", 18),
    ("https://duckduckgo.com/", 9),
    ("https://www.bing.com/", 4),
    ("https://www.ecosia.org/", 3),
    ("https://www.qwant.com/", 1),
    ("https://news.ycombinator.com/", 5),
    ("https://www.reddit.com/r/privacy/", 4),
    ("https://lobste.rs/", 2),
    ("https://t.co/", 3),
    ("https://mastodon.social/@offen", 3),
    ("https://www.linkedin.com/", 2),
    ("https://github.com/offen/offen", 3),
    ("https://en.wikipedia.org/wiki/Web_analytics", 2),
    ("android-app://com.google.android.gm/", 1),
)
"""Where a session's first pageview comes from (``""`` is a direct visit), with weights."""

COUNTRIES: Final[tuple[tuple[str | None, float], ...]] = (
    ("DE", 16),
    ("US", 14),
    ("FR", 7),
    ("GB", 7),
    ("NL", 5),
    ("AT", 3),
    ("CH", 3),
    ("ES", 3),
    ("IT", 3),
    ("SE", 2),
    ("PL", 2),
    ("CA", 3),
    ("BR", 2),
    ("IN", 3),
    ("JP", 2),
    ("AU", 2),
    ("DK", 1),
    ("FI", 1),
    ("NO", 1),
    ("PT", 1),
    ("BE", 1),
    ("IE", 1),
    ("CZ", 1),
    ("MX", 1),
    ("AR", 1),
    ("ZA", 1),
    ("KR", 1),
    ("SG", 1),
    ("NZ", 0.5),
    ("IS", 0.5),
    (None, 3),
)
"""Countries as the vault guesses them from the time zone; ``None`` is a zone without one."""

_SESSIONS_PER_VISITOR: Final = ((1, 58), (2, 18), (3, 10), (4, 6), (5, 4), (6, 4))
_PAGEVIEWS_PER_SESSION: Final = (
    (1, 38),
    (2, 20),
    (3, 13),
    (4, 9),
    (5, 6),
    (6, 5),
    (7, 3),
    (8, 2),
    (9, 2),
    (10, 2),
)
_MOBILE_SHARE: Final = 0.38
_LINK_SHARE: Final = 0.6
"""How many follow-up pageviews are full page loads through a link (the rest are single-page
navigations through the History API, as the demo page's buttons make)."""

_MIN_DWELL: Final = timedelta(seconds=3)
_MAX_DWELL: Final = timedelta(minutes=20)
_MEAN_SESSION_GAP_DAYS: Final = 9.0
_MIN_SESSION_GAP: Final = timedelta(minutes=45)
_EDGE: Final = timedelta(hours=1)
"""Kept free at the old end of the retention period, so expiry does not take seeded events
at once, and before "now"."""


@dataclass(frozen=True, slots=True)
class PlannedPageview:
    """One pageview of the plan.

    Attributes:
        at: When it happened (UTC, whole milliseconds); also its event id's time.
        href: The page's URL.
        referrer: The referrer as the vault sends it (no query string), or ``""``.
        pageload: Milliseconds until ``DOMContentLoaded`` for a full load, else ``None``.
    """

    at: datetime
    href: str
    referrer: str
    pageload: int | None


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """One session (one browser tab) of a visitor.

    Attributes:
        session_id: The session id the vault would keep in ``sessionStorage``.
        pageviews: Its pageviews, oldest first.
    """

    session_id: str
    pageviews: tuple[PlannedPageview, ...]


@dataclass(frozen=True, slots=True)
class PlannedVisitor:
    """One visitor: a browser with a user id, a device and a time zone.

    Attributes:
        user_id: The id of the ``user`` cookie.
        is_mobile: Whether the device is a phone or tablet.
        geo: The country of the browser's time zone, or ``None``.
        sessions: The sessions, oldest first.
    """

    user_id: str
    is_mobile: bool
    geo: str | None
    sessions: tuple[PlannedSession, ...]

    def payloads(self) -> list[tuple[datetime, dict[str, Any]]]:
        """The plaintext payloads of every pageview, as the vault would write them.

        Returns:
            ``(time, payload)`` pairs, oldest first; each payload has Offen's members in the
            vault's order.
        """
        result: list[tuple[datetime, dict[str, Any]]] = []
        for session in self.sessions:
            for view in session.pageviews:
                payload: dict[str, Any] = {
                    "type": "PAGEVIEW",
                    "href": view.href,
                    "referrer": view.referrer,
                    "pageload": view.pageload,
                    "isMobile": self.is_mobile,
                    "timestamp": _javascript_time(view.at),
                    "sessionId": session.session_id,
                    "geo": self.geo,
                }
                result.append((view.at, payload))
        return result


def _javascript_time(when: datetime) -> str:
    """``Date.prototype.toISOString``: UTC with milliseconds and a ``Z``."""
    text = when.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


_T = TypeVar("_T")


def _weighted(rng: random.Random, choices: Sequence[tuple[_T, float]]) -> _T:
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(values, weights=weights, k=1)[0]


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _whole_milliseconds(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", parts.fragment))


def _busy_enough(rng: random.Random, when: datetime) -> bool:
    """Thin out nights and weekends, so the charts show days and weeks."""
    hour_weight = 0.25 + 0.75 * math.sin(math.pi * ((when.hour - 5) % 24) / 24) ** 2
    day_weight = 0.6 if when.weekday() >= 5 else 1.0
    return rng.random() < hour_weight * day_weight


def _first_visit(rng: random.Random, start: datetime, span: timedelta) -> datetime:
    # Traffic grows toward "now" (a site that gets known), with a daily and weekly rhythm.
    while True:
        fraction = 1.0 - math.pow(rng.random(), 1.6)
        when = start + span * fraction
        if _busy_enough(rng, when):
            return when


def _dwell(rng: random.Random) -> timedelta:
    # Log-normal reading time: a median of about 40 seconds, rarely more than a few minutes.
    seconds = rng.lognormvariate(math.log(40.0), 1.0)
    dwell = timedelta(seconds=seconds)
    return min(max(dwell, _MIN_DWELL), _MAX_DWELL)


def _pageload(rng: random.Random, is_mobile: bool) -> int:
    median = 900.0 if is_mobile else 600.0
    return int(min(max(rng.lognormvariate(math.log(median), 0.5), 80.0), 15000.0))


def _session(
    rng: random.Random,
    origin: str,
    start: datetime,
    end: datetime,
    is_mobile: bool,
) -> PlannedSession:
    count = _weighted(rng, _PAGEVIEWS_PER_SESSION)
    landing = _weighted(rng, PAGES + CAMPAIGN_PAGES)
    document_referrer = _without_query(_weighted(rng, REFERRERS))
    when = _whole_milliseconds(start)
    views = [PlannedPageview(when, origin + landing, document_referrer, _pageload(rng, is_mobile))]
    current = origin + landing
    for _ in range(count - 1):
        when = _whole_milliseconds(when + _dwell(rng))
        if when > end:
            break
        nxt = _weighted(rng, [(page, weight) for page, weight in PAGES if origin + page != current])
        if rng.random() < _LINK_SHARE:
            # A link loads a new document: its referrer is the page the link was on.
            document_referrer = _without_query(current)
            views.append(
                PlannedPageview(when, origin + nxt, document_referrer, _pageload(rng, is_mobile))
            )
        else:
            # A History API navigation keeps the document and its referrer.
            views.append(PlannedPageview(when, origin + nxt, document_referrer, None))
        current = origin + nxt
    return PlannedSession(_uuid4(rng), tuple(views))


def _visitor(rng: random.Random, origin: str, oldest: datetime, newest: datetime) -> PlannedVisitor:
    is_mobile = rng.random() < _MOBILE_SHARE
    geo = _weighted(rng, COUNTRIES)
    wanted = _weighted(rng, _SESSIONS_PER_VISITOR)
    start = _first_visit(rng, oldest, newest - oldest)
    sessions: list[PlannedSession] = []
    while len(sessions) < wanted and start <= newest:
        session = _session(rng, origin, start, newest, is_mobile)
        sessions.append(session)
        gap = timedelta(days=rng.expovariate(1.0 / _MEAN_SESSION_GAP_DAYS))
        start = session.pageviews[-1].at + max(gap, _MIN_SESSION_GAP)
    return PlannedVisitor(_uuid4(rng), is_mobile, geo, tuple(sessions))


def plan_traffic(
    rng: random.Random,
    visitors: int,
    *,
    origin: str,
    now: datetime,
    retention: timedelta,
) -> list[PlannedVisitor]:
    """Plan the traffic of a demo site over the retention period.

    Args:
        rng: The source of randomness (seed it for a reproducible plan).
        visitors: How many visitors (browsers) to make.
        origin: The site's origin, such as ``http://127.0.0.1:8000``; pages are below it.
        now: The current time (aware); no pageview is later.
        retention: The retention period; no pageview is older (with an hour to spare).

    Returns:
        The visitors, each with at least one session of at least one pageview.

    Raises:
        ValueError: ``visitors`` is negative, ``now`` is naive or ``retention`` is shorter
            than a day.
    """
    if visitors < 0:
        raise ValueError("the number of visitors cannot be negative")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if retention < timedelta(days=1):
        raise ValueError("the retention period must be at least a day")
    origin = origin.rstrip("/")
    newest = now.astimezone(UTC) - timedelta(seconds=1)
    oldest = newest - retention + _EDGE
    return [_visitor(rng, origin, oldest, newest) for _ in range(visitors)]
