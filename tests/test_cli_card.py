"""`cashier card read|verify` and `cashier emulator profiles` run as a user runs them (a subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from card_helpers import PROFILE_IDS, expected_json, profile

from drivers import certno

ROOT = Path(__file__).resolve().parent.parent


def _cashier() -> list[str]:
    exe = Path(sys.executable).parent / "cashier"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("cashier")
    return [found] if found else [sys.executable, "-m", "terminal.cli.main"]


@pytest.fixture
def cli(config_file: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*_cashier(), "--config", str(config_file), *args], cwd=config_file.parent,
                              capture_output=True, text=True, timeout=60, env=env)

    return run


@pytest.mark.parametrize("pid", PROFILE_IDS)
def test_card_read_json_and_line(cli, pid):
    out = cli("card", "read", "--reader", f"emulator:{pid}", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    card, holder = expected_json(pid)
    assert got["card"] == card and got["holder"] == holder
    assert got["atr"] == profile(pid)["atr"] and got["region"] == card["card_sn"][:6]
    line = cli("card", "read", "--reader", f"emulator:{pid}", "--line")
    assert line.returncode == 0, line.stderr
    text = line.stdout.rstrip("\n")
    assert text == got["line"]
    expected = "|".join([card["card_sn"][:6], holder["certno"], card["card_no"], card["card_sn"],
                         holder["name"], profile(pid)["atr"][8:], card["version"],
                         card["issue_date"].replace("-", ""), card["expiry_date"].replace("-", ""), "", ""]) + "|"
    assert text == expected


def test_text_output_masks_the_id_number(cli):
    out = cli("card", "read", "--reader", "emulator:li_na")
    assert out.returncode == 0, out.stderr
    assert "41010519800923682X" not in out.stdout
    assert certno.mask("41010519800923682X") in out.stdout and "李娜" in out.stdout


def test_expired_card_reads_and_says_so(cli):
    out = cli("card", "read", "--reader", "emulator:liu_yang")
    assert out.returncode == 0 and "2024-05-31  已过期 EXPIRED" in out.stdout
    assert "EXPIRED" not in cli("card", "read", "--reader", "emulator:zhang_wei").stdout


def test_a_card_from_outside_the_repository(cli, tmp_path):
    """emulator:PATH.json plays a card laid out like the profiles but not bundled."""
    other = profile("zhang_wei")
    other["holder"].update(name="欧阳娜娜", name_ext="", certno="110101199003074514")
    other["card"].update(card_no="Z99000001", card_sn="110100D156000005C38275EEFC9B0001", version="3.00")
    path = tmp_path / "stranger.json"
    path.write_text(json.dumps(other, ensure_ascii=False), encoding="utf-8")
    out = cli("card", "read", "--reader", f"emulator:{path}", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["holder"]["name"] == "欧阳娜娜" and got["card"]["card_no"] == "Z99000001"
    assert got["line"].startswith("110100|110101199003074514|Z99000001|")


def test_default_reader_from_config(cli, config_file):
    text = config_file.read_text(encoding="utf-8").replace('spec = "pcsc"', 'spec = "emulator:chen_jie"')
    config_file.write_text(text, encoding="utf-8")
    out = cli("card", "read", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["holder"]["name"] == "陈𬌗"


def test_wrong_pin_then_blocked_across_runs(cli):
    out = cli("--lang", "en", "card", "verify", "--reader", "emulator:zhang_wei", "--pin", "000000")
    assert out.returncode == 1 and out.stderr.strip() == "cashier: Wrong PIN. 2 tries left."
    out = cli("--lang", "en", "card", "verify", "--reader", "emulator:zhang_wei", "--pin", "000000", "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout) == {"error": {"code": "pin_wrong", "message": "Wrong PIN. 1 try left."}}
    out = cli("card", "verify", "--reader", "emulator:zhang_wei", "--pin", "000000", "--json")
    assert json.loads(out.stdout)["error"]["code"] == "pin_blocked"
    out = cli("--lang", "en", "card", "verify", "--reader", "emulator:zhang_wei", "--pin", "123456")  # still blocked
    assert out.returncode == 1 and out.stderr.strip() == "cashier: The card's PIN is blocked."


def test_blocked_card_and_right_pin(cli):
    out = cli("--lang", "en", "card", "verify", "--reader", "emulator:wang_fang", "--pin", "123456", "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout) == {"error": {"code": "pin_blocked", "message": "The card's PIN is blocked."}}
    ok = cli("card", "verify", "--reader", "emulator:zhang_min", "--pin", "123456", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"verified": True}


def test_malformed_pin(cli):
    out = cli("card", "verify", "--reader", "emulator:zhang_min", "--pin", "12", "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["error"]["code"] == "pin_invalid"


def test_change_pin(cli):
    assert cli("card", "change-pin", "--reader", "emulator:zhao_lan", "--old", "123456", "--new", "13579").returncode == 0
    assert cli("card", "verify", "--reader", "emulator:zhao_lan", "--pin", "13579").returncode == 0
    assert cli("card", "verify", "--reader", "emulator:zhao_lan", "--pin", "123456").returncode == 1


def test_trace_redacts_the_pin(cli):
    out = cli("card", "verify", "--reader", "emulator:zhang_min", "--pin", "123456", "--trace")
    assert out.returncode == 0
    assert "> 00 20 00 00 03 ** ** **" in out.stderr and "12 34 56" not in out.stderr
    assert "> 00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF" in out.stderr


def test_unknown_profile_and_reader(cli):
    out = cli("card", "read", "--reader", "emulator:nobody", "--json")     # a usage error: nothing to read
    assert out.returncode == 2 and json.loads(out.stdout)["error"]["code"] == "unknown_profile"
    out = cli("card", "read", "--reader", "floppy:A", "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["error"]["code"] == "bad_reader_spec"


def test_emulator_profiles(cli):
    out = cli("emulator", "profiles", "--json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["profiles"]
    assert [p["id"] for p in items] == PROFILE_IDS
    assert all(set(p) >= {"id", "name", "description", "version"} for p in items)
    text = cli("emulator", "profiles").stdout
    assert "li_na" in text and "3.00" in text


def _verify_at_once(config_file: Path, pins: list[str]) -> list[dict]:
    """`cashier card verify` with each PIN, every process started at once against one state folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB", "CASHIER_PIN")}
    procs = [subprocess.Popen([*_cashier(), "--config", str(config_file), "--lang", "en", "card", "verify",
                               "--reader", "emulator:zhang_wei", "--pin", pin, "--json"], cwd=config_file.parent,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for pin in pins]
    return [json.loads(p.communicate(timeout=120)[0]) for p in procs]


# one race of each kind in the suite; three more behind the `slow` marker (`-m slow`), each ~5 s of 16 processes
@pytest.mark.parametrize("trial, first_insertion", [(1, False), pytest.param(2, False, marks=pytest.mark.slow),
                                                    pytest.param(3, False, marks=pytest.mark.slow), (4, True),
                                                    pytest.param(5, True, marks=pytest.mark.slow)])
def test_concurrent_wrong_pins_never_get_more_tries_than_the_card_allows(config_file, trial, first_insertion):
    """16 processes verify wrong PINs on one card at once: exactly the card's 3 tries are counted (answers
    "2 tries left", "1 try left", then blocked; never one of them twice), and the right PIN afterwards
    does not unblock it — whether the card's state file exists before the race or is written during it."""
    state = config_file.parent / "var" / "cards"
    if not first_insertion:
        assert _verify_at_once(config_file, ["123456"]) == [{"verified": True}]   # the state file now exists
    answers = _verify_at_once(config_file, ["000000"] * 16)
    wrong = sorted(a["error"]["message"] for a in answers if a.get("error", {}).get("code") == "pin_wrong")
    assert wrong == ["Wrong PIN. 1 try left.", "Wrong PIN. 2 tries left."], answers
    assert all(a["error"]["code"] in ("pin_wrong", "pin_blocked") for a in answers), answers
    saved = json.loads(next(state.glob("*.json")).read_text(encoding="utf-8"))
    assert saved["tries_left"] == 0
    assert _verify_at_once(config_file, ["123456"])[0]["error"]["code"] == "pin_blocked"


def _run(config_file: Path, *args: str, stdin: str | None = None, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB", "CASHIER_PIN",
                                                               "CASHIER_NEW_PIN")}
    env.update(env_extra)
    return subprocess.run([*_cashier(), "--config", str(config_file), "--lang", "en", *args], cwd=config_file.parent,
                          input=stdin, capture_output=True, text=True, timeout=60, env=env)


