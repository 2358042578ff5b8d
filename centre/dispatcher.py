"""One request envelope in, one response envelope out: the same for every transport.

Validation (envelope, then the transaction's input), the msgid (used once), the sign-in, the write
transaction around a transaction that changes anything, the answer's envelope. Nothing a client sends
can make it raise: every failure is `infcode` -1 with a Chinese `err_msg` (and `ext_err_code`).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import logging
import re
import secrets
import time
import typing
from dataclasses import dataclass, replace
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError

from centre.errors import BadRequest, Refused
from centre.faults import DEFAULT_ERROR, ERROR_TEXT, Faults
from centre.group_commit import GroupCommit
from centre.handlers.context import Ctx
from centre.interface.envelope import INFNO_RE, MSGID_RE, RequestEnvelope, stamp_ms, time_text
from centre.interface.transactions.registry import TRANSACTIONS
from centre.settings import CentreSettings
from centre.store import traffic
from centre.store.engine import CommitUncertain, Database, Store

log = logging.getLogger("cashier.centre")
T = TypeVar("T")
_INFNO = re.compile(INFNO_RE)

Handler = Callable[[Ctx, Any], BaseModel]
# infno -> (module in centre.handlers, function, writes): a writing transaction runs in one write transaction with
# its msgid. A handler's module is imported when its transaction is first called (see `handler_of`): a window that
# only reads a card, or a server that has not been called yet, loads none of them.
HANDLERS: dict[str, tuple[str, str, bool]] = {
    "9001": ("signin", "sign_in", True), "9002": ("signin", "sign_out", True),
    "1101": ("person", "person_info", False),
    "2201": ("visit", "register", True), "2202": ("visit", "cancel", True), "2203": ("visit", "visit_info", True),
    "2204": ("fees", "upload", True), "2205": ("fees", "cancel", True),
    "2206": ("settle", "pre_settle", False), "2207": ("settle", "settle", True), "2208": ("settle", "reverse", True),
    "2601": ("revoke", "revoke", True), "5203": ("settle", "query", False),
    "3201": ("reconcile", "reconcile", False),
    "X101": ("family", "family", False), "X102": ("family", "bind", True), "X103": ("family", "unbind", True),
    "X104": ("family", "owner_bindings", False), "X105": ("person", "person_lookup", False),
    # the wallet's listing is a writer too: it first sends back the transfers whose return time has come
    "X111": ("wallet", "transfer", True), "X112": ("wallet", "accept", True), "X113": ("wallet", "wallet", True),
    "X114": ("wallet", "return_all", True), "X121": ("wallet", "region_rules", False),
}
NO_SIGN_IN = {"9001"}
_FOUND: dict[str, Handler] = {}


def handler_of(infno: str) -> Handler:
    """The function that answers `infno` (one of HANDLERS), its module imported on the first call."""
    handler = _FOUND.get(infno)
    if handler is None:
        module, function, _writes = HANDLERS[infno]
        handler = _FOUND[infno] = getattr(importlib.import_module(f"centre.handlers.{module}"), function)
    return handler


@dataclass(frozen=True)
class Outcome:
    """The answer, and what a fault did to it: `lost` (committed, answer never sent), `down`."""

    response: dict[str, Any]
    lost: bool = False
    down: bool = False


class Dispatcher:
    def __init__(self, store: Store, settings: CentreSettings, *, clock: Callable[[], dt.datetime] | None = None,
                 faults: Faults | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or settings.clock()
        self.faults = faults or Faults()
        self.group: GroupCommit | None = None

    def handle(self, raw: Any) -> Outcome:
        started = time.perf_counter()
        received = self.clock()
        infno, msgid = _peek(raw)
        if self.faults.down:
            log.info("infno=%s msgid=%s infcode=-1 ms=%.1f answer=down", infno, msgid,
                     (time.perf_counter() - started) * 1000)
            return Outcome(self._answer(received, None, Refused("centre_down", "the centre is down",
                                                                "医保中心服务暂不可用")), down=True)
        lost = False
        try:
            output, lost = self._run(raw, received)
            response = self._answer(received, output, None)
        except CommitUncertain as exc:      # it may have taken effect: no answer may say either way
            log.warning("infno=%s msgid=%s answer=withheld (%s)", infno, msgid, exc)
            return Outcome(self._answer(received, None, Refused("centre_db", str(exc), "医保中心数据库连接中断")),
                           lost=True)
        except Refused as exc:
            response = self._answer(received, None, exc)
        except Exception:
            log.exception("centre: unexpected error in %s %s", infno, msgid)
            response = self._answer(received, None, Refused("centre_internal", "internal error in the centre",
                                                            "医保中心内部错误,请稍后重试"))
        if self.faults.delay_ms:
            time.sleep(self.faults.delay_ms / 1000)
        ms = (time.perf_counter() - started) * 1000
        log.info("infno=%s msgid=%s infcode=%s ms=%.1f%s", infno, msgid, response["infcode"], ms,
                 " answer=lost" if lost else "")
        return Outcome(response, lost=lost)

    # ------------------------------------------------------------------------------------------
    def _run(self, raw: Any, received: dt.datetime) -> tuple[BaseModel, bool]:
        if not isinstance(raw, dict):
            raise BadRequest("not_envelope", "the request is not a JSON object", "报文不是JSON对象")
        env = _validate(RequestEnvelope, raw, "报文", "envelope")
        tx = TRANSACTIONS.get(env.infno)
        if tx is None or env.infno not in HANDLERS:
            raise BadRequest("infno_unknown", f"unknown transaction {env.infno}", f"不支持的交易编号{env.infno}")
        inp = _validate(tx.input, env.input, "交易输入", "input")
        if _names_psn_no(env.input) and not env.insuplc_admdvs:
            raise BadRequest("insuplc_required", "insuplc_admdvs is required when the input names a psn_no",
                             "入参含人员编号时参保地医保区划(insuplc_admdvs)必填")
        handler, writes = handler_of(env.infno), HANDLERS[env.infno][2]
        ctx = Ctx(self.store.db(), self.settings, env, received)
        if self.faults.take("error", env.infno):
            self._record_refused(ctx)
            raise Refused("fault_error", "refused by the fault error:" + env.infno,
                          ERROR_TEXT.get(env.infno, DEFAULT_ERROR))
        if env.infno not in NO_SIGN_IN and self.faults.take_expire():
            # the fault waits for a business call (a sign-in would only be expired before it is made), and the
            # sign-ins end a second before it, since a sign-in is valid up to and including its valid_until
            self._write(lambda db: traffic.expire_signins(db, time_text(received - dt.timedelta(seconds=1))))

        def claim(db: Database) -> None:
            if not traffic.claim(db, msgid=env.msgid, infno=env.infno, fixmedins_code=env.fixmedins_code, at=ctx.at):
                raise _duplicate(env.msgid)

        def write_work(db: Database) -> BaseModel:
            here = replace(ctx, db=db)
            claim(db)
            self._signed_in(here)
            done = handler(here, inp)
            effect = _effect(env.infno, inp, done)
            if effect:
                traffic.set_effect(db, env.msgid, effect)
            return done

        try:
            if writes:
                out = self._write(write_work)
            else:
                if traffic.seen(ctx.db, env.msgid) is not None:
                    raise _duplicate(env.msgid)
                self._signed_in(ctx)
                out = handler(ctx, inp)
                self._write(claim)
        except Refused as exc:
            if exc.code != "msgid_used":
                self._record_refused(ctx)
            raise
        return out, writes and self.faults.take("lost", env.infno)

    def _write(self, work: Callable[[Database], T]) -> T:
        """`work(db)` in a write transaction: this thread's own, or the next group commit's (see `use_group_commit`)."""
        if self.group is not None:
            return self.group.run(work)
        return self.store.transaction(work)

    def use_group_commit(self) -> None:
        """Many threads call this dispatcher (a server): their writes share COMMITs (see centre.group_commit).
        SQLite only: PostgreSQL already flushes the commits of concurrent connections together."""
        if self.group is None and self.store.dialect == "sqlite":
            self.group = GroupCommit(self.store)

    def _signed_in(self, ctx: Ctx) -> None:
        if self.settings.require_sign_in and ctx.env.infno not in NO_SIGN_IN:
            from centre.handlers.signin import check_signed_in
            check_signed_in(ctx)

    def _record_refused(self, ctx: Ctx) -> None:
        """A refused message's msgid is used too (seen before = refused), in its own small transaction."""
        try:
            self._write(lambda db: traffic.claim(db, msgid=ctx.env.msgid, infno=ctx.env.infno,
                                                 fixmedins_code=ctx.env.fixmedins_code, at=ctx.at, state="refused"))
        except Refused:
            pass

    def _answer(self, received: dt.datetime, output: BaseModel | None, refused: Refused | None) -> dict[str, Any]:
        area = "000000"
        out: dict[str, Any] = {
            "infcode": 0 if refused is None else -1,
            "inf_refmsgid": f"{area}{received.strftime('%Y%m%d%H%M%S')}{secrets.randbelow(10**10):010d}",
            "refmsg_time": stamp_ms(received), "respond_time": stamp_ms(self.clock()),
            "err_msg": None if refused is None else refused.zh, "warn_msg": None,
            "output": None if output is None else output.model_dump(mode="python"),
        }
        if refused is not None:
            out["ext_err_code"] = refused.code
            out["ext_err_msg_en"] = refused.en
        return out


