"""Writes on bindings and the money they move (binding_moves, the owner's balance), and the reads the family
lookup and the lapse check make. The services decide; these run inside the caller's `write_tx`.

API (all take a sqlite_utils.Database opened on this thread):
  take_for_quota(db, psn_no, quota) -> bool        the owner's balance debited only if it covers the quota
  insert_binding(db, ...) -> int                    the new binding's id
  record_move(db, binding_id, psn_no, amount, reason, at, window, operator)
  return_to_owner(db, psn_no, amount)               credit (an account row made when there is none)
  end_binding_row(db, binding_id, end_date, operator, at, window, reason)
  lapsed_owner_rows(db) -> [(binding id, psn_no, psn_name, insutype, psn_insu_stas, insuplc_admdvs)]
  relative_rows(db, user_psn_no) -> [(id, owner, owner name, relation, scope, quota, begin, end, balc,
                                      insutype, psn_insu_stas, insuplc_admdvs, gend)]
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from centre.interface.codes import BindingStatus, Insutype, PsnInsuStas

_RELATIVES_SQL = (
    "SELECT b.id, b.owner_psn_no, o.psn_name, b.relation, b.scope, b.quota, b.begin_date, b.end_date, "
    "a.balc, o.insutype, o.psn_insu_stas, o.insuplc_admdvs, o.gend "
    "FROM bindings b JOIN persons o ON o.psn_no = b.owner_psn_no "
    "LEFT JOIN accounts a ON a.psn_no = b.owner_psn_no "
    "WHERE b.user_psn_no = ? AND b.status = 'active' ORDER BY b.id")


def take_for_quota(db: sqlite_utils.Database, psn_no: str, quota: int) -> bool:
    """Move `quota` out of the owner's balance, only if it still covers it (checked under the write lock)."""
    return db.conn.execute("UPDATE accounts SET balc = balc - ?, version = version + 1 "
                           "WHERE psn_no = ? AND balc >= ?", [quota, psn_no, quota]).rowcount == 1


def insert_binding(db: sqlite_utils.Database, *, owner_psn_no: str, user_psn_no: str, relation: str, scope: str,
                   quota: int, begin_date: str, operator: str | None, at: str, window: str | None) -> int | None:
    cur = db.conn.execute(
        "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, status, "
        "created_by, created_at, created_window) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)",
        [owner_psn_no, user_psn_no, relation, scope, quota, begin_date, operator, at, window])
    return cur.lastrowid


def record_move(db: sqlite_utils.Database, binding_id: int, psn_no: str, amount: int, reason: str, at: str,
                window: str | None, operator: str | None) -> None:
    """Money moved between the owner's balance and the binding's quota (> 0: into the quota)."""
    db.conn.execute('INSERT INTO binding_moves (binding_id, psn_no, amount, reason, at, "window", operator) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", [binding_id, psn_no, amount, reason, at, window, operator])


def return_to_owner(db: sqlite_utils.Database, psn_no: str, amount: int) -> None:
    db.conn.execute("INSERT INTO accounts (psn_no, balc, version) VALUES (?, ?, 0) ON CONFLICT(psn_no) DO UPDATE "
                    "SET balc = balc + excluded.balc, version = version + 1", [psn_no, amount])


def end_binding_row(db: sqlite_utils.Database, binding_id: int, *, end_date: str, operator: str | None, at: str,
                    window: str | None, reason: str) -> None:
    db.conn.execute("UPDATE bindings SET status = 'ended', end_date = ?, quota = 0, ended_by = ?, ended_at = ?, "
                    "ended_window = ?, end_reason = ? WHERE id = ? AND status = 'active'",
                    [end_date, operator, at, window, reason, binding_id])


def lapsed_owner_rows(db: sqlite_utils.Database) -> list[Any]:
    """Active bindings whose owner's insurance ended or is not an employee's any more, oldest first."""
    return db.conn.execute(
        "SELECT b.id, o.psn_no, o.psn_name, o.insutype, o.psn_insu_stas, o.insuplc_admdvs FROM bindings b "
        "JOIN persons o ON o.psn_no = b.owner_psn_no WHERE b.status = ? "
        "AND (o.psn_insu_stas = ? OR o.insutype <> ?) ORDER BY b.id",
        [BindingStatus.ACTIVE.value, PsnInsuStas.ENDED.value, Insutype.EMPLOYEE.value]).fetchall()


def relative_rows(db: sqlite_utils.Database, user_psn_no: str) -> list[Any]:
    """The user's active bindings with each owner's standing, oldest first."""
    return db.conn.execute(_RELATIVES_SQL, [user_psn_no]).fetchall()
