"""Open the window's database: WAL, the configured durability, a busy timeout, clear errors.

A sqlite3 connection belongs to the thread that opened it: open one per worker.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from terminal.error_codes import E


def open_db(path: str | Path, *, create: bool = False, synchronous: str = "FULL",
            busy_timeout_ms: int = 10000, migrate: bool = True) -> sqlite_utils.Database:
    """Open (and with create=True, create) the database and bring its schema up to date.

    A missing file without create, a file that is not a database, or a corrupted one
    raises StoreError with a message a cashier can act on.
    """
    path = Path(path)
    if str(path) != ":memory:" and not path.exists():
        if not create:
            raise E.DB_MISSING.error(f"database not found: {path} (run `cashier db init`)",
                             f"数据库不存在: {path}(请先运行 cashier db init)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where a folder should be, no permission
            raise E.DB_ERROR.error(f"cannot create the database folder {path.parent}: {exc.strerror}",
                             f"无法创建数据库所在的文件夹 {path.parent}") from None
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                               check_same_thread=True)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if str(path) != ":memory:":
            _check_is_ours(conn, path, create)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys = ON")
        if mode.lower() != "wal" and str(path) != ":memory:":
            raise E.DB_WAL.error(f"cannot put {path} in WAL mode (journal_mode={mode})")
        db = sqlite_utils.Database(conn)
        if migrate:
            from terminal.store.migrations import apply_migrations
            apply_migrations(db)
        else:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "not a database" in text or "malformed" in text or "file is encrypted" in text:
            raise E.DB_CORRUPT.error(f"database file is damaged or not a cashier database: {path} ({text})",
                             f"数据库文件已损坏或不是收费数据库: {path}") from None
        if "locked" in text or "busy" in text:
            raise E.DB_BUSY.error(f"database is busy: {path} ({text})", f"数据库忙: {path}") from None
        raise E.DB_ERROR.error(f"database error: {path}: {text}", f"数据库错误: {path}: {text}") from None


def _check_is_ours(conn: sqlite3.Connection, path: Path, create: bool) -> None:
    """Never write our schema into a file that is not a cashier database.

    An empty file is only initialised by `db init` (create=True); a file holding
    another program's tables is refused either way.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        if create:
            return
        conn.close()
        raise E.DB_EMPTY.error(f"database file is empty: {path} (run `cashier db init`)",
                         f"数据库文件为空: {path}(请先运行 cashier db init)")
    ours = "_sqlite_migrations" in tables and conn.execute(
        "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'cashier'").fetchone()[0] > 0
    if not ours:
        conn.close()
        raise E.DB_FOREIGN.error(f"not a cashier database: {path} (it holds other tables; nothing was changed)",
                         f"不是收费数据库: {path}(未做任何修改)")
    _check_not_newer(conn, path)


def _check_not_newer(conn: sqlite3.Connection, path: Path) -> None:
    """A schema step this version does not know means a newer version wrote the file: refuse it before
    anything else is read or written (this version would misread its rows, or undo its guarantees)."""
    from terminal.store.migrations import known_steps
    known = set(known_steps())
    unknown = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'cashier' "
                                          "ORDER BY rowid") if r[0] not in known]
    if unknown:
        conn.close()
        steps = ", ".join(unknown)
        raise E.DB_NEWER.error(f"database {path} was written by a newer version of cashier (schema steps this "
                         f"version does not know: {steps}); open it with that version or a newer one. "
                         f"Nothing was read or changed.",
                         f"数据库 {path} 由更新版本的 cashier 写入(本版本不认识的结构步骤: {steps}),"
                         f"请用该版本或更新的版本打开。未读取或修改任何数据。")


def open_from_config(cfg, *, create: bool = False, migrate: bool = True) -> sqlite_utils.Database:
    return open_db(cfg.db_path, create=create, synchronous=cfg.database.synchronous,
                   busy_timeout_ms=cfg.database.busy_timeout_ms, migrate=migrate)


@contextmanager
def opened(cfg) -> Iterator[sqlite_utils.Database]:
    """The configured database for one call or one worker (this thread), closed when it is done."""
    db = open_from_config(cfg)
    try:
        yield db
    finally:
        db.close()
