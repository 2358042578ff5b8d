"""Helpers for the cashier UI tests: a window on the demo database with a fixed clock, and Pilot steps
that wait for the thread workers (press, wait for the workers, then pause: press and pause alone missed updates)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from contextlib import asynccontextmanager, closing
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from headless_paint import paint
from textual.worker import WorkerCancelled

NOW = datetime(2026, 11, 29, 10, 30, 0)
AMOXICILLIN_LINE = ("X001", "阿莫西林胶囊", "A", "2", "125.50")   # 2 × ¥125.50 = ¥251.00, class A
SIZE = (120, 40)


def demo_app(cfg, lang: str = "zh", mode: str = "cashier", reader_spec: str | None = None, demo: bool = True):
    """The app the tests drive: demo database and the embedded centre's (the cast) created, emulator tray, fixed
    clock."""
    from terminal.ui.app import build_app
    demo_databases(cfg)
    return build_app(cfg, reader_spec=reader_spec, demo=demo, mode=mode, lang=lang, now=NOW)


_MADE: dict[str, Path] = {}
_MADE_IN = tempfile.TemporaryDirectory(prefix="cashier-demo-dbs-")


def demo_databases(cfg, then: Callable[[Any], None] | None = None, then_name: str = "") -> None:
    """`ensure_demo_db(cfg)` (and `then(cfg)`): the window's database and the embedded centre's, made once in this
    process for a config and a day, then copied for the next test of the same config: each took a sixth of a second
    of CPU (five imports, two transfers, a fill) and most UI tests open a window. Files a test made already (an
    earlier window) are opened as before, by ensure_demo_db itself."""
    import json

    from centre.settings import CentreSettings
    from terminal.services.demo_db import ensure_demo_db
    files = [Path(cfg.db_path), cfg.resolve(cfg.centre.db)]
    key = None
    if not cfg.centre.url and not any(f.exists() for f in files):
        # the config's every table, where its files lie, and the centre's day (the demo's transfers are yesterday's)
        key = json.dumps([then_name, cfg.raw, [os.path.relpath(f, cfg.base_dir) for f in files],
                          CentreSettings.from_config(cfg.raw).clock()().date().isoformat()], sort_keys=True, default=str)
    made = _MADE.get(key) if key else None
    if made is not None:
        for i, f in enumerate(files):
            f.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(made / f"{i}.db", f)
        return
    ensure_demo_db(cfg)
    if then is not None:
        then(cfg)
    # kept for the next test unless a connection is still open (a -wal file beside it: not a file to copy)
    if key and not any(Path(f"{f}-wal").exists() for f in files):
        made = _MADE[key] = Path(_MADE_IN.name) / str(len(_MADE))
        made.mkdir()
        for i, f in enumerate(files):
            shutil.copyfile(f, made / f"{i}.db")


@asynccontextmanager
async def window(cfg, **options):
    """`async with window(cfg) as (app, pilot)`: the demo app running at 120×40, at rest."""
    app = demo_app(cfg, **options)
    async with app.run_test(size=SIZE) as pilot:
        await settle_down(app, pilot)
        yield app, pilot


async def settle_down(app, pilot, rounds: int = 3) -> None:
    """Let every worker finish and every message be handled (a cancelled exclusive worker is fine), then paint the
    screen (headless_paint.py: a headless window composes its screen when a test looks)."""
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        await pilot.pause()
    paint(app)


def key_event(key: str):
    """The key event the terminal delivers for `key` ("a", "头", "enter", "f5", "space"), built as Pilot builds it.
    Posted straight to the app: Pilot's own `press` also waits for the CPU to idle twice after every key, which
    was most of a UI test's time; `settle_down` after it waits for what the key set off."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def keys_taken(app, timeout: float = 30.0) -> None:
    """Until the window has taken every key posted to it: each reached the app (a callback queued behind them has
    run) and none is held by the scanner wedge or waits in the key queue. Not a guess from the CPU going idle,
    which a process starved of CPU (four test processes on two cores) can seem to be while a key waits."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    reached = asyncio.Event()
    app.call_later(reached.set)
    await asyncio.wait_for(reached.wait(), timeout)
    while app.keys_pending():
        if loop.time() > end:
            raise AssertionError(f"the window did not take its keys in {timeout} s")
        await asyncio.sleep(0.005)


async def press(app, pilot, *keys: str) -> None:
    """Each key, then wait until the window has taken it and settled on it."""
    for key in keys:
        await type_keys(app, pilot, key)


async def type_text(app, pilot, text: str) -> None:
    """Type as a quick typist (or a paste) does: the keys reach the window as one burst, as the terminal delivers
    them, and the window's key queue hands each on once the one before has settled; then wait for it to settle."""
    await type_keys(app, pilot, *text)


