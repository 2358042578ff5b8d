"""A cross-province family at a window on the embedded centre, as the demo has it (2025 rules): 张敏 (Chengdu)
pays from the insurance wallet her brother 张伟 (Zhengzhou) filled yesterday (¥300.00); 张伟's bindings screen
shows his wallet beside his account and offers no quota for a cross-province binding (under the quota model the
quota box stays)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from ui_pilot import enter_bill, insert, press, screen_text, type_text, window

AMOXICILLIN = ("X001", "阿莫西林胶囊", "A", "2", "125.50")   # 2 × ¥125.50 = ¥251.00, class A


def _cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang_model: str = "wallet"):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('cross_province_model = "wallet"', f'cross_province_model = "{lang_model}"', 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    from terminal.config import load_config
    return load_config(path)


def _accounts(app) -> list[list[str]]:
    table = app.screen.query_one("#accounts")
    return [[str(c).strip() for c in table.get_row_at(r)] for r in range(table.row_count)]


async def test_zhang_min_pays_from_her_wallet_and_every_panel_says_so(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_min")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN])
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        # resident outpatient: the fund pays 50 % (¥125.50); her wallet (¥300.00 available) the other ¥125.50
        wallet_row = [r for r in _accounts(app) if "本人医保钱包" in r[2]]
        assert [r[3:] for r in wallet_row] == [["¥300.00", "¥125.50"]], _accounts(app)
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
        split = app.screen.query_one("#split")
        shown = {label.id: str(label.render()) for label in split.query("Label") if label.display}
        # 其中本人账户 ¥0.00 + 其中医保钱包支付 ¥125.50 + 其中共济支付 ¥0.00 = 个人账户支付 ¥125.50
        assert "其中医保钱包支付" in shown.get("k-wallet_pay", ""), shown
        assert (shown["v-acct_pay"], shown["v-own_acct_pay"], shown["v-wallet_pay"], shown["v-acct_mulaid_pay"]) == (
            "¥125.50", "¥0.00", "¥125.50", "¥0.00"), shown
        slip = str(app.screen.query_one("#slip").render())
        assert "其中医保钱包支付 wallet                   125.50" in slip and "医保钱包余额 wallet balc                  174.50" in slip


async def test_zhang_weis_bindings_screen_shows_his_wallet_and_no_quota_box(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f3")
        assert type(app.screen).__name__ == "BindingsScreen"
        # ¥3,560.00 in the export, ¥300.00 of it moved into 张敏's wallet yesterday
        assert str(app.screen.query_one("#bind-own").render()) == "本人个人账户: ¥3,260.00 · 医保钱包余额: ¥0.00"
        assert not app.screen.query_one("#quota").display and not app.screen.query_one("#l-quota").display
        way = str(app.screen.query_one("#form-wallet-way").render())
        assert app.screen.query_one("#form-wallet-way").display
        assert "跨省绑定不设共济额度" in way and "医保钱包" in way and "每天最多3笔" in way and "¥2,000.00" in way
        table = app.screen.query_one("#list")
        heads = [str(c.label).strip() for c in table.columns.values()]
        assert "跨省共济" in heads and "额度" not in heads, heads
        assert "经医保钱包" in screen_text(app)


async def test_zhang_mins_bindings_screen_shows_her_wallet_in_english(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg, lang="en") as (app, pilot):
        await insert(app, pilot, "zhang_min")
        await press(app, pilot, "f3")
        assert str(app.screen.query_one("#bind-own").render()) == "Own personal account: none · Insurance wallet: ¥300.00"
        # she cannot add a binding (no employee account): the form is off, and its note about quotas is not shown
        assert app.screen.query_one("#quota").disabled and not app.screen.query_one("#form-wallet-way").display


async def test_under_the_quota_model_the_quota_box_stays(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch, lang_model="quota")
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f3")
        assert app.screen.query_one("#quota").display and app.screen.query_one("#l-quota").display
        assert not app.screen.query_one("#form-wallet-way").display
        assert "跨省额度" in screen_text(app)


@pytest.mark.parametrize("model", ["wallet", "quota"])
async def test_the_wallet_balance_is_shown_only_where_the_model_has_a_wallet(tmp_path, monkeypatch, model):
    """张伟's wallet is empty: under the wallet model it is a wallet with nothing in it (¥0.00, beside his account
    on the patient and the bindings screens); the quota model has no wallet, so neither screen shows one."""
    cfg = _cfg(tmp_path, monkeypatch, lang_model=model)
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        assert app.screen.query_one("#wallet-balc").display is (model == "wallet")
        assert ("医保钱包余额" in screen_text(app)) is (model == "wallet"), screen_text(app)
        await press(app, pilot, "f3")
        line = str(app.screen.query_one("#bind-own").render())
        assert ("医保钱包余额: ¥0.00" in line) is (model == "wallet"), line


async def test_a_quota_that_is_not_a_plain_amount_is_refused_as_typed(tmp_path, monkeypatch):
    """The quota box keeps what the cashier typed ("12,50" once became 1250, bound as ¥1,250.00): a quota that is
    not digits with at most one '.' is refused by name at F5, before the PIN is asked, and nothing is bound."""
    from test_ui_bill_entry import type_as_terminal
    from textual.widgets import Select
    from ui_pilot import centre_count
    cfg = _cfg(tmp_path, monkeypatch, lang_model="quota")
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f3")
        bound = centre_count(cfg, "bindings", "owner_psn_no = 'P10000001'")
        await type_text(app, pilot, "A10000002")
        app.screen.query_one("#relation", Select).value = "12"
        for typed in ("12,50", "12。50", "1e3", "-5"):
            quota = app.screen.query_one("#quota")
            quota.value = ""
            quota.focus()
            await type_as_terminal(app, pilot, *typed)       # "。" as the IME sends it
            assert quota.value == typed
            await press(app, pilot, "f5")
            assert f"跨省额度必须是金额(元,最多两位小数)(收到 {typed!r})" in screen_text(app), screen_text(app)
            assert quota.value == typed
    assert centre_count(cfg, "bindings", "owner_psn_no = 'P10000001'") == bound


async def test_the_wallet_row_of_the_pre_settlement_is_one_line_in_english(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg, lang="en") as (app, pilot):
        await insert(app, pilot, "zhang_min")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN])
        await press(app, pilot, "f5")
        label = app.screen.query_one("#split #k-wallet_pay")
        assert label.display and str(label.render()).strip() == "of which wallet" and label.size.height == 1
        assert str(app.screen.query_one("#split #v-wallet_pay").render()) == "¥125.50"


async def _zhang_min_paid(app, pilot) -> None:
    await insert(app, pilot, "zhang_min")
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN])
    await press(app, pilot, "f5")
    await type_text(app, pilot, "123456")
    await press(app, pilot, "enter")
    assert type(app.screen).__name__ == "ResultScreen", screen_text(app)


@pytest.mark.parametrize(("lang", "size"), [("zh", (120, 40)), ("en", (120, 40)), ("zh", (80, 24))])
async def test_the_slips_notes_are_wrapped_inside_the_slip_box(tmp_path, monkeypatch, lang, size):
    from ui_pilot import demo_app, settle_down
    cfg = _cfg(tmp_path, monkeypatch)
    app = demo_app(cfg, lang=lang)
    async with app.run_test(size=size) as pilot:
        await settle_down(app, pilot)
        await _zhang_min_paid(app, pilot)
        box, slip = app.screen.query_one("#slip-box"), app.screen.query_one("#slip")
        # nothing runs past the box's right edge: no line wider than the box (nothing to scroll sideways to)
        assert box.max_scroll_x == 0 and slip.size.width <= box.scrollable_content_region.width, (
            slip.size, box.scrollable_content_region)
        shown = str(slip.render())
        notes = shown.split("结算说明 notes:\n", 1)[1].split("\n-----", 1)[0]
        # every note whole, in order (its continuation lines indented under the note's text)
        assert "".join(line.strip() for line in notes.splitlines()) == "".join(
            line.strip() for line in app.screen.slip_text.split("结算说明 notes:\n", 1)[1].split("\n-----", 1)[0]
            .splitlines()), notes
        assert "医保钱包支付¥125.50" in notes.replace("\n", "").replace(" ", "")
        assert all(line.startswith(("- ", "  ")) for line in notes.splitlines()), notes
        # the file keeps the service's text: one line a note
        assert "- 医保钱包支付¥125.50:亲属此前转入" in app.screen.slip_text


async def _zhang_min_paying(app, pilot) -> None:
    await insert(app, pilot, "zhang_min")
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN])
    await press(app, pilot, "f5")
    assert type(app.screen).__name__ == "PaymentScreen", screen_text(app)


@pytest.mark.parametrize(("lang", "way"), [("zh", "经医保钱包"), ("en", "by wallet")])
async def test_a_binding_that_pays_by_wallet_is_not_a_ticked_row(tmp_path, monkeypatch, lang, way):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg, lang=lang) as (app, pilot):
        await _zhang_min_paying(app, pilot)
        row = next(i for i, r in enumerate(_accounts(app)) if "张伟" in r[2])
        assert _accounts(app)[row][1] == "-" and _accounts(app)[row][3:] == [way, "¥0.00"], _accounts(app)
        assert "张伟" in str(app.screen.query_one("#accounts-state").render())   # the note on the wallet way stays
        assert app.screen.chosen_relatives() == []
        # Space on it changes nothing but says why; the wallet still pays her share
        while app.screen.query_one("#accounts").cursor_row < row:
            await press(app, pilot, "down")     # ↓ from the PIN box picks the row
        await press(app, pilot, "space")
        assert _accounts(app)[row][1] == "-" and app.screen.chosen_relatives() == []
        assert way in str(app.screen.query_one("#error").render()), screen_text(app)
        assert str(app.screen.query_one("#cash-value").render()) == "¥0.00"


async def test_under_the_quota_model_the_cross_province_binding_stays_a_ticked_row(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch, lang_model="quota")
    async with window(cfg) as (app, pilot):
        await _zhang_min_paying(app, pilot)
        row = next(r for r in _accounts(app) if "张伟" in r[2])
        assert row[1] == "[X]" and row[3] != "经医保钱包", _accounts(app)
        assert app.screen.chosen_relatives() == ["P10000001"]


def test_a_folded_note_keeps_words_whole_and_starts_no_line_with_a_comma():
    from terminal.services.slip import WIDTH, _cells, folded
    note = "- 按参保地(510100)政策结算:起付线、支付比例、年度限额按参保地规定,目录按就医地;钱包余额¥1,234.56"
    lines = folded(note).splitlines()
    assert len(lines) > 1 and all(_cells(line) <= WIDTH for line in lines), lines
    assert all(line.startswith("  ") and line[2] not in ",,、:;。" for line in lines[1:]), lines
    assert lines[-1].strip().endswith("¥1,234.56") and "".join(line.strip() for line in lines) == note
    assert folded("短行\n" + "-" * WIDTH) == "短行\n" + "-" * WIDTH      # what fits is left as it is
