"""The `[web]` section of config.toml, typed: how `cashier web` serves and how the kiosk behaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from terminal.config_schema import check_table, key

if TYPE_CHECKING:
    from terminal.config import Config

MODES = ("kiosk", "cashier")
MAX_SESSIONS_LIMIT = 64   # each session is a Python process of ~60 MB: more is a typo, not a plan
HOST = r"[0-9A-Za-z._:\[\]-]{1,253}"
PUBLIC_URL = r"https?://[^\s/?#]+(/\S*)?"


@dataclass(frozen=True)
class WebTable:
    """[web] as written in config.toml, every key checked (terminal.config_schema)."""

    host: str = key("127.0.0.1", pattern=HOST, hint="a host name or an IP address")
    port: int = key(8000, min=1, max=65535)
    public_url: str = key("", pattern=f"({PUBLIC_URL})?", hint="empty or an http:// or https:// address")
    kiosk_idle_s: float = key(60.0, min=0, min_open=True, max=86400)
    bills_dir: str = key("var/bills", required=True, max_len=4096)
    mode: str = key("kiosk", choices=MODES)
    reader: str = key("", pattern=r"((emulator|pcsc)(:.+)?|serial:.+)?", max_len=1024,
                      hint='empty ([reader].spec), emulator[:PROFILE], pcsc[:READER NAME] or serial:URL')
    lock_dir: str = key("var/run", required=True, max_len=4096)
    demo_bill: bool = True
    max_sessions: int = key(4, min=1, max=MAX_SESSIONS_LIMIT)   # app processes (browser tabs) served at once


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
    max_sessions: int = 4

    @classmethod
    def from_config(cls, cfg: "Config") -> "WebSettings":
        """The config's [web], checked (ConfigError naming the key), with its folders resolved."""
        table = check_table(WebTable, cfg.section("web"), "[web]")
        return cls(host=table.host, port=table.port, public_url=table.public_url, kiosk_idle_s=table.kiosk_idle_s,
                   bills_dir=cfg.resolve(table.bills_dir), mode=table.mode, reader=table.reader,
                   lock_dir=cfg.resolve(table.lock_dir), demo_bill=table.demo_bill, max_sessions=table.max_sessions)

    def reader_spec(self, cfg: "Config", override: str | None = None) -> str:
        """--reader, else [web].reader, else [reader].spec."""
        return (override or self.reader or cfg.reader.spec).strip()

