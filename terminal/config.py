"""The window's configuration (config.toml), typed where the core needs it.

Path: --config, else $CASHIER_CONFIG, else ./config.toml. The database path:
--db, else $CASHIER_DB, else [database].path. Relative paths resolve against
the config file's folder so a config travels with its data.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

DEFAULT_CONFIG = "config.toml"


class ConfigError(Exception):
    """The config file is missing or wrong: a clear message, never a traceback."""


@dataclass(frozen=True)
class TerminalSection:
    hospital_name: str = "模拟医院"
    hospital_code: str = ""
    hosp_lv: str = "3"
    window: str = "W01"
    operator: str = "cashier01"
    terminal_no: str = ""
    device_no: str = ""
    lang: str = "zh"
    slips_dir: str = "var/slips"


@dataclass(frozen=True)
class ReaderSection:
    spec: str = "pcsc"
    timeout_s: float = 5.0


@dataclass(frozen=True)
class EmulatorSection:
    state_dir: str = "var/cards"
    default_profile: str = "zhang_wei"


@dataclass(frozen=True)
class PsamSection:
    external_key: str = ""
    internal_key: str = ""
    check_card: bool = False


@dataclass(frozen=True)
class PinSection:
    initial_pin: str = "123456"
    refuse_initial_pin: bool = False


@dataclass(frozen=True)
class DatabaseSection:
    path: str = "var/cashier.db"
    synchronous: str = "FULL"
    busy_timeout_ms: int = 10000


@dataclass(frozen=True)
class Config:
    path: Path | None
    base_dir: Path
    terminal: TerminalSection = field(default_factory=TerminalSection)
    reader: ReaderSection = field(default_factory=ReaderSection)
    emulator: EmulatorSection = field(default_factory=EmulatorSection)
    psam: PsamSection = field(default_factory=PsamSection)
    pin: PinSection = field(default_factory=PinSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    raw: dict[str, Any] = field(default_factory=dict)  # every section, as read (policy, mutual_aid, web ...)

    def resolve(self, p: str | Path) -> Path:
        """A path from config, relative to the config file's folder."""
        p = Path(p)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def db_path(self) -> Path:
        return self.resolve(self.database.path)

    @property
    def state_dir(self) -> Path:
        return self.resolve(self.emulator.state_dir)

    @property
    def slips_dir(self) -> Path:
        return self.resolve(self.terminal.slips_dir)

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw.get(name, {}))

    def psam_keys(self):
        """The virtual PSAM, or None when no external key is configured."""
        from drivers.psam import VirtualPSAM
        if not self.psam.external_key:
            return None
        try:
            return VirtualPSAM.from_hex(self.psam.external_key, self.psam.internal_key or None)
        except ValueError:
            raise ConfigError("[psam] keys must be 32 hex digits") from None

    def with_overrides(self, **changes: Any) -> "Config":
        from dataclasses import replace
        return replace(self, **changes)


T = TypeVar("T")
_PARSED: dict[tuple[str, int], tuple[dict[str, Any], Any]] = {}


def parsed_once(cfg: Config, key: str, build: Callable[[Config], T]) -> T:
    """`build(cfg)`, computed once per loaded config (its `raw` dict) and key: rules asked for on every bill."""
    raw = cfg.raw
    cached = _PARSED.get((key, id(raw)))
    if cached is None or cached[0] is not raw:
        cached = _PARSED[(key, id(raw))] = (raw, build(cfg))
    return cached[1]


def _section(cls, data: dict[str, Any], name: str):
    known = {f for f in cls.__dataclass_fields__}
    values = {k: v for k, v in data.get(name, {}).items() if k in known}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"[{name}]: {exc}") from None


def load_config(path: str | Path | None = None, db: str | Path | None = None,
                lang: str | None = None) -> Config:
    """Read config; --db / CASHIER_DB override the database path, --lang the UI language."""
    explicit = path or os.environ.get("CASHIER_CONFIG")
    cfg_path = Path(explicit or DEFAULT_CONFIG)
    if cfg_path.exists():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from None
        base = cfg_path.resolve().parent
    elif explicit:
        raise ConfigError(f"config file not found: {cfg_path}")
    else:
        data, base, cfg_path = {}, Path.cwd(), None  # type: ignore[assignment]
    database = _section(DatabaseSection, data, "database")
    db_override = db or os.environ.get("CASHIER_DB")
    if db_override:
        from dataclasses import replace
        database = replace(database, path=str(Path(db_override).resolve()))
    if database.synchronous.upper() not in ("FULL", "NORMAL", "EXTRA", "OFF"):
        raise ConfigError("[database] synchronous must be FULL, NORMAL or EXTRA")
    terminal = _section(TerminalSection, data, "terminal")
    if lang:
        from dataclasses import replace
        terminal = replace(terminal, lang=lang)
    return Config(
        path=cfg_path, base_dir=base, terminal=terminal,
        reader=_section(ReaderSection, data, "reader"),
        emulator=_section(EmulatorSection, data, "emulator"),
        psam=_section(PsamSection, data, "psam"),
        pin=_section(PinSection, data, "pin"),
        database=database, raw=data,
    )
