# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""A self-contained HTML report: inline CSS and SVG charts, no script, no external asset.

The page opens offline in any browser and can be mailed or archived as one file. Every value
that came from a visitor (pages, referrers, campaigns) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from offen_core.metrics import CountRow, PageviewsRow, SessionRow
from offen_core.operator._report import AccountReport, display_key, percent

__all__ = ["render_html"]

_CSS = """
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6472; --bar: #3b6fb6;
  --bar2: #9bb8e0; --line: #d5dae1; --bg: #ffffff; --cell: 59, 111, 182; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8ebf0; --muted: #a5adba; --bar: #6d9ee0; --bar2: #35557f;
    --line: #3a414c; --bg: #15191f; --cell: 109, 158, 224; }
}
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; padding: 1.5rem; max-width: 64rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; }
p.meta { color: var(--muted); margin: 0 0 1rem; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr));
  gap: .75rem; margin: 0; }
dl.figures div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
dt { color: var(--muted); font-size: .85rem; }
dd { margin: 0; font-size: 1.3rem; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; }
td.key { overflow-wrap: anywhere; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(28rem, 1fr));
  gap: 0 2rem; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted); font-size: 11px; }
svg .bar { fill: var(--bar); }
svg .bar2 { fill: var(--bar2); }
svg .axis { stroke: var(--line); }
svg .cell-text { fill: var(--fg); font-size: 12px; }
.legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem;
  vertical-align: -.1rem; }
"""


def _number(value: int) -> str:
    return f"{value:,}"


