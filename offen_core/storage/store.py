# SPDX-FileCopyrightText: 2026 The offen_core authors
# SPDX-License-Identifier: Apache-2.0
"""The Store: every read and write the server flows need, over one database URL.

All methods are synchronous and every method that changes several rows does so in one
transaction. One Store is safe to share between threads; `Store.transaction` hands out a Store
bound to one open transaction, for flows that change several records together.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Engine,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from offen_core.errors import (
    ConflictError,
    DatabaseUnavailableError,
    InvalidInputError,
    NotFoundError,
    StorageError,
    UnknownAccountError,
    UnknownSecretError,
)
from offen_core.events import (
    StoredEvent,
    Tombstone,
    is_ulid,
    min_ulid_at,
    new_ulid,
    new_ulid_prefix,
    ulid_at,
    ulid_time,
    validate_account_id,
    validate_account_name,
    validate_encrypted_secret,
    validate_event_id,
    validate_payload_cipher,
    validate_secret_id,
)
from offen_core.storage import schema
from offen_core.storage._rows import (
    EVENT_COLUMNS,
    TOMBSTONE_COLUMNS,
    _account,
    _account_user,
    _account_user_values,
    _account_values,
    _chunks,
    _key_values,
    _make,
    _relationship,
    _relationship_values,
    _sequences,
    event_item,
    tombstone_item,
)
from offen_core.storage.engine import WRITE_OPTION, open_engine, redact_url
from offen_core.storage.records import (
    Account,
    AccountKey,
    AccountUser,
    EventPage,
    ExpiryReport,
    ImportedEvent,
    MigrationReport,
    NewEvent,
    Relationship,
)
from offen_core.storage.retention import DEFAULT_RETENTION, Retention, parse_retention
from offen_core.storage.tables import (
    OFFEN_DATA_TABLES,
    account_keys,
    account_user_relationships,
    account_users,
    accounts,
    events,
    schema_version,
    secrets,
    tombstones,
)

__all__ = ["DEFAULT_SAFETY_LAG", "Store"]

_log = logging.getLogger(__name__)

DEFAULT_SAFETY_LAG = timedelta(seconds=5)
"""How far the sync cursor trails the newest sequence (see `Store.events_for_account`)."""

_DEFAULT_EXPIRY_BATCH = 5_000
_IN_CHUNK = 500  # ids per IN (...) list
_INSERT_CHUNK = 1_000  # rows per executemany


_NO_ACCOUNT = "no active account with this id; check the account id"
_NO_USER_KEY = "no user secret is stored for this visitor; the client must exchange a secret again"
_NO_OPERATOR = "no operator with this id"
_NO_RELATIONSHIP = "no relationship with this id"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every Store bound to the same database shares."""

    engine: Engine
    url: str
    write_lock: AbstractContextManager[Any]
    safety_lag: timedelta
    clock: Callable[[], datetime]


def _accepted() -> ColumnElement[bool]:
    column = account_user_relationships.c.password_encrypted_key_encryption_key
    return and_(column.is_not(None), column != "")


def _active() -> ColumnElement[bool]:
    # Offen writes false; a NULL (never written) also counts as active.
    return or_(accounts.c.retired.is_(None), accounts.c.retired == false())


def _validate_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInputError("limit", "must be a positive whole number, or None for no limit")


def _check(account_id: str, secret_id: str | None, payload: str) -> tuple[str, str | None, str]:
    return (
        validate_account_id(account_id),
        None if secret_id is None else validate_secret_id(secret_id),
        validate_payload_cipher(payload),
    )


def _validate_since(since: str | None) -> str | None:
    if since is None or since == "":
        return None
    return validate_event_id(since, "since")


_Condition = Callable[[Table], ColumnElement[bool]]

# Statements of the hot paths, built once so that SQLAlchemy's compiled cache serves them.
_ACTIVE_ACCOUNTS = select(accounts.c.account_id).where(
    accounts.c.account_id.in_(bindparam("ids", expanding=True)), _active()
)
_KNOWN_SECRETS = select(secrets.c.secret_id).where(
    secrets.c.secret_id.in_(bindparam("ids", expanding=True))
)
_INSERTS = {table.name: table.insert() for table in (events, tombstones)}
_BURY = insert(tombstones).from_select(
    ["event_id", "account_id", "secret_id", "sequence"],
    select(
        events.c.event_id,
        events.c.account_id,
        events.c.secret_id,
        bindparam("prefix", type_=String()).concat(
            func.substr(events.c.event_id, 17, 10, type_=String())
        ),
    ).where(events.c.event_id.in_(bindparam("ids", expanding=True))),
)
_DELETE_EVENTS = delete(events).where(events.c.event_id.in_(bindparam("ids", expanding=True)))


_Item = tuple[str, str, StoredEvent | Tombstone]
"""One event or tombstone of a sync page: (sequence, event id, record)."""


def _order(item: _Item) -> tuple[str, str]:
    return item[0], item[1]


