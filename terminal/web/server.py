"""`cashier web`: the app served to a browser with textual-serve, one app process per tab.

What this adds to textual-serve's stock `Server`:
- a page template that uses the font textual-serve bundles (no internet font), focuses the
  terminal so keys work at once, and in kiosk mode reloads itself when its app ends
  (a kiosk never shows "Session ended");
- the app command built from `sys.executable` and run with `exec`, so a signal reaches
  Python and not a shell wrapper;
- a guarded stop (DESIGN §10): if the browser goes away while its app is still starting,
  the app may spin and ignore "quit"; the stop waits `STOP_GRACE_S` and then kills it.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger("cashier.web")

TEMPLATES = Path(__file__).resolve().parent / "templates"
STOP_GRACE_S = 3.0
KIOSK_FONT_SIZE = 21   # px, when the page cannot measure the window: about 100×28 cells on 1280×800
KIOSK_MIN_COLS = 90    # the kiosk layout (kiosk.tcss) fits in this many cells; the page picks the
KIOSK_MIN_ROWS = 28    # largest font that still gives them (1024×768 → 18 px, 1920×1080 → 28 px)


class GuardedAppService(AppService):
    """An AppService whose stop cannot hang: quit, wait a little, then kill the app process."""

    grace_s: float = STOP_GRACE_S

    async def stop(self) -> None:
        task = self._task
        if task is None:
            return
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        await self.send_meta({"type": "quit"})
        try:
            await asyncio.wait_for(asyncio.shield(task), self.grace_s)
        except asyncio.TimeoutError:
            process = self._process
            if process is not None and process.returncode is None:
                log.warning("app process %s did not quit in %.0f s; killing it", process.pid, self.grace_s)
                try:
                    process.kill()
                except ProcessLookupError:
                    pass
            await task
        finally:
            self._task = None
        process = self._process
        if process is not None and process.returncode is None:
            await process.wait()  # reap it: no zombie left behind


@dataclass(frozen=True)
class AppCommand:
    """What each browser tab runs: `exec <this python> -m terminal.web.app_main ...`."""

    mode: str
    reader: str
    config: str | None = None
    db: str | None = None
    lang: str | None = None

    def shell(self) -> str:
        argv = [sys.executable, "-m", "terminal.web.app_main", "--mode", self.mode, "--reader", self.reader]
        if self.config:
            argv += ["--config", self.config]
        if self.db:
            argv += ["--db", self.db]
        if self.lang:
            argv += ["--lang", self.lang]
        return "exec " + shlex.join(argv)


class CashierWebServer(Server):
    """textual-serve's Server with the cashier's template and the guarded app stop."""

    def __init__(self, command: AppCommand, host: str, port: int, public_url: str | None = None,
                 title: str | None = None) -> None:
        super().__init__(command.shell(), host=host, port=port, public_url=public_url or None,
                         title=title or ("自助缴费 Self-service" if command.mode == "kiosk" else "cashier"),
                         templates_path=TEMPLATES)
        self.app_command = command
        self.fixed_public_url = bool(public_url)

    async def on_startup(self, app: web.Application) -> None:
        # One clear line (the stock banner prints the whole command); tests wait for it.
        print(f"cashier web: serving {self.app_command.mode} mode on {self.public_url}", flush=True)
        if self.host in ("0.0.0.0", "::") and not self.fixed_public_url:
            print(f"(every interface: browsers open http://<this machine's address>:{self.port}/)", flush=True)
        print("Press Ctrl+C to stop.", flush=True)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        context = await Server.handle_index.__wrapped__(self, request)  # type: ignore[attr-defined]
        if not self.fixed_public_url:
            # No --public-url: the page talks back to the address the browser used (a LAN address
            # when listening on 0.0.0.0), not to the listening address.
            base = f"{request.scheme}://{request.host}"
            context["config"]["static"]["url"] = f"{base}/static/"
            context["app_websocket_url"] = f"{'wss' if request.scheme == 'https' else 'ws'}://{request.host}/ws"
        context["kiosk"] = kiosk = self.app_command.mode == "kiosk"
        if kiosk and "fontsize" not in request.query:
            context["font_size"] = KIOSK_FONT_SIZE  # large type for patients; ?fontsize=N overrides
            context.update(auto_font=True, min_cols=KIOSK_MIN_COLS, min_rows=KIOSK_MIN_ROWS)
        return context

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """As textual-serve's, with GuardedAppService (its stop cannot hang or leak the app)."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None
        try:
            await websocket.prepare(request)
            app_service = GuardedAppService(
                self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager, debug=self.debug)
            await app_service.start(width, height)
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # a broken tab must not take the server down
            if websocket.closed or isinstance(error, ConnectionError):
                # the browser went away mid-message (a tab closed while its app starts): normal, no traceback
                log.info("browser connection closed: %s: %s", type(error).__name__, error)
            else:
                log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket


def serve(command: AppCommand, host: str, port: int, public_url: str | None = None) -> None:
    """Run the server until Ctrl+C / SIGTERM."""
    CashierWebServer(command, host, port, public_url).serve()
