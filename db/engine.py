"""Engine and session factory, built from settings by a function (never at import time).

SQLite runs with WAL and foreign keys on, and every transaction that may write starts with
`BEGIN IMMEDIATE`: that takes the database's write lock up front, which is what
serialises the fraud-limit check and the refund insert under concurrency (a
deferred transaction that reads and then writes can lose a race or fail to
upgrade its lock). A transaction that only reads (`reading`) starts deferred, so it never
queues behind a writer: WAL lets it read the last committed state while one writes.
PostgreSQL uses `SELECT ... FOR UPDATE` on the user row instead (see
tools/policy_guard.lock_user).

`SQLITE_SYNCHRONOUS` is `normal` by default: in WAL mode a commit is then not fsynced on its own
(the WAL is synced at checkpoints), which keeps the database consistent after any crash and every
commit after a crash of the process (kill -9, OOM); only a power cut or an OS crash can undo the
last commits. `full` fsyncs every commit (about 2-5 ms each here).

PostgreSQL connections come from a pool sized by settings (DB_POOL_SIZE, DB_MAX_OVERFLOW,
DB_POOL_TIMEOUT, DB_CONNECT_TIMEOUT): every process holds at most pool + overflow connections,
so workers x (pool + overflow), summed over the API and the portal, must stay below the
server's `max_connections` (README "Running on PostgreSQL").
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

READ_ONLY = "supportops_read_only"  # execution option: this transaction only reads
SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}


def normalise_url(url: str) -> str:
    """Accept the usual `postgres://` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5,
                pool_timeout: float = 10.0, connect_timeout: float = 5.0,
                sqlite_synchronous: str = "normal") -> Engine:
    """An engine for `url`. The pool numbers apply to PostgreSQL (SQLite opens a connection per
    thread and serialises writers itself); `engine_from_settings` passes the configured ones."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                             max_overflow=max_overflow, pool_timeout=pool_timeout,
                             connect_args={"connect_timeout": max(1, round(connect_timeout))})

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    if parsed.database and parsed.database != ":memory:":
        _attach_write_lock(engine, parsed.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA synchronous={SYNCHRONOUS[sqlite_synchronous]}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        deferred = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


def engine_from_settings(settings) -> Engine:
    return make_engine(settings.database_url, pool_size=settings.db_pool_size,
                       max_overflow=settings.db_max_overflow,
                       pool_timeout=settings.db_pool_timeout,
                       connect_timeout=settings.db_connect_timeout,
                       sqlite_synchronous=settings.sqlite_synchronous)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    """The one way a process prepares its database: `alembic upgrade head`, under a lock so
    processes starting together never race (db/migrate.py). An old database is adopted."""
    from db.migrate import upgrade

    upgrade(engine)


class SqliteWriteLock:
    """Queues this database's writers in the kernel instead of in SQLite's busy handler.

    SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5 ... 100 ms
    between tries: under load a waiting writer oversleeps the moment the lock frees and a
    newcomer may barge in, so latency grows a long tail and a second worker process adds
    contention instead of throughput. This lock — a thread lock for this process, then an
    `flock` on a file next to the database shared by every process — hands the write lock over
    the moment it is released. It only orders writers that go through `writing`; SQLite's own
    lock still guarantees correctness for everything else (migrations, a manual sqlite3)."""

    def __init__(self, database: str):
        self._thread_lock = threading.Lock()
        self._fd = os.open(f"{database}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
        self._local = threading.local()

    def close(self) -> None:
        os.close(self._fd)

    @contextmanager
    def held(self) -> Iterator[None]:
        if getattr(self._local, "depth", 0):  # already this thread's: no second acquire
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        with self._thread_lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                fcntl.flock(self._fd, fcntl.LOCK_UN)


# One queue per database file per process, shared by every engine on that file (so one thread
# never waits on itself through two engines); dropped, and its file closed, with the last engine.
_WRITE_LOCKS: dict[str, list] = {}  # path -> [SqliteWriteLock, engines using it]
_WRITE_LOCKS_GUARD = threading.Lock()


def _attach_write_lock(engine: Engine, database: str) -> None:
    path = str(Path(database).resolve())
    with _WRITE_LOCKS_GUARD:
        entry = _WRITE_LOCKS.get(path)
        if entry is None:
            entry = _WRITE_LOCKS[path] = [SqliteWriteLock(path), 0]
        entry[1] += 1
    engine.supportops_write_lock = entry[0]
    weakref.finalize(engine, _detach_write_lock, path)


def _detach_write_lock(path: str) -> None:
    with _WRITE_LOCKS_GUARD:
        entry = _WRITE_LOCKS.get(path)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del _WRITE_LOCKS[path]
                entry[0].close()


def write_lock(bind) -> SqliteWriteLock | None:
    """The writers' queue of a SQLite file database (None for PostgreSQL or :memory:)."""
    return getattr(bind, "supportops_write_lock", None)


@contextmanager
def writing(bind) -> Iterator[None]:
    """Hold the writers' queue of `bind`'s database for a write transaction (SQLite only)."""
    lock = write_lock(bind)
    if lock is None:
        yield
    else:
        with lock.held():
            yield


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception. On SQLite it waits its
    turn in the writers' queue first (SqliteWriteLock)."""
    with writing(factory.kw.get("bind")):
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads: on SQLite it starts deferred (no write lock, never waits
    for a writer); on PostgreSQL it is an ordinary transaction. Anything written in it is
    rolled back, never committed."""
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.rollback()
        session.close()
