"""`cashier centre serve --request-timeout S`: a client that sends part of a request and waits is cut off after S
seconds (part of the headers, or a body shorter than its Content-Length); a whole request that the centre takes
longer than S to answer is still answered."""

from __future__ import annotations

import socket
import time

import pytest
from centre_flow import demo_with_catalogue, his
from centre_http_support import HttpCaller, ServedCentre, prepare_db

from centre.interface.envelope import ENDPOINT

DEADLINE = 1.0
WAIT = 6.0   # what the test gives the server to close; without the deadline it would never close


def _closed_after(port: int, first_bytes: bytes) -> float | None:
    """Send `first_bytes` and nothing more: seconds until the server closed the connection, None if it had not
    within WAIT."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sent = time.monotonic()
        sock.sendall(first_bytes)
        try:
            while sock.recv(4096):
                pass            # an answer (a 4xx) may come before the close: what matters is the close
        except TimeoutError:
            return None
        return time.monotonic() - sent


@pytest.fixture
def served(tmp_path, config_file):
    db = tmp_path / "centre.db"
    prepare_db(db, demo_with_catalogue())
    with ServedCentre(config_file, db, "--request-timeout", str(DEADLINE), "--fault", "delay-ms:1500") as server:
        yield server


def test_part_of_a_request_is_cut_off_and_a_slow_answer_is_not(served):
    partial_headers = f"POST {ENDPOINT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl".encode()
    partial_body = f"POST {ENDPOINT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{{".encode()
    for first_bytes in (partial_headers, partial_body):
        after = _closed_after(served.port, first_bytes)
        assert after is not None and DEADLINE * 0.9 <= after < WAIT, (first_bytes, after)
    # a whole sign-in (9001) the centre answers 1.5 s after it came, longer than the deadline: answered
    caller = HttpCaller(served.url)
    try:
        started = time.monotonic()
        h = his(caller)
        assert h.sign_no and time.monotonic() - started >= 1.5
    finally:
        caller.close()
    assert "Traceback" not in served.stderr()


def test_the_deadline_is_a_number_of_seconds(tmp_path, config_file):
    import subprocess

    from centre_http_support import CASHIER
    out = subprocess.run([str(CASHIER), "--lang", "en", "--config", str(config_file), "centre", "serve", "--db",
                          str(tmp_path / "c.db"), "--request-timeout", "soon"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "--request-timeout: a number of seconds, not 'soon'" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "c.db").exists()
