"""The centre's store on PostgreSQL (psycopg 3 and its connection pool), with the face of `engine.Store`.

- One pool per process (a server's worker, an import). A statement outside a transaction borrows a
  connection for itself; `write()` holds one for the whole transaction. The SQL is the same as on SQLite:
  `?` placeholders become `%s` here.
- Isolation is READ COMMITTED, and concurrency is the database's own: `lock()` takes row locks
  (`SELECT ... ORDER BY key FOR NO KEY UPDATE`) on the rows a transaction will change, before it reads what
  it decides on. The order is always the same — the patient's `persons` row first, then `accounts` rows in
  key order — so two windows never wait on each other in a circle; should the database still find a
  deadlock (40P01) or a serialization failure (40001), `transaction(work)` runs the whole work again.
- A row held past `lock_timeout` (the busy timeout) is "busy", as on SQLite; a connection lost while
  committing is `CommitUncertain` (the answer is withheld: the window asks with 2601, as after a timeout).
- What the database refuses by itself (CHECK, append-only triggers, unique keys) raises psycopg's
  IntegrityError (or RaiseException for a trigger), as sqlite3's IntegrityError does there.
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence, TypeVar

import psycopg
from psycopg import errors, pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from centre.errors import ConfigProblem
from centre.store.engine import CommitUncertain, Params, StoreUnavailable

T = TypeVar("T")
MIN_SERVER = 110000          # PostgreSQL 11: EXECUTE FUNCTION in triggers, identity columns
RETRIES = 8                  # a deadlock victim's work is run again up to this many times
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
_RETRY = (errors.DeadlockDetected, errors.SerializationFailure)


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """`?` placeholders to psycopg's `%s` (a literal `%` doubled); quoted text is left as it is."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def describe(dsn: str) -> str:
    """The DSN as it may be shown or logged: every part but the password."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(an unreadable PostgreSQL connection string)"
    if "password" in parts:
        parts["password"] = "***"
    return make_conninfo(**{k: str(v) for k, v in parts.items()})


def check_dsn(dsn: str) -> None:
    """Refuse a connection string psycopg cannot read, before anything starts."""
    try:
        conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigProblem(f"--dsn is not a PostgreSQL connection string: {_first_line(exc)}") from None


class Rows:
    """A statement's outcome, read whole before its connection went back to the pool."""

    __slots__ = ("rowcount", "description", "_rows", "_next")

    def __init__(self, rowcount: int, description: Any, rows: list[Any]) -> None:
        self.rowcount = rowcount
        self.description = description
        self._rows = rows
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._next:]
        self._next = len(self._rows)
        return rest


