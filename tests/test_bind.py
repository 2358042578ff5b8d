"""Binding and unbinding at the window, on the insurance centre (X102 bind, X103 unbind; embedded here): the
owner's card and PIN at the window, the rules and the money at the centre — one transaction there.

The cast is the demo's under the earmarked-quota reading (`cross_province_model = "quota"`: 张伟 set ¥500.00
aside for 张敏, tests/quota_demo.py), loaded as a window loads an export (`cashier db import`: the window's cache
and the embedded centre). What moved is read where the money is: the centre's database (`[centre] db`), its
bindings, accounts and audit trail. The centre's clock is stopped on TODAY (a binding begins on the centre's day).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from people_helpers import TODAY, person, run_cli, write_jsonl
from quota_demo import quota_export, quota_model

from drivers.errors import CardError
from terminal.card_session import CardSession
from terminal.errors import CashierError

PIN = "123456"


class CentreClock:
    """The embedded centre's clock, stopped at `at` (a test moves it to bind on another day)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def config_file(config_file):
    """The shipped config (a window on the embedded centre), cross-province mutual aid as an earmarked quota."""
    quota_model(config_file)
    return config_file


@pytest.fixture
def centre_clock(monkeypatch) -> CentreClock:
    from centre.settings import CentreSettings
    stopped = CentreClock(dt.datetime.fromisoformat(TODAY + "T10:00:00"))
    monkeypatch.setattr(CentreSettings, "clock", lambda self: stopped)
    return stopped


@pytest.fixture
def demo(cfg, config_file, tmp_path, centre_clock, capsys):
    """(cfg, ledger, centre): the demo (areas, their rules, the catalogue, the cast) with 张伟's ¥500.00 quota for
    张敏, imported by `cashier db import`; `ledger` the window's ledger on the embedded centre; `centre` a
    connection to the centre's database that commits each statement."""
    from terminal.services.demo_db import ensure_demo_db
    from terminal.services.ledger import open_ledger
    ensure_demo_db(cfg)
    code, out = run_cli(config_file, "db", "import", str(quota_export(tmp_path)), "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"], out
    ledger = open_ledger(cfg)
    centre = sqlite3.connect(cfg.resolve(cfg.centre.db), isolation_level=None)
    assert balc(centre, "P10000001") == 356000 and quota_of(centre, "P20000005") == 50000
    yield cfg, ledger, centre
    ledger.close()
    centre.close()


def session_for(cfg, profile: str) -> CardSession:
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    return CardSession(InProcessReader(load_card(profile, cfg.state_dir)), cfg)


def audit(centre, action: str | None = None) -> list[tuple]:
    """The centre's audit rows of the window's work (the imports left out): (opter, hospital, action, subject,
    detail)."""
    sql = "SELECT opter, fixmedins_code, action, subject, detail FROM audit WHERE action <> 'import'"
    rows = centre.execute(sql + (" AND action = ?" if action else "") + " ORDER BY id",
                          [action] if action else []).fetchall()
    return [(o, w, a, s, json.loads(d) if d else None) for o, w, a, s, d in rows]


def balc(centre, psn_no: str) -> int:
    return centre.execute("SELECT balc FROM accounts WHERE psn_no = ?", [psn_no]).fetchone()[0]


def quota_of(centre, user_psn_no: str) -> int:
    return centre.execute("SELECT quota FROM bindings WHERE user_psn_no = ? AND status = 'active'",
                          [user_psn_no]).fetchone()[0]


def snapshot(centre) -> tuple:
    return (centre.execute("SELECT * FROM bindings ORDER BY id").fetchall(),
            centre.execute("SELECT * FROM accounts ORDER BY psn_no").fetchall(),
            centre.execute("SELECT * FROM movements ORDER BY id").fetchall())


def relatives(ledger, card_no: str) -> list[tuple[str, int]]:
    return [(r.owner_name, r.available) for r in ledger.family(card_no=card_no, today=TODAY).relatives]


def who_at(cfg) -> tuple[str, str]:
    """(operator, hospital code) as the window's messages name them to the centre: who and where in its audit."""
    return cfg.centre.opter or cfg.terminal.operator, cfg.centre.fixmedins_code or cfg.terminal.hospital_code


