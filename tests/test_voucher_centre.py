"""The centre resolves e-voucher codes (1101 with mdtrt_cert_type 01) and settles with them, in-process and over
HTTP: refused when expired, reused, malformed, forged, made with another key or another person's; the settlement
with a code equal in every amount to the card's for the same person and bill; the ID card (02) without the
personal account unless [centre] id_card_account allows it."""

from __future__ import annotations

import time
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from centre_flow import CARDS, His
from centre_http_support import open_transport, prepare_db
from centre_support import demo_lines

from centre.api import open_centre
from centre.store.money import drifts
from drivers import voucher as v
from emulator.phone import show_code

ZHANG_WEI, LI_NA = "P10000001", "P10000002"
# class A, B and C items of the demo catalogue, past the employee's yearly deductible: fund, account and cash all pay
BILL = [("T001", "1", "25.00"), ("X001", "2", "12.50"), ("D002", "1", "30.00"), ("C001", "1", "8.80"),
        ("L001", "1", "1200.00")]
AMOUNTS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
           "hifp_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "balc",
           "pool_prop_selfpay")


def key_of(config: Path) -> bytes:
    return v.parse_key(tomllib.loads(config.read_text(encoding="utf-8"))["voucher"]["key"])


class Patient(His):
    """An HIS at the window: who is this (by card or e-voucher), then the visit with that credential."""

    def by_voucher(self, code: str, certno: str = "") -> dict[str, Any]:
        data = {"mdtrt_cert_type": "01", "mdtrt_cert_no": code, **({"certno": certno} if certno else {})}
        out = self.ok("1101", {"data": data})
        self.insuplc = out["insuinfo"][0]["insuplc_admdvs"]
        return out

    def refused(self, infno: str, inp: dict[str, Any]) -> tuple[str, str, str]:
        answer = self.call(infno, inp)
        assert answer["infcode"] == -1, answer
        return answer["ext_err_code"], answer["err_msg"], answer["ext_err_msg_en"]

    def voucher_refused(self, code: str, certno: str = "") -> tuple[str, str, str]:
        return self.refused("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": code, "certno": certno}})

    def visit_with(self, cert: tuple[str, str], psn_no: str, *, acct: str = "1", settle: bool = True) -> dict:
        """2201 → 2204 → 2206 (→ 2207) with this credential (mdtrt_cert_type, mdtrt_cert_no) throughout."""
        mdtrt_id = self.ok("2201", {"data": {"psn_no": psn_no, "insutype": "310", "begntime": self.now_text(),
                                             "mdtrt_cert_type": cert[0], "mdtrt_cert_no": cert[1],
                                             "ipt_otp_no": f"MZ{next(self.seq):06d}"}})["data"]["mdtrt_id"]
        result = self.upload(mdtrt_id, psn_no, BILL)
        data = {**self.settle_data(mdtrt_id, psn_no, "310", sum(Decimal(r["det_item_fee_sumamt"]) for r in result),
                                   acct=acct), "mdtrt_cert_type": cert[0], "mdtrt_cert_no": cert[1]}
        pre = self.ok("2206", {"data": data})["setlinfo"]
        if not settle:
            return pre
        return self.ok("2207", {"data": self.with_presettle(data, pre)})["setlinfo"]


@pytest.fixture(params=["inprocess", "http"])
def centre(request, tmp_path, config_file):
    """centre(config=None) -> (patient's HIS, transport) on a fresh centre with the demo people and catalogue."""
    made = []

    def make(config: Path | None = None):
        config = config or config_file
        t = open_transport(request.param, config, tomllib.loads(config.read_text(encoding="utf-8")),
                           tmp_path / f"centre{len(made)}.db", demo_lines())
        made.append(t)
        w = Patient(t.call)
        w.sign_in()
        return w, t
    yield make
    for t in made:
        assert drifts(t.db()) == []
        t.close()
        if t.server is not None:
            assert "Traceback" not in t.server.stderr()


def uses(t: Any) -> int:
    return int(t.db().one("SELECT count(*) FROM voucher_uses")[0])


