"""The slip names each item's class as the centre charged it (its 2204 answer, chrgitm_lv), not as the cashier
typed it: a patient reading 甲类 next to a fully self-paid amount would rightly dispute it.

Real parts: `cashier settle` and `cashier slip` as subprocesses on real SQLite files, through the embedded centre
with the demo catalogue (X003 is class C there, 03).
"""

from __future__ import annotations

import json
from pathlib import Path

from window_centre_support import make_window

# X003 typed as class A at the window; the centre's catalogue has it as class C: round(0.333 × 333) = 111 fen, all
# of it self-paid in full (全自费).
MISCLASSED_BILL = {"med_type": "11", "items": [
    {"code": "T001", "name": "普通门诊诊查费", "category": "service", "class": "A", "qty": 1, "price": 1000},
    {"code": "X003", "name": "维生素E", "category": "drug", "class": "A", "qty": 0.333, "price": 333}]}


def test_the_slip_shows_the_class_the_centre_charged_and_a_reprint_says_the_same(tmp_path: Path) -> None:
    window = make_window(tmp_path / "w")
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(MISCLASSED_BILL, ensure_ascii=False), encoding="utf-8")
    done = window.settle("zhang_wei", bill=bill)
    assert done["fulamt_ownpay_amt_fen"] == 111              # the centre charged X003 as class C
    slip = Path(done["slip"]).read_text(encoding="utf-8")
    assert " 2. [C] X003 维生素E\n" in slip, slip
    assert "[A] X003" not in slip
    assert " 1. [A] T001 普通门诊诊查费\n" in slip               # the same class where the cashier had it right
    assert "全自费金额 fulamt_ownpay_amt" in slip and "1.11\n" in slip
    # the reprint reads what the window recorded: the same class
    again = window.json("slip", done["setlinfo"]["setl_id"])
    assert " 2. [C] X003 维生素E\n" in again["slip"] and "[A] X003" not in again["slip"]


def test_a_slip_recorded_before_keeps_printing(tmp_path: Path) -> None:
    """A settlement recorded with the cashier's classes only (as the window kept them before) reprints as it was."""
    window = make_window(tmp_path / "w")
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(MISCLASSED_BILL, ensure_ascii=False), encoding="utf-8")
    done = window.settle("zhang_wei", bill=bill)
    setl_id = done["setlinfo"]["setl_id"]
    with window.db() as db:         # the row as an older window wrote it: the bill as typed
        changed = db.execute("UPDATE window_settlements SET bill = ? WHERE setl_id = ?",
                             (json.dumps(MISCLASSED_BILL, ensure_ascii=False), setl_id)).rowcount
    assert changed == 1
    again = window.json("slip", setl_id)
    assert " 2. [A] X003 维生素E\n" in again["slip"] and "1.11" in again["slip"]
