"""One cashier window of the busy morning (test_centre_morning.py), in its own process, over HTTP.

Usage: python centre_morning_window.py URL INDEX SECONDS SEED

The window is its own hospital's HIS (hospital code H41010000NNN, so its day-end 3201 is its own): until the
time is up it runs whole outpatient visits for the family (the father pays for his relatives from his
account) — 1101 by card, 2201, 2203, 2204, 2206, 2207 — and keeps its own log, as an HIS does:

- a 2207 answered: `ack <msgid> <setl_id> <psn_no> <mdtrt_id> <medfee> <fund> <acct> <insutype> <clr_type>`;
- a 2207 with no answer (the worker was killed, or the answer was lost on purpose): `lost <msgid>`, then 2601
  for it, sent again until the centre answers: `revoked <msgid> <took_effect 0|1> <setl_id or ->`; only then
  the visit is settled again (a new 2206 and 2207);
- a 2207 refused: `refused <msgid> <code>`; a step before it that failed: the visit is abandoned (`dropped`);
- at the end, for each insurance type: 3201 with its own totals: `3201 <insutype> <clr_type> <stmt_rslt> <cnt>`,
  then `done`. Every line is flushed as it happens.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from centre_flow import D, His
from centre_http_support import HttpCaller
from settle_data import PEOPLE

from centre.api import AnswerLost, CentreDown

FAMILY = ("P10000001", "P10000003", "P10000004", "P20000005")   # the father and the relatives he pays for
CARDS = {p[0]: (p[3], f"{p[4]}D156000005C38275EEFC9B{p[0][-4:]}", p[5]) for p in PEOPLE}
ITEMS = ("XA01", "XA02", "XB01", "XB02", "XC01")
UNSURE = (AnswerLost, CentreDown, OSError)


def say(line: str) -> None:
    print(line, flush=True)


class Window(His):
    def __init__(self, url: str, index: int) -> None:
        super().__init__(HttpCaller(url, timeout=30), hospital=f"H41010000{index:03d}")
        self.seq = itertools.count(1)       # msgids are per hospital: this window's own

    def patiently(self, infno: str, inp: dict[str, Any], deadline: float) -> dict[str, Any]:
        """Send until the centre answers (a new msgid each time): for 9001, 2601 and 3201."""
        while True:
            try:
                answer = self.call(infno, inp)
                if answer["infcode"] == 0 or time.monotonic() > deadline:
                    return answer
            except UNSURE:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)


def visit(w: Window, rng: random.Random, settled: list[dict[str, Any]], stop_at: float) -> None:
    """One outpatient visit; what happened goes to stdout and `settled`."""
    psn_no = rng.choice(FAMILY)
    card_no, card_sn, insutype = CARDS[psn_no]
    try:
        w.person_by_card(card_no, card_sn)
        mdtrt_id = w.register(psn_no, insutype)
        w.ok("2203", {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": "11",
                                    "begntime": w.now_text(), "main_cond_dscr": "", "dise_codg": "J06.900",
                                    "dise_name": "急性上呼吸道感染"}, "diseinfo": []})
        items = [(rng.choice(ITEMS), rng.choice(["1", "2", "0.5"]), f"{rng.randint(300, 6000) / 100:.2f}")
                 for _ in range(rng.randint(1, 3))]
        result = w.upload(mdtrt_id, psn_no, items)
    except (*UNSURE, AssertionError) as exc:
        say(f"dropped {type(exc).__name__}")
        return
    data = w.settle_data(mdtrt_id, psn_no, insutype, sum(D(r["det_item_fee_sumamt"]) for r in result))
    for _attempt in range(3):
        try:
            pre = w.ok("2206", {"data": data})["setlinfo"]
        except (*UNSURE, AssertionError) as exc:
            say(f"dropped {type(exc).__name__}")
            return
        msgid = w.msgid()
        try:
            answer = w.call("2207", {"data": w.with_presettle(data, pre)}, msgid=msgid)
        except UNSURE:
            say(f"lost {msgid}")
            undo = w.patiently("2601", {"data": {"psn_no": psn_no, "omsgid": msgid, "oinfno": "2207"}},
                               stop_at + 60)
            out = undo["output"]["data"]
            say(f"revoked {msgid} {1 if out['ext_took_effect'] else 0} {out.get('ext_setl_id') or '-'}")
            continue                                    # only now may the cashier try again
        if answer["infcode"] != 0:
            say(f"refused {msgid} {answer.get('ext_err_code')}")
            return
        s = answer["output"]["setlinfo"]
        settled.append(s)
        say(f"ack {msgid} {s['setl_id']} {psn_no} {mdtrt_id} {s['medfee_sumamt']} {s['fund_pay_sumamt']} "
            f"{s['acct_pay']} {s['insutype']} {s['clr_type']}")
        return


def reconcile(w: Window, settled: list[dict[str, Any]], deadline: float) -> None:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    days = sorted({s["setl_time"][:10] for s in settled}) or [today]
    for insutype in ("310", "390"):
        mine = [s for s in settled if s["insutype"] == insutype]
        total = {f: sum((Decimal(str(s[f])) for s in mine), Decimal("0.00"))
                 for f in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")}
        answer = w.patiently("3201", {"data": {"insutype": insutype, "clr_type": "11", "setl_optins": "",
                                               "stmt_begndate": days[0], "stmt_enddate": days[-1], **total,
                                               "fixmedins_setl_cnt": len(mine)}}, deadline)
        if answer["infcode"] != 0:
            say(f"3201 {insutype} 11 error {len(mine)} {answer.get('ext_err_code')}")
            continue
        info = answer["output"]["stmtinfo"]
        say(f"3201 {insutype} 11 {info['stmt_rslt']} {len(mine)} {info['stmt_rslt_dscr']}")


def main(url: str, index: int, seconds: float, seed: int) -> int:
    rng = random.Random(seed)
    w = Window(url, index)
    stop_at = time.monotonic() + seconds
    answer = w.patiently("9001", {"signIn": {"opter_no": f"w{index}", "mac": "", "ip": "127.0.0.1"}}, stop_at + 30)
    if answer["infcode"] != 0:
        say(f"unreachable {answer.get('ext_err_code')}")
        return 3
    w.sign_no = answer["output"]["signinoutb"]["sign_no"]
    say("ready")
    settled: list[dict[str, Any]] = []
    while time.monotonic() < stop_at:
        visit(w, rng, settled, stop_at)
    reconcile(w, settled, time.monotonic() + 60)
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])))
