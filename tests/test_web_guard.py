"""The stop guard without a browser: an app process that ignores "quit" and SIGTERM is killed by the stop.

textual-serve's own stop sends "quit" and waits for the app forever; an app caught starting when its browser
went away was seen spinning at 100% CPU, ignoring SIGTERM. `GuardedAppService.stop` waits, then kills.

And the server's doors, with a plain client and small real app processes: a websocket only from the server's
own origin (403 otherwise, nothing started), at most `max_sessions` at once ("busy" beyond), and a page whose
websocket address does not come from the Host header.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from textual_serve.download_manager import DownloadManager

from terminal.web.server import STOP_GRACE_S, AppCommand, CashierWebServer, GuardedAppService

ROOT = Path(__file__).resolve().parent.parent

STUBBORN = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush()\n"
            "while True: time.sleep(0.05)")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def _noop(*_args) -> None:
    return None


async def test_stop_kills_an_app_that_ignores_quit_and_sigterm():
    service = GuardedAppService(f"exec {shlex.quote(sys.executable)} -c {shlex.quote(STUBBORN)}",
                                write_bytes=_noop, write_str=_noop, close=_noop,
                                download_manager=DownloadManager())
    service.grace_s = 0.5
    await service.start(80, 24)
    await asyncio.sleep(0.3)
    pid = service._process.pid
    assert alive(pid)
    started = time.monotonic()
    await asyncio.wait_for(service.stop(), 10)
    assert time.monotonic() - started < 3
    assert not alive(pid)             # exec: the kill reached Python itself, and it was reaped
    await service.stop()              # a second stop (textual-serve calls it twice) is harmless


async def test_stop_lets_a_well_behaved_app_quit_by_itself():
    service = GuardedAppService(f"exec {shlex.quote(sys.executable)} -c \"print('__GANGLION__')\"",
                                write_bytes=_noop, write_str=_noop, close=_noop,
                                download_manager=DownloadManager())
    await service.start(80, 24)
    await asyncio.wait_for(service.stop(), STOP_GRACE_S + 2)
    assert service._process.returncode == 0


def test_app_command_execs_this_python_with_quoted_arguments():
    cmd = AppCommand(mode="kiosk", reader="pcsc:ACS ACR39U 00 00", config="/x y/config.toml", lang="en").shell()
    assert cmd.startswith(f"exec {shlex.quote(sys.executable)} -m terminal.web.app_main ")
    assert shlex.split(cmd)[1:] == [sys.executable, "-m", "terminal.web.app_main", "--mode", "kiosk", "--reader",
                                    "pcsc:ACS ACR39U 00 00", "--config", "/x y/config.toml", "--lang", "en"]
    assert STOP_GRACE_S == 3.0


def run_web(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`cashier --config <repo config> --lang en web ARGS` with the database in tmp_path."""
    env = {**os.environ, "CASHIER_DB": str(tmp_path / "cashier.db")}
    return subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(ROOT / "config.toml"), "--lang",
                           "en", "web", *args], capture_output=True, text=True, timeout=30, cwd=tmp_path, env=env)


def test_cashier_web_refuses_an_unknown_reader_with_a_clear_message(tmp_path):
    out = run_web(tmp_path, "--reader", "usb:thing", "--port", "1")
    assert out.returncode == 2
    assert "unknown reader spec 'usb:thing'" in out.stderr and "Traceback" not in out.stderr


def test_cashier_web_says_so_when_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run_web(tmp_path, "--reader", "emulator", "--port", str(port))
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "Traceback" not in out.stderr


async def test_a_browser_gone_mid_message_is_logged_in_one_line_not_a_traceback(caplog):
    """The tab closed while the server relayed its app (seen once in the Chromium suite): an info line, no traceback."""
    import logging

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from terminal.web.server import CashierWebServer

    class GoneServer(CashierWebServer):
        async def _process_messages(self, websocket, app_service):
            await websocket.close()
            raise ConnectionResetError("Cannot write to closing transport")

    class QuietService(GuardedAppService):
        async def start(self, width, height):   # no app process: the failure under test is the relay's
            return None

    server = GoneServer(AppCommand(mode="kiosk", reader="emulator"), "127.0.0.1", 0)
    app = web.Application()
    app.router.add_get("/ws", server.handle_websocket)
    import terminal.web.server as module
    original = module.GuardedAppService
    module.GuardedAppService = QuietService
    try:
        async with TestClient(TestServer(app)) as client:
            with caplog.at_level(logging.INFO, logger="cashier.web"):
                ws = await client.ws_connect("/ws", origin=f"http://127.0.0.1:{client.port}")
                await ws.receive()
                await ws.close()
                await asyncio.sleep(0.1)
    finally:
        module.GuardedAppService = original
    records = [r for r in caplog.records if r.name == "cashier.web"]
    assert records and all(r.exc_info is None for r in records), [(r.levelname, r.getMessage()) for r in records]
    assert "ConnectionResetError" in records[0].getMessage()


