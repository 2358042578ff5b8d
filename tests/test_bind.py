"""Binding and unbinding at the window: the owner's card and PIN, the rules, money, audit — one transaction."""

from __future__ import annotations

import json

import pytest

from drivers.errors import CardError
from people_helpers import TODAY, demo, person, run_cli, write_jsonl  # noqa: F401  (fixture)
from terminal.card_session import CardSession
from terminal.errors import BadInput, CashierError, RuleRefused
from terminal.services.bindings import bind_at_window, end_lapsed_bindings, unbind_at_window
from terminal.services.family import family_for
from terminal.store import people


def session_for(cfg, profile: str) -> CardSession:
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    return CardSession(InProcessReader(load_card(profile, cfg.state_dir)), cfg)


def audit(db, action: str | None = None) -> list[tuple]:
    """The audit rows of the window's work (the demo database's own import rows left out)."""
    sql = """SELECT operator, "window", action, subject, detail FROM audit WHERE action <> 'import'"""
    rows = db.execute(sql + (" AND action = ?" if action else "") + " ORDER BY id",
                      [action] if action else []).fetchall()
    return [(o, w, a, s, json.loads(d) if d else None) for o, w, a, s, d in rows]


def balc(db, psn_no: str) -> int:
    return people.account_of(db, psn_no).balc


def snapshot(db) -> tuple:
    return (db.execute("SELECT * FROM bindings ORDER BY id").fetchall(),
            db.execute("SELECT * FROM accounts ORDER BY psn_no").fetchall())


def test_owner_binds_his_wife_by_id_number(demo):
    cfg, db = demo
    binding = bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "41010519800923682X", "12",
                             today=TODAY)
    assert (binding.owner_psn_no, binding.user_psn_no, binding.relation, binding.scope, binding.quota,
            binding.begin_date, binding.status) == ("P10000001", "P10000002", "12", "local", 0, TODAY, "active")
    assert (binding.created_by, binding.created_window) == (cfg.terminal.operator, cfg.terminal.window)
    assert audit(db, "bind") == [(cfg.terminal.operator, cfg.terminal.window, "bind", f"binding:{binding.id}",
                                  {"owner_psn_no": "P10000001", "user_psn_no": "P10000002", "relation": "12",
                                   "scope": "local", "quota": 0, "begin_date": TODAY})]
    assert "41010519800923682X" not in json.dumps(audit(db))
    view = family_for(db, card_no="A10000002", today=TODAY)
    assert [(r.owner_name, r.available) for r in view.relatives] == [("张伟", 356000)]


def test_cross_province_quota_moves_out_and_comes_back(demo):
    cfg, db = demo
    gone = unbind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", today=TODAY)
    assert gone.returned == 50000 and gone.owner_balc == 406000
    assert (gone.binding.status, gone.binding.quota, gone.binding.end_date, gone.binding.end_reason) == (
        "ended", 0, TODAY, "owner_request")
    again = bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", "77",
                           scope="cross_province", quota=30000, today=TODAY)
    assert again.quota == 30000 and balc(db, "P10000001") == 376000
    assert people.account_of(db, "P10000001").version == 2
    assert family_for(db, card_no="B20000005", today=TODAY).relatives[0].available == 30000
    assert [a[2] for a in audit(db)] == ["unbind", "bind"]
    assert audit(db, "unbind")[0][4]["returned"] == 50000


def test_money_is_conserved_across_bind_and_unbind(demo):
    cfg, db = demo
    total = lambda: people.counts(db)["balc_total"] + people.counts(db)["quota_total"]  # noqa: E731
    start = total()
    unbind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", today=TODAY)
    bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", "70", scope="cross_province",
                   quota=356000 + 50000, today=TODAY)
    assert balc(db, "P10000001") == 0 and total() == start


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
    cfg, db = demo
    before = snapshot(db)
    with pytest.raises(RuleRefused) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", user, relation, today=TODAY, **kw)
    assert info.value.code == code, info.value.message
    assert snapshot(db) == before and audit(db, "bind") == []


def test_a_resident_cannot_own(demo):
    cfg, db = demo
    with pytest.raises(RuleRefused) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_xiaoyu"), "123456", "A10000001", "51", today=TODAY)
    assert info.value.code == "owner_not_employee"


