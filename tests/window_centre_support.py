"""A cashier window on the centre, for tests: its own folder, config and databases, and `cashier` run the way a
cashier runs it (a subprocess, `--json`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest import ROOT

CASHIER = Path(sys.executable).with_name("cashier")
DEMO_BILL = ROOT / "terminal" / "web" / "demo_bills" / "outpatient.json"


@dataclass
class Window:
    home: Path
    config: Path

    def run(self, *args: str, timeout: float = 120, pin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASHIER_")}
        if pin is not None:
            env["CASHIER_PIN"] = pin
        return subprocess.run([str(CASHIER), "--config", str(self.config), *args], capture_output=True, text=True,
                              timeout=timeout, cwd=self.home, env=env)

    def json(self, *args: str, ok: bool = True, **kw: Any) -> dict[str, Any]:
        done = self.run(*args, "--json", **kw)
        assert (done.returncode == 0) == ok, (done.returncode, done.stdout, done.stderr)
        return json.loads(done.stdout, parse_float=Decimal)

    def settle(self, profile: str, *extra: str, bill: Path = DEMO_BILL, ok: bool = True) -> dict[str, Any]:
        return self.json("settle", "--reader", f"emulator:{profile}", "--bill", str(bill), *extra, ok=ok,
                         pin="123456")

    def db(self) -> Any:
        import sqlite3
        return sqlite3.connect(self.home / "var" / "cashier.db")


def make_window(home: Path, *, url: str = "", window: str = "W01", hospital_code: str = "H41010000001",
                centre_db: Path | None = None, demo: bool = True) -> Window:
    """A window's folder: config.toml (the centre's client: embedded, or over HTTP at `url`), and the demo data
    loaded (into the embedded centre too, when it is embedded)."""
    home.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = ""', f'url = "{url}"', 1)
    text = text.replace('window = "W01"', f'window = "{window}"', 1)
    text = text.replace('hospital_code = "H41010000001"', f'hospital_code = "{hospital_code}"', 1)
    if centre_db is not None:
        text = text.replace('db = "var/centre.db"', f'db = "{centre_db}"', 1)
    config = home / "config.toml"
    config.write_text(text, encoding="utf-8")
    if demo:
        from ui_pilot import demo_databases

        from terminal.config import load_config
        demo_databases(load_config(config))
    return Window(home, config)


def fen_of(out: dict[str, Any], name: str) -> int:
    """An amount in fen from `settle --json` (yuan under the national name, fen under NAME_fen)."""
    return out[f"{name}_fen"]


def balc_fen(window: Window, card_no: str) -> int | None:
    """The personal account's balance (fen) as the centre answers `family`; None without an account."""
    own = window.json("family", "--card-no", card_no)["own"]
    return None if own is None else own["balc_fen"]
