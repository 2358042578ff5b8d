"""A small family for settlement tests, inserted straight into the people tables (the cast of TEAM.md).

Bindings: 张伟 -> 张小雨 (local), 李娜 -> 张小雨 (local), 张伟 -> 张国强 (local),
张伟 -> 张敏 (cross-province quota 300.00). 赵兰's insurance is suspended.
"""

from __future__ import annotations

import json
from pathlib import Path

PEOPLE = [  # psn_no, certno, name, card_no, admdvs, insutype, stas, balc (None = no account)
    ("P10000001", "410102197805126716", "张伟", "A10000001", "410100", "310", "1", 200000),
    ("P10000002", "41010519800923682X", "李娜", "A10000002", "410100", "310", "1", 5000),
    ("P10000003", "410105201206016927", "张小雨", "A10000003", "410100", "390", "1", None),
    ("P10000004", "411602195002177017", "张国强", "A10000004", "411600", "390", "1", None),
    ("P20000005", "410102198311307028", "张敏", "B20000005", "510100", "390", "1", None),
    ("P40000008", "110105197507077213", "刘洋", "D40000008", "110100", "310", "1", 80000),
    ("P40000009", "110105195212257322", "赵兰", "D40000009", "110100", "390", "2", None),
]
BINDINGS = [  # id, owner, user, relation, scope, quota
    (1, "P10000001", "P10000003", "30", "local", 0),
    (2, "P10000002", "P10000003", "30", "local", 0),
    (3, "P10000001", "P10000004", "51", "local", 0),
    (4, "P10000001", "P20000005", "70", "cross_province", 30000),
]


def seed(db) -> None:
    """Insert the family (one transaction)."""
    conn = db.conn
    conn.execute("BEGIN")
    for psn_no, certno, name, card_no, admdvs, insutype, stas, balc in PEOPLE:
        conn.execute("INSERT INTO persons (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, "
                     "insuplc_admdvs, insutype, psn_insu_stas) VALUES (?, ?, ?, '1', '01', ?, ?, '', ?, ?, ?)",
                     [psn_no, certno, name, f"{certno[6:10]}-{certno[10:12]}-{certno[12:14]}", card_no, admdvs,
                      insutype, stas])
        if balc is not None:
            conn.execute("INSERT INTO accounts (psn_no, balc, year) VALUES (?, ?, 2026)", [psn_no, balc])
    for region, name, cross in (("410100", "郑州市", 1), ("411600", "周口市", 0), ("510100", "成都市", 1),
                                ("110100", "北京市", 0)):
        conn.execute("INSERT INTO regions (admdvs, name, province, cross_province) VALUES (?, ?, '', ?)",
                     [region, name, cross])
    for bid, owner, user, rel, scope, quota in BINDINGS:
        conn.execute("INSERT INTO bindings (id, owner_psn_no, user_psn_no, relation, scope, quota, begin_date, "
                     "status) VALUES (?, ?, ?, ?, ?, ?, '2025-01-01', 'active')", [bid, owner, user, rel, scope, quota])
    conn.execute("COMMIT")


def balances(db) -> dict[str, int]:
    """Every account balance and every binding quota: {psn_no: balc, 'q<id>': quota}."""
    out = dict(db.execute("SELECT psn_no, balc FROM accounts").fetchall())
    out.update({f"q{i}": q for i, q in db.execute("SELECT id, quota FROM bindings").fetchall()})
    return out


def counts(db) -> dict[str, int]:
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("settlements", "ledger", "accumulators")}


def write_bill(path: Path, med_type: str = "11", items: list[tuple] = (("A", 2, 1250),)) -> Path:
    path.write_text(json.dumps({"med_type": med_type, "items": [
        {"code": f"X{i:03d}", "name": "阿莫西林胶囊", "category": "drug", "class": c, "qty": q, "price": p}
        for i, (c, q, p) in enumerate(items, 1)]}, ensure_ascii=False), encoding="utf-8")
    return path
