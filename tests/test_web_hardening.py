"""`cashier web` against a hostile page: sizes it may ask for, malformed messages and requests.

A real server (the `cashier web` command in a subprocess, as in test_web_kiosk.py) and a websocket from aiohttp's
client with the server's own Origin (what a page of its own could send). What the app was given is read from what
it draws (Textual moves the cursor to each row it paints: the largest row is the screen's height, and the first
row is painted across the screen's whole width) and from the app process's environment (COLUMNS, ROWS).
"""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import aiohttp
import pytest
from rich.cells import cell_len
from test_web_kiosk import WebServer, start_server, wait_until

from terminal.web.sizes import MAX_COLS, MAX_ROWS, MIN_COLS, MIN_ROWS

MOVE_RE = re.compile(r"\x1b\[(\d+);(\d+)H")
SGR_RE = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    yield from start_server(tmp_path_factory.mktemp("hardening"), "kiosk")


def origin(server: WebServer) -> str:
    return server.url.rstrip("/")


def drawn_size(output: str) -> tuple[int, int]:
    """(columns, rows) of the screen the app painted last: its widest first row and its lowest row."""
    rows = [int(row) for row, _ in MOVE_RE.findall(output)]
    assert rows, f"nothing painted: {output[:200]!r}"
    first_rows = re.findall(r"\x1b\[1;1H(.*?)(?:\n|\x1b\[\d+;\d+H)", output)
    columns = max(cell_len(SGR_RE.sub("", row)) for row in first_rows)
    return columns, max(rows)


class Session:
    """One websocket to the kiosk, what its app painted kept as text."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.painted, self.texts = ws, bytearray(), []

    async def read_for(self, seconds: float) -> str:
        """Everything the app sends in `seconds` (it repaints after a resize), as text; then forget it."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                message = await self.ws.receive(timeout=left)
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                self.painted.extend(message.data)
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.texts.append(message.data)
            else:
                raise AssertionError(f"the websocket ended: {message.type} {message.data!r}")
        text, self.painted = self.painted.decode("utf-8", "replace"), bytearray()
        return text


async def with_session(server: WebServer, query: str, work) -> object:
    async with aiohttp.ClientSession() as http, \
            http.ws_connect(f"{server.url}ws{query}", headers={"Origin": origin(server)}) as ws:
        return await work(Session(ws))


def test_a_huge_resize_gives_the_app_the_largest_size_allowed(server: WebServer):
    """The tester's attack: a 20000×20000 resize made the app grow by gigabytes. The app gets 500×200."""
    async def work(session: Session):
        first = drawn_size(await session.read_for(6))
        await session.ws.send_str('["resize",{"width":20000,"height":20000}]')
        after = drawn_size(await session.read_for(4))
        await session.ws.send_str('["resize",{"width":1,"height":-5}]')
        tiny = drawn_size(await session.read_for(3))
        return first, after, tiny
    first, after, tiny = asyncio.run(with_session(server, "?width=100&height=30", work))
    assert first == (100, 30)
    assert after == (MAX_COLS, MAX_ROWS) == (500, 200)
    assert tiny == (MIN_COLS, MIN_ROWS) == (20, 10)
    server.wait_no_apps()


def app_environment(server: WebServer) -> dict[str, str]:
    """The environment of the server's one app process (the size textual-serve starts it with)."""
    pid = wait_until(lambda: server.apps(), 10, "the app process")[0]
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def test_a_huge_size_in_the_url_starts_the_app_at_the_largest_size_allowed(server: WebServer):
    async def work(session: Session):
        env = await asyncio.to_thread(app_environment, server)
        return env, drawn_size(await session.read_for(6))
    env, drawn = asyncio.run(with_session(server, "?width=20000&height=20000", work))
    assert (env["COLUMNS"], env["ROWS"]) == ("500", "200")
    assert drawn == (500, 200)
    server.wait_no_apps()


def test_sizes_that_are_no_numbers_are_dropped_and_the_session_goes_on(server: WebServer):
    """Text, null or a list for a size, or no envelope at all: the message is dropped with one warning line; the
    app keeps its size and answers (a ping still gets its pong)."""
    log_before = len(server.log.read_text(errors="replace"))

    async def work(session: Session):
        first = drawn_size(await session.read_for(6))
        for bad in ('["resize",{"width":"9e9","height":"x"}]', '["resize",{"width":null,"height":[1]}]',
                    '["resize",{"width":true,"height":50}]', '["resize",7]', '{"resize":1}', 'not json', '[]'):
            await session.ws.send_str(bad)
        await session.ws.send_str('["ping","still-here"]')
        await session.read_for(2)
        await session.ws.send_str('["resize",{"width":120,"height":40}]')
        return first, drawn_size(await session.read_for(4)), session.texts
    first, after, texts = asyncio.run(with_session(server, "?width=abc&height=", work))
    assert first == (80, 24)                    # no number in the URL: textual-serve's default size
    assert after == (120, 40)                   # a good resize after the bad ones still works
    assert '["pong", "still-here"]' in texts
    log = server.log.read_text(errors="replace")[log_before:]
    assert log.count("dropped a malformed message") == 1, log
    assert "Traceback" not in log and "Error" not in log, log
    server.wait_no_apps()


def raw_request(server: WebServer, request: bytes) -> bytes:
    host, port = server.url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_a_malformed_request_is_a_400_and_one_warning_line_without_a_traceback(server: WebServer):
    """An Origin header holding terminal escapes: aiohttp answers 400; the log says so in one line, the escapes
    escaped, with no traceback and none of the request's bytes as local variables."""
    log_before = len(server.log.read_text(errors="replace"))
    port = server.url.rsplit(":", 1)[1].rstrip("/")
    answer = raw_request(server, (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
                                  + b"Origin: \x1b[31mred\x07\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  + b"Sec-WebSocket-Version: 13\r\n\r\n"))
    assert answer.split(b" ", 2)[1] == b"400", answer[:200]

    def logged() -> str:
        text = server.log.read_text(errors="replace")[log_before:]
        return text if "bad HTTP request" in text else ""
    log = wait_until(logged, 5, "the bad request's log line")
    said = [line for line in log.splitlines() if "bad HTTP request" in line]
    assert len(said) == 1 and said[0].startswith("WARNING ") and "400 Invalid header value" in said[0], log
    assert "Origin: \\x1b[31mred\\x07" in said[0]       # the bytes escaped, cut short
    assert len(log.splitlines()) <= 2, log               # that line and the access log's, no more
    assert "\x1b" not in log and "\x07" not in log
    assert "Traceback" not in log and "Error handling request" not in log and "locals" not in log
    assert server.proc.poll() is None
