# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The bottom of the operator's chain: unwrap user secrets (over processes), decrypt payloads."""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from offen_core.crypto import (
    SymmetricKey,
    decrypt_asymmetric,
    decrypt_symmetric,
    parse_cipher_string,
)
from offen_core.errors import CryptoError, InvalidInputError
from offen_core.events import DecryptedEvent, PageView, is_ulid
from offen_core.operator._keys import AccountKeys
from offen_core.operator._sources import RawEvent, SourcePage

__all__ = ["Decryptor", "Reason", "SecretCache", "Undecryptable"]

_SECRET_ID = re.compile(r"[0-9a-f]{64}", re.ASCII)


class Reason(StrEnum):
    """Why an event could not be decrypted; each is counted, none is dropped silently."""

    MALFORMED_EVENT = "malformed_event"
    """The event record itself is broken: its id is not a ULID or its secret id not a hash."""

    ANONYMOUS = "anonymous"
    """The event has no secret id, so no user secret can open it (Offen stores such events)."""

    MISSING_SECRET = "missing_secret"  # noqa: S105 - a reason, not a password
    """No user secret is stored under the event's secret id (it was purged or never sent)."""

    BAD_SECRET = "bad_secret"  # noqa: S105 - a reason, not a password
    """The user secret does not unwrap with any of the account's private keys, or is not an
    AES key once unwrapped."""

    BAD_PAYLOAD = "bad_payload"
    """The payload is not a cipher string, or does not authenticate under the user secret
    (wrong key or altered)."""

    INVALID_PAYLOAD = "invalid_payload"
    """The payload decrypts but is not a valid pageview (not JSON, or a member breaks its
    rule)."""


@dataclass(frozen=True, slots=True)
class Undecryptable:
    """An event the operator could not decrypt, and why.

    Attributes:
        event_id: The event's id, as the source gave it.
        secret_id: The event's secret id, or ``None``.
        reason: Why it could not be decrypted.
    """

    event_id: str
    secret_id: str | None
    reason: Reason


@dataclass(frozen=True, slots=True)
class _Entry:
    cipher: str
    key: SymmetricKey | None


class SecretCache:
    """The unwrapped user secrets of one account, by secret id, for one operator session.

    Each entry remembers the wrapped secret it came from: when a source sends a different
    wrapped secret under the same id (the visitor purged and exchanged again), it is
    unwrapped anew. Secrets that do not unwrap are remembered too, so they cost one attempt.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SecretCache(entries={len(self._entries)})"

    def key(self, secret_id: str) -> SymmetricKey | None:
        """Give the cached user secret for ``secret_id``, or ``None`` (unknown or bad).

        Args:
            secret_id: The secret id.

        Returns:
            The key or ``None``.
        """
        entry = self._entries.get(secret_id)
        return None if entry is None else entry.key

    def known(self, secret_id: str) -> bool:
        """Tell whether an unwrap of ``secret_id`` was attempted (successful or not).

        Args:
            secret_id: The secret id.

        Returns:
            Whether the cache holds an entry.
        """
        return secret_id in self._entries

    def stale(self, secret_id: str, cipher: str) -> bool:
        """Tell whether ``cipher`` must be unwrapped: not cached, or cached from another one.

        Args:
            secret_id: The secret id.
            cipher: The wrapped secret a source sent.

        Returns:
            Whether to unwrap it.
        """
        entry = self._entries.get(secret_id)
        return entry is None or entry.cipher != cipher

    def put(self, secret_id: str, cipher: str, key: SymmetricKey | None) -> None:
        """Remember the outcome of unwrapping ``cipher``.

        Args:
            secret_id: The secret id.
            cipher: The wrapped secret.
            key: The user secret, or ``None`` when it did not unwrap.
        """
        self._entries[secret_id] = _Entry(cipher, key)

    def clear(self) -> None:
        """Forget every secret."""
        self._entries.clear()


def _unwrap_one(keys: AccountKeys, cipher: str) -> bytes | None:
    """The raw user secret in ``cipher``, or ``None``; tries the stamped key version first."""
    try:
        version = parse_cipher_string(cipher).key_version
    except CryptoError:
        return None
    for key in keys.ordered_for(version):
        try:
            plaintext = decrypt_asymmetric(key, cipher)
        except CryptoError:
            continue
        try:
            return SymmetricKey.from_jwk(json.loads(plaintext)).to_bytes()
        except (ValueError, CryptoError):
            # A wrapped value that opens but holds no AES key will not do so with another key.
            return None
    return None


def unwrap_chunk(
    keys: AccountKeys, items: Sequence[tuple[str, str]]
) -> list[tuple[str, str, bytes | None]]:
    """Unwrap user secrets (runs in a worker process; key objects travel by pickle).

    Args:
        keys: The account's unlocked private keys.
        items: ``(secret id, wrapped secret)`` pairs.

    Returns:
        ``(secret id, wrapped secret, raw key or None)`` for each item.
    """
    return [(secret_id, cipher, _unwrap_one(keys, cipher)) for secret_id, cipher in items]


_PAGE_VIEW_VALIDATOR = PageView.__pydantic_validator__
_new_object = object.__new__
_set_attribute = object.__setattr__


def _event(event_id: str, account_id: str, secret_id: str, payload: PageView) -> DecryptedEvent:
    """Build a `DecryptedEvent` from values already checked, without validating them again.

    This is what pydantic's ``model_construct`` does, without its per-field loop (which
    would cost as much as the decryption). The ids were checked by the caller against the
    same patterns the model uses, the account id is canonical, and the payload is a
    validated `PageView`; a test holds the result equal to a validated event.
    """
    event = _new_object(DecryptedEvent)
    _set_attribute(
        event,
        "__dict__",
        {
            "event_id": event_id,
            "account_id": account_id,
            "secret_id": secret_id,
            "payload": payload,
        },
    )
    _set_attribute(event, "__pydantic_fields_set__", set(_EVENT_FIELDS))
    _set_attribute(event, "__pydantic_extra__", None)
    _set_attribute(event, "__pydantic_private__", None)
    return event


_EVENT_FIELDS = ("event_id", "account_id", "secret_id", "payload")


def _decrypt_group(
    key: SymmetricKey,
    account_id: str,
    secret_id: str,
    events: Iterable[tuple[int, RawEvent]],
    out: list[DecryptedEvent | Undecryptable | None],
) -> None:
    """Decrypt one visitor's events into ``out`` at their indices."""
    validate = _PAGE_VIEW_VALIDATOR.validate_json
    for index, raw in events:
        try:
            plaintext = decrypt_symmetric(key, raw.payload)
        except CryptoError:
            out[index] = Undecryptable(raw.event_id, secret_id, Reason.BAD_PAYLOAD)
            continue
        try:
            payload = validate(plaintext)
        except (ValidationError, InvalidInputError):
            out[index] = Undecryptable(raw.event_id, secret_id, Reason.INVALID_PAYLOAD)
            continue
        out[index] = _event(raw.event_id, account_id, secret_id, payload)


