"""Keys that arrive faster than the window handles them are not lost or misplaced (issue 11, item 16): a barcode
scanner typing a bill line, a paste into the terminal. Through Pilot with no pause between keys, and through the
real `cashier demo` in tmux with one long `send-keys` string."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ui_pilot import (
    balance,
    centre_at,
    count,
    insert,
    key_event,
    press,
    quota_centre,
    screen_text,
    settle_down,
    wait_for,
    window,
)

# two bill lines, Tab between fields and Enter after each, then F5, the PIN and Enter: 2 × 125.50 + 3 × 5.00
# (D002: class B in the centre's catalogue)
LINES = [*"X001", "tab", *"amoxicillin", "tab", "a", "tab", "2", "tab", *"125.50", "enter",
         *"D002", "tab", *"vitc", "tab", "b", "tab", "3", "tab", *"5.00", "enter"]
TOTAL = 2 * 12550 + 3 * 500


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (the cast as these screens were written)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


def burst(app, keys: list[str]) -> None:
    """Every key handed to the app at once through its driver, as a terminal delivers a scanner's burst."""
    for key in keys:
        app._driver.send_message(key_event(key))


async def test_a_burst_of_keys_lands_where_it_was_typed(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        burst(app, [k for k in LINES] + ["f5", *"123456", "enter"])
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen"
                       and "¥266.00" in screen_text(app), timeout=15)     # (its rows drawn a moment later)
    assert count(cfg, "window_settlements", "medfee_sumamt = ?", [TOTAL]) == 1
    assert count(cfg, "window_settlements", "own_acct_pay = ?", [TOTAL]) == 1
    assert balance(cfg, "P10000001") == 356000 - TOTAL       # the whole bill from his own account


async def test_digits_typed_away_from_the_pin_box_are_the_pins_in_order(cfg):
    """A patient types while the cashier's focus is elsewhere on the payment screen (or before the PIN box is
    up): the digits are the PIN's, and a digit typed after the box takes the focus does not replace them."""
    from textual.widgets import Input
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        burst(app, [k for k in LINES])
        await wait_for(app, pilot, lambda: "¥266.00" in screen_text(app), timeout=15)
        await press(app, pilot, "f5")
        pin = app.screen.query_one("#pin", Input)
        await press(app, pilot, "tab")                  # the focus leaves the PIN box
        assert app.focused is not pin
        await press(app, pilot, *"123")
        assert pin.value == "123"
        pin.focus()
        await settle_down(app, pilot)
        await press(app, pilot, *"456")
        assert pin.value == "123456"                    # not "456": focusing the box selected nothing
        await press(app, pilot, "f5")
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=15)
    assert count(cfg, "window_settlements", "own_acct_pay = ?", [TOTAL]) == 1
    assert balance(cfg, "P10000001") == 356000 - TOTAL       # the whole bill from his own account


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_long_string_sent_to_the_terminal_is_typed_whole(tmp_path, config_file):
    """`tmux send-keys -l` delivers the whole string in one write: the bill must come out as typed."""
    root = Path(__file__).resolve().parent.parent     # this checkout's code, whatever is installed
    run = f"import sys; sys.path.insert(0, {str(root)!r}); from terminal.cli.main import main; sys.exit(main())"
    session = f"cashier-fastkeys-{os.getpid()}"
    cmd = f"{sys.executable} -c {shlex.quote(run)} --config {config_file} demo; sleep 60"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd], check=True)

    def send(*args: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", session, *args], check=True)

    def screen() -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout

    def until(text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never shown:\n{screen()}")

    try:
        until("请插入社会保障卡")
        send("1")
        until("A10000001")
        send("F2")
        until("预结算不记账")   # the bill screen (its split's hint)
        send("-l", "X001\tamoxicillin\ta\t2\t125.50\rD002\tvitc\tb\t3\t5.00\r")
        send("F5")
        until("请患者输入社保卡密码")
        send("-l", "123456\r")
        shown = until("结算完成")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert "张伟" in shown and "结算完成" in shown
    from terminal.config import load_config
    from terminal.store.db import open_from_config
    db = open_from_config(load_config(config_file))
    try:
        rows = db.execute("SELECT medfee_sumamt, bill FROM window_settlements").fetchall()
    finally:
        db.conn.close()
    assert len(rows) == 1 and rows[0][0] == TOTAL
    assert '"amoxicillin"' in rows[0][1] and '"vitc"' in rows[0][1]
