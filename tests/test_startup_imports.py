"""What a command loads as it starts: the centre's transaction handlers (and the dispatcher that runs them) only
when a centre is opened, and each handler only when its transaction is first called. `cashier` runs once per
command, so every module it imports and does not use is start-up time the cashier waits for (and the suite pays
for on each of its hundreds of runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# runs `cashier ARGS...` in this process, then writes its exit code and every module it loaded to the file argv[1]
_COMMAND = """
import json, sys
from terminal.cli.main import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def _loaded_by(config_file: Path, *args: str) -> tuple[int, list[str], str]:
    """(exit code, the modules loaded, stdout) of `cashier --config CONFIG ARGS...` in a fresh process."""
    report = config_file.parent / "modules.json"
    proc = subprocess.run([sys.executable, "-c", _COMMAND, str(report), "--config", str(config_file), *args],
                          cwd=config_file.parent, capture_output=True, text=True, timeout=120)
    assert report.exists(), proc.stderr
    done = json.loads(report.read_text(encoding="utf-8"))
    return done["code"], done["modules"], proc.stdout


def _printed(code: str, *args: str, cwd: Path = ROOT):
    """What `python -c CODE ARGS...` printed as JSON on its last line (it must exit 0)."""
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def _handlers(modules: list[str]) -> list[str]:
    return [m for m in modules if m == "centre.dispatcher" or m.startswith("centre.handlers")]


def test_the_config_with_the_centres_tables_loads_no_handler(config_file: Path) -> None:
    """[policy] and [mutual_aid] are checked by the centre's own rules as the config loads, without its handlers."""
    text = config_file.read_text(encoding="utf-8")
    assert "\n[policy]" in text and "\n[mutual_aid]" in text
    code = ("import json, sys\nfrom terminal.config import load_config\nload_config(sys.argv[1])\n"
            "print(json.dumps(sorted(sys.modules)))")
    modules = _printed(code, str(config_file), cwd=config_file.parent)
    assert "centre.rules.policy" in modules            # the check did run
    assert _handlers(modules) == []


def test_a_bad_policy_is_still_refused_as_the_config_loads(config_file: Path) -> None:
    text = config_file.read_text(encoding="utf-8").replace("\n[policy]\n", "\n[policy]\nno_such_key = 1\n", 1)
    config_file.write_text(text, encoding="utf-8")
    from terminal.config import load_config
    from terminal.errors import ConfigError
    with pytest.raises(ConfigError, match="no_such_key"):
        load_config(config_file)


def test_card_read_loads_no_handler_and_no_cipher(config_file: Path) -> None:
    code, modules, out = _loaded_by(config_file, "card", "read", "--reader", "emulator:zhang_wei", "--json")
    assert code == 0
    assert json.loads(out)["holder"]["name"] == "张伟"
    assert _handlers(modules) == []
    assert [m for m in modules if m.startswith("cryptography")] == []     # a read authenticates nothing


def test_settle_help_loads_no_handler(config_file: Path) -> None:
    code, modules, out = _loaded_by(config_file, "settle", "--help")
    assert code == 0 and "--bill" in out
    assert _handlers(modules) == []


_CENTRE = """
import json, sys, tomllib
sys.path.insert(0, sys.argv[2])
from centre.api import open_centre
from centre_support import Client, demo_lines, load_lines
with open(sys.argv[3], "rb") as config:
    centre = open_centre(tomllib.load(config), sys.argv[1])
load_lines(centre.dispatcher.store.db(), demo_lines())
client = Client(centre.call)
seen = {}
def handlers():
    # the handlers' modules loaded (their shared Ctx is the dispatcher's own)
    return sorted(m for m in sys.modules if m.startswith("centre.handlers.") and m != "centre.handlers.context")
seen["opened"] = handlers()
client.sign_in()
seen["signed_in"] = handlers()
client.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "410102197805126716", "card_sn": ""}})
seen["person"] = handlers()
print(json.dumps(seen))
"""


def test_the_centre_loads_a_handler_when_its_transaction_is_first_called(tmp_path: Path) -> None:
    seen = _printed(_CENTRE, str(tmp_path / "centre.db"), str(ROOT / "tests"), str(ROOT / "config.toml"))
    assert seen["opened"] == []
    assert "centre.handlers.signin" in seen["signed_in"] and "centre.handlers.family" not in seen["signed_in"]
    assert "centre.handlers.person" in seen["person"] and "centre.handlers.family" not in seen["person"]


def test_every_transaction_names_a_handler_that_is_there() -> None:
    """The table names its handlers by module and function: a name that is not there is found here, not on the
    first call of a transaction in a window."""
    from centre.dispatcher import HANDLERS, handler_of
    from centre.interface.transactions.registry import TRANSACTIONS
    assert set(HANDLERS) <= set(TRANSACTIONS)
    for infno, (module, function, writes) in HANDLERS.items():
        handler = handler_of(infno)
        assert callable(handler) and handler.__module__ == f"centre.handlers.{module}"
        assert handler.__name__ == function and isinstance(writes, bool)
        assert handler_of(infno) is handler


def test_every_transaction_names_models_that_are_there() -> None:
    """The registry names each transaction's models by module and class, imported when first asked for."""
    from pydantic import BaseModel

    from centre.interface.transactions.registry import TRANSACTIONS
    for infno, tx in TRANSACTIONS.items():
        for name, model in ((tx.input_model, tx.input), (tx.output_model, tx.output)):
            assert issubclass(model, BaseModel), infno
            module, _, cls = name.partition(".")
            assert (model.__module__, model.__name__) == (f"centre.interface.transactions.{module}", cls)


def test_the_registry_builds_only_the_models_asked_for() -> None:
    code = ("import json, sys\nfrom centre.interface.transactions.registry import TRANSACTIONS\n"
            "TRANSACTIONS['9001'].input\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('centre.interface.transactions.'))))")
    assert _printed(code) == ["centre.interface.transactions.registry", "centre.interface.transactions.signin"]


_SERVED = """
import json, sys, tomllib
from centre.api import open_centre
from centre.http import build_app
with open(sys.argv[2], "rb") as config:
    centre = open_centre(tomllib.load(config), sys.argv[1])
build_app(centre.dispatcher)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_served_centre_starts_without_handlers_or_pydantic_v1(tmp_path: Path) -> None:
    """`cashier centre serve` builds its app without any handler (each comes with its first call) and without
    pydantic's v1 layer (which FastAPI imports to check a route's return type, when one is declared)."""
    modules = _printed(_SERVED, str(tmp_path / "centre.db"), str(ROOT / "config.toml"))
    assert "fastapi" in modules
    assert "pydantic.v1" not in modules
    assert "centre.dispatcher" in modules
    assert [m for m in modules if m.startswith("centre.handlers.") and m != "centre.handlers.context"] == []
