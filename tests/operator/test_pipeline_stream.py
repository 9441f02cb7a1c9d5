# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The decryptor's stream: reading ahead, work in the worker processes, order, errors, GC."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import secrets as random
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import GeneratorType
from typing import Any

import pytest
from opsync_helpers import page_view, wrong_key_payload

from offen_core.client import create_user_secret, encrypt_page_view, wrap_user_secret
from offen_core.crypto import KeyPair, SymmetricKey, encrypt_symmetric
from offen_core.errors import InvalidInputError, StorageError
from offen_core.events import DecryptedEvent, PageView, new_ulid
from offen_core.operator import (
    AccountHeader,
    Decryptor,
    Operator,
    RawEvent,
    SecretCache,
    SourcePage,
    Undecryptable,
    _pipeline,
)
from offen_core.operator._keys import AccountKeys
from offen_core.testing import KeyPairPool

ACCOUNT_ID = "4a1c2d9e-8b7f-4e3a-9c1d-0f2e3d4c5b6a"
Outcome = tuple[list[DecryptedEvent], list[Undecryptable]]


@dataclass
class Account:
    """An account's keys and its events cut into pages, as a source would serve them."""

    keys: AccountKeys
    pages: list[SourcePage]


def _account(pair: KeyPair, *, pages: int = 5, per_page: int = 40, visitors: int = 24) -> Account:
    """Pages of events from many visitors, with one event of each way to fail among them."""
    people = [(random.token_hex(32), create_user_secret()) for _ in range(visitors)]
    wrapped = {sid: wrap_user_secret(secret, pair.public_key) for sid, secret in people}
    bad_secret = random.token_hex(32)
    wrapped[bad_secret] = wrap_user_secret(create_user_secret(), pair.public_key)[:-8] + "AAAAAAA="
    number = 0
    built: list[SourcePage] = []
    for page_number in range(pages):
        events: list[RawEvent] = []
        for _ in range(per_page):
            number += 1
            sid, secret = people[number % visitors]
            events.append(RawEvent(new_ulid(), sid, encrypt_page_view(secret, page_view(number))))
        sid, secret = people[page_number % visitors]
        events += [
            RawEvent(new_ulid(), sid, wrong_key_payload(None, number)),
            RawEvent(new_ulid(), sid, encrypt_symmetric(secret.to_bytes(), b"[1, 2]")),
            RawEvent(new_ulid(), None, encrypt_page_view(secret, page_view(number))),
            RawEvent("not-a-ulid", sid, encrypt_page_view(secret, page_view(number))),
            RawEvent(new_ulid(), random.token_hex(32), encrypt_page_view(secret, page_view(1))),
            RawEvent(new_ulid(), bad_secret, encrypt_page_view(secret, page_view(2))),
        ]
        used = {event.secret_id for event in events if event.secret_id in wrapped}
        built.append(
            SourcePage(
                events=tuple(events),
                deleted_event_ids=(),
                secrets={sid: wrapped[sid] for sid in used if sid is not None},
                sequence=str(page_number + 1),
                more=page_number + 1 < pages,
            )
        )
    return Account(AccountKeys(ACCOUNT_ID, ((None, pair.private_key),)), built)


def _run(
    account: Account,
    decryptor: Decryptor,
    read_ahead: int,
    pages: Iterator[SourcePage] | None = None,
) -> list[tuple[SourcePage, Outcome]]:
    stream = decryptor.stream(
        ACCOUNT_ID,
        account.keys,
        SecretCache(),
        iter(account.pages) if pages is None else pages,
        read_ahead=read_ahead,
    )
    return [(page, (decrypted, failed)) for page, decrypted, failed in stream]


def _summary(outcome: Outcome) -> tuple[list[tuple[str, str | None, PageView]], list[str]]:
    decrypted, failed = outcome
    return (
        [(event.event_id, event.secret_id, event.payload) for event in decrypted],
        [f"{failure.event_id}:{failure.reason}" for failure in failed],
    )


@pytest.fixture(scope="module")
def account(pool: KeyPairPool) -> Account:
    return _account(pool())


