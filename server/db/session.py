"""Engine and session factory. `sync` code receives a Session; the edge owns the transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

IMMEDIATE_OPTION = "sahakum_sqlite_immediate"
# Execution option: ask PostgreSQL for this statement's rows in binary format (psycopg). A bytea
# column then arrives as its bytes instead of twice as many hex digits the server encodes and
# the client decodes: half the transfer and far less work on both sides for XML-sized values.
BINARY_RESULTS_OPTION = "sahakum_binary_results"
POOL_RECYCLE_S = 1800  # below common idle-connection timeouts (PgBouncer, NAT, cloud LBs)


def create_private_sqlite_file(url: str) -> None:
    """Create the database file 0600 before SQLite does (SQLite would use 0644 minus the umask);
    SQLite gives its -wal and -shm files the database file's mode, so they are private too."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return
    # An existing file keeps its mode; a missing folder is SQLite's error to report.
    with suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        create_private_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # We emit BEGIN ourselves (below): pysqlite's own deferred BEGIN cannot be made
            # IMMEDIATE per transaction.
            dbapi_conn.isolation_level = None
            # WAL lets readers run beside the single writer; busy_timeout makes writers queue
            # instead of failing with "database is locked" when gunicorn runs several workers.
            # synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss, and
            # a submission acknowledged with 201 must survive that.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # SQLite has no SELECT ... FOR UPDATE. A read-modify-write transaction (a merge)
            # takes the write lock up front instead, so two of them cannot both read version N
            # of a workplace and both write N+1.
            immediate = conn.get_execution_options().get(IMMEDIATE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # No pool_pre_ping: it costs a round trip (a `SELECT 1`) before every checkout, i.e. on
    # every request. Connections are recycled before any server or firewall idle timeout
    # instead, and a connection that died anyway fails one request (Collect retries) and is
    # discarded by the pool (SQLAlchemy invalidates it on the disconnect error).
    engine = create_engine(
        url, pool_recycle=POOL_RECYCLE_S, pool_size=10, max_overflow=20, **kwargs
    )
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "before_cursor_execute", _binary_results)
    return engine


def _binary_results(_conn: Any, cursor: Any, _statement: str, _params: Any, context: Any,
                    _many: bool) -> None:
    if context is not None and context.execution_options.get(BINARY_RESULTS_OPTION):
        from psycopg import pq

        cursor.format = pq.Format.BINARY


# PostgreSQL's "deadlock detected" and "could not serialize access": the transaction lost a
# race with another one and was rolled back; running it again is correct and usually succeeds.
LOST_RACE_SQLSTATES = frozenset({"40P01", "40001"})


def is_lost_race(exc: BaseException) -> bool:
    """Whether `exc` (a SQLAlchemy error) says the transaction lost a race and may be retried:
    a PostgreSQL deadlock or serialization failure, or SQLite still busy after busy_timeout."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in LOST_RACE_SQLSTATES:
        return True
    return type(orig).__name__ == "OperationalError" and "database is locked" in str(orig)


class Database:
    """One per process: the engine and a session factory bound to it."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; each statement is its own transaction (no BEGIN / COMMIT round trips).
        self.autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, lock_for_write: bool = False) -> Session:
        """A new session (the caller closes it).

        `lock_for_write`: its transaction reads rows and writes decisions based on them. On
        PostgreSQL the code locks those rows itself (FOR UPDATE); SQLite cannot, so there the
        transaction starts with BEGIN IMMEDIATE instead (writers then run one after another,
        and none of them can act on a snapshot another writer has made stale)."""
        if lock_for_write and self.is_sqlite:
            return self.sessionmaker(execution_options={IMMEDIATE_OPTION: True})
        return self.sessionmaker()

    @contextmanager
    def transaction(self, *, lock_for_write: bool = False) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self.session(lock_for_write=lock_for_write) as session, session.begin():
            yield session

    def read_session(self) -> Session:
        """A session for requests that only read (downloads, lists): on PostgreSQL each
        statement runs on its own, without BEGIN and ROLLBACK round trips."""
        if self.is_sqlite:
            return self.sessionmaker()
        return self.sessionmaker(bind=self.autocommit_engine)

    @contextmanager
    def intake_connection(self) -> Iterator[Connection]:
        """A Core connection for a read and at most one write that must be atomic (the hot
        path of intake, server/sync/intake.py). PostgreSQL: autocommit, so the single write is
        its own transaction and costs no extra round trips. SQLite: a BEGIN IMMEDIATE
        transaction (one writer), committed by the caller's `commit()`."""
        if self.is_sqlite:
            with self.engine.connect().execution_options(**{IMMEDIATE_OPTION: True}) as conn:
                yield conn
            return
        with self.autocommit_engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
