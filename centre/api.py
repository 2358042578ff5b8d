"""What a window may use of the centre: open one (embedded, in this process) and call it with an envelope.

    centre = open_centre(raw_config, "var/centre.db")      # creates and migrates the database
    answer = centre.call(request_dict)                      # the same dicts as over HTTP

    report = import_export(raw_config, "var/centre.db", "export.jsonl")   # load persons, catalogue ...
    rows = cache_rows(raw_config, "var/centre.db")          # what a window keeps of it (its lookup cache)
    report, rows = read_export(raw_config, "export.jsonl")  # the same checks on a file, no centre changed

`call` raises `AnswerLost` when a fault loses the answer after the commit (as a timeout would over HTTP) and
`CentreDown` when the centre is down: the two failures a window must handle without charging twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from centre.errors import ConfigProblem, Refused
from centre.faults import Faults, FaultSpecError
from centre.settings import CentreSettings
from centre.store.engine import Database, Store, is_dsn, open_store
from centre.store.migrate import migrate

if TYPE_CHECKING:     # the dispatcher loads every transaction's handler: only a centre that is opened needs it
    from centre.dispatcher import Dispatcher
    from centre.store.import_report import ImportReport

__all__ = ["AnswerLost", "CacheRows", "Centre", "CentreDown", "ConfigProblem", "FaultSpecError", "Refused",
           "bill_limits", "cache_rows", "check_section", "check_settings", "import_export", "open_centre", "progress_bar", "read_export"]


class AnswerLost(Exception):
    """The centre did the transaction but its answer never arrived (a fault; over HTTP, a read timeout)."""


class CentreDown(Exception):
    """The centre cannot be reached or refuses every call."""


class Centre:
    """An embedded centre: its store and its dispatcher, reached by `call`."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        outcome = self.dispatcher.handle(request)
        if outcome.down:
            raise CentreDown("the centre is down")
        if outcome.lost:
            raise AnswerLost("the centre's answer was lost")
        return outcome.response

    def alive(self) -> bool:
        """What `GET /health` says over HTTP: the centre answers (not down)."""
        return not self.dispatcher.faults.down

    @property
    def faults(self) -> Faults:
        return self.dispatcher.faults

    def close(self) -> None:
        self.dispatcher.store.close()


def check_settings(raw_config: dict[str, Any]) -> CentreSettings:
    """The centre's part of a config, checked (ConfigProblem names the key that is wrong)."""
    return CentreSettings.from_config(raw_config)


def check_section(name: str, table: Any) -> None:
    """One of the centre's tables of a config (`policy`, `mutual_aid`) checked on its own, as a window checks the
    config it loads: ConfigProblem names the key that is wrong."""
    if name == "policy":
        from centre.rules.policy import parse_policy
        parse_policy(table)
    elif name == "mutual_aid":
        from centre.rules.mutual_aid import MutualAidPolicy
        MutualAidPolicy.from_config(table)
    else:
        raise ValueError(f"not a centre table: {name}")


def bill_limits(raw_config: dict[str, Any]) -> tuple[int, int]:
    """`[policy]` max_item_price and max_bill_total in fen (the defaults when absent): above these a bill is a
    typo, refused before it is sent."""
    limits = CentreSettings.from_config(raw_config).policy.bill_limits
    return limits.max_item_price, limits.max_bill_total


def open_centre(raw_config: dict[str, Any], db_path: str | Path, *, faults: list[str] | tuple[str, ...] = (),
                clock: Callable[[], dt.datetime] | None = None, synchronous: str = "FULL") -> Centre:
    """An embedded centre on a SQLite file (created and migrated if needed), or on the PostgreSQL database a
    connection string names (`postgresql://...`: migrated if needed; `synchronous` is SQLite's)."""
    from centre.dispatcher import Dispatcher
    settings = CentreSettings.from_config(raw_config)
    store = _store(db_path, synchronous=synchronous)
    try:
        migrate(store.db())
    except BaseException:
        store.close()
        raise
    return Centre(Dispatcher(store, settings, clock=clock, faults=Faults.parse(list(faults))))


def _migrated(where: str | Path, *, pool: int) -> tuple[Any, Any]:
    """(what to close, the database) for a one-off job on the centre's store: a SQLite file (created if need be)
    or a PostgreSQL pool of at most `pool` connections; migrated."""
    if is_dsn(where):
        store = open_store(where, min_size=1, max_size=pool)
        db: Any = store.db()
    else:
        path = Path(where)
        path.parent.mkdir(parents=True, exist_ok=True)
        store = db = Database(path)
    try:
        migrate(db)
    except BaseException:
        store.close()
        raise
    return store, db


