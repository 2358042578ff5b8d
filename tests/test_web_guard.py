"""The §10 guard without a browser: an app process that ignores "quit" and SIGTERM is killed by the stop.

textual-serve's own stop sends "quit" and waits for the app forever; an app caught starting when its browser
went away was seen spinning at 100% CPU, ignoring SIGTERM. `GuardedAppService.stop` waits, then kills.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

from textual_serve.download_manager import DownloadManager

from terminal.web.server import STOP_GRACE_S, AppCommand, GuardedAppService

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
                ws = await client.ws_connect("/ws")
                await ws.receive()
                await ws.close()
                await asyncio.sleep(0.1)
    finally:
        module.GuardedAppService = original
    records = [r for r in caplog.records if r.name == "cashier.web"]
    assert records and all(r.exc_info is None for r in records), [(r.levelname, r.getMessage()) for r in records]
    assert "ConnectionResetError" in records[0].getMessage()
