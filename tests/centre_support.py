"""Helpers for the centre's tests: export lines loaded through the centre's importer, and a small client written
from the interface alone (envelopes, msgids, sign-in), over any transport `call(dict) -> dict`."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
DEMO_EXPORT = ROOT / "terminal" / "data" / "demo_export.jsonl"
# the catalogue of every item code the demo bills and the tests' bills use, and the demo hospital (level 3)
DEMO_CATALOGUE = ROOT / "centre" / "data" / "demo_catalogue.jsonl"
HOSPITAL = "H41010000001"


def load_lines(db: Any, lines: list[dict[str, Any]]) -> Any:
    """Load export lines through the centre's importer (every line validated, as `cashier centre import`
    does): the import report; a refused line fails the test with its message."""
    import tempfile

    from centre.importer import import_file
    with tempfile.TemporaryDirectory(prefix="centre-lines-") as folder:
        path = Path(folder) / "export.jsonl"
        from centre.interface import jsonio   # a Decimal (a price limit in yuan) stays a JSON number
        path.write_text("".join(jsonio.dumps(d) + "\n" for d in lines), encoding="utf-8")
        report = import_file(db, path)
    assert report.imported, [str(e) for e in report.errors]
    return report


def demo_lines() -> list[dict[str, Any]]:
    """The demo export's lines and the demo catalogue's."""
    return [json.loads(line) for path in (DEMO_EXPORT, DEMO_CATALOGUE)
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Client:
    """An HIS as the interface describes it: one envelope per call, a new msgid each time."""

    def __init__(self, call: Callable[[dict[str, Any]], dict[str, Any]], *, hospital: str = HOSPITAL,
                 area: str = "410100", now: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.send = call
        self.hospital = hospital
        self.area = area
        self.now = now
        self.seq = itertools.count(1)
        self.sign_no = ""
        self.insuplc = ""

    def msgid(self) -> str:
        return f"{self.hospital}{self.now().strftime('%Y%m%d%H%M%S')}{next(self.seq) % 10000:04d}"

    def envelope(self, infno: str, inp: dict[str, Any], msgid: str | None = None) -> dict[str, Any]:
        return {"infno": infno, "msgid": msgid or self.msgid(), "mdtrtarea_admvs": self.area,
                "insuplc_admdvs": self.insuplc, "recer_sys_code": "YBXT", "dev_no": "", "dev_safe_info": "",
                "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": "1", "opter": "cashier01",
                "opter_name": "收费员", "inf_time": self.now().strftime("%Y-%m-%d %H:%M:%S"),
                "fixmedins_code": self.hospital, "fixmedins_name": "测试医院", "sign_no": self.sign_no, "input": inp}

    def call(self, infno: str, inp: dict[str, Any], msgid: str | None = None) -> dict[str, Any]:
        return self.send(self.envelope(infno, inp, msgid))

    def ok(self, infno: str, inp: dict[str, Any]) -> dict[str, Any]:
        answer = self.call(infno, inp)
        assert answer["infcode"] == 0, (infno, answer.get("err_msg"), answer.get("ext_err_msg_en"))
        return answer["output"]

    def sign_in(self) -> str:
        out = self.ok("9001", {"signIn": {"opter_no": "cashier01", "mac": "", "ip": "127.0.0.1"}})
        self.sign_no = out["signinoutb"]["sign_no"]
        return self.sign_no

    def person_by_card(self, card_no: str, card_sn: str) -> dict[str, Any]:
        out = self.ok("1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": card_no, "card_sn": card_sn}})
        self.insuplc = out["insuinfo"][0]["insuplc_admdvs"]
        return out

    def outpatient(self, psn_no: str, insutype: str, items: list[dict[str, Any]], *, med_type: str = "11",
                   card_no: str = "", acct: str = "1", owners: list[str] | None = None,
                   settle: bool = True) -> dict[str, Any]:
        """2201 → 2204 → 2206 (→ 2207): items are {code, name, qty, price_fen, class}."""
        mdtrt_id = self.ok("2201", {"data": {"psn_no": psn_no, "insutype": insutype, "begntime": _t(self.now()),
                                             "mdtrt_cert_type": "03", "mdtrt_cert_no": card_no,
                                             "ipt_otp_no": f"OP{next(self.seq)}"}})["data"]["mdtrt_id"]
        details = []
        for i, it in enumerate(items, 1):
            pric = Decimal(it["price_fen"]) / 100
            amount = (Decimal(str(it["qty"])) * it["price_fen"]).quantize(Decimal(1), rounding="ROUND_HALF_UP") / 100
            details.append({"feedetl_sn": f"F{i:04d}", "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": "B1",
                            "fee_ocur_time": _t(self.now()), "med_list_codg": it["code"],
                            "medins_list_codg": it["code"], "det_item_fee_sumamt": amount,
                            "cnt": Decimal(str(it["qty"])), "pric": pric,
                            "ext_chrgitm_lv": {"A": "01", "B": "02", "C": "03"}[it["class"]]})
        fees = self.ok("2204", {"feedetail": details})
        total = sum(Decimal(str(r["det_item_fee_sumamt"])) for r in fees["result"])
        data = {"psn_no": psn_no, "mdtrt_cert_type": "03", "mdtrt_cert_no": card_no, "med_type": med_type,
                "medfee_sumamt": total, "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": "B1",
                "insutype": insutype, "acct_used_flag": acct}
        if owners is not None:
            data["ext_mulaid_owners"] = owners
        pre = self.ok("2206", {"data": data})
        if not settle:
            return pre
        s = pre["setlinfo"]
        return self.ok("2207", {"data": {**data, "fulamt_ownpay_amt": s["fulamt_ownpay_amt"],
                                         "overlmt_selfpay": s["overlmt_selfpay"], "preselfpay_amt": s["preselfpay_amt"],
                                         "inscp_scp_amt": s["inscp_scp_amt"]}})


def _t(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")
