"""Engine and sessions: SQLite (WAL, busy timeout, write-locking BEGIN) or PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateColumn
from sqlmodel import Session, SQLModel, create_engine

from app.config import Settings

T = TypeVar("T")

# Execution option asking SQLite to take the write lock when the transaction begins.
_IMMEDIATE = "omnidoc_sqlite_immediate"
# How long a SQLite statement waits for another connection's write lock.
_BUSY_TIMEOUT_MS = 30000


def create_db_engine(settings: Settings) -> Engine:
    """Build the engine for the configured URL; SQLite gets the pragmas a server needs."""
    url = settings.effective_database_url
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enable_wal(cursor: Any) -> None:
    """Switch to WAL, retrying: on a new file, processes starting together may each get
    'database is locked' at once (the mode change does not wait on the busy timeout)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# Any constant: the key of the PostgreSQL advisory lock held while the schema is created.
_SCHEMA_LOCK_KEY = 0x0D0C5A4D


def create_schema(engine: Engine) -> None:
    """Create missing tables; idempotent, so every start (and every worker) may call it.

    Runs in one transaction that first takes a database-wide lock, so two workers or
    two servers starting together on an empty database do not both try to create it.
    """
    import app.models  # noqa: F401  (registers the tables)

    options = {_IMMEDIATE: True} if engine.dialect.name == "sqlite" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            connection.execute(lock, {"key": _SCHEMA_LOCK_KEY})
        SQLModel.metadata.create_all(connection)
        _add_missing_columns(connection)  # before the indexes, which may name them
        # create_all adds no index to a table that exists: a database made by an older
        # version gets the indexes added since (IF NOT EXISTS, so cheap on every start).
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)


def _add_missing_columns(connection: Connection) -> None:
    """Add the nullable columns a newer version declares to a database made before it
    (create_all creates missing tables only): `ALTER TABLE … ADD COLUMN`, no other change."""
    inspector = inspect(connection)
    for table in SQLModel.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            ddl = CreateColumn(column).compile(dialect=connection.dialect)
            connection.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN {ddl}')


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A unit of work that holds the write lock from its first statement.

    On SQLite this is `BEGIN IMMEDIATE`, so read-check-write sequences (visit vs
    upload, outbox claims) are serialised; on PostgreSQL callers add
    `with_for_update()` to the rows they check. Commits on success, rolls back on error.
    """
    with _writer_lock(engine), Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={_IMMEDIATE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """`write_session` for SQLAlchemy Core statements: the write lock from BEGIN, committed
    on success, rolled back on error."""
    options = {_IMMEDIATE: True}
    with (
        _writer_lock(engine),
        engine.connect().execution_options(**options) as connection,
        connection.begin(),
    ):
        yield connection


# One lock per SQLite engine: this process's writers queue on it instead of on SQLite's
# busy handler, whose growing sleeps (up to 100 ms) made latency spiky under load.
# Other processes still meet at BEGIN IMMEDIATE; nothing shared lives here.
_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> AbstractContextManager[object]:
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return sqlite_writer_lock(engine)


def sqlite_writer_lock(engine: Engine) -> threading.RLock:
    """This process's write lock on a SQLite engine (app.groupcommit tries it without waiting)."""
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(engine)
        if lock is None:
            lock = _WRITER_LOCKS[engine] = threading.RLock()
    return lock


@contextmanager
def loop_connection(engine: Engine) -> Iterator[sqlite3.Connection | None]:
    """A SQLite connection for the event loop itself, that never waits; None on PostgreSQL.

    The driver's own connection (a pooled one, with the engine's pragmas), used with plain
    SQL: the loop's statements are few and hot (app.groupcommit, app.sandbox.faults), and
    SQLAlchemy's per-execution work cost more than SQLite's. It is in autocommit mode
    (`_on_connect`): a transaction is what its user begins, `BEGIN IMMEDIATE` to write.
    Its busy timeout is 0: a statement that would wait for another writer fails at once
    with SQLITE_BUSY (`is_busy`), and the caller does the same work in a thread instead,
    so the event loop never sleeps on a lock.
    """
    if engine.dialect.name != "sqlite":
        yield None
        return
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.execute("PRAGMA busy_timeout=0")
        try:
            yield raw
        finally:  # the connection goes back to the pool: give it its usual patience
            raw.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")


def is_busy(exc: BaseException) -> bool:
    """Whether a SQLite statement failed only because another writer holds the lock."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def retry_on_conflict(unit_of_work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run a unit of work again when a row committed meanwhile broke a foreign key in it.

    Deleting parents and children in one PostgreSQL transaction (the resets) can meet a
    child committed between the children's DELETE and the parents' (an upload's file
    row, an attempt of a notification): the parents' DELETE then fails. Run again, the
    unit deletes that child too. Table locks would avoid it but deadlock with the
    autopilot and the uploads, which take their locks in other orders. SQLite's BEGIN
    IMMEDIATE never lets it happen.
    """
    for _ in range(attempts - 1):
        try:
            return unit_of_work()
        except IntegrityError:
            continue
    return unit_of_work()


def wipe_data(engine: Engine) -> dict[str, int]:
    """Delete every row in one transaction, children first; safe while a server runs.

    Returns the rows deleted per table.
    """
    import app.models  # noqa: F401

    def wipe() -> dict[str, int]:
        deleted: dict[str, int] = {}
        with write_session(engine) as session:
            for table in reversed(SQLModel.metadata.sorted_tables):
                if table.info.get("kept_by_reset"):  # the dashboard's sign-ins
                    continue
                result = session.execute(table.delete())
                deleted[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
        return deleted

    return retry_on_conflict(wipe)