def test_a_code_resolves_once_then_every_bad_code_is_refused_clearly(centre, config_file):
    w, t = centre()
    key = key_of(config_file)
    code = show_code("zhang_wei", key).code
    out = w.by_voucher(code)
    assert (out["baseinfo"]["psn_no"], out["baseinfo"]["psn_name"]) == (ZHANG_WEI, "张伟")
    assert out["insuinfo"][0]["balc"] == Decimal("3560.00")

    kind, zh, en = w.voucher_refused(code)                                          # reused
    assert kind == "voucher_used" and "已使用过" in zh and "already used" in en and "refresh" in en

    old = show_code("li_na", key, now=time.time() - 600).code                       # expired 7 minutes ago
    kind, zh, en = w.voucher_refused(old)
    assert kind == "voucher_expired" and "已过期" in zh and "expired at" in en

    for bad in ("YBEV:1234", "hello", code[:-1]):                                   # malformed
        kind, zh, en = w.voucher_refused(bad)
        assert kind == "voucher_malformed" and "格式不正确" in zh and "not an e-voucher code" in en

    fresh = show_code("zhang_wei", key).code
    body = bytearray(v.base64.b32decode(fresh[len(v.PREFIX):] + "="))
    body[20] ^= 0x04                                                               # one bit flipped
    forged = v.PREFIX + v.base64.b32encode(bytes(body)).decode().rstrip("=")
    kind, zh, en = w.voucher_refused(forged)
    assert kind == "voucher_forged" and "篡改" in zh and "failed its check" in en

    stranger = show_code("zhang_wei", bytes(32)).code                               # another platform's key
    assert w.voucher_refused(stranger)[0] == "voucher_forged"

    kind, zh, en = w.voucher_refused(fresh, certno="41010519800923682X")           # 张伟's code, 李娜's ID number
    assert kind == "voucher_not_theirs" and "不属于" in zh and "another person" in en
    assert w.by_voucher(fresh, certno="410102197805126716")["baseinfo"]["psn_no"] == ZHANG_WEI   # not spent above

    nobody = v.issue(key, "110101199003074514", issued=int(time.time()), lifetime_s=60)
    assert w.voucher_refused(nobody)[0] == "voucher_person_unknown"
    ahead = v.issue(key, "410102197805126716", issued=int(time.time()) + 600, lifetime_s=60)
    kind, zh, en = w.voucher_refused(ahead)
    assert kind == "voucher_clock" and "clock" in en
    assert uses(t) == 2                                                             # the two codes resolved


def _card_settlement(w: Patient, psn_no: str) -> dict[str, Any]:
    w.identify(psn_no)                                                              # 1101 by card (03)
    return w.visit_with(("03", CARDS[psn_no][0]), psn_no)


def test_an_e_voucher_settles_exactly_as_the_card_does(centre, config_file):
    """The same person and bill on two centres in the same state: once with the card, once with a code."""
    card_w, card_t = centre()
    by_card = _card_settlement(card_w, ZHANG_WEI)
    w, t = centre()
    code = show_code("zhang_wei", key_of(config_file)).code
    w.by_voucher(code)
    by_code = w.visit_with(("01", code), ZHANG_WEI)
    assert {f: by_code[f] for f in AMOUNTS} == {f: by_card[f] for f in AMOUNTS}
    assert by_code["acct_pay"] > 0 and by_code["balc"] == Decimal("3560.00") - by_code["acct_pay"]
    assert (by_card["mdtrt_cert_type"], by_code["mdtrt_cert_type"]) == ("03", "01")
    row = t.db().one("SELECT mdtrt_cert_type, mdtrt_cert_no FROM settlements WHERE setl_id = ?", [by_code["setl_id"]])
    assert tuple(row) == ("01", code)


def test_the_visit_takes_only_a_code_resolved_here_and_of_its_person(centre, config_file):
    w, t = centre()
    key = key_of(config_file)
    unresolved = show_code("zhang_wei", key).code
    w.identify(ZHANG_WEI)
    reg = {"psn_no": ZHANG_WEI, "insutype": "310", "begntime": w.now_text(), "mdtrt_cert_type": "01",
           "ipt_otp_no": "MZ1"}
    kind, zh, en = w.refused("2201", {"data": {**reg, "mdtrt_cert_no": unresolved}})
    assert kind == "voucher_not_resolved" and "1101" in en and "1101" in zh
    li_na = show_code("li_na", key).code
    w.by_voucher(li_na)
    kind, _zh, en = w.refused("2201", {"data": {**reg, "mdtrt_cert_no": li_na}})
    assert kind == "voucher_not_theirs" and ZHANG_WEI in en
    assert t.db().one("SELECT count(*) FROM visits")[0] == 0


