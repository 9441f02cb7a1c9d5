# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The operator session: unlock accounts, follow their cursors, keep what was decrypted."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self

from offen_core._gc import collector_paused
from offen_core.errors import CryptoError, InvalidInputError, StorageError
from offen_core.events import DecryptedEvent
from offen_core.operator._keys import (
    AccountGrant,
    AccountKeys,
    LoginResultLike,
    grants_from_login,
    require_grant,
    unlock_keys,
)
from offen_core.operator._pipeline import (
    DEFAULT_READ_AHEAD,
    Decryptor,
    SecretCache,
    Undecryptable,
    check_read_ahead,
    count_reasons,
)
from offen_core.operator._sources import AccountHeader, AccountSource, SourcePage

__all__ = ["DEFAULT_PAGE_SIZE", "AccountState", "Batch", "Operator", "Progress"]

_log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 5_000
"""Events read per page: large enough to amortise a round trip, small enough to stream."""


@dataclass(frozen=True)
class Batch:
    """What one page of a source decrypted to.

    Attributes:
        events: The decrypted events, in the source's order.
        undecryptable: The events that could not be decrypted, each with its reason.
        deleted_event_ids: Ids of events deleted since the cursor: drop them if you hold
            them (ids you do not hold can be ignored).
        sequence: The cursor after this page, or ``None`` when the source kept it.
        more: Whether another page follows in this run.
    """

    events: tuple[DecryptedEvent, ...]
    undecryptable: tuple[Undecryptable, ...]
    deleted_event_ids: tuple[str, ...]
    sequence: str | None
    more: bool


@dataclass(frozen=True)
class Progress:
    """How far a run has come, for progress displays.

    Attributes:
        pages: Pages read so far.
        events: Events decrypted so far.
        undecryptable: Events that could not be decrypted so far.
        deleted: Deletions received so far.
        secrets_done: New user secrets of the current page unwrapped so far.
        secrets_total: New user secrets in the current page.
    """

    pages: int
    events: int
    undecryptable: int
    deleted: int
    secrets_done: int
    secrets_total: int


ProgressCallback = Callable[[Progress], None]


class AccountState:
    """What an operator knows of one account: its decrypted events and the sync cursor.

    Apply the batches of `Operator.iter_batches` in order (`Operator.sync` does). An event
    that comes again (the cursor trails the newest rows by a safety lag) replaces the one
    held under its id; deletions remove events, decrypted or not. The state lives in memory:
    for accounts too large for that, stream with `Operator.iter_batches` instead.

    Args:
        account_id: The account's id.
        sequence: The cursor to continue from, or ``None`` to start at the beginning.
    """

    def __init__(self, account_id: str, sequence: str | None = None) -> None:
        self.account_id = account_id
        self.sequence = sequence
        self._events: dict[str, DecryptedEvent] = {}
        self._failures: dict[str, Undecryptable] = {}

    def __repr__(self) -> str:
        return f"AccountState(events={len(self._events)}, undecryptable={len(self._failures)})"

    def __len__(self) -> int:
        return len(self._events)

    def apply(self, batch: Batch) -> None:
        """Take in one batch: its events, its undecryptable events, its deletions, its cursor.

        Args:
            batch: The next batch of this account.
        """
        events, failures = self._events, self._failures
        if failures:
            for event in batch.events:
                events[event.event_id] = event
                failures.pop(event.event_id, None)
        else:
            events.update([(event.event_id, event) for event in batch.events])
        for failure in batch.undecryptable:
            failures[failure.event_id] = failure
            events.pop(failure.event_id, None)
        # Deletions last: a purge between the reads of events and tombstones shows both.
        for event_id in batch.deleted_event_ids:
            events.pop(event_id, None)
            failures.pop(event_id, None)
        if batch.sequence is not None:
            self.sequence = batch.sequence

    def events(self, *, ordered: bool = True) -> list[DecryptedEvent]:
        """Give the decrypted events.

        Args:
            ordered: Order them by event id (their time, as received); otherwise they come
                in the order they arrived, which is cheaper and all metrics need.

        Returns:
            A new list.
        """
        if not ordered:
            return list(self._events.values())
        return sorted(self._events.values(), key=lambda event: event.event_id)

    def event(self, event_id: str) -> DecryptedEvent | None:
        """Give one decrypted event by id, or ``None``.

        Args:
            event_id: The event id.

        Returns:
            The event or ``None``.
        """
        return self._events.get(event_id)

    def undecryptable(self) -> list[Undecryptable]:
        """Give the events that could not be decrypted, ordered by event id.

        Returns:
            A new list.
        """
        return sorted(self._failures.values(), key=lambda failure: failure.event_id)

    def undecryptable_counts(self) -> dict[str, int]:
        """Count the events that could not be decrypted, by reason.

        Returns:
            ``{reason: count}`` for the reasons that occur.
        """
        return count_reasons(self._failures.values())


