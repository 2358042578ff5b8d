"""F7 on the bill screen (医疗类别) after a line is on the bill, driven with Pilot on the embedded centre: the visit
the first line registered as 11 is withdrawn and registered anew as 14, so the estimate is 14's split, no
transaction-number message reaches the cashier, and the payment is settled as 14."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from test_ui_centre import _cfg
from ui_pilot import enter_bill, insert, press, screen_text, type_text, window

CONSULTATION = ("T001", "诊查费", "A", "1", "100")     # ¥100.00, class A


def _value(app, name: str) -> str:
    return str(app.screen.query_one(f"#v-{name}").render())


async def test_f7_after_the_first_line_changes_the_visit_type_and_settles_as_it(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_guoqiang")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [CONSULTATION])
        # 390 resident, 11: no deductible, the fund pays half
        assert (_value(app, "medfee_sumamt"), _value(app, "fund_pay_sumamt")) == ("¥100.00", "¥50.00"), \
            screen_text(app)
        await press(app, pilot, "f7")
        text = screen_text(app)
        assert "14 门诊慢特病" in text
        # 14: ¥600.00 deductible each visit, not met: the fund pays nothing, the split is shown all the same
        assert (_value(app, "medfee_sumamt"), _value(app, "fund_pay_sumamt")) == ("¥100.00", "¥0.00"), text
        assert "不符" not in text and "2203" not in text
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen", screen_text(app)
        assert "¥100.00" in screen_text(app)
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
    with closing(sqlite3.connect(cfg.resolve(cfg.centre.db))) as db:
        assert db.execute("SELECT med_type, medfee_sumamt, fund_pay_sumamt FROM settlements").fetchall() == \
            [("14", 10000, 0)]
        assert db.execute("SELECT med_type, status FROM visits WHERE psn_no = 'P10000004' ORDER BY created_at, rowid"
                          ).fetchall() == [("11", "cancelled"), ("14", "registered")]
