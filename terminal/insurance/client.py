"""The window as the centre's client: envelopes with this hospital's identity, a msgid that is never used
twice, the sign-in, the window's log of every message, and answers as the interface's typed models.

    client = CentreClient(transport, identity, open_db)
    person = client.call("1101", {"data": {...}})            # -> centre.interface ... Out1101
A refusal (`infcode` -1) raises `CentreRefused` with the centre's code and its Chinese and English text.
`CentreUnreachable` and `AnswerUncertain` come from the transport (see there); the client logs both.
A sign-in that has lapsed is renewed once, transparently (the refused message did nothing).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import sqlite_utils
from pydantic import BaseModel

from centre.interface.envelope import time_text
from centre.interface.transactions.registry import TRANSACTIONS
from terminal.error_codes import E
from terminal.errors import CashierError
from terminal.insurance.transport import AnswerUncertain, CentreUnreachable, Transport
from terminal.store import window_log

# transactions that change something at the centre: logged (and synced) before they leave
WRITES = frozenset({"9001", "9002", "2201", "2202", "2203", "2204", "2205", "2207", "2208", "2601", "X102", "X103",
                    "X111", "X112"})
SLOW_MS = 1000.0
_RESIGN = ("sign_required", "sign_expired")


class CentreRefused(CashierError):
    """The centre said no (`infcode` -1): its code, and its message in Chinese and English."""


@dataclass(frozen=True)
class Identity:
    """Who this window is on the interface."""

    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    opter: str
    opter_name: str = ""
    opter_type: str = "1"          # 1 staff at a window, 2 a self-service kiosk
    window_no: int = 1             # 0-99: two digits of every msgid, so windows of one hospital never collide


@dataclass
class Health:
    state: str = "unknown"         # connected | slow | down | unknown
    last_ms: float | None = None
    sign_no: str = ""
    operator: str = ""


class CentreClient:
    def __init__(self, transport: Transport, identity: Identity, open_db: Callable[[], sqlite_utils.Database], *,
                 clock: Callable[[], dt.datetime] = dt.datetime.now, slow_ms: float = SLOW_MS) -> None:
        self.transport = transport
        self.identity = identity
        self._open_db = open_db
        self.clock = clock
        self.slow_ms = slow_ms
        self.health = Health()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._stamp = ""
        self._seq = 100

    # ---------------------------------------------------------------- the window's database, per thread
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open_db()
        return db

    # ---------------------------------------------------------------- msgids
    def next_msgid(self) -> str:
        """fixmedins_code + yyyyMMddHHmmss + window (2) + sequence (2): unique across windows and restarts."""
        with self._lock:
            if self._seq >= 99:
                self._stamp = window_log.reserve_second(self.db(), self.clock())
                self._seq = -1
            self._seq += 1
            return f"{self.identity.fixmedins_code}{self._stamp}{self.identity.window_no % 100:02d}{self._seq:02d}"

    def envelope(self, infno: str, inp: dict[str, Any], *, insuplc: str = "", msgid: str | None = None
                 ) -> dict[str, Any]:
        i = self.identity
        return {"infno": infno, "msgid": msgid or self.next_msgid(), "mdtrtarea_admvs": i.mdtrtarea_admvs,
                "insuplc_admdvs": insuplc, "recer_sys_code": "YBXT", "dev_no": "", "dev_safe_info": "",
                "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": i.opter_type, "opter": i.opter,
                "opter_name": i.opter_name, "inf_time": time_text(self.clock()), "fixmedins_code": i.fixmedins_code,
                "fixmedins_name": i.fixmedins_name, "sign_no": self.health.sign_no, "input": inp}

    # ---------------------------------------------------------------- sign-in
    def sign_in(self) -> str:
        out = self._send("9001", {"signIn": {"opter_no": self.identity.opter, "mac": "", "ip": ""}})
        with self._lock:
            self.health.sign_no = out["signinoutb"]["sign_no"]
            self.health.operator = self.identity.opter
        return self.health.sign_no

    def sign_out(self) -> None:
        if not self.health.sign_no:
            return
        try:
            self._send("9002", {"signOut": {"sign_no": self.health.sign_no, "opter_no": self.identity.opter}})
        finally:
            self.health.sign_no = ""

    # ---------------------------------------------------------------- calls
    def call(self, infno: str, inp: dict[str, Any] | BaseModel, *, insuplc: str = "", msgid: str | None = None
             ) -> BaseModel:
        """Send one transaction (signing in first if needed); its output as the interface's model."""
        data = inp.model_dump(mode="python", exclude_none=True) if isinstance(inp, BaseModel) else inp
        if not self.health.sign_no and infno != "9001":
            self.sign_in()
        try:
            out = self._send(infno, data, insuplc=insuplc, msgid=msgid)
        except CentreRefused as exc:
            if exc.code not in _RESIGN:
                raise
            self.sign_in()       # the refused message did nothing: a new msgid, signed in again
            out = self._send(infno, data, insuplc=insuplc)
        return TRANSACTIONS[infno].output.model_validate(out)

    def _send(self, infno: str, inp: dict[str, Any], *, insuplc: str = "", msgid: str | None = None
              ) -> dict[str, Any]:
        envelope = self.envelope(infno, inp, insuplc=insuplc, msgid=msgid)
        db = self.db()
        sent_at = time_text(self.clock())
        if infno in WRITES:
            window_log.log_sent(db, envelope, sent_at)
        started = time.perf_counter()
        try:
            answer = self.transport.call(envelope)
        except AnswerUncertain as exc:
            self._health("slow", None)
            window_log.log_outcome(db, envelope, sent_at=sent_at, at=time_text(self.clock()), state="uncertain",
                                   note=str(exc)[:300])
            exc.msgid = envelope["msgid"]  # type: ignore[attr-defined]
            raise
        except CentreUnreachable as exc:
            self._health("down", None)
            window_log.log_outcome(db, envelope, sent_at=sent_at, at=time_text(self.clock()), state="unreachable",
                                   note=str(exc)[:300])
            raise
        ms = (time.perf_counter() - started) * 1000
        self._health("slow" if ms > self.slow_ms else "connected", ms)
        window_log.log_outcome(db, envelope, sent_at=sent_at, at=time_text(self.clock()), state="answered", ms=ms,
                               answer=answer)
        if answer.get("infcode") != 0:
            raise CentreRefused(str(answer.get("ext_err_code") or E.CENTRE_REFUSED.code),
                                str(answer.get("ext_err_msg_en") or answer.get("err_msg") or "refused by the centre"),
                                str(answer.get("err_msg") or "医保中心拒绝了该交易"), msgid=envelope["msgid"])
        output = answer.get("output")
        return output if isinstance(output, dict) else {}

    def probe(self) -> None:
        """Between transactions: down when the centre cannot be reached, connected again when it can. A probe
        answers fast even from a slow centre, so it never clears "slow": the next transaction says that."""
        started = time.perf_counter()
        try:
            self.transport.probe()
        except CentreUnreachable:
            self._health("down", None)
            return
        if self.health.state in ("down", "unknown"):
            self._health("connected", (time.perf_counter() - started) * 1000)

    def _health(self, state: str, ms: float | None) -> None:
        with self._lock:
            self.health.state = state
            self.health.last_ms = ms

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        self.transport.close()
