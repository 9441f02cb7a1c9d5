# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Opening and closing `limits` storages, and what a throttle does when its storage fails."""

from __future__ import annotations

import importlib
import importlib.util
from enum import StrEnum
from typing import Any

from limits.aio.storage import MemcachedStorage as AsyncMemcachedStorage
from limits.aio.storage import MemoryStorage as AsyncMemoryStorage
from limits.aio.storage import MongoDBStorage as AsyncMongoDBStorage
from limits.aio.storage import RedisClusterStorage as AsyncRedisClusterStorage
from limits.aio.storage import Storage as AsyncStorage
from limits.errors import ConfigurationError
from limits.errors import StorageError as LimitsStorageError
from limits.storage import (
    MemcachedStorage,
    MemoryStorage,
    MongoDBStorage,
    RedisClusterStorage,
    Storage,
    storage_from_string,
)

from offen_core.errors import InvalidInputError, ThrottleStorageError

__all__ = ["DEFAULT_STORAGE_URL", "StorageFailure", "open_async_storage", "open_storage"]

DEFAULT_STORAGE_URL = "memory://"
"""Process-local storage; use ``redis://host:port/db`` (or memcached, MongoDB) when several
processes serve one site."""


class StorageFailure(StrEnum):
    """What a throttle answers when its storage cannot be reached."""

    REFUSE = "refuse"
    """Fail closed (the default): refuse the attempt, with the configured ``Retry-After``."""
    ALLOW = "allow"
    """Fail open: let the attempt through unthrottled (the decision says so)."""
    RAISE = "raise"
    """Raise `offen_core.errors.ThrottleStorageError` and let the application decide."""


def open_storage(url: str = DEFAULT_STORAGE_URL, **options: Any) -> Storage:
    """Open a synchronous `limits` storage from its URL.

    Any URL `limits` accepts opens, and a throttle keeps its state on these, each step one
    atomic operation:

    - ``memory://``: one process only; a lock.
    - ``redis://``, ``rediss://``, ``redis+sentinel://``, ``redis+cluster://``,
      ``valkey://``: a Lua script (``pip install offen-core[redis]``).
    - ``memcached://host:port`` (several hosts separated by commas): memcached's
      compare-and-set, ``gets`` then ``cas`` or ``add``, retried when another writer came
      first (``pip install offen-core[memcached]``). Memcached may evict a throttle's state
      under memory pressure, which forgets the attempts counted so far.
    - ``mongodb://`` and ``mongodb+srv://``: one document per key, updated only at the
      version that was read (``pip install offen-core[mongodb]``).

    Storage errors are wrapped, so a throttle can tell them apart.

    Args:
        url: The storage URL. Connection options for a single Redis server and for MongoDB
            may go in its query string (``?socket_timeout=1&socket_connect_timeout=1`` for
            Redis, ``?serverSelectionTimeoutMS=1000`` for MongoDB keep a dead server from
            stalling requests); Redis Sentinel and Cluster ignore the query string, so pass
            them as ``options`` there, as for memcached (``connect_timeout=1, timeout=1``).
        **options: Passed on to the storage's constructor.

    Returns:
        The storage.

    Raises:
        InvalidInputError: If the URL's scheme is unknown or its client library is missing.
        ThrottleStorageError: If the storage's client connects when it is made (a Redis
            Cluster client does) and reaches no server.
    """
    storage = _from_url(url, options)
    if not isinstance(storage, Storage):
        raise InvalidInputError("storage_url", "an async+ URL opens an async storage; drop async+")
    return storage


def open_async_storage(url: str = DEFAULT_STORAGE_URL, **options: Any) -> AsyncStorage:
    """Open an asynchronous `limits` storage from the same URL a synchronous one takes.

    ``redis://...`` becomes ``async+redis://...``; with no ``coredis`` installed the
    redis-py asyncio client is used. ``memcached://`` uses the memcachio client and
    ``mongodb://`` the Motor client, as `limits` does.

    Args:
        url: The storage URL, with or without the ``async+`` prefix.
        **options: Passed on to the storage's constructor.

    Returns:
        The storage. A Redis or memcached client belongs to the event loop it first runs in:
        open the storage (or the `AsyncThrottle`) inside the loop that uses it.

    Raises:
        InvalidInputError: If the URL's scheme is unknown or its client library is missing.
    """
    if not url.startswith("async+"):
        url = "async+" + url
    if url.startswith("async+redis") and importlib.util.find_spec("coredis") is None:
        options.setdefault("implementation", "redispy")
    storage = _from_url(url, options)
    if not isinstance(storage, AsyncStorage):
        raise InvalidInputError("storage_url", "this URL has no async storage in limits")
    return storage


