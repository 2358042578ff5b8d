"""Layering (docs/architecture.md): import every module in a fresh process and look at sys.modules.

drivers never loads emulator, terminal, centre or textual; emulator never loads terminal, centre or
textual; the centre never loads the window (terminal), the card (emulator, drivers' card transports) or
textual; only terminal.ui and terminal.web load textual; the window reaches the centre only through its
public face (centre.api, centre.interface, centre.cli), never its internals. Inside the window: the domain
(its rules) never loads the store, the services or sqlite; the store never loads the services or the UI;
the SQL lives in terminal.store alone (no query in the services, the UI or the command line).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("drivers", "emulator", "terminal", "centre")
# what the window may import of the centre: its public face
CENTRE_PUBLIC = ("centre.api", "centre.interface", "centre.cli")

# A forked child per module: a fresh import state without a Python start-up per module. The children fork from a
# parent that has already imported the third-party libraries no rule forbids (forbidden are only the project's own
# layers, textual, the card and serial libraries and sqlite), so each child imports only the project's modules;
# the window's UI and web modules, for which nothing is forbidden, fork from one that has textual too.
PRELOAD = ("pydantic", "fastapi", "uvicorn", "httpx", "rich.console", "rich.progress", "click", "cryptography",
           "psycopg", "psycopg_pool", "segno", "zoneinfo", "decimal", "asyncio", "json", "logging", "argparse",
           "multiprocessing", "concurrent.futures", "ipaddress", "urllib.request", "http.client")
PRELOAD_UI = ("textual.app", "textual.widgets", "textual.containers", "textual_serve.server", "aiohttp")

_PROBE = r"""
import json, os, sys
sys.path.insert(0, os.getcwd())


