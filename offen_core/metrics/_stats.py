# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's metric functions, each one over a set of decrypted events.

Every public function takes the events as an iterable of `DecryptedEvent`, in any order: they
are put in event id order first, which is the order Offen's vault hands its metrics. The
private ``_name`` twin of each works on `Columns`, which is what `default_stats` uses so that
the events are read only once for the whole report.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_not
from typing import TYPE_CHECKING, Any, TypeVar, cast

from offen_core.metrics._columns import Columns
from offen_core.metrics._urls import parse_url

if TYPE_CHECKING:
    from offen_core.events import DecryptedEvent

__all__ = [
    "NONE_GEOLOCATION",
    "NONE_REFERRER",
    "CountRow",
    "OnboardingStats",
    "SessionRow",
    "avg_page_depth",
    "avg_pageload",
    "bounce_rate",
    "campaigns",
    "exit_pages",
    "landing_pages",
    "live_pages",
    "locations",
    "mobile_share",
    "onboarding_stats",
    "pageviews",
    "referrers",
    "retention_matrix",
    "returning_users",
    "sources",
    "top_pages",
    "unique_accounts",
    "unique_sessions",
    "unique_users",
]

NONE_REFERRER = "__NONE_REFERRER__"
"""The key of the referrers row for sessions that came without a (foreign) referrer."""

NONE_GEOLOCATION = "__NONE_GEOLOCATION__"
"""The key of the locations row for sessions without a country."""

_K = TypeVar("_K", bound=Hashable)
_DIGITS = frozenset("0123456789")


# --- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    """A row of a page table (top, live, landing and exit pages).

    Attributes:
        key: The page: origin and path with a final slash, such as
            ``https://www.offen.dev/about/``.
        count: How many pageviews (or sessions, for landing and exit pages) it has.
    """

    key: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        """The row as Offen writes it: ``{"key": ..., "count": ...}``.

        Returns:
            A JSON-ready dict.
        """
        return {"key": self.key, "count": self.count}


@dataclass(frozen=True)
class SessionRow:
    """A row of a session table (referrers, campaigns, sources, locations).

    Attributes:
        key: The referrer bucket or host, campaign, source or country code, or one of
            `NONE_REFERRER` and `NONE_GEOLOCATION`.
        sessions: How many sessions fall under the key.
        page_depth: The mean number of pageviews in those sessions.
    """

    key: str
    sessions: int
    page_depth: float

    def as_dict(self) -> dict[str, Any]:
        """The row as Offen writes it: ``{"key": ..., "count": [sessions, page depth]}``.

        Returns:
            A JSON-ready dict (a whole page depth is written as an integer, as JavaScript
            writes numbers).
        """
        return {"key": self.key, "count": [self.sessions, js_number(self.page_depth)]}


@dataclass(frozen=True)
class OnboardingStats:
    """What a visitor's own view shows first: the site of their most recent pageview.

    Attributes:
        domain: The host of the page.
        url: Host and path of the page, or ``None`` for the site's root.
        referrer: The ``$referrer`` of that pageview (bucket or host), or ``None``.
        num_visits: How many of the visitor's events belong to the same account.
        is_mobile: Whether that pageview came from a mobile device.
        geo: Its country code, or ``None``.
    """

    domain: str
    url: str | None
    referrer: str | None
    num_visits: int
    is_mobile: bool | None
    geo: str | None

    def as_dict(self) -> dict[str, Any]:
        """The stats with Offen's camelCase names.

        Returns:
            A JSON-ready dict.
        """
        return {
            "domain": self.domain,
            "url": self.url,
            "referrer": self.referrer,
            "numVisits": self.num_visits,
            "isMobile": self.is_mobile,
            "geo": self.geo,
        }


def js_number(value: float | None) -> float | int | None:
    """A float as JavaScript's JSON writes it: whole numbers without a fraction."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- ordering -----------------------------------------------------------------------------


def _is_array_index(key: object) -> bool:
    return (
        isinstance(key, str)
        and key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and int(key) < 4_294_967_295
    )


def js_key_order(keys: Iterable[_K]) -> list[_K]:
    """Keys in the order a JavaScript object holding them would list them.

    Integer-like keys ("0", "17") come first in numeric order, the others follow in the
    order they were first inserted.
    """
    listed = list(keys)
    numeric = [
        key
        for key in listed
        if key.__class__ is str and key[:1] in _DIGITS and _is_array_index(key)  # type: ignore[index]
    ]
    if not numeric:
        return listed
    numeric.sort(key=lambda key: int(str(key)))
    return numeric + [key for key in listed if not _is_array_index(key)]