def _from_url(url: str, options: dict[str, Any]) -> Storage | AsyncStorage:
    unreachable: tuple[type[Exception], ...] = (
        LimitsStorageError,
        ConnectionError,
        TimeoutError,
        *_cluster_errors(),
    )
    try:
        return storage_from_string(url, wrap_exceptions=True, **options)
    except ConfigurationError:
        raise InvalidInputError(
            "storage_url",
            "unknown storage scheme or missing client library; use memory://, redis:// "
            "(pip install offen-core[redis]), memcached:// (offen-core[memcached]) or "
            "mongodb:// (offen-core[mongodb])",
        ) from None
    except unreachable as error:
        # Most clients connect on first use; a Redis Cluster client connects at once.
        scheme = url.partition("://")[0]
        raise ThrottleStorageError(
            f"the throttle's storage ({scheme}://) cannot be reached: {type(error).__name__}; "
            "check that it is running and that the URL is right"
        ) from error


def _cluster_errors() -> tuple[type[Exception], ...]:
    """Return what a Redis or Valkey cluster client raises when it reaches no node.

    Those exceptions derive from neither the client's base error nor `ConnectionError`, so
    `limits` does not count them as storage errors; a throttle must.
    """
    found: list[type[Exception]] = []
    for module, name in (
        ("redis.exceptions", "RedisClusterException"),
        ("valkey.exceptions", "ValkeyClusterException"),
    ):
        if importlib.util.find_spec(module.partition(".")[0]) is not None:
            error = getattr(importlib.import_module(module), name, None)
            if isinstance(error, type) and issubclass(error, Exception):
                found.append(error)
    return tuple(found)


def storage_errors(storage: Storage | AsyncStorage) -> tuple[type[BaseException], ...]:
    """Return the exception classes that mean "the storage failed" for ``storage``."""
    base = storage.base_exceptions
    extra = base if isinstance(base, tuple) else (base,)
    if isinstance(storage, MemoryStorage | AsyncMemoryStorage):
        # The memory storage names ValueError, which would also hide programming errors.
        extra = ()
    if isinstance(storage, RedisClusterStorage | AsyncRedisClusterStorage):
        extra = (*extra, *_cluster_errors())
    return (LimitsStorageError, ConnectionError, TimeoutError, *extra)


def close_storage(storage: Storage) -> None:
    """Close the connections ``storage`` holds open, without opening any."""
    client: Any
    if isinstance(storage, MemcachedStorage):
        from offen_core.ratelimit._memcached import close_clients

        # limits keeps a client per thread: the calling thread's, and those throttles used.
        close_clients(storage)
        client = getattr(storage.local_storage, "storage", None)
    elif isinstance(storage, MongoDBStorage):
        # The public property would connect (and create indexes) to close.
        client = storage._storage
    else:
        client = getattr(storage, "storage", None)
    close = getattr(client, "close", None)
    if callable(close):
        close()
    for sentinel in _sentinel_clients(storage):
        sentinel.close()


async def aclose_storage(storage: AsyncStorage) -> None:
    """Close the connections an asynchronous ``storage`` holds open, without opening any."""
    if isinstance(storage, AsyncMemcachedStorage):
        pool = getattr(getattr(storage.bridge, "_storage", None), "connection_pool", None)
        close = getattr(pool, "close", None)
        if callable(close):
            close()
        return
    if isinstance(storage, AsyncMongoDBStorage):
        storage.storage.close()
        return
    bridge = getattr(storage, "bridge", None)
    client = getattr(bridge, "storage", None)
    aclose = getattr(client, "aclose", None)
    if aclose is not None:
        await aclose()
    for sentinel in _sentinel_clients(bridge):
        aclose = getattr(sentinel, "aclose", None)
        if aclose is not None:
            await aclose()


def _sentinel_clients(holder: object) -> list[Any]:
    """Return the clients a Sentinel storage keeps for asking its sentinels about the master.

    They are not the master's client, and closing that one leaves them open: a closed
    throttle would keep a connection to each sentinel until garbage collection (an async one
    then warns that it was never closed). Other storages have none.
    """
    return list(getattr(getattr(holder, "sentinel", None), "sentinels", ()))
