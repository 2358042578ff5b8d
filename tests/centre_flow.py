"""An outpatient visit as an HIS sends it, amounts written in yuan as the platform has them (Decimal), over any
transport `call(dict) -> dict`: 2201 register, 2204 upload, 2206 pre-settle, 2207 settle — and the small
readers of the centre's store that tests check money with."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator

from centre_http_support import CATALOGUE, open_transport
from centre_support import Client, demo_lines
from settle_data import BEGIN_CROSS_PROVINCE, BEGIN_LOCAL, BINDINGS, PEOPLE, gend_of

D = Decimal
CARDS = {  # the demo export's cards: psn_no -> (card_no, card_sn)
    d["psn_no"]: (d["card_no"], d["card_sn"]) for d in demo_lines() if d["kind"] == "person"}


def demo_with_catalogue() -> list[dict[str, Any]]:
    return demo_lines() + CATALOGUE


def yuan(cnt: str, pric: str) -> Decimal:
    """det_item_fee_sumamt: cnt × pric rounded half-up to the fen (what the HIS must send)."""
    return (D(cnt) * D(pric)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


_SEQUENCE = itertools.count(1)     # shared by every client of a test run: their msgids never collide


class His(Client):
    """centre_support.Client with the visit steps spelled out (items are (code, cnt, pric) in yuan)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.seq = _SEQUENCE

    def now_text(self) -> str:
        return self.now().strftime("%Y-%m-%d %H:%M:%S")

    def identify(self, psn_no: str) -> dict[str, Any]:
        card_no, card_sn = CARDS[psn_no]
        return self.person_by_card(card_no, card_sn)

    def card_of(self, psn_no: str) -> str:
        """The person's card number (the centre refuses a visit with anyone else's): the demo's, else the centre's."""
        if psn_no in CARDS:
            return CARDS[psn_no][0]
        return self.ok("X105", {"data": {"psn_no": psn_no}})["ext_card_no"] or ""

    def register(self, psn_no: str, insutype: str) -> str:
        out = self.ok("2201", {"data": {"psn_no": psn_no, "insutype": insutype, "begntime": self.now_text(),
                                        "mdtrt_cert_type": "03", "mdtrt_cert_no": self.card_of(psn_no),
                                        "ipt_otp_no": f"MZ{next(self.seq):06d}", "dept_code": "A03",
                                        "dept_name": "内科", "atddr_no": "D001", "dr_name": "王医生"}})
        return out["data"]["mdtrt_id"]

    def upload(self, mdtrt_id: str, psn_no: str, items: list[tuple[str, str, str]], batch: str = "B1") -> list[dict]:
        details = [{"feedetl_sn": f"{batch}-{i:03d}", "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": batch,
                    "fee_ocur_time": self.now_text(), "med_list_codg": code, "medins_list_codg": f"H-{code}",
                    "det_item_fee_sumamt": yuan(cnt, pric), "cnt": D(cnt), "pric": D(pric),
                    "bilg_dept_codg": "A03", "bilg_dr_codg": "D001"}
                   for i, (code, cnt, pric) in enumerate(items, 1)]
        return self.ok("2204", {"feedetail": details})["result"]

    def settle_data(self, mdtrt_id: str, psn_no: str, insutype: str, total: Decimal, *, med_type: str = "11",
                    acct: str = "1", owners: list[str] | None = None, batch: str = "B1") -> dict[str, Any]:
        data: dict[str, Any] = {"psn_no": psn_no, "mdtrt_cert_type": "03", "mdtrt_cert_no": self.card_of(psn_no),
                                "med_type": med_type, "medfee_sumamt": total, "psn_setlway": "01",
                                "mdtrt_id": mdtrt_id, "chrg_bchno": batch, "insutype": insutype,
                                "acct_used_flag": acct}
        if owners is not None:
            data["ext_mulaid_owners"] = owners
        return data

    def visit(self, psn_no: str, insutype: str, items: list[tuple[str, str, str]], *, settle: bool = True,
              **options: Any) -> dict[str, Any]:
        """1101 (for insuplc_admdvs) → 2201 → 2204 → 2206 (→ 2207); the last setlinfo."""
        self.identify(psn_no)
        mdtrt_id = self.register(psn_no, insutype)
        result = self.upload(mdtrt_id, psn_no, items)
        data = self.settle_data(mdtrt_id, psn_no, insutype, sum(D(r["det_item_fee_sumamt"]) for r in result),
                                **options)
        pre = self.ok("2206", {"data": data})["setlinfo"]
        if not settle:
            return pre
        return self.ok("2207", {"data": self.with_presettle(data, pre)})["setlinfo"]

    @staticmethod
    def with_presettle(data: dict[str, Any], pre: dict[str, Any]) -> dict[str, Any]:
        return {**data, "invono": "", **{k: pre[k] for k in ("fulamt_ownpay_amt", "overlmt_selfpay",
                                                              "preselfpay_amt", "inscp_scp_amt")}}


