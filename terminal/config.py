"""The window's configuration (config.toml), typed and checked when it loads.

Path: --config, else $CASHIER_CONFIG, else ./config.toml. The database path:
--db, else $CASHIER_DB, else [database].path. Relative paths resolve against
the config file's folder so a config travels with its data.

Every table and key is checked by `load_config` (terminal.config_schema): the tables typed here
(SECTIONS) and those parsed by their own modules (CHECKED_ELSEWHERE: [policy], [mutual_aid], [web]).
An unknown table or key, a wrong type or a value out of range is a ConfigError (exit 2) naming the
key and the file. A new table: its dataclass, a line in SECTIONS and a Config field of the same name.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, TypeVar

from centre.interface.amounts import MAX_FEN
from terminal.config_schema import check_table, key, unknown_keys
from terminal.domain.text import MAX_NAME, printable, shown
from terminal.errors import ConfigError

__all__ = ["Config", "ConfigError", "load_config", "parsed_once", "SECTIONS", "CHECKED_ELSEWHERE"]

DEFAULT_CONFIG = "config.toml"
MAX_CONFIG_BYTES = 1 << 20
_PATH = {"required": True, "max_len": 4096}
_SPEC = r"(emulator(:.+)?|pcsc(:.+)?|serial:.+)"
_SPEC_HINT = "emulator[:PROFILE], pcsc[:READER NAME] or serial:URL"
_HHMM = r"([01][0-9]|2[0-3]):[0-5][0-9]"


@dataclass(frozen=True)
class TerminalSection:
    hospital_name: str = key("模拟医院", required=True, max_len=MAX_NAME)
    hospital_code: str = key("", pattern=r"[0-9A-Z]{0,12}", hint="up to 12 capital letters and digits")
    hosp_lv: str = key("3", choices=("1", "2", "3"))
    window: str = key("W01", pattern=r"[0-9A-Za-z_.-]{1,16}", hint="1 to 16 letters, digits, _ . or -")
    operator: str = key("cashier01", required=True, max_len=32)
    terminal_no: str = key("", pattern=r"[^|]{0,32}", hint="up to 32 characters, no |")
    device_no: str = key("", pattern=r"[^|]{0,32}", hint="up to 32 characters, no |")
    lang: str = key("zh", choices=("zh", "en"))
    slips_dir: str = key("var/slips", **_PATH)
    id_card: bool = True      # the resident ID card (mdtrt_cert_type 02) as a credential at this window


@dataclass(frozen=True)
class ReaderSection:
    spec: str = key("pcsc", pattern=_SPEC, hint=_SPEC_HINT, max_len=1024)
    timeout_s: float = key(5.0, min=0, min_open=True, max=600)


@dataclass(frozen=True)
class EmulatorSection:
    state_dir: str = key("var/cards", **_PATH)
    default_profile: str = key("zhang_wei", pattern=r"[a-z0-9_]{1,64}|.{1,4091}\.json",
                               hint="a profile id (zhang_wei) or the path of a .json profile")


@dataclass(frozen=True)
class PsamSection:
    external_key: str = key("", pattern=r"([0-9A-Fa-f]{32})?", hint="32 hex digits, or empty")
    internal_key: str = key("", pattern=r"([0-9A-Fa-f]{32})?", hint="32 hex digits, or empty")
    check_card: bool = False


@dataclass(frozen=True)
class PinSection:
    initial_pin: str = key("123456", pattern=r"[0-9]{4,16}", hint="4 to 16 digits in quotes", secret=True)
    refuse_initial_pin: bool = False


@dataclass(frozen=True)
class DatabaseSection:
    path: str = key("var/cashier.db", **_PATH)
    synchronous: str = key("FULL", choices=("FULL", "NORMAL", "EXTRA"), fold=str.upper)
    busy_timeout_ms: int = key(10000, min=0, max=3_600_000)


@dataclass(frozen=True)
class CentreSection:
    """The insurance centre this window is a client of (and the embedded centre's own settings)."""

    enabled: bool = True                  # retired: true is accepted (old configs), false is refused at load
    url: str = key("", pattern=r"(https?://[^\s/?#]+/?)?", hint="empty (the embedded centre) or http://host:port")
    db: str = key("var/centre.db", **_PATH)                 # the embedded centre's database
    dsn: str = key("", max_len=4096, secret=True)           # `cashier centre serve/import` on PostgreSQL
    fixmedins_code: str = key("", pattern=r"([0-9A-Za-z]{12})?", hint="12 letters and digits, or empty "
                              "([terminal] hospital_code)")
    mdtrtarea_admvs: str = key("410100", pattern=r"[0-9]{6}", hint="6 digits (GB/T 2260)")
    opter: str = key("", max_len=30)                          # empty: [terminal] operator
    connect_timeout_s: float = key(3.0, min=0, min_open=True, max=120)
    read_timeout_s: float = key(15.0, min=0, min_open=True, max=600)
    slow_ms: float = key(1000.0, min=1, max=600_000)
    probe_s: float = key(15.0, min=0, max=3600)               # 0: never; else how often the idle window asks
    faults: str = key("", max_len=1024)                       # the embedded centre's faults, comma-separated
    require_sign_in: bool = True
    timezone: str = key("Asia/Shanghai", pattern=r"[A-Za-z0-9_+/-]{1,64}", hint="a time zone such as Asia/Shanghai")
    default_hosp_lv: str = key("", choices=("", "1", "2", "3"))
    id_card_account: bool = False         # a visit on the ID card (02) may use the personal account


@dataclass(frozen=True)
class VoucherSection:
    """The e-voucher (医保电子凭证): the key the insurance app (here the emulator's phone) shares with the centre."""

    lifetime_s: int = key(180, min=10, max=3600)   # before `key` below: that field's name hides key() after it
    key: str = key("", pattern=r"([0-9A-Fa-f]{64})?", hint="64 hex digits (32 bytes), or empty (no e-vouchers)",
                   secret=True)


#: the tables this module types; a new table is one dataclass and one line here (and a Config field)
SECTIONS: dict[str, type] = {"terminal": TerminalSection, "reader": ReaderSection, "emulator": EmulatorSection,
                             "psam": PsamSection, "pin": PinSection, "database": DatabaseSection,
                             "centre": CentreSection, "voucher": VoucherSection}


@dataclass(frozen=True)
class MutualAidOptions:
    """`[mutual_aid.options]` as written in config.toml: the shape checked here, the meaning by the centre."""

    one_owner_per_user: bool = False                  # some regions allow only one owner per user
    cross_province_since: str = key("2026-01-09", pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
                                    hint='a date "YYYY-MM-DD" in quotes')
    relatives_order: str = key("config", choices=("config",))   # bindings in the order they were made
    cross_province_model: str = key("wallet", choices=("wallet", "quota"))
    max_users_per_owner: int = key(0, min=0, max=1000)
    share_prior_year_only: bool = False
    account_pays_class_c: bool = True
    wallet_transfers_per_day: int = key(3, min=1, max=1000)
    wallet_max_transfer: int = key(200000, min=1, max=MAX_FEN)
    wallet_closed_from: str = key("22:00", pattern=_HHMM, hint='a time "HH:MM" in quotes')
    wallet_closed_until: str = key("06:00", pattern=_HHMM, hint='a time "HH:MM" in quotes')
    wallet_return_at: str = key("06:00", pattern=_HHMM, hint='a time "HH:MM" in quotes')


def _mutual_aid_shape(table: Any) -> None:
    """Every key of `[mutual_aid]` named and typed, with the config's own messages (a typo's nearest key)."""
    if not isinstance(table, dict):
        raise ConfigError(f"[mutual_aid] must be a table, not {shown(table)}")
    unknown_keys(table, ("rule", "options"), "[mutual_aid]")
    rules = table.get("rule", [])
    if not isinstance(rules, list):
        raise ConfigError("[mutual_aid] rule must be [[mutual_aid.rule]] tables of since and relations")
    for i, rule in enumerate(rules, 1):
        where = f"[[mutual_aid.rule]] #{i}"
        if not isinstance(rule, dict):
            raise ConfigError(f"{where}: must be a table of since and relations, not {shown(rule)}")
        unknown_keys(rule, ("since", "relations"), where)
        if not isinstance(rule.get("since"), str) or not isinstance(rule.get("relations"), list):
            raise ConfigError(f"{where}: needs since = \"YYYY-MM-DD\" (in quotes) and relations = [...]")
    check_table(MutualAidOptions, table.get("options", {}), "[mutual_aid.options]")


def _check_centre_table(name: str) -> Callable[[Any], None]:
    """`[policy]` and `[mutual_aid]` are the centre's: checked by its own rules (centre.api.check_section), after
    the shape of `[mutual_aid]` here."""
    def check(table: Any) -> None:
        from centre.api import ConfigProblem, check_section
        if name == "mutual_aid":
            _mutual_aid_shape(table)
        try:
            check_section(name, table)
        except ConfigProblem as exc:
            raise ConfigError(str(exc)) from None
    return check


def _check_web(table: Any) -> None:
    from terminal.web.settings import WebTable
    check_table(WebTable, table, "[web]")


#: the tables their own modules parse; checked at load too, so a mistake shows when the window starts
CHECKED_ELSEWHERE: dict[str, Callable[[Any], None]] = {"policy": _check_centre_table("policy"),
                                                        "mutual_aid": _check_centre_table("mutual_aid"),
                                                        "web": _check_web}


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
    centre: CentreSection = field(default_factory=CentreSection)
    voucher: VoucherSection = field(default_factory=VoucherSection)
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


def _read_toml(cfg_path: Path) -> dict[str, Any]:
    """The file's tables, or ConfigError saying why it cannot be read (never a traceback)."""
    name = printable(cfg_path)
    try:
        if cfg_path.is_dir():
            raise ConfigError(f"the config file {name} is a folder")
        with open(cfg_path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {name}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"the config file {name} is larger than {MAX_CONFIG_BYTES >> 20} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {printable(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{name}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # e.g. a number of thousands of digits
        raise ConfigError(f"{name}: not valid TOML: {printable(exc)}") from None


def _in_file(exc: ConfigError, cfg_path: Path | None) -> ConfigError:
    """The same problem, with the file it is in."""
    if cfg_path is None:
        return exc
    where = f" (in {printable(cfg_path)})"
    if exc.entry is not None and exc.entry.kind is not ConfigError:    # its own code (a retired value): kept
        return exc.entry.error(exc.message + where, exc.message_zh + where, **exc.details)
    return ConfigError(exc.message + where, exc.message_zh + where, **exc.details)


def check_config(data: dict[str, Any]) -> dict[str, Any]:
    """Every table and value of a config as read: the typed sections of SECTIONS, by name."""
    unknown_keys(data, [*SECTIONS, *CHECKED_ELSEWHERE], "config")
    typed: dict[str, Any] = {name: check_table(cls, data.get(name, {}), f"[{name}]") for name, cls in SECTIONS.items()}
    for name, check in CHECKED_ELSEWHERE.items():
        if name in data:
            check(data[name])
    if not typed["centre"].enabled:
        from terminal.error_codes import E
        raise E.TRAINING_LEDGER_RETIRED.error()
    return typed


def load_config(path: str | Path | None = None, db: str | Path | None = None,
                lang: str | None = None) -> Config:
    """Read and check the config; --db / CASHIER_DB override the database path, --lang the UI language.

    Every table and key is checked here (ConfigError, exit 2, naming the key and the file): an unknown
    key, a wrong type ("false" in quotes is not false) or a value out of range stops the window at start."""
    explicit = path or os.environ.get("CASHIER_CONFIG")
    cfg_path: Path | None = Path(explicit or DEFAULT_CONFIG)
    assert cfg_path is not None
    if cfg_path.exists():
        data = _read_toml(cfg_path)
        base = cfg_path.resolve().parent
    elif explicit:
        raise ConfigError(f"config file not found: {printable(cfg_path)}")
    else:
        data, base, cfg_path = {}, Path.cwd(), None
    try:
        typed = check_config(data)
    except ConfigError as exc:
        raise _in_file(exc, cfg_path) from None
    db_override = db or os.environ.get("CASHIER_DB")
    if db_override:
        typed["database"] = replace(typed["database"], path=str(Path(db_override).resolve()))
    if lang:
        typed["terminal"] = replace(typed["terminal"], lang=lang)
    return Config(path=cfg_path, base_dir=base, raw=data, **typed)
