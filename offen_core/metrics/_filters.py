# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Offen's report filters (``filter=<property>:<value>``).

A filter narrows the events a report counts. ``href`` keeps single pageviews; the others keep
or drop whole sessions, decided by a property of the session (its landing page, referrer,
country, ...). For the chart, a session filter keeps the sessions that matched in the main
window (Offen's scoped filter), so a bucket never shows a session that the rest of the report
left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from offen_core.errors import InvalidInputError
from offen_core.metrics._columns import Columns
from offen_core.metrics._stats import NONE_GEOLOCATION, NONE_REFERRER, js_key_order
from offen_core.metrics._urls import page_key

if TYPE_CHECKING:
    from offen_core.events import DecryptedEvent

__all__ = ["FILTER_PROPS", "Filter", "FilterProp"]

FilterProp = Literal["href", "geo", "referrer", "campaign", "source", "landing", "exit"]

FILTER_PROPS: tuple[FilterProp, ...] = (
    "href",
    "geo",
    "referrer",
    "campaign",
    "source",
    "landing",
    "exit",
)
"""The properties a filter can test, as the auditorium names them."""

_PAGE_PROPS = frozenset({"href", "landing", "exit"})


def _resolve_prop(name: str) -> FilterProp:
    # Offen upper-cases only the first letter, so "href" and "Href" name the same filter.
    for prop in FILTER_PROPS:
        if name == prop or name == prop[:1].upper() + prop[1:]:
            return prop
    raise InvalidInputError("filter", f"unknown property; use one of {', '.join(FILTER_PROPS)}")


@dataclass(frozen=True)
class Filter:
    """One of Offen's report filters: a property and the value it must have.

    Page values (``href``, ``landing``, ``exit``) are compared as page keys, so
    ``https://www.offen.dev/about`` and ``https://www.offen.dev/about/`` name the same page.

    Attributes:
        prop: What is tested: ``"href"`` (the pageview's page), ``"geo"`` (the session's
            country, `NONE_GEOLOCATION` for none), ``"referrer"`` (the session's referrer
            bucket or host, `NONE_REFERRER` for none), ``"campaign"``/``"source"`` (the
            session's ``utm_campaign``/``utm_source``), ``"landing"`` (the session's first
            page) or ``"exit"`` (its last page, also for single-page sessions).
        value: The value to match, compared exactly.

    Raises:
        InvalidInputError: For an unknown property or an empty value (field ``filter``).
    """

    prop: FilterProp
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "prop", _resolve_prop(self.prop))
        if not isinstance(self.value, str) or not self.value:
            raise InvalidInputError("filter", "needs a value after the property, as 'geo:DE'")

    @classmethod
    def parse(cls, text: str) -> Filter:
        """Read a filter as Offen's query writes it: ``<property>:<value>``.

        Only the first colon separates, so URLs survive (``href:https://a.example/b/``).

        Args:
            text: The filter, for example ``"referrer:Google"``.

        Returns:
            The filter.

        Raises:
            InvalidInputError: Without a colon, for an unknown property or an empty value
                (field ``filter``).
        """
        if not isinstance(text, str):
            raise InvalidInputError("filter", "must be a string '<property>:<value>'")
        prop, sep, value = text.partition(":")
        if not sep:
            raise InvalidInputError("filter", "must have the form '<property>:<value>'")
        return cls(_resolve_prop(prop), value)

    def __str__(self) -> str:
        return f"{self.prop}:{self.value}"

    @property
    def target(self) -> str:
        """The value as compared: a page key for page properties, else the value."""
        if self.prop in _PAGE_PROPS:
            return page_key(self.value) or self.value
        return self.value

    def apply(self, events: Iterable[DecryptedEvent]) -> list[DecryptedEvent]:
        """Keep the events that match, in Offen's order.

        The events are put in event id order first. A session filter returns the events of
        the matching sessions grouped by session, the sessions in order of first appearance.

        Args:
            events: The events.

        Returns:
            The matching events.
        """
        kept, _ = self._apply_columns(Columns(events))
        return list(kept.events)

    def scope(
        self, events: Iterable[DecryptedEvent], *, reference: Iterable[DecryptedEvent]
    ) -> list[DecryptedEvent]:
        """Keep the events of the sessions that matched in ``reference`` (Offen's scopedFilter).

        For ``href`` this is the same as `apply`.

        Args:
            events: The events to narrow, for example one chart bucket.
            reference: The events the filter was decided on, for example the main window.

        Returns:
            The kept events, in event id order.
        """
        _, matched = self._apply_columns(Columns(reference))
        return list(self._scope_columns(Columns(events), matched).events)

    # --- the column forms, used by default_stats -----------------------------------------

    def _apply_columns(self, cols: Columns) -> tuple[Columns, frozenset[str | None] | None]:
        """Filter columns; also return the matching sessions (``None`` for ``href``)."""
        target = self.target
        if self.prop == "href":
            pages = cols.get("page")
            return cols.pick([i for i, page in enumerate(pages) if page == target]), None

        groups: dict[str | None, list[int]] = {}
        for position, session in enumerate(cols.get("session")):
            members = groups.get(session)
            if members is None:
                groups[session] = [position]
            else:
                members.append(position)

        matched = [
            session
            for session in js_key_order(groups)
            if self._matches(cols, groups[session], target)
        ]
        index = [position for session in matched for position in groups[session]]
        return cols.pick(index), frozenset(matched)

    def _scope_columns(self, cols: Columns, matched: frozenset[str | None] | None) -> Columns:
        """Narrow columns to the sessions in ``matched``, or apply ``href`` again."""
        if matched is None:
            return self._apply_columns(cols)[0]
        sessions = cols.get("session")
        return cols.pick([i for i, session in enumerate(sessions) if session in matched])

    def _matches(self, cols: Columns, members: list[int], target: str) -> bool:
        prop = self.prop
        if prop == "landing":
            return bool(cols.get("page")[members[0]] == target)
        if prop == "exit":
            return bool(cols.get("page")[members[-1]] == target)
        if prop == "referrer":
            referrer = cols.get("referrer")[members[0]]
            return not referrer if target == NONE_REFERRER else referrer == target
        column = cols.get(prop)
        found = next((column[i] for i in members if column[i]), None)
        if prop == "geo":
            return (found or NONE_GEOLOCATION) == target
        return found is not None and found == target
