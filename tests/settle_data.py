"""A small family for settlement tests, inserted straight into the people tables (the cast of TEAM.md).

Bindings: 张伟 -> 张小雨 (local), 李娜 -> 张小雨 (local), 张伟 -> 张国强 (local),
张伟 -> 张敏 (cross-province quota 300.00). 赵兰's insurance is suspended.

The data obeys the mutual-aid rules the family lookup re-checks (mutual_aid.payable_problem): each person's
sex is the one their ID number says (17th digit odd = male), a relation agrees with it (30 daughter is
female), a local binding stays within a province, and a cross-province one begins on or after the
cross-province start date (2026-01-09) between two pooling areas where it is open.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

PEOPLE = [  # psn_no, certno, name, card_no, admdvs, insutype, stas, balc (None = no account)
    ("P10000001", "410102197805126716", "张伟", "A10000001", "410100", "310", "1", 200000),
    ("P10000002", "41010519800923682X", "李娜", "A10000002", "410100", "310", "1", 5000),
    ("P10000003", "410105201206016927", "张小雨", "A10000003", "410100", "390", "1", None),
    ("P10000004", "411602195002177017", "张国强", "A10000004", "411600", "390", "1", None),
    ("P20000005", "410102198311307028", "张敏", "B20000005", "510100", "390", "1", None),
    ("P30000006", "320502198504087121", "王芳", "C30000006", "320500", "310", "1", 80000),
    ("P40000008", "110105197507077213", "刘洋", "D40000008", "110100", "310", "1", 80000),
    ("P40000009", "110105195212257322", "赵兰", "D40000009", "110100", "390", "2", None),
]
BINDINGS = [  # id, owner, user, relation, scope, quota
    (1, "P10000001", "P10000003", "30", "local", 0),
    (2, "P10000002", "P10000003", "30", "local", 0),
    (3, "P10000001", "P10000004", "51", "local", 0),
    (4, "P10000001", "P20000005", "70", "cross_province", 30000),
]
BEGIN_LOCAL = "2025-01-01"
BEGIN_CROSS_PROVINCE = "2026-01-09"     # the first day cross-province mutual aid is in force


def gend_of(certno: str) -> str:
    """The sex an ID number records: 17th digit odd = '1' (male), even = '2' (female)."""
    return "1" if int(certno[16]) % 2 else "2"



def seed(db) -> None:
    """Insert the family (one transaction), each balance and quota its opening (as an import records it;
    a database from before the openings step gets them when it migrates)."""
    conn = db.conn
    books = "opening" in [r[1] for r in conn.execute("PRAGMA table_info(accounts)")]
    conn.execute("BEGIN")
    for psn_no, certno, name, card_no, admdvs, insutype, stas, balc in PEOPLE:
        conn.execute("INSERT INTO persons (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, "
                     "insuplc_admdvs, insutype, psn_insu_stas) VALUES (?, ?, ?, ?, '01', ?, ?, '', ?, ?, ?)",
                     [psn_no, certno, name, gend_of(certno), f"{certno[6:10]}-{certno[10:12]}-{certno[12:14]}", card_no, admdvs,
                      insutype, stas])
        if balc is not None:
            conn.execute("INSERT INTO accounts (psn_no, balc, year) VALUES (?1, ?2, 2026)", [psn_no, balc])
    for region, name, cross in (("410100", "郑州市", 1), ("411600", "周口市", 0), ("510100", "成都市", 1),
                                ("320500", "苏州市", 1), ("110100", "北京市", 0)):
        conn.execute("INSERT INTO regions (admdvs, name, province, cross_province) VALUES (?, ?, '', ?)",
                     [region, name, cross])
    for bid, owner, user, rel, scope, quota in BINDINGS:
        conn.execute("INSERT INTO bindings (id, owner_psn_no, user_psn_no, relation, scope, quota, begin_date, "
                     "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active')",
                     [bid, owner, user, rel, scope, quota,
                      BEGIN_CROSS_PROVINCE if scope == "cross_province" else BEGIN_LOCAL])
    if books:
        conn.execute("UPDATE accounts SET opening = balc")
        conn.execute("UPDATE bindings SET opening = quota")
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
    """A bill file; a qty given as text ("2.5") is written as the JSON number 2.5, exactly as typed."""
    text = json.dumps({"med_type": med_type, "items": [
        {"code": f"X{i:03d}", "name": "阿莫西林胶囊", "category": "drug", "class": c, "qty": q, "price": p}
        for i, (c, q, p) in enumerate(items, 1)]}, ensure_ascii=False)
    path.write_text(re.sub(r'"qty": "([0-9]+(?:\.[0-9]+)?)"', r'"qty": \1', text), encoding="utf-8")
    return path


# ---- contention: few owners, many users, every patient drawing on the same balances and quotas
CONTENTION_OWNERS = [("O1", 400000), ("O2", 200000), ("O3", 100000)]    # 310 with accounts; they settle too
CONTENTION_USERS = [f"U{i}" for i in range(1, 9)]                     # 390, no account of their own
CONTENTION_QUOTA = 30000                                             # O3 -> U1..U4 cross-province
CONTENTION_AREAS = {"O3": "510100"}     # O3 is insured in Chengdu (Sichuan), everyone else in Zhengzhou (Henan)


def contention_patients() -> list[tuple[str, list[str]]]:
    """(patient psn_no, owners bound to them in binding order)."""
    users = [(u, ["O1", "O2"] + (["O3"] if int(u[1:]) <= 4 else [])) for u in CONTENTION_USERS]
    return users + [(o, []) for o, _ in CONTENTION_OWNERS]


def seed_contention(db) -> None:
    """Owners are men (gend 1), users their daughters (relation 30, gend 2): the sequence number in the
    ID number is odd for a man, even for a woman. O3 -> U1..U4 crosses from Sichuan to Henan, both open."""
    from drivers.certno import check_digit
    conn = db.conn
    conn.execute("BEGIN")
    conn.execute("INSERT INTO regions (admdvs, name, province, cross_province) VALUES ('410100', '郑州市', '河南省', 1)")
    conn.execute("INSERT INTO regions (admdvs, name, province, cross_province) VALUES ('510100', '成都市', '四川省', 1)")
    people = [(o, "310", "1") for o, _ in CONTENTION_OWNERS] + [(u, "390", "2") for u in CONTENTION_USERS]
    for n, (psn_no, insutype, gend) in enumerate(people, 1):
        first17 = f"41010219800101{2 * n + (gend == '1'):03d}"
        conn.execute("INSERT INTO persons (psn_no, certno, psn_name, gend, card_no, insuplc_admdvs, insutype, "
                     "psn_insu_stas) VALUES (?, ?, ?, ?, ?, ?, ?, '1')",
                     [psn_no, first17 + check_digit(first17), f"测试{psn_no}", gend, f"T{n:08d}",
                      CONTENTION_AREAS.get(psn_no, "410100"), insutype])
    for psn_no, balc in CONTENTION_OWNERS:
        conn.execute("INSERT INTO accounts (psn_no, balc, year, opening) VALUES (?1, ?2, 2026, ?2)", [psn_no, balc])
    for user, owners in contention_patients():
        for owner in owners:
            scope, quota, begin = (("cross_province", CONTENTION_QUOTA, BEGIN_CROSS_PROVINCE) if owner == "O3"
                                   else ("local", 0, BEGIN_LOCAL))
            conn.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, opening) "
                         "VALUES (?1, ?2, '30', ?3, ?4, ?5, ?4)", [owner, user, scope, quota, begin])
    conn.execute("COMMIT")


def check_money_invariants(db, start: dict[str, int]) -> dict[str, int]:
    """Every balance and quota = its start minus its ledger entries, none negative; every settlement's
    entries add up to its total; accumulators equal the sums of the settlements. Returns counts."""
    now = balances(db)
    for key, value in now.items():
        assert value >= 0, f"{key} overdrawn: {value}"
        if key.startswith("q"):
            spent = db.execute("SELECT coalesce(sum(amount), 0) FROM ledger WHERE source = 'quota' AND binding_id = ?",
                               [int(key[1:])]).fetchone()[0]
        else:
            spent = db.execute("SELECT coalesce(sum(amount), 0) FROM ledger WHERE source = 'balc' AND psn_no = ?",
                               [key]).fetchone()[0]
        assert value == start[key] - spent, f"{key}: {value} != {start[key]} - {spent}"
    bad = db.execute("SELECT s.setl_id, s.medfee_sumamt, sum(l.amount) FROM settlements s LEFT JOIN ledger l "
                     "ON l.setl_id = s.setl_id GROUP BY s.setl_id HAVING sum(l.amount) IS NOT s.medfee_sumamt").fetchall()
    assert bad == [], f"settlements whose entries do not add up: {bad[:5]}"
    acc = db.execute("SELECT a.psn_no, a.deductible_used, a.fund_paid, coalesce(sum(s.act_pay_dedc), 0), "
                     "coalesce(sum(s.fund_pay_sumamt), 0) FROM accumulators a LEFT JOIN settlements s "
                     "ON s.psn_no = a.psn_no AND substr(s.setl_date, 1, 4) = CAST(a.year AS TEXT) "
                     "GROUP BY a.psn_no, a.year").fetchall()
    for psn_no, dedc, fund, sum_dedc, sum_fund in acc:
        assert (dedc, fund) == (sum_dedc, sum_fund), f"accumulators of {psn_no}"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return {"settlements": db.execute("SELECT count(*) FROM settlements").fetchone()[0],
            "mulaid": db.execute("SELECT count(*) FROM ledger WHERE account = 'binding'").fetchone()[0]}
