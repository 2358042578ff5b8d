"""Shared fixtures. The PC/SC stack (pcscd + vpcd + emulator) lives in pcsc_stack.py, the centre's own
PostgreSQL (and the sqlite/postgres parametrisation of the centre's tests) in pg_stack.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = [name for name in ("pcsc_stack", "pg_stack") if (Path(__file__).parent / f"{name}.py").exists()]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How the suite splits over processes (`--dist loadgroup`): every PC/SC test on one process, as only one
    pcscd can run on a machine and its stack is held for the process's whole run; every other test with the rest
    of its file, so a module's fixtures (a served centre, a browser) are made once. Before xdist's own hook,
    which reads the groups."""
    from pcsc_stack import uses_pcsc
    groups = {}
    for item in items:
        group = "pcsc" if uses_pcsc(item) else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
        groups[item.nodeid] = group
    # The groups are handed out in this order, each to the first process free: the long ones first, so that the
    # run does not end with one process on a long file while the others wait (files in alphabetical order put
    # the window's and the web's, among the longest, last).
    items.sort(key=lambda item: 0 if Path(groups[item.nodeid]).stem in LONG_GROUPS else 1)


#: groups that take a minute or more of one process (measured with --durations): scheduled first
LONG_GROUPS = frozenset({"pcsc", "test_window_wallet", "test_window_centre", "test_web_kiosk", "test_web_kiosk_voucher",
                         "test_web_hardening", "test_ui_snapshots", "test_ui_balances", "test_ui_credentials",
                         "test_serial_link", "test_centre_morning", "test_centre_concurrency", "test_centre_fuzz",
                         "test_layers", "test_lint", "test_ui_bill_keeping"})


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A fresh card-state folder: PIN counters start from each profile's values."""
    d = tmp_path / "cards"
    d.mkdir()
    return d


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A copy of the repo's config.toml whose relative paths land in tmp_path (the window, the embedded centre)."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cfg(config_file: Path, monkeypatch: pytest.MonkeyPatch):
    """The Config of a window whose database and card state live in tmp_path."""
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    from terminal.config import load_config
    return load_config(config_file)


@pytest.fixture(params=["inprocess", pytest.param("pcsc", marks=pytest.mark.pcsc)])
def card_reader(request: pytest.FixtureRequest, state_dir: Path):
    """A factory make(profile, **card_options) -> Reader, for each transport of the parametrised suite.

    In-process: the emulator in this process. PC/SC: the emulator served through vpcd
    into the real pcscd, read with pyscard (fixture `pcsc_reader_factory` from pcsc_stack).
    """
    if request.param == "inprocess":
        from emulator.inprocess import InProcessReader
        from emulator.profiles import load_card
        readers = []

        def make(profile: str, **options):
            reader = InProcessReader(load_card(profile, state_dir, **options))
            readers.append(reader)
            return reader

        yield make
        for r in readers:
            r.close()
    else:
        yield request.getfixturevalue("pcsc_reader_factory")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