def _utf16_key(text: str) -> str | bytes:
    # JavaScript compares strings by UTF-16 code units; for ASCII that is Python's order.
    return text if text.isascii() else text.encode("utf-16-be")


def sort_count_rows(rows: Iterable[CountRow]) -> list[CountRow]:
    """Offen's order for page tables: count descending, then key ascending."""
    return sorted(rows, key=lambda row: (-row.count, _utf16_key(row.key)))


def sort_session_rows(rows: Sequence[SessionRow]) -> list[SessionRow]:
    """Offen's order for session tables.

    Sessions descending, then page depth descending, then the reverse of the order the
    rows were made in (which is what Offen's reverse-after-stable-sort leaves).
    """
    ordered = list(rows)
    # Reverse first: the stable sort then leaves full ties in reverse order, as Offen does.
    ordered.reverse()
    ordered.sort(key=lambda row: (-row.sessions, -row.page_depth))
    return ordered


# --- plain counts -------------------------------------------------------------------------


def _distinct(column: Iterable[Any]) -> int:
    values = set(column)
    values.discard(None)
    return len(values)


def _pageviews(cols: Columns) -> int:
    secrets = cols.get("secret")
    return len(secrets) - secrets.count(None)


def pageviews(events: Iterable[DecryptedEvent]) -> int:
    """Count the pageviews: events that carry a secret id.

    Anonymous events (no secret id) are not counted, as in Offen.

    Args:
        events: The events.

    Returns:
        The number of events with a secret id.
    """
    return _pageviews(Columns(events))


def _unique_users(cols: Columns) -> int:
    return _distinct(cols.get("secret"))


def unique_users(events: Iterable[DecryptedEvent]) -> int:
    """Count the visitors: distinct secret ids.

    This is Offen's "unique users", "visitors" per chart bucket and "live users".

    Args:
        events: The events.

    Returns:
        The number of distinct secret ids.
    """
    return _unique_users(Columns(events))


def _unique_accounts(cols: Columns) -> int:
    return _distinct(cols.get("account"))


def unique_accounts(events: Iterable[DecryptedEvent]) -> int:
    """Count the accounts (websites) the events belong to: distinct account ids.

    Args:
        events: The events.

    Returns:
        The number of distinct account ids.
    """
    return _unique_accounts(Columns(events))


def _session_counts(cols: Columns) -> Counter[str | None]:
    """Pageviews per session id, with the events without one under ``None``."""
    return cols.memo("session_counts", lambda cols: Counter(cols.get("session")))


def _real_sessions(counts: Counter[str | None]) -> tuple[int, int, int]:
    """Sessions, pageviews in sessions, and one-pageview sessions; ``None`` is no session."""
    sessionless = counts.get(None, 0)
    sizes = list(counts.values())
    sessions = len(sizes) - (1 if sessionless else 0)
    singles = sizes.count(1) - (1 if sessionless == 1 else 0)
    return sessions, sum(sizes) - sessionless, singles


def _unique_sessions(cols: Columns) -> int:
    return _distinct(cols.get("session"))


def unique_sessions(events: Iterable[DecryptedEvent]) -> int:
    """Count the sessions: distinct session ids; events without one belong to none.

    Args:
        events: The events.

    Returns:
        The number of distinct session ids.
    """
    return _unique_sessions(Columns(events))


def _bounce_rate(counts: Counter[str | None]) -> float:
    sessions, _, singles = _real_sessions(counts)
    if not sessions:
        return 0.0
    return singles / sessions


def bounce_rate(events: Iterable[DecryptedEvent]) -> float:
    """The share of sessions that have exactly one pageview.

    Events without a session id are left out. With no session at all the rate is 0.

    Args:
        events: The events.

    Returns:
        A number from 0 to 1.
    """
    return _bounce_rate(_session_counts(Columns(events)))


def _avg_page_depth(counts: Counter[str | None]) -> float | None:
    sessions, views, _ = _real_sessions(counts)
    if not sessions:
        return None
    return views / sessions


def avg_page_depth(events: Iterable[DecryptedEvent]) -> float | None:
    """The mean number of pageviews per session.

    Events without a session id are left out.

    Args:
        events: The events.

    Returns:
        Pageviews with a session id divided by the number of sessions, or ``None`` when
        there is no session.
    """
    return _avg_page_depth(_session_counts(Columns(events)))