def his(call: Any, **kw: Any) -> His:
    h = His(call, **kw)
    h.sign_in()
    return h


def money_of(db: Any) -> dict[str, int]:
    """Every account balance and binding quota, in fen: {psn_no: balc, 'q<id>': quota}."""
    out = {r[0]: int(r[1]) for r in db.all("SELECT psn_no, balc FROM accounts")}
    out.update({f"q{r[0]}": int(r[1]) for r in db.all("SELECT id, quota FROM bindings")})
    return out


def counts_of(db: Any) -> dict[str, int]:
    return {t: int(db.one(f"SELECT count(*) FROM {t}")[0]) for t in ("settlements", "ledger", "accumulators")}


def family_lines() -> list[dict[str, Any]]:
    """settle_data's family (balances 张伟 2000.00, 李娜 50.00, 王芳 800.00, 刘洋 800.00; 张伟 -> 张敏 quota 300.00)."""
    lines: list[dict[str, Any]] = [
        {"kind": "region", "admdvs": a, "name": n, "province": p, "cross_province": x}
        for a, n, p, x in (("410100", "郑州市", "河南省", True), ("411600", "周口市", "河南省", False),
                           ("510100", "成都市", "四川省", True), ("320500", "苏州市", "江苏省", True),
                           ("110100", "北京市", "北京市", False))]
    for psn_no, certno, name, card_no, admdvs, insutype, stas, balc in PEOPLE:
        lines.append({"kind": "person", "psn_no": psn_no, "certno": certno, "psn_name": name, "gend": gend_of(certno),
                      "naty": "01", "brdy": f"{certno[6:10]}-{certno[10:12]}-{certno[12:14]}", "card_no": card_no,
                      "card_sn": f"{admdvs}D156000005C38275EEFC9B{psn_no[-4:]}", "insuplc_admdvs": admdvs,
                      "insutype": insutype, "psn_insu_stas": stas})
        if balc is not None:
            lines.append({"kind": "account", "psn_no": psn_no, "balc": balc, "year": 2026})
    for _bid, owner, user, rel, scope, quota in BINDINGS:
        lines.append({"kind": "binding", "owner_psn_no": owner, "user_psn_no": user, "relation": rel, "scope": scope,
                      "quota": quota, "begin_date": BEGIN_CROSS_PROVINCE if scope == "cross_province" else BEGIN_LOCAL})
    return lines + CATALOGUE


def refusing_centre(request: Any, tmp_path_factory: Any, name: str) -> Iterator[Any]:
    """One centre (the demo export and a small catalogue) over the transport `request.param` names, for a module's
    tests that only need it to refuse (each checks that nothing changed); a served one's log is checked for
    tracebacks when the module is done."""
    import tomllib

    from centre_support import ROOT
    from pg_stack import Databases, split_transport
    folder = tmp_path_factory.mktemp(name)
    config = folder / "config.toml"
    config.write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    transport, store = split_transport(request.param)
    databases = Databases(request, store, folder)
    t = open_transport(transport, config, tomllib.loads(config.read_text(encoding="utf-8")),
                       databases.new(), demo_with_catalogue())
    yield t
    t.close()
    databases.close()
    if t.server is not None:
        assert "Traceback" not in t.server.stderr() and "centre_internal" not in t.server.stderr()
