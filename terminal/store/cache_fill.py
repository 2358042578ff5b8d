"""Fill the window's cache (persons, accounts, bindings, pooling areas) from what the centre holds.

The cache is for lookup and display while the centre is down; the money and the rules are the centre's, so a
row here is the centre's row as it stood when `cashier db import` last ran, overwritten each time. A binding is
the same binding when owner, user and begin_date agree (the window's row keeps its id). One transaction, bulk
executemany: a million persons take seconds. One audit row (action `import`) is the window's own log of it.

Each fill is remembered in `imports` (the file's sha256): the same file again, already in the centre, writes
nothing here either.

API: fill(db, rows, *, file, sha256, lines, operator, window) -> {"person": n, "account": n, "binding": n, "region": n}
     filled_from(db, sha256) -> bool     this very file filled the cache before
"""

from __future__ import annotations

import json

import sqlite_utils

from centre.api import CacheRows
from terminal.store.people import add_audit, now_iso, write_transaction

_P = CacheRows.PERSON
_PERSONS = (f"INSERT INTO persons ({', '.join(_P)}) VALUES ({', '.join('?' * len(_P))}) ON CONFLICT (psn_no) "
            f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _P[1:])}")
_ACCOUNTS = ("INSERT INTO accounts (psn_no, balc, opening, year) VALUES (?, ?, ?, ?) ON CONFLICT (psn_no) "
             "DO UPDATE SET balc = excluded.balc, opening = excluded.opening, year = excluded.year, "
             "version = version + (balc != excluded.balc)")
_B = CacheRows.BINDING
_KEY = ("owner_psn_no", "user_psn_no", "begin_date")
_REST = tuple(c for c in _B if c not in _KEY)
# the centre's bindings go through a temporary table, then two set-wise statements: an executemany of a
# keyed UPDATE and of an INSERT ... WHERE NOT EXISTS costs 15 to 30 us a row, these a fraction of it
_STAGE = (f"CREATE TEMP TABLE fill_bindings ({', '.join(_B)})",
          f"INSERT INTO fill_bindings VALUES ({', '.join('?' * len(_B))})",
          "CREATE INDEX temp.fill_bindings_key ON fill_bindings (owner_psn_no, user_psn_no, begin_date)")
_ON = " AND ".join(f"bindings.{c} = f.{c}" for c in _KEY)
_BINDING_UPDATE = (f"UPDATE bindings SET {', '.join(f'{c} = f.{c}' for c in _REST)} FROM fill_bindings AS f "
                   f"WHERE {_ON} AND ({', '.join(f'bindings.{c}' for c in _REST)}) IS NOT "
                   f"({', '.join(f'f.{c}' for c in _REST)})")
_BINDING_INSERT = (f"INSERT INTO bindings ({', '.join(_B)}) SELECT {', '.join(f'f.{c}' for c in _B)} "
                   f"FROM fill_bindings AS f WHERE NOT EXISTS (SELECT 1 FROM bindings WHERE {_ON}) "
                   "ORDER BY f.rowid")
_R = CacheRows.REGION
_REGIONS = (f"INSERT INTO regions ({', '.join(_R)}) VALUES (?, ?, ?, ?) ON CONFLICT (admdvs) "
            "DO UPDATE SET name = excluded.name, province = excluded.province, "
            "cross_province = excluded.cross_province")


def filled_from(db: sqlite_utils.Database, sha256: str) -> bool:
    return db.execute("SELECT 1 FROM imports WHERE sha256 = ?", [sha256]).fetchone() is not None


def fill(db: sqlite_utils.Database, rows: CacheRows, *, file: str, sha256: str, lines: int, operator: str | None,
         window: str | None) -> dict[str, int]:
    """Write the centre's rows over the cache in one transaction; the counts written, by kind."""
    conn = db.conn
    counts = {"person": len(rows.persons), "account": len(rows.accounts), "binding": len(rows.bindings),
              "region": len(rows.regions)}
    old_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while filling: the index pages stay in memory
    try:
        _write(db, rows, counts, file=file, sha256=sha256, lines=lines, operator=operator, window=window)
    finally:
        conn.execute(f"PRAGMA cache_size = {int(old_cache)}")
    return counts


def _write(db: sqlite_utils.Database, rows: CacheRows, counts: dict[str, int], *, file: str, sha256: str,
           lines: int, operator: str | None, window: str | None) -> None:
    conn = db.conn
    with write_transaction(db):
        card = _P.index("card_no")
        # a card the centre now gives to someone else is no longer the cached holder's
        conn.executemany("UPDATE persons SET card_no = NULL WHERE card_no = ? AND psn_no != ?",
                         [(p[card], p[0]) for p in rows.persons if p[card]])
        conn.executemany(_REGIONS, rows.regions)
        conn.executemany(_PERSONS, rows.persons)
        conn.executemany(_ACCOUNTS, rows.accounts)
        conn.execute(_STAGE[0])
        try:
            conn.executemany(_STAGE[1], rows.bindings)
            conn.execute(_STAGE[2])
            conn.execute(_BINDING_UPDATE)     # ended first: the one-active-binding-per-pair index holds
            conn.execute(_BINDING_INSERT)
        finally:
            conn.execute("DROP TABLE temp.fill_bindings")
        detail = {"file": file, "sha256": sha256, "lines": lines, "cache": counts}
        add_audit(db, operator=operator, window=window, action="import", subject=f"import:{sha256[:16]}",
                  detail=detail)
        conn.execute("INSERT INTO imports (sha256, file, lines, at, changes, summary) VALUES (?, ?, ?, ?, ?, ?)",
                     [sha256, file, lines, now_iso(), sum(counts.values()), json.dumps(detail, sort_keys=True)])

