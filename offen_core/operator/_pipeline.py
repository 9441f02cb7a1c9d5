# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The bottom of the operator's chain: unwrap user secrets (over processes), decrypt payloads."""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

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

__all__ = ["DEFAULT_READ_AHEAD", "Decryptor", "Reason", "SecretCache", "Undecryptable"]

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


def _stamp(cipher: str) -> int | None:
    """The key version stamped on a wrapped user secret, or ``None`` (none, or unreadable)."""
    if cipher.startswith("{1,} "):  # Offen's vault stamps none
        return None
    try:
        return parse_cipher_string(cipher).key_version
    except CryptoError:
        return None


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
_EVENT_FIELDS = ("event_id", "account_id", "secret_id", "payload")
# A page's event ids, one per line, when every one is a ULID: one regex call, not thousands.
_ULID_LINES = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}(?:\n[0-7][0-9A-HJKMNP-TV-Z]{25})*", re.ASCII)


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
    _set_attribute(event, "__pydantic_fields_set__", _ALL_EVENT_FIELDS)
    _set_attribute(event, "__pydantic_extra__", None)
    _set_attribute(event, "__pydantic_private__", None)
    return event


# A set per model is the largest object an event holds (about 700 bytes for a pageview), and
# one more for the garbage collector to scan. The models are frozen, and pydantic copies the
# set before a model_copy changes it, so events with the same members share one.
_ALL_EVENT_FIELDS = set(_EVENT_FIELDS)
_PAGE_VIEW_FIELDS = frozenset(PageView.model_fields)
_shared_field_sets: dict[frozenset[str], set[str]] = {}
_last_shared: list[set[str]] = [set()]  # the set shared last: most payloads have the same members


def _share_fields(view: PageView) -> PageView:
    """Give ``view`` the shared set of its member names (members beyond the schema: its own)."""
    names = view.__pydantic_fields_set__
    shared = _last_shared[0]
    if names != shared:
        key = frozenset(names)
        if not key <= _PAGE_VIEW_FIELDS:  # at most 2**9 shared sets, whatever payloads hold
            return view
        shared = _shared_field_sets.setdefault(key, set(key))
        _last_shared[0] = shared
    _set_attribute(view, "__pydantic_fields_set__", shared)
    return view


Slot = DecryptedEvent | Undecryptable | None
"""A page's result at one event's index; ``None`` until the event is settled."""


def _open_payload(key: SymmetricKey, cipher: str) -> bytes | None:
    try:
        return decrypt_symmetric(key, cipher)
    except CryptoError:
        return None


def open_payloads(items: Sequence[tuple[bytes, Sequence[str]]]) -> list[list[bytes | None]]:
    """Decrypt payloads (runs in a worker process): raw keys and payloads travel by pickle.

    Args:
        items: ``(raw user secret, payload cipher strings)`` for each visitor.

    Returns:
        The plaintexts of each visitor's payloads, ``None`` where one does not decrypt.
    """
    opened = []
    for raw_key, ciphers in items:
        key = SymmetricKey(raw_key)
        opened.append([_open_payload(key, cipher) for cipher in ciphers])
    return opened


def _build_group(
    account_id: str,
    secret_id: str,
    events: Sequence[RawEvent],
    indices: Sequence[int],
    plaintexts: Sequence[bytes | None],
    out: list[Slot],
) -> None:
    """Validate one visitor's decrypted payloads into events in ``out`` at ``indices``."""
    validate = _PAGE_VIEW_VALIDATOR.validate_json
    for index, plaintext in zip(indices, plaintexts, strict=True):
        event_id = events[index].event_id
        if plaintext is None:
            out[index] = Undecryptable(event_id, secret_id, Reason.BAD_PAYLOAD)
            continue
        try:
            payload = validate(plaintext)
        except (ValidationError, InvalidInputError):
            out[index] = Undecryptable(event_id, secret_id, Reason.INVALID_PAYLOAD)
            continue
        out[index] = _event(event_id, account_id, secret_id, _share_fields(payload))


