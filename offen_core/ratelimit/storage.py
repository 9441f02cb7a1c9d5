# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""Opening `limits` storages from a URL, and what a throttle does when its storage fails."""

from __future__ import annotations

import importlib.util
from enum import StrEnum
from typing import Any

from limits.aio.storage import MemoryStorage as AsyncMemoryStorage
from limits.aio.storage import Storage as AsyncStorage
from limits.errors import ConfigurationError
from limits.errors import StorageError as LimitsStorageError
from limits.storage import MemoryStorage, Storage, storage_from_string

from offen_core.errors import InvalidInputError

__all__ = ["DEFAULT_STORAGE_URL", "StorageFailure", "open_async_storage", "open_storage"]

DEFAULT_STORAGE_URL = "memory://"
"""Process-local storage; use ``redis://host:port/db`` when several processes serve one site."""


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

    Any URL `limits` accepts works: ``memory://``, ``redis://``, ``rediss://``,
    ``redis+sentinel://``, ``redis+cluster://``, ``valkey://``, ``memcached://``,
    ``mongodb://``. Storage errors are wrapped, so a throttle can tell them apart.

    Args:
        url: The storage URL. Connection options for Redis may go in its query string
            (``?socket_timeout=1&socket_connect_timeout=1`` keeps a dead Redis from
            stalling requests).
        **options: Passed on to the storage's constructor.

    Returns:
        The storage.

    Raises:
        InvalidInputError: If the URL's scheme is unknown or its client library is missing.
    """
    storage = _from_url(url, options)
    if not isinstance(storage, Storage):
        raise InvalidInputError("storage_url", "an async+ URL opens an async storage; drop async+")
    return storage


def open_async_storage(url: str = DEFAULT_STORAGE_URL, **options: Any) -> AsyncStorage:
    """Open an asynchronous `limits` storage from the same URL a synchronous one takes.

    ``redis://...`` becomes ``async+redis://...``; with no ``coredis`` installed the
    redis-py asyncio client is used.

    Args:
        url: The storage URL, with or without the ``async+`` prefix.
        **options: Passed on to the storage's constructor.

    Returns:
        The storage. A Redis client belongs to the event loop it first runs in: open the
        storage (or the `AsyncThrottle`) inside the loop that uses it.

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
    try:
        return storage_from_string(url, wrap_exceptions=True, **options)
    except ConfigurationError:
        raise InvalidInputError(
            "storage_url",
            "unknown storage scheme or missing client library; use memory:// or redis:// "
            "(pip install offen-core[redis]) or another URL the limits library accepts",
        ) from None


def storage_errors(storage: Storage | AsyncStorage) -> tuple[type[BaseException], ...]:
    """Return the exception classes that mean "the storage failed" for ``storage``."""
    base = storage.base_exceptions
    extra = base if isinstance(base, tuple) else (base,)
    if isinstance(storage, MemoryStorage | AsyncMemoryStorage):
        # The memory storage names ValueError, which would also hide programming errors.
        extra = ()
    return (LimitsStorageError, ConnectionError, TimeoutError, *extra)