def test_owner_binds_his_wife_by_id_number(demo):
    cfg, ledger, centre = demo
    binding = ledger.bind(session_for(cfg, "zhang_wei"), PIN, "41010519800923682X", "12", today=TODAY)
    assert (binding.owner_psn_no, binding.user_psn_no, binding.relation, binding.scope, binding.quota,
            binding.begin_date, binding.status) == ("P10000001", "P10000002", "12", "local", 0, TODAY, "active")
    operator, hospital = who_at(cfg)
    assert centre.execute("SELECT created_by, created_window FROM bindings WHERE id = ?", [binding.id]).fetchone() \
        == (operator, hospital)
    assert audit(centre, "bind") == [(operator, hospital, "bind", f"binding:{binding.id}",
                                      {"owner_psn_no": "P10000001", "user_psn_no": "P10000002", "relation": "12",
                                       "scope": "local", "quota": 0})]
    assert "41010519800923682X" not in json.dumps(audit(centre))
    assert relatives(ledger, "A10000002") == [("张伟", 356000)]


def test_cross_province_quota_moves_out_and_comes_back(demo):
    cfg, ledger, centre = demo
    gone = ledger.unbind(session_for(cfg, "zhang_wei"), PIN, "B20000005", today=TODAY)
    assert gone.returned == 50000 and gone.owner_balc == 406000
    assert (gone.binding.status, gone.binding.quota, gone.binding.end_date) == ("ended", 0, TODAY)
    assert centre.execute("SELECT end_reason FROM bindings WHERE id = ?", [gone.binding.id]).fetchone() == (
        "owner_request",)
    again = ledger.bind(session_for(cfg, "zhang_wei"), PIN, "B20000005", "77", scope="cross_province", quota=30000,
                        today=TODAY)
    assert again.quota == 30000 and balc(centre, "P10000001") == 376000
    assert centre.execute("SELECT version FROM accounts WHERE psn_no = 'P10000001'").fetchone() == (2,)
    assert ledger.family(card_no="B20000005", today=TODAY).relatives[0].available == 30000
    assert [a[2] for a in audit(centre)] == ["unbind", "bind"]
    assert audit(centre, "unbind")[0][4]["returned"] == 50000


def test_money_is_conserved_across_bind_and_unbind(demo):
    cfg, ledger, centre = demo

    def total() -> int:
        return (centre.execute("SELECT sum(balc) FROM accounts").fetchone()[0]
                + centre.execute("SELECT sum(quota) FROM bindings WHERE status = 'active'").fetchone()[0])

    start = total()
    ledger.unbind(session_for(cfg, "zhang_wei"), PIN, "B20000005", today=TODAY)
    ledger.bind(session_for(cfg, "zhang_wei"), PIN, "B20000005", "70", scope="cross_province",
                quota=356000 + 50000, today=TODAY)
    assert balc(centre, "P10000001") == 0 and total() == start


@pytest.mark.parametrize("user,relation,kw,code", [
    ("A10000002", "54", {}, "relation_in_law"),                     # 婆婆: an in-law
    ("A10000003", "30", {}, "binding_exists"),                      # already bound
    ("A10000001", "10", {}, "self_binding"),
    ("D40000009", "52", {}, "user_not_active"),                     # 赵兰 suspended
    ("B20000005", "70", {}, "binding_exists"),
    ("D40000008", "70", {"scope": "cross_province", "quota": 100}, "area_closed"),   # Beijing is not open
    ("A10000002", "12", {"scope": "cross_province", "quota": 100}, "not_cross_province"),
    ("A10000002", "12", {"quota": 100}, "quota_local"),
])
def test_refusals_write_nothing(demo, user, relation, kw, code):
    cfg, ledger, centre = demo
    before = snapshot(centre)
    with pytest.raises(CashierError) as info:
        ledger.bind(session_for(cfg, "zhang_wei"), PIN, user, relation, today=TODAY, **kw)
    assert info.value.code == code, info.value.message
    assert snapshot(centre) == before and audit(centre, "bind") == []


def test_a_resident_cannot_own(demo):
    cfg, ledger, _ = demo
    with pytest.raises(CashierError) as info:
        ledger.bind(session_for(cfg, "zhang_xiaoyu"), PIN, "A10000001", "51", today=TODAY)
    assert info.value.code == "owner_not_employee"


