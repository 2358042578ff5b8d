"""The mutual-aid rules (docs/data-and-rules.md) as pure functions: each allowed and refused, with the reason given.

The centre's rules (centre/rules/mutual_aid.py), under the earmarked-quota reading of cross-province mutual aid
(`cross_province_model = "quota"`) where a test sets a quota; the wallet model's own refusal of a quota is
test_centre_mutual_aid_2025.py's.
"""

from __future__ import annotations

import pytest

from centre.errors import ConfigProblem, Refused
from centre.interface import relations
from centre.interface.amounts import MAX_FEN
from centre.rules.mutual_aid import (MutualAidPolicy, Party, available, balance_after_quota, check_binding,
                                     check_centre_binding, end_reason, in_force)
from centre.rules.regions import Region, bundled, first_batch

ZHENGZHOU = Region("410100", "郑州市", "河南省", True)
ZHOUKOU = Region("411600", "周口市", "河南省", False)
CHENGDU = Region("510100", "成都市", "四川省", True)
BEIJING = Region("110100", "北京市", "北京市", False)
AREAS = {r.admdvs: r for r in (ZHENGZHOU, ZHOUKOU, CHENGDU, BEIJING)}

OWNER = Party("P1", "张伟", "310", "1", "410100", "1", 356000)
DAUGHTER = Party("P3", "张小雨", "390", "1", "410100", "2")
FATHER = Party("P4", "张国强", "390", "1", "411600", "1")
SISTER = Party("P5", "张敏", "390", "1", "510100", "2")


def quota_model(section: dict) -> dict:
    """The shipped [mutual_aid] with `cross_province_model = "quota"`: a cross-province binding earmarks a quota."""
    return dict(section, options=dict(section["options"], cross_province_model="quota"))


@pytest.fixture
def policy(cfg) -> MutualAidPolicy:
    return MutualAidPolicy.from_config(quota_model(cfg.section("mutual_aid")))


def check(policy, owner=OWNER, user=DAUGHTER, relation="30", on_date="2025-01-01", **kw):
    kw.setdefault("owner_area", AREAS.get(owner.insuplc_admdvs))
    kw.setdefault("user_area", AREAS.get(user.insuplc_admdvs))
    check_binding(policy, owner, user, relation, on_date=on_date, **kw)


def refused(policy, code: str, **kw) -> Refused:
    with pytest.raises(Refused) as info:
        check(policy, **kw)
    assert info.value.code == code, info.value.en
    assert info.value.en and info.value.zh != info.value.en
    return info.value


def test_the_cast_bindings_are_allowed(policy):
    check(policy, user=DAUGHTER, relation="30")
    check(policy, user=FATHER, relation="51")   # another Henan area: still local
    check(policy, user=SISTER, relation="70", scope="cross_province", quota=50000, on_date="2026-02-01")


def test_owner_must_be_an_active_employee_with_an_account(policy):
    resident = Party("P9", "赵兰", "390", "1", "410100", "2", None)
    assert "310" in refused(policy, "owner_not_employee", owner=resident).en
    refused(policy, "owner_not_active", owner=Party("P1", "张伟", "310", "2", "410100", "1", 100))
    err = refused(policy, "owner_not_active", owner=Party("P1", "张伟", "310", "4", "410100", "1", 100))
    assert "ended" in err.en and "终止" in err.zh
    refused(policy, "owner_no_account", owner=Party("P1", "张伟", "310", "1", "410100", "1", None))


def test_user_must_be_insured_and_active(policy):
    err = refused(policy, "user_not_active", user=Party("P3", "张小雨", "390", "2", "410100", "2"))
    assert "suspended" in err.en
    refused(policy, "user_not_active", user=Party("P3", "张小雨", "390", "4", "410100", "2"))
    refused(policy, "user_not_insured", user=Party("P3", "张小雨", "", "1", "410100", "2"))


def test_no_self_binding(policy):
    refused(policy, "self_binding", user=OWNER, relation="10")
    refused(policy, "self_binding", relation="01")


def test_no_duplicate_active_binding(policy):
    refused(policy, "binding_exists", active_owners_of_user=["P1"])
    check(policy, active_owners_of_user=["P2"])  # a second owner is fine by default


def test_one_owner_per_user_switch(cfg):
    section = quota_model(cfg.section("mutual_aid"))
    section["options"] = dict(section["options"], one_owner_per_user=True)
    strict = MutualAidPolicy.from_config(section)
    check(strict, active_owners_of_user=[])
    err = refused(strict, "user_has_owner", active_owners_of_user=["P2"])
    assert "one owner" in err.en


@pytest.mark.parametrize("code", ["70", "71", "77", "60", "61", "64", "40", "41", "44"])
def test_close_relatives_beyond_2021_wait_for_july_2024(policy, code):
    user = Party("P7", "亲属", "390", "1", "410100", relations.get(code).gend or "1")
    err = refused(policy, "relation_not_allowed", user=user, relation=code, on_date="2024-06-30")
    assert "allowed from 2024-07-01" in err.en and "2024-07-01" in err.zh
    check(policy, user=user, relation=code, on_date="2024-07-01")


