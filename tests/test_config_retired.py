"""`[centre] enabled = false` (the offline training ledger) was retired: a config that still says so is refused
at load with its own code and a message that says what to use instead; `enabled = true` (old configs) and no
`enabled` at all load as before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.config import load_config
from terminal.error_codes import E
from terminal.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
CASHIER = Path(sys.executable).parent / "cashier"


def _config(tmp_path: Path, line: str | None) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert "\nenabled =" not in text      # the shipped config no longer carries the key
    if line is not None:
        text = text.replace("\n[centre]\n", f"\n[centre]\n{line}\n", 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("line", [None, "enabled = true"])
def test_a_config_without_the_key_or_with_true_loads(tmp_path, line):
    cfg = load_config(_config(tmp_path, line))
    assert cfg.centre.url == "" and cfg.centre.enabled is True


def test_enabled_false_is_refused_at_load_with_its_own_code(tmp_path):
    path = _config(tmp_path, "enabled = false")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.code == E.TRAINING_LEDGER_RETIRED.code == "training_ledger_retired"
    assert info.value.exit_code == 2
    assert "training ledger was retired" in info.value.message and "embedded centre" in info.value.message
    assert "no server" in info.value.message and str(path.name) in info.value.message
    assert "离线培训账本已停用" in info.value.message_zh and "内嵌医保中心" in info.value.message_zh


@pytest.mark.parametrize("lang,words", [("en", "the offline training ledger was retired"),
                                        ("zh", "离线培训账本已停用")])
def test_the_command_line_says_so_and_exits_2_touching_nothing(tmp_path, lang, words):
    path = _config(tmp_path, "enabled = false")
    proc = subprocess.run([str(CASHIER), "--config", str(path), "--lang", lang, "reconcile", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "training_ledger_retired" and words in error["message"]
    assert not (tmp_path / "var").exists()     # no database, no centre opened


def test_a_string_false_is_a_type_error_not_the_retirement(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, 'enabled = "false"'))
    assert info.value.code == "config" and "enabled" in info.value.message