def test_binding_dated_either_side_of_july_2024(demo, config_file, tmp_path, centre_clock, capsys):
    cfg, ledger, _ = demo
    brother = person("P10000010", 10, psn_name="张强", insutype="390")
    code, out = run_cli(config_file, "db", "import", str(write_jsonl(tmp_path / "brother.jsonl", [brother])),
                        "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"], out
    centre_clock.at = dt.datetime(2024, 6, 30, 10, 0)
    with pytest.raises(CashierError) as info:
        ledger.bind(session_for(cfg, "zhang_wei"), PIN, brother["card_no"], "73", today="2024-06-30")
    assert info.value.code == "relation_not_allowed" and "2024-07-01" in info.value.message
    centre_clock.at = dt.datetime(2024, 7, 1, 10, 0)
    binding = ledger.bind(session_for(cfg, "zhang_wei"), PIN, brother["card_no"], "73", today="2024-07-01")
    assert binding.begin_date == "2024-07-01" and binding.relation == "73"


def window_audit(cfg, action: str) -> list[tuple]:
    """The window's own audit rows of one action: (operator, window, subject, detail)."""
    from terminal.store.db import opened
    with opened(cfg) as db:
        rows = db.execute('SELECT operator, "window", subject, detail FROM audit WHERE action = ? ORDER BY id',
                          [action]).fetchall()
    return [(o, w, s, json.loads(d) if d else None) for o, w, s, d in rows]


@pytest.mark.parametrize("action", ["bind", "unbind"])
def test_wrong_pin_is_audited_and_nothing_else(demo, action):
    """The PIN failure is the window's to record (the card answered it; nothing reached the centre): one audit
    row in the window's database, never the PIN; the centre changes nothing."""
    cfg, ledger, centre = demo
    before = snapshot(centre)
    with pytest.raises(CardError) as info:
        if action == "bind":
            ledger.bind(session_for(cfg, "zhang_wei"), "654321", "A10000002", "12", today=TODAY)
        else:
            ledger.unbind(session_for(cfg, "zhang_wei"), "654321", "B20000005", today=TODAY)
    assert info.value.code == "pin_wrong" and info.value.tries_left == 2
    assert snapshot(centre) == before and audit(centre) == []
    assert window_audit(cfg, "pin_failed") == [(cfg.terminal.operator, cfg.terminal.window, "P10000001",
                                                {"for": action, "code": "pin_wrong", "tries_left": 2})]
    for where in (cfg.resolve(cfg.centre.db), cfg.db_path):   # the PIN in neither database
        assert b"654321" not in where.read_bytes() and "654321".encode("utf-16-le") not in where.read_bytes()


def test_blocked_pin(demo):
    cfg, ledger, centre = demo
    before = snapshot(centre)
    with pytest.raises(CardError) as info:
        ledger.bind(session_for(cfg, "wang_fang"), PIN, "C30000007", "20", today=TODAY)
    assert info.value.code == "pin_blocked"
    assert snapshot(centre) == before and audit(centre) == []
    assert [row[2] for row in window_audit(cfg, "pin_failed")] == ["P30000006"]


def test_expired_card_is_refused(demo):
    cfg, ledger, _ = demo
    with pytest.raises(CardError) as info:
        ledger.bind(session_for(cfg, "liu_yang"), PIN, "D40000009", "52", today=TODAY)
    assert info.value.code == "card_expired"


@pytest.mark.parametrize("action", ["bind", "unbind"])
def test_card_pulled_before_commit_writes_nothing(demo, action):
    cfg, ledger, centre = demo
    session = session_for(cfg, "zhang_wei")
    real_verify = session.verify_pin

    def verify_then_pull(pin):
        real_verify(pin)
        session.reader.remove()

    session.verify_pin = verify_then_pull
    before = snapshot(centre)
    with pytest.raises(CardError) as info:
        if action == "bind":
            ledger.bind(session, PIN, "A10000002", "12", today=TODAY)
        else:
            ledger.unbind(session, PIN, "B20000005", today=TODAY)
    assert info.value.code == "card_removed"
    assert snapshot(centre) == before and audit(centre) == []


def test_user_named_by_a_bad_id_number(demo):
    cfg, ledger, _ = demo
    with pytest.raises(CashierError) as info:
        ledger.bind(session_for(cfg, "zhang_wei"), PIN, "410105198009236821", "12", today=TODAY)
    assert info.value.code == "certno_invalid" and "410105********6821" in info.value.message
    with pytest.raises(CashierError) as info:     # said before the PIN is asked: no try spent on a typo
        ledger.bind(session_for(cfg, "zhang_wei"), "654321", "410105198009236821", "12", today=TODAY)
    assert info.value.code == "certno_invalid"
    with pytest.raises(CashierError) as info:
        ledger.bind(session_for(cfg, "zhang_wei"), PIN, "Z99999999", "12", today=TODAY)
    assert info.value.code == "person_unknown"


