"""One connection to the centre's database, the same face on SQLite and PostgreSQL.

- SQL is written once with `?` placeholders; on PostgreSQL (`centre.store.postgres`) they become `%s`.
- `write()` is the only way to change anything: on SQLite a `BEGIN IMMEDIATE` entered through a kernel
  lock queue (`<db>.lock`: waiting windows wake the moment the writer commits, instead of sleeping in
  SQLite's busy handler), on PostgreSQL a transaction in which `lock()` takes row locks.
- `Store.transaction(work)` runs `work(db)` in one write transaction; on PostgreSQL it runs it again when the
  database chose it as a deadlock's victim. `open_store(where)` takes a SQLite path or a PostgreSQL URI.
- A sqlite3 connection belongs to the thread that opened it: `Store.db()` keeps one per thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence, TypeVar

from centre.errors import Refused

Params = Sequence[Any]
T = TypeVar("T")
PG_SCHEMES = ("postgresql://", "postgres://")
_CONNINFO = re.compile(r"\s*[a-z_]+\s*=")


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class StoreUnavailable(Refused):
    """The database cannot be opened or is busy past its timeout."""


class CommitUncertain(Exception):
    """The connection broke while the database was committing: the transaction may or may not have taken
    effect. Its answer must not say either (it is lost, as a network drop is: the window asks with 2601)."""


class Database:
    """One connection (SQLite here; `centre.store.postgres` has the PostgreSQL one)."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", busy_timeout_ms: int = 10000) -> None:
        self.path = str(path)
        try:
            self.conn = sqlite3.connect(self.path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                        check_same_thread=True)
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute(f"PRAGMA synchronous = {synchronous}")
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable("centre_db", f"the centre's database cannot be opened: {self.path}: {exc}",
                                   f"医保中心数据库无法打开: {exc}") from None
        # held open for the connection's life: the lock queue of every write (closed in close())
        self._queue = None if self.path == ":memory:" else open(f"{self.path}.lock", "a")  # noqa: SIM115

    # ---------------------------------------------------------------- statements
    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self.conn.executemany(sql, rows)

    def one(self, sql: str, params: Params = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Params = ()) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

    def dicts(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def lock(self, table: str, key: str, values: Sequence[Any]) -> None:
        """Row locks for the rows a transaction will change (PostgreSQL); SQLite's write lock already holds all."""

    # ---------------------------------------------------------------- transactions
    @contextlib.contextmanager
    def write(self) -> Iterator["Database"]:
        """One write transaction; nested use is a savepoint."""
        conn = self.conn
        if conn.in_transaction:
            conn.execute("SAVEPOINT nested")
            try:
                yield self
            except BaseException:
                conn.execute("ROLLBACK TO SAVEPOINT nested")
                conn.execute("RELEASE SAVEPOINT nested")
                raise
            conn.execute("RELEASE SAVEPOINT nested")
            return
        if self._queue is not None:
            fcntl.flock(self._queue, fcntl.LOCK_EX)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable("centre_busy", f"the centre's database is busy: {exc}",
                                       "医保中心数据库忙,请稍后重试") from None
            try:
                yield self
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if self._queue is not None:
                fcntl.flock(self._queue, fcntl.LOCK_UN)

    def close(self) -> None:
        self.conn.close()
        if self._queue is not None:
            self._queue.close()


class Store:
    """Where the centre's data lives: hands each thread its own connection."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", busy_timeout_ms: int = 10000) -> None:
        self.path = str(path)
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[Database] = []
        self._guard = threading.Lock()

    def db(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = Database(self.path, synchronous=self.synchronous, busy_timeout_ms=self.busy_timeout_ms)
            self._local.db = db
            with self._guard:
                self._all.append(db)
        return db

    def transaction(self, work: Callable[[Database], T]) -> T:
        """`work(db)` in one write transaction on this thread's connection (a savepoint inside another)."""
        db = self.db()
        with db.write():
            return work(db)

    @property
    def where(self) -> str:
        """The database as an operator names it (a path here; a DSN without its password on PostgreSQL)."""
        return self.path

    def close(self) -> None:
        """Close the calling thread's connection (others close with their threads' end)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def is_dsn(where: str | Path) -> bool:
    """A PostgreSQL connection string (a `postgresql://` URI or `key=value` words), as opposed to a SQLite
    file's path (a `Path` is always a file)."""
    return isinstance(where, str) and (where.startswith(PG_SCHEMES) or _CONNINFO.match(where) is not None)


def open_store(where: str | Path, **options: Any) -> Any:
    """The store at `where`: a PostgreSQL connection string (`postgresql://user@host/db`, `host=... dbname=...`),
    else a SQLite file's path."""
    if is_dsn(where):
        from centre.store.postgres import PgStore
        return PgStore(str(where), **options)
    return Store(where, **options)