def _peek(raw: Any) -> tuple[str, str]:
    """infno and msgid for the log line, whatever the request is (never raises). Only values of the
    platform's shape are written: anything else (a newline that would forge a second line, an ID number sent
    as a msgid by mistake) is logged as `?`."""
    if not isinstance(raw, dict):
        return "-", "-"
    infno, msgid = raw.get("infno"), raw.get("msgid")
    return (infno if isinstance(infno, str) and _INFNO.fullmatch(infno) else "?",
            msgid if isinstance(msgid, str) and MSGID_RE.fullmatch(msgid) else "?")


def _validate(model: type[BaseModel], data: Any, what_zh: str, what_en: str) -> Any:
    """The model, or a refusal naming the first wrong field: in Chinese for the cashier (with the technical
    reason in brackets for the HIS developer) and in English."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        named = _field_named(reason, first, _field_names(model))
        where = ".".join(str(p) for p in (*first.get("loc", ()), *named)) or what_en
        count = exc.error_count()
        more_en = f" (and {count - 1} more)" if count > 1 else ""
        more_zh = f",另有{count - 1}处错误" if count > 1 else ""
        raise BadRequest("bad_request", f"{what_en} {where}: {reason}{more_en}",
                         f"{what_zh}字段{where}{_reason_zh(str(first.get('type', '')), reason)}({reason}){more_zh}"
                         ) from None


def _field_named(reason: str, error: Any, fields: frozenset[str]) -> tuple[str, ...]:
    """A check of a whole model (the msgid against fixmedins_code, a period's two ends) has no field of its own in
    `loc`: its message begins with the field it is about, which is named in its place."""
    named = _LEADING_WORD.match(reason)
    loc = error.get("loc", ())
    if error.get("type") != "value_error" or named is None or named.group(1) not in fields:
        return ()
    if loc and loc[-1] == named.group(1):
        return ()
    return (named.group(1),)


_LEADING_WORD = re.compile(r"([a-z][a-z0-9_]*)(?:'s)? ")


@functools.cache
def _field_names(model: type[BaseModel]) -> frozenset[str]:
    """Every field name of `model` and of the models inside it."""
    names: set[str] = set()
    seen: set[type] = set()

    def walk(kind: Any) -> None:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if kind in seen:
                return
            seen.add(kind)
            for name, info in kind.model_fields.items():
                names.add(name)
                walk(info.annotation)
        for arg in typing.get_args(kind):
            walk(arg)
    walk(model)
    return frozenset(names)


_REASON_ZH = {  # pydantic's error type -> what is wrong, as a cashier reads it
    "missing": "缺少", "string_type": "应为文字", "int_type": "应为整数", "int_parsing": "应为整数",
    "dict_type": "应为JSON对象", "model_type": "应为JSON对象", "list_type": "应为数组", "bool_type": "应为布尔值",
    "string_too_short": "不能为空或过短", "string_too_long": "过长", "too_short": "条目过少", "too_long": "条目过多",
    "string_pattern_mismatch": "格式不正确", "literal_error": "取值不正确", "enum": "取值不正确",
    "greater_than_equal": "超出允许范围", "less_than_equal": "超出允许范围", "greater_than": "超出允许范围",
    "less_than": "超出允许范围", "union_tag_invalid": "取值不正确",
}
_VALUE_ZH = (("is after", "晚于结束日期"), ("period is longer", "对账期间过长"), ("more than", "小数位数过多"),
             ("JSON number", "应为数字"), ("must be a time", "时间格式应为yyyy-MM-dd HH:mm:ss"),
             ("must be a date", "日期格式应为yyyy-MM-dd"), ("msgid", "报文ID格式不正确"), ("control characters", "含有控制字符"),
             ("finite", "应为有限数字"), ("too many digits", "位数过多"), ("at least", "小于允许的最小值"),
             ("at most", "超过允许的最大值"))


def _reason_zh(kind: str, reason: str) -> str:
    if kind in _REASON_ZH:
        return _REASON_ZH[kind]
    for needle, zh in _VALUE_ZH:
        if needle in reason:
            return zh
    return "不正确"


def _names_psn_no(inp: dict[str, Any]) -> bool:
    for value in inp.values():
        if isinstance(value, dict) and value.get("psn_no"):
            return True
        if isinstance(value, list) and value and isinstance(value[0], dict) and value[0].get("psn_no"):
            return True
    return False


def _duplicate(msgid: str) -> Refused:
    return Refused("msgid_used", f"msgid {msgid} was used before: every message needs a new msgid",
                   f"报文ID{msgid}重复,每笔交易须使用新的报文ID")


def _effect(infno: str, inp: Any, out: BaseModel) -> dict[str, Any] | None:
    """What a message did, for a later 2601."""
    if infno == "2201":
        return {"mdtrt_id": out.data.mdtrt_id}  # type: ignore[attr-defined]
    if infno == "2204":
        return {"mdtrt_id": inp.feedetail[0].mdtrt_id, "batches": sorted({d.chrg_bchno for d in inp.feedetail})}
    if infno == "2207":
        return {"setl_id": out.setlinfo.setl_id}  # type: ignore[attr-defined]
    return None
