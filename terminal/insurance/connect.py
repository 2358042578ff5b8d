"""Open this window's connection to the centre from its config (`[centre]`).

`url` empty: the embedded centre, in this process, on its own database file (`[centre] db`); `url =
"http://host:port"`: a centre on another machine, over HTTP with the configured timeouts.
"""

from __future__ import annotations

import re

from terminal.config import Config
from terminal.insurance.client import CentreClient, Identity
from terminal.insurance.transport import EmbeddedTransport, HttpTransport, Transport


def identity(cfg: Config, *, kiosk: bool = False) -> Identity:
    c = cfg.centre
    digits = re.sub(r"[^0-9]", "", cfg.terminal.window) or "1"
    return Identity(fixmedins_code=c.fixmedins_code or cfg.terminal.hospital_code or "H00000000000",
                    fixmedins_name=cfg.terminal.hospital_name, mdtrtarea_admvs=c.mdtrtarea_admvs,
                    opter=c.opter or cfg.terminal.operator, opter_name=cfg.terminal.operator,
                    opter_type="2" if kiosk else "1", window_no=int(digits[-2:]))


def embedded_faults(cfg: Config) -> list[str]:
    return [f.strip() for f in cfg.centre.faults.split(",") if f.strip()]


def open_transport(cfg: Config) -> Transport:
    c = cfg.centre
    if c.url:
        return HttpTransport(c.url, connect_timeout_s=c.connect_timeout_s, read_timeout_s=c.read_timeout_s)
    from centre.api import open_centre
    centre = open_centre(cfg.raw, cfg.resolve(c.db), faults=embedded_faults(cfg),
                         synchronous=cfg.database.synchronous)
    return EmbeddedTransport(centre)


def open_client(cfg: Config, *, kiosk: bool = False) -> CentreClient:
    """The window's client: transport, identity, and its own database for the log."""
    from terminal.store.db import open_from_config
    return CentreClient(open_transport(cfg), identity(cfg, kiosk=kiosk), lambda: open_from_config(cfg, create=True),
                        slow_ms=cfg.centre.slow_ms)
