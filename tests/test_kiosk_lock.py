"""One reader per kiosk: the lock file, the "in use" app a second tab gets, and the app process's choice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.web.lock import ReaderLock, lock_name

ROOT = Path(__file__).resolve().parent.parent


def test_lock_names_are_safe_file_names_and_every_emulator_profile_shares_one():
    assert lock_name("pcsc") == "kiosk-pcsc.lock"
    assert lock_name("pcsc:ACS ACR39U 00 00") == "kiosk-pcsc_ACS_ACR39U_00_00.lock"
    assert lock_name("serial:/dev/ttyUSB0") == "kiosk-serial_dev_ttyUSB0.lock"
    assert lock_name("emulator:zhang_wei") == lock_name("emulator") == "kiosk-emulator.lock"


def test_second_holder_is_refused_until_the_first_releases(tmp_path: Path):
    first, second = ReaderLock(tmp_path, "pcsc"), ReaderLock(tmp_path, "pcsc")
    assert first.try_acquire()
    assert first.holder_pid() == os.getpid()
    assert not second.try_acquire()
    assert ReaderLock(tmp_path, "serial:/dev/ttyS0").try_acquire()   # another reader: another kiosk
    first.release()
    assert second.try_acquire()
    second.release()


def test_lock_is_released_when_its_process_dies(tmp_path: Path):
    code = ("import sys, time; from terminal.web.lock import ReaderLock; "
            "l = ReaderLock(sys.argv[1], 'emulator'); assert l.try_acquire(); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "held"
        mine = ReaderLock(tmp_path, "emulator:li_na")
        assert not mine.try_acquire()
        proc.send_signal(signal.SIGKILL)   # a crashed tab
        proc.wait(timeout=10)
        assert mine.try_acquire()
        mine.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_in_use_app_says_so_and_ends_when_the_reader_is_free(tmp_path: Path):
    from test_kiosk_flow import screen_text
    from terminal.ui.kiosk.in_use import InUseApp
    holder = ReaderLock(tmp_path, "pcsc")
    assert holder.try_acquire()
    mine = ReaderLock(tmp_path, "pcsc")
    app = InUseApp(mine.try_acquire, "zh", poll_s=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert "本自助机正在使用中" in screen_text(app)
        assert app.is_running
        holder.release()
        await pilot.pause(0.3)
    assert app.return_value == "free"
    mine.release()


@pytest.fixture
def web_cfg_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    return config_file


def test_app_process_runs_the_kiosk_when_it_gets_the_reader_else_the_in_use_app(web_cfg_file: Path):
    from terminal.ui.app import CashierApp
    from terminal.ui.kiosk.in_use import InUseApp
    from terminal.web.app_main import build, parse_args
    args = parse_args(["--mode", "kiosk", "--reader", "emulator", "--config", str(web_cfg_file)])
    app, lock = build(args)
    try:
        assert isinstance(app, CashierApp) and app.mode == "kiosk" and app.demo and lock.held
        other, other_lock = build(args)
        assert isinstance(other, InUseApp) and not other_lock.held
    finally:
        lock.release()


def test_app_process_reports_a_bad_config_in_one_line(tmp_path: Path):
    bad = tmp_path / "config.toml"
    bad.write_text("[web]\nmode = 'teller'\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "terminal.web.app_main", "--config", str(bad)],
                         capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert out.returncode == 1
    assert out.stderr.strip().startswith("cashier web: [web] mode must be one of kiosk, cashier")
    assert "Traceback" not in out.stderr