def test_unbind_of_a_binding_that_does_not_exist(demo):
    cfg, ledger, _ = demo
    with pytest.raises(CashierError) as info:
        ledger.unbind(session_for(cfg, "zhang_wei"), PIN, "A10000002", today=TODAY)
    assert info.value.code == "binding_not_found"


def test_bindings_do_not_pay_once_the_owners_insurance_ends(demo):
    """The owner's insurance ended (the centre's record): none of his bindings pays for anyone any more."""
    cfg, ledger, centre = demo
    assert relatives(ledger, "A10000003") == [("张伟", 356000)]
    centre.execute("UPDATE persons SET psn_insu_stas = '4' WHERE psn_no = 'P10000001'")
    for card_no in ("A10000003", "A10000004", "B20000005"):
        assert relatives(ledger, card_no) == [], card_no


def test_bindings_end_when_the_owners_insurance_ends(demo, config_file, tmp_path, capsys):
    """A newer export says 张伟's insurance ended: his bindings end by themselves (owner_insurance_ended) and
    张敏's ¥500.00 quota goes back to his account: 3,560.00 + 500.00 = 4,060.00."""
    cfg, _, centre = demo
    export = quota_export(tmp_path)
    ended = tmp_path / "ended.jsonl"
    text = export.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if '"psn_no": "P10000001"' in x and '"kind": "person"' in x)
    assert '"psn_insu_stas": "1"' in line
    ended.write_text(text.replace(line, line.replace('"psn_insu_stas": "1"', '"psn_insu_stas": "4"')),
                     encoding="utf-8")
    code, out = run_cli(config_file, "db", "import", str(ended), "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"], out
    rows = centre.execute("SELECT user_psn_no, status, end_reason, quota FROM bindings WHERE owner_psn_no = "
                          "'P10000001' ORDER BY user_psn_no").fetchall()
    assert rows == [("P10000003", "ended", "owner_insurance_ended", 0), ("P10000004", "ended",
                                                                       "owner_insurance_ended", 0),
                    ("P20000005", "ended", "owner_insurance_ended", 0)]
    assert balc(centre, "P10000001") == 406000
    assert centre.execute("SELECT count(*) FROM bindings WHERE owner_psn_no = 'P30000006' AND status = 'active'"
                          ).fetchone()[0] > 0                                  # others untouched
    code, text = run_cli(config_file, "centre", "check", capsys=capsys)                # every figure explained
    assert code == 0 and text.startswith("ok"), text


def test_cli_bind_and_unbind_with_the_emulator(demo, config_file, capsys):
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", PIN, "--user",
                        "A10000002", "--relation", "12", "--json", capsys=capsys)
    assert code == 0, out
    assert (out["owner_name"], out["user_name"], out["relation_name"], out["scope"], out["status"]) == (
        "张伟", "李娜", "妻", "local", "active")
    code, out = run_cli(config_file, "unbind", "--reader", "emulator:zhang_wei", "--pin", PIN, "--user",
                        "B20000005", "--json", capsys=capsys)
    assert code == 0 and out["returned_fen"] == 50000 and out["owner_balc_fen"] == 406000 and out["status"] == "ended"
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", PIN, "--user",
                        "B20000005", "--relation", "70", "--scope", "cross_province", "--quota", "10000", "--json",
                        capsys=capsys)
    assert code == 0 and out["quota_fen"] == 10000 and out["owner_balc_fen"] == 396000
    code, out = run_cli(config_file, "--lang", "en", "bind", "--reader", "emulator:zhang_wei", "--pin", PIN,
                        "--user", "A10000002", "--relation", "55", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "relation_in_law" and "1045" in out["error"]["message"]
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "1", "--user",
                        "A10000002", "--relation", "12", "--quota", "-5", "--json", capsys=capsys)
    assert code == 2 and out["error"]["code"] == "amount_invalid"  # a usage error, before the card is read
    code, out = run_cli(config_file, "--lang", "zh", "bind", "--reader", "emulator:zhang_wei", "--pin", PIN,
                        "--user", "D40000009", "--relation", "52", "--json", capsys=capsys)
    assert code == 1 and "暂停参保" in out["error"]["message"]