def _fail_group(
    reason: Reason,
    secret_id: str | None,
    events: Sequence[RawEvent],
    indices: Iterable[int],
    out: list[Slot],
) -> None:
    """Mark the events at ``indices`` undecryptable for ``reason``."""
    for index in indices:
        out[index] = Undecryptable(events[index].event_id, secret_id, reason)


def _ids_are_ulids(events: Sequence[RawEvent]) -> bool:
    """Tell whether every event id is a ULID.

    The ids joined by line breaks must be exactly one ULID per line, and exactly as long as
    that many lines: so no id can hide a line break, or carry part of its neighbour.
    """
    if not events:
        return True
    try:
        lines = "\n".join([raw.event_id for raw in events])
    except TypeError:  # a damaged source gave an id that is not a string
        return False
    return len(lines) == 27 * len(events) - 1 and _ULID_LINES.fullmatch(lines) is not None


DEFAULT_READ_AHEAD = 8
"""Pages read ahead while user secrets unwrap: about 40,000 events at the default page size."""


def check_read_ahead(read_ahead: int | None) -> int:
    """Check a ``read_ahead`` argument: pages, 0 or more, or ``None`` for no limit.

    Args:
        read_ahead: The argument as given.

    Returns:
        The number of pages (``None`` becomes the largest size a window can have).

    Raises:
        InvalidInputError: ``read_ahead`` is neither ``None`` nor a number from 0 up.
    """
    if read_ahead is None:
        return sys.maxsize
    if type(read_ahead) is not int or read_ahead < 0:
        raise InvalidInputError("read_ahead", "must be a number of pages, 0 or more, or None")
    return read_ahead


_REMOTE_MINIMUM = 1_000
"""The fewest events with known secrets in a page worth decrypting in the worker processes."""

_WORKER_CHUNK = 16
"""User secrets per job for a worker process (and per progress report when this process
unwraps them all): about 25 ms of RSA-4096."""

_QUEUED_PER_WORKER = 3
"""Jobs of secrets kept queued for each worker process, so that none waits for the next
while this process is busy with events (its executor threads need the GIL to pass jobs on)."""

_LOCAL_CHUNK = 4
"""User secrets this process unwraps at a time when it has nothing else to do: about 6 ms,
short enough to take in the workers' results soon after they come."""

ProgressHook = Callable[[int, int], None]
"""Called as ``hook(secrets_unwrapped, secrets_to_unwrap)`` while user secrets unwrap."""

Wanted = tuple[str, str]
"""A user secret to unwrap: ``(secret id, wrapped secret)``."""

KeysRefresh = Callable[[], AccountKeys]
"""Reads an account's keys again, for secrets stamped with a key version the run lacks."""


class _Work:
    """A page on its way through the decryptor: its results so far, and what still waits."""

    __slots__ = ("opening", "out", "page", "waiting")

    def __init__(self, page: SourcePage) -> None:
        self.page = page
        self.out: list[Slot] = [None] * len(page.events)
        self.waiting: dict[Wanted, list[int]] = {}
        """Indices of the events that wait for a user secret being unwrapped."""
        self.opening = 0
        """Jobs decrypting this page's payloads in the worker processes."""

    @property
    def settled(self) -> bool:
        """Whether every event of the page is decrypted or known to be undecryptable."""
        return not self.waiting and not self.opening

    def results(self) -> tuple[list[DecryptedEvent], list[Undecryptable]]:
        decrypted: list[DecryptedEvent] = []
        failed: list[Undecryptable] = []
        for item in self.out:
            if type(item) is Undecryptable:
                failed.append(item)
            elif item is not None:
                decrypted.append(item)  # type: ignore[arg-type]
        return decrypted, failed