@pytest.fixture
def everything_remote(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send even small pages' payloads to the worker processes."""
    monkeypatch.setattr(_pipeline, "_REMOTE_MINIMUM", 1)


@pytest.mark.usefixtures("everything_remote")
@pytest.mark.parametrize(("workers", "read_ahead"), [(2, 0), (2, 1), (2, 3), (3, 8)])
def test_workers_and_reading_ahead_give_what_one_process_gives(
    account: Account, workers: int, read_ahead: int
) -> None:
    with_one = _run(account, Decryptor(workers=1), read_ahead=0)
    decryptor = Decryptor(workers=workers, parallel_threshold=1)
    try:
        spread = _run(account, decryptor, read_ahead)
    finally:
        decryptor.close()

    assert [page for page, _ in spread] == account.pages
    assert [_summary(outcome) for _, outcome in spread] == [
        _summary(outcome) for _, outcome in with_one
    ]
    first_decrypted, first_failed = with_one[0][1]
    assert len(first_decrypted) == 40
    assert sorted(str(failure.reason) for failure in first_failed) == sorted(
        [
            "bad_payload",
            "invalid_payload",
            "anonymous",
            "malformed_event",
            "missing_secret",
            "bad_secret",
        ]
    )


@pytest.mark.parametrize("read_ahead", [0, 2])
def test_reading_ahead_holds_no_more_pages_than_asked(account: Account, read_ahead: int) -> None:
    pulled = 0
    most_held = 0

    def pages() -> Iterator[SourcePage]:
        nonlocal pulled
        for page in account.pages:
            pulled += 1
            yield page

    decryptor = Decryptor(workers=2, parallel_threshold=1)
    try:
        stream = decryptor.stream(
            ACCOUNT_ID, account.keys, SecretCache(), pages(), read_ahead=read_ahead
        )
        for yielded, _ in enumerate(stream, start=1):
            most_held = max(most_held, pulled - yielded + 1)
    finally:
        decryptor.close()

    assert pulled == len(account.pages)
    # Secrets are still unwrapping when the first page is taken in, so it reads ahead fully.
    assert most_held == read_ahead + 1


def test_an_error_while_reading_ahead_comes_after_the_pages_read_before_it(
    account: Account,
) -> None:
    def pages() -> Iterator[SourcePage]:
        yield from account.pages[:2]
        raise StorageError("the database went away")

    decryptor = Decryptor(workers=2, parallel_threshold=1)
    got: list[SourcePage] = []

    def drain() -> None:
        for page, _, _ in decryptor.stream(
            ACCOUNT_ID, account.keys, SecretCache(), pages(), read_ahead=4
        ):
            got.append(page)

    try:
        with pytest.raises(StorageError, match="went away"):
            drain()
    finally:
        decryptor.close()

    assert got == account.pages[:2]


def test_an_error_on_the_first_page_is_raised_at_once(account: Account) -> None:
    def pages() -> Iterator[SourcePage]:
        raise StorageError("no database")
        yield  # pragma: no cover

    stream = Decryptor(workers=1).stream(ACCOUNT_ID, account.keys, SecretCache(), pages())
    with pytest.raises(StorageError, match="no database"):
        next(stream)


def test_a_negative_read_ahead_is_refused(account: Account) -> None:
    with pytest.raises(InvalidInputError, match="read_ahead"):
        Decryptor(workers=1).stream(ACCOUNT_ID, account.keys, SecretCache(), [], read_ahead=-1)
    with pytest.raises(InvalidInputError, match="read_ahead"):
        Operator({"accounts": []}, read_ahead=-1)
    with pytest.raises(InvalidInputError, match="read_ahead"):
        Decryptor(workers=1).stream(ACCOUNT_ID, account.keys, SecretCache(), [], read_ahead=1.5)  # type: ignore[arg-type]


def test_workers_count_this_process_so_the_pool_holds_one_fewer(account: Account) -> None:
    before = set(multiprocessing.active_children())
    decryptor = Decryptor(workers=3, parallel_threshold=1)
    try:
        _run(account, decryptor, read_ahead=2)
        started = set(multiprocessing.active_children()) - before
    finally:
        decryptor.close()

    assert decryptor.workers == 3
    assert decryptor.processes == 2
    assert len(started) == 2
    assert Decryptor(workers=1).processes == 0


_TEST_PROCESS = os.getpid()


def _die(keys: AccountKeys, items: Sequence[tuple[str, str]]) -> Any:
    """Stands in for the unwrapping in a worker process: the process dies at once."""
    if os.getpid() == _TEST_PROCESS:
        raise AssertionError("the secrets were to be unwrapped in the worker process")
    os._exit(1)


def test_a_worker_that_dies_fails_the_run_and_the_next_run_gets_a_new_pool(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_one = _run(account, Decryptor(workers=1), read_ahead=0)
    decryptor = Decryptor(workers=2, parallel_threshold=1)
    try:
        # The worker is forked with the stand-in in place. The 25 secrets make two jobs,
        # both queued at once, so none is left in the backlog for this process to take.
        with monkeypatch.context() as patched:
            patched.setattr(_pipeline, "unwrap_chunk", _die)
            with pytest.raises(BrokenProcessPool):
                _run(account, decryptor, read_ahead=2)
        again = _run(account, decryptor, read_ahead=2)
    finally:
        decryptor.close()

    assert [_summary(outcome) for _, outcome in again] == [
        _summary(outcome) for _, outcome in with_one
    ]


class _SlowPool:
    """Stands in for the process pool: runs each job in a thread after a delay, so that the
    calling process finds the backlog waiting and must share the unwrapping."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.timers: list[threading.Timer] = []
        self.outstanding = 0
        self.most_outstanding = 0
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            self.outstanding += 1
            self.most_outstanding = max(self.most_outstanding, self.outstanding)

        def run() -> None:
            result = function(*args)
            with self._lock:
                self.outstanding -= 1
            future.set_result(result)

        timer = threading.Timer(self.delay, run)
        self.timers.append(timer)
        timer.start()
        return future

    def join(self) -> None:
        for timer in self.timers:
            timer.join()


def test_this_process_unwraps_from_the_backlog_while_the_workers_are_busy(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    unwrapped: list[tuple[bool, list[str]]] = []
    real = _pipeline.unwrap_chunk
    here = threading.current_thread()

    def counting(keys: AccountKeys, items: Sequence[tuple[str, str]]) -> Any:
        unwrapped.append((threading.current_thread() is here, [sid for sid, _ in items]))
        return real(keys, items)

    monkeypatch.setattr(_pipeline, "unwrap_chunk", counting)
    monkeypatch.setattr(_pipeline, "_WORKER_CHUNK", 6)
    with_one = _run(account, Decryptor(workers=1), read_ahead=0)
    unwrapped.clear()
    decryptor = Decryptor(workers=2, parallel_threshold=1)
    slow = _SlowPool(delay=0.2)
    monkeypatch.setattr(decryptor, "_executor", lambda: slow)
    try:
        shared = _run(account, decryptor, read_ahead=8)
    finally:
        slow.join()

    assert [_summary(outcome) for _, outcome in shared] == [
        _summary(outcome) for _, outcome in with_one
    ]
    local = [sid for in_here, chunk in unwrapped if in_here for sid in chunk]
    remote = [sid for in_here, chunk in unwrapped if not in_here for sid in chunk]
    assert local
    assert remote
    # Every secret was unwrapped exactly once, by one side or the other.
    assert len(local) + len(remote) == len(set(local) | set(remote))
    assert all(len(chunk) <= _pipeline._LOCAL_CHUNK for in_here, chunk in unwrapped if in_here)
    assert all(len(chunk) == 6 for in_here, chunk in unwrapped if not in_here)
    # Jobs wait in the backlog rather than in the pool, a few queued for the one worker.
    assert slow.most_outstanding == _pipeline._QUEUED_PER_WORKER


class _PagesSource:
    """An account source over prepared pages (the cursor is the page number)."""

    def __init__(self, account: Account, kek: bytes, private_jwk: bytes) -> None:
        self._account = account
        self._wrapped = encrypt_symmetric(kek, private_jwk)

    @property
    def account_id(self) -> str:
        return ACCOUNT_ID

    def header(self) -> AccountHeader:
        return AccountHeader(ACCOUNT_ID, "pages", self._wrapped)

    def page(self, since: str | None, limit: int | None) -> SourcePage:
        return self._account.pages[0 if since is None else int(since)]


def _login(kek: bytes) -> dict[str, object]:
    jwk = SymmetricKey(kek).to_jwk()
    return {
        "accounts": [{"accountId": ACCOUNT_ID, "keyEncryptionKey": {"k": jwk["k"], "kty": "oct"}}]
    }


@pytest.fixture
def source(account: Account) -> tuple[_PagesSource, dict[str, object]]:
    kek = random.token_bytes(32)
    private = account.keys.keys[0][1].to_jwk()
    return _PagesSource(account, kek, json.dumps(private).encode()), _login(kek)


@pytest.mark.parametrize("collecting", [True, False])
def test_the_garbage_collector_is_left_as_it_was_found(
    source: tuple[_PagesSource, dict[str, object]], collecting: bool
) -> None:
    pages, login = source
    was = gc.isenabled()
    try:
        if not collecting:
            gc.disable()
        with Operator(login, workers=2, parallel_threshold=1) as operator:
            state = operator.sync(pages)
            assert gc.isenabled() is collecting
            assert len(state) == 5 * 40
            batches = operator.iter_batches(pages)
            assert isinstance(batches, GeneratorType)
            next(batches)
            # The caller holds a page: the collector runs as the caller had it.
            assert gc.isenabled() is collecting
            batches.close()  # left early
            assert gc.isenabled() is collecting
    finally:
        if was:
            gc.enable()


def test_events_with_the_same_members_share_one_set_and_copies_do_not(account: Account) -> None:
    (_, (decrypted, _)), *_ = _run(account, Decryptor(workers=1), read_ahead=0)
    first, second = decrypted[0], decrypted[4]
    assert first.payload.model_fields_set == second.payload.model_fields_set
    assert first.payload.model_fields_set is second.payload.model_fields_set

    changed = first.payload.model_copy(update={"geo": "FR"})
    assert changed.geo == "FR"
    assert "geo" in changed.model_fields_set
    assert first.payload.geo == "DE"
    assert second.model_fields_set == {"event_id", "account_id", "secret_id", "payload"}
    # Each equals the model validated from its JSON the ordinary way.
    assert first.payload == PageView.model_validate_json(first.payload.model_dump_json())


@pytest.mark.parametrize(("read_ahead", "held"), [(None, 5), (0, 1), (2, 3)])
def test_sync_reads_ahead_without_a_limit_unless_told(
    source: tuple[_PagesSource, dict[str, object]], read_ahead: int | None, held: int
) -> None:
    pages, login = source
    served = 0
    held_at_first = 0
    serve = pages.page

    def counting(since: str | None, limit: int | None) -> SourcePage:
        nonlocal served
        served += 1
        return serve(since, limit)

    def first(progress: object) -> None:
        nonlocal held_at_first
        if getattr(progress, "pages", 0) == 1 and not held_at_first:
            held_at_first = served

    pages.page = counting  # type: ignore[method-assign]
    with Operator(login, workers=2, parallel_threshold=1) as operator:
        state = operator.sync(pages, progress=first, read_ahead=read_ahead)

    assert len(state) == 5 * 40
    # The first page waits for secrets that unwrap in the workers: the pages read by then
    # are the read-ahead, all of them without a limit.
    assert held_at_first == held


def _one_visitor(pair: KeyPair, events: list[tuple[object, dict[str, Any]]]) -> Outcome:
    """Decrypt, in this process, one page of one visitor's events: (event id, payload)."""
    secret = create_user_secret()
    sid = random.token_hex(32)
    page = SourcePage(
        events=tuple(
            RawEvent(event_id, sid, encrypt_page_view(secret, payload))  # type: ignore[arg-type]
            for event_id, payload in events
        ),
        deleted_event_ids=(),
        secrets={sid: wrap_user_secret(secret, pair.public_key)},
        sequence="1",
        more=False,
    )
    keys = AccountKeys(ACCOUNT_ID, ((None, pair.private_key),))
    return Decryptor(workers=1).decrypt(ACCOUNT_ID, keys, SecretCache(), page)


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b, c: [a, b + "X", c],  # a letter too many
        lambda a, b, c: [a, b[:-1], c],  # a letter too few
        lambda a, b, c: [a, b[:-1], "Z" + c],  # one short, the next long: right in total
        lambda a, b, c: [a + "\n" + b, c],  # two ids in one
        lambda a, b, c: [a + "\n" + b, "", c],  # and an empty one to even the count
        lambda a, b, c: [a, b, 7],  # not a string at all
    ],
)
def test_ids_that_only_look_like_ulids_together_are_malformed(
    pool: KeyPairPool, make: Callable[[str, str, str], list[object]]
) -> None:
    a, b, c = new_ulid(), new_ulid(), new_ulid()
    given = make(a, b, c)

    decrypted, failed = _one_visitor(pool(), [(event_id, page_view(1)) for event_id in given])

    good = [event_id for event_id in given if event_id in (a, b, c)]
    assert [event.event_id for event in decrypted] == good
    assert [failure.event_id for failure in failed] == [x for x in given if x not in good]
    assert {str(failure.reason) for failure in failed} == {"malformed_event"}