def _pageviews_chart(rows: Sequence[PageviewsRow], time_zone: object, resolution: str) -> str:
    width, height, left, bottom, top = 960, 260, 48, 40, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max((row.pageviews for row in rows), default=0) or 1
    slot = plot_w / max(len(rows), 1)
    bar = max(slot * 0.38, 1.0)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Pageviews and visitors per bucket">'
    ]
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line class="axis" x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>'
        )
    label_every = max(1, len(rows) // 12)
    for index, row in enumerate(rows):
        x = left + slot * index + slot * 0.1
        for offset, value, kind in ((0.0, row.pageviews, "bar"), (bar, row.visitors, "bar2")):
            h = plot_h * value / peak
            parts.append(
                f'<rect class="{kind}" x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>'
                f"{escape(_label(row, time_zone, resolution))}: {_number(value)} "
                f"{'pageviews' if kind == 'bar' else 'visitors'}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{escape(_label(row, time_zone, resolution))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _label(row: PageviewsRow, time_zone: object, resolution: str = "days") -> str:
    when = row.date.astimezone(time_zone)  # type: ignore[arg-type]
    return when.strftime("%Y-%m-%d %H:%M") if resolution == "hours" else f"{when:%Y-%m-%d}"


def _retention_chart(matrix: Sequence[Sequence[float]]) -> str:
    size = len(matrix)
    cell, left, top = 90, 90, 28
    width, height = left + cell * max(size, 1) + 4, top + cell * max(size, 1) // 2 + 4
    row_h = cell // 2
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Retention: share of each week\'s visitors seen again in later weeks" '
        f'style="max-width:{width}px">'
    ]
    for offset in range(size):
        parts.append(
            f'<text x="{left + cell * offset + cell / 2}" y="{top - 10}" '
            f'text-anchor="middle">+{offset} wk</text>'
        )
    for index, row in enumerate(matrix):
        y = top + row_h * index
        parts.append(
            f'<text x="{left - 8}" y="{y + row_h / 2 + 4}" text-anchor="end">'
            f"week {index + 1}</text>"
        )
        for offset, value in enumerate(row):
            x = left + cell * offset
            alpha = 0.08 + 0.85 * max(0.0, min(1.0, value))
            parts.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{row_h - 2}" '
                f'rx="3" style="fill: rgba(var(--cell), {alpha:.2f})"/>'
                f'<text class="cell-text" x="{x + cell / 2}" y="{y + row_h / 2 + 4}" '
                f'text-anchor="middle">{escape(percent(value))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _count_table(title: str, head: str, rows: Sequence[CountRow], limit: int) -> str:
    body = (
        "".join(
            f'<tr><td class="key">{escape(row.key)}</td>'
            f'<td class="n">{_number(row.count)}</td></tr>'
            for row in rows[:limit]
        )
        or '<tr><td colspan="2">none</td></tr>'
    )
    return (
        f"<section><h2>{escape(title)}</h2><table><thead><tr><th>{escape(head)}</th>"
        f'<th class="n">count</th></tr></thead><tbody>{body}</tbody></table></section>'
    )


def _session_table(title: str, head: str, rows: Sequence[SessionRow], limit: int) -> str:
    body = (
        "".join(
            f'<tr><td class="key">{escape(display_key(row.key))}</td>'
            f'<td class="n">{_number(row.sessions)}</td>'
            f'<td class="n">{row.page_depth:.1f}</td></tr>'
            for row in rows[:limit]
        )
        or '<tr><td colspan="3">none</td></tr>'
    )
    return (
        f"<section><h2>{escape(title)}</h2><table><thead><tr><th>{escape(head)}</th>"
        f'<th class="n">sessions</th><th class="n">page depth</th></tr></thead>'
        f"<tbody>{body}</tbody></table></section>"
    )


def render_html(report: AccountReport, *, limit: int = 20) -> str:
    """Render a report as one self-contained HTML page.

    The page holds its style and its charts (inline SVG: pageviews over time and the
    retention triangle); it loads nothing and runs no script, so it opens offline.

    Args:
        report: The report.
        limit: The most rows per table.

    Returns:
        The HTML document.
    """
    stats = report.stats
    zone = stats.window.time_zone
    name = report.account_name or report.account_id
    undecryptable = sum(report.undecryptable.values())
    figures = [
        ("Unique visitors", _number(stats.unique_users)),
        ("Unique sessions", _number(stats.unique_sessions)),
        ("Pageviews", _number(sum(row.pageviews for row in stats.pageviews))),
        ("Bounce rate", percent(stats.bounce_rate)),
        ("Returning visitors", percent(stats.returning_users)),
        ("Mobile share", percent(stats.mobile_share)),
        (
            "Avg. page depth",
            "-" if stats.avg_page_depth is None else f"{stats.avg_page_depth:.1f}",
        ),
        ("Avg. page load", "-" if stats.avg_pageload is None else f"{stats.avg_pageload:.0f} ms"),
        ("Events decrypted", _number(report.events)),
        ("Events undecryptable", _number(undecryptable)),
    ]
    figure_html = "".join(
        f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>" for label, value in figures
    )
    reasons = ""
    if report.undecryptable:
        reasons = (
            '<p class="meta">Undecryptable events are left out of every figure: '
            + ", ".join(
                f"{escape(reason)} {_number(count)}"
                for reason, count in report.undecryptable.items()
            )
            + ".</p>"
        )
    tables = "".join(
        [
            _count_table("Top pages", "page", stats.pages, limit),
            _session_table("Referrers", "referrer", stats.referrers, limit),
            _count_table("Landing pages", "page", stats.landing_pages, limit),
            _count_table("Exit pages", "page", stats.exit_pages, limit),
            _session_table("Campaigns", "campaign", stats.campaigns, limit),
            _session_table("Sources", "source", stats.sources, limit),
            _session_table("Countries", "country", stats.geo, limit),
        ]
    )
    generated = report.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>Report for {escape(name)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>Report for {escape(name)}</h1>"
        f'<p class="meta">{escape(str(stats.range))} {escape(stats.resolution)} up to '
        f"{escape(generated)} ({escape(report.time_zone)}); made by offen-core from "
        f"{_number(report.events)} decrypted events.</p></header>"
        f'<main><dl class="figures">{figure_html}</dl>{reasons}'
        "<section><h2>Pageviews over time</h2>"
        '<p class="legend"><span style="background: var(--bar)"></span>pageviews'
        '<span style="background: var(--bar2)"></span>visitors</p>'
        f"{_pageviews_chart(stats.pageviews, zone, stats.resolution)}</section>"
        "<section><h2>Retention</h2>"
        '<p class="meta">Of the visitors of each 7-day week (week 1 is the oldest), the '
        "share seen again in each later week.</p>"
        f"{_retention_chart(stats.retention_matrix)}</section>"
        f'<div class="tables">{tables}</div></main></body></html>\n'
    )
