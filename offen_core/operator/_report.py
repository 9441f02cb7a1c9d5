# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The metrics report of an account as JSON and as plain-text tables for a terminal."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from offen_core.metrics import (
    NONE_GEOLOCATION,
    NONE_REFERRER,
    CountRow,
    Filter,
    SessionRow,
    Stats,
    default_stats,
)

if TYPE_CHECKING:
    from offen_core.operator._operator import AccountState

__all__ = ["AccountReport", "account_report", "format_tables", "percent"]


@dataclass(frozen=True)
class AccountReport:
    """A metrics report of one account, with what the operator could not decrypt.

    Attributes:
        account_id: The account's id.
        account_name: The account's name.
        stats: The metrics (`offen_core.metrics.default_stats`).
        undecryptable: Events that could not be decrypted, by reason; they are not in the
            metrics.
        events: The decrypted events the metrics were computed over.
        generated_at: The instant the report is for (the metrics' ``now``).
        time_zone: The zone days are counted in, by name.
        sequence: The cursor the events were read up to.
    """

    account_id: str
    account_name: str
    stats: Stats = field(repr=False)
    undecryptable: Mapping[str, int]
    events: int
    generated_at: datetime
    time_zone: str
    sequence: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Give Offen's report shape with two added members.

        ``account`` holds ``accountId`` and ``name`` only (Offen puts the decrypted private
        key there; a file must never hold it); the added ``undecryptable`` counts events by
        reason and ``events`` counts the decrypted ones.

        Returns:
            A JSON-ready dict.
        """
        data = self.stats.as_dict(account={"accountId": self.account_id, "name": self.account_name})
        data["undecryptable"] = dict(self.undecryptable)
        data["events"] = self.events
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        """Give the report as JSON text (see `as_dict`).

        Args:
            indent: Indentation for people to read, or ``None`` for compact text.

        Returns:
            The JSON text.
        """
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(self.as_dict(), indent=indent, separators=separators, ensure_ascii=False)


def account_report(
    state: AccountState,
    *,
    now: datetime,
    account_name: str = "",
    range: int | str | None = None,
    resolution: str = "days",
    time_zone: str | tzinfo = "UTC",
    filter: str | Filter | None = None,
) -> AccountReport:
    """Compute Offen's default report over an account's decrypted events.

    Args:
        state: The account's state after `Operator.sync`.
        now: The instant the report is for (aware); there is no hidden clock.
        account_name: The account's name, for display.
        range: A number of units or ``"yesterday"``; 7 by default.
        resolution: ``"hours"``, ``"days"``, ``"weeks"`` or ``"months"``.
        time_zone: A zoneinfo name or a tzinfo.
        filter: A filter ``"<property>:<value>"``, or ``None``.

    Returns:
        The report.

    Raises:
        InvalidInputError: A parameter is invalid (see `offen_core.metrics.default_stats`).
    """
    stats = default_stats(
        state.events(ordered=False),
        now=now,
        range=range,
        resolution=resolution,
        time_zone=time_zone,
        filter=filter,
    )
    return AccountReport(
        account_id=state.account_id,
        account_name=account_name,
        stats=stats,
        undecryptable=state.undecryptable_counts(),
        events=len(state),
        generated_at=now,
        time_zone=time_zone if isinstance(time_zone, str) else str(stats.window.time_zone),
        sequence=state.sequence,
    )


def percent(value: float | None) -> str:
    """Format a share in [0, 1] as a percentage with one decimal, or ``-`` for none.

    Args:
        value: The share, or ``None``.

    Returns:
        Such as ``"42.5 %"``.
    """
    return "-" if value is None else f"{value * 100:.1f} %"


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [title, line(headers), "  ".join("-" * width for width in widths)]
    out.extend(line(row) for row in rows)
    if not rows:
        out.append("(none)")
    return [*out, ""]


def display_key(key: str) -> str:
    """Give a table key as people read it: Offen's placeholders become words.

    Args:
        key: A row key of a metrics table.

    Returns:
        ``(direct or none)`` for `NONE_REFERRER`, ``(unknown)`` for `NONE_GEOLOCATION`,
        else ``key``.
    """
    if key == NONE_REFERRER:
        return "(direct or none)"
    if key == NONE_GEOLOCATION:
        return "(unknown)"
    return key


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _count_rows(rows: Sequence[CountRow], limit: int) -> list[list[str]]:
    return [[_clip(row.key), f"{row.count:,}"] for row in rows[:limit]]


def _session_rows(rows: Sequence[SessionRow], limit: int) -> list[list[str]]:
    return [
        [_clip(display_key(row.key)), f"{row.sessions:,}", f"{row.page_depth:.1f}"]
        for row in rows[:limit]
    ]


def format_tables(report: AccountReport, *, limit: int = 10) -> str:
    """Render a report as plain-text tables for a terminal.

    Args:
        report: The report.
        limit: The most rows per table.

    Returns:
        The text, ending with a newline.
    """
    stats = report.stats
    name = report.account_name or report.account_id
    out = [f"Report for {name} ({stats.range} {stats.resolution}, {report.time_zone})", ""]
    figures = [
        ["Unique visitors", f"{stats.unique_users:,}"],
        ["Unique sessions", f"{stats.unique_sessions:,}"],
        ["Pageviews", f"{sum(row.pageviews for row in stats.pageviews):,}"],
        ["Bounce rate", percent(stats.bounce_rate)],
        ["Returning visitors", percent(stats.returning_users)],
        ["Mobile share", percent(stats.mobile_share)],
        [
            "Avg. page depth",
            "-" if stats.avg_page_depth is None else f"{stats.avg_page_depth:.1f}",
        ],
        ["Avg. page load", "-" if stats.avg_pageload is None else f"{stats.avg_pageload:.0f} ms"],
        ["Live visitors", f"{stats.live_users:,}"],
        ["Events decrypted", f"{report.events:,}"],
        ["Events undecryptable", f"{sum(report.undecryptable.values()):,}"],
    ]
    out += _table("Key figures", ["figure", "value"], figures)
    if report.undecryptable:
        out += _table(
            "Undecryptable events",
            ["reason", "events"],
            [[reason, f"{count:,}"] for reason, count in report.undecryptable.items()],
        )
    chart = [
        [
            row.date.astimezone(stats.window.time_zone).strftime(
                "%Y-%m-%d %H:%M" if stats.resolution == "hours" else "%Y-%m-%d"
            ),
            f"{row.pageviews:,}",
            f"{row.visitors:,}",
        ]
        for row in stats.pageviews
    ]
    out += _table("Pageviews", ["date", "pageviews", "visitors"], chart)
    out += _table("Top pages", ["page", "pageviews"], _count_rows(stats.pages, limit))
    out += _table(
        "Referrers", ["referrer", "sessions", "depth"], _session_rows(stats.referrers, limit)
    )
    out += _table("Landing pages", ["page", "sessions"], _count_rows(stats.landing_pages, limit))
    out += _table("Exit pages", ["page", "sessions"], _count_rows(stats.exit_pages, limit))
    out += _table(
        "Campaigns", ["campaign", "sessions", "depth"], _session_rows(stats.campaigns, limit)
    )
    out += _table("Sources", ["source", "sessions", "depth"], _session_rows(stats.sources, limit))
    out += _table("Countries", ["country", "sessions", "depth"], _session_rows(stats.geo, limit))
    weeks = len(stats.retention_matrix)
    retention = [
        [f"week {index + 1}", *(percent(cell) for cell in row), *([""] * (weeks - len(row)))]
        for index, row in enumerate(stats.retention_matrix)
    ]
    out += _table(
        "Retention (share of each week's visitors seen again)",
        ["cohort", *(f"+{offset}" for offset in range(weeks))],
        retention,
    )
    return "\n".join(out)
