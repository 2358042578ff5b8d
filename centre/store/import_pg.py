"""Writing checked export rows into the centre's PostgreSQL database: the same upserts that compare as on
SQLite (`centre.store.import_write`), with the same bookkeeping of every quota and balance.

- The statements are SQLite's, spelled for PostgreSQL (`IS DISTINCT FROM` for `IS NOT`, the stored row named
  by its table inside `DO UPDATE`); each chunk of rows is one `executemany` (psycopg pipelines it: one round
  trip per chunk, not per row) inside a savepoint, and a chunk that hits a constraint is redone row by row,
  each in its own savepoint, to name the line.
- The import's transaction first takes EXCLUSIVE locks on the tables it changes or reads its marks from:
  settlements and bindings made at a window wait for it (and it for them), as the single writer does on SQLite;
  reads go on.
- New bindings' quota movements as on SQLite: every binding above the highest id before the import (the
  identity only grows) with a quota is a movement of kind `import`.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import errors

from centre.store.import_lines import Row
from centre.store.import_report import KINDS, ImportReport
from centre.store.import_write import _ENDED, _MOVEMENT, SQL, TABLE, KeepLocal, centre_activity
from centre.store.postgres import PgDatabase
from drivers import certno as idcard

LOCKED = ("persons", "accounts", "bindings", "movements", "ledger", "imports")


def _pg(sql: str, table: str) -> str:
    """SQLite's upsert for PostgreSQL: a column of the stored row is named by its table inside DO UPDATE."""
    head, sep, tail = sql.partition(" DO UPDATE SET ")
    tail = re.sub(r"(?<![.\w])(\w+) IS NOT excluded\.", rf"{table}.\1 IS DISTINCT FROM excluded.", tail)
    tail = tail.replace("version = version + 1", f"version = {table}.version + 1")
    return head + sep + tail


PG_SQL = {kind: _pg(sql, TABLE[kind]) for kind, sql in SQL.items()}
# SQLite's account upsert names its parameters (?1 … ?4) and uses the scalar min(): spelled out here, with
# the row's values repeated where the statement uses them (see `_params`)
PG_SQL["account"] = (
    "INSERT INTO accounts (psn_no, balc, opening, year, version, prior_balc) VALUES (?, ?, ?, ?, 0, "
    "coalesce(?::bigint, 0)) "
    "ON CONFLICT(psn_no) DO UPDATE SET balc = excluded.balc, year = excluded.year, version = accounts.version + 1, "
    "prior_balc = CASE WHEN ?::bigint IS NULL THEN LEAST(accounts.prior_balc, excluded.balc) ELSE ?::bigint END, "
    "opening = excluded.balc "
    "- coalesce((SELECT sum(m.balc_delta) FROM movements m WHERE m.psn_no = excluded.psn_no), 0) "
    "+ coalesce((SELECT sum(l.amount) FROM ledger l WHERE l.psn_no = excluded.psn_no AND l.source = 'balc'), 0) "
    "WHERE accounts.balc IS DISTINCT FROM excluded.balc OR accounts.year IS DISTINCT FROM excluded.year "
    "OR (?::bigint IS NOT NULL AND accounts.prior_balc IS DISTINCT FROM ?::bigint)")


def _params(kind: str, row: Row) -> Row:
    if kind == "account":   # (psn_no, balc, year, prior_balc): see PG_SQL["account"]
        psn_no, balc, year, prior = row[0], row[1], row[2], row[3] if len(row) > 3 else None
        return (psn_no, balc, balc, year, prior, prior, prior, prior, prior)
    return row


