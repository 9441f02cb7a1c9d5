# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Throttle state on memcached: memcached's own ``gets``, ``cas`` and ``add``.

One item per key holds ``n|t``: the attempts counted and the anchor as the repr of a float
(empty when there is none yet), so the delays are those of memory storage to the last bit.
The item's CAS unique is the version `offen_core.ratelimit._cas` compares. The synchronous
adapter uses the pymemcache client `limits.storage.MemcachedStorage` holds (one per thread);
the asynchronous one uses the memcachio client of `limits.aio.storage.MemcachedStorage`.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from typing import Any

from limits.aio.storage import MemcachedStorage as AsyncMemcachedStorage
from limits.errors import StorageError as LimitsStorageError
from limits.storage import MemcachedStorage

from offen_core.ratelimit._cas import EMPTY, Snapshot, State, anchor_text, read_anchor, unreadable

_LONGEST_KEY = 250
"""Memcached refuses longer keys."""

_LONGEST_RELATIVE_EXPIRY = 30 * 24 * 3600
"""Memcached reads a longer expiry as a moment (seconds since the epoch), not a duration."""

_CLIENTS: weakref.WeakKeyDictionary[MemcachedStorage, weakref.WeakSet[Any]] = (
    weakref.WeakKeyDictionary()
)
_CLIENTS_GUARD = threading.Lock()


def close_clients(storage: MemcachedStorage) -> None:
    """Close the clients throttles use on ``storage``, whichever thread made them."""
    with _CLIENTS_GUARD:
        clients = list(_CLIENTS.pop(storage, ()))
    for client in clients:
        client.close()


class _ThreadClient:
    """Holds one thread's client and closes it when the thread ends.

    limits keeps a client per thread and leaves its sockets to the garbage collector when
    the thread ends; a server that starts a thread per request would pile them up.
    """

    __slots__ = ("client",)

    def __init__(self, client: Any) -> None:
        self.client = client

    def __del__(self) -> None:
        self.client.close()


def item_key(key: str) -> bytes:
    """Return the memcached key of a throttle key, shortened by a digest when too long."""
    if len(key) <= _LONGEST_KEY:
        return key.encode("ascii")
    digest = hashlib.sha256(key.encode("ascii")).hexdigest()
    return f"{key[: _LONGEST_KEY - len(digest) - 1]}#{digest}".encode("ascii")


def expiry(ttl: int) -> int:
    """Return the expiry memcached takes for an item that should live ``ttl`` seconds."""
    if ttl <= _LONGEST_RELATIVE_EXPIRY:
        return ttl
    return int(time.time()) + ttl


def encode(state: State) -> bytes:
    """Return the item value of a state."""
    counted, anchor = state
    return f"{counted}|{anchor_text(anchor)}".encode("ascii")


def decode(key: str, value: object, version: object) -> Snapshot:
    """Read an item value and its CAS unique back into a snapshot."""
    try:
        text = value.decode("ascii") if isinstance(value, bytes) else str(value)
        counted, separator, anchor = text.partition("|")
        if not separator:
            raise ValueError("no separator")
        return Snapshot(int(counted), read_anchor(anchor), version)
    except ValueError:
        raise unreadable(key) from None


class MemcachedStore:
    """`CasStore` on a synchronous memcached storage (pymemcache)."""

    def __init__(self, storage: MemcachedStorage) -> None:
        self._storage = storage
        self._local = threading.local()

    def _client(self) -> Any:
        # limits makes this thread's client on first use. It is remembered, weakly, so that
        # closing the storage closes every thread's, and closed when its thread ends.
        client = self._storage.storage
        held = getattr(self._local, "held", None)
        if held is None or held.client is not client:
            self._local.held = _ThreadClient(client)
            with _CLIENTS_GUARD:
                _CLIENTS.setdefault(self._storage, weakref.WeakSet()).add(client)
        return client

    def load(self, key: str) -> Snapshot:
        reply = self._client().gets(item_key(key))
        if not isinstance(reply, tuple):
            # A client told to ignore errors answers a dead server with a bare default.
            raise LimitsStorageError(ConnectionError("memcached gave no answer"))
        value, version = reply
        return EMPTY if version is None else decode(key, value, version)

    def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        client = self._client()
        if version is None:
            return client.add(item_key(key), encode(state), expiry(ttl), noreply=False) is True
        stored = client.cas(item_key(key), encode(state), version, expiry(ttl), noreply=False)
        return stored is True

    def delete(self, key: str) -> None:
        self._client().delete(item_key(key), noreply=False)


class AsyncMemcachedStore:
    """`AsyncCasStore` on an asynchronous memcached storage (memcachio)."""

    def __init__(self, storage: AsyncMemcachedStorage) -> None:
        self._bridge: Any = storage.bridge

    async def _client(self) -> Any:
        return await self._bridge.get_storage()

    async def load(self, key: str) -> Snapshot:
        name = item_key(key)
        item = (await (await self._client()).gets(name)).get(name)
        return EMPTY if item is None else decode(key, item.value, item.cas)

    async def store(self, key: str, state: State, version: object, ttl: int) -> bool:
        client = await self._client()
        if version is None:
            return await client.add(item_key(key), encode(state), expiry=expiry(ttl)) is True
        stored = await client.cas(item_key(key), encode(state), version, expiry=expiry(ttl))
        return stored is True

    async def delete(self, key: str) -> None:
        await (await self._client()).delete(item_key(key))
