# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Throttle state on MongoDB: one document per key, replaced only at the version read.

A document is ``{_id: key, n: attempts counted, t: anchor, v: version, expireAt: when}``,
in the collection `COLLECTION` of the database the `limits` storage uses. ``t`` is the repr
of a float (empty when there is no anchor yet), so the delays are those of memory storage to
the last bit. A step that counts either inserts the document (a second writer meets the
unique ``_id`` and loses) or updates it with a filter on the version it read (a second
writer matches nothing and loses). A TTL index on ``expireAt`` removes documents whose
window is over, as `limits` does for its own counters. The synchronous adapter uses the
pymongo client of `limits.storage.MongoDBStorage`, the asynchronous one the Motor client of
`limits.aio.storage.MongoDBStorage`.

.. note::
    This adapter is tested against an in-process stand-in for the few pymongo calls it
    makes, not yet against a MongoDB server; the Limitations page says so too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from limits.aio.storage import MongoDBStorage as AsyncMongoDBStorage
from limits.storage import MongoDBStorage

from offen_core.ratelimit._cas import EMPTY, Snapshot, State, anchor_text, read_anchor, unreadable

COLLECTION = "offen_core_throttle"
"""The collection that holds the throttle's documents, beside `limits`' own."""


def _fields(state: State, ttl: int) -> dict[str, Any]:
    counted, anchor = state
    return {
        "n": counted,
        "t": anchor_text(anchor),
        "expireAt": datetime.now(UTC) + timedelta(seconds=ttl),
    }


def snapshot(key: str, document: Any) -> Snapshot:
    """Read a document (or ``None``) into a snapshot."""
    if document is None:
        return EMPTY
    try:
        counted, anchor, version = document["n"], document["t"], document["v"]
        if not all(isinstance(value, int) for value in (counted, version)):
            raise ValueError("n and v are integers")
        return Snapshot(counted, read_anchor(str(anchor)), version)
    except (KeyError, ValueError):
        raise unreadable(key) from None


def _replacement(state: State, version: object, ttl: int) -> tuple[dict[str, Any], Any]:
    if not isinstance(version, int):
        raise TypeError("a MongoDB version is an integer")
    return {"$set": {**_fields(state, ttl), "v": version + 1}}, version


class MongoStore:
    """`CasStore` on a synchronous MongoDB storage (pymongo)."""

    def __init__(self, storage: MongoDBStorage) -> None:
        from pymongo.errors import DuplicateKeyError

        self._storage = storage
        self._duplicate = DuplicateKeyError
        self._collection: Any = None

    def _states(self) -> Any:
        # Reached on first use, so that opening a throttle does not need the server.
        if self._collection is None:
            collection = self._storage.counters.database[COLLECTION]
            collection.create_index("expireAt", expireAfterSeconds=0)
            self._collection = collection
        return self._collection

    def load(self, key: str) -> Snapshot:
        return snapshot(key, self._states().find_one({"_id": key}))

    def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        states = self._states()
        if version is None:
            try:
                states.insert_one({"_id": key, "v": 1, **_fields(state, ttl)})
            except self._duplicate:
                return False
            return True
        update, expected = _replacement(state, version, ttl)
        return bool(states.update_one({"_id": key, "v": expected}, update).matched_count == 1)

    def delete(self, key: str) -> None:
        self._states().delete_one({"_id": key})


class AsyncMongoStore:
    """`AsyncCasStore` on an asynchronous MongoDB storage (Motor)."""

    def __init__(self, storage: AsyncMongoDBStorage) -> None:
        from pymongo.errors import DuplicateKeyError

        self._storage = storage
        self._duplicate = DuplicateKeyError
        self._collection: Any = None

    async def _states(self) -> Any:
        if self._collection is None:
            collection = self._storage.database[COLLECTION]
            await collection.create_index("expireAt", expireAfterSeconds=0)
            self._collection = collection
        return self._collection

    async def load(self, key: str) -> Snapshot:
        return snapshot(key, await (await self._states()).find_one({"_id": key}))

    async def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        states = await self._states()
        if version is None:
            try:
                await states.insert_one({"_id": key, "v": 1, **_fields(state, ttl)})
            except self._duplicate:
                return False
            return True
        update, expected = _replacement(state, version, ttl)
        result = await states.update_one({"_id": key, "v": expected}, update)
        return bool(result.matched_count == 1)

    async def delete(self, key: str) -> None:
        await (await self._states()).delete_one({"_id": key})
