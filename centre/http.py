"""The centre over HTTP: `POST /fsi/api/rsfComIfsService/callService`, and its OpenAPI page at `/docs`.

The body is one request envelope; the answer is one response envelope, HTTP 200 even when the transaction
is refused (`infcode` -1). HTTP errors are only for what is not an envelope at all: 400 (not JSON, not an
object, a key twice in one object), 413 (over `MAX_BODY`), 503 (the centre is down, a fault). A lost answer (a fault) is a response
whose body never comes: the headers are sent, then the connection closes, as when a network drops.
The OpenAPI document has one request schema per transaction (a `oneOf` on `infno`) and one per answer.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Union

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import Field, TypeAdapter

from centre.dispatcher import Dispatcher
from centre.interface import jsonio
from centre.interface.envelope import ENDPOINT
from centre.interface.transactions.registry import TRANSACTIONS, envelope_models

MAX_BODY = 1 << 20
log = logging.getLogger("cashier.centre")


class _Dropped(Exception):
    """Raised after the headers of a lost answer: the server closes the connection without a body."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, _Dropped)


class EnvelopeResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return jsonio.dumps(content).encode("utf-8")


class LostAnswer(Response):
    """Headers promise a body that never comes; the connection is then closed (the fault lost-answer)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        raise _Dropped("answer lost on purpose (fault lost-answer)")


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def build_app(dispatcher: Dispatcher) -> FastAPI:
    """The ASGI app around one dispatcher (one per server process)."""
    from fastapi_offline import FastAPIOffline  # Swagger UI and ReDoc served from the package: no CDN

    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    dispatcher.use_group_commit()           # many request threads: their writes share COMMITs
    national = ", ".join(f"{t.infno} {t.zh}" for t in TRANSACTIONS.values() if t.national)
    own = ", ".join(f"{t.infno} {t.zh}" for t in TRANSACTIONS.values() if not t.national)
    app = FastAPIOffline(title="cashier centre: simulated medical-insurance platform (医保中心模拟)", version="1.0",
                   description=(
                       "One endpoint for every transaction, as the national platform has it: POST a request envelope "
                       "(`infno` names the transaction, `input` carries its fields) and get a response envelope "
                       "(`infcode` 0 or -1, `err_msg`, `output`). Amounts are JSON numbers in yuan with two decimals. "
                       f"National transactions: {national}. Project-defined (not national): {own}."))

    @app.post(ENDPOINT, summary="Call a transaction (one envelope in, one out)", response_class=EnvelopeResponse,
              responses={200: {"description": "The response envelope (infcode 0, or -1 with err_msg)",
                               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}}},
                         400: {"description": "Not JSON, not a JSON object, or a key twice in one object"},
                         413: {"description": "Body over 1 MiB"},
                         503: {"description": "The centre is down"}},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"$ref": "#/components/schemas/Request"}, "examples": _examples()}}}})
    async def call_service(request: Request) -> Response:
        from starlette.requests import ClientDisconnect
        body = b""
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    return _problem(413, f"request body over {MAX_BODY} bytes")
        except ClientDisconnect:   # gone before its body was whole (or cut off by --request-timeout): no one to answer
            return Response(status_code=400)
        try:
            envelope = jsonio.loads(body, long_numbers="mark")
        except ValueError as exc:
            return _problem(400, f"not a request envelope: {exc}")
        if not isinstance(envelope, dict):
            return _problem(400, "not a request envelope: the body must be a JSON object")
        outcome = await run_in_threadpool(dispatcher.handle, envelope)
        if outcome.down:
            return _problem(503, "the centre is down (fault)")
        if outcome.lost:
            return LostAnswer()
        return EnvelopeResponse(outcome.response)

    # response_model=None: the answer is a plain dict, and FastAPI's check of a return type for a pydantic v1
    # model would import pydantic.v1 as the server starts
    @app.get("/health", summary="Is the centre up", include_in_schema=False, response_model=None)
    def health() -> dict[str, str]:
        return {"status": "down" if dispatcher.faults.down else "ok"}

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with one schema per transaction's request and answer."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    ref = "#/components/schemas/{model}"
    requests, answers = envelope_models()
    request_union: Any = Annotated[Union[tuple(requests.values())], Field(discriminator="infno")]  # noqa: UP007
    answer_union: Any = Union[tuple(answers.values())]  # noqa: UP007
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    adapters: tuple[tuple[str, TypeAdapter[Any]], ...] = (("Request", TypeAdapter(request_union)),
                                                          ("Answer", TypeAdapter(answer_union)))
    for name, adapter in adapters:
        schema = adapter.json_schema(ref_template=ref, mode="validation" if name == "Request" else "serialization")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    for infno in requests:
        _with_examples(schemas[f"Request{infno}"]["properties"], infno)
    # FastAPI adds `"type": "string"` beside the answer's $ref (its schema for a plain Response class): an answer
    # would then have to be a string and an envelope at once
    doc["paths"][ENDPOINT]["post"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Answer"}
    app.openapi_schema = doc
    return doc


# What the page's generated example should hold: Swagger UI leaves the discriminator (`infno`) out of the
# example it builds from a oneOf, and a field's pattern gives a random string; so the request body also lists
# whole example envelopes (`_examples`), and the schemas carry examples of the envelope's fields.
_EXAMPLES = {"msgid": "H41010000001202612010930000001", "fixmedins_code": "H41010000001",
             "fixmedins_name": "郑州市第一人民医院", "mdtrtarea_admvs": "410100", "insuplc_admdvs": "410100",
             "opter_type": "1", "opter": "cashier01", "opter_name": "收费员", "inf_time": "2026-12-01 09:30:00"}


# One example envelope per step of an outpatient visit (the page offers them in a list): what a window sends.
# The amounts are literals of the JSON document only (25.0 is written as the JSON number 25.0); nothing is computed.
_VISIT, _SETL = "M4101002026120109300012AB34CD", "S4101002026120109400056EF78AB"
_SETTLE = {"psn_no": "P10000001", "mdtrt_cert_type": "03", "mdtrt_cert_no": "A10000001", "med_type": "11",
           "medfee_sumamt": 25.0, "psn_setlway": "01", "mdtrt_id": _VISIT, "chrg_bchno": "B1", "insutype": "310",
           "acct_used_flag": "1"}
_SAMPLE_INPUTS: dict[str, tuple[str, dict[str, Any]]] = {
    "9001": ("sign in", {"signIn": {"opter_no": "cashier01", "mac": "", "ip": "127.0.0.1"}}),
    "1101": ("who holds this card", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A10000001",
                                              "card_sn": "410100D156000005C38275EEFC9B1001"}}),
    "2201": ("register the visit", {"data": {"psn_no": "P10000001", "insutype": "310",
                                             "begntime": "2026-12-01 09:30:00", "mdtrt_cert_type": "03",
                                             "mdtrt_cert_no": "A10000001", "ipt_otp_no": "MZ0001"}}),
    "2204": ("upload the fee details", {"feedetail": [{
        "feedetl_sn": "1", "mdtrt_id": _VISIT, "psn_no": "P10000001", "chrg_bchno": "B1",
        "fee_ocur_time": "2026-12-01 09:35:00", "med_list_codg": "XA01", "det_item_fee_sumamt": 25.0, "cnt": 2,
        "pric": 12.5}]}),
    "2206": ("pre-settle", {"data": _SETTLE}),
    "2207": ("settle", {"data": {**_SETTLE, "invono": ""}}),
    "2601": ("undo a 2207 whose answer never came", {"data": {"psn_no": "P10000001",
                                                             "omsgid": "H41010000001202612010930000006",
                                                             "oinfno": "2207"}}),
    "5203": ("query a settlement", {"data": {"psn_no": "P10000001", "setl_id": _SETL, "mdtrt_id": _VISIT}}),
    "2208": ("reverse a settlement (same day)", {"data": {"psn_no": "P10000001", "setl_id": _SETL,
                                                         "mdtrt_id": _VISIT}}),
    "3201": ("day-end totals", {"data": {"insutype": "310", "clr_type": "11", "setl_optins": "",
                                         "stmt_begndate": "2026-12-01", "stmt_enddate": "2026-12-01",
                                         "medfee_sumamt": 25.0, "fund_pay_sumamt": 0.0, "acct_pay": 25.0,
                                         "fixmedins_setl_cnt": 1}}),
}


def _examples() -> dict[str, Any]:
    out = {}
    for n, (infno, (what, inp)) in enumerate(_SAMPLE_INPUTS.items(), 1):
        envelope = {"infno": infno, **_EXAMPLES, "msgid": f"H4101000000120261201093000{n:04d}",
                    "insuplc_admdvs": "" if infno in ("9001", "1101") else "410100", "recer_sys_code": "YBXT",
                    "infver": "V1.0", "sign_no": "" if infno == "9001" else "20261201093000A1B2C3D4E5F6",
                    "input": inp}
        out[infno] = {"summary": f"{infno} {TRANSACTIONS[infno].zh}: {what}", "value": envelope}
    return out


def _with_examples(properties: dict[str, Any], infno: str) -> None:
    properties["infno"] = {k: v for k, v in properties["infno"].items() if k != "const"} | {
        "enum": [infno], "example": infno}
    for name, value in _EXAMPLES.items():
        if name in properties:
            properties[name] = {**properties[name], "example": value}
