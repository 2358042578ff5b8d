"""config.toml is typed and strict: every table and value is checked when it loads; an unknown key or a wrong
type is a ConfigError naming the key and the file (exit 2), never a silent default and never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.config import ConfigError, load_config
from terminal.errors import CashierError

ROOT = Path(__file__).resolve().parent.parent


def with_key(config_file: Path, section: str, key: str, value: str) -> Path:
    """The config with `key = value` written into [section] (replacing the key, or added first)."""
    lines = config_file.read_text(encoding="utf-8").split("\n")
    start = lines.index(f"[{section}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    found = [i for i in range(start + 1, end) if re.match(rf"{re.escape(key)}\s*=", lines[i])]
    if found:
        lines[found[0]] = f"{key} = {value}"
    else:
        lines.insert(start + 1, f"{key} = {value}")
    config_file.write_text("\n".join(lines), encoding="utf-8")
    return config_file


def refused(config_file: Path, *message: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(config_file)
    for part in (*message, str(config_file)):
        assert part in caught.value.message, caught.value.message
    return caught.value


def test_config_error_is_a_cashier_error_with_exit_2():
    err = ConfigError("[pin] initial_pin must be 4 to 16 digits")
    assert isinstance(err, CashierError) and err.code == "config" and err.exit_code == 2
    assert str(err) == err.message == err.localized("zh") == "[pin] initial_pin must be 4 to 16 digits"


@pytest.mark.parametrize("section, key, value, message", [
    ("psam", "check_card", '"false"', "[psam] check_card must be true or false (without quotes), not 'false'"),
    ("mutual_aid.options", "one_owner_per_user", '"no"', "[mutual_aid.options] one_owner_per_user must be true or "
                                                         "false (without quotes), not 'no'"),
    ("pin", "refuse_initial_pin", "0", "[pin] refuse_initial_pin must be true or false"),
    ("web", "demo_bill", '""', "[web] demo_bill must be true or false"),
    ("database", "synchronous", '"OFF"', "[database] synchronous must be one of FULL, NORMAL, EXTRA, not 'OFF'"),
    ("database", "busy_timeout_ms", '"10"', "[database] busy_timeout_ms must be a whole number"),
    ("database", "busy_timeout_ms", "99999999999999999999", "[database] busy_timeout_ms must be from 0 to 3600000"),
    ("terminal", "terminal_no", "5", "[terminal] terminal_no must be text in quotes, not 5"),
    ("terminal", "terminal_no", '"A|B"', "[terminal] terminal_no must be up to 32 characters, no |"),
    ("terminal", "slips_dir", "[]", "[terminal] slips_dir must be text in quotes"),
    ("terminal", "hospital_code", "true", "[terminal] hospital_code must be text in quotes"),
    ("terminal", "window", "{ a = 1 }", "[terminal] window must be text in quotes"),
    ("terminal", "hospital_name", '"\\u001b[2J"', "[terminal] hospital_name must not contain control or invisible "
                                                  "characters (U+001B)"),
    ("terminal", "lang", '"fr"', "[terminal] lang must be one of zh, en, not 'fr'"),
    ("reader", "spec", "5", "[reader] spec must be text in quotes"),
    ("reader", "timeout_s", "nan", "[reader] timeout_s must be a number (without quotes), not nan"),
    ("reader", "timeout_s", "0", "[reader] timeout_s must be more than 0 up to 600, not 0"),
    ("emulator", "default_profile", "5", "[emulator] default_profile must be text in quotes"),
    ("psam", "external_key", "5", "[psam] external_key must be text in quotes"),
    ("psam", "internal_key", '"0123"', "[psam] internal_key must be 32 hex digits, or empty"),
    ("pin", "initial_pin", "123456", "[pin] initial_pin must be text in quotes, not (hidden)"),
    ("web", "port", "99999", "[web] port must be from 1 to 65535, not 99999"),
    ("web", "port", '"8000"', "[web] port must be a whole number"),
    ("web", "max_sessions", "0", "[web] max_sessions must be from 1 to 64, not 0"),
    ("web", "public_url", '"javascript:alert(1)"', "[web] public_url must be empty or an http:// or https:// address"),
    ("policy", "b_selfpay_ratio", '"0.1000000001"', "[policy]: b_selfpay_ratio may have at most 6 decimals"),
    ("mutual_aid.options", "relatives_order", '"random"', "[mutual_aid.options] relatives_order must be one of config"),
])
def test_a_wrong_value_is_refused_naming_the_key_and_the_file(config_file, section, key, value, message):
    refused(with_key(config_file, section, key, value), message)


@pytest.mark.parametrize("section, key, message", [
    ("database", "synchronus", "[database]: unknown key 'synchronus' (did you mean synchronous?)"),
    ("psam", "check_cards", "[psam]: unknown key 'check_cards' (did you mean check_card?)"),
    ("mutual_aid.options", "one_owner", "[mutual_aid.options]: unknown key 'one_owner' (did you mean "
                                        "one_owner_per_user?)"),
    ("web", "prot", "[web]: unknown key 'prot' (did you mean port?)"),
    ("terminal", "color", "[terminal]: unknown key 'color'; known keys: hospital_name, "),
])
def test_an_unknown_key_is_refused(config_file, section, key, message):
    refused(with_key(config_file, section, key, "1"), message)


def test_an_unknown_table_or_a_stray_key_is_refused(config_file):
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text + '\n[databse]\npath = "x.db"\n', encoding="utf-8")
    refused(config_file, "config: unknown key 'databse' (did you mean database?)")
    config_file.write_text('lang = "en"\n' + text, encoding="utf-8")
    refused(config_file, "config: unknown key 'lang'")


@pytest.mark.parametrize("block, message", [
    ('[mutual_aid]\nrule = ["x"]\n', "[[mutual_aid.rule]] #1: must be a table of since and relations, not 'x'"),
    ('[mutual_aid]\noptions = "x"\n', "[mutual_aid.options] must be a table of keys, not 'x'"),
    ('[mutual_aid]\n[[mutual_aid.rule]]\nsince = 2021-01-01\nrelations = ["10"]\n',
     '[[mutual_aid.rule]] #1: needs since = "YYYY-MM-DD" (in quotes)'),
    ('[mutual_aid]\n[[mutual_aid.rule]]\nsince = "2021-01-01"\nrelation = ["10"]\n',
     "[[mutual_aid.rule]] #1: unknown key 'relation' (did you mean relations?)"),
])
def test_mutual_aid_tables_are_checked(config_file, block, message):
    text = config_file.read_text(encoding="utf-8")
    start, end = text.index("[mutual_aid]"), text.index("[policy]")
    config_file.write_text(text[:start] + block + "\n" + text[end:], encoding="utf-8")
    refused(config_file, message)


@pytest.mark.parametrize("tail, message", [
    ("x = " + "[" * 100_000 + "]" * 100_000, "not valid TOML: arrays or tables nested too deeply"),
    ("x = " + "9" * 5000, "not valid TOML: Exceeds the limit"),
])
def test_hostile_toml_is_a_config_error(config_file, tail, message):
    config_file.write_text(config_file.read_text(encoding="utf-8") + "\n[extra]\n" + tail + "\n", encoding="utf-8")
    refused(config_file, message)


def test_a_config_that_is_not_utf8_or_is_a_folder_is_a_config_error(config_file, tmp_path):
    config_file.write_bytes(config_file.read_bytes() + b"\n# \xff\n")
    refused(config_file, "not UTF-8 text")
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


def test_legal_spellings_load(config_file):
    with_key(config_file, "database", "synchronous", '"normal"')
    with_key(config_file, "web", "max_sessions", "8")
    with_key(config_file, "psam", "check_card", "true")
    cfg = load_config(config_file)
    assert cfg.database.synchronous == "NORMAL" and cfg.psam.check_card is True
    from terminal.web.settings import WebSettings
    assert WebSettings.from_config(cfg).max_sessions == 8


def test_the_shipped_config_loads_with_its_values(config_file):
    cfg = load_config(config_file)
    assert cfg.terminal.hospital_name == "郑州市第一人民医院" and cfg.database.synchronous == "FULL"
    assert cfg.psam.check_card is False and cfg.pin.initial_pin == "123456" and cfg.reader.timeout_s == 5.0
    from terminal.web.settings import WebSettings
    web = WebSettings.from_config(cfg)
    assert (web.port, web.mode, web.demo_bill, web.max_sessions) == (8000, "kiosk", True, 4)


def test_the_command_line_exits_2_with_the_key_and_the_file(config_file):
    with_key(config_file, "psam", "check_card", '"false"')
    out = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "db", "stats",
                          "--json"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    error = json.loads(out.stdout)["error"]
    assert error["code"] == "config"
    assert error["message"] == (f"[psam] check_card must be true or false (without quotes), not 'false' "
                                f"(in {config_file})")
    text = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "db", "stats"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert text.returncode == 2 and text.stderr.startswith("cashier: [psam] check_card must be true or false")