@pytest.mark.parametrize("code", ["10", "11", "12", "20", "22", "27", "30", "31", "50", "51", "52", "57"])
def test_spouse_parents_children_allowed_since_2021(policy, code):
    user = Party("P7", "亲属", "390", "1", "410100", relations.get(code).gend or "1")
    check(policy, user=user, relation=code, on_date="2021-01-01")
    check(policy, user=user, relation=code, on_date="2024-07-01")


def test_before_any_rule_nothing_is_allowed(policy):
    refused(policy, "no_rule_in_force", on_date="2020-12-31")


@pytest.mark.parametrize("code", ["53", "54", "55", "56", "28", "38", "72", "74", "76", "78", "45", "46", "65"])
def test_in_laws_refused_with_civil_code_reason(policy, code):
    user = Party("P7", "姻亲", "390", "1", "410100", relations.get(code).gend or "1")
    for day in ("2022-01-01", "2026-01-01"):
        err = refused(policy, "relation_in_law", user=user, relation=code, on_date=day)
        assert "art. 1045" in err.en and "in-law" in err.en
        assert "第一千零四十五条" in err.zh and "姻亲" in err.zh


@pytest.mark.parametrize("code", ["47", "66", "81", "92", "97", "99"])
def test_relatives_outside_1045_refused(policy, code):
    user = Party("P7", "亲戚", "390", "1", "410100", relations.get(code).gend or "1")
    err = refused(policy, "relation_not_close", user=user, relation=code, on_date="2026-01-01")
    assert "art. 1045" in err.en


def test_unknown_relation_code(policy):
    refused(policy, "relation_unknown", relation="13")
    refused(policy, "relation_unknown", relation="")


def test_relation_must_match_recorded_sex(policy):
    err = refused(policy, "relation_gender_mismatch", user=DAUGHTER, relation="20")  # a son, but she is female
    assert "张小雨" in err.en


def test_cross_province_needs_the_scope_and_a_quota(policy):
    err = refused(policy, "needs_cross_province", user=SISTER, relation="70", on_date="2026-02-01")
    assert "cross_province" in err.en
    refused(policy, "not_cross_province", user=DAUGHTER, scope="cross_province", quota=100)
    refused(policy, "quota_required", user=SISTER, relation="70", scope="cross_province", quota=0,
            on_date="2026-02-01")
    err = refused(policy, "quota_exceeds_balance", user=SISTER, relation="70", scope="cross_province",
                  quota=356001, on_date="2026-02-01")
    assert "¥3,560.01" in err.en and "¥3,560.00" in err.en       # in yuan, as the window types it
    assert "¥3,560.01" in err.zh and "分" not in err.zh
    check(policy, user=SISTER, relation="70", scope="cross_province", quota=356000, on_date="2026-02-01")
    refused(policy, "quota_local", quota=100)


def test_cross_province_only_from_its_date(policy):
    err = refused(policy, "cross_province_not_yet", user=SISTER, relation="70", scope="cross_province",
                  quota=100, on_date="2026-01-08")
    assert "2026-01-09" in err.en
    check(policy, user=SISTER, relation="70", scope="cross_province", quota=100, on_date="2026-01-09")


def test_cross_province_only_where_both_areas_are_open(policy):
    beijing_mother = Party("P9", "母亲", "390", "1", "110100", "2")
    err = refused(policy, "area_closed", user=beijing_mother, relation="52", scope="cross_province", quota=100,
                  on_date="2026-03-01")
    assert "110100" in err.en and "北京市" in err.zh
    closed_owner = Party("P1", "张伟", "310", "1", "410100", "1", 1000)
    refused(policy, "area_closed", owner=closed_owner, user=SISTER, relation="70", scope="cross_province",
            quota=100, on_date="2026-03-01", owner_area=Region("410100", "郑州市", "河南省", False))
    unknown_area = Party("P8", "某人", "390", "1", "650100", "2")
    refused(policy, "area_closed", user=unknown_area, relation="70", scope="cross_province", quota=100,
            on_date="2026-03-01")


@pytest.mark.parametrize("quota", [-1, 1.5, "100", True, MAX_FEN + 1])   # MAX_FEN itself is a quota the centre takes
def test_bad_quota_amounts_are_bad_input(policy, quota):
    refused(policy, "amount_invalid", user=SISTER, relation="70", scope="cross_province", quota=quota,
            on_date="2026-02-01")


def test_bad_scope_is_bad_input(policy):
    refused(policy, "scope_unknown", scope="national")


def test_quota_money_moves_and_availability():
    assert balance_after_quota(356000, 50000) == 306000
    with pytest.raises(Refused) as info:
        balance_after_quota(100, 101)
    assert info.value.code == "quota_exceeds_balance"
    assert available("local", 356000, 0) == 356000
    assert available("cross_province", 306000, 50000) == 50000
    assert available("local", None, 0) == 0


