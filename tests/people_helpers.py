"""Shared pieces of the store / mutual-aid tests: the demo database in tmp, export lines, a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.certno import check_digit

TODAY = "2026-11-29"


@pytest.fixture
def demo(cfg):
    """(cfg, db): the demo (regions + the cast, in the window's cache and the embedded centre) in tmp_path, one
    connection to the window's database on this thread."""
    from ui_pilot import demo_databases

    from terminal.store.db import open_from_config
    demo_databases(cfg)
    db = open_from_config(cfg)
    yield cfg, db
    db.close()


def family(cfg, **who):
    """The family view as of TODAY, asked of the centre (X101) through a ledger of its own."""
    from terminal.services.ledger import open_ledger
    ledger = open_ledger(cfg)
    try:
        return ledger.family(today=TODAY, **who)
    finally:
        ledger.close()


@pytest.fixture
def empty_db(cfg):
    from terminal.store.db import open_from_config
    db = open_from_config(cfg, create=True)
    yield db
    db.close()


def certno(prefix17: str) -> str:
    """A valid ID number from its first 17 digits."""
    return prefix17 + check_digit(prefix17)


def person(psn_no: str, seq: int, **over) -> dict:
    """A valid person line; seq (< 100) makes certno and card_no unique. The ID number's 17th digit
    agrees with gend (odd '1' male, the default; even '2' female), as the importer checks."""
    gend = over.get("gend", "1")
    base = f"41010219800101{seq % 100:02d}{2 if gend == '2' else 1}"
    d = {"kind": "person", "psn_no": psn_no, "certno": certno(base), "psn_name": f"测试{seq}", "gend": "1",
         "naty": "01", "brdy": "1980-01-01", "card_no": f"T{seq:08d}", "card_sn": "41" + "0" * 30,
         "insuplc_admdvs": "410100", "insutype": "310", "psn_insu_stas": "1"}
    d.update(over)
    return d


def write_jsonl(path: Path, objs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs), encoding="utf-8")
    return path


def run_cli(config_file: Path, *argv: str, capsys) -> tuple[int, dict | str]:
    """Run `cashier --config F argv...` in this process; (exit code, parsed JSON or text)."""
    from terminal.cli.main import main
    code = main(["--config", str(config_file), *argv])
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except ValueError:
        return code, out