def _store(where: str | Path, synchronous: str = "FULL") -> Any:
    if is_dsn(where):
        return open_store(where)
    path = Path(where)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Store(path, synchronous=synchronous)


def import_export(raw_config: dict[str, Any], db_path: str | Path, file: str | Path, *, skip_bad: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> "ImportReport":
    """Load a centre export (persons, accounts, bindings, regions, catalogue, hospitals) into the centre's SQLite
    file (or the PostgreSQL database a `postgresql://` string names), creating and migrating it if needed. The report says what changed; `report.imported` is False when
    bad lines refused the file (`report.errors` names them by line). Refused: unreadable or empty file."""
    from centre.importer import import_file
    settings = CentreSettings.from_config(raw_config)
    store, db = _migrated(db_path, pool=2)
    try:
        now = settings.clock()()
        report = import_file(db, file, skip_bad=skip_bad, progress=progress, policy=settings.mutual_aid,
                             at=now.strftime("%Y-%m-%d %H:%M:%S"))
        if report.imported and not report.already:      # an owner whose insurance ended: his bindings end
            from centre.handlers.family import end_lapsed_bindings
            with db.write():
                end_lapsed_bindings(db, now)
        return report
    finally:
        store.close()


@dataclass
class CacheRows:
    """What a window keeps of the centre's people for lookup and display: tuples in the columns below."""

    PERSON = ("psn_no", "certno", "psn_name", "gend", "naty", "brdy", "card_no", "card_sn", "insuplc_admdvs",
              "insutype", "psn_insu_stas")
    ACCOUNT = ("psn_no", "balc", "opening", "year")
    BINDING = ("owner_psn_no", "user_psn_no", "relation", "scope", "quota", "begin_date", "end_date",
               "status", "created_by", "created_at", "created_window", "ended_by", "ended_at", "ended_window",
               "end_reason")
    REGION = ("admdvs", "name", "province", "cross_province")
    persons: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[tuple[Any, ...]] = field(default_factory=list)
    bindings: list[tuple[Any, ...]] = field(default_factory=list)
    regions: list[tuple[Any, ...]] = field(default_factory=list)

    @classmethod
    def read(cls, db: Any) -> "CacheRows":
        """The rows of a database with these tables (the centre's, or a window's cache): bindings in the order
        they were made, the rest by key."""
        def rows(table: str, columns: tuple[str, ...], order: str = "1") -> list[tuple[Any, ...]]:
            return [tuple(r) for r in db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
                    .fetchall()]
        return cls(rows("persons", cls.PERSON), rows("accounts", cls.ACCOUNT),
                   rows("bindings", cls.BINDING, "id"), rows("regions", cls.REGION))


def progress_bar(stream: Any = None) -> Callable[[int, int], None] | None:
    """The import's progress bar on stderr (or `stream`), only when it is a terminal: None in pipes, logs, CI."""
    from centre.importer import terminal_progress
    return terminal_progress(stream)


def cache_rows(raw_config: dict[str, Any], db_path: str | Path) -> CacheRows:
    """Every person, account, binding and pooling area the centre at `db_path` holds (SQLite file or
    `postgresql://`), for a window's cache after an import. Read in one snapshot; the centre is not changed."""
    CentreSettings.from_config(raw_config)
    store, db = _migrated(db_path, pool=1)
    try:
        return CacheRows.read(db)
    finally:
        store.close()


def read_export(raw_config: dict[str, Any], file: str | Path, *, skip_bad: bool = False,
                progress: Callable[[int, int], None] | None = None,
                known: CacheRows | None = None) -> "tuple[ImportReport, CacheRows]":
    """The centre's own reader and checks on an export, with no centre changed: the file goes into a scratch
    centre in memory (every line validated as `import_export` does) that first holds `known` (what the window
    already has: an export may refer to areas and persons of an earlier one), and the rows of the file's people
    come back for a window's cache (empty when the report says the file was refused). For a window whose centre
    is elsewhere."""
    from centre.importer import import_file
    settings = CentreSettings.from_config(raw_config)
    db = Database(":memory:", synchronous="OFF")
    try:
        migrate(db)
        if known is not None:
            _seed(db, known)
        now = settings.clock()()
        report = import_file(db, file, skip_bad=skip_bad, progress=progress, policy=settings.mutual_aid,
                             at=now.strftime("%Y-%m-%d %H:%M:%S"))
        return report, (CacheRows.read(db) if report.imported else CacheRows())
    finally:
        db.close()


def _seed(db: Database, known: CacheRows) -> None:
    def put(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        db.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            rows)
    with db.write():
        put("regions", CacheRows.REGION, known.regions)
        put("persons", CacheRows.PERSON, known.persons)
        put("accounts", CacheRows.ACCOUNT, known.accounts)
        put("bindings", CacheRows.BINDING, known.bindings)
