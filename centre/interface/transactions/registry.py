"""Every transaction the centre answers: its number, names, input and output models, national or not."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, create_model

from centre.interface.envelope import RequestEnvelope, ResponseEnvelope


@dataclass(frozen=True)
class Transaction:
    """A transaction; its input and output models named `module.Model` (a module of this package), each module
    imported when a model of it is first asked for: a process that makes or answers a few transactions builds
    only their models."""

    infno: str
    zh: str
    en: str
    input_model: str
    output_model: str
    national: bool = True

    @property
    def input(self) -> type[BaseModel]:
        return _model(self.input_model)

    @property
    def output(self) -> type[BaseModel]:
        return _model(self.output_model)


@cache
def _model(name: str) -> type[BaseModel]:
    module, _, model = name.partition(".")
    found: type[BaseModel] = getattr(importlib.import_module(f"centre.interface.transactions.{module}"), model)
    return found


TRANSACTIONS: dict[str, Transaction] = {t.infno: t for t in (
    Transaction("9001", "签到", "sign-in", "signin.In9001", "signin.Out9001"),
    Transaction("9002", "签退", "sign-out", "signin.In9002", "signin.Out9002"),
    Transaction("1101", "人员信息获取", "person information", "person.In1101", "person.Out1101"),
    Transaction("2201", "门诊挂号", "outpatient registration", "visit.In2201", "visit.Out2201"),
    Transaction("2202", "门诊挂号撤销", "registration cancelled", "visit.In2202", "visit.Empty"),
    Transaction("2203", "门诊就诊信息上传", "visit information", "visit.In2203", "visit.Empty"),
    Transaction("2204", "门诊费用明细信息上传", "fee details upload", "fees.In2204", "fees.Out2204"),
    Transaction("2205", "门诊费用明细信息撤销", "fee details cancelled", "fees.In2205", "visit.Empty"),
    Transaction("2206", "门诊预结算", "pre-settlement", "settle.In2206", "settle.OutSettle"),
    Transaction("2207", "门诊结算", "settlement", "settle.In2207", "settle.OutSettle"),
    Transaction("2208", "门诊结算撤销", "settlement reversal", "settle.In2208", "settle.OutSettle"),
    Transaction("2601", "冲正交易", "transaction reversal", "query.In2601", "query.Out2601"),
    Transaction("5203", "结算信息查询", "settlement query", "query.In5203", "settle.OutSettle"),
    Transaction("3201", "医药机构费用结算对总账", "totals reconciliation", "query.In3201", "query.Out3201"),
    Transaction("X101", "家庭共济账户查询(项目自定义)", "family accounts (project-defined)", "family.InX101",
                "family.OutX101", national=False),
    Transaction("X102", "家庭共济绑定(项目自定义)", "bind a relative (project-defined)", "family.InX102",
                "family.OutBinding", national=False),
    Transaction("X103", "家庭共济解绑(项目自定义)", "unbind a relative (project-defined)", "family.InX103",
                "family.OutBinding", national=False),
    Transaction("X104", "授权人绑定查询(项目自定义)", "an owner's bindings (project-defined)", "family.InX104",
                "family.OutX104", national=False),
    Transaction("X105", "人员查询(项目自定义)", "person by psn_no, card or ID number (project-defined)",
                "family.InX105", "person.Out1101", national=False),
    Transaction("X111", "医保钱包转账(项目自定义)", "wallet transfer to a relative (project-defined)", "wallet.InX111",
                "wallet.OutX111", national=False),
    Transaction("X112", "医保钱包接收转账(项目自定义)", "accept a wallet transfer (project-defined)", "wallet.InX112",
                "wallet.OutX112", national=False),
    Transaction("X113", "医保钱包查询(项目自定义)", "a wallet and its transfers (project-defined)", "wallet.InX113",
                "wallet.OutX113", national=False),
    Transaction("X114", "医保钱包到期退回(项目自定义)", "return unaccepted transfers that are due (project-defined)",
                "wallet.InX114", "wallet.OutX114", national=False),
    Transaction("X121", "家庭共济地区规则查询(项目自定义)", "the mutual-aid rules of an area (project-defined)",
                "wallet.InX121", "wallet.OutX121", national=False),
)}


def _envelope_model(t: Transaction, base: type[BaseModel], field: str, model: type[BaseModel],
                    suffix: str) -> type[BaseModel]:
    fields: dict[str, object] = {field: (model, ...)}
    if base is RequestEnvelope:
        fields["infno"] = (Literal[t.infno], ...)
    else:
        fields[field] = (model | None, None)
    return create_model(f"{suffix}{t.infno}", __base__=base, __doc__=f"{t.infno} {t.zh} ({t.en})",
                        **fields)  # type: ignore[call-overload]


@cache
def envelope_models() -> tuple[dict[str, type[BaseModel]], dict[str, type[BaseModel]]]:
    """(requests, answers): one whole-envelope model per transaction, for the OpenAPI page. Made on first use,
    not at import: every window process and command imports this module, and only the served centre's
    documentation needs them."""
    requests = {t.infno: _envelope_model(t, RequestEnvelope, "input", t.input, "Request")
                for t in TRANSACTIONS.values()}
    answers = {t.infno: _envelope_model(t, ResponseEnvelope, "output", t.output, "Response")
               for t in TRANSACTIONS.values()}
    return requests, answers
