"""The read the cached family lookup makes on bindings (terminal/services/cached_people.py): a user's active
bindings with each owner's name, balance and insurance, oldest first.

API (takes a sqlite_utils.Database opened on this thread):
  relative_rows(db, user_psn_no) -> [(id, owner, owner name, relation, scope, quota, begin, end, balc,
                                      insutype, psn_insu_stas, insuplc_admdvs, gend)]
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

_RELATIVES_SQL = (
    "SELECT b.id, b.owner_psn_no, o.psn_name, b.relation, b.scope, b.quota, b.begin_date, b.end_date, "
    "a.balc, o.insutype, o.psn_insu_stas, o.insuplc_admdvs, o.gend "
    "FROM bindings b JOIN persons o ON o.psn_no = b.owner_psn_no "
    "LEFT JOIN accounts a ON a.psn_no = b.owner_psn_no "
    "WHERE b.user_psn_no = ? AND b.status = 'active' ORDER BY b.id")


def relative_rows(db: sqlite_utils.Database, user_psn_no: str) -> list[Any]:
    """The user's active bindings with each owner's standing, oldest first."""
    return db.conn.execute(_RELATIVES_SQL, [user_psn_no]).fetchall()
