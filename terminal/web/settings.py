"""The `[web]` section of config.toml, typed: how `cashier web` serves and how the kiosk behaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terminal.config import Config

MODES = ("kiosk", "cashier")
MAX_SESSIONS_LIMIT = 64   # each session is a Python process of ~60 MB: more is a typo, not a plan


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    kiosk_idle_s: float = 60.0
    bills_dir: Path = Path("var/bills")
    mode: str = "kiosk"
    reader: str = ""
    lock_dir: Path = Path("var/run")
    demo_bill: bool = True
    max_sessions: int = 4          # browser tabs served at once (each runs an app process); more get "busy"

    @classmethod
    def from_config(cls, cfg: "Config") -> "WebSettings":
        from terminal.config import ConfigError
        raw: dict[str, Any] = cfg.section("web")
        try:
            settings = cls(
                host=str(raw.get("host", cls.host)),
                port=int(raw.get("port", cls.port)),
                public_url=str(raw.get("public_url", "") or ""),
                kiosk_idle_s=float(raw.get("kiosk_idle_s", cls.kiosk_idle_s)),
                bills_dir=cfg.resolve(str(raw.get("bills_dir", "var/bills"))),
                mode=str(raw.get("mode", cls.mode)),
                reader=str(raw.get("reader", "") or ""),
                lock_dir=cfg.resolve(str(raw.get("lock_dir", "var/run"))),
                demo_bill=bool(raw.get("demo_bill", True)),
                max_sessions=_whole(raw.get("max_sessions", cls.max_sessions), "max_sessions"),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[web]: {exc}") from None
        if settings.mode not in MODES:
            raise ConfigError(f"[web] mode must be one of {', '.join(MODES)}, not {settings.mode!r}")
        if settings.kiosk_idle_s <= 0:
            raise ConfigError("[web] kiosk_idle_s must be more than 0")
        if not 1 <= settings.max_sessions <= MAX_SESSIONS_LIMIT:
            raise ConfigError(f"[web] max_sessions must be from 1 to {MAX_SESSIONS_LIMIT}, not {settings.max_sessions}")
        return settings

    def reader_spec(self, cfg: "Config", override: str | None = None) -> str:
        """--reader, else [web].reader, else [reader].spec."""
        return (override or self.reader or cfg.reader.spec).strip()


def _whole(value: Any, key: str) -> int:
    """A whole number from the config: 4, not 4.5, "4" or true."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number, not {value!r}")
    return value