async def test_a_browser_gone_at_any_moment_of_the_handshake_or_app_start_leaves_no_traceback_nor_app(caplog):
    """A tab closed as its websocket opens (seen once in the Chromium suite under load): info lines, no traceback.

    The server runs as `cashier web` runs it (aiohttp's runner, whose handler goes on when the connection
    drops; the test client's server cancels it and hides the bug), each tab a real small app; a raw client
    sends the handshake and vanishes: at once (FIN or RST), after the server's answer, after the first screenful.
    At once, the server reads the request and the close before it answers: the answer cannot be written and
    aiohttp could not end the half-prepared websocket ("Call .prepare() first", logged with its traceback).
    """
    import base64
    import logging

    from aiohttp import web

    server = CashierWebServer(HelloCommand(mode="kiosk", reader="emulator"), "127.0.0.1", 0)
    runner = web.AppRunner(await server._make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    others = set(children_of_me())

    async def vanish(moment: str) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        handshake = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                     f"Origin: http://127.0.0.1:{port}\r\n\r\n").encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(handshake)
        if moment == "at once, reset":
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        elif moment == "after the answer":
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).startswith(b"HTTP/1.1 101")
        elif moment == "after the first screenful":
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert b"hello" in await asyncio.wait_for(reader.read(100), 10)
        writer.close()

    moments = ["at once", "at once, reset", "after the answer", "after the first screenful"]
    try:
        with caplog.at_level(logging.DEBUG):
            for moment in moments:
                await vanish(moment)
            # every request ended in aiohttp: an access line, or the "Unhandled exception" of the bug
            for _ in range(200):
                ended = [r for r in caplog.records if r.name == "aiohttp.access" or r.exc_info]
                if len(ended) >= len(moments) and server.sessions == 0 and set(children_of_me()) == others:
                    break
                await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    errors = [(r.name, r.getMessage(), r.exc_info[1]) for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert errors == []
    assert server.sessions == 0 and set(children_of_me()) == others     # no app process left behind
    if sys.version_info < (3, 12):   # aiohttp starts the handler one loop turn after the request: the close is read first
        assert any("browser gone before its websocket opened" in r.getMessage() for r in caplog.records)


async def test_a_plain_request_to_the_websocket_address_gets_400_and_no_traceback(caplog):
    """No websocket handshake (a curl, a scanner): aiohttp's 400 says why; nothing started, nothing logged as an error."""
    import logging

    async with served() as (server, client):
        with caplog.at_level(logging.INFO):
            answer = await client.get("/ws", headers={"Origin": f"http://127.0.0.1:{client.port}"})
            assert answer.status == 400 and "WebSocket" in await answer.text()
        assert server.sessions == 0
    assert [(r.name, r.getMessage()) for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


# -- who may open the websocket, how many at once, and where the page sends it (issue 11, item 7) ----------
# A real app process, just small: the prelude, one screenful ("hello"), then it ends when told to (stdin).
HELLO_APP = ("import sys; out = sys.stdout.buffer; out.write(b'__GANGLION__\\n'); "
             "out.write(b'D' + (5).to_bytes(4, 'big') + b'hello'); out.flush(); sys.stdin.buffer.read(1)")


@dataclass(frozen=True)
class HelloCommand(AppCommand):
    def shell(self) -> str:
        return f"exec {shlex.quote(sys.executable)} -c {shlex.quote(HELLO_APP)}"


@contextlib.asynccontextmanager
async def served(max_sessions: int = 4, public_url: str | None = None):
    """The real server (routes, template, handlers) on a free loopback port, each tab's app a HelloCommand."""
    server = CashierWebServer(HelloCommand(mode="kiosk", reader="emulator"), "127.0.0.1", 0, public_url,
                              max_sessions=max_sessions)
    async with TestClient(TestServer(await server._make_app(), host="127.0.0.1")) as client:
        try:
            yield server, client
        finally:
            import gc
            gc.collect()   # textual-serve leaves each ended app's pipe transport to the GC: collect it while the loop runs


async def hello(ws) -> bytes:
    message = await ws.receive(timeout=10)
    assert message.type == aiohttp.WSMsgType.BINARY, message
    return message.data


async def wait_sessions(server, count: int) -> None:
    for _ in range(100):
        if server.sessions == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{server.sessions} sessions, expected {count}")


async def test_a_websocket_from_another_origin_gets_403_and_starts_no_app():
    others = set(children_of_me())   # e.g. the suite's own pcscd
    async with served() as (server, client):
        own = f"http://127.0.0.1:{client.port}"
        for origin in ("http://evil.example", f"http://127.0.0.1:{client.port + 1}", "null",
                       f"http://127.0.0.1:{client.port}.evil.example", f"https://127.0.0.1:{client.port}", None):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect("/ws", origin=origin)
            assert refused.value.status == 403, origin
        answer = await client.get("/ws", headers={"Origin": "http://evil.example"})
        assert answer.status == 403
        text = await answer.text()
        assert "Forbidden" in text and "拒绝" in text
        assert server.sessions == 0 and set(children_of_me()) == others
        for origin in (own, f"http://localhost:{client.port}", f"HTTP://LOCALHOST:{client.port}"):
            ws = await client.ws_connect("/ws", origin=origin)
            assert await hello(ws) == b"hello"          # the server's own page drives its app
            await ws.close()
            await wait_sessions(server, 0)


async def test_with_a_public_url_only_its_origin_may_open_the_websocket():
    async with served(public_url="https://kiosk.example/") as (server, client):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", origin=f"http://127.0.0.1:{client.port}")
        assert refused.value.status == 403
        ws = await client.ws_connect("/ws", origin="https://kiosk.example")
        assert await hello(ws) == b"hello"
        await ws.close()


async def test_beyond_max_sessions_the_page_and_the_websocket_say_busy():
    others = set(children_of_me())   # e.g. the suite's own pcscd
    async with served(max_sessions=2) as (server, client):
        own = f"http://127.0.0.1:{client.port}"
        first = await client.ws_connect("/ws", origin=own)
        second = await client.ws_connect("/ws", origin=own)
        assert await hello(first) == await hello(second) == b"hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", origin=own)
        assert refused.value.status == 503
        page = await client.get("/")
        body = await page.text()
        assert page.status == 503 and page.headers["Retry-After"]
        assert "系统忙" in body and "Busy" in body and "textual.js" not in body   # no app started for it
        assert len(set(children_of_me()) - others) == 2                       # two app processes, no third
        await first.close()
        await wait_sessions(server, 1)
        assert (await client.get("/")).status == 200
        third = await client.ws_connect("/ws", origin=own)
        assert await hello(third) == b"hello"
        await second.close()
        await third.close()
        await wait_sessions(server, 0)


async def test_a_forged_host_header_does_not_change_the_page():
    """The page's websocket and static URLs come from the server's address, not from the Host header."""
    async with served() as (server, client):
        page = await client.get("/", headers={"Host": "evil.example:666"})
        body = await page.text()
        assert page.status == 200
        [ws_url] = re.findall(r'data-session-websocket-url="([^"]*)"', body)
        assert ws_url == f"ws://127.0.0.1:{client.port}/ws"
        assert "evil" not in body and 'src="/static/js/textual.js"' in body
    async with served(public_url="https://kiosk.example/") as (server, client):
        body = await (await client.get("/", headers={"Host": "evil.example"})).text()
        assert 'data-session-websocket-url="wss://kiosk.example/ws"' in body and "evil" not in body


def children_of_me() -> list[int]:
    """Live child processes of this test process (the apps the server started)."""
    me, out = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me and fields[0] != "Z":
                out.append(int(entry))
    return out


@pytest.mark.parametrize("value, error", [("4", "whole number"), (4.5, "whole number"), (True, "whole number"),
                                          (0, "from 1 to 64"), (500, "from 1 to 64")])
def test_max_sessions_in_the_config_is_checked(config_file, monkeypatch, value, error):
    import json as _json

    from terminal.config import ConfigError, load_config
    from terminal.web.settings import WebSettings
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    assert WebSettings.from_config(load_config(config_file)).max_sessions == 4
    text = config_file.read_text(encoding="utf-8").replace("max_sessions = 4", f"max_sessions = {_json.dumps(value)}")
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=error):
        WebSettings.from_config(load_config(config_file))


def test_a_public_url_that_is_not_one_is_a_usage_error(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = run_web(tmp_path, "--reader", "emulator", "--port", str(port), "--public-url", "kiosk.example")
    assert out.returncode == 2 and "--public-url" in out.stderr and "Traceback" not in out.stderr