def forked(work):  # work() in a forked child, its JSON-able result back through a pipe
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = work()
        except BaseException as exc:
            out = {"error": f"{type(exc).__name__}: {exc}"}
        with os.fdopen(w, "wb") as pipe:
            pipe.write(json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def loads(name):
    __import__(name)
    return {"loaded": sorted(sys.modules)}


def group(preload, names):
    def work():
        for lib in preload:
            __import__(lib)
        return {name: forked(lambda: loads(name)) for name in names}
    return work


results = {}
for preload, names in json.loads(sys.argv[1]):
    out = forked(group(preload, names))
    if "error" in out and not isinstance(out["error"], dict):
        raise SystemExit(f"preloading {preload}: {out['error']}")
    results.update(out)
print(json.dumps(results))
"""


def _probe_groups(names: list[str]) -> list[tuple[list[str], list[str]]]:
    ui = [n for n in names if n.startswith(("terminal.ui", "terminal.web"))]
    rest = [n for n in names if n not in ui]
    return [(list(PRELOAD), rest), ([*PRELOAD, *PRELOAD_UI], ui)]


def module_names() -> list[str]:
    names = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return names


def forbidden_for(module: str) -> set[str]:
    if module.startswith("drivers"):
        return {"emulator", "terminal", "centre", "textual"}
    if module.startswith("emulator"):
        # the card never borrows the reader side's protocol code (it would hide a driver bug)
        return {"terminal", "centre", "textual", "drivers.ssse", "drivers.pcsc", "smartcard"}
    if module.startswith("centre"):
        return {"terminal", "emulator", "textual", "smartcard", "serial", "drivers.pcsc", "drivers.ssse"}
    if module.startswith(("terminal.ui", "terminal.web")):
        return set()
    if module.startswith("terminal.domain"):
        return {"textual", "terminal.store", "terminal.services", "terminal.ui", "sqlite3", "sqlite_utils"}
    if module.startswith("terminal.store"):
        return {"textual", "terminal.services", "terminal.ui", "terminal.web", "terminal.cli"}
    return {"textual"}


def _hits(forbidden: set[str], loaded: list[str]) -> list[str]:
    """Forbidden packages (or modules) present among the loaded module names."""
    return sorted(f for f in forbidden if any(m == f or m.startswith(f + ".") for m in loaded))


@pytest.fixture(scope="module")
def loaded() -> dict[str, dict]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(_probe_groups(module_names()))], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_module_imports(loaded):
    broken = {m: r["error"] for m, r in loaded.items() if "error" in r}
    assert not broken


def test_layers(loaded):
    assert len(loaded) >= 20
    breaches = {m: _hits(forbidden_for(m), r["loaded"]) for m, r in loaded.items() if "loaded" in r}
    assert {m: b for m, b in breaches.items() if b} == {}


def test_drivers_alone_loads_no_project_layer_above(loaded):
    assert not _hits({"emulator", "terminal", "textual"}, loaded["drivers.ssse"]["loaded"])
    assert not _hits({"textual", "terminal"}, loaded["emulator.inprocess"]["loaded"])
    assert "textual" in loaded["terminal.ui.app"]["loaded"]  # the probe does see textual where it is


@pytest.mark.parametrize("package,forbidden", [
    ("drivers", ("emulator", "terminal", "centre", "textual")),
    ("emulator", ("terminal", "centre", "textual")),
    ("centre", ("terminal", "emulator", "textual")),
])
def test_no_late_imports_across_layers(package: str, forbidden: tuple[str, ...]) -> None:
    """Imports inside functions escape the sys.modules probe: read the source too."""
    import re
    pattern = re.compile(r"^\s*(from|import)\s+(" + "|".join(forbidden) + r")\b", re.M)
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0).strip()}"
                 for p in sorted((ROOT / package).rglob("*.py"))
                 for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_window_uses_only_the_centres_public_face() -> None:
    """The window is the centre's client, as a hospital's system is: it never imports the centre's internals
    (its store, rules, handlers, dispatcher), only centre.api, centre.interface and centre.cli."""
    import re
    pattern = re.compile(r"^\s*(?:from|import)\s+(centre(?:\.[\w.]+)?)", re.M)
    offenders = [f"{p.relative_to(ROOT)}: {m.group(1)}"
                 for p in sorted((ROOT / "terminal").rglob("*.py"))
                 for m in pattern.finditer(p.read_text(encoding="utf-8"))
                 if not m.group(1).startswith(CENTRE_PUBLIC)]
    assert offenders == []


# a statement sent to SQLite, a table reached through sqlite-utils, or a connection handled directly
_RAW_SQL = r"""\.(?:execute|executemany|executescript)\(|\bdb\.query\(|\bdb\[|\.conn\b"""
# sqlite itself (the services name sqlite_utils.Database in their signatures: the handle the store gave them)
_SQLITE_IMPORT = r"^\s*(?:import|from)\s+sqlite3\b"
_SQLITE_ANY_IMPORT = r"^\s*(?:import|from)\s+sqlite(?:3|_utils)\b"


@pytest.mark.parametrize("package,pattern", [
    ("terminal/services", f"{_RAW_SQL}|{_SQLITE_IMPORT}"),
    ("terminal/insurance", f"{_RAW_SQL}|{_SQLITE_IMPORT}"),
    ("terminal/cli", f"{_RAW_SQL}|{_SQLITE_IMPORT}"),
    ("terminal/ui", f"{_RAW_SQL}|{_SQLITE_ANY_IMPORT}"),
    ("terminal/web", f"{_RAW_SQL}|{_SQLITE_ANY_IMPORT}"),
    ("terminal/domain", f"{_RAW_SQL}|{_SQLITE_ANY_IMPORT}"),
])
def test_sql_lives_in_the_store(package: str, pattern: str) -> None:
    """The store owns SQL, connections and transactions: the layers above call its named functions (a
    query written in a service or a screen is how one query per row crept in once)."""
    import re
    found = re.compile(pattern, re.M)
    offenders = [f"{p.relative_to(ROOT)}:{p.read_text(encoding='utf-8')[:m.start()].count(chr(10)) + 1}: "
                 f"{m.group(0).strip()}"
                 for p in sorted((ROOT / package).rglob("*.py"))
                 for m in found.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_store_and_the_domain_import_no_layer_above() -> None:
    """Imports inside functions escape the sys.modules probe: the store never imports the services or the UI,
    the domain never the store or the services."""
    import re
    rules = {"terminal/store": r"terminal\.(?:services|ui|web|cli)", "terminal/domain": r"terminal\.(?:store|services|ui)"}
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0).strip()}"
                 for package, above in rules.items()
                 for p in sorted((ROOT / package).rglob("*.py"))
                 for m in re.finditer(r"^\s*(?:from|import)\s+" + above + r"\b", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []
