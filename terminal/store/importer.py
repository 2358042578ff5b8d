"""`cashier db import FILE`: one importer, the centre's (docs/interfaces.md, docs/operations.md).

The export is the centre's to validate and import; the window's SQLite is only a cache of the people in it.
- Embedded centre (`[centre] url` empty): the centre imports the file (`centre.api.import_export`: every line
  checked, all or nothing, the same file twice changes nothing), then the window's cache is filled from what the
  centre now holds (`centre.api.cache_rows`, terminal.store.cache_fill).
- Centre over HTTP: the centre imports the file on its own machine (`cashier centre import`); the window only
  fills its cache from the file, read and checked by the centre's own reader (`centre.api.read_export`), so a
  file the centre would refuse is refused here the same way, line by line, and nothing is written.

API: load(cfg, path, skip_bad=False, progress=None) -> Loaded   (raises BadInput: unreadable, empty, bad lines)
     refusal(report) -> BadInput
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from centre.api import CacheRows, Refused, cache_rows, import_export, read_export
from terminal.error_codes import E
from terminal.errors import BadInput, CashierError, ErrorCode
from terminal.store.cache_fill import fill, filled_from
from terminal.store.db import open_from_config

if TYPE_CHECKING:
    from terminal.config import Config

Progress = Callable[[int, int], None]
_REFUSALS: dict[str, ErrorCode[Any]] = {"import_file": E.IMPORT_FILE, "import_empty": E.IMPORT_EMPTY,
                                        "import_worker": E.IMPORT_WORKER}


@dataclass
class Loaded:
    """What `db import` did: the centre's report, where the centre is, and what the cache now holds of it."""

    report: Any                     # centre.api's ImportReport
    centre: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)


def load(cfg: "Config", path: str | Path, *, skip_bad: bool = False, progress: Progress | None = None) -> Loaded:
    """Import the export through the centre and fill the window's cache; see the module docstring. The
    window's database is opened first: one the window cannot use stops the import before the centre is touched."""
    db = open_from_config(cfg, create=True)
    try:
        if cfg.centre.url:
            report, rows = _read(lambda: read_export(cfg.raw, path, skip_bad=skip_bad, progress=progress,
                                               known=CacheRows.read(db)), path)
            centre: dict[str, Any] = {"imported": False, "url": cfg.centre.url}
        else:
            where = cfg.resolve(cfg.centre.db)
            report = _read(lambda: import_export(cfg.raw, where, path, skip_bad=skip_bad, progress=progress), path)
            centre = {"imported": report.imported, "db": str(where), "already_imported": report.already}
            rows = None
        if not report.imported:
            raise refusal(report)
        if filled_from(db, report.sha256) and (report.already or cfg.centre.url):
            report.already = True           # this very file, in the centre and in this cache: nothing written
            cache = dict.fromkeys(("person", "account", "binding", "region"), 0)
        else:
            rows = rows if rows is not None else cache_rows(cfg.raw, where)
            cache = fill(db, rows, file=Path(path).name, sha256=report.sha256, lines=report.lines,
                         operator=cfg.terminal.operator, window=cfg.terminal.window)
    finally:
        db.close()
    return Loaded(report, centre, cache)


def _read(call: Callable[[], Any], path: str | Path) -> Any:
    """The centre's import (or check) of the file; its refusals as the window's errors, same codes."""
    try:
        return call()
    except Refused as exc:
        kind = _REFUSALS.get(exc.code)
        if kind is None:
            raise E.CENTRE_IMPORT_REFUSED.error(f"the centre refused {path}: {exc.en}", exc.zh) from None
        raise kind.error(exc.en, exc.zh) from None


def refusal(report: Any) -> CashierError:
    """The error for an import refused because of bad lines: every shown line with its number and field."""
    en, zh = report.refusal_text()
    error: BadInput = E.IMPORT_BAD_LINES.error(en, zh, errors=[{"line": e.line, "message": e.message}
                                                               for e in report.errors])
    return error

