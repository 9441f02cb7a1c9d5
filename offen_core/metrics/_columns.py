# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Column-wise views of a list of decrypted events, the input every metric reads.

Each field the metrics need is pulled out of the events once, into a plain list, on first
use; the payload's own fields all in one pass, since each visit to an event costs cache
misses when the events lie scattered in memory. Derived fields (the page key,
``$referrer``, the campaign parameters) go through the memoised URL parser. A window or a
filter is a subset: it slices its parent's columns (a contiguous index range) or picks from
them (an index list), so the events are never touched twice and no model is built inside
the metrics.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter, le
from typing import TYPE_CHECKING, Any, TypeVar, cast

from offen_core.errors import InvalidInputError
from offen_core.metrics._urls import page_key_or_none, referrer_value, utm_values

if TYPE_CHECKING:
    from offen_core.events import DecryptedEvent

__all__ = ["Columns", "ulid_prefix"]

_T = TypeVar("_T")
_ULID_LENGTH = 26

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_NO_UTM: tuple[str | None, str | None] = (None, None)


def ulid_prefix(milliseconds: int) -> str:
    """The 10-character time part of a ULID for an instant in milliseconds.

    Every ULID of that millisecond or later sorts at or after it, every earlier one before
    it, so windows are found by bisecting the sorted event ids, without decoding any.
    """
    milliseconds = min(max(milliseconds, 0), (1 << 48) - 1)
    digits = []
    for _ in range(10):
        milliseconds, digit = divmod(milliseconds, 32)
        digits.append(_CROCKFORD[digit])
    return "".join(reversed(digits))


_read_event_fields = attrgetter("event_id", "secret_id", "account_id", "payload")


# The payload's own fields, by column name: read together, in one pass over the payloads,
# since a report needs them all and each visit to a scattered object costs a cache miss.
_PAYLOAD_FIELDS = {
    "href": "href",
    "raw_href": "raw_href",
    "referrer_url": "referrer",
    "session": "session_id",
    "mobile": "is_mobile",
    "load": "pageload",
    "geo": "geo",
    "stamp": "timestamp",
}
_read_payload_fields = attrgetter(*_PAYLOAD_FIELDS.values())


def _payload_fields(cols: Columns) -> dict[str, list[Any]]:
    rows = list(map(_read_payload_fields, cols.get("payload")))
    read = (
        dict(zip(_PAYLOAD_FIELDS, map(list, zip(*rows, strict=True)), strict=True)) if rows else {}
    )
    columns = {name: read.get(name, []) for name in _PAYLOAD_FIELDS}
    columns["session"] = [session or None for session in columns["session"]]
    return columns


