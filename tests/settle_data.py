"""A small family for settlement tests (the centre's export lines are made from it: tests/centre_flow.py).

Bindings: 张伟 -> 张小雨 (local), 李娜 -> 张小雨 (local), 张伟 -> 张国强 (local),
张伟 -> 张敏 (cross-province quota 300.00). 赵兰's insurance is suspended.

The data obeys the centre's mutual-aid rules: each person's
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


