# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The MongoDB adapter: its compare-and-set on a stand-in collection, and a server that is gone.

No MongoDB server runs in these tests. `_Collection` stands in for a pymongo collection: it
implements exactly the calls the adapter makes (``find_one`` and ``delete_one`` by ``_id``,
``insert_one`` with a unique ``_id``, ``update_one`` with an equality filter and ``$set``,
``create_index``), each call atomic as on a server, and refuses any other use, so the
adapter's compare-and-set, its retries and its document layout are exercised through real
`limits` storage objects and real throttles. What the stand-in cannot show is how a real
server behaves (its TTL monitor, replication, write concerns); the driver's own failure path
is tested against an address where no server listens.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from limits.aio.storage import MongoDBStorage as AsyncMongoDBStorage
from limits.storage import MongoDBStorage
from pymongo.errors import DuplicateKeyError
from pymongo.results import DeleteResult, InsertOneResult, UpdateResult

from offen_core.errors import ThrottleStorageError
from offen_core.ratelimit import (
    AsyncThrottle,
    Curve,
    Decision,
    Outcome,
    RoutePolicy,
    Rule,
    Scope,
    Step,
    StorageFailure,
    Throttle,
    open_async_storage,
    open_storage,
)
from offen_core.ratelimit._cas import SyncCas
from offen_core.ratelimit._mongodb import COLLECTION
from offen_core.testing import FakeClock

pytestmark = pytest.mark.mongodb

HASH_KEY = b"a test key shared by all processes"
EMAIL = "ada@example.com"
ADDRESS = "192.0.2.7"
RANKING = Rule("ranking", 1.0, free=0, window=3600.0, deadline=1e9)


class _Collection:
    """A stand-in for one pymongo collection (see the module's docstring)."""

    def __init__(self, database: _Database) -> None:
        self.database = database
        self.documents: dict[str, dict[str, Any]] = {}
        self.indexes: list[tuple[str, dict[str, Any]]] = []
        self.lost_inserts = 0
        self.lost_updates = 0
        self._lock = threading.Lock()

    def create_index(self, keys: str, **options: Any) -> str:
        with self._lock:
            if (keys, options) not in self.indexes:
                self.indexes.append((keys, options))
        return f"{keys}_1"

    def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        assert set(query) == {"_id"}, "the adapter reads by _id only"
        with self._lock:
            document = self.documents.get(query["_id"])
            found = copy.deepcopy(document)
        # Let another thread in between a read and the write that follows it.
        time.sleep(0)
        return found

    def insert_one(self, document: dict[str, Any]) -> InsertOneResult:
        with self._lock:
            if document["_id"] in self.documents:
                self.lost_inserts += 1
                raise DuplicateKeyError("E11000 duplicate key error", code=11000)
            self.documents[document["_id"]] = copy.deepcopy(document)
        return InsertOneResult(document["_id"], acknowledged=True)

    def update_one(self, query: dict[str, Any], update: dict[str, Any]) -> UpdateResult:
        assert set(update) == {"$set"}, "the adapter sets fields only"
        assert "_id" not in update["$set"]
        with self._lock:
            document = self.documents.get(query["_id"])
            matched = document is not None and all(
                document.get(field) == value for field, value in query.items()
            )
            if document is not None and matched:
                document.update(copy.deepcopy(update["$set"]))
            else:
                self.lost_updates += 1
        return UpdateResult({"n": int(matched), "nModified": int(matched)}, acknowledged=True)

    def delete_one(self, query: dict[str, Any]) -> DeleteResult:
        assert set(query) == {"_id"}
        with self._lock:
            gone = self.documents.pop(query["_id"], None)
        return DeleteResult({"n": int(gone is not None)}, acknowledged=True)


class _Database:
    def __init__(self) -> None:
        self.collections: dict[str, _Collection] = {}

    def __getitem__(self, name: str) -> _Collection:
        return self.collections.setdefault(name, _Collection(self))


class _Client:
    """What `limits.storage.MongoDBStorage` holds: databases by name."""

    def __init__(self, database: _Database) -> None:
        self.database = database

    def __getitem__(self, name: str) -> _Database:
        assert name == "limits"
        return self.database

    def close(self) -> None:
        pass


class _AsyncCollection:
    """The Motor form of `_Collection`: each call yields to the event loop first."""

    def __init__(self, collection: _Collection) -> None:
        self.collection = collection

    async def create_index(self, keys: str, **options: Any) -> str:
        await asyncio.sleep(0)
        return self.collection.create_index(keys, **options)

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        await asyncio.sleep(0)
        with self.collection._lock:
            return copy.deepcopy(self.collection.documents.get(query["_id"]))

    async def insert_one(self, document: dict[str, Any]) -> InsertOneResult:
        await asyncio.sleep(0)
        return self.collection.insert_one(document)

    async def update_one(self, query: dict[str, Any], update: dict[str, Any]) -> UpdateResult:
        await asyncio.sleep(0)
        return self.collection.update_one(query, update)

    async def delete_one(self, query: dict[str, Any]) -> DeleteResult:
        await asyncio.sleep(0)
        return self.collection.delete_one(query)


