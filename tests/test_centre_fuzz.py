"""Property-based fuzzing of the centre's HTTP interface from its own OpenAPI document (schemathesis), against a
real `cashier centre serve`: whatever arrives, the answer is an envelope or a documented HTTP error — never a
500, never a traceback in the server's log, and nothing a fuzzer sends breaks the books.

Half the generated requests are schema-conforming and half deliberately not; a share of them get a real
envelope (this hospital's code, a fresh msgid, a current sign_no, a real person) so that they go past the
envelope into every transaction's own checks and handlers."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from centre.store.money import drifts
from centre_flow import demo_with_catalogue, his
from centre_http_support import HttpCaller, ServedCentre, prepare_db
from pg_stack import STORES, Databases
from centre.interface.envelope import ENDPOINT

EXAMPLES = 120                 # about 20 s on this project's machines (generation dominates)
ENVELOPE_CODES = {"not_envelope", "bad_request", "infno_unknown", "msgid_used", "sign_required", "sign_expired",
                  "insuplc_required"}


@pytest.fixture(scope="module", params=STORES)
def served(request, tmp_path_factory):
    from centre_support import ROOT
    folder = tmp_path_factory.mktemp("fuzz")
    config = folder / "config.toml"
    config.write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    databases = Databases(request, request.param, folder)
    where = databases.new()
    prepare_db(where, demo_with_catalogue())
    server = ServedCentre(config, where).start()
    server.where = where  # type: ignore[attr-defined]
    yield server
    server.stop()
    databases.close()


def _realistic(body, window) -> object:
    """The envelope a real window sends around the fuzzed `infno` and `input`, so the input reaches the
    transaction's own checks and its handler."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return body
    infno = body.get("infno") if isinstance(body.get("infno"), str) else "1101"
    return {**window.envelope(infno, _with_people(body["input"])), "insuplc_admdvs": "410100"}


def _with_people(value):
    """Every psn_no becomes a person the centre knows (a fuzzer never guesses one)."""
    if isinstance(value, dict):
        return {k: ("P10000001" if k == "psn_no" else _with_people(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_people(v) for v in value]
    return value


def test_fuzzing_the_openapi_schema_finds_no_500_and_no_traceback(served):
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    operation = schema[ENDPOINT]["POST"]
    caller = HttpCaller(served.url)
    window = his(caller)
    seen: dict[str, int] = {}
    strategy = st.tuples(operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
                         | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), st.booleans())

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(pair=strategy)
    def one(pair) -> None:
        case, real = pair
        if real:
            case.body = _realistic(case.body, window)
        response = case.call(base_url=served.url)
        case.validate_response(response, checks=[schemathesis.checks.not_a_server_error,
                                                      schemathesis.checks.response_schema_conformance])
        assert response.status_code in (200, 400, 413, 415, 422), (response.status_code, response.text[:300])
        if response.status_code == 200:
            answer = json.loads(response.text)
            assert answer["infcode"] in (0, -1), answer
            code = answer.get("ext_err_code", "ok")
            assert code != "centre_internal", (case.body, answer)
            seen[code] = seen.get(code, 0) + 1

    one()
    caller.close()
    assert "Traceback" not in served.stderr() and "unexpected error" not in served.stderr(), served.stderr()[-3000:]
    beyond_envelope = {code for code in seen if code not in ENVELOPE_CODES}
    assert beyond_envelope, seen                  # the fuzzer reached the transactions, not only the envelope
    from centre.store.engine import open_store
    store = open_store(served.where)
    try:
        assert drifts(store.db()) == []
    finally:
        store.close()