def _avg_pageload(cols: Columns) -> float | None:
    loads = [load for load in cols.get("load") if load and load > 0]
    if not loads:
        return None
    return float(sum(loads)) / len(loads)


def avg_pageload(events: Iterable[DecryptedEvent]) -> float | None:
    """The mean page load time in milliseconds over the pageviews that measured one.

    Only positive values count: a missing, zero or negative ``pageload`` (a subsequent
    pageview, or a page whose DOMContentLoaded had not ended) is ignored.

    Args:
        events: The events.

    Returns:
        The mean in milliseconds, or ``None`` when no event has a positive value.
    """
    return _avg_pageload(Columns(events))


def _mobile_share(cols: Columns) -> float | None:
    flags = cols.get("mobile")
    if not flags:
        return None
    return sum(1 for flag in flags if flag) / len(flags)


def mobile_share(events: Iterable[DecryptedEvent]) -> float | None:
    """The share of pageviews made on a mobile device.

    This is a share of events, not of visitors: Offen's code counts events (its docs say
    users). Events without ``isMobile`` count in the denominator.

    Args:
        events: The events.

    Returns:
        A number from 0 to 1, or ``None`` for no events.
    """
    return _mobile_share(Columns(events))


# --- returning users and retention --------------------------------------------------------


def _returning_users(cols: Columns, all_cols: Columns) -> float:
    users = set(cols.get("secret"))
    users.discard(None)
    if not users:
        return 0.0
    oldest = min(cols.get("id"))
    before = set(all_cols.get("secret")[: bisect_left(all_cols.get("id"), oldest)])
    first_timers = len(users - before)
    return 1 - first_timers / len(users)


def returning_users(
    events: Iterable[DecryptedEvent], all_events: Iterable[DecryptedEvent]
) -> float:
    """The share of the visitors in ``events`` who were seen before the oldest of them.

    "Before" is decided by event id against ``all_events``, which holds every event known
    (any time, unfiltered), as in Offen.

    Args:
        events: The events of the range.
        all_events: Every event known for the account.

    Returns:
        A number from 0 to 1; 0 when ``events`` has no visitor.
    """
    return _returning_users(Columns(events), Columns(all_events))


def _retention(chunks: Sequence[set[str]]) -> list[list[float]]:
    matrix = []
    for position, reference in enumerate(chunks):
        size = len(reference)
        row = [1.0 if size else 0.0]
        row.extend(
            len(later & reference) / size if size else 0.0 for later in chunks[position + 1 :]
        )
        matrix.append(row)
    return matrix


def _secrets(cols: Columns) -> set[str]:
    values = set(cols.get("secret"))
    values.discard(None)
    return values


def retention_matrix(chunks: Sequence[Iterable[DecryptedEvent]]) -> list[list[float]]:
    """Offen's retention triangle over consecutive chunks of events, oldest first.

    Row ``i`` starts with 1 (0 when chunk ``i`` has no visitor) and goes on with the share of
    chunk ``i``'s visitors who come back in each later chunk. Rows get shorter by one each:
    for 4 chunks the lengths are 4, 3, 2 and 1.

    Args:
        chunks: The chunks, oldest first (`default_stats` uses four chunks of 7 days counted
            back from ``now``).

    Returns:
        The matrix as a list of rows.
    """
    return _retention([_secrets(Columns(chunk)) for chunk in chunks])


# --- page tables --------------------------------------------------------------------------


def _count_pages(accounts: Sequence[str | None], pages: Sequence[str | None]) -> list[CountRow]:
    counts = Counter(zip(accounts, pages, strict=True))
    # Offen counts per account and concatenates; ties keep the accounts' order.
    order = {account: rank for rank, account in enumerate(js_key_order(dict.fromkeys(accounts)))}
    rows = sorted(
        ((account, page, count) for (account, page), count in counts.items() if page is not None),
        key=lambda item: order[item[0]],
    )
    return sort_count_rows(CountRow(page, count) for _, page, count in rows)


def _top_pages(cols: Columns) -> list[CountRow]:
    return _count_pages(cols.get("account"), cols.get("page"))


def top_pages(events: Iterable[DecryptedEvent]) -> list[CountRow]:
    """Pageviews per page, the "Top pages" table.

    A page is its origin and path with a final slash; query and fragment are dropped.
    Pageviews are counted per account, so the same URL in two accounts gives two rows.

    Args:
        events: The events; those without ``href`` are left out.

    Returns:
        Rows by count descending, then key ascending.
    """
    return _top_pages(Columns(events))


