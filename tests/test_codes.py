"""One home for the domain's codes and money limits (centre.interface.codes, centre.interface.amounts).

The window and the centre must agree on every code and limit: an amount the centre holds that the window
refuses is a file the window cannot import, a config.toml it cannot load, a quota it cannot bind.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from people_helpers import person, run_cli, write_jsonl

from centre.errors import ConfigProblem, Refused
from centre.interface.amounts import MAX_FEN
from centre.interface.codes import BindingScope, DeductibleScope, Insutype, MedType, SetlStatus
from centre.rules import mutual_aid as centre_rules
from terminal.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("drivers", "emulator", "terminal", "centre")
AMOUNTS = [(MAX_FEN, True), (MAX_FEN + 1, False)]


def _accepts(check, refusal: type[Exception]) -> bool:
    try:
        check()
    except refusal:
        return False
    return True


@pytest.mark.parametrize("fen,ok", AMOUNTS)
def test_the_centre_takes_amounts_up_to_the_largest(fen, ok):
    """The centre's limit (the window's cache import of the same amount: the test below)."""
    assert _accepts(lambda: centre_rules.check_amount(fen), Refused) is ok


@pytest.mark.parametrize("fen,ok", AMOUNTS)
def test_one_config_loads_in_the_window_and_the_centre(config_file, fen, ok):
    from terminal.config import load_config
    text = config_file.read_text(encoding="utf-8")
    assert "wallet_max_transfer = 200000" in text
    config_file.write_text(text.replace("wallet_max_transfer = 200000", f"wallet_max_transfer = {fen}", 1),
                           encoding="utf-8")
    assert _accepts(lambda: load_config(config_file), ConfigError) is ok
    assert _accepts(lambda: centre_rules.parse_options({"wallet_max_transfer": fen}), ConfigProblem) is ok


@pytest.mark.parametrize("fen,ok", AMOUNTS)
def test_the_window_imports_any_balance_the_centre_can_hold(cfg, config_file, tmp_path, capsys, fen, ok):
    """`cashier db import`: the centre takes the balance and the window's cache holds it, or both refuse it."""
    import sqlite3
    from contextlib import closing
    path = write_jsonl(tmp_path / "centre.jsonl", [
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
        person("Q1", 1), {"kind": "account", "psn_no": "Q1", "balc": fen}])
    code, out = run_cli(config_file, "--lang", "en", "db", "import", str(path), "--json", capsys=capsys)
    assert (code == 0) is ok, out
    with closing(sqlite3.connect(cfg.db_path)) as db:
        held = db.execute("SELECT balc FROM accounts WHERE psn_no='Q1'").fetchall()
    if ok:
        assert held == [(fen,)]
    else:
        assert f"line 3: account Q1: balc {fen} is out of range (0 to {MAX_FEN} fen)" in out["error"]["message"]
        assert held == []


# Each table of codes, as a set of its values: a literal holding all of them outside codes.py is a second copy.
TABLES = {cls.__name__: set(cls.values()) for cls in (Insutype, MedType, BindingScope, DeductibleScope, SetlStatus)}


def _second_copies() -> list[str]:
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and rel != "centre/interface/amounts.py":
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(isinstance(t, ast.Name) and t.id == "MAX_FEN" for t in targets):
                        found.append(f"{rel}:{node.lineno} MAX_FEN")
                if rel == "centre/interface/codes.py" or not isinstance(node, (ast.Tuple, ast.List, ast.Set,
                                                                                  ast.Dict)):
                    continue
                elts = node.keys if isinstance(node, ast.Dict) else node.elts
                strings = {e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                found += [f"{rel}:{node.lineno} {name}" for name, values in TABLES.items() if values <= strings]
    return found


def test_every_code_table_and_money_limit_is_defined_once():
    assert _second_copies() == []
