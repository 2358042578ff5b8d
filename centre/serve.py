"""`cashier centre serve`: the centre over HTTP (uvicorn), in one process or in several.

- The database is created and migrated first if it needs it (and the command says so): a SQLite file
  (`--db`, the default), or a PostgreSQL database (`--dsn`, which must exist; its tables are made here).
- The socket is bound here, before any worker starts: a port in use is a clear refusal, not a traceback.
- One line on stdout when the centre answers ("cashier centre: serving http://...") and one on stderr per
  transaction (the dispatcher's line: infno, msgid, infcode, ms — never a PIN or an ID number);
  uvicorn's access log is off and its own chatter is kept to warnings.
- `--workers N` > 1: N uvicorn worker processes share the socket; each builds its centre from the settings
  this process puts in the environment (`SETTINGS_ENV`) through the app factory `app_from_env`. The
  database (sign-ins, msgids, money) is shared; the `--fault` counters are each worker's own, so
  `lost-answer:2207` loses the next 2207 *that worker* answers, once per worker. On SQLite the workers take
  turns at the file's write lock; on PostgreSQL they write at once (row locks), which is where several
  workers pay off. Two `serve` processes on different ports may share one PostgreSQL database the same way.
- A request must arrive whole within `--request-timeout` seconds of its first byte (30 by default): a client
  that sends part of one and waits is cut off (centre/request_deadline.py).
- Ctrl-C or SIGTERM: uvicorn stops taking requests, finishes the ones in flight, and the command exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from centre.errors import Refused
from centre.faults import Faults

SETTINGS_ENV = "CASHIER_CENTRE_SERVE"
READY_TIMEOUT_S = 60.0
log = logging.getLogger("cashier.centre")


def run_cli(args: argparse.Namespace) -> int:
    from centre.where import store_where
    raw, _base = args.centre_config()
    from centre.api import check_settings
    check_settings(raw)
    faults = list(args.fault)
    Faults.parse(faults)
    where = store_where(args)
    for line in prepare_database(where):
        print(f"cashier centre: {line}", flush=True)
    sock = bind(args.host, args.port)
    settings = {"db": str(where), "config": _encode(raw), "faults": faults, "request_timeout": args.request_timeout}
    configure_logging()
    stopped = _quiet_signals()
    watcher = threading.Thread(target=_announce_when_ready, args=(args.host, args.port, args.workers), daemon=True)
    watcher.start()
    try:
        if args.workers == 1:
            _serve_one(settings, sock)
        else:
            _serve_many(settings, sock, args.workers)
    finally:
        sock.close()
    print(f"cashier centre: stopped{' (' + stopped[0] + ')' if stopped else ''}", flush=True)
    return 0


def prepare_database(db: Path | str) -> list[str]:
    """Create the file (or the tables of a PostgreSQL database) and bring the schema up to date; what was done,
    to tell the operator."""
    from centre.store.engine import Store
    from centre.store.migrate import migrate
    if isinstance(db, str):
        return _prepare_postgres(db)
    existed = db.exists()
    db.parent.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    try:
        steps = migrate(store.db())
    finally:
        store.close()
    if not existed:
        return [f"created the database {db} (empty: load an export with `cashier centre import FILE --db {db}`)"]
    if steps:
        return [f"migrated the database {db} ({', '.join(steps)})"]
    return []


def _prepare_postgres(dsn: str) -> list[str]:
    from centre.store.migrate import migrate
    from centre.store.postgres import PgStore
    store = PgStore(dsn, min_size=1, max_size=1)
    try:
        db: Any = store.db()       # the same face as engine.Database
        steps = migrate(db)
    finally:
        store.close()
    if steps and steps[0] == "0001_people":
        return [f"created the centre's tables in the PostgreSQL database {store.where} (empty: load an export "
                "with `cashier centre import FILE --dsn DSN`)"]
    if steps:
        return [f"migrated the PostgreSQL database {store.where} ({', '.join(steps)})"]
    return []


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything starts (uvicorn would log and exit on a busy port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise Refused("centre_host", f"--host {host}: not an address of this machine ({exc.strerror})",
                      f"--host {host} 不是本机地址") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        taken = exc.errno in (98, 48)   # EADDRINUSE on Linux, macOS
        raise Refused("centre_port", f"cannot listen on {host}:{port}: "
                      + ("the port is in use (another centre or program): choose another with --port"
                         if taken else exc.strerror or str(exc)),
                      f"无法在{host}:{port}监听" + (": 端口已被占用,请用 --port 换一个" if taken else "")) from None
    sock.set_inheritable(True)
    return sock


def configure_logging() -> None:
    """One line per transaction on stderr; uvicorn's own messages only when something is wrong."""
    formatter = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    for name, level in (("cashier.centre", logging.INFO), ("uvicorn", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def app_from_env() -> Any:
    """The ASGI app of one worker process, from the settings in `SETTINGS_ENV` (uvicorn's app factory)."""
    configure_logging()
    settings = json.loads(os.environ[SETTINGS_ENV])
    return _build(settings)


# ---------------------------------------------------------------------------------------------------------
def _build(settings: dict[str, Any]) -> Any:
    from centre.api import open_centre
    from centre.http import build_app
    from centre.request_deadline import DEFAULT_SECONDS, DeadlineH11
    DeadlineH11.seconds = float(settings.get("request_timeout") or DEFAULT_SECONDS)   # this process's connections
    centre = open_centre(_decode(settings["config"]), settings["db"], faults=settings["faults"])
    return build_app(centre.dispatcher)


def _uvicorn_config(app: Any, **extra: Any) -> Any:
    import uvicorn

    from centre.request_deadline import DeadlineH11
    return uvicorn.Config(app, log_config=None, access_log=False, log_level="warning", server_header=False,
                          http=DeadlineH11, **extra)


def _serve_one(settings: dict[str, Any], sock: socket.socket) -> None:
    import uvicorn
    server = uvicorn.Server(_uvicorn_config(_build(settings)))
    server.run(sockets=[sock])


def _serve_many(settings: dict[str, Any], sock: socket.socket, workers: int) -> None:
    from uvicorn.supervisors import Multiprocess
    os.environ[SETTINGS_ENV] = json.dumps(settings)   # the workers are spawned: they inherit the environment
    config = _uvicorn_config("centre.serve:app_from_env", factory=True, workers=workers)
    Multiprocess(config, sockets=[sock]).run()


def _quiet_signals() -> list[str]:
    """Ctrl-C and SIGTERM stop the server (uvicorn's handlers); afterwards uvicorn raises the signal again
    for whoever handled it before: this handler only notes it, so the command ends normally."""
    seen: list[str] = []

    def note(sig: int, _frame: Any) -> None:
        seen.append(signal.Signals(sig).name)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, note)
    return seen


def _announce_when_ready(host: str, port: int, workers: int) -> None:
    """Print the ready line once the centre answers `/health` (in every mode, the truth about 'ready')."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(target, port, timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                shown = f"[{host}]" if ":" in host else host
                more = f" with {workers} worker processes (each with its own --fault counters)" if workers > 1 else ""
                print(f"cashier centre: serving http://{shown}:{port} (docs at /docs){more}", flush=True)
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------------
# The config travels to the workers as JSON; TOML's dates and times are tagged so they come back as they were.
_TAGS: dict[str, type[dt.date] | type[dt.time]] = {"date": dt.date, "datetime": dt.datetime, "time": dt.time}


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    for tag, kind in (("datetime", dt.datetime), ("date", dt.date), ("time", dt.time)):
        if isinstance(value, kind):
            return {"$toml": tag, "value": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$toml", "value"} and value["$toml"] in _TAGS:
            return _TAGS[value["$toml"]].fromisoformat(value["value"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