async def type_keys(app, pilot, *keys: str) -> None:
    """Keys ("a", "tab", "enter", ...) handed to the window all at once, then wait until it has settled."""
    for key in keys:
        app.post_message(key_event(key))
    await keys_taken(app)
    await settle_down(app, pilot)


async def type_slowly(app, pilot, text: str) -> None:
    """One key at a time through Pilot, each settled before the next (what each key set off has finished)."""
    for ch in text:
        await pilot.press(ch)
    await settle_down(app, pilot)


async def wait_for(app, pilot, predicate, timeout: float = 20.0) -> None:
    """For events from other threads (PC/SC): poll until the screen shows what we wait for."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"the UI did not get there in time: {type(app.screen).__name__}\n{screen_text(app)}")
        await asyncio.sleep(0.02)
        await settle_down(app, pilot, 1)


def screen_text(app) -> str:
    """Everything the active screen shows, as text (labels, statics, tables, inputs' values)."""
    from textual.widgets import DataTable, Input, Static

    from terminal.ui.widgets.fields import FieldPanel
    parts: list[str] = []
    for widget in app.screen.query("*"):
        if not widget.display:
            continue
        if isinstance(widget, DataTable):
            for row in range(widget.row_count):
                parts.append(" ".join(str(c) for c in widget.get_row_at(row)))
        elif isinstance(widget, Input):
            parts.append("*" * len(widget.value) if widget.password else widget.value)
        elif isinstance(widget, FieldPanel):
            parts += [f"{label} {value}" for label, value, _alert in widget.rows]
        elif isinstance(widget, Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)


def centre_at(monkeypatch, at: datetime = NOW) -> None:
    """The embedded centre's clock stopped at `at` (the window's fixed clock): its setl_time and setl_date, the
    same-day reversal and the day's 3201 fall on the window's day, and the screens draw the same every run."""
    from centre.settings import CentreSettings
    monkeypatch.setattr(CentreSettings, "clock", lambda self: (lambda: at))


def quota_centre(cfg):
    """The same window under the quota model (`cross_province_model = "quota"`), its embedded centre holding the
    demo cast with 张伟's ¥500.00 quota for 张敏 (tests/quota_demo.py): the story the cashier's screens were first
    written on, where 张伟's account holds ¥3,560.00 (no wallet transfer)."""
    from quota_demo import quota_export, quota_model

    from centre.api import import_export
    from terminal.config import load_config

    def the_quota(cfg) -> None:
        report = import_export(cfg.raw, cfg.resolve(cfg.centre.db), quota_export(cfg.path.parent))
        assert report.imported, report.errors
    cfg = load_config(quota_model(cfg.path))
    demo_databases(cfg, the_quota, "quota")
    return cfg


def balance(cfg, psn_no: str) -> int | None:
    """The personal account's balance in fen, as the embedded centre's books have it (the window only caches it)."""
    import sqlite3
    where = cfg.resolve(cfg.centre.db)
    if not where.exists():
        return None
    with closing(sqlite3.connect(f"file:{where}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT balc FROM accounts WHERE psn_no = ?", [psn_no]).fetchone()
    return None if row is None else row[0]


def count(cfg, table: str, where: str = "1", args: list | None = None) -> int:
    from terminal.store.db import open_from_config
    db = open_from_config(cfg)
    try:
        return db.execute(f"SELECT count(*) FROM {table} WHERE {where}", args or []).fetchone()[0]
    finally:
        db.conn.close()


def centre_count(cfg, table: str, where: str = "1", args: list | None = None) -> int:
    """Rows of the embedded centre's own books (its bindings, accounts ...): what the window's cache may lag."""
    import sqlite3
    with closing(sqlite3.connect(f"file:{cfg.resolve(cfg.centre.db)}?mode=ro", uri=True)) as db:
        return db.execute(f"SELECT count(*) FROM {table} WHERE {where}", args or []).fetchone()[0]


async def insert(app, pilot, profile: str) -> None:
    """Put a demo card in the reader from the tray (as F8 + digit would) and wait for the patient screen."""
    app.tray_insert(profile)
    await settle_down(app, pilot)


async def enter_bill(app, pilot, items: list[tuple[str, str, str, str, str]], slowly: bool = False) -> None:
    """On the bill screen: type each (code, name, class, qty, price in yuan) line, Tab between the boxes, and press
    Enter: a line in one burst, as a quick cashier types it; `slowly`: a key at a time, each settled."""
    for line in items:
        if not slowly:
            keys: list[str] = []
            for i, text in enumerate(line):
                keys += (["tab"] if i else []) + list(text)
            await type_keys(app, pilot, *keys, "enter")
            continue
        for i, text in enumerate(line):
            if i:
                await press(app, pilot, "tab")
            if text:
                await type_slowly(app, pilot, text)
        await press(app, pilot, "enter")


def rendered(widget) -> str:
    """What a widget draws on the screen now, line by line (a cut-off amount shows here, not in its data)."""
    from textual.geometry import Region
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join(line.text for line in lines)