class _Run:
    """One stream of pages through a `Decryptor`: the pages held, the jobs in the workers."""

    def __init__(
        self,
        decryptor: Decryptor,
        account_id: str,
        keys: AccountKeys,
        cache: SecretCache,
        progress: ProgressHook | None,
        refresh_keys: KeysRefresh | None,
    ) -> None:
        self.decryptor = decryptor
        self.account_id = account_id
        self.keys = keys
        self.cache = cache
        self.progress = progress
        self.refresh_keys = refresh_keys
        self.sought: set[int] = set()
        """Key versions the keys were read again for in this run (once each)."""
        self.window: deque[_Work] = deque()
        self.jobs: dict[Future[Any], Callable[[Any], None]] = {}
        """Jobs in the worker processes, and what to do with each one's result."""
        self.unwrapping: set[Wanted] = set()
        self.backlog: deque[list[Wanted]] = deque()
        """Chunks of user secrets to unwrap that no worker process has been given yet."""
        self.queued = 0
        """Jobs of secrets given to the worker processes and not yet taken back."""
        self.submitted = 0
        self.unwrapped = 0

    def admit(self, page: SourcePage) -> None:
        """Take a page in: open the events whose secrets are known, start unwrapping the rest."""
        work = _Work(page)
        events, out, cache = page.events, work.out, self.cache
        groups: dict[str | None, list[int]] = {}
        for index, raw in enumerate(events):
            group = groups.get(raw.secret_id)
            if group is None:
                groups[raw.secret_id] = [index]
            else:
                group.append(index)
        anonymous = groups.pop(None, None)
        if anonymous:
            _fail_group(Reason.ANONYMOUS, None, events, anonymous, out)
        # The ids go into events unvalidated (see _event), so each must be what it claims.
        ids_checked = _ids_are_ulids(events)
        new: list[Wanted] = []
        known: list[tuple[str, SymmetricKey, list[int]]] = []
        for secret_id, indices in groups.items():
            if type(secret_id) is not str or _SECRET_ID.fullmatch(secret_id) is None:
                _fail_group(Reason.MALFORMED_EVENT, secret_id, events, indices, out)
                continue
            if not ids_checked:
                good = [index for index in indices if is_ulid(events[index].event_id)]
                if len(good) < len(indices):
                    bad = set(indices).difference(good)
                    _fail_group(Reason.MALFORMED_EVENT, secret_id, events, sorted(bad), out)
                    indices = good
            cipher = page.secrets.get(secret_id)
            if cipher is not None and cache.stale(secret_id, cipher):
                wanted = (secret_id, cipher)
                work.waiting[wanted] = indices
                if wanted not in self.unwrapping:
                    self.unwrapping.add(wanted)
                    new.append(wanted)
                continue
            key = cache.key(secret_id)
            if key is None:
                self._settle_group(secret_id, events, indices, out)
            else:
                known.append((secret_id, key, indices))
        self.window.append(work)
        self._unwrap(new)
        self._open(work, known)

    def _open(self, work: _Work, known: list[tuple[str, SymmetricKey, list[int]]]) -> None:
        """Decrypt the events of visitors whose secrets are known, in the workers if many.

        Decrypting a payload in a worker and sending its plaintext back costs this process
        less than decrypting it here, so with several workers a large page's payloads are
        decrypted there, while this process validates what comes back (and reads ahead).
        """
        events, out = work.page.events, work.out
        decryptor = self.decryptor
        count = sum(len(indices) for _, _, indices in known)
        if decryptor.processes < 1 or count < _REMOTE_MINIMUM:
            for secret_id, key, indices in known:
                self._open_here(key, secret_id, events, indices, out)
            return
        pool = decryptor._executor()
        share = -(-count // (2 * decryptor.processes))
        chunk: list[tuple[str, SymmetricKey, list[int]]] = []
        size = 0
        for number, group in enumerate(known, start=1):
            chunk.append(group)
            size += len(group[2])
            if size >= share or number == len(known):
                items = [
                    (key.to_bytes(), [events[index].payload for index in indices])
                    for _, key, indices in chunk
                ]
                work.opening += 1
                self.jobs[pool.submit(open_payloads, items)] = partial(self._opened, work, chunk)
                chunk, size = [], 0

    def _opened(
        self,
        work: _Work,
        chunk: list[tuple[str, SymmetricKey, list[int]]],
        plaintexts: list[list[bytes | None]],
    ) -> None:
        events, out = work.page.events, work.out
        for (secret_id, _, indices), opened in zip(chunk, plaintexts, strict=True):
            _build_group(self.account_id, secret_id, events, indices, opened, out)
        work.opening -= 1

    def _open_here(
        self,
        key: SymmetricKey,
        secret_id: str,
        events: Sequence[RawEvent],
        indices: list[int],
        out: list[Slot],
    ) -> None:
        plaintexts = [_open_payload(key, events[index].payload) for index in indices]
        _build_group(self.account_id, secret_id, events, indices, plaintexts, out)

    def _settle_group(
        self, secret_id: str, events: Sequence[RawEvent], indices: list[int], out: list[Slot]
    ) -> None:
        """Open one visitor's events with the cached secret, or say why they cannot be."""
        key = self.cache.key(secret_id)
        if key is not None:
            self._open_here(key, secret_id, events, indices, out)
        elif self.cache.known(secret_id):
            _fail_group(Reason.BAD_SECRET, secret_id, events, indices, out)
        else:
            _fail_group(Reason.MISSING_SECRET, secret_id, events, indices, out)

    def _unwrap(self, new: list[Wanted]) -> None:
        if not new:
            return
        self._catch_up(new)
        if not self.unwrapping:
            self.submitted = self.unwrapped = 0
        self.submitted += len(new)
        decryptor = self.decryptor
        if len(new) >= decryptor.parallel_threshold and decryptor.processes > 0:
            # Small chunks: their results come back early and often, so the events of the
            # first visitors are decrypted while the other secrets still unwrap.
            size = _WORKER_CHUNK
            self.backlog.extend(new[start : start + size] for start in range(0, len(new), size))
            self._feed()
            return
        for start in range(0, len(new), _WORKER_CHUNK):
            self._settle_all(unwrap_chunk(self.keys, new[start : start + _WORKER_CHUNK]))

    def _catch_up(self, new: list[Wanted]) -> None:
        """Read the keys again when a secret names a key version they lack.

        Such a secret was wrapped with a key pair made after the keys were unlocked (a
        rotation during the session). Each unknown version is sought once per run, so a
        client that stamps a version that does not exist costs one read, not one per page.
        """
        if self.refresh_keys is None:
            return
        for _, cipher in new:
            version = _stamp(cipher)
            if version is None or version in self.sought or self.keys.knows(version):
                continue
            self.sought.add(version)
            self.keys = self.refresh_keys()

    def _feed(self) -> None:
        """Give the worker processes chunks of the backlog, up to a few queued for each."""
        most = _QUEUED_PER_WORKER * self.decryptor.processes
        while self.backlog and self.queued < most:
            pool = self.decryptor._executor()
            job = pool.submit(unwrap_chunk, self.keys, self.backlog.popleft())
            self.jobs[job] = self._unwrapped
            self.queued += 1

    def _unwrapped(self, results: list[tuple[str, str, bytes | None]]) -> None:
        self.queued -= 1
        self._feed()  # before the events: the worker must not wait while they are decrypted
        self._settle_all(results)

    def _settle(self, secret_id: str, cipher: str, raw_key: bytes | None) -> None:
        """Cache an unwrapped secret and open the events waiting for it, in every page held."""
        self.cache.put(secret_id, cipher, None if raw_key is None else SymmetricKey(raw_key))
        wanted = (secret_id, cipher)
        self.unwrapping.discard(wanted)
        for work in self.window:
            indices = work.waiting.pop(wanted, None)
            if indices is not None:
                self._settle_group(secret_id, work.page.events, indices, work.out)

    def ahead(self, most: int) -> int:
        """How many pages may be held beyond the one being finished, now.

        Up to ``most`` while secrets unwrap (the first pages of an account bring most of its
        visitors, and their events can be decrypted as the secrets come back), one while only
        payloads are out (enough to keep the workers busy), none when nothing is out.
        """
        if self.unwrapping:
            return most
        return min(most, 1) if self.jobs else 0

    @property
    def busy(self) -> bool:
        """Whether jobs are out in the worker processes or secrets wait to be unwrapped."""
        return bool(self.jobs or self.backlog)

    def step(self) -> None:
        """Take in what the worker processes finished; if nothing, share their work.

        While secrets wait in the backlog this process does not sit waiting for the
        workers: it unwraps a few of them itself, from the end of the backlog (the workers
        take from the front), then looks again. Otherwise it waits for a job to finish.
        """
        if self.jobs:
            timeout = 0 if self.backlog else None
            finished, _ = wait(self.jobs, timeout=timeout, return_when=FIRST_COMPLETED)
            if finished:
                for job in finished:
                    self.jobs.pop(job)(job.result())
                return
        if self.backlog:
            chunk = self.backlog.pop()
            if len(chunk) > _LOCAL_CHUNK:
                self.backlog.append(chunk[_LOCAL_CHUNK:])
            self._settle_all(unwrap_chunk(self.keys, chunk[:_LOCAL_CHUNK]))

    def _settle_all(self, results: list[tuple[str, str, bytes | None]]) -> None:
        for secret_id, cipher, raw_key in results:
            self._settle(secret_id, cipher, raw_key)
        self.unwrapped += len(results)
        if self.progress is not None:
            self.progress(self.unwrapped, self.submitted)


class Decryptor:
    """Decrypts pages of events, with the heavy work in worker processes when there are several.

    The cryptography holds Python's GIL, so threads do not help; processes do.
    ``workers`` counts the processes that share the work, this one included: the pool,
    started on first use and kept until `close`, holds ``workers - 1`` processes, so that
    the busy processes do not outnumber the cores (a third one on two cores would only make
    the other two take turns with it).

    - **User secrets**: when a page brings at least ``parallel_threshold`` new secrets they
      go into a backlog (RSA-OAEP, about 1.4 to 1.9 ms each). The worker processes take it
      in chunks, a few queued for each; this process unwraps small chunks from its other
      end whenever it has no events to decrypt. Fewer secrets are unwrapped here at once.
    - **Payloads**: when a page holds at least 1,000 events whose secrets are known, the
      workers decrypt the payloads (AES-GCM) and send the plaintexts back; this process
      validates them into events, which it would have to rebuild anyway if a worker made them.
    - **Reading ahead** (`stream`): while secrets unwrap, the next pages are read and their
      events decrypted as their visitors' secrets come back, so this process is not left
      waiting on the first page of a large account; while only payloads are out, one page
      is read ahead, which keeps the workers busy.

    With ``workers=1`` everything happens in this process.

    Args:
        workers: Processes that share the work, this one included; defaults to the
            machine's CPU count.
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
        """The processes that share the work, this one included (1: this one alone)."""
        return self._workers

    @property
    def processes(self) -> int:
        """The worker processes beside this one (0: everything happens in this process)."""
        return self._workers - 1

    @property
    def parallel_threshold(self) -> int:
        """The fewest new secrets in a page worth sending to the worker processes."""
        return self._threshold

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.processes)
        return self._pool

    def decrypt(
        self,
        account_id: str,
        keys: AccountKeys,
        cache: SecretCache,
        page: SourcePage,
        progress: ProgressHook | None = None,
    ) -> tuple[list[DecryptedEvent], list[Undecryptable]]:
        """Decrypt one page: unwrap its new secrets, then open each payload with its secret.

        Args:
            account_id: The account's id, written into each event.
            keys: The account's unlocked private keys.
            cache: The account's secret cache; new secrets are added to it.
            page: The page.
            progress: Told how many of the page's new secrets are unwrapped so far.

        Returns:
            The decrypted events and the undecryptable ones, each in the page's order.
        """
        for _, decrypted, failed in self.stream(
            account_id, keys, cache, (page,), read_ahead=0, progress=progress
        ):
            return decrypted, failed
        raise AssertionError("a stream of one page yields one result")  # pragma: no cover

    def stream(
        self,
        account_id: str,
        keys: AccountKeys,
        cache: SecretCache,
        pages: Iterable[SourcePage],
        *,
        read_ahead: int | None = DEFAULT_READ_AHEAD,
        progress: ProgressHook | None = None,
        refresh_keys: KeysRefresh | None = None,
    ) -> Iterator[tuple[SourcePage, list[DecryptedEvent], list[Undecryptable]]]:
        """Decrypt pages in order, reading ahead while user secrets unwrap.

        While secrets unwrap, up to ``read_ahead`` further pages are read, and their events
        are decrypted as their visitors' secrets come back; while only payloads are out in
        the workers, one page (if ``read_ahead`` allows one). Each page is yielded once all
        its events are settled, in the order the pages came. When reading ahead fails, the
        pages read before are yielded first, then the error is raised.

        The cyclic garbage collector pauses while this generator works (each event makes
        several small objects that live on, which it would scan over and over) and runs as
        usual while the caller holds a page.

        Args:
            account_id: The account's id, written into each event.
            keys: The account's unlocked private keys.
            cache: The account's secret cache; new secrets are added to it.
            pages: The pages, read lazily.
            read_ahead: The most pages held beyond the one being finished; 0 reads none
                ahead, ``None`` sets no limit. Memory grows with it only while secrets
                unwrap.
            progress: Told how many secrets are unwrapped out of those sent so far.
            refresh_keys: Called when a new secret is stamped with a key version that
                ``keys`` lack (a key pair rotated after they were unlocked); its keys are
                used from then on. ``None``: such secrets count as `Reason.BAD_SECRET`.

        Yields:
            ``(page, decrypted events, undecryptable events)``, each list in the page's order.

        Raises:
            InvalidInputError: ``read_ahead`` is negative.
            BrokenProcessPool: A worker process died (killed, out of memory) while the
                stream ran; the pool is dropped and the next run starts a new one.
        """
        run = _Run(self, account_id, keys, cache, progress, refresh_keys)
        return self._stream(run, iter(pages), check_read_ahead(read_ahead))

    def _stream(
        self, run: _Run, pages: Iterator[SourcePage], read_ahead: int
    ) -> Iterator[tuple[SourcePage, list[DecryptedEvent], list[Undecryptable]]]:
        window = run.window
        exhausted = False
        failure: Exception | None = None
        collecting = gc.isenabled()
        gc.disable()
        try:
            while True:
                while window and window[0].settled:
                    work = window.popleft()
                    decrypted, failed = work.results()
                    if collecting:
                        gc.enable()
                    yield work.page, decrypted, failed
                    gc.disable()
                if not exhausted and len(window) <= run.ahead(read_ahead):
                    try:
                        page = next(pages)
                    except StopIteration:
                        exhausted = True
                        continue
                    except Exception as error:
                        if not window:
                            raise
                        failure, exhausted = error, True
                        continue
                    run.admit(page)
                elif run.busy:
                    run.step()
                elif window:  # pragma: no cover - every waiting event has a job behind it
                    raise AssertionError("a page waits for a user secret that nobody unwraps")
                elif failure is not None:
                    raise failure
                else:
                    return
        except BrokenProcessPool:
            # A worker process died (killed, out of memory): the pool can take no more jobs,
            # so it goes, and the next run starts a new one.
            self._drop_pool()
            raise
        finally:
            if collecting:
                gc.enable()


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
