"""Family lookup: the patient's own account and every relative's account that may pay, with amounts."""

from __future__ import annotations

import pytest

from people_helpers import TODAY, demo, run_cli  # noqa: F401  (fixture)
from terminal.errors import CashierError
from terminal.services.family import family_for


def test_daughter_sees_her_fathers_account(demo):
    _, db = demo
    view = family_for(db, card_no="A10000003", today=TODAY)
    assert view.person.psn_name == "张小雨" and view.own is None
    assert [(r.owner_psn_no, r.owner_name, r.relation, r.relation_name, r.scope, r.available)
            for r in view.relatives] == [("P10000001", "张伟", "30", "女", "local", 356000)]
    assert view.total_available == 356000


def test_cross_province_sister_sees_the_quota_not_the_balance(demo):
    _, db = demo
    view = family_for(db, certno="410102198311307028", today=TODAY)
    assert [(r.owner_name, r.scope, r.available) for r in view.relatives] == [("张伟", "cross_province", 50000)]


def test_owner_sees_own_account_only(demo):
    _, db = demo
    view = family_for(db, psn_no="P10000001", today=TODAY)
    assert view.own == 356000 and view.relatives == []


def test_relatives_in_binding_order(demo):
    _, db = demo
    db.execute("UPDATE persons SET insutype = '310' WHERE psn_no = 'P10000002'")
    with db.conn:
        db.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                   "VALUES ('P10000002', 'P10000003', '30', 'local', 0, '2024-01-01')")
    view = family_for(db, card_no="A10000003", today=TODAY)
    assert [(r.owner_name, r.available) for r in view.relatives] == [("张伟", 356000), ("李娜", 12000)]
    assert view.relatives[0].binding_id < view.relatives[1].binding_id


@pytest.mark.parametrize("change", [
    "UPDATE persons SET psn_insu_stas = '4' WHERE psn_no = 'P10000001'",   # owner's insurance ended
    "UPDATE persons SET psn_insu_stas = '2' WHERE psn_no = 'P10000001'",   # owner suspended
    "UPDATE bindings SET status = 'ended' WHERE user_psn_no = 'P10000003'",
    "UPDATE bindings SET begin_date = '2027-01-01' WHERE user_psn_no = 'P10000003'",  # not begun yet
    "UPDATE bindings SET end_date = '2026-11-28' WHERE user_psn_no = 'P10000003'",    # ended yesterday
])
def test_bindings_that_cannot_pay_are_not_offered(demo, change):
    _, db = demo
    db.execute(change)
    assert family_for(db, card_no="A10000003", today=TODAY).relatives == []


def test_unknown_person(demo):
    _, db = demo
    with pytest.raises(CashierError) as info:
        family_for(db, certno="110101199003070011", today=TODAY)
    assert info.value.code == "person_unknown" and "110101********0011" in info.value.message


def test_cli_family_json(demo, config_file, capsys):
    code, out = run_cli(config_file, "family", "--card-no", "C30000007", "--date", TODAY, "--json", capsys=capsys)
    assert code == 0
    assert out["person"]["psn_name"] == "陈𬌗" and out["person"]["certno"] == "320502********7218"
    assert out["own"] is None
    assert out["relatives"] == [{"owner_psn_no": "P30000006", "owner_name": "王芳", "relation": "20",
                                 "relation_name": "子", "scope": "local", "available": 80000, "binding_id": 4}]
    code, out = run_cli(config_file, "family", "--psn-no", "P10000002", "--json", capsys=capsys)
    assert code == 0 and out["own"] == {"balc": 12000} and out["relatives"] == []
    code, out = run_cli(config_file, "family", "--card-no", "Z1", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "person_unknown"
    code, text = run_cli(config_file, "family", "--card-no", "A10000004", capsys=capsys)
    assert code == 0 and "张国强" in text and "父亲(51) 张伟" in text and "3560.00 yuan" in text
    assert "411602195002177017" not in text


def test_lookup_works_from_another_thread_with_its_own_connection(demo):
    from concurrent.futures import ThreadPoolExecutor

    from terminal.store.db import open_from_config
    cfg, _ = demo

    def work():
        db = open_from_config(cfg)
        try:
            return family_for(db, card_no="A10000003", today=TODAY).relatives[0].available
        finally:
            db.close()

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda _: work(), range(4))) == [356000] * 4