class Operator:
    """An operator's session over the accounts of one login.

    It takes a login result (it never logs in itself) and reads accounts from sources
    (`StoreSource` or `HttpSource`). For each account it unwraps the private keys once,
    unwraps each visitor's user secret once and caches it, and decrypts events page by page;
    undecryptable events are reported with their reason, never dropped silently. Use it as a
    context manager, or call `close`, to stop the worker processes.

    Not thread-safe: use one per thread.

    Args:
        login: The login result: the JSON of ``POST /api/login`` (from
            `offen_core.client.http.OffenClient.login`) or the result of
            `offen_core.server.Operators.login`.
        workers: Processes that unwrap user secrets and decrypt payloads, this one included
            (see `Decryptor`); the machine's CPU count by default. Pass 1 to stay in this
            process.
        parallel_threshold: The fewest new secrets in a page worth sending to the processes.
        page_size: Events read per page.
        read_ahead: The most pages `iter_batches` reads ahead while user secrets unwrap, so
            that this process decrypts their events meanwhile (see `Decryptor.stream`); 0
            reads none, ``None`` sets no limit. `sync` has its own, without a limit by
            default.

    Raises:
        InvalidInputError: The login result carries no keys, or a number is out of range.

    Example:
        >>> from offen_core.operator import Operator, StoreSource  # doctest: +SKIP
        >>> with Operator(login) as operator:  # doctest: +SKIP
        ...     state = operator.sync(StoreSource(store, account_id))
        ...     later = operator.sync(StoreSource(store, account_id), state)
    """

    def __init__(
        self,
        login: LoginResultLike | Mapping[str, Any],
        *,
        workers: int | None = None,
        parallel_threshold: int = 32,
        page_size: int = DEFAULT_PAGE_SIZE,
        read_ahead: int | None = DEFAULT_READ_AHEAD,
    ) -> None:
        if type(page_size) is not int or page_size < 1:
            raise InvalidInputError("page_size", "must be a positive number of events")
        check_read_ahead(read_ahead)
        self._grants = grants_from_login(login)
        self._decryptor = Decryptor(workers=workers, parallel_threshold=parallel_threshold)
        self._page_size = page_size
        self._read_ahead = read_ahead
        self._keys: dict[str, AccountKeys] = {}
        self._headers: dict[str, AccountHeader] = {}
        self._caches: dict[str, SecretCache] = {}

    def __repr__(self) -> str:
        return f"Operator(accounts={len(self._grants)}, workers={self._decryptor.workers})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes and forget the keys and secrets of this session."""
        self._decryptor.close()
        self._keys.clear()
        for cache in self._caches.values():
            cache.clear()

    @property
    def accounts(self) -> tuple[AccountGrant, ...]:
        """The accounts the login gives access to (ids and names; keys hidden)."""
        return tuple(self._grants.values())

    def header(self, source: AccountSource) -> AccountHeader:
        """Give the account's header (name, wrapped keys), read once per session.

        Args:
            source: The account's source.

        Returns:
            The header.
        """
        header = self._headers.get(source.account_id)
        if header is None:
            header = source.header()
            self._headers[source.account_id] = header
        return header

    def unlock(self, source: AccountSource) -> AccountKeys:
        """Unwrap the account's private keys with the login's KEK, once per session.

        Args:
            source: The account's source.

        Returns:
            The unlocked keys.

        Raises:
            ForbiddenError: The login gives no access to the account.
            DecryptionError: The KEK does not open the account's private key.
            InvalidKeyError: The private key is damaged.
        """
        keys = self._keys.get(source.account_id)
        if keys is None:
            grant = require_grant(self._grants, source.account_id)
            header = self.header(source)
            keys = unlock_keys(grant, header.encrypted_private_key, header.older_keys)
            self._keys[source.account_id] = keys
            _log.debug("unlocked an account with %d key(s)", len(keys.keys))
        return keys

    def _unlock_again(self, source: AccountSource) -> AccountKeys:
        """Read and unwrap the account's keys anew: a key pair was rotated since `unlock`.

        When the login's KEK no longer opens them (the KEK was rotated too), the keys of
        this session stay, and the new key's secrets count as undecryptable until a new
        login.
        """
        account_id = source.account_id
        known = self._keys.pop(account_id, None)
        self._headers.pop(account_id, None)
        try:
            keys = self.unlock(source)
        except CryptoError:
            if known is None:
                raise
            self._keys[account_id] = known
            return known
        _log.debug("read an account's keys again after a key rotation")
        return keys

    def iter_batches(
        self,
        source: AccountSource,
        *,
        since: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Batch]:
        """Decrypt an account page by page, from a cursor to the end.

        Memory stays bounded by the pages held (one, and up to ``read_ahead`` more while
        user secrets unwrap) and the secret cache, whatever the account's size.

        Args:
            source: The account's source.
            since: The cursor to start after (the ``sequence`` of an earlier run), or ``None``
                for everything.
            progress: Called after each page and while secrets are unwrapped.

        Yields:
            One batch per page.

        Raises:
            ForbiddenError: The login gives no access to the account.
            DecryptionError: The KEK does not open the account's private key.
            StorageError: The source pages without moving its cursor.
        """
        return self._batches(source, since, progress, self._read_ahead)

    def _batches(
        self,
        source: AccountSource,
        since: str | None,
        progress: ProgressCallback | None,
        read_ahead: int | None,
    ) -> Iterator[Batch]:
        keys = self.unlock(source)
        cache = self._caches.setdefault(source.account_id, SecretCache())
        done = Progress(0, 0, 0, 0, 0, 0)

        def hook(unwrapped: int, total: int) -> None:
            if progress is not None:
                progress(replace(done, secrets_done=unwrapped, secrets_total=total))

        def pages() -> Iterator[SourcePage]:
            cursor = since
            while True:
                page = source.page(cursor, self._page_size)
                yield page
                if not page.more:
                    return
                if page.sequence is None or page.sequence == cursor:
                    raise StorageError("the source said more events follow but kept its cursor")
                cursor = page.sequence

        for page, decrypted, failed in self._decryptor.stream(
            source.account_id,
            keys,
            cache,
            pages(),
            read_ahead=read_ahead,
            progress=hook,
            refresh_keys=lambda: self._unlock_again(source),
        ):
            done = replace(
                done,
                pages=done.pages + 1,
                events=done.events + len(decrypted),
                undecryptable=done.undecryptable + len(failed),
                deleted=done.deleted + len(page.deleted_event_ids),
            )
            if progress is not None:
                progress(done)
            yield Batch(
                events=tuple(decrypted),
                undecryptable=tuple(failed),
                deleted_event_ids=page.deleted_event_ids,
                sequence=page.sequence,
                more=page.more,
            )

    def sync(
        self,
        source: AccountSource,
        state: AccountState | None = None,
        *,
        progress: ProgressCallback | None = None,
        read_ahead: int | None = None,
    ) -> AccountState:
        """Bring an account's state up to date: new events in, deleted events out.

        While user secrets unwrap, it reads further pages and decrypts their events as the
        secrets come back, without a limit by default: the state keeps every event anyway,
        and the pages held meanwhile add at most the size of the account's ciphertext to the
        peak. Pass ``read_ahead`` to bound it, or stream with `iter_batches`.

        Args:
            source: The account's source.
            state: The state of an earlier sync of this account, or ``None`` to start anew.
            progress: Called after each page and while secrets are unwrapped.
            read_ahead: The most pages held beyond the one being finished while secrets
                unwrap, or ``None`` for no limit.

        Returns:
            ``state`` brought up to date (or a new state).

        Raises:
            InvalidInputError: ``state`` belongs to another account, or ``read_ahead`` is
                negative.
            ForbiddenError: The login gives no access to the account.
            DecryptionError: The KEK does not open the account's private key.
        """
        if state is None:
            state = AccountState(source.account_id)
        elif state.account_id != source.account_id:
            raise InvalidInputError("state", "belongs to another account than the source")
        check_read_ahead(read_ahead)
        # The state's events live on and hold no cycles: the cyclic garbage collector would
        # scan them again and again while they pile up, so it waits until the sync is over.
        with collector_paused():
            for batch in self._batches(source, state.sequence, progress, read_ahead):
                state.apply(batch)
        return state