class Store:
    """Offen's data over SQLite, PostgreSQL or MySQL/MariaDB, chosen by a database URL.

    The Store does not create the schema by itself: call `migrate` once (or run
    ``offen-core migrate``) before using a new database.

    Args:
        url: The database URL: ``sqlite:///path/offen.db``, ``postgresql+psycopg://...`` or
            ``mysql+pymysql://...`` (see `offen_core.storage.engine`).
        safety_lag: How far the sync cursor trails the newest sequence; it must exceed the
            time between minting a sequence and committing it in any process writing to the
            database (a few seconds is plenty for the Store's own transactions).
        clock: Returns the current time as an aware datetime; used for the sync cursor and
            for expiry (tests pass `offen_core.testing.FakeClock.now`). Event ids and
            sequences are always minted on the real clock.
        engine_options: Further keyword arguments for `sqlalchemy.create_engine` (pool sizes,
            ``echo``).

    Raises:
        InvalidInputError: ``url`` is not a supported database URL.

    .. note::
        A Store returned by `transaction` is bound to one connection and must stay in the
        thread that opened it. On SQLite, writes from one process are serialised by a lock
        and by SQLite itself; an in-memory database (``sqlite://``) shares one connection and
        is meant for single-threaded tests only.
    """

    def __init__(
        self,
        url: str,
        *,
        safety_lag: timedelta = DEFAULT_SAFETY_LAG,
        clock: Callable[[], datetime] | None = None,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        engine = open_engine(url, **(engine_options or {}))
        if safety_lag < timedelta(0):
            raise InvalidInputError("safety_lag", "must not be negative")
        lock: AbstractContextManager[Any] = (
            threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._shared = _Shared(
            engine=engine,
            url=redact_url(url),
            write_lock=lock,
            safety_lag=safety_lag,
            clock=clock or _utc_now,
        )
        self._bound: Connection | None = None

    @classmethod
    def _bound_to(cls, shared: _Shared, connection: Connection) -> Store:
        store = cls.__new__(cls)
        store._shared = shared
        store._bound = connection
        return store

    def __repr__(self) -> str:
        bound = ", in a transaction" if self._bound is not None else ""
        return f"Store({self._shared.url!r}{bound})"

    # --- plumbing -----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for benchmarks, tests and advanced use)."""
        return self._shared.engine

    @property
    def url(self) -> str:
        """The database URL without its password."""
        return self._shared.url

    @property
    def dialect(self) -> str:
        """The engine's dialect: ``sqlite``, ``postgresql``, ``mysql`` or ``mariadb``."""
        return self._shared.engine.dialect.name

    def _now(self) -> datetime:
        return self._shared.clock()

    @contextmanager
    def _translate(self) -> Iterator[None]:
        # Turn driver errors into the library's errors, without SQL or values in the message.
        try:
            yield
        except IntegrityError as error:
            raise ConflictError(
                "a record with the same id or unique value already exists"
            ) from error
        except DBAPIError as error:
            if error.connection_invalidated:
                raise DatabaseUnavailableError(
                    f"lost the connection to the database at {self._shared.url}; "
                    "check that it is running and try again"
                ) from error
            raise StorageError(
                f"the database refused the operation ({type(error.orig).__name__}); "
                "see the chained exception for details"
            ) from error

    def _connect(self, *, write: bool) -> Connection:
        try:
            connection = self._shared.engine.connect()
        except (OperationalError, InterfaceError) as error:
            raise DatabaseUnavailableError(
                f"cannot connect to the database at {self._shared.url}; "
                "check that it is running and that the URL is right"
            ) from error
        if write:
            return connection.execution_options(**{WRITE_OPTION: True})
        if connection.dialect.name != "sqlite":
            # One snapshot for all the queries of a read (events and tombstones agree).
            return connection.execution_options(isolation_level="REPEATABLE READ")
        return connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._bound is not None:
            yield self._bound
            return
        with self._translate(), self._connect(write=False) as connection, connection.begin():
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._bound is not None:
            yield self._bound
            return
        with (
            self._translate(),
            self._shared.write_lock,
            self._connect(write=True) as connection,
            connection.begin(),
        ):
            yield connection

    def _change_one(
        self, statement: Update | Delete, missing: type[NotFoundError], message: str
    ) -> None:
        # An UPDATE or DELETE of one row by its key; no row matched means it does not exist.
        with self._write() as connection:
            if connection.execute(statement).rowcount == 0:
                raise missing(message)

    def _update_row(
        self,
        table: Table,
        key: str,
        values: dict[str, Any],
        missing: type[NotFoundError],
        message: str,
    ) -> None:
        # Write every column of ``values`` but the key to the row that the key names.
        row_key = values.pop(key)
        statement = update(table).where(table.c[key] == row_key).values(values)
        self._change_one(statement, missing, message)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run several Store operations in one transaction.

        Yields a Store bound to one open transaction: every method called on it joins that
        transaction, which commits when the block ends and rolls back, leaving nothing
        written, when it raises. Calling `transaction` on a bound Store joins the same
        transaction.

        Yields:
            The bound Store. Use it only inside the block and only in this thread, and do not
            use the unbound Store for writes inside the block (on SQLite it would wait for the
            block's own lock).

        Raises:
            DatabaseUnavailableError: The database cannot be reached.
        """
        if self._bound is not None:
            yield self
            return
        with self._write() as connection:
            yield Store._bound_to(self._shared, connection)

    # --- the database as a whole --------------------------------------------------------

    def ping(self) -> None:
        """Check that the database answers.

        Raises:
            DatabaseUnavailableError: It does not; the message names the URL without its
                password.
        """
        try:
            with self._read() as connection:
                connection.execute(text("SELECT 1"))
        except StorageError as error:
            if isinstance(error, DatabaseUnavailableError):
                raise
            raise DatabaseUnavailableError(
                f"the database at {self._shared.url} does not answer: {error}"
            ) from error

    def migrate(self) -> MigrationReport:
        """Bring the database to the latest schema revision, adopting an Offen database.

        An empty database gets Offen's schema and offen_core's additions; a database Offen
        created (recognised by its ``migrations`` table) keeps its rows and gets the
        additions; a database already managed here gets the revisions it lacks. Several
        processes may call this at once: they wait for each other.

        Returns:
            What was done, including how many operators adopted from Offen still lack the
            email lookup column.

        Raises:
            StorageError: The database holds tables that are neither offen_core's nor a
                complete Offen schema (the message says what to do).
            DatabaseUnavailableError: The database cannot be reached.
        """
        if self._bound is not None:
            raise StorageError("migrate cannot run inside a transaction; call it on the Store")
        self.ping()
        with self._translate():
            return schema.upgrade(self._shared.engine)

    def lock_instance(self) -> None:
        """Hold the instance's lock until the transaction ends; others that ask for it wait.

        Setup takes it before it checks that the instance is empty, so that two setups
        racing on one database cannot both find it empty and both write. The lock is the
        row of the schema's version table, which every migrated database has, locked for
        update; on SQLite a write transaction holds the whole database from its start, so
        nothing more is needed.

        Raises:
            StorageError: Called on a Store outside `transaction`, or on a database that is
                not migrated.
        """
        if self._bound is None:
            raise StorageError(
                "lock_instance holds only inside a transaction; "
                "call it on the Store that transaction() yields"
            )
        if self._bound.dialect.name == "sqlite":
            return
        locked = select(schema_version.c.version_num).with_for_update()
        if self._bound.execute(locked).first() is None:
            raise StorageError("the database is not migrated; run `offen-core migrate` first")

    def is_empty(self) -> bool:
        """Whether Offen's six data tables hold no rows (an instance not set up yet).

        Tables that do not exist yet count as empty.

        Returns:
            ``True`` when there is no account, operator, relationship, secret, event or
            tombstone.

        Raises:
            DatabaseUnavailableError: The database cannot be reached.
        """
        with self._read() as connection:
            present = set(inspect(connection).get_table_names())
            for table in OFFEN_DATA_TABLES:
                if table.name not in present:
                    continue
                key = next(iter(table.primary_key.columns))
                if connection.execute(select(key).limit(1)).first() is not None:
                    return False
        return True

    def close(self) -> None:
        """Close every pooled connection. The Store can still be used; it reconnects."""
        if self._bound is None:
            self._shared.engine.dispose()

    # --- accounts -----------------------------------------------------------------------

    def create_account(
        self,
        account: Account,
        relationships: Sequence[Relationship] = (),
        keys: Sequence[AccountKey] = (),
    ) -> Account:
        """Create an account together with its operators' relationships and key pairs.

        Args:
            account: The account; its name is stripped of surrounding white space.
            relationships: Relationships granting operators access to it.
            keys: Rows for the ``account_keys`` table (for example the first key pair).

        Returns:
            The account as stored.

        Raises:
            InvalidInputError: The account id is not a UUID or the name is blank or too long.
            ConflictError: An account or relationship with the same id exists.
        """
        validate_account_id(account.account_id, "accountId")
        name = validate_account_name(account.name)
        if name != account.name:
            account = Account(**{**_account_values(account), "name": name})
        with self._write() as connection:
            connection.execute(accounts.insert(), _account_values(account))
            if relationships:
                connection.execute(
                    account_user_relationships.insert(),
                    [_relationship_values(item) for item in relationships],
                )
            if keys:
                connection.execute(account_keys.insert(), [_key_values(key) for key in keys])
        return account

    def get_account(self, account_id: str, *, include_retired: bool = False) -> Account:
        """Read one account.

        Args:
            account_id: The account's id.
            include_retired: Also return a retired account.

        Returns:
            The account.

        Raises:
            UnknownAccountError: There is no such account (or it is retired and
                ``include_retired`` is false).
        """
        query = select(accounts).where(accounts.c.account_id == account_id)
        if not include_retired:
            query = query.where(_active())
        with self._read() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise UnknownAccountError(_NO_ACCOUNT)
        return _account(row)

    def get_accounts(
        self, account_ids: Iterable[str], *, include_retired: bool = True
    ) -> dict[str, Account]:
        """Read several accounts at once; unknown ids are left out.

        Args:
            account_ids: The ids.
            include_retired: Also return retired accounts.

        Returns:
            The accounts by id.
        """
        ids = list(dict.fromkeys(account_ids))
        found: dict[str, Account] = {}
        with self._read() as connection:
            for chunk in _chunks(ids, _IN_CHUNK):
                query = select(accounts).where(accounts.c.account_id.in_(chunk))
                if not include_retired:
                    query = query.where(_active())
                for row in connection.execute(query):
                    found[row.account_id] = _account(row)
        return found

    def list_accounts(self) -> list[Account]:
        """Read every account, retired ones included, ordered by creation time and id.

        Returns:
            The accounts.
        """
        query = select(accounts).order_by(accounts.c.created, accounts.c.account_id)
        with self._read() as connection:
            return [_account(row) for row in connection.execute(query)]

    def account_name_taken(self, name: str) -> bool:
        """Whether an account (retired ones included) has exactly this name.

        Args:
            name: The name, compared after stripping surrounding white space.

        Returns:
            ``True`` when the name is taken.

        .. note::
            On MySQL the comparison follows the column's collation, which by default ignores
            case, as it does for Offen's own check.
        """
        query = select(accounts.c.account_id).where(accounts.c.name == name.strip()).limit(1)
        with self._read() as connection:
            return connection.execute(query).first() is not None

    def update_account(self, account: Account) -> None:
        """Write an account's name, current key pair, salt and styles.

        The ``retired`` flag and ``created`` are not changed here (see `retire_account`).

        Args:
            account: The account with its new values.

        Raises:
            UnknownAccountError: There is no such account.
            InvalidInputError: The name is blank or too long.
        """
        name = validate_account_name(account.name)
        values = _account_values(account)
        values.update(name=name)
        for fixed in ("retired", "created"):
            del values[fixed]
        self._update_row(accounts, "account_id", values, UnknownAccountError, _NO_ACCOUNT)

    def retire_account(self, account_id: str) -> None:
        """Retire an account: mark it retired and delete every relationship to it.

        Its events, secrets and keys stay until they expire; visitors still receive their
        own events. One transaction.

        Args:
            account_id: The account's id.

        Raises:
            UnknownAccountError: There is no such account, or it is retired already.
        """
        with self._write() as connection:
            row = connection.execute(
                select(accounts.c.retired)
                .where(accounts.c.account_id == account_id)
                .with_for_update()
            ).first()
            if row is None or row.retired:
                raise UnknownAccountError(_NO_ACCOUNT)
            connection.execute(
                update(accounts).where(accounts.c.account_id == account_id).values(retired=True)
            )
            connection.execute(
                delete(account_user_relationships).where(
                    account_user_relationships.c.account_id == account_id
                )
            )

    def add_account_key(self, key: AccountKey) -> None:
        """Keep a key pair of an account in ``account_keys``.

        Args:
            key: The key pair and its version.

        Raises:
            ConflictError: The account already has a key of that version.
        """
        with self._write() as connection:
            connection.execute(account_keys.insert(), _key_values(key))

    def update_account_key(self, key: AccountKey) -> None:
        """Write the wrapped private key of a kept key pair (a KEK rotation re-wraps it).

        The public key, version and creation time stay as they are.

        Args:
            key: The key pair with its new ``encrypted_private_key``.

        Raises:
            NotFoundError: The account has no key of that version.
        """
        statement = (
            update(account_keys)
            .where(
                account_keys.c.account_id == key.account_id,
                account_keys.c.key_version == key.key_version,
            )
            .values(encrypted_private_key=key.encrypted_private_key)
        )
        self._change_one(statement, NotFoundError, "the account has no key pair of this version")

    def account_keys(self, account_id: str) -> list[AccountKey]:
        """Read every kept key pair of an account, oldest version first.

        Args:
            account_id: The account's id.

        Returns:
            The key pairs (empty for an account adopted from Offen that was never rotated).
        """
        query = (
            select(account_keys)
            .where(account_keys.c.account_id == account_id)
            .order_by(account_keys.c.key_version)
        )
        with self._read() as connection:
            return [
                AccountKey(
                    account_id=row.account_id,
                    key_version=int(row.key_version),
                    public_key=row.public_key,
                    encrypted_private_key=row.encrypted_private_key,
                    created=row.created,
                )
                for row in connection.execute(query)
            ]

    # --- operators (account users) ------------------------------------------------------

    def create_account_user(self, user: AccountUser) -> None:
        """Create an operator.

        Args:
            user: The operator.

        Raises:
            ConflictError: An operator with the same id or email lookup exists.
            InvalidInputError: The email lookup is empty or longer than 128 characters.
        """
        values = _account_user_values(user)
        with self._write() as connection:
            connection.execute(account_users.insert(), values)

    def get_account_user(self, account_user_id: str) -> AccountUser:
        """Read one operator.

        Args:
            account_user_id: The operator's id.

        Returns:
            The operator.

        Raises:
            NotFoundError: There is no such operator.
        """
        query = select(account_users).where(account_users.c.account_user_id == account_user_id)
        with self._read() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise NotFoundError(_NO_OPERATOR)
        return _account_user(row)

    def find_account_user_by_lookup(self, email_lookup: str) -> AccountUser | None:
        """Find an operator by the keyed lookup hash of their normalised email address.

        Args:
            email_lookup: The lookup hash.

        Returns:
            The operator, or ``None`` when no operator has it (operators adopted from Offen
            have none until their next login: see `account_users_without_lookup`).
        """
        query = select(account_users).where(account_users.c.email_lookup == email_lookup)
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _account_user(row)

    def list_account_users(self) -> list[AccountUser]:
        """Read every operator, ordered by id.

        Returns:
            The operators.
        """
        query = select(account_users).order_by(account_users.c.account_user_id)
        with self._read() as connection:
            return [_account_user(row) for row in connection.execute(query)]

    def account_users_without_lookup(self) -> list[AccountUser]:
        """Read the operators adopted from Offen that lack the email lookup column.

        They can only be found by Offen's scan (an argon2 comparison per row).

        Returns:
            Those operators, ordered by id.
        """
        query = (
            select(account_users)
            .where(account_users.c.email_lookup.is_(None))
            .order_by(account_users.c.account_user_id)
        )
        with self._read() as connection:
            return [_account_user(row) for row in connection.execute(query)]

    def count_account_users_without_lookup(self) -> int:
        """Count the operators that lack the email lookup column.

        Returns:
            Their number; once it is 0, an unknown email costs no scan.
        """
        query = (
            select(func.count())
            .select_from(account_users)
            .where(account_users.c.email_lookup.is_(None))
        )
        with self._read() as connection:
            return int(connection.execute(query).scalar_one())

    def update_account_user(self, user: AccountUser) -> None:
        """Write every column of an operator (password and email hashes, salt, lookup, ...).

        Args:
            user: The operator with its new values (see `dataclasses.replace`).

        Raises:
            NotFoundError: There is no such operator.
            ConflictError: Another operator has the same email lookup.
        """
        values = _account_user_values(user)
        self._update_row(account_users, "account_user_id", values, NotFoundError, _NO_OPERATOR)

    def delete_account_user(self, account_user_id: str) -> None:
        """Delete an operator and all their relationships, in one transaction.

        Args:
            account_user_id: The operator's id.

        Raises:
            NotFoundError: There is no such operator.
        """
        with self._write() as connection:
            connection.execute(
                delete(account_user_relationships).where(
                    account_user_relationships.c.account_user_id == account_user_id
                )
            )
            deleted = connection.execute(
                delete(account_users).where(account_users.c.account_user_id == account_user_id)
            ).rowcount
            if deleted == 0:
                raise NotFoundError(_NO_OPERATOR)

    # --- relationships ------------------------------------------------------------------

    def create_relationships(self, relationships: Sequence[Relationship]) -> None:
        """Create relationships (grants of an account's KEK to operators), in one transaction.

        Args:
            relationships: The relationships.

        Raises:
            ConflictError: A relationship with the same id exists.
        """
        if not relationships:
            return
        with self._write() as connection:
            connection.execute(
                account_user_relationships.insert(),
                [_relationship_values(item) for item in relationships],
            )

    def update_relationship(self, relationship: Relationship) -> None:
        """Write the wrapped-KEK columns of a relationship.

        Args:
            relationship: The relationship with its new values.

        Raises:
            NotFoundError: There is no such relationship.
        """
        self._update_row(
            account_user_relationships,
            "relationship_id",
            _relationship_values(relationship),
            NotFoundError,
            _NO_RELATIONSHIP,
        )

    def delete_relationship(self, relationship_id: str) -> None:
        """Delete one relationship.

        Args:
            relationship_id: The relationship's id.

        Raises:
            NotFoundError: There is no such relationship.
        """
        statement = delete(account_user_relationships).where(
            account_user_relationships.c.relationship_id == relationship_id
        )
        self._change_one(statement, NotFoundError, _NO_RELATIONSHIP)

    def relationships_for_user(
        self, account_user_id: str, *, include_pending: bool = False
    ) -> list[Relationship]:
        """Read an operator's relationships.

        Args:
            account_user_id: The operator's id.
            include_pending: Also return pending invitations (no password-wrapped KEK).

        Returns:
            The relationships, ordered by account id.
        """
        table = account_user_relationships
        query = select(table).where(table.c.account_user_id == account_user_id)
        if not include_pending:
            query = query.where(_accepted())
        return self._relationships(query.order_by(table.c.account_id, table.c.relationship_id))

    def relationships_for_account(
        self, account_id: str, *, include_pending: bool = False
    ) -> list[Relationship]:
        """Read the relationships of an account.

        Args:
            account_id: The account's id.
            include_pending: Also return pending invitations.

        Returns:
            The relationships, ordered by operator id.
        """
        table = account_user_relationships
        query = select(table).where(table.c.account_id == account_id)
        if not include_pending:
            query = query.where(_accepted())
        return self._relationships(query.order_by(table.c.account_user_id, table.c.relationship_id))

    def _relationships(self, query: Select[Any]) -> list[Relationship]:
        with self._read() as connection:
            return [_relationship(row) for row in connection.execute(query)]

    # --- secrets ------------------------------------------------------------------------

    def get_secret(self, secret_id: str) -> str:
        """Read one visitor's encrypted user secret.

        Args:
            secret_id: The secret id.

        Returns:
            The encrypted secret.

        Raises:
            UnknownSecretError: No secret is stored under this id.
        """
        query = select(secrets.c.encrypted_secret).where(secrets.c.secret_id == secret_id)
        with self._read() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise UnknownSecretError(_NO_USER_KEY)
        return str(row.encrypted_secret or "")

    def get_secrets(self, secret_ids: Iterable[str]) -> dict[str, str]:
        """Read several encrypted user secrets; unknown ids are left out.

        Args:
            secret_ids: The secret ids.

        Returns:
            The encrypted secrets by secret id.
        """
        ids = list(dict.fromkeys(secret_ids))
        found: dict[str, str] = {}
        with self._read() as connection:
            for chunk in _chunks(ids, _IN_CHUNK):
                query = select(secrets).where(secrets.c.secret_id.in_(chunk))
                for row in connection.execute(query):
                    found[row.secret_id] = row.encrypted_secret or ""
        return found

    def exchange_secret(
        self,
        account_id: str,
        secret_id: str,
        encrypted_secret: str,
        *,
        parked_secret_id: str,
    ) -> bool:
        """Store a visitor's wrapped user secret, parking the one it replaces.

        When no secret is stored under ``secret_id`` the new one is stored. When one is (the
        visitor lost their key but kept their id), it is parked as Offen does: the old
        secret and its events move to ``parked_secret_id``, which cannot be linked to the
        visitor, each event under a new id at the same millisecond and a new sequence; the
        old event ids get tombstones, so the visitor's clients drop them; then the new
        secret is stored. All of it is one transaction.

        Args:
            account_id: The account (must be active).
            secret_id: The visitor's secret id under the account's salt.
            encrypted_secret: The user secret wrapped with the account's public key.
            parked_secret_id: Where to park an existing secret (the caller hashes a fresh
                random id); unused when there is nothing to park.

        Returns:
            ``True`` when an existing secret was parked.

        Raises:
            InvalidInputError: An id or the encrypted secret is malformed or too long, or the
                two secret ids are equal.
            UnknownAccountError: The account does not exist or is retired.
            ConflictError: ``parked_secret_id`` is taken, or another exchange for the same
                visitor ran at the same moment.
        """
        account_id = validate_account_id(account_id)
        validate_secret_id(secret_id)
        validate_secret_id(parked_secret_id, "parkedSecretId")
        validate_encrypted_secret(encrypted_secret)
        if parked_secret_id == secret_id:
            raise InvalidInputError("parkedSecretId", "must differ from the secret id")
        with self._write() as connection:
            self._require_active(connection, {account_id})
            old = connection.execute(
                select(secrets.c.encrypted_secret)
                .where(secrets.c.secret_id == secret_id)
                .with_for_update()
            ).first()
            if old is None:
                connection.execute(
                    secrets.insert(),
                    {"secret_id": secret_id, "encrypted_secret": encrypted_secret},
                )
                return False
            self._park(connection, secret_id, parked_secret_id, old.encrypted_secret)
            connection.execute(
                update(secrets)
                .where(secrets.c.secret_id == secret_id)
                .values(encrypted_secret=encrypted_secret)
            )
        return True

    def _park(
        self, connection: Connection, secret_id: str, parked_secret_id: str, old: str | None
    ) -> None:
        # Order matters where Offen's database has foreign keys: the parked secret exists
        # before events point at it, and the visitor's secret row is updated, never deleted.
        connection.execute(
            secrets.insert(), {"secret_id": parked_secret_id, "encrypted_secret": old}
        )
        rows = connection.execute(
            select(events)
            .where(events.c.secret_id == secret_id)
            .order_by(events.c.sequence, events.c.event_id)
            .with_for_update()
        ).all()
        if not rows:
            return
        moved = []
        buried = []
        for row in rows:
            sibling = ulid_at(ulid_time(row.event_id)) if is_ulid(row.event_id) else new_ulid()
            buried.append(
                {
                    "event_id": row.event_id,
                    "account_id": row.account_id,
                    "secret_id": secret_id,
                    "sequence": new_ulid(),
                }
            )
            moved.append(
                {
                    "event_id": sibling,
                    "sequence": new_ulid(),
                    "account_id": row.account_id,
                    "secret_id": parked_secret_id,
                    "payload": row.payload,
                }
            )
        self._insert_rows(connection, events, moved)
        self._insert_rows(connection, tombstones, buried)
        self._delete_events(connection, [row.event_id for row in rows])

    # --- events -------------------------------------------------------------------------

    def insert_events(self, new_events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Insert events, assigning each a new event id and sequence, in one transaction.

        Every value is checked before anything is written; the accounts must be active and
        the secrets must exist, or nothing is stored.

        Args:
            new_events: The events.

        Returns:
            The stored events, in the order given.

        Raises:
            InvalidInputError: An account id, secret id or payload is malformed or too long.
            UnknownAccountError: An account does not exist or is retired.
            UnknownSecretError: A secret id has no stored secret (the client must exchange).
        """
        checked = [_check(item.account_id, item.secret_id, item.payload) for item in new_events]
        return self._insert_events(checked, [None] * len(checked))

    def import_events(self, imported: Sequence[ImportedEvent]) -> list[StoredEvent]:
        """Insert events with their own times (for imports and the demo; not for HTTP).

        Each event id is minted at the event's time ``at``, so expiry ages it from then; the
        sequence is minted now, so syncing clients receive the events. One transaction.

        Args:
            imported: The events with their times.

        Returns:
            The stored events, in the order given.

        Raises:
            InvalidInputError: A value is malformed, or a time is naive (field ``when``).
            UnknownAccountError: An account does not exist or is retired.
            UnknownSecretError: A secret id has no stored secret.
        """
        checked = [_check(item.account_id, item.secret_id, item.payload) for item in imported]
        ids: list[str | None] = [ulid_at(item.at) for item in imported]
        return self._insert_events(checked, ids)

    def _insert_events(
        self, checked: list[tuple[str, str | None, str]], event_ids: list[str | None]
    ) -> list[StoredEvent]:
        if not checked:
            return []
        with self._write() as connection:
            self._require_active(connection, {account for account, _, _ in checked})
            self._require_secrets(
                connection, {secret for _, secret, _ in checked if secret is not None}
            )
            # Minted inside the transaction, so they are as close to the commit as they can be.
            fresh = iter(_sequences(len(checked)))
            rows: list[dict[str, Any]] = [
                {
                    "event_id": event_id or next(fresh),
                    "sequence": sequence,
                    "account_id": account,
                    "secret_id": secret,
                    "payload": payload,
                }
                for (account, secret, payload), event_id, sequence in zip(
                    checked, event_ids, _sequences(len(checked)), strict=True
                )
            ]
            self._insert_rows(connection, events, rows)
        return [_make(StoredEvent, dict(row)) for row in rows]

    def _require_active(self, connection: Connection, account_ids: set[str]) -> None:
        ids = sorted(account_ids)
        found: set[str] = set()
        for chunk in _chunks(ids, _IN_CHUNK):
            found.update(connection.execute(_ACTIVE_ACCOUNTS, {"ids": list(chunk)}).scalars())
        if len(found) != len(ids):
            raise UnknownAccountError(_NO_ACCOUNT)

    def _require_secrets(self, connection: Connection, secret_ids: set[str]) -> None:
        ids = sorted(secret_ids)
        found: set[str] = set()
        for chunk in _chunks(ids, _IN_CHUNK):
            found.update(connection.execute(_KNOWN_SECRETS, {"ids": list(chunk)}).scalars())
        if len(found) != len(ids):
            raise UnknownSecretError(_NO_USER_KEY)

    @staticmethod
    def _insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        statement = _INSERTS[table.name]
        for chunk in _chunks(rows, _INSERT_CHUNK):
            connection.execute(statement, list(chunk))

    @staticmethod
    def _delete_events(connection: Connection, event_ids: list[str]) -> None:
        for chunk in _chunks(event_ids, _IN_CHUNK):
            connection.execute(delete(events).where(events.c.event_id.in_(chunk)))

    # --- sync ---------------------------------------------------------------------------

    def events_for_secrets(
        self,
        secret_ids: Iterable[str],
        *,
        since: str | None = None,
        limit: int | None = None,
        include_deleted: bool = True,
    ) -> EventPage:
        """Read a visitor's events (by their secret ids) after a cursor.

        See `events_for_account` for the paging rules, which are the same.

        Args:
            secret_ids: The visitor's secret ids (one per account).
            since: The cursor from the previous page, or ``None`` for everything.
            limit: The page size, or ``None`` for no limit.
            include_deleted: Also read tombstones into ``deleted_event_ids``.

        Returns:
            The page.

        Raises:
            InvalidInputError: ``since`` is not a ULID or ``limit`` is not positive.
        """
        ids = sorted(set(secret_ids))
        return self._page(
            events.c.secret_id.in_(ids),
            tombstones.c.secret_id.in_(ids),
            since=since,
            limit=limit,
            include_deleted=include_deleted,
        )

    def events_for_account(
        self,
        account_id: str,
        *,
        since: str | None = None,
        limit: int | None = None,
        include_deleted: bool = True,
    ) -> EventPage:
        """Read an account's events after a cursor, for the operator's incremental sync.

        Events and tombstones are filtered and ordered by their sequence (then event id),
        never by event id, so events parked or imported with old ids still arrive. The
        returned cursor never passes ``now - safety_lag``: rows minted before that instant
        have committed, while rows minted later may still be committing in another process
        and come again next time (clients de-duplicate by event id). With a ``limit``, a
        full page sets ``more`` and its cursor is the last row's sequence; the final page
        also carries every row inside the safety lag, so it may exceed ``limit`` by the
        rows of those few seconds, and a page never ends inside a group of rows sharing one
        sequence (only Offen writes such groups).

        Args:
            account_id: The account's id.
            since: The cursor from the previous page, or ``None`` for everything.
            limit: The page size, or ``None`` for no limit.
            include_deleted: Also read tombstones into ``deleted_event_ids``.

        Returns:
            The page.

        Raises:
            InvalidInputError: ``since`` is not a ULID or ``limit`` is not positive.
        """
        return self._page(
            events.c.account_id == account_id,
            tombstones.c.account_id == account_id,
            since=since,
            limit=limit,
            include_deleted=include_deleted,
        )

    def _page(
        self,
        event_filter: ColumnElement[bool],
        tombstone_filter: ColumnElement[bool],
        *,
        since: str | None,
        limit: int | None,
        include_deleted: bool,
    ) -> EventPage:
        since = _validate_since(since)
        _validate_limit(limit)
        floor = min_ulid_at(self._now() - self._shared.safety_lag)

        def settled(table: Table) -> ColumnElement[bool]:
            if since is None:
                return table.c.sequence < floor
            return and_(table.c.sequence > since, table.c.sequence < floor)

        def window(table: Table) -> ColumnElement[bool]:
            if since is None:
                return table.c.sequence >= floor
            return and_(table.c.sequence >= floor, table.c.sequence > since)

        with self._read() as connection:

            def fetch(condition: _Condition, bound: int | None) -> list[_Item]:
                statement = _ordered(events, and_(event_filter, condition(events)), bound)
                found: list[_Item] = [
                    event_item(row) for row in connection.execute(statement).all()
                ]
                if include_deleted:
                    statement = _ordered(
                        tombstones, and_(tombstone_filter, condition(tombstones)), bound
                    )
                    deleted = [tombstone_item(row) for row in connection.execute(statement).all()]
                    if deleted:
                        found.extend(deleted)
                        found.sort(key=_order)
                return found

            early: list[_Item] = []
            if since is None or since < floor:
                early = fetch(settled, None if limit is None else limit + 1)
                if limit is not None and len(early) > limit:
                    page = early[:limit]
                    boundary = page[-1][0]
                    if early[limit][0] == boundary:
                        # Never end a page inside a group of rows sharing one sequence.
                        taken = {item[1] for item in page}
                        rest = fetch(lambda table: table.c.sequence == boundary, None)
                        page.extend(item for item in rest if item[1] not in taken)
                    return _to_page(page, boundary, more=True)
            late = fetch(window, None)
        cursor = floor if since is None or floor > since else since
        return _to_page(early + late, cursor, more=False)

    def tombstones_for_secrets(
        self, secret_ids: Iterable[str], *, since: str | None = None
    ) -> list[Tombstone]:
        """Read the tombstones of a visitor's deleted events after a cursor.

        Args:
            secret_ids: The visitor's secret ids.
            since: Only tombstones with a greater sequence, or ``None`` for all.

        Returns:
            The tombstones, ordered by (sequence, event id).

        Raises:
            InvalidInputError: ``since`` is not a ULID.
        """
        ids = sorted(set(secret_ids))
        return self._tombstones(tombstones.c.secret_id.in_(ids), since)

    def tombstones_for_account(
        self, account_id: str, *, since: str | None = None
    ) -> list[Tombstone]:
        """Read the tombstones of an account's deleted events after a cursor.

        Args:
            account_id: The account's id.
            since: Only tombstones with a greater sequence, or ``None`` for all.

        Returns:
            The tombstones, ordered by (sequence, event id).

        Raises:
            InvalidInputError: ``since`` is not a ULID.
        """
        return self._tombstones(tombstones.c.account_id == account_id, since)

    def _tombstones(self, condition: ColumnElement[bool], since: str | None) -> list[Tombstone]:
        since = _validate_since(since)
        if since is not None:
            condition = and_(condition, tombstones.c.sequence > since)
        query = _ordered(tombstones, condition, None)
        with self._read() as connection:
            return [tombstone_item(row)[2] for row in connection.execute(query).all()]

    # --- deletion -----------------------------------------------------------------------

    def purge_secrets(self, secret_ids: Iterable[str]) -> int:
        """Purge a visitor: delete their events and secrets and write tombstones.

        One transaction: each deleted event leaves a tombstone (with its own new sequence),
        so the visitor's other clients and the operators drop it at their next sync.

        Args:
            secret_ids: The visitor's secret ids (one per account).

        Returns:
            How many events were deleted.

        Raises:
            InvalidInputError: A secret id is malformed.
        """
        ids = sorted({validate_secret_id(value) for value in secret_ids})
        if not ids:
            return 0
        deleted = 0
        with self._write() as connection:
            for chunk in _chunks(ids, _IN_CHUNK):
                rows = connection.execute(
                    select(events.c.event_id, events.c.account_id, events.c.secret_id)
                    .where(events.c.secret_id.in_(chunk))
                    .order_by(events.c.sequence, events.c.event_id)
                    .with_for_update()
                ).all()
                self._bury(connection, [row.event_id for row in rows])
                deleted += len(rows)
                connection.execute(delete(secrets).where(secrets.c.secret_id.in_(chunk)))
        _log.debug("purged %d events", deleted)
        return deleted

    @staticmethod
    def _bury(connection: Connection, event_ids: Sequence[str]) -> None:
        """Replace events by tombstones, inside the database (in the caller's transaction)."""
        # Each tombstone's sequence: a block of ids reserved from the process's generator
        # (16 characters) and the last ten characters of its event id, so rows of one batch
        # get distinct sequences, later than any written before, without a round trip per row.
        prefix = new_ulid_prefix(50)
        for chunk in _chunks(event_ids, _IN_CHUNK):
            values = {"ids": list(chunk), "prefix": prefix}
            connection.execute(_BURY, values)
            connection.execute(_DELETE_EVENTS, values)

    def expire(
        self,
        retention: Retention | str | int = DEFAULT_RETENTION,
        *,
        batch_size: int = _DEFAULT_EXPIRY_BATCH,
    ) -> ExpiryReport:
        """Delete what is older than the retention period, in batches.

        An event's age is the time of its event id; each expired event is replaced by a
        tombstone. A tombstone's age is the time of its sequence, so the tombstones written
        here live a full retention period before they go too. Each batch is one transaction;
        several processes may expire at once (rows locked by one are skipped by the other,
        on PostgreSQL and MySQL; SQLite serialises them).

        Args:
            retention: The retention period (see `parse_retention`).
            batch_size: Rows per transaction.

        Returns:
            The numbers of expired events and pruned tombstones.

        Raises:
            InvalidInputError: ``retention`` or ``batch_size`` is invalid.
        """
        period = parse_retention(retention).period
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError("batch_size", "must be a positive whole number")
        deadline = min_ulid_at(self._now() - period)
        expired = pruned = batches = 0
        while True:
            with self._write() as connection:
                rows = list(
                    connection.execute(
                        select(events.c.event_id)
                        .where(events.c.event_id < deadline)
                        .order_by(events.c.event_id)
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                self._bury(connection, rows)
            if not rows:
                break
            expired += len(rows)
            batches += 1
        while True:
            with self._write() as connection:
                ids = list(
                    connection.execute(
                        select(tombstones.c.event_id)
                        .where(tombstones.c.sequence < deadline)
                        .order_by(tombstones.c.sequence)
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                for chunk in _chunks(ids, _IN_CHUNK):
                    connection.execute(delete(tombstones).where(tombstones.c.event_id.in_(chunk)))
            if not ids:
                break
            pruned += len(ids)
            batches += 1
        _log.debug("expired %d events and %d tombstones", expired, pruned)
        return ExpiryReport(events_expired=expired, tombstones_pruned=pruned, batches=batches)


# --- query helpers ----------------------------------------------------------------------


def _ordered(table: Table, condition: ColumnElement[bool], limit: int | None) -> Select[Any]:
    columns = EVENT_COLUMNS if table is events else TOMBSTONE_COLUMNS
    query = select(*columns).where(condition).order_by(table.c.sequence, table.c.event_id)
    return query if limit is None else query.limit(limit)


def _to_page(items: list[_Item], cursor: str, *, more: bool) -> EventPage:
    return EventPage(
        events=tuple(item[2] for item in items if isinstance(item[2], StoredEvent)),
        deleted_event_ids=tuple(item[1] for item in items if isinstance(item[2], Tombstone)),
        sequence=cursor,
        more=more,
    )
