"""The cashier sees the centre: its state and the signed-in operator in the header (connected, slow, down), the
message log (^L) with every message of a settlement and no PIN or full ID number, and the day end on the centre:
this window's record beside the centre's 3201 answer, and what differs. Pilot on the embedded centre (or an HTTP
url nothing listens on)."""

from __future__ import annotations

import re
import socket
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from conftest import ROOT
from ui_pilot import (
    AMOXICILLIN_LINE,
    demo_databases,
    enter_bill,
    insert,
    press,
    screen_text,
    settle_down,
    type_text,
    wait_for,
)


def _cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, faults: str = "", extra: dict[str, str] | None = None):
    """The shipped config, its centre "slow" only past 10 s unless a test says otherwise: the window's first call
    (the embedded centre set up, its models built) can take over the shipped 1 s on a loaded machine, and the
    header would say 响应慢 until the next probe, 15 s later."""
    extra = {"slow_ms": "10000.0", **(extra or {})}
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('faults = ""', f'faults = "{faults}"', 1)
    for key, value in extra.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    from terminal.config import load_config
    return load_config(path)


@asynccontextmanager
async def _window(cfg, lang: str = "zh", size=(120, 40)):
    """The demo window on the real clock (the centre dates its settlements, and 3201 counts them, by it)."""
    from terminal.ui.app import build_app
    demo_databases(cfg)
    app = build_app(cfg, demo=True, lang=lang)
    async with app.run_test(size=size) as pilot:
        await settle_down(app, pilot)
        yield app, pilot


def _badge(app) -> str:
    from textual.widgets import Static
    return str(app.screen.query_one("#centre-state", Static).render())


async def _header(app, pilot) -> str:
    """The header's line as drawn (cut where the window cuts it)."""
    await pilot.pause()
    return app.screen._compositor.render_strips()[0].text


async def test_the_header_says_connected_as_soon_as_the_sign_in_is_done(tmp_path, monkeypatch):
    """Not at the header's next poll: the sign-in worker tells the app when it is done (a snapshot or a cashier
    looking at the opening window saw "unknown" for up to half a second)."""
    from terminal.ui.widgets import header
    monkeypatch.setattr(header, "POLL_S", 3600)          # no poll would come in time
    async with _window(_cfg(tmp_path, monkeypatch)) as (app, pilot):
        assert "已连接" in _badge(app) and "cashier01" in _badge(app), _badge(app)


async def _settle(app, pilot, profile: str = "zhang_wei") -> None:
    await insert(app, pilot, profile)
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN_LINE])
    await press(app, pilot, "f5")
    await type_text(app, pilot, "123456")
    await press(app, pilot, "enter")
    assert type(app.screen).__name__ == "ResultScreen", screen_text(app)


# ---------------------------------------------------------------- the header

@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_header_says_connected_then_down_when_the_centre_falls_over(tmp_path, monkeypatch, size):
    cfg = _cfg(tmp_path, monkeypatch)
    async with _window(cfg, size=size) as (app, pilot):
        await wait_for(app, pilot, lambda: "已连接 · cashier01" in _badge(app))   # signed in (9001) as it opened
        drawn = await _header(app, pilot)
        assert "医保中心 已连接 · cashier01" in drawn and "医保收费窗口" in drawn, drawn   # whole, at 80 columns too
        app.ledger.client.transport.centre.faults.down = True               # the centre falls over
        await insert(app, pilot, "zhang_wei")                               # 1101 finds nobody answering
        await wait_for(app, pilot, lambda: "无法连接" in _badge(app))
        assert "医保中心 无法连接 · cashier01" in await _header(app, pilot)
        assert app.screen.query_one("#centre-state").has_class("-down")


async def test_a_centre_nothing_listens_for_is_down_from_the_start_in_english(tmp_path, monkeypatch):
    with socket.socket() as s:           # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = _cfg(tmp_path, monkeypatch, extra={"url": f'"http://127.0.0.1:{port}"', "connect_timeout_s": "0.5"})
    async with _window(cfg, lang="en") as (app, pilot):
        await wait_for(app, pilot, lambda: "down" in _badge(app))
        assert _badge(app) == "● centre down · not signed in"


async def test_a_slow_centre_is_slow_in_the_header(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch, faults="delay-ms:300", extra={"slow_ms": "100.0"})
    async with _window(cfg) as (app, pilot):
        await wait_for(app, pilot, lambda: "响应慢" in _badge(app))
        assert re.fullmatch(r"● 医保中心 响应慢 [0-9]{3,}ms · cashier01", _badge(app)), _badge(app)
        assert app.screen.query_one("#centre-state").has_class("-slow")


# ---------------------------------------------------------------- the message log

async def test_the_message_log_lists_a_settlement_without_pin_or_id_number(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with _window(cfg) as (app, pilot):
        await _settle(app, pilot)
        await press(app, pilot, "f10")                          # back to the waiting screen: ^L is in its key bar
        assert "^L 报文" in " ".join(str(k.render()) for k in app.screen.query("KeyCap"))
        await press(app, pilot, "ctrl+l")
        assert type(app.screen).__name__ == "CentreLogScreen"
        text = screen_text(app)
    with sqlite3.connect(cfg.db_path) as db:
        sent = dict(db.execute("SELECT msgid, infno FROM centre_log").fetchall())
        certno = db.execute("SELECT certno FROM persons WHERE card_no = 'A10000001'").fetchone()[0]
    for infno, name in (("1101", "人员信息获取"), ("2201", "门诊挂号"), ("2204", "门诊费用明细信息上传"),
                        ("2206", "门诊预结算"), ("2207", "门诊结算")):
        msgids = [m for m, i in sent.items() if i == infno]
        assert msgids, infno
        for msgid in msgids:
            line = next(line for line in text.splitlines() if msgid in line)
            assert f" {infno} " in line and name in line and "成功 0" in line, line
    assert len(certno) == 18 and certno not in text, "a full ID number is on the message log"
    assert not re.search(r"(?<![0-9])123456(?![0-9])", text), "the PIN is on the message log"


async def test_the_message_log_says_a_refusal_and_a_centre_that_is_down(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch, faults="error:3201")      # the waiting screen's totals (3201) are refused
    async with _window(cfg, lang="en") as (app, pilot):
        app.ledger.client.transport.centre.faults.down = True
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "escape", "ctrl+l")
        text = screen_text(app)
    assert re.search(r" 1101\s+person information\s+H41010000001[0-9]{18}\s+down\s", text), text
    assert re.search(r" 3201\s+totals reconciliation\s+H41010000001[0-9]{18}\s+refused -1 \S+", text), text