def test_the_pin_from_stdin_or_the_environment_never_from_argv(config_file):
    verify = ("card", "verify", "--reader", "emulator:zhang_min", "--json")
    out = _run(config_file, *verify, "--pin", "-", stdin="123456\n")
    assert out.returncode == 0 and json.loads(out.stdout) == {"verified": True}, out.stderr
    out = _run(config_file, *verify, "--pin", "-", stdin="000000\r\n")
    assert json.loads(out.stdout)["error"] == {"code": "pin_wrong", "message": "Wrong PIN. 2 tries left."}
    out = _run(config_file, *verify, CASHIER_PIN="123456")
    assert out.returncode == 0 and json.loads(out.stdout) == {"verified": True}, out.stderr
    out = _run(config_file, *verify, "--pin", "-", stdin="")                     # nothing on stdin
    assert out.returncode == 2 and json.loads(out.stdout)["error"]["code"] == "pin_missing"
    out = _run(config_file, *verify, CASHIER_PIN="12ab56")
    err = json.loads(out.stdout)["error"]
    assert out.returncode == 2 and err["code"] == "pin_invalid" and "$CASHIER_PIN" in err["message"]
    assert "12ab56" not in out.stdout + out.stderr
    change = ("card", "change-pin", "--reader", "emulator:zhang_min", "--json")
    out = _run(config_file, *change, "--old", "-", "--new", "-", stdin="123456\n13579\n")
    assert out.returncode == 0 and json.loads(out.stdout) == {"changed": True}, out.stderr
    out = _run(config_file, *change, CASHIER_PIN="13579", CASHIER_NEW_PIN="24680")
    assert out.returncode == 0, out.stdout
    out = _run(config_file, *change, "--old", "-", stdin="24680\n")               # no new PIN anywhere
    assert out.returncode == 2 and json.loads(out.stdout)["error"]["code"] == "pin_missing"
    assert _run(config_file, *verify, "--pin", "-", stdin="24680\n").returncode == 0