def _live_pages(cols: Columns) -> list[CountRow]:
    latest: dict[str | None, tuple[Any, str | None, str]] = {}
    for secret, stamp, account, page in zip(
        cols.get("secret"),
        cols.get("stamp"),
        cols.get("account"),
        cols.get("page"),
        strict=True,
    ):
        if page is None:
            continue
        held = latest.get(secret)
        if held is None or (stamp is not None and (held[0] is None or stamp > held[0])):
            latest[secret] = (stamp, account, page)
    return _count_pages(
        [account for _, account, _ in latest.values()], [page for _, _, page in latest.values()]
    )


def live_pages(events: Iterable[DecryptedEvent]) -> list[CountRow]:
    """The page each visitor looked at last, counted per page (Offen's active pages).

    "Last" is the greatest payload ``timestamp`` (the client's clock) of each secret id;
    `default_stats` applies it to the realtime window.

    Args:
        events: The events; those without ``href`` are left out.

    Returns:
        Rows by count descending, then key ascending.
    """
    return _live_pages(Columns(events))


def _session_pages(cols: Columns) -> tuple[dict[str, str], dict[str, str], Counter[str]]:
    return cols.memo("session_pages", _first_and_last_pages)


def _first_and_last_pages(cols: Columns) -> tuple[dict[str, str], dict[str, str], Counter[str]]:
    sessions: list[str | None] = cols.get("session")
    pages: list[str | None] = cols.get("page")
    if None in pages:
        has_page = list(map(is_not, pages, repeat(None)))
        sessions = list(compress(sessions, has_page))
        pages = list(compress(pages, has_page))
        sizes = Counter(sessions)
    else:
        sizes = Counter(_session_counts(cols))
    # Dicts keep the last value written: forwards gives the last page, backwards the first.
    last = dict(zip(sessions, pages, strict=True))
    first = dict(zip(reversed(sessions), reversed(pages), strict=True))
    for table in (last, first, sizes):
        table.pop(None, None)
    return (
        cast("dict[str, str]", first),
        cast("dict[str, str]", last),
        cast("Counter[str]", sizes),
    )


def _landing_pages(cols: Columns) -> list[CountRow]:
    first, _, _ = _session_pages(cols)
    return sort_count_rows(CountRow(page, count) for page, count in Counter(first.values()).items())


def landing_pages(events: Iterable[DecryptedEvent]) -> list[CountRow]:
    """Sessions per landing page: the page of each session's first pageview.

    "First" is by event id (the order the server received the events), as in Offen's code.
    Events without a session id or without ``href`` are left out.

    Args:
        events: The events.

    Returns:
        Rows by count descending, then key ascending.
    """
    return _landing_pages(Columns(events))


def _exit_pages(cols: Columns) -> list[CountRow]:
    _, last, sizes = _session_pages(cols)
    counts = Counter(page for session, page in last.items() if sizes[session] >= 2)
    return sort_count_rows(CountRow(page, count) for page, count in counts.items())


def exit_pages(events: Iterable[DecryptedEvent]) -> list[CountRow]:
    """Sessions per exit page: the page of each session's last pageview.

    Only sessions with at least two pageviews count; "last" is by event id, as in Offen's
    code (its docs say the most recent timestamp). Events without a session id or without
    ``href`` are left out.

    Args:
        events: The events.

    Returns:
        Rows by count descending, then key ascending.
    """
    return _exit_pages(Columns(events))


# --- session tables -----------------------------------------------------------------------


def _group_sessions(
    order: Sequence[str | None],
    key_of: dict[str | None, Any],
    counts: Counter[str | None],
    none_key: str | None,
    default: str | None = None,
) -> list[SessionRow]:
    """Sessions and pageviews per key; sessions whose key is falsy go to ``none_key``.

    A session missing from ``key_of`` has the key ``default``.
    """
    if none_key is None and default is None and len(key_of) < len(order):
        # Only the sessions with a key matter (campaigns, sources): skip the rest early.
        order = [session for session in order if session in key_of]
    keys = list(map(key_of.get, order, repeat(default)))
    sessions = Counter(keys)
    views = dict.fromkeys(sessions, 0)
    for key, size in zip(keys, map(counts.__getitem__, order), strict=True):
        views[key] += size

    rows = []
    none_sessions = none_views = 0
    for key in js_key_order(sessions):
        if key:
            rows.append(SessionRow(key, sessions[key], views[key] / sessions[key]))
        else:
            none_sessions += sessions[key]
            none_views += views[key]
    if none_key is not None and none_sessions:
        rows.append(SessionRow(none_key, none_sessions, none_views / none_sessions))
    return sort_session_rows(rows)