class _AsyncDatabase:
    def __init__(self, database: _Database) -> None:
        self.database = database

    def __getitem__(self, name: str) -> _AsyncCollection:
        return _AsyncCollection(self.database[name])


class _AsyncClient:
    """What `limits.aio.storage.MongoDBStorage` holds: ``get_database``, ``close``."""

    def __init__(self, database: _Database) -> None:
        self.database = database

    def get_database(self, name: str) -> _AsyncDatabase:
        assert name == "limits"
        return _AsyncDatabase(self.database)

    def close(self) -> None:
        pass


@pytest.fixture
def database() -> _Database:
    """The stand-in database every storage of one test shares, as processes share a server."""
    return _Database()


def _sync_storage(database: _Database) -> MongoDBStorage:
    storage = open_storage("mongodb://127.0.0.1:27017/")
    assert isinstance(storage, MongoDBStorage)
    # The client limits would make on first use; no connection is ever opened.
    storage._storage = _Client(database)  # type: ignore[assignment]
    return storage


def _async_storage(database: _Database) -> AsyncMongoDBStorage:
    storage = open_async_storage("mongodb://127.0.0.1:27017/")
    assert isinstance(storage, AsyncMongoDBStorage)
    storage.storage.close()
    storage.storage = _AsyncClient(database)
    return storage


def _throttle(database: _Database, clock: FakeClock, **kwargs: Any) -> Throttle:
    return Throttle(_sync_storage(database), hash_key=HASH_KEY, clock=clock.time, **kwargs)


def _states(database: _Database) -> _Collection:
    return database[COLLECTION]


def test_the_login_guard_follows_the_documented_curve(
    database: _Database, clock: FakeClock
) -> None:
    throttle = _throttle(database, clock)
    decisions = [throttle.check_login(EMAIL, ADDRESS) for _ in range(10)]
    assert [d.outcome for d in decisions] == [Outcome.ALLOWED] * 3 + [Outcome.DELAYED] * 5 + [
        Outcome.REFUSED
    ] * 2
    assert [d.delay for d in decisions[3:8]] == [1.0, 2.0, 4.0, 8.0, 16.0]

    throttle.login_succeeded(EMAIL)
    assert throttle.check_login(EMAIL, ADDRESS).outcome is Outcome.ALLOWED


SCRIPT: list[tuple[float, str, float | None]] = [
    # (advance seconds, email, max_wait)
    *[(0.0, EMAIL, 0.0)] * 5,
    (1.0, EMAIL, 0.0),
    (0.0, EMAIL, 5.0),
    (1 / 3, EMAIL, 0.0),
    (3.5, EMAIL, None),
    (0.0, EMAIL, 0.0),
    *[(0.1, "bob@example.com", 2.0)] * 6,
    (900.0, EMAIL, 0.0),
]


def _run_sync(throttle: Throttle, clock: FakeClock) -> list[Decision]:
    decisions = []
    for advance, email, max_wait in SCRIPT:
        clock.advance(advance)
        decisions.append(throttle.check_login(email, ADDRESS, max_wait=max_wait))
    return decisions


def test_sync_async_and_memory_decide_alike(database: _Database) -> None:
    clock = FakeClock()
    sync = _run_sync(_throttle(database, clock), clock)

    async def scenario() -> list[Decision]:
        clock = FakeClock()
        throttle = AsyncThrottle(
            _async_storage(database), hash_key=HASH_KEY, clock=clock.time, key_prefix="other"
        )
        decisions = []
        for advance, email, max_wait in SCRIPT:
            clock.advance(advance)
            decisions.append(await throttle.check_login(email, ADDRESS, max_wait=max_wait))
        return decisions

    asynchronous = asyncio.run(scenario())
    memory_clock = FakeClock()
    on_memory = _run_sync(
        Throttle("memory://", hash_key=HASH_KEY, clock=memory_clock.time), memory_clock
    )

    assert sync == asynchronous == on_memory
    assert {d.outcome for d in sync} == {Outcome.ALLOWED, Outcome.DELAYED, Outcome.REFUSED}


def test_the_document_holds_count_exact_anchor_version_and_expiry(
    database: _Database, clock: FakeClock
) -> None:
    clock.advance(1 / 3)
    throttle = _throttle(database, clock)
    before = datetime.now(UTC)
    for _ in range(3):
        throttle.check_rule(RANKING, "victim")

    states = _states(database)
    assert states.indexes == [("expireAt", {"expireAfterSeconds": 0})]
    [document] = states.documents.values()
    assert (document["n"], document["t"], document["v"]) == (3, repr(clock.time()), 3)
    # The window (an hour) plus the 60 s every key outlives its window, from now.
    lifetime = document["expireAt"] - before
    assert timedelta(seconds=3660) <= lifetime < timedelta(seconds=3670)


