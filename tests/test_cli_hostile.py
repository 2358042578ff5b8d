"""Command-line arguments a user can get wrong: a usage error (exit 2) with the argument named, never a
traceback or an `internal` error, and never a silent default."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from people_helpers import demo, run_cli  # noqa: F401  (fixture)
from terminal.cli.main import main

BILL = {"med_type": "11", "items": [{"code": "X001", "name": "阿莫西林胶囊", "class": "A", "qty": 1, "price": 1250}]}


def run_exact(config_file, *argv: str, capsys) -> tuple[int, dict]:
    """`cashier --config F argv...` in this process; its JSON with the yuan amounts as exact Decimals."""
    code = main(["--config", str(config_file), *argv])
    return code, json.loads(capsys.readouterr().out, parse_float=Decimal)


def settled_today(config_file, capsys) -> tuple[int, int]:
    """How many settlements today (net of reversals): (the window's record, the centre's), from `cashier reconcile`."""
    code, rec = run_exact(config_file, "reconcile", "--json", capsys=capsys)
    assert code == 0 and rec["ok"], rec
    return (sum(r["count"] for r in rec["insutypes"]), sum(r["centre_count"] or 0 for r in rec["insutypes"]))


@pytest.mark.parametrize("argv, message", [
    (["--port", "99999"], "argument --port: must be a port number from 1 to 65535, not '99999'"),
    (["--port", "65536"], "argument --port: must be a port number from 1 to 65535"),
    (["--port", "-1"], "argument --port: must be a port number from 1 to 65535, not '-1'"),
    (["--port", "0"], "argument --port: must be a port number from 1 to 65535, not '0'"),
    (["--port", "abc"], "argument --port: must be a port number from 1 to 65535, not 'abc'"),
    (["--port", "9" * 5000], "argument --port: must be a port number from 1 to 65535"),
    (["--public-url", "javascript:alert(1)"], "argument --public-url: must be an http:// or https:// address"),
    (["--host", "\x1b[2J"], "argument --host: must be a host name or an IP address, not '\\x1b[2J'"),
])
def test_web_arguments_are_checked(config_file, capsys, argv, message):
    with pytest.raises(SystemExit) as caught:
        main(["--config", str(config_file), "web", "--reader", "emulator", *argv])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and message in err and "\x1b" not in err


def test_a_port_in_range_reaches_the_server_checks(config_file, capsys):
    """--port 65535 parses; a host that cannot be bound is a clear refusal (exit 1), not OverflowError."""
    code = main(["--config", str(config_file), "--lang", "en", "web", "--reader", "emulator", "--host", "999.1.1.1",
                 "--port", "65535"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("cashier: cannot listen on 999.1.1.1:65535:")


@pytest.mark.parametrize("request_id", ["", " ", "r" * 65, "r x", "请求号", "r\x1b[2J", "r\udc80", "r\u202ex"])
def test_a_request_id_must_be_visible_ascii_of_at_most_64(demo, config_file, tmp_path, capsys, request_id):
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(BILL, ensure_ascii=False), encoding="utf-8")
    code, out = run_cli(config_file, "--lang", "en", "settle", "--reader", "emulator:zhang_wei", "--pin", "123456",
                        "--bill", str(bill), "--request-id", request_id, "--json", capsys=capsys)
    assert code == 2 and out["error"]["code"] == "bad_request_id"
    assert "--request-id: a request id is 1 to 64 visible ASCII characters" in out["error"]["message"]
    assert settled_today(config_file, capsys) == (0, 0)


def test_a_request_id_of_64_visible_characters_settles(demo, config_file, tmp_path, capsys):
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(BILL, ensure_ascii=False), encoding="utf-8")
    request_id = "k-" + "9" * 62
    code, out = run_exact(config_file, "settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill",
                          str(bill), "--request-id", request_id, "--json", capsys=capsys)
    # the national field in yuan: 1 × 12.50
    assert code == 0 and out["request_id"] == request_id and out["setlinfo"]["medfee_sumamt"] == Decimal("12.50")
    assert settled_today(config_file, capsys) == (1, 1)


@pytest.mark.parametrize("date", ["2026-02-30", "\x1b[2J", "tomorrow"])
def test_family_date_must_be_a_real_date(demo, config_file, capsys, date):
    code, out = run_cli(config_file, "family", "--psn-no", "P10000001", "--date", date, "--json", capsys=capsys)
    assert code == 2 and out["error"]["code"] == "bad_date"


def test_a_database_path_under_a_file_is_a_store_error(config_file, capsys):
    code, out = run_cli(config_file, "--lang", "en", "--db", str(config_file / "x.db"), "db", "init", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "db_error"
    assert out["error"]["message"].startswith("cannot create the database folder")


def test_an_internal_error_says_what_to_do():
    from terminal.errors import describe
    code, en = describe(RuntimeError("boom"), "en")
    assert code == "internal" and en.startswith("unexpected error (RuntimeError: boom).")
    assert "Check whether the action took effect before trying again" in en and "report this message" in en
    assert "请先核实本次操作是否已生效再重试" in describe(RuntimeError("boom"), "zh")[1]