def test_bindings_end_with_the_owners_insurance():
    assert end_reason(OWNER) is None
    assert end_reason(Party("P1", "张伟", "310", "4", "410100")) == "owner_insurance_ended"
    assert end_reason(Party("P1", "张伟", "390", "1", "410100")) == "owner_insurance_changed"
    assert end_reason(Party("P1", "张伟", "310", "2", "410100")) is None  # suspended is not ended
    assert in_force("active", "2026-01-01", None, "2026-01-01")
    assert not in_force("active", "2026-01-02", None, "2026-01-01")
    assert not in_force("active", "2025-01-01", "2025-12-31", "2026-01-01")
    assert not in_force("ended", "2025-01-01", None, "2026-01-01")


def test_policy_config_is_checked(cfg):
    with pytest.raises(ConfigProblem):
        MutualAidPolicy.from_config({"rule": [{"since": "2021-13-01", "relations": ["10"]}]})
    with pytest.raises(ConfigProblem):
        MutualAidPolicy.from_config({"rule": [{"since": "2021-01-01", "relations": ["13"]}]})
    policy = MutualAidPolicy.from_config(cfg.section("mutual_aid"))
    assert [r.since for r in policy.rules] == ["2021-01-01", "2024-07-01"]
    assert policy.rule_on("2024-06-30").since == "2021-01-01"
    assert policy.rule_on("2024-07-01").since == "2024-07-01"


def test_relation_table_is_complete_and_marks_in_laws():
    table = relations.table()
    assert len(table) == 84
    groups = {"10", "20", "30", "40", "50", "60", "70", "80"}
    assert groups <= set(table) and {"01", "02", "97", "99"} <= set(table)
    assert {c for c, r in table.items() if r.in_law} == {"28", "38", "45", "46", "53", "54", "55", "56", "65",
                                                        "68", "72", "74", "76", "78"}
    assert table["53"].zh == "公公" and table["56"].zh == "岳母" and table["38"].zh == "儿媳"
    assert table["28"].zh == "女婿" and table["72"].zh == "嫂" and table["78"].zh == "妹夫"
    assert all(r.group in table for r in table.values())
    assert table["30"].name("en") == "daughter" and table["30"].name("zh") == "女"


def test_the_31_first_batch_pooling_areas_are_data():
    codes = first_batch()
    assert len(codes) == len(set(codes)) == 31
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    by_code = {r.admdvs: r for r in bundled()}
    assert {"410100", "411500", "500235", "371400", "510100", "511600", "622900", "320500", "340400",
            "420600", "429005", "130100", "133100"} <= set(codes)
    assert all(by_code[c].cross_province for c in codes)
    assert by_code["110100"].cross_province is False
    provinces = {by_code[c].province for c in codes}
    assert provinces == {"河南省", "重庆市", "山东省", "四川省", "甘肃省", "江苏省", "安徽省", "湖北省", "河北省"}


def test_centre_binding_lines_follow_the_rules_of_their_begin_date(policy):
    def centre(code: str, owner=OWNER, user=DAUGHTER, relation="30", begin="2025-01-01", **kw):
        kw.setdefault("owner_area", AREAS.get(owner.insuplc_admdvs))
        kw.setdefault("user_area", AREAS.get(user.insuplc_admdvs))
        if code == "ok":
            check_centre_binding(policy, owner, user, relation, begin_date=begin, scope=kw.pop("scope", "local"), **kw)
            return
        with pytest.raises(Refused) as info:
            check_centre_binding(policy, owner, user, relation, begin_date=begin, scope=kw.pop("scope", "local"),
                                 **kw)
        assert info.value.code == code, info.value.en

    centre("ok")
    centre("ok", user=Party("P3", "张小雨", "390", "2", "410100", "2"))          # a suspended user may hold one
    centre("ok", owner=Party("P1", "张伟", "310", "2", "410100", "1", 100))      # so may a suspended owner
    centre("relation_in_law", user=Party("P2", "李娜", "310", "1", "410100", "2"), relation="38")
    centre("relation_not_allowed", user=FATHER, relation="70", begin="2023-05-01")
    centre("relation_gender_mismatch", relation="20")
    centre("owner_not_employee", owner=Party("P4", "张国强", "390", "1", "411600", "1", None), user=DAUGHTER)
    centre("owner_no_account", owner=Party("P1", "张伟", "310", "1", "410100", "1", None))
    centre("cross_province_not_yet", user=SISTER, relation="70", scope="cross_province", begin="2025-12-01")
    centre("area_closed", owner=Party("P8", "某人", "310", "1", "650100", "1", 100), user=SISTER, relation="70",
           scope="cross_province", begin="2026-03-01")
    centre("ok", user=SISTER, relation="70", scope="cross_province", begin="2026-03-01")
    # history (an ended line): the relation rules still hold, the owner's account may be gone
    centre("ok", owner=Party("P1", "张伟", "390", "4", "410100", "1", None), status="ended")
    centre("relation_in_law", relation="38", user=DAUGHTER, status="ended")
