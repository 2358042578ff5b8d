"""`cashier card read --reader serial:PATH` against `cashier emulator serial --link PATH`, both as subprocesses.

Done-when of issue 4: the same holder as the in-process emulator (and PC/SC), on a clean and a noisy line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from card_helpers import expected_json

CASHIER = [str(Path(sys.executable).parent / "cashier")]


@pytest.fixture
def run_env(config_file: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB")}
    return config_file, env


def start_terminal(run_env, link: Path, *extra: str) -> subprocess.Popen:
    config_file, env = run_env
    proc = subprocess.Popen([*CASHIER, "--config", str(config_file), "emulator", "serial", "--link", str(link),
                             *extra], cwd=config_file.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()  # "serial terminal ready at ..."
    assert "ready" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    assert link.is_symlink()
    return proc


def stop_terminal(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cashier(run_env, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    config_file, env = run_env
    return subprocess.run([*CASHIER, "--config", str(config_file), *args], cwd=config_file.parent,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("noise", [[], ["--flip-rate", "0.01", "--drop-rate", "0.002", "--seed", "4"]],
                         ids=["clean", "noisy"])
def test_card_read_over_serial_matches_the_emulator(run_env, tmp_path, noise):
    link = tmp_path / "ttyCARD"
    term = start_terminal(run_env, link, "--profile", "zhang_wei", *noise)
    try:
        for _ in range(2):  # two hosts one after the other on the same terminal
            out = cashier(run_env, "card", "read", "--reader", f"serial:{link}", "--json")
            assert out.returncode == 0, out.stdout + out.stderr
            got = json.loads(out.stdout)
            ref = json.loads(cashier(run_env, "card", "read", "--reader", "emulator:zhang_wei", "--json").stdout)
            assert got == ref
            card, holder = expected_json("zhang_wei")
            assert got["holder"] == holder and got["card"] == card
    finally:
        stop_terminal(term)
    assert not link.exists()  # the terminal took its link away


def test_keypad_pin_from_stdin_and_card_swap(run_env, tmp_path):
    link = tmp_path / "ttyPIN"
    term = start_terminal(run_env, link, "--profile", "zhang_wei")
    try:
        term.stdin.write("pin 123456\n")
        term.stdin.flush()
        assert term.stdout.readline().strip() == "pin typed"
        out = cashier(run_env, "card", "verify", "--reader", f"serial:{link}", "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        term.stdin.write("remove\n")
        term.stdin.flush()
        assert term.stdout.readline().strip() == "removed"
        out = cashier(run_env, "card", "read", "--reader", f"serial:{link}", "--json")
        assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "no_card"
        term.stdin.write("insert li_na\n")
        term.stdin.flush()
        assert term.stdout.readline().strip() == "inserted li_na"
        out = cashier(run_env, "card", "read", "--reader", f"serial:{link}", "--json")
        assert out.returncode == 0 and json.loads(out.stdout)["holder"]["name"] == "李娜"
    finally:
        stop_terminal(term)


def test_terminal_gone_is_a_clear_cli_error(run_env, tmp_path):
    link = tmp_path / "ttyGONE"
    term = start_terminal(run_env, link, "--profile", "zhang_wei")
    stop_terminal(term)
    start = time.monotonic()
    out = cashier(run_env, "--lang", "en", "card", "read", "--reader", f"serial:{link}", "--json", timeout=30)
    assert out.returncode == 1
    err = json.loads(out.stdout)["error"]
    assert err["code"] == "reader_error" and "card terminal" in err["message"]
    assert time.monotonic() - start < 10


def test_bad_flip_rate_is_a_usage_error(run_env, tmp_path):
    out = cashier(run_env, "emulator", "serial", "--link", str(tmp_path / "x"), "--flip-rate", "2")
    assert out.returncode == 2 and "between 0 and 1" in out.stderr


def test_link_over_a_real_file_is_refused(run_env, tmp_path):
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    out = cashier(run_env, "emulator", "serial", "--link", str(precious), "--profile", "zhang_wei",
                  "--state-dir", str(tmp_path / "cards"))
    assert out.returncode == 2 and "not a link" in out.stdout + out.stderr
    assert precious.read_text() == "keep me"