class PgWriter(KeepLocal):
    """The import's sink on PostgreSQL (the same methods as `import_write.SqliteWriter`)."""

    def __init__(self, db: PgDatabase, report: ImportReport) -> None:
        self.db = db
        self.report = report
        self.kept_accounts: set[str] = set()
        self.kept_pairs: set[tuple[str, str]] = set()
        self.ended_keys: set[tuple[str, str, str]] = set()
        self.first_new = 1
        self.at = self.ref = ""

    def start(self, at: str, ref: str) -> None:
        self.at, self.ref = at, ref
        self.db.execute(f"LOCK TABLE {', '.join(LOCKED)} IN EXCLUSIVE MODE")
        self.kept_accounts, self.kept_pairs = centre_activity(self.db)
        self.ended_keys = {tuple(r) for r in self.db.all(
            "SELECT owner_psn_no, user_psn_no, begin_date FROM bindings WHERE status = 'ended'")}
        self.first_new = int(self.db.one("SELECT coalesce(max(id), 0) FROM bindings")[0]) + 1

    def finish(self) -> None:
        self.db.execute(
            "INSERT INTO movements (kind, psn_no, binding_id, balc_delta, quota_delta, at, ref) "
            "SELECT 'import', owner_psn_no, id, 0, quota, ?, ? FROM bindings WHERE id >= ? AND quota <> 0 "
            "ORDER BY id", [self.at, self.ref, self.first_new])

    def stop(self) -> None:
        """Nothing to drop (no scratch table here)."""

    def counts(self) -> dict[str, int]:
        return {k: int(self.db.one(f"SELECT count(*) FROM {TABLE[k]}")[0]) for k in KINDS}

    def _stored_quotas(self, rows: list[Row]) -> dict[int, tuple[str, int]]:
        """binding id -> (owner, quota) of the stored active bindings whose quota a chunk's lines change."""
        found: dict[int, tuple[str, int]] = {}
        pairs = [(r[0], r[1], r[4]) for r in rows]
        for i in range(0, len(pairs), 1000):
            part = pairs[i:i + 1000]
            for bid, owner, quota in self.db.all(
                    "SELECT b.id, b.owner_psn_no, b.quota FROM bindings b JOIN unnest(?::text[], ?::text[], ?::bigint[]) "
                    "AS p(owner, usr, quota) ON b.owner_psn_no = p.owner AND b.user_psn_no = p.usr "
                    "AND b.status = 'active' WHERE b.quota IS DISTINCT FROM p.quota",
                    [[p[0] for p in part], [p[1] for p in part], [p[2] for p in part]]):
                found[int(bid)] = (owner, int(quota))
        return found

    def _quota_moves(self, stored: dict[int, tuple[str, int]]) -> None:
        if not stored:
            return
        now = self.db.all("SELECT id, quota FROM bindings WHERE id = ANY(?)", [list(stored)])
        self.db.executemany(_MOVEMENT, [(stored[bid][0], bid, quota - stored[bid][1], self.at, self.ref)
                                        for bid, quota in now if quota != stored[bid][1]])

    @property
    def conn(self) -> PgDatabase:
        """`keep_local` (shared with SQLite) reads through `self.conn.execute(...).fetchone()`."""
        return self.db

    def rows(self, kind: str, rows: list[Row], linenos: list[int]) -> None:
        if (kind == "account" and self.kept_accounts) or (kind == "binding" and (self.kept_pairs or self.ended_keys)):
            rows, linenos = self.keep_local(kind, rows, linenos)
            if not rows:
                return
        db, sql = self.db, PG_SQL[kind]
        stored = self._stored_quotas(rows) if kind == "binding" and self.first_new > 1 else None
        failed = 0
        changed = 0
        try:
            with db.write():
                changed = db.executemany(sql, [_params(kind, r) for r in rows])
        except (psycopg.IntegrityError, errors.CardinalityViolation):
            changed = 0
            for n, row in zip(linenos, rows):
                try:
                    with db.write():
                        changed += db.execute(sql, _params(kind, row)).rowcount
                except psycopg.IntegrityError as exc:
                    failed += 1
                    self.report.refuse_line(n, self.explain(kind, row, exc))
        self.report.kinds[kind].lines += len(rows) - failed
        self.report.kinds[kind].updated += changed
        if stored:
            self._quota_moves(stored)

    def ended(self, items: list[tuple[int, Row]]) -> None:
        for n, row in items:
            exists = self.db.one("SELECT 1 FROM bindings WHERE owner_psn_no = ? AND user_psn_no = ? "
                                 "AND begin_date = ? AND status = 'ended'", (row[0], row[1], row[5]))
            if exists is None:
                try:
                    with self.db.write():
                        self.db.execute(_ENDED, row[:8])
                    self.report.kinds["binding"].updated += 1
                except psycopg.IntegrityError as exc:
                    self.report.refuse_line(n, self.explain("binding", row, exc))
                    continue
            self.report.kinds["binding"].lines += 1

    def explain(self, kind: str, row: Row, exc: psycopg.Error) -> str:
        constraint = exc.diag.constraint_name or ""
        if kind == "person":
            for col, idx in (("certno", 1), ("card_no", 6)):
                if constraint == f"persons_{col}_key":
                    holder = self.db.one(f"SELECT psn_no FROM persons WHERE {col} = ?", (row[idx],))
                    value = idcard.mask(row[idx]) if col == "certno" else row[idx]
                    return (f"person {row[0]}: duplicate {col} {value}, already held by "
                            f"{holder[0] if holder else 'another person'}")
        if isinstance(exc, errors.ForeignKeyViolation):
            return f"{kind}: refers to a person that was not imported"
        return f"{kind}: {(exc.diag.message_primary or str(exc)).strip()}"