def _through_distinct(function: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    # A site has few distinct URLs: compute once per value, then look up at C speed.
    results = {value: function(value) for value in dict.fromkeys(values)}
    return list(map(results.__getitem__, values))


def _campaign_urls(cols: Columns) -> list[str | None]:
    return [
        raw or href or None
        for raw, href in zip(cols.get("raw_href"), cols.get("href"), strict=True)
    ]


def _utm(cols: Columns) -> list[tuple[str | None, str | None]]:
    return _through_distinct(
        lambda url: utm_values(url) if url else _NO_UTM, cols.get("campaign_url")
    )


_EXTRACTORS: dict[str, Callable[[Columns], list[Any]]] = {
    "page": lambda cols: _through_distinct(page_key_or_none, cols.get("href")),
    "referrer": lambda cols: [
        referrer_value(ref, href) if ref else None
        for ref, href in zip(cols.get("referrer_url"), cols.get("href"), strict=True)
    ],
    "campaign_url": _campaign_urls,
    "utm": _utm,
    "campaign": lambda cols: [pair[0] for pair in cols.get("utm")],
    "source": lambda cols: [pair[1] for pair in cols.get("utm")],
}


class Columns:
    """Events in event id order (server receipt), with their fields as lazily built lists.

    Args:
        events: The events; sorted by event id (stably) unless already in that order.
    """

    __slots__ = ("_cache", "_index", "_memos", "_parent", "events")

    def __init__(self, events: Iterable[DecryptedEvent]) -> None:
        listed = list(events)
        # The fields of the event itself, read in one visit to each event.
        rows = list(map(_read_event_fields, listed))
        ids, secrets, accounts, payloads = [list(column) for column in zip(*rows, strict=True)] or (
            [[], [], [], []]
        )
        try:
            lengths = set(map(len, ids))
        except TypeError:
            lengths = {0}
        if lengths - {_ULID_LENGTH}:
            raise InvalidInputError("eventId", "every event id must be a ULID (26 characters)")
        if not all(map(le, ids, ids[1:])):
            # Sort positions by the ids already read; a stable sort keeps equal ids in order.
            order = sorted(range(len(ids)), key=ids.__getitem__)
            listed, ids, secrets, accounts, payloads = (
                [column[i] for i in order] for column in (listed, ids, secrets, accounts, payloads)
            )
        self.events: Sequence[DecryptedEvent] = listed
        self._cache: dict[str, list[Any]] = {
            "id": ids,
            "secret": [secret or None for secret in secrets],
            "account": [account or None for account in accounts],
            "payload": payloads,
        }
        self._memos: dict[str, object] = {}
        self._parent: Columns | None = None
        self._index: range | list[int] | None = None

    @classmethod
    def _subset(cls, parent: Columns, index: range | list[int]) -> Columns:
        cols = cls.__new__(cls)
        if isinstance(index, range):
            cols.events = parent.events[index.start : index.stop]
        else:
            events = parent.events
            cols.events = [events[i] for i in index]
        cols._cache = {}
        cols._memos = {}
        cols._parent = parent
        cols._index = index
        return cols

    def __len__(self) -> int:
        return len(self.events)

    def get(self, name: str) -> list[Any]:
        """The column ``name``, built (or cut from the parent's) on first use."""
        column = self._cache.get(name)
        if column is None:
            parent, index = self._parent, self._index
            if (
                parent is None
                or index is None
                # A small subset reads its own events rather than make the parent read all.
                or (name not in parent._cache and len(self.events) * 8 < len(parent.events))
            ):
                if name in _PAYLOAD_FIELDS:
                    fields = _payload_fields(self)
                    for field, values in fields.items():
                        self._cache.setdefault(field, values)
                    return self._cache[name]
                column = _EXTRACTORS[name](self)
            elif isinstance(index, range):
                column = parent.get(name)[index.start : index.stop]
            else:
                source = parent.get(name)
                column = [source[i] for i in index]
            self._cache[name] = column
        return column

    def prefetch(self, *names: str) -> None:
        """Build the named columns now (a root builds each once for all its subsets)."""
        for name in names:
            self.get(name)

    def pick(self, index: range | list[int]) -> Columns:
        """The subset at ``index`` (positions in this object), in that order."""
        if self._parent is not None and self._index is not None:
            # Express the subset against the root so chains of subsets stay one level deep.
            outer = self._index
            if isinstance(outer, range) and isinstance(index, range):
                root_index: range | list[int] = outer[index.start : index.stop]
            else:
                root_index = [outer[i] for i in index]
            return Columns._subset(self._parent, root_index)
        return Columns._subset(self, index)

    def between(self, lower_ms: int, upper_ms: int) -> Columns:
        """The events whose time lies in ``[lower_ms, upper_ms]``; needs event id order."""
        ids = self.get("id")
        first = bisect_left(ids, ulid_prefix(lower_ms))
        last = bisect_left(ids, ulid_prefix(upper_ms + 1))
        return self.pick(range(first, max(first, last)))

    def memo(self, name: str, compute: Callable[[Columns], _T]) -> _T:
        """A value derived from these columns, computed once (shared by several metrics)."""
        memos = self._memos
        if name not in memos:
            memos[name] = compute(self)
        return cast("_T", memos[name])