def test_an_invalid_id_number_is_certno_invalid_not_unknown(demo, config_file, capsys):
    _, db = demo
    with pytest.raises(CashierError) as info:
        family_for(db, certno="410102197805126715", today=TODAY)  # 张伟's number with a wrong check digit
    assert info.value.code == "certno_invalid" and "check digit should be 6" in info.value.message
    assert "410102********6715" in info.value.message
    code, out = run_cli(config_file, "family", "--certno", "410102197805126715", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "certno_invalid" and "check digit" in out["error"]["message"]
    from drivers.certno import check_digit
    bad_day = "41010219850230201" + check_digit("41010219850230201")
    code, out = run_cli(config_file, "family", "--certno", bad_day, "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "certno_invalid" and "not a real date" in out["error"]["message"]


@pytest.mark.parametrize("owner,user,relation,scope,quota,begin", [
    ("P10000001", "P10000002", "38", "local", 0, "2025-01-01"),               # 儿媳: an in-law
    ("P30000006", "P20000005", "70", "cross_province", 100, "2023-05-01"),   # sibling before July 2024
    ("P40000008", "P20000005", "70", "cross_province", 100, "2026-03-01"),   # owner in Beijing, not open
    ("P10000004", "P10000003", "60", "local", 0, "2025-01-01"),              # owner 390, no account
])
def test_bindings_that_break_the_rules_are_never_offered(demo, owner, user, relation, scope, quota, begin):
    """Defence in depth: whatever put such a binding in the database, neither the family lookup nor
    settlement (relatives_of) offers it."""
    from terminal.services.family import relatives_of
    _, db = demo
    before = [r.owner_psn_no for r in relatives_of(db, user, TODAY)]
    with db.conn:
        db.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [owner, user, relation, scope, quota, begin])
    assert [r.owner_psn_no for r in relatives_of(db, user, TODAY)] == before
    assert owner not in [r.owner_psn_no for r in family_for(db, psn_no=user, today=TODAY).relatives]


def test_an_inactive_user_is_offered_no_relative(demo):
    _, db = demo
    db.execute("UPDATE persons SET psn_insu_stas = '2' WHERE psn_no = 'P10000003'")
    assert family_for(db, card_no="A10000003", today=TODAY).relatives == []


@pytest.mark.parametrize("owner,user,bad,good", [
    # relation against the user's recorded sex: 李娜 is female, so husband (11) is refused, wife (12) offered
    ("P10000001", "P10000002", ("11", "local", 0, "2025-01-01"), ("12", "local", 0, "2025-01-01")),
    # cross-province before it began (2026-01-09), then on the day
    ("P30000006", "P20000005", ("70", "cross_province", 100, "2026-01-08"), ("70", "cross_province", 100, "2026-01-09")),
    # Suzhou (Jiangsu) and Chengdu (Sichuan) are different provinces: local is refused
    ("P30000006", "P20000005", ("70", "local", 0, "2026-03-01"), ("70", "cross_province", 100, "2026-03-01")),
    # 张伟 and 李娜 are both insured in Zhengzhou: cross-province is refused
    ("P10000001", "P10000002", ("12", "cross_province", 100, "2026-03-01"), ("12", "local", 0, "2026-03-01")),
])
def test_sex_scope_and_cross_province_date_are_checked_like_the_centre_import(demo, owner, user, bad, good):
    """The family lookup applies the rules the centre import does (mutual_aid.check_centre_binding): the
    same binding is offered once its one broken rule is put right."""
    from terminal.services.family import relatives_of
    _, db = demo
    with db.conn:
        bid = db.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                         "VALUES (?, ?, ?, ?, ?, ?)", [owner, user, *bad]).lastrowid
    assert owner not in [r.owner_psn_no for r in relatives_of(db, user, TODAY)]
    assert owner not in [r.owner_psn_no for r in family_for(db, psn_no=user, today=TODAY).relatives]
    with db.conn:
        db.execute("UPDATE bindings SET relation = ?, scope = ?, quota = ?, begin_date = ? WHERE id = ?", [*good, bid])
    assert owner in [r.owner_psn_no for r in relatives_of(db, user, TODAY)]
    assert owner in [r.owner_psn_no for r in family_for(db, psn_no=user, today=TODAY).relatives]


