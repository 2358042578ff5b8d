"""The centre served for tests: a real `cashier centre serve` subprocess on a free port, a plain httpx caller
with exact-decimal JSON, and one `Transport` face for both ways in (in-process and HTTP).

A lost answer is `centre.api.AnswerLost` and a centre that is down is `centre.api.CentreDown` on both
transports, so a test says once what a window must do about them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import httpx
from centre_support import load_lines

from centre.api import AnswerLost, CentreDown, open_centre
from centre.interface import jsonio
from centre.interface.envelope import ENDPOINT
from centre.store.engine import is_dsn, open_store
from centre.store.migrate import migrate

CASHIER = Path(sys.executable).with_name("cashier")

# A small catalogue (医保目录): class A, class B with and without its own self-paid-first ratio, class C,
# and a class A item with a unit price limit.
CATALOGUE = [
    {"kind": "catalogue", "med_list_codg": "XA01", "name": "阿莫西林胶囊", "chrgitm_lv": "01", "med_chrgitm_type": "09"},
    {"kind": "catalogue", "med_list_codg": "XA02", "name": "胸部CT", "chrgitm_lv": "01", "med_chrgitm_type": "04"},
    {"kind": "catalogue", "med_list_codg": "XA03", "name": "一次性输液器", "chrgitm_lv": "01",
     "med_chrgitm_type": "08", "pric_uplmt_amt": Decimal("10.00")},
    {"kind": "catalogue", "med_list_codg": "XB01", "name": "头孢克洛缓释片", "chrgitm_lv": "02",
     "med_chrgitm_type": "09", "selfpay_prop": "0.20"},
    {"kind": "catalogue", "med_list_codg": "XB02", "name": "复方甘草片", "chrgitm_lv": "02", "med_chrgitm_type": "09"},
    {"kind": "catalogue", "med_list_codg": "XC01", "name": "进口维生素", "chrgitm_lv": "03", "med_chrgitm_type": "09"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_db(path: Path | str, lines: list[dict[str, Any]]) -> None:
    """A centre database (a SQLite path or a PostgreSQL DSN) with these export lines, as an import would leave it."""
    store = open_store(path)
    try:
        migrate(store.db())
        load_lines(store.db(), lines)
    finally:
        store.close()


class ServedCentre:
    """`cashier --config CONFIG centre serve (--db DB | --dsn DSN) --port PORT [extra...]`, stderr collected as it
    comes (a `str` database that is a connection string is served with --dsn)."""

    def __init__(self, config: Path, db: Path | str, *extra: str, port: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = [str(CASHIER), "--config", str(config), "centre", "serve", "--dsn" if is_dsn(db) else "--db",
                     str(db), "--port", str(self.port), *extra]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.out: list[str] = []
        self.err: list[str] = []

    def start(self, timeout: float = 30.0) -> "ServedCentre":
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=self.env, start_new_session=True)
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, ready), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, None), daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise AssertionError(f"the centre did not start: {self.stdout()} {self.stderr()}")
        return self

    @staticmethod
    def _pump(stream: Any, into: list[str], ready: threading.Event | None) -> None:
        for line in stream:
            into.append(line)
            if ready is not None and "cashier centre: serving " in line:
                ready.set()

    def stdout(self) -> str:
        return "".join(self.out)

    def stderr(self) -> str:
        return "".join(self.err)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the server (only the process this object started) and wait for it; its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait(timeout)
        time.sleep(0.05)     # let the pumps read the last lines
        return code

    def kill(self) -> None:
        """SIGKILL the server and its workers (its own process group) — a power cut for the process."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def __enter__(self) -> "ServedCentre":
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()


class HttpCaller:
    """A plain HIS client over HTTP: one keep-alive connection, the body written and read with exact decimals."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.client = httpx.Client(base_url=url, timeout=timeout, headers={"content-type": "application/json"})
        self.last: httpx.Response | None = None

    def __call__(self, envelope: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.client.post(ENDPOINT, content=jsonio.dumps(envelope).encode("utf-8"))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:      # nothing was sent
            raise CentreDown(f"unreachable: {type(exc).__name__}: {exc}") from None
        except httpx.TransportError as exc:                             # sent, and the answer never came
            raise AnswerLost(f"no answer: {type(exc).__name__}: {exc}") from None
        self.last = response
        if response.status_code == 503:
            raise CentreDown(response.text)
        assert response.status_code == 200, (response.status_code, response.text)
        return jsonio.loads(response.content)

    def post(self, body: bytes, **headers: str) -> httpx.Response:
        return self.client.post(ENDPOINT, content=body, headers=headers)

    def close(self) -> None:
        self.client.close()


@dataclass
class Transport:
    """One way into a centre: `call(envelope) -> answer`; `db()` peeks at its store (read-only use)."""

    kind: str
    call: Callable[[dict[str, Any]], dict[str, Any]]
    db_path: Path | str
    server: ServedCentre | None = None
    closers: list[Callable[[], Any]] = field(default_factory=list)
    _store: Any = None

    def db(self) -> Any:
        if self._store is None:
            self._store = open_store(self.db_path)
        return self._store.db()

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        if self._store is not None:
            self._store.close()


def open_transport(kind: str, config: Path, raw_config: dict[str, Any], db: Path | str, lines: list[dict[str, Any]],
                   faults: list[str] | tuple[str, ...] = ()) -> Transport:
    """A fresh centre on `db` loaded with `lines`, reached in-process or over HTTP, with these faults."""
    prepare_db(db, lines)
    if kind == "inprocess":
        centre = open_centre(raw_config, db, faults=list(faults))
        return Transport(kind, centre.call, db, closers=[centre.close])
    extra = [a for f in faults for a in ("--fault", f)]
    server = ServedCentre(config, db, *extra).start()
    caller = HttpCaller(server.url)
    return Transport(kind, caller, db, server=server, closers=[server.stop, caller.close])
