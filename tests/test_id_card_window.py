"""The resident ID card (身份证, mdtrt_cert_type 02) as a third credential at the window, on the command line
(`cashier settle --id-card -`, `cashier family --id-card -`): the ID number read from stdin only; 1101, the visit
and 2207 carry 02; no PIN; the fund pays as with the card, the personal account does not (the centre's default);
the ID number masked in the JSON, on stdout and stderr and in the window's message log; a window whose config
turns the ID card off refuses it; a wrong check digit is refused before the centre is asked."""

from __future__ import annotations

from test_voucher_window import ZHANG_WEI_CERTNO, ok_json, run, sent, settlements
from window_centre_support import DEMO_BILL, balc_fen, fen_of, make_window

from drivers.certno import mask

BAD_CHECK = ZHANG_WEI_CERTNO[:17] + ("0" if ZHANG_WEI_CERTNO[17] != "0" else "1")


def test_the_id_card_settles_with_the_fund_and_no_account_and_no_pin(tmp_path):
    by_card, by_id = make_window(tmp_path / "card"), make_window(tmp_path / "id")
    card = by_card.settle("zhang_wei", "--no-account")
    before = balc_fen(by_id, "A10000001")
    done = run(by_id, "settle", "--id-card", "-", "--bill", str(DEMO_BILL), "--json", stdin=ZHANG_WEI_CERTNO + "\n")
    out = ok_json(done)
    for field in ("medfee_sumamt", "fund_pay_sumamt", "psn_cash_pay"):     # the fund pays as with the card
        assert fen_of(out, field) == fen_of(card, field), field
    assert fen_of(out, "acct_pay") == 0 and fen_of(out, "psn_cash_pay") == fen_of(out, "medfee_sumamt") - fen_of(out, "fund_pay_sumamt")
    assert balc_fen(by_id, "A10000001") == before                # the personal account untouched
    assert out["setlinfo"]["mdtrt_cert_type"] == "02"
    assert ZHANG_WEI_CERTNO not in done.stdout + done.stderr and mask(ZHANG_WEI_CERTNO) in done.stdout
    assert settlements(by_id) == [(out["setlinfo"]["psn_no"], "02")]
    for infno in ("1101", "2201", "2206", "2207"):
        data = sent(by_id, infno)[-1]["data"]
        assert (data["mdtrt_cert_type"], data["mdtrt_cert_no"]) == ("02", mask(ZHANG_WEI_CERTNO)), infno
    with by_id.db() as db:
        assert not [r for r in db.execute("SELECT request, answer FROM centre_log")
                    if ZHANG_WEI_CERTNO in (r[0] or "") + (r[1] or "")]


def test_family_by_id_card_and_the_refusals(tmp_path):
    window = make_window(tmp_path / "w")
    fam = run(window, "family", "--id-card", "-", "--json", stdin=ZHANG_WEI_CERTNO + "\n")
    assert fam.returncode == 0, fam.stderr
    assert "张伟" in fam.stdout and ZHANG_WEI_CERTNO not in fam.stdout + fam.stderr
    assert [d["data"]["mdtrt_cert_type"] for d in sent(window, "1101")] == ["02"]
    # on the command line: refused before anything is read (other users and the shell history see argv)
    argv = run(window, "settle", "--id-card", ZHANG_WEI_CERTNO, "--bill", str(DEMO_BILL))
    assert argv.returncode == 2 and "标准输入" in argv.stderr and ZHANG_WEI_CERTNO not in argv.stderr
    # a wrong check digit: said clearly, masked, nothing sent to the centre
    bad = run(window, "settle", "--id-card", "-", "--bill", str(DEMO_BILL), stdin=BAD_CHECK + "\n")
    assert bad.returncode != 0 and "check digit" in bad.stderr and BAD_CHECK not in bad.stderr
    empty = run(window, "settle", "--id-card", "-", "--bill", str(DEMO_BILL), stdin="\n")
    assert empty.returncode == 2 and "标准输入中没有身份证号码" in empty.stderr
    assert settlements(window) == []
    # the window's config turns the ID card off: a clear refusal, nothing sent
    text = window.config.read_text(encoding="utf-8").replace("id_card = true", "id_card = false", 1)
    window.config.write_text(text, encoding="utf-8")
    off = run(window, "settle", "--id-card", "-", "--bill", str(DEMO_BILL), "--json", stdin=ZHANG_WEI_CERTNO + "\n")
    assert off.returncode != 0 and "id_card = false" in off.stderr + off.stdout, (off.stdout, off.stderr)
    assert [d["data"]["mdtrt_cert_type"] for d in sent(window, "1101")] == ["02"]    # none of these asked it
    assert settlements(window) == []