def test_members_beyond_the_schema_keep_a_set_of_their_own(pool: KeyPairPool) -> None:
    payloads = [
        page_view(1),
        page_view(2, title="Home"),
        page_view(3, title="About"),
        page_view(4),
        {"href": "https://www.example.org/"},
    ]

    decrypted, failed = _one_visitor(pool(), [(new_ulid(), payload) for payload in payloads])

    assert failed == []
    views = [event.payload for event in decrypted]
    assert views[0].model_fields_set is views[3].model_fields_set
    assert views[1].model_fields_set is not views[2].model_fields_set
    assert views[1].model_fields_set == views[2].model_fields_set
    assert views[1].model_fields_set is not views[0].model_fields_set
    assert views[4].model_fields_set == {"href"}
    for view, payload in zip(views, payloads, strict=True):
        assert view == PageView.model_validate(payload)
        assert view.model_fields_set == PageView.model_validate(payload).model_fields_set


def test_a_stamp_the_keys_lack_reads_them_again_once_per_run(pool: KeyPairPool) -> None:
    pair = pool()
    keys = AccountKeys(ACCOUNT_ID, ((1, pair.private_key),))

    def page(number: int) -> SourcePage:
        # New visitors on every page, their secrets stamped with a version the keys lack
        # (and will go on lacking); the one key still opens them.
        people = [(random.token_hex(32), create_user_secret()) for _ in range(3)]
        return SourcePage(
            events=tuple(
                RawEvent(new_ulid(), sid, encrypt_page_view(secret, page_view(number)))
                for sid, secret in people
            ),
            deleted_event_ids=(),
            secrets={
                sid: "{1,7} " + wrap_user_secret(secret, pair.public_key).removeprefix("{1,} ")
                for sid, secret in people
            },
            sequence=str(number),
            more=number < 2,
        )

    pages = [page(number) for number in range(3)]
    calls = 0

    def refresh() -> AccountKeys:
        nonlocal calls
        calls += 1
        return keys

    def run() -> list[Outcome]:
        stream = Decryptor(workers=1).stream(
            ACCOUNT_ID, keys, SecretCache(), pages, read_ahead=0, refresh_keys=refresh
        )
        return [(decrypted, failed) for _, decrypted, failed in stream]

    outcomes = run()
    assert calls == 1
    assert [len(decrypted) for decrypted, _ in outcomes] == [3, 3, 3]
    assert all(failed == [] for _, failed in outcomes)
    run()
    assert calls == 2  # a new run seeks again: the keys may have changed since
