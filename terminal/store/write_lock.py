"""The one write path of the window's database: a kernel lock queue in front of an IMMEDIATE transaction.

Settlement, reversal, binding, unbinding and every audit written beside them enter through `write_tx`.
Windows waiting for SQLite's lock sleep 1, 2, 5 … 100 ms between tries, leaving the database idle while a
sub-millisecond settlement could run; waiting in flock() on `<db>.lock` instead wakes the next window the
moment the last one commits (the kernel drops the lock of a killed process).
"""

from __future__ import annotations

import fcntl
import sqlite3
import weakref
from contextlib import contextmanager
from typing import IO, Iterator

import sqlite_utils

from terminal.error_codes import E
from terminal.store.people import write_transaction

# each open Database's handle on its `<db>.lock` (None: in memory, or the file cannot be opened)
_queues: weakref.WeakKeyDictionary[sqlite_utils.Database, IO[str] | None] = weakref.WeakKeyDictionary()


def _writer_queue(db: sqlite_utils.Database) -> IO[str] | None:
    """This connection's handle on `<db>.lock`, the queue the money writers wait in (None: in memory)."""
    if db in _queues:
        return _queues[db]
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    queue: IO[str] | None
    try:
        queue = open(f"{path}.lock", "a") if path else None  # noqa: SIM115  held open: the queue is its lock
    except OSError:
        queue = None
    _queues[db] = queue
    return queue


@contextmanager
def write_tx(db: sqlite_utils.Database) -> Iterator[None]:
    """The store's IMMEDIATE write transaction, entered through the lock queue (nested: a savepoint).

    A lock held too long by a writer outside this queue -> StoreError db_busy.
    """
    queue = None if db.conn.in_transaction else _writer_queue(db)   # nested: the queue is already ours
    if queue is not None:
        fcntl.flock(queue, fcntl.LOCK_EX)
    try:
        with write_transaction(db):
            yield
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise E.DB_BUSY.error(f"the database is busy (another window holds it): {exc}",
                         "数据库忙(其他窗口正在写入),请重试") from None
    finally:
        if queue is not None:
            fcntl.flock(queue, fcntl.LOCK_UN)