def test_threads_with_their_own_throttles_lose_no_attempt(
    database: _Database, clock: FakeClock
) -> None:
    local = threading.local()
    delays: list[float] = []
    guard = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        local.throttle = _throttle(database, clock)
        start.wait()
        mine = [local.throttle.check_rule(RANKING, "victim").delay for _ in range(40)]
        with guard:
            delays.extend(mine)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=worker) for _ in range(8)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    finally:
        sys.setswitchinterval(interval)

    assert sorted(int(d) for d in delays) == list(range(1, 321))
    # The writers did race: inserts met the unique _id and updates a changed version.
    states = _states(database)
    assert states.lost_inserts + states.lost_updates > 0


def test_coroutines_of_two_throttles_lose_no_attempt(database: _Database) -> None:
    clock = FakeClock()

    async def scenario() -> list[Decision]:
        throttles = [
            AsyncThrottle(_async_storage(database), hash_key=HASH_KEY, clock=clock.time)
            for _ in range(2)
        ]
        return list(
            await asyncio.gather(
                *(throttles[i % 2].check_rule(RANKING, "victim") for i in range(200))
            )
        )

    decisions = asyncio.run(scenario())
    assert sorted(int(d.delay) for d in decisions) == list(range(1, 201))
    assert _states(database).lost_updates + _states(database).lost_inserts > 0


def test_a_refusal_at_a_later_step_undoes_the_earlier_ones(
    database: _Database, clock: FakeClock
) -> None:
    identity = Rule("u-identity", 1.0, Curve.LINEAR, window=60.0, free=1)
    everyone = Rule("u-global", 4.0, Curve.LINEAR, window=60.0, free=1)
    policy = RoutePolicy((Step(Scope.IDENTITY, identity), Step(Scope.GLOBAL, everyone)))
    throttle = _throttle(database, clock, policies={"r": policy})

    assert throttle.check("r", "a", max_wait=0).outcome is Outcome.ALLOWED
    refused = throttle.check("r", "b", max_wait=0)
    assert (refused.outcome, refused.rule, refused.retry_after) == (
        Outcome.REFUSED,
        "u-global",
        4.0,
    )
    # "b"'s identity document went back to nothing counted, its anchor to none.
    counts = sorted((d["n"], d["t"]) for d in _states(database).documents.values())
    assert counts == [(0, ""), (1, repr(clock.time())), (1, repr(clock.time()))]
    clock.advance(4.0)
    assert throttle.check("r", "b", max_wait=0).outcome is Outcome.ALLOWED


def test_a_step_that_loses_every_race_gives_up_as_a_storage_failure(
    database: _Database, clock: FakeClock
) -> None:
    throttle = _throttle(database, clock, on_storage_error=StorageFailure.RAISE)
    rival = _throttle(database, clock)
    backend = throttle._backend
    assert isinstance(backend, SyncCas)
    backend.attempts = 4
    store = backend.store
    loads = 0

    class Racing:
        def load(self, key: str) -> Any:
            nonlocal loads
            snapshot = store.load(key)
            loads += 1
            rival.check_rule(RANKING, "victim")
            return snapshot

        def store(self, *args: Any) -> bool:
            return store.store(*args)

        def delete(self, key: str) -> None:
            store.delete(key)

    backend.store = Racing()
    with pytest.raises(ThrottleStorageError):
        throttle.check_rule(RANKING, "victim")
    assert loads == 4
    assert rival.check_rule(RANKING, "victim").delay == 5.0


@pytest.mark.parametrize(
    "document",
    [
        {"n": "two", "t": "", "v": 1},
        {"n": 2, "t": "soon", "v": 1},
        {"n": 2, "t": "", "v": 1.5},
        {"n": 2, "v": 1},
    ],
)
def test_a_document_written_by_someone_else_fails_closed(
    database: _Database, clock: FakeClock, document: dict[str, Any]
) -> None:
    throttle = _throttle(database, clock)
    key = throttle._settings.slot(RANKING, "c:victim", clock.time()).key
    _states(database).documents[key] = {"_id": key, **document}

    decision = throttle.check_rule(RANKING, "victim")

    assert (decision.outcome, decision.storage_failed) == (Outcome.REFUSED, True)


# --- the real driver, with no server where it looks -----------------------------------------


@pytest.fixture
def nowhere() -> str:
    """A MongoDB URL whose port nobody listens on, with short timeouts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return (
        f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
        "&socketTimeoutMS=300"
    )


def test_a_mongodb_that_cannot_be_reached_fails_closed(nowhere: str, clock: FakeClock) -> None:
    with Throttle(nowhere, hash_key=HASH_KEY, clock=clock.time, storage_retry_after=7.0) as t:
        decision = t.check_login(EMAIL, ADDRESS)
        assert (decision.outcome, decision.storage_failed) == (Outcome.REFUSED, True)
        assert decision.retry_after == 7.0
        assert not t.healthy()


def test_an_async_mongodb_that_cannot_be_reached_fails_closed(
    nowhere: str, clock: FakeClock
) -> None:
    async def scenario() -> None:
        async with AsyncThrottle(
            nowhere, hash_key=HASH_KEY, clock=clock.time, on_storage_error="raise"
        ) as throttle:
            with pytest.raises(ThrottleStorageError):
                await throttle.check_login(EMAIL, ADDRESS)
            assert not await throttle.healthy()

    asyncio.run(scenario())
