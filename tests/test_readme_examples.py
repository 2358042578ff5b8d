"""The README's command-line examples that change the demo (bind, unbind, change-pin) run exactly as written
on a fresh demo database, and leave the demo's story as the README's table tells it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import window_ledger

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
    from terminal.config import load_config
    from terminal.services.bindings import policy_of
    from terminal.services.demo_db import ensure_demo_db
    from terminal.services.family import family_for
    from terminal.store.db import open_from_config
    (tmp_path / "config.toml").write_text(window_ledger((ROOT / "config.toml").read_text(encoding="utf-8")),
                                          encoding="utf-8")
    cfg = load_config(tmp_path / "config.toml")
    ensure_demo_db(cfg)
    commands = _commands()
    assert any(c.startswith("cashier bind") for c in commands) and any(c.startswith("cashier unbind") for c in commands)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASHIER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = "set -e\n" + "\n".join(commands) + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    db = open_from_config(cfg)
    try:
        def relatives(card_no: str) -> list[tuple[str, str, int]]:
            view = family_for(db, card_no=card_no, policy=policy_of(cfg))
            return [(r.owner_name, r.scope, r.available) for r in view.relatives]
        assert relatives("A10000003") == [("张伟", "local", 356000)]          # 3 张小雨: her father's account pays
        assert relatives("A10000004") == [("张伟", "local", 356000)]          # 4 张国强: his son's
        assert relatives("B20000005") == [("张伟", "cross_province", 50000)]  # 5 张敏: an earmarked quota
        assert relatives("A10000002") == []                                    # 2 李娜: the rest in cash
        assert db.execute("SELECT balc FROM accounts WHERE psn_no = 'P10000001'").fetchone() == (356000,)
    finally:
        db.close()
    verify = subprocess.run(["bash", "-c", "echo 123456 | cashier card verify --reader emulator:zhang_wei --pin -"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stderr                               # every demo PIN is still 123456