def test_two_windows_binding_the_same_pair_at_once(demo):
    """One wins; the other is refused as a duplicate (the centre's active-pair index and its lock)."""
    import threading

    from terminal.services.ledger import open_ledger
    cfg, _, centre = demo
    results: list[str] = []
    barrier = threading.Barrier(2)

    def window():
        ledger = open_ledger(cfg)
        session = session_for(cfg, "zhang_wei")
        try:
            barrier.wait()
            ledger.bind(session, PIN, "A10000002", "12", today=TODAY)
            results.append("bound")
        except CashierError as exc:
            results.append(exc.code)
        finally:
            ledger.close()

    threads = [threading.Thread(target=window) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["binding_exists", "bound"]
    assert centre.execute("SELECT count(*) FROM bindings WHERE user_psn_no = 'P10000002' AND status = 'active'"
                          ).fetchone() == (1,)


@pytest.mark.pcsc
def test_bind_through_pcscd_and_vpcd(demo, pcsc_reader_factory):
    cfg, ledger, centre = demo
    reader = pcsc_reader_factory("zhang_wei")
    session = CardSession(reader, cfg)
    try:
        binding = ledger.bind(session, PIN, "A10000002", "12", today=TODAY)
    finally:
        session.close()
    assert (binding.owner_psn_no, binding.user_psn_no, binding.status) == ("P10000001", "P10000002", "active")
    assert audit(centre, "bind")[0][3] == f"binding:{binding.id}"


def test_a_district_belongs_to_its_citys_pooling_area(demo, config_file, tmp_path, capsys):
    from terminal.store import people
    from terminal.store.db import opened
    cfg, ledger, _ = demo
    mother = person("P20000011", 11, psn_name="张母", gend="2", insutype="390", insuplc_admdvs="510104")
    code, out = run_cli(config_file, "db", "import", str(write_jsonl(tmp_path / "mother.jsonl", [mother])),
                        "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"], out
    binding = ledger.bind(session_for(cfg, "zhang_wei"), PIN, mother["card_no"], "52", scope="cross_province",
                          quota=1000, today=TODAY)
    assert binding.scope == "cross_province"
    with opened(cfg) as cache:                                   # the window's cache names the area too
        assert people.pooling_area(cache, "510104").name == "成都市"


def test_user_named_by_an_id_number_with_an_impossible_birth_date(demo):
    from drivers.certno import check_digit
    cfg, ledger, _ = demo
    bad_day = "41010519800230682" + check_digit("41010519800230682")
    with pytest.raises(CashierError) as info:
        ledger.bind(session_for(cfg, "zhang_wei"), PIN, bad_day, "12", today=TODAY)
    assert info.value.code == "certno_invalid" and "19800230 is not a real date" in info.value.message


def test_a_quota_is_spoken_of_in_yuan(demo, config_file, capsys):
    """The quota refused because the balance cannot cover it says both amounts in yuan (the window types
    yuan; the command line's fen stay beside them in English); a quota written in yuan on the command
    line is refused with the fen it would be."""
    cfg, ledger, centre = demo
    ledger.unbind(session_for(cfg, "zhang_wei"), PIN, "B20000005", today=TODAY)  # ¥4,060.00 now
    with pytest.raises(CashierError) as info:
        ledger.bind(session_for(cfg, "zhang_wei"), PIN, "B20000005", "70", scope="cross_province", quota=600000,
                    today=TODAY)
    assert info.value.code == "quota_exceeds_balance"
    assert "¥6,000.00" in info.value.message_zh and "¥4,060.00" in info.value.message_zh
    assert "分" not in info.value.message_zh
    assert "¥6,000.00 (600000 fen)" in info.value.message and "¥4,060.00 (406000 fen)" in info.value.message
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", PIN, "--user",
                        "B20000005", "--relation", "70", "--scope", "cross_province", "--quota", "600000", "--json",
                        capsys=capsys)
    assert code == 1 and "¥6,000.00" in out["error"]["message"] and "分" not in out["error"]["message"]
    with pytest.raises(SystemExit) as exited:      # argparse's usage error
        run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", PIN, "--user", "B20000005",
                "--relation", "70", "--scope", "cross_province", "--quota", "500.00", "--json", capsys=capsys)
    assert exited.value.code == 2 and "looks like yuan" in capsys.readouterr().err   # "... is --quota 50000"
    assert balc(centre, "P10000001") == 406000