def test_the_id_card_pays_without_the_account_unless_allowed(centre, tmp_path, config_file):
    w, _t = centre()
    certno = "410102197805126716"
    w.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
    w.insuplc = "410100"
    pre = w.visit_with(("02", certno), ZHANG_WEI, acct="0", settle=False)
    assert pre["acct_pay"] == 0 and pre["psn_cash_pay"] > 0
    answer = w.call("2206", {"data": {**w.settle_data(pre["mdtrt_id"], ZHANG_WEI, "310", pre["medfee_sumamt"]),
                                      "mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
    assert answer["ext_err_code"] == "id_card_no_account"
    assert "身份证" in answer["err_msg"] and "acct_used_flag must be 0" in answer["ext_err_msg_en"]

    allowed = tmp_path / "allowed.toml"
    allowed.write_text(config_file.read_text(encoding="utf-8").replace("id_card_account = false",
                                                                       "id_card_account = true"), encoding="utf-8")
    w2, _t2 = centre(allowed)
    w2.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})
    w2.insuplc = "410100"
    paid = w2.visit_with(("02", certno), ZHANG_WEI, acct="1")
    assert paid["acct_pay"] > 0 and paid["mdtrt_cert_type"] == "02"


def test_a_centre_without_a_key_refuses_codes_and_time_is_the_centres_clock(tmp_path, config_file):
    """In-process: the centre's own clock decides expiry; with no [voucher] key no code is taken."""
    import datetime as dt
    from zoneinfo import ZoneInfo
    raw = tomllib.loads(config_file.read_text(encoding="utf-8"))
    key = v.parse_key(raw["voucher"]["key"])
    prepare_db(tmp_path / "c.db", demo_lines())
    shown = show_code("zhang_wei", key, lifetime_s=60)
    issued = dt.datetime.fromtimestamp(shown.issued, ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)  # its clock
    clock = {"now": issued + dt.timedelta(seconds=60)}
    centre = open_centre(raw, tmp_path / "c.db", clock=lambda: clock["now"])
    try:
        w = Patient(centre.call, now=lambda: clock["now"])
        w.sign_in()
        assert w.voucher_refused(shown.code)[0] == "voucher_expired"               # its 60th second: gone
        clock["now"] = issued + dt.timedelta(seconds=59)
        assert w.by_voucher(shown.code)["baseinfo"]["psn_no"] == ZHANG_WEI         # its 59th: taken
    finally:
        centre.close()
    raw["voucher"]["key"] = ""
    keyless = open_centre(raw, tmp_path / "c.db")
    try:
        w = Patient(keyless.call)
        w.sign_in()
        kind, zh, en = w.voucher_refused(show_code("li_na", key).code)
        assert kind == "voucher_unsupported" and "[voucher] key" in en and "未配置" in zh
    finally:
        keyless.close()


def test_the_voucher_table_is_typed_and_its_key_never_shown(config_file):
    from centre.api import ConfigProblem, check_settings
    from terminal.config import ConfigError, load_config
    text = config_file.read_text(encoding="utf-8")
    key_hex = tomllib.loads(text)["voucher"]["key"]
    cfg = load_config(config_file)
    assert (cfg.voucher.key, cfg.voucher.lifetime_s, cfg.centre.id_card_account) == (key_hex, 180, False)
    settings = check_settings(tomllib.loads(text))
    assert settings.voucher_key == bytes.fromhex(key_hex) and key_hex.lower() not in repr(settings).lower()
    for old, new, message in ((key_hex, key_hex[:-1], "[voucher] key must be 64 hex digits (32 bytes), or empty (no e-vouchers), "
                               "not (hidden)"),
                              ("lifetime_s = 180", "lifetime_s = 7200", "[voucher] lifetime_s must be from 10 to 3600"),
                              ("id_card_account = false", 'id_card_account = "no"', "[centre] id_card_account must "
                               "be true or false")):
        config_file.write_text(text.replace(old, new), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(config_file)
        assert message in caught.value.message and key_hex[:-1] not in caught.value.message
    raw = tomllib.loads(text)
    raw["voucher"]["key"] = "not hex"
    with pytest.raises(ConfigProblem) as problem:
        check_settings(raw)
    assert "[voucher] key must be 64 hex digits" in str(problem.value)
    raw["voucher"]["key"] = ""
    assert check_settings(raw).voucher_key is None


def test_one_code_shown_at_eight_windows_at_once_is_taken_by_one(tmp_path, config_file):
    """Over HTTP, eight windows send 1101 with the same code at the same moment: one gets the person."""
    from concurrent.futures import ThreadPoolExecutor

    from centre_http_support import HttpCaller
    t = open_transport("http", config_file, tomllib.loads(config_file.read_text(encoding="utf-8")),
                       tmp_path / "c.db", demo_lines())
    try:
        assert t.server is not None
        code = show_code("zhang_wei", key_of(config_file)).code
        windows = []
        for _ in range(8):
            caller = HttpCaller(t.server.url)
            t.closers.append(caller.close)
            w = Patient(caller)
            w.sign_in()
            windows.append(w)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda w: w.call("1101", {"data": {"mdtrt_cert_type": "01",
                                                                        "mdtrt_cert_no": code}}), windows))
        assert sorted(a["infcode"] for a in answers) == [-1] * 7 + [0]
        assert {a.get("ext_err_code") for a in answers if a["infcode"]} == {"voucher_used"}
        assert uses(t) == 1
        assert "Traceback" not in t.server.stderr()
    finally:
        t.close()
