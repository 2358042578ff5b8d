"""One write transaction for the money services: BEGIN IMMEDIATE, COMMIT or ROLLBACK, and the audit row.

API: `with immediate(db) as tx: ...` (takes the write lock up front so balances read inside cannot
change before the commit; any exception rolls back; `tx.rollback()` ends it early without writing);
`insert_audit(db, cfg, at, action, subject, detail)`.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator

import sqlite_utils

from terminal.errors import StoreError


class Tx:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn
        self.open = True

    def rollback(self) -> None:
        if self.open:
            self.conn.execute("ROLLBACK")
            self.open = False


@contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[Tx]:
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise StoreError("db_busy", f"the database is busy (another window holds it): {exc}",
                         "数据库忙(其他窗口正在写入),请重试") from None
    tx = Tx(db)
    try:
        yield tx
    except BaseException:
        tx.rollback()
        raise
    if tx.open:
        try:
            tx.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            tx.rollback()
            raise StoreError("db_commit", f"the database could not commit: {exc}", "数据库提交失败") from None
        tx.open = False


def insert_audit(db: sqlite_utils.Database, cfg, at: str, action: str, subject: str | None,
                 detail: dict[str, Any]) -> None:
    db.conn.execute('INSERT INTO audit (at, operator, "window", action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)',
                    [at, cfg.terminal.operator, cfg.terminal.window, action, subject,
                     json.dumps(detail, ensure_ascii=False)])