ProgressHook = Callable[[int, int], None]
"""Called as ``hook(secrets_unwrapped, secrets_to_unwrap)`` while a page's secrets unwrap."""


class Decryptor:
    """Decrypts pages of events, unwrapping user secrets over several processes when many.

    RSA-OAEP holds the GIL, so threads do not help: when a page brings at least
    ``parallel_threshold`` new secrets and ``workers`` is above one, they are unwrapped in a
    process pool (started on first use and kept until `close`), while this process decrypts
    the events whose secrets are already known. Fewer secrets are unwrapped in-process.

    Args:
        workers: Worker processes for unwrapping; defaults to the machine's CPU count.
        parallel_threshold: The fewest new secrets in a page worth sending to the pool.

    Raises:
        InvalidInputError: ``workers`` or ``parallel_threshold`` is below 1.
    """

    def __init__(self, *, workers: int | None = None, parallel_threshold: int = 32) -> None:
        workers = (os.cpu_count() or 1) if workers is None else workers
        if workers < 1:
            raise InvalidInputError("workers", "must be at least 1")
        if parallel_threshold < 1:
            raise InvalidInputError("parallel_threshold", "must be at least 1")
        self._workers = workers
        self._threshold = parallel_threshold
        self._pool: ProcessPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"Decryptor(workers={self._workers})"

    @property
    def workers(self) -> int:
        """The number of worker processes used for unwrapping."""
        return self._workers

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self._workers)
        return self._pool

    def decrypt(
        self,
        account_id: str,
        keys: AccountKeys,
        cache: SecretCache,
        page: SourcePage,
        progress: ProgressHook | None = None,
    ) -> tuple[list[DecryptedEvent], list[Undecryptable]]:
        """Decrypt a page: unwrap its new secrets, then open each payload with its secret.

        Args:
            account_id: The account's id, written into each event.
            keys: The account's unlocked private keys.
            cache: The account's secret cache; new secrets are added to it.
            page: The page.
            progress: Told how many of the page's new secrets are unwrapped so far.

        Returns:
            The decrypted events and the undecryptable ones, each in the page's order.
        """
        # Each event makes several small objects that live on; the cyclic garbage collector
        # would scan them over and over while a page is built (most of the cost of a page,
        # measured), so it pauses for the page, as timeit pauses it.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._decrypt(account_id, keys, cache, page, progress)
        finally:
            if was_enabled:
                gc.enable()

    def _decrypt(
        self,
        account_id: str,
        keys: AccountKeys,
        cache: SecretCache,
        page: SourcePage,
        progress: ProgressHook | None = None,
    ) -> tuple[list[DecryptedEvent], list[Undecryptable]]:
        """The work of `decrypt`, with the garbage collector paused."""
        out: list[DecryptedEvent | Undecryptable | None] = [None] * len(page.events)
        groups: dict[str, list[tuple[int, RawEvent]]] = {}
        for index, raw in enumerate(page.events):
            secret_id = raw.secret_id
            if secret_id is None:
                out[index] = Undecryptable(raw.event_id, None, Reason.ANONYMOUS)
                continue
            group = groups.get(secret_id)
            if group is None:
                groups[secret_id] = [(index, raw)]
            else:
                group.append((index, raw))
        # The ids go into events unvalidated (see _event), so each must be what it claims.
        for secret_id in list(groups):
            members = groups[secret_id]
            good_secret = _SECRET_ID.fullmatch(secret_id) is not None
            if good_secret and all(is_ulid(raw.event_id) for _, raw in members):
                continue
            kept = []
            for index, raw in members:
                if good_secret and is_ulid(raw.event_id):
                    kept.append((index, raw))
                else:
                    out[index] = Undecryptable(raw.event_id, secret_id, Reason.MALFORMED_EVENT)
            if kept:
                groups[secret_id] = kept
            else:
                del groups[secret_id]

        pending = [
            (secret_id, page.secrets[secret_id])
            for secret_id in groups
            if secret_id in page.secrets and cache.stale(secret_id, page.secrets[secret_id])
        ]
        waiting = {secret_id for secret_id, _ in pending}

        def finish(secret_id: str) -> None:
            key = cache.key(secret_id)
            members = groups[secret_id]
            if key is not None:
                _decrypt_group(key, account_id, secret_id, members, out)
                return
            reason = Reason.BAD_SECRET if cache.known(secret_id) else Reason.MISSING_SECRET
            for index, raw in members:
                out[index] = Undecryptable(raw.event_id, secret_id, reason)

        if len(pending) >= self._threshold and self._workers > 1:
            size = max(4, min(128, -(-len(pending) // (self._workers * 4))))
            futures: list[Future[list[tuple[str, str, bytes | None]]]] = [
                self._executor().submit(unwrap_chunk, keys, pending[start : start + size])
                for start in range(0, len(pending), size)
            ]
            # Meanwhile, decrypt the events whose secrets are already known.
            for secret_id in groups:
                if secret_id not in waiting:
                    finish(secret_id)
            done = 0
            for future in as_completed(futures):
                results = future.result()
                for secret_id, cipher, raw_key in results:
                    cache.put(secret_id, cipher, None if raw_key is None else SymmetricKey(raw_key))
                for secret_id, _, _ in results:
                    finish(secret_id)
                done += len(results)
                if progress is not None:
                    progress(done, len(pending))
        else:
            for done, (secret_id, cipher) in enumerate(pending, start=1):
                raw_key = _unwrap_one(keys, cipher)
                cache.put(secret_id, cipher, None if raw_key is None else SymmetricKey(raw_key))
                if progress is not None and (done % 16 == 0 or done == len(pending)):
                    progress(done, len(pending))
            for secret_id in groups:
                finish(secret_id)

        decrypted: list[DecryptedEvent] = []
        failed: list[Undecryptable] = []
        for item in out:
            if isinstance(item, Undecryptable):
                failed.append(item)
            elif item is not None:
                decrypted.append(item)
        return decrypted, failed


def count_reasons(failures: Iterable[Undecryptable]) -> dict[str, int]:
    """Count undecryptable events by reason.

    Args:
        failures: The undecryptable events.

    Returns:
        ``{reason: count}`` for the reasons that occur, in `Reason`'s order.
    """
    counts = dict.fromkeys(Reason, 0)
    for failure in failures:
        counts[failure.reason] += 1
    return {str(reason): count for reason, count in counts.items() if count}


def merge_counts(total: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    """Add two counts by reason.

    Args:
        total: Counts so far.
        more: Counts to add.

    Returns:
        The sums, in `Reason`'s order.
    """
    merged = {str(reason): total.get(reason, 0) + more.get(reason, 0) for reason in Reason}
    return {reason: count for reason, count in merged.items() if count}