@pytest.mark.parametrize("command", [("settle",), ("bind",), ("unbind",), ("card", "verify"), ("card", "change-pin")])
def test_help_says_how_to_keep_the_pin_off_the_command_line(config_file, command):
    out = _run(config_file, *command, "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    assert "stdin" in text and "$CASHIER_PIN" in text, text
    if command[-1] == "change-pin":
        assert "$CASHIER_NEW_PIN" in text


def test_trace_redacts_the_holder_and_trace_raw_shows_it_with_a_warning(config_file):
    """EF06's ID number (first 6 + last 4 kept) and name never reach a --trace; --trace-raw is for card
    debugging and says so."""
    card = profile("li_na")["holder"]
    certno_hex = card["certno"].encode().hex(" ").upper()
    name_hex = card["name"].encode("gbk").hex(" ").upper()
    out = _run(config_file, "card", "read", "--reader", "emulator:li_na", "--trace")
    assert out.returncode == 0, out.stderr
    assert certno_hex not in out.stderr and name_hex not in out.stderr
    masked = " ".join([*card["certno"][:6].encode().hex(" ").upper().split(), *["**"] * 8,
                       *card["certno"][-4:].encode().hex(" ").upper().split()])
    assert f"< 08 12 {masked} 9000" in out.stderr
    assert "< 09 1E " + " ".join(["**"] * 30) + " 9000" in out.stderr
    assert "warning" not in out.stderr
    raw = _run(config_file, "card", "read", "--reader", "emulator:li_na", "--trace-raw")
    assert raw.returncode == 0 and certno_hex in raw.stderr and name_hex in raw.stderr
    assert raw.stderr.startswith("cashier: warning: --trace-raw shows the holder's ID number and name")
    pin = _run(config_file, "card", "verify", "--reader", "emulator:li_na", "--pin", "123456", "--trace-raw")
    assert "> 00 20 00 00 03 ** ** **" in pin.stderr and "12 34 56" not in pin.stderr   # PINs stay hidden


def test_messages_follow_the_configs_language(config_file):
    """No --lang: [terminal].lang decides (zh in the shipped config); --lang overrides it."""
    env = {k: v for k, v in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB", "CASHIER_PIN")}

    def verify(*extra: str) -> str:
        out = subprocess.run([*_cashier(), "--config", str(config_file), *extra, "card", "verify", "--reader",
                              "emulator:wang_fang", "--pin", "123456"], capture_output=True, text=True, env=env)
        return out.stderr.strip()
    assert verify() == "cashier: 密码已锁定"
    assert verify("--lang", "en") == "cashier: The card's PIN is blocked."
    config_file.write_text(config_file.read_text(encoding="utf-8").replace('lang = "zh"', 'lang = "en"', 1),
                           encoding="utf-8")
    assert verify() == "cashier: The card's PIN is blocked."
    assert verify("--lang", "zh") == "cashier: 密码已锁定"


def test_a_missing_profile_file_is_a_usage_error(config_file):
    out = _run(config_file, "card", "read", "--reader", "emulator:/no/such.json", "--json")
    err = json.loads(out.stdout)["error"]
    assert out.returncode == 2 and err["code"] == "unknown_profile" and "/no/such.json" in err["message"]
