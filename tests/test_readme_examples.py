"""The README's command-line examples that change the demo (bind, unbind, change-pin) run exactly as written
on a fresh demo database, and leave the demo's story as the README's table tells it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    """The command-line block's lines (continuations joined) from `cashier card verify` to the last bind or
    unbind, without the read-only ones in between (db init/import/stats, family)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("cashier emulator profiles"):]
    block = block[:block.index("```")].replace("\\\n", " ")
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    start = next(i for i, line in enumerate(lines) if "card verify" in line)
    end = max(i for i, line in enumerate(lines) if line.startswith(("cashier bind", "cashier unbind", "unset ")))
    return [line for line in lines[start:end + 1]
            if line and not line.startswith(("cashier db ", "cashier family", "cashier centre "))]


def test_the_readme_examples_keep_the_demo_story(tmp_path):
    """On the shipped config (a window on the embedded centre, the wallet model)."""
    from terminal.config import load_config
    from terminal.services.demo_db import ensure_demo_db
    from terminal.services.ledger import close_ledger, open_ledger
    (tmp_path / "config.toml").write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    cfg = load_config(tmp_path / "config.toml")
    assert cfg.centre.enabled
    ensure_demo_db(cfg)
    commands = _commands()
    assert any(c.startswith("cashier bind") for c in commands) and any(c.startswith("cashier unbind") for c in commands)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASHIER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = "set -e\n" + "\n".join(commands) + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    ledger = open_ledger(cfg)
    try:
        def relatives(card_no: str) -> list[tuple[str, str, int]]:
            return [(r.owner_name, r.scope, r.available) for r in ledger.family(card_no=card_no).relatives]
        # 张伟: ¥3,560.00 in the export, ¥300.00 of it in his sister's wallet since yesterday
        assert relatives("A10000003") == [("张伟", "local", 326000)]          # 3 张小雨: her father's account pays
        assert relatives("A10000004") == [("张伟", "local", 326000)]          # 4 张国强: his son's
        min_ = ledger.family(card_no="B20000005")                               # 5 张敏: her own wallet pays
        assert [(r.owner_name, r.scope, r.available, r.pays_by) for r in min_.relatives] == [
            ("张伟", "cross_province", 0, "wallet")]
        assert (min_.own, min_.wallet) == (None, 30000)
        assert relatives("A10000002") == []                                    # 2 李娜: the rest in cash
        assert ledger.family(card_no="A10000001").own == 326000
    finally:
        ledger.close()
        close_ledger(cfg)
    verify = subprocess.run(["bash", "-c", "echo 123456 | cashier card verify --reader emulator:zhang_wei --pin -"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stderr                               # every demo PIN is still 123456