class PgDatabase:
    """One thread's handle on the pool: statements, and the transaction it has open (if any)."""

    dialect = "postgres"

    def __init__(self, store: "PgStore") -> None:
        self.store = store
        self.path = store.where
        self.conn: psycopg.Connection[Any] | None = None     # the open transaction's connection
        self._depth = 0

    @property
    def in_transaction(self) -> bool:
        return self.conn is not None

    # ---------------------------------------------------------------- statements
    def _run(self, sql: str, params: Params, many: bool = False) -> Rows:
        text = translate(sql)
        try:
            if self.conn is not None:
                return _execute(self.conn, text, params, many)
            with self.store.connection() as conn:
                return _execute(conn, text, params, many)
        except errors.LockNotAvailable:
            raise _busy() from None
        except psycopg.OperationalError as exc:
            if isinstance(exc, _RETRY):
                raise
            raise _unavailable(self.store.where, exc) from None

    def execute(self, sql: str, params: Params = ()) -> Rows:
        return self._run(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        """Every row (one pipelined round trip); the rows changed."""
        return self._run(sql, rows, many=True).rowcount if rows else 0

    def one(self, sql: str, params: Params = ()) -> Any:
        return self._run(sql, params).fetchone()

    def all(self, sql: str, params: Params = ()) -> list[Any]:
        return self._run(sql, params).fetchall()

    def dicts(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        result = self._run(sql, params)
        names = [c.name for c in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]

    def lock(self, table: str, key: str, values: Sequence[Any]) -> None:
        """Row locks on `table` rows whose `key` is one of `values`, taken in key order, held to the end of the
        transaction. `FOR NO KEY UPDATE`: a foreign key pointing at the row (a new binding, ledger entry ...)
        does not wait for it."""
        if not values:
            return
        if self.conn is None:
            raise RuntimeError("lock() outside a write transaction")
        if not (_IDENT.fullmatch(table) and _IDENT.fullmatch(key)):
            raise ValueError(f"not a table and column name: {table}.{key}")
        self._run(f"SELECT 1 FROM {table} WHERE {key} = ANY(?) ORDER BY {key} FOR NO KEY UPDATE",
                  [sorted(set(values))])

    # ---------------------------------------------------------------- transactions
    @contextlib.contextmanager
    def write(self) -> Iterator["PgDatabase"]:
        """One transaction on one connection; nested use is a savepoint."""
        if self.conn is not None:
            self._depth += 1
            name = f"nested{self._depth}"
            self._run(f"SAVEPOINT {name}", ())
            try:
                yield self
            except BaseException:
                if self.conn.info.transaction_status != pq.TransactionStatus.UNKNOWN:
                    self._run(f"ROLLBACK TO SAVEPOINT {name}", ())
                    self._run(f"RELEASE SAVEPOINT {name}", ())
                raise
            finally:
                self._depth -= 1
            self._run(f"RELEASE SAVEPOINT {name}", ())
            return
        with self.store.connection() as conn:
            try:
                conn.execute("BEGIN")
            except psycopg.OperationalError as exc:
                raise _unavailable(self.store.where, exc) from None
            self.conn = conn
            try:
                try:
                    yield self
                except BaseException:
                    if not conn.broken:
                        conn.execute("ROLLBACK")
                    raise
                try:
                    conn.execute("COMMIT")
                except psycopg.OperationalError as exc:
                    if conn.broken:
                        raise CommitUncertain(f"the connection to the centre's database broke during COMMIT: "
                                              f"{_first_line(exc)}") from None
                    raise
            finally:
                self.conn = None

    def close(self) -> None:
        """Nothing of its own to close (the connections are the pool's)."""


class PgStore:
    """The centre's data in one PostgreSQL database: a pool of connections, a `PgDatabase` per thread."""

    dialect = "postgres"

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 16, busy_timeout_ms: int = 10000,
                 connect_timeout_s: float = 10.0, synchronous: str | None = None) -> None:
        check_dsn(dsn)
        self.dsn = dsn
        self.where = describe(dsn)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self.server_version = _probe(dsn, self.where, connect_timeout_s)
        self.pool = ConnectionPool(dsn, min_size=min_size, max_size=max_size, open=False, timeout=30.0,
                                   name="centre", configure=self._configure,
                                   kwargs={"autocommit": True, "application_name": "cashier-centre",
                                           "connect_timeout": max(1, int(connect_timeout_s))})
        try:
            self.pool.open(wait=True, timeout=connect_timeout_s)
        except PoolTimeout as exc:
            self.pool.close()
            raise _unavailable(self.where, exc) from None

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        # synchronous_commit stays the server's (on by default): an acknowledged settlement is on disk
        conn.execute(f"SET lock_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("SET idle_in_transaction_session_timeout = 60000")

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreUnavailable("centre_busy", f"no free connection to the centre's database: {exc}",
                                   "医保中心数据库连接已满,请稍后重试") from None

    def db(self) -> PgDatabase:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = PgDatabase(self)
        return db

    def transaction(self, work: Callable[[PgDatabase], T]) -> T:
        """`work(db)` in one transaction, run again (from the start, on fresh data) when the database chose it
        as a deadlock's victim; inside another transaction it is a savepoint and never retried alone."""
        db = self.db()
        if db.in_transaction:
            with db.write():
                return work(db)
        for attempt in range(RETRIES + 1):
            try:
                with db.write():
                    return work(db)
            except _RETRY as exc:
                if attempt == RETRIES:
                    raise StoreUnavailable("centre_busy", f"the centre's database is busy: {_first_line(exc)}",
                                           "医保中心数据库忙,请稍后重试") from None
                time.sleep(random.uniform(0, 0.002 * 2 ** attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every connection of the pool (the store is not used afterwards)."""
        self.pool.close()


def _execute(conn: psycopg.Connection[Any], sql: str, params: Any, many: bool) -> Rows:
    with conn.cursor() as cur:
        if many:
            cur.executemany(sql, params)
            return Rows(cur.rowcount, None, [])
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description is not None else []
        return Rows(cur.rowcount, cur.description, rows)


def _probe(dsn: str, where: str, timeout_s: float) -> int:
    """Connect once: the server's own reason when it cannot be reached, and a server too old is refused."""
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout_s)), autocommit=True) as conn:
            version = conn.info.server_version
    except psycopg.Error as exc:
        raise _unavailable(where, exc) from None
    if version < MIN_SERVER:
        raise StoreUnavailable("centre_db", f"the centre needs PostgreSQL 11 or newer ({where} is {version // 10000})",
                               "医保中心需要 PostgreSQL 11 或更新版本")
    return version


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _unavailable(where: str, exc: BaseException) -> StoreUnavailable:
    return StoreUnavailable("centre_db", f"the centre's database cannot be reached: {where}: {_first_line(exc)}",
                            f"医保中心数据库无法连接: {_first_line(exc)}")


def _busy() -> StoreUnavailable:
    return StoreUnavailable("centre_busy", "the centre's database is busy (a row stayed locked past the busy timeout)",
                            "医保中心数据库忙,请稍后重试")


class Lookup:
    """One plain connection that reads with `?` placeholders (an import's reading process): `execute` returns
    psycopg's cursor, as sqlite3's does."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True, application_name="cashier-centre-import")

    def execute(self, sql: str, params: Params = ()) -> Any:
        return self.conn.execute(translate(sql), params)

    def close(self) -> None:
        self.conn.close()