def test_binding_dated_either_side_of_july_2024(demo, tmp_path):
    cfg, db = demo
    from terminal.store.importer import import_file
    brother = person("P10000010", 10, psn_name="张强", insutype="390")
    assert import_file(db, write_jsonl(tmp_path / "brother.jsonl", [brother])).imported
    with pytest.raises(RuleRefused) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", brother["card_no"], "73",
                       today="2024-06-30")
    assert info.value.code == "relation_not_allowed" and "2024-07-01" in info.value.message
    binding = bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", brother["card_no"], "73",
                             today="2024-07-01")
    assert binding.begin_date == "2024-07-01" and binding.relation == "73"


def test_wrong_pin_is_audited_and_nothing_else(demo):
    cfg, db = demo
    before = snapshot(db)
    with pytest.raises(CardError) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "654321", "A10000002", "12", today=TODAY)
    assert info.value.code == "pin_wrong" and info.value.tries_left == 2
    assert snapshot(db) == before
    (row,) = audit(db)
    assert row[2:4] == ("pin_failed", "P10000001") and row[4]["tries_left"] == 2
    assert "654321" not in json.dumps(audit(db)) and "123456" not in json.dumps(audit(db))


def test_blocked_pin(demo):
    cfg, db = demo
    with pytest.raises(CardError) as info:
        bind_at_window(db, cfg, session_for(cfg, "wang_fang"), "123456", "C30000007", "20", today=TODAY)
    assert info.value.code == "pin_blocked"
    assert audit(db, "pin_failed")[0][3] == "P30000006"


def test_expired_card_is_refused(demo):
    cfg, db = demo
    with pytest.raises(CardError) as info:
        bind_at_window(db, cfg, session_for(cfg, "liu_yang"), "123456", "D40000009", "52", today=TODAY)
    assert info.value.code == "card_expired"


def test_card_pulled_before_commit_writes_nothing(demo):
    cfg, db = demo
    session = session_for(cfg, "zhang_wei")
    real_verify = session.verify_pin

    def verify_then_pull(pin):
        real_verify(pin)
        session.reader.remove()

    session.verify_pin = verify_then_pull
    before = snapshot(db)
    with pytest.raises(CardError) as info:
        unbind_at_window(db, cfg, session, "123456", "B20000005", today=TODAY)
    assert info.value.code == "card_removed"
    assert snapshot(db) == before and audit(db) == []


def test_user_named_by_a_bad_id_number(demo):
    cfg, db = demo
    with pytest.raises(BadInput) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "410105198009236821", "12", today=TODAY)
    assert info.value.code == "certno_invalid" and "410105********6821" in info.value.message
    with pytest.raises(CashierError) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "Z99999999", "12", today=TODAY)
    assert info.value.code == "person_unknown"


def test_unbind_of_a_binding_that_does_not_exist(demo):
    cfg, db = demo
    with pytest.raises(RuleRefused) as info:
        unbind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "A10000002", today=TODAY)
    assert info.value.code == "binding_not_found"


def test_bindings_end_when_the_owners_insurance_ends(demo):
    cfg, db = demo
    db.execute("UPDATE persons SET psn_insu_stas = '4' WHERE psn_no = 'P10000001'")
    ended = end_lapsed_bindings(db, cfg, today=TODAY)
    assert sorted((u.binding.user_psn_no, u.returned) for u in ended) == [
        ("P10000003", 0), ("P10000004", 0), ("P20000005", 50000)]
    assert all(u.binding.end_reason == "owner_insurance_ended" for u in ended)
    assert balc(db, "P10000001") == 406000
    assert people.bindings_of_owner(db, "P10000001") == []
    assert people.bindings_of_owner(db, "P30000006") != []  # others untouched
    assert end_lapsed_bindings(db, cfg, today=TODAY) == []


def test_cli_bind_and_unbind_with_the_emulator(demo, config_file, capsys):
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user",
                        "A10000002", "--relation", "12", "--json", capsys=capsys)
    assert code == 0, out
    assert (out["owner_name"], out["user_name"], out["relation_name"], out["scope"], out["status"]) == (
        "张伟", "李娜", "妻", "local", "active")
    code, out = run_cli(config_file, "unbind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user",
                        "B20000005", "--json", capsys=capsys)
    assert code == 0 and out["returned"] == 50000 and out["owner_balc"] == 406000 and out["status"] == "ended"
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user",
                        "B20000005", "--relation", "70", "--scope", "cross_province", "--quota", "10000", "--json",
                        capsys=capsys)
    assert code == 0 and out["quota"] == 10000 and out["owner_balc"] == 396000
    code, out = run_cli(config_file, "--lang", "en", "bind", "--reader", "emulator:zhang_wei", "--pin", "123456",
                        "--user", "A10000002", "--relation", "55", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "relation_in_law" and "1045" in out["error"]["message"]
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "1", "--user",
                        "A10000002", "--relation", "12", "--quota", "-5", "--json", capsys=capsys)
    assert code == 2 and out["error"]["code"] == "amount_invalid"  # a usage error, before the card is read
    code, out = run_cli(config_file, "--lang", "zh", "bind", "--reader", "emulator:zhang_wei", "--pin", "123456",
                        "--user", "D40000009", "--relation", "52", "--json", capsys=capsys)
    assert code == 1 and "暂停参保" in out["error"]["message"]