def _first_per_session(
    sessions: Sequence[str | None], values: Sequence[Any], *, skip_empty: bool
) -> dict[str | None, Any]:
    if skip_empty:
        kept_sessions = list(compress(sessions, values))
        kept_values = list(filter(None, values))
        return dict(zip(reversed(kept_sessions), reversed(kept_values), strict=True))
    return dict(zip(reversed(sessions), reversed(values), strict=True))


def _session_order(cols: Columns) -> list[str | None]:
    """Sessions (``None`` for the events without one) in JavaScript object key order."""
    return cols.memo("session_order", lambda cols: js_key_order(_session_counts(cols)))


def _referrers(cols: Columns) -> list[SessionRow]:
    first = _first_per_session(cols.get("session"), cols.get("referrer"), skip_empty=False)
    return _group_sessions(_session_order(cols), first, _session_counts(cols), NONE_REFERRER)


def referrers(events: Iterable[DecryptedEvent]) -> list[SessionRow]:
    """Sessions per referrer, with their page depth.

    A session's referrer is the ``$referrer`` of its first event (by event id): a bucket
    name such as ``"Google"``, or the referring host. Referrers on the page's own host do not
    count. Sessions without one form the `NONE_REFERRER` row. Events without a session id
    form one pseudo-session, as in Offen.

    Args:
        events: The events.

    Returns:
        Rows by sessions descending, then page depth descending, then in the reverse of the
        order the keys first appeared (integer-like keys after the others, as JavaScript
        object order leaves them).
    """
    return _referrers(Columns(events))


def _utm_table(cols: Columns, column: str) -> list[SessionRow]:
    first = _first_per_session(cols.get("session"), cols.get(column), skip_empty=True)
    return _group_sessions(_session_order(cols), first, _session_counts(cols), None)


def campaigns(events: Iterable[DecryptedEvent]) -> list[SessionRow]:
    """Sessions per ``utm_campaign`` value, with their page depth.

    A session's campaign is the ``utm_campaign`` query parameter of its first event (by event
    id) whose URL has a non-empty one; the URL is ``rawHref`` when present, else ``href``.
    Sessions without a campaign are left out. Events without a session id form one
    pseudo-session.

    Args:
        events: The events.

    Returns:
        Rows ordered as for `referrers`.
    """
    return _utm_table(Columns(events), "campaign")


def sources(events: Iterable[DecryptedEvent]) -> list[SessionRow]:
    """Sessions per ``utm_source`` value, with their page depth.

    Works as `campaigns`, with the ``utm_source`` parameter.

    Args:
        events: The events.

    Returns:
        Rows ordered as for `referrers`.
    """
    return _utm_table(Columns(events), "source")


def _locations(cols: Columns) -> list[SessionRow]:
    first = _first_per_session(cols.get("session"), cols.get("geo"), skip_empty=True)
    return _group_sessions(
        _session_order(cols), first, _session_counts(cols), None, NONE_GEOLOCATION
    )


def locations(events: Iterable[DecryptedEvent]) -> list[SessionRow]:
    """Sessions per country (Offen's ``geo``), with their page depth.

    A session's country is the first non-empty ``geo`` among its events, or
    `NONE_GEOLOCATION`. Events without a session id form one pseudo-session.

    Args:
        events: The events.

    Returns:
        Rows ordered as for `referrers`.
    """
    return _locations(Columns(events))


# --- the visitor's own view ---------------------------------------------------------------


def _onboarding_stats(cols: Columns) -> OnboardingStats | None:
    if not len(cols):
        return None
    last = len(cols) - 1
    href = cols.get("href")[last]
    parsed = parse_url(href) if href else None
    if parsed is None:
        return None
    path = parsed.path
    account = cols.get("account")[last]
    return OnboardingStats(
        domain=parsed.host,
        url=None if path == "/" else parsed.host + path,
        referrer=cols.get("referrer")[last],
        num_visits=cols.get("account").count(account),
        is_mobile=cols.get("mobile")[last],
        geo=cols.get("geo")[last],
    )


def onboarding_stats(events: Iterable[DecryptedEvent]) -> OnboardingStats | None:
    """The summary a visitor's own view opens with, from their latest event (by event id).

    Args:
        events: All events of the visitor.

    Returns:
        The stats, or ``None`` when there is no event or the latest has no usable ``href``.
    """
    return _onboarding_stats(Columns(events))