# ---------------------------------------------------------------- day end on the centre

async def test_day_end_on_the_centre_shows_both_sides_and_what_differs(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with _window(cfg, size=(80, 24)) as (app, pilot):
        await press(app, pilot, "f6")                           # nothing settled yet, here or at the centre
        assert "今日本窗口无医保结算,医保中心亦无" in screen_text(app)
        assert not app.screen.query_one("#sums").display
        await press(app, pilot, "escape")
        await _settle(app, pilot)                               # zhang_wei, 310: ¥251.00
        await press(app, pilot, "f10", "f6")
        assert type(app.screen).__name__ == "DayEndScreen"
        text = screen_text(app)
        assert "本窗口记录" in text and "医保中心" in text and "账目" not in text, text
        assert "对账平衡:本窗口记录与医保中心一致" in text, text
        row = next(line for line in text.splitlines() if line.startswith("医疗费总额"))
        assert row.split() == ["医疗费总额", "¥251.00", "¥251.00"], row
        await press(app, pilot, "escape")
        with sqlite3.connect(cfg.db_path) as db:               # the window's record says one yuan more
            db.execute("UPDATE window_settlements SET medfee_sumamt = medfee_sumamt + 100, "
                       "psn_cash_pay = psn_cash_pay + 100")
        await press(app, pilot, "f6")
        text = screen_text(app)
        row = next(line for line in text.splitlines() if line.startswith("医疗费总额"))
        assert row.split() == ["医疗费总额", "¥252.00", "¥251.00"], row
        assert "对账不平:本窗口记录与医保中心不一致" in text
        assert "职工基本医疗保险: 医疗费总额(medfee_sumamt): 医药机构252.00, 医保中心251.00" in text, text
        from textual.widgets import DataTable
        table = app.screen.query_one("#sums", DataTable)
        assert [str(c.label).split("\n") for c in table.ordered_columns][1:] == [["职工医保 310", "本窗口记录"],
                                                                                ["不一致", "医保中心"]]


# ---------------------------------------------------------------- the probe between patients

async def test_an_idle_window_sees_the_centre_fall_over_and_come_back_signed_in_again(tmp_path, monkeypatch):
    """Nobody at the window: the probe (`[centre] probe_s`) finds the centre down, then back; back, the window
    signs in again (a new 9001) and the header says so, without a patient or a key."""
    cfg = _cfg(tmp_path, monkeypatch, extra={"probe_s": "0.2"})
    async with _window(cfg) as (app, pilot):
        await wait_for(app, pilot, lambda: "已连接 · cashier01" in _badge(app))
        faults = app.ledger.client.transport.centre.faults
        first_sign_no = app.ledger.client.health.sign_no
        faults.down = True
        await wait_for(app, pilot, lambda: "无法连接" in _badge(app))
        app.ledger.client.health.sign_no = ""           # the centre lost its sign-ins while it was down
        faults.down = False
        await wait_for(app, pilot, lambda: "已连接 · cashier01" in _badge(app))
        assert app.ledger.client.health.sign_no and app.ledger.client.health.sign_no != first_sign_no
        assert type(app.screen).__name__ == "WaitingScreen"


async def test_a_window_started_while_the_centre_was_down_signs_in_when_it_comes_up(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch, faults="down", extra={"probe_s": "0.2"})
    async with _window(cfg, lang="en") as (app, pilot):
        await wait_for(app, pilot, lambda: "down" in _badge(app))
        assert _badge(app) == "● centre down · not signed in"
        app.ledger.client.transport.centre.faults.down = False
        await wait_for(app, pilot, lambda: _badge(app) == "● centre connected · cashier01")



async def test_a_title_change_while_the_header_is_taken_apart_is_skipped(cfg):
    """A screen closed while it is still being built (keys faster than drawing, a busy machine) takes its header
    apart while Textual's title watchers may still run: the title has nowhere to go, and the window goes on
    (Textual's Header looks its title up and failed with NoMatches, which ended the app)."""
    from textual.widgets._header import HeaderTitle
    from ui_pilot import window

    from terminal.ui.widgets.header import WindowHeader
    async with window(cfg) as (app, pilot):
        header = app.screen.query_one(WindowHeader)
        await header.query_one(HeaderTitle).remove()       # its parts gone first, the header still attached
        app.title = "医保收费窗口 ·"                          # the title watchers run
        await settle_down(app, pilot)
        assert app.is_running and app._exception is None


async def test_a_centre_answer_that_comes_as_the_window_closes_is_dropped(cfg):
    """A probe's answer posted while the window is closing, its screens already gone: nothing to show it on, and
    no traceback (it raised ScreenStackError, seen once in a full run at a test's end)."""
    from ui_pilot import window

    from terminal.ui.messages import CentreAnswered
    async with window(cfg) as (app, _pilot):
        pass
    assert not app.screen_stack
    app.on_centre_answered(CentreAnswered())
