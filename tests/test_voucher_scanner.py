"""Scanners and the phone from the command line: the serial scanner driver reading the emulator's scanner through
a real pty, its spec and its errors; `cashier emulator scanner` and `cashier emulator voucher` as subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest
from qr_decode import decode, png_grey

from drivers import voucher as v
from drivers.scanner import MAX_LINE, ScannerError, SerialScanner, parse_spec
from emulator.phone import show_code
from emulator.scanner import PtyScanner

CASHIER = str(Path(sys.executable).parent / "cashier")
KEY = bytes(range(32))


# ------------------------------------------------------------------------------------------------ the driver
def test_spec_parsing_and_its_errors():
    assert parse_spec("scanner:serial:/dev/ttyACM0") == parse_spec("scanner:serial: /dev/ttyACM0 ")
    assert parse_spec("scanner:serial:socket://127.0.0.1:7000").url == "socket://127.0.0.1:7000"
    assert parse_spec("scanner:keyboard").kind == "keyboard"
    for bad in ("scanner:serial:", "scanner:usb", "serial:/dev/ttyACM0", "scanner:serial:/dev/tty\x1b[2J"):
        with pytest.raises(ScannerError) as caught:
            parse_spec(bad)
        assert caught.value.code == "bad_scanner_spec" and "scanner:serial:URL" in caught.value.message
        assert "\x1b" not in caught.value.message


def test_lines_through_a_real_pty(tmp_path):
    with PtyScanner(tmp_path / "ttySCAN") as scanner:
        assert not scanner.scan("before anyone listens")             # a closed port drops the scan
        with SerialScanner(scanner.path) as port:
            assert scanner.host_listening()
            code = show_code("zhang_wei", KEY).code
            assert scanner.scan(code) and scanner.scan("second")
            assert port.read_code(2.0) == code
            assert port.read_line(2.0) == "second"
            started = time.monotonic()
            assert port.read_line(0.3) is None                     # nothing scanned: None after the timeout
            assert 0.25 < time.monotonic() - started < 1.0
            scanner.line_end = b"\n"                               # scanners end lines with CR, LF or CR LF
            scanner.scan("lf only")
            scanner.line_end = b"\r"
            scanner.scan("cr only")
            assert (port.read_line(2.0), port.read_line(2.0)) == ("lf only", "cr only")


def test_a_scan_read_while_it_arrives_in_pieces(tmp_path):
    with PtyScanner(tmp_path / "ttySCAN") as scanner, SerialScanner(scanner.path) as port:
        code = show_code("li_na", KEY).code

        def slow() -> None:
            for i in range(0, len(code), 10):                       # a 9600-baud scanner: the line trickles in
                os.write(scanner.master, code[i:i + 10].encode())
                time.sleep(0.02)
            os.write(scanner.master, b"\r\n")
        threading.Thread(target=slow).start()
        assert port.read_code(3.0) == code


def test_bad_scans_are_clear_errors_and_the_scanner_stays_usable(tmp_path):
    with PtyScanner(tmp_path / "ttySCAN") as scanner, SerialScanner(scanner.path) as port:
        scanner.scan("https://example.org/menu")
        with pytest.raises(ScannerError) as caught:
            port.read_code(2.0)
        assert caught.value.code == "not_a_voucher" and "医保电子凭证" in caught.value.message_zh
        os.write(scanner.master, b"\xff\xfe\r\n")
        with pytest.raises(ScannerError) as caught:
            port.read_line(2.0)
        assert caught.value.code == "scanner_line" and "UTF-8" in caught.value.message
        os.write(scanner.master, b"A" * (MAX_LINE + 10))
        with pytest.raises(ScannerError) as caught:
            while True:
                port.read_line(2.0)
        assert caught.value.code == "scanner_line"
        os.write(scanner.master, b"TAIL\r\n")                      # the rest of the over-long line is dropped
        scanner.scan("after")
        assert port.read_line(2.0) == "after"


def test_an_absent_or_unplugged_scanner(tmp_path):
    with pytest.raises(ScannerError) as caught:
        SerialScanner(str(tmp_path / "nothing-here"))
    assert caught.value.code == "scanner_open" and "nothing-here" in caught.value.message
    scanner = PtyScanner(tmp_path / "ttySCAN")
    port = SerialScanner(scanner.path)
    scanner.stop()                                                  # the cable is pulled
    with pytest.raises(ScannerError) as caught:
        port.read_line(2.0)
    assert caught.value.code == "scanner_lost" and "拔出" in caught.value.message_zh
    port.close()


# ---------------------------------------------------------------------------------------- the command line
@pytest.fixture
def run_env(config_file: Path):
    env = {k: val for k, val in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB")}
    return config_file, env


def cashier(run_env, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    config_file, env = run_env
    return subprocess.run([CASHIER, "--config", str(config_file), *args], cwd=config_file.parent,
                          capture_output=True, text=True, timeout=timeout, env=env)


def config_key(config_file: Path) -> bytes:
    return v.parse_key(tomllib.loads(config_file.read_text(encoding="utf-8"))["voucher"]["key"])


def test_emulator_voucher_prints_a_fresh_code_as_text_json_and_png(run_env, tmp_path):
    config_file, _env = run_env
    key = config_key(config_file)
    text = cashier(run_env, "emulator", "voucher", "--profile", "zhang_wei")
    assert text.returncode == 0, text.stderr
    code = text.stdout.splitlines()[0]
    assert v.decode(key, code).certno == "410102197805126716"
    assert "valid until" in text.stderr and "410102197805126716" not in text.stdout + text.stderr

    png = tmp_path / "qr.png"
    out = cashier(run_env, "emulator", "voucher", "--profile", "li_na", "--json", "--png", str(png), "--lifetime", "90")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert set(got) == {"code", "expires", "lifetime_s", "profile", "png"} and got["lifetime_s"] == 90
    read = v.decode(key, got["code"])
    assert read.certno == "41010519800923682X" and read.expires - read.issued == 90
    assert decode(*png_grey(png)) == [got["code"]] and got["code"] != code

    shown = cashier(run_env, "emulator", "voucher", "--profile", "zhang_wei", "--qr")
    assert shown.returncode == 0 and "\u2588" in shown.stdout


@pytest.mark.parametrize("args,code,needle", [
    (["--profile", "nobody"], 2, "nobody"),
    (["--profile", "zhang_wei", "--lifetime", "0"], 2, "whole seconds"),
    (["--profile", "zhang_wei", "--png", "/nonexistent-dir/qr.png"], 1, "--png"),
])
def test_emulator_voucher_refusals(run_env, args, code, needle):
    out = cashier(run_env, "--lang", "en", "emulator", "voucher", *args)
    assert out.returncode == code and needle in out.stderr and "Traceback" not in out.stderr


def test_emulator_voucher_without_a_key_says_so(run_env, tmp_path):
    config_file, env = run_env
    keyless = tmp_path / "keyless.toml"
    keyless.write_text(config_file.read_text(encoding="utf-8").replace(
        tomllib.loads(config_file.read_text(encoding="utf-8"))["voucher"]["key"], ""), encoding="utf-8")
    out = cashier((keyless, env), "--lang", "en", "emulator", "voucher", "--profile", "zhang_wei", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "voucher_key"
    assert "[voucher] key is empty" in json.loads(out.stdout)["error"]["message"]
    bad = tmp_path / "bad.toml"
    bad.write_text(config_file.read_text(encoding="utf-8").replace('lifetime_s = 180', 'lifetime_s = 5'),
                   encoding="utf-8")
    out = cashier((bad, env), "emulator", "voucher", "--profile", "zhang_wei")
    assert out.returncode == 2 and "[voucher] lifetime_s" in out.stderr


def start_scanner(run_env, link: Path, *extra: str) -> subprocess.Popen:
    config_file, env = run_env
    proc = subprocess.Popen([CASHIER, "--config", str(config_file), "emulator", "scanner", "--link", str(link),
                             *extra], cwd=config_file.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    assert "scanner ready" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    assert link.is_symlink()
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_emulator_scanner_scans_codes_given_and_typed(run_env, tmp_path):
    config_file, _env = run_env
    key = config_key(config_file)
    link = tmp_path / "ttySCAN"
    given = show_code("zhao_lan", key).code
    proc = start_scanner(run_env, link, "--code", given, "--code", "not a voucher")
    try:
        with SerialScanner(str(link)) as port:
            assert port.read_code(10.0) == given                      # scanned once the port was opened
            assert port.read_line(5.0) == "not a voucher"
            assert proc.stdout.readline().strip() == "scanned"
            assert proc.stdout.readline().strip() == "scanned"
            proc.stdin.write("phone li_na\n")
            proc.stdin.flush()
            fresh = port.read_code(5.0)
            assert v.decode(key, fresh).certno == "41010519800923682X"
            proc.stdin.write(given.lower() + "\nphone nobody\n")       # typed by hand, then a wrong person
            proc.stdin.flush()
            assert port.read_line(5.0) == given.lower()
            for _ in range(2):
                proc.stdout.readline()
            refused = proc.stdout.readline()
            assert refused.startswith("error:") and "nobody" in refused
        time.sleep(0.1)
        proc.stdin.write("late\n")                                     # no program has the port: not scanned
        proc.stdin.flush()
        assert "not scanned" in proc.stdout.readline()
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            stop(proc)
    assert not link.exists()                                          # the scanner took its link away