def test_payable_problem_names_the_broken_rule(demo):
    """The reason a stored binding is not offered is the code the centre import would refuse it with."""
    from terminal.domain.mutual_aid import MutualAidPolicy, payable_problem
    from terminal.store.people import find_person, party_of, pooling_area
    _, db = demo
    policy = MutualAidPolicy.default()
    zhang_wei, li_na, zhang_min, wang_fang = (party_of(db, find_person(db, psn_no=p)) for p in
                                              ("P10000001", "P10000002", "P20000005", "P30000006"))
    areas = (pooling_area(db, "320500"), pooling_area(db, "510100"))
    assert payable_problem(policy, zhang_wei, li_na, "11", "2025-01-01", "local").code == "relation_gender_mismatch"
    assert payable_problem(policy, wang_fang, zhang_min, "70", "2026-01-08", "cross_province",
                           *areas).code == "cross_province_not_yet"
    assert payable_problem(policy, wang_fang, zhang_min, "70", "2026-03-01", "local").code == "needs_cross_province"
    assert payable_problem(policy, zhang_wei, li_na, "12", "2026-03-01", "cross_province",
                           pooling_area(db, "410100"), pooling_area(db, "410100")).code == "not_cross_province"
    assert payable_problem(policy, wang_fang, zhang_min, "70", "2026-01-09", "cross_province", *areas) is None


@pytest.mark.parametrize("pin", ["12ab56", "123", "12345678901234567", "", "１２３４５６"])
@pytest.mark.parametrize("reader", ["emulator:zhang_wei", "emulator:no_such_card"])
def test_bind_and_unbind_refuse_a_malformed_pin_before_the_card_is_read(demo, config_file, capsys, pin, reader):
    """Like settle: a --pin that is not 4 to 16 digits is a usage error (exit 2, pin_invalid), found before
    the card (or even the reader: no_such_card would fail there) or the database is touched."""
    _, db = demo
    before = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("audit", "bindings")]
    for argv in (("bind", "--user", "A10000002", "--relation", "12"), ("unbind", "--user", "B20000005")):
        code, out = run_cli(config_file, "--lang", "en", argv[0], "--reader", reader, "--pin", pin, *argv[1:],
                            "--json", capsys=capsys)
        assert code == 2 and out["error"]["code"] == "pin_invalid" and "4 to 16 digits" in out["error"]["message"]
        assert pin not in out["error"]["message"] or not pin
    assert [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("audit", "bindings")] == before
    assert db.execute("SELECT count(*) FROM bindings WHERE user_psn_no = 'P20000005' AND status = 'active'"
                      ).fetchone()[0] == 1


def test_bind_with_a_well_formed_pin_still_reaches_the_card(demo, config_file, capsys):
    code, out = run_cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "0000", "--user", "A10000002",
                        "--relation", "12", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "pin_wrong"      # four digits: the card says wrong, not usage


@pytest.mark.parametrize("seeder", ["seed", "seed_contention"])
def test_every_binding_of_the_settlement_seeds_is_offered(tmp_path, seeder):
    """The settlement tests' families obey the mutual-aid rules, so the lookup offers every one of their bindings
    (and a cross-province one draws on its quota)."""
    import settle_data
    from terminal.services.family import relatives_of
    from terminal.store.db import open_db
    db = open_db(tmp_path / "seed.db", create=True)
    try:
        getattr(settle_data, seeder)(db)
        bindings = db.execute("SELECT id, user_psn_no, scope, quota FROM bindings").fetchall()
        assert any(scope == "cross_province" for _, _, scope, _ in bindings)
        for bid, user, scope, quota in bindings:
            offered = {r.binding_id: r for r in relatives_of(db, user, TODAY)}
            assert bid in offered, (seeder, bid)
            if scope == "cross_province":
                assert offered[bid].available == quota
    finally:
        db.close()
