"""Family lookup: the patient's own account and every relative's account that may pay, with amounts.

The window asks the insurance centre (X101, embedded here) through its ledger (`open_ledger(cfg).family`) or
`cashier family`. The cast is the demo's under the earmarked-quota reading (张伟 set ¥500.00 aside for 张敏,
tests/quota_demo.py), loaded as a window loads an export: `cashier db import` (the window's cache and the embedded
centre). A binding or a person changed by hand is changed where the money and the rules are: the centre's database
(`[centre] db`).
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

import pytest
from people_helpers import TODAY, family
from quota_demo import quota_export, quota_model

from terminal.errors import CashierError


@pytest.fixture
def config_file(config_file):
    """The shipped config on the centre, with cross-province mutual aid as an earmarked quota."""
    quota_model(config_file)
    return config_file


def cli(config_file, *argv: str, capsys) -> tuple[int, dict | str]:
    """`cashier --config F argv...` in this process: (exit code, JSON with yuan as Decimal, or the text)."""
    from terminal.cli.main import main
    code = main(["--config", str(config_file), *argv])
    out = capsys.readouterr().out
    try:
        return code, json.loads(out, parse_float=Decimal)
    except ValueError:
        return code, out


@pytest.fixture
def demo(cfg, config_file, tmp_path, capsys):
    """(cfg, centre): the demo cast imported into the window's cache and the embedded centre (the centre's areas,
    their rules and catalogue too, as `cashier demo` loads them); `centre` a connection to the centre's database
    that commits each statement."""
    from centre.api import import_export
    from terminal.services.demo_db import CENTRE_DATA, DATA
    where = cfg.resolve(cfg.centre.db)
    code, out = cli(config_file, "db", "import", str(DATA / "regions.jsonl"), "--json", capsys=capsys)
    assert code == 0, out
    for export in (CENTRE_DATA / "region_rules.jsonl", CENTRE_DATA / "demo_catalogue.jsonl"):
        assert import_export(cfg.raw, where, export).imported
    code, out = cli(config_file, "db", "import", str(quota_export(tmp_path)), "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"], out
    centre = sqlite3.connect(where, isolation_level=None)
    yield cfg, centre
    centre.close()


def test_daughter_sees_her_fathers_account(demo):
    cfg, _ = demo
    view = family(cfg, card_no="A10000003")
    assert view.person.psn_name == "张小雨" and view.own is None
    assert [(r.owner_psn_no, r.owner_name, r.relation, r.relation_name, r.scope, r.available)
            for r in view.relatives] == [("P10000001", "张伟", "30", "女", "local", 356000)]
    assert view.total_available == 356000


def test_cross_province_sister_sees_the_quota_not_the_balance(demo):
    cfg, _ = demo
    view = family(cfg, certno="410102198311307028")
    assert [(r.owner_name, r.scope, r.available) for r in view.relatives] == [("张伟", "cross_province", 50000)]


def test_owner_sees_own_account_only(demo):
    cfg, _ = demo
    view = family(cfg, psn_no="P10000001")
    assert view.own == 356000 and view.relatives == []


def test_relatives_in_binding_order(demo):
    cfg, centre = demo
    centre.execute("UPDATE persons SET insutype = '310' WHERE psn_no = 'P10000002'")
    centre.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                   "VALUES ('P10000002', 'P10000003', '30', 'local', 0, '2024-01-01')")
    view = family(cfg, card_no="A10000003")
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
    cfg, centre = demo
    centre.execute(change)
    assert family(cfg, card_no="A10000003").relatives == []


def test_unknown_person(demo):
    cfg, _ = demo
    with pytest.raises(CashierError) as info:
        family(cfg, certno="110101199003070011")
    assert info.value.code == "person_unknown" and "110101********0011" in info.value.message


def test_cli_family_json(demo, config_file, capsys):
    """On the centre `family --json` is 1101-style: baseinfo, yuan under the national names, fen beside them."""
    code, out = cli(config_file, "family", "--card-no", "C30000007", "--date", TODAY, "--json", capsys=capsys)
    assert code == 0
    assert out["baseinfo"]["psn_name"] == "陈𬌗" and out["baseinfo"]["certno"] == "320502********7218"
    assert out["own"] is None
    assert out["relatives"] == [{"binding_id": 4, "owner_psn_no": "P30000006", "owner_name": "王芳", "relation": "20",
                                 "relation_name": "子", "scope": "local", "available": Decimal("800.00"),
                                 "available_fen": 80000, "pays_by": "balance"}]
    code, out = cli(config_file, "family", "--psn-no", "P10000002", "--json", capsys=capsys)
    assert code == 0 and out["own"] == {"balc": Decimal("120.00"), "balc_fen": 12000} and out["relatives"] == []
    code, out = cli(config_file, "family", "--card-no", "Z1", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "person_unknown"
    code, text = cli(config_file, "family", "--card-no", "A10000004", capsys=capsys)
    assert code == 0 and "张国强" in text and "父亲(51) 张伟" in text and "3560.00 yuan" in text
    assert "411602195002177017" not in text


def test_lookup_works_from_another_thread_with_its_own_connection(demo):
    from concurrent.futures import ThreadPoolExecutor
    cfg, _ = demo

    def work():
        return family(cfg, card_no="A10000003").relatives[0].available

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda _: work(), range(4))) == [356000] * 4


def test_an_invalid_id_number_is_certno_invalid_not_unknown(demo, config_file, capsys):
    cfg, _ = demo
    with pytest.raises(CashierError) as info:
        family(cfg, certno="410102197805126715")  # 张伟's number with a wrong check digit
    assert info.value.code == "certno_invalid" and "check digit should be 6" in info.value.message
    assert "410102********6715" in info.value.message
    code, out = cli(config_file, "family", "--certno", "410102197805126715", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "certno_invalid" and "check digit" in out["error"]["message"]
    from drivers.certno import check_digit
    bad_day = "41010219850230201" + check_digit("41010219850230201")
    code, out = cli(config_file, "family", "--certno", bad_day, "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "certno_invalid" and "not a real date" in out["error"]["message"]


PROFILE = {"P10000002": "li_na", "P10000003": "zhang_xiaoyu", "P20000005": "zhang_min"}


def offered(cfg, config_file, tmp_path, capsys, user: str) -> tuple[list[str], list[str]]:
    """Whose accounts may pay for `user`: (the family lookup's owners, the owners a pre-settlement (2206) draws on
    for a bill larger than every account together)."""
    looked_up = [r.owner_psn_no for r in family(cfg, psn_no=user).relatives]
    bill = tmp_path / "big_bill.json"
    bill.write_text('{"med_type": "11", "items": [{"code": "C001", "name": "维生素C泡腾片", "class": "C", "qty": 1, '
                    '"price": 10000000}]}', encoding="utf-8")
    code, out = cli(config_file, "settle", "--reader", f"emulator:{PROFILE[user]}", "--bill", str(bill), "--pre",
                    "--json", capsys=capsys)
    assert code == 0, out
    assert out["psn_cash_pay"] > 0     # every account that may pay has paid all it can
    return looked_up, [m["owner_psn_no"] for m in out["mulaid"]]


@pytest.mark.parametrize("owner,user,relation,scope,quota,begin", [
    ("P10000001", "P10000002", "38", "local", 0, "2025-01-01"),               # 儿媳: an in-law
    ("P30000006", "P20000005", "70", "cross_province", 100, "2023-05-01"),   # sibling before July 2024
    ("P40000008", "P20000005", "70", "cross_province", 100, "2026-03-01"),   # owner in Beijing, not open
    ("P10000004", "P10000003", "60", "local", 0, "2025-01-01"),              # owner 390, no account
])
def test_bindings_that_break_the_rules_are_never_offered(demo, config_file, tmp_path, capsys, owner, user, relation,
                                                         scope, quota, begin):
    """Defence in depth: whatever put such a binding in the centre's database, neither the family lookup nor
    settlement offers it."""
    cfg, centre = demo
    before = offered(cfg, config_file, tmp_path, capsys, user)
    centre.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [owner, user, relation, scope, quota, begin])
    assert offered(cfg, config_file, tmp_path, capsys, user) == before
    assert owner not in before[0] + before[1]


def test_an_inactive_user_is_offered_no_relative(demo):
    cfg, centre = demo
    centre.execute("UPDATE persons SET psn_insu_stas = '2' WHERE psn_no = 'P10000003'")
    assert family(cfg, card_no="A10000003").relatives == []


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
def test_sex_scope_and_cross_province_date_are_checked_like_the_centre_import(demo, config_file, tmp_path, capsys,
                                                                             owner, user, bad, good):
    """The family lookup and settlement apply the rules the centre import does (mutual_aid.check_centre_binding):
    the same binding is offered once its one broken rule is put right."""
    cfg, centre = demo
    bid = centre.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                         "VALUES (?, ?, ?, ?, ?, ?)", [owner, user, *bad]).lastrowid
    looked_up, drawn = offered(cfg, config_file, tmp_path, capsys, user)
    assert owner not in looked_up and owner not in drawn
    centre.execute("UPDATE bindings SET relation = ?, scope = ?, quota = ?, begin_date = ? WHERE id = ?", [*good, bid])
    looked_up, drawn = offered(cfg, config_file, tmp_path, capsys, user)
    assert owner in looked_up and owner in drawn


def test_payable_problem_names_the_broken_rule(demo):
    """The reason a stored binding is not offered is the code the centre import would refuse it with."""
    from centre.rules.mutual_aid import MutualAidPolicy, payable_problem
    from centre.store import people
    from centre.store.engine import Database
    cfg, _ = demo
    db = Database(cfg.resolve(cfg.centre.db))
    try:
        policy = MutualAidPolicy.default()
        zhang_wei, li_na, zhang_min, wang_fang = (
            people.person(db, psn_no=p).party(people.balance(db, p))   # type: ignore[union-attr]
            for p in ("P10000001", "P10000002", "P20000005", "P30000006"))
        areas = (people.pooling_area(db, "320500"), people.pooling_area(db, "510100"))
        henan = (people.pooling_area(db, "410100"), people.pooling_area(db, "410100"))
    finally:
        db.close()
    assert payable_problem(policy, zhang_wei, li_na, "11", "2025-01-01", "local").code == "relation_gender_mismatch"
    assert payable_problem(policy, wang_fang, zhang_min, "70", "2026-01-08", "cross_province",
                           *areas).code == "cross_province_not_yet"
    assert payable_problem(policy, wang_fang, zhang_min, "70", "2026-03-01", "local").code == "needs_cross_province"
    assert payable_problem(policy, zhang_wei, li_na, "12", "2026-03-01", "cross_province", *henan
                           ).code == "not_cross_province"
    assert payable_problem(policy, wang_fang, zhang_min, "70", "2026-01-09", "cross_province", *areas) is None


def _centre_counts(centre) -> list[int]:
    return [centre.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("audit", "bindings")]


@pytest.mark.parametrize("pin", ["12ab56", "123", "12345678901234567", "", "１２３４５６"])
@pytest.mark.parametrize("reader", ["emulator:zhang_wei", "emulator:no_such_card"])
def test_bind_and_unbind_refuse_a_malformed_pin_before_the_card_is_read(demo, config_file, capsys, pin, reader):
    """Like settle: a --pin that is not 4 to 16 digits is a usage error (exit 2, pin_invalid), found before
    the card (or even the reader: no_such_card would fail there) or the centre is asked."""
    _, centre = demo
    before = _centre_counts(centre)
    for argv in (("bind", "--user", "A10000002", "--relation", "12"), ("unbind", "--user", "B20000005")):
        code, out = cli(config_file, "--lang", "en", argv[0], "--reader", reader, "--pin", pin, *argv[1:],
                        "--json", capsys=capsys)
        assert code == 2 and out["error"]["code"] == "pin_invalid" and "4 to 16 digits" in out["error"]["message"]
        assert pin not in out["error"]["message"] or not pin
    assert _centre_counts(centre) == before
    assert centre.execute("SELECT count(*) FROM bindings WHERE user_psn_no = 'P20000005' AND status = 'active'"
                          ).fetchone()[0] == 1


def test_bind_with_a_well_formed_pin_still_reaches_the_card(demo, config_file, capsys):
    code, out = cli(config_file, "bind", "--reader", "emulator:zhang_wei", "--pin", "0000", "--user", "A10000002",
                    "--relation", "12", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "pin_wrong"      # four digits: the card says wrong, not usage


def contention_lines() -> list[dict]:
    """settle_data.seed_contention's families as centre-export lines (the same people, balances and bindings)."""
    from settle_data import (
        BEGIN_CROSS_PROVINCE,
        BEGIN_LOCAL,
        CONTENTION_AREAS,
        CONTENTION_OWNERS,
        CONTENTION_QUOTA,
        CONTENTION_USERS,
        contention_patients,
    )

    from drivers.certno import check_digit
    lines: list[dict] = [{"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
                         {"kind": "region", "admdvs": "510100", "name": "成都市", "province": "四川省", "cross_province": True}]
    people = [(o, "310", "1") for o, _ in CONTENTION_OWNERS] + [(u, "390", "2") for u in CONTENTION_USERS]
    for n, (psn_no, insutype, gend) in enumerate(people, 1):
        first17 = f"41010219800101{2 * n + (gend == '1'):03d}"
        lines.append({"kind": "person", "psn_no": psn_no, "certno": first17 + check_digit(first17),
                      "psn_name": f"测试{psn_no}", "gend": gend, "naty": "01", "brdy": "1980-01-01",
                      "card_no": f"T{n:08d}", "insuplc_admdvs": CONTENTION_AREAS.get(psn_no, "410100"),
                      "insutype": insutype, "psn_insu_stas": "1"})
    lines += [{"kind": "account", "psn_no": psn_no, "balc": balc, "year": 2026} for psn_no, balc in CONTENTION_OWNERS]
    for user, owners in contention_patients():
        for owner in owners:
            cross = owner == "O3"
            lines.append({"kind": "binding", "owner_psn_no": owner, "user_psn_no": user, "relation": "30",
                          "scope": "cross_province" if cross else "local", "quota": CONTENTION_QUOTA if cross else 0,
                          "begin_date": BEGIN_CROSS_PROVINCE if cross else BEGIN_LOCAL})
    return lines


@pytest.mark.parametrize("seeder", ["seed", "seed_contention"])
def test_every_binding_of_the_settlement_seeds_is_offered(cfg, seeder):
    """The settlement tests' families obey the mutual-aid rules (the centre imports them), so the lookup offers
    every one of their bindings (and a cross-province one draws on its quota)."""
    from centre_flow import family_lines
    from centre_http_support import prepare_db
    cfg.resolve(cfg.centre.db).parent.mkdir(parents=True, exist_ok=True)
    prepare_db(cfg.resolve(cfg.centre.db), family_lines() if seeder == "seed" else contention_lines())
    centre = sqlite3.connect(cfg.resolve(cfg.centre.db))
    try:
        bindings = centre.execute("SELECT b.id, p.card_no, b.scope, b.quota FROM bindings b "
                                  "JOIN persons p ON p.psn_no = b.user_psn_no").fetchall()
    finally:
        centre.close()
    assert any(scope == "cross_province" for _, _, scope, _ in bindings)
    for bid, card_no, scope, quota in bindings:
        relatives = {r.binding_id: r for r in family(cfg, card_no=card_no).relatives}
        assert bid in relatives, (seeder, bid)
        if scope == "cross_province":
            assert relatives[bid].available == quota