def test_two_windows_binding_the_same_pair_at_once(demo):
    """One wins; the other is refused as a duplicate (the active-pair index and BEGIN IMMEDIATE)."""
    import threading

    from terminal.store.db import open_from_config
    cfg, _ = demo
    results: list[str] = []
    barrier = threading.Barrier(2)

    def window():
        db = open_from_config(cfg)
        session = session_for(cfg, "zhang_wei")
        try:
            barrier.wait()
            bind_at_window(db, cfg, session, "123456", "A10000002", "12", today=TODAY)
            results.append("bound")
        except RuleRefused as exc:
            results.append(exc.code)
        finally:
            db.close()

    threads = [threading.Thread(target=window) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["binding_exists", "bound"]


@pytest.mark.pcsc
def test_bind_through_pcscd_and_vpcd(demo, pcsc_reader_factory):
    cfg, db = demo
    reader = pcsc_reader_factory("zhang_wei")
    session = CardSession(reader, cfg)
    try:
        binding = bind_at_window(db, cfg, session, "123456", "A10000002", "12", today=TODAY)
    finally:
        session.close()
    assert (binding.owner_psn_no, binding.user_psn_no, binding.status) == ("P10000001", "P10000002", "active")
    assert audit(db, "bind")[0][3] == f"binding:{binding.id}"


def test_a_district_belongs_to_its_citys_pooling_area(demo, tmp_path):
    cfg, db = demo
    from terminal.store.importer import import_file
    mother = person("P20000011", 11, psn_name="张母", gend="2", insutype="390", insuplc_admdvs="510104")
    assert import_file(db, write_jsonl(tmp_path / "mother.jsonl", [mother])).imported
    binding = bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", mother["card_no"], "52",
                             scope="cross_province", quota=1000, today=TODAY)
    assert binding.scope == "cross_province" and people.pooling_area(db, "510104").name == "成都市"


def test_user_named_by_an_id_number_with_an_impossible_birth_date(demo):
    from drivers.certno import check_digit
    cfg, db = demo
    bad_day = "41010519800230682" + check_digit("41010519800230682")
    with pytest.raises(BadInput) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", bad_day, "12", today=TODAY)
    assert info.value.code == "certno_invalid" and "19800230 is not a real date" in info.value.message


def test_a_quota_is_spoken_of_in_yuan(demo, config_file, capsys):
    """The quota refused because the balance cannot cover it says both amounts in yuan (the window types
    yuan; the command line's fen stay beside them in English); a quota written in yuan on the command
    line is refused with the fen it would be."""
    cfg, db = demo
    unbind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", today=TODAY)  # ¥4,060.00 now
    with pytest.raises(RuleRefused) as info:
        bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", "70",
                       scope="cross_province", quota=600000, today=TODAY)
    assert info.value.code == "quota_exceeds_balance"
    assert "¥6,000.00" in info.value.message_zh and "¥4,060.00" in info.value.message_zh
    assert "分" not in info.value.message_zh
    assert "¥6,000.00 (600000 fen)" in info.value.message and "¥4,060.00 (406000 fen)" in info.value.message
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user",
                        "B20000005", "--relation", "70", "--scope", "cross_province", "--quota", "600000", "--json",
                        capsys=capsys)
    assert code == 1 and "¥6,000.00" in out["error"]["message"] and "分" not in out["error"]["message"]
    with pytest.raises(SystemExit) as exited:      # argparse's usage error
        run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user", "B20000005",
                "--relation", "70", "--scope", "cross_province", "--quota", "500.00", "--json", capsys=capsys)
    assert exited.value.code == 2 and "looks like yuan" in capsys.readouterr().err   # "... is --quota 50000"
    assert people.account_of(db, "P10000001").balc == 406000
