"""`cashier web`: the app served to a browser with textual-serve, one app process per tab.

What this adds to textual-serve's stock `Server`:
- a page template that uses the font textual-serve bundles (no internet font), focuses the
  terminal so keys work at once, and in kiosk mode reloads itself when its app ends
  (a kiosk never shows "Session ended");
- the app command built from `sys.executable` and run with `exec`, so a signal reaches
  Python and not a shell wrapper;
- a guarded stop: if the browser goes away while its app is still starting, the app may spin
  and ignore "quit"; the stop waits `STOP_GRACE_S` and then kills it;
- a websocket only from the server's own pages (`origins.py`): a page on another site or port
  gets HTTP 403 and starts nothing, so it cannot drive the app (e.g. reverse a settlement);
- at most `max_sessions` app processes at once; beyond that a "busy" page / HTTP 503;
- the page's websocket URL from `--public-url` or the address the server listens on, never
  from the request's Host header (which a page on another site may choose);
- the terminal size a page asks for (`?width=&height=` and every `resize` message) clamped to
  `sizes.py`'s range, and a malformed message dropped with one warning, not a traceback;
- a log without tracebacks' local variables (they held the raw request), and a malformed HTTP
  request (aiohttp answers 400) said in one warning line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import WSMsgType, web
from aiohttp.http_exceptions import HttpProcessingError
from textual_serve.app_service import AppService
from textual_serve.server import Server

from terminal.web.origins import normalize, own_origins, websocket_url
from terminal.web.sizes import clamp, size_from_message, size_from_query

log = logging.getLogger("cashier.web")

TEMPLATES = Path(__file__).resolve().parent / "templates"
STOP_GRACE_S = 3.0
KIOSK_FONT_SIZE = 21   # px, when the page cannot measure the window: about 100×28 cells on 1280×800
KIOSK_MIN_COLS = 90    # the kiosk layout (kiosk.tcss) fits in this many cells; the page picks the
KIOSK_MIN_ROWS = 28    # largest font that still gives them (1024×768 → 18 px, 1920×1080 → 28 px)


class GuardedAppService(AppService):
    """An AppService whose stop cannot hang: quit, wait a little, then kill the app process."""

    grace_s: float = STOP_GRACE_S

    async def start(self, width: int, height: int) -> None:
        await super().start(*clamp(width, height))

    async def set_terminal_size(self, width: int, height: int) -> None:
        await super().set_terminal_size(*clamp(width, height))

    async def stop(self) -> None:
        task = self._task
        if task is None:
            return
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        await self.send_meta({"type": "quit"})
        try:
            await asyncio.wait_for(asyncio.shield(task), self.grace_s)
        except TimeoutError:
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
    """textual-serve's Server with the cashier's template, the guarded app stop, the Origin check and the cap."""

    def __init__(self, command: AppCommand, host: str, port: int, public_url: str | None = None,
                 title: str | None = None, max_sessions: int = 4) -> None:
        super().__init__(command.shell(), host=host, port=port, public_url=public_url or None,
                         title=title or ("自助缴费 Self-service" if command.mode == "kiosk" else "cashier"),
                         templates_path=TEMPLATES)
        self.app_command = command
        self.fixed_public_url = public_url or None
        self.max_sessions = max_sessions
        self.sessions = 0          # app processes running now (each websocket runs one)

    async def on_startup(self, app: web.Application) -> None:
        # One clear line (the stock banner prints the whole command); tests wait for it.
        print(f"cashier web: serving {self.app_command.mode} mode on {self.public_url}", flush=True)
        if self.host in ("0.0.0.0", "::") and not self.fixed_public_url:
            print(f"(every interface: browsers open http://<this machine's address>:{self.port}/)", flush=True)
        print("Press Ctrl+C to stop.", flush=True)

    def initialize_logging(self) -> None:
        """One line a record, no rich tracebacks with local variables (textual-serve's showed the raw request
        bytes); a request aiohttp could not parse (it answers 400) said in one warning line."""
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level="DEBUG" if self.debug else "INFO", handlers=[handler], force=True)
        server_log = logging.getLogger("aiohttp.server")
        if not any(isinstance(f, BadRequestInOneLine) for f in server_log.filters):
            server_log.addFilter(BadRequestInOneLine())

    def local_address(self, request: web.Request) -> tuple[str, int]:
        """The address and port this connection arrived at: the machine's, not the request's Host header."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if isinstance(sockname, (tuple, list)) and len(sockname) >= 2:
            return str(sockname[0]), int(sockname[1])
        return self.host, self.port

    def busy(self) -> bool:
        return self.sessions >= self.max_sessions

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> Any:
        if self.busy():
            return busy_page(self.max_sessions)
        context = await Server.handle_index.__wrapped__(self, request)  # type: ignore[attr-defined]
        context["app_websocket_url"] = websocket_url(self.fixed_public_url, *self.local_address(request))
        if not self.fixed_public_url:
            # the page's own origin, whatever name the browser used for it (no Host header in it)
            context["config"]["static"]["url"] = "/static/"
        context["kiosk"] = kiosk = self.app_command.mode == "kiosk"
        if kiosk and "fontsize" not in request.query:
            context["font_size"] = KIOSK_FONT_SIZE  # large type for patients; ?fontsize=N overrides
            context.update(auto_font=True, min_cols=KIOSK_MIN_COLS, min_rows=KIOSK_MIN_ROWS)
        return context

    def refusal(self, request: web.Request) -> web.Response | None:
        """403 for a page from another origin, 503 when `max_sessions` apps run; None: go ahead."""
        origin = normalize(request.headers.get("Origin", ""))
        allowed = own_origins(self.fixed_public_url, *self.local_address(request))
        if origin is None or origin not in allowed:
            log.warning("websocket refused: Origin %r is not this server's (%s)",
                        request.headers.get("Origin", "")[:200], ", ".join(sorted(allowed)))
            return web.Response(status=403, text=FORBIDDEN_TEXT, content_type="text/plain", charset="utf-8")
        if self.busy():
            log.warning("websocket refused: %d sessions already (max_sessions)", self.sessions)
            return web.Response(status=503, text=BUSY_TEXT, content_type="text/plain", charset="utf-8",
                                headers={"Retry-After": str(BUSY_RETRY_S)})
        return None

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]  # a refusal is a plain response
        """As textual-serve's, with the Origin check, the session cap and GuardedAppService."""
        refused = self.refusal(request)
        if refused is not None:
            return refused
        self.sessions += 1
        try:
            return await self._run_session(request)
        finally:
            self.sessions -= 1

    async def _run_session(self, request: web.Request) -> web.StreamResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        width, height = size_from_query(request.query)
        try:
            await websocket.prepare(request)   # a request that is no websocket handshake: aiohttp answers 400
        except ConnectionError as error:
            # The browser left during the handshake: no app was started. A websocket whose answer could not
            # be written is half prepared and aiohttp cannot end it ("Call .prepare() first", a traceback);
            # a plain response it can: writing it fails on the closed connection, which aiohttp ignores.
            log.info("browser gone before its websocket opened: %s: %s", type(error).__name__, error)
            return websocket if websocket.prepared else web.Response(status=499, reason="Client Closed Request")
        app_service: AppService | None = None
        try:
            app_service = GuardedAppService(
                self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close,  # type: ignore[arg-type]  # awaited, its bool unused
                download_manager=self.download_manager, debug=self.debug)
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

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        """As textual-serve's, but a size is clamped and a malformed message is dropped (one warning a session)."""
        warned = False
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            kind, data = envelope(message.data)
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and (size := size_from_message(data)) is not None:
                await app_service.set_terminal_size(*size)
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()
            elif not warned:
                warned = True
                log.warning("websocket: dropped a malformed message (and any more from this page): %s",
                            one_line(message.data))


def envelope(text: str) -> tuple[str | None, Any]:
    """A page's message `["kind", data]` as (kind, data); (None, None) for anything else."""
    try:
        value = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        return None, None
    return value[0], value[1] if len(value) > 1 else None


def one_line(text: object, limit: int = 160) -> str:
    """Text fit for one log line: control characters escaped (no terminal escapes reach the log), cut short."""
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in " ".join(str(text)[:4 * limit].split()))
    return shown if len(shown) <= limit else shown[:limit] + "…"


class BadRequestInOneLine(logging.Filter):
    """aiohttp logs a request it could not parse (it answers 400) as an error with a traceback: the client's
    mistake, not the server's. Say it as one warning line, the request's bytes escaped and cut short."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = "bad HTTP request from %s: %s %s", (remote, error.code, one_line(error.message))
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


BUSY_RETRY_S = 10
FORBIDDEN_TEXT = ("拒绝：此连接不是来自本机的页面。\n"
                  "Forbidden: this connection does not come from this server's own page.\n")
BUSY_TEXT = ("忙：同时使用的窗口已达上限，请稍后再试。\n"
             "Busy: the most sessions this server runs at once are in use; try again shortly.\n")


def busy_page(max_sessions: int) -> web.Response:
    """HTTP 503 with a page that says so in Chinese and English and tries again by itself."""
    body = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{BUSY_RETRY_S}">
<title>忙 Busy</title>
<style>body {{ margin: 0; height: 100vh; display: flex; align-items: center; justify-content: center;
background: #0c181f; color: rgba(255,255,255,.95); font: 28px sans-serif; text-align: center; }}
p {{ margin: 12px; }} .en {{ font-size: 22px; opacity: .75; }}</style></head>
<body><div id="busy">
<p>系统忙，请稍候</p><p>已有 {max_sessions} 个窗口在使用，本页 {BUSY_RETRY_S} 秒后自动重试。</p>
<p class="en">Busy: {max_sessions} sessions are in use. This page tries again in {BUSY_RETRY_S} seconds.</p>
</div></body></html>
"""
    return web.Response(status=503, text=body, content_type="text/html", charset="utf-8",
                        headers={"Retry-After": str(BUSY_RETRY_S)})


def check_public_url(public_url: str | None) -> None:
    """A public URL is http(s)://host[:port][/path]: the page's websocket and the Origin check come from it."""
    if public_url and normalize("{0.scheme}://{0.netloc}".format(urlsplit(public_url))) is None:
        from terminal.error_codes import E
        raise E.BAD_PUBLIC_URL.error(f"--public-url / [web].public_url must be http(s)://host[:port][/path], "
                         f"not {public_url!r}", f"公开地址必须是 http(s)://主机[:端口][/路径]，而不是 {public_url!r}")


def serve(command: AppCommand, host: str, port: int, public_url: str | None = None, max_sessions: int = 4) -> None:
    """Run the server until Ctrl+C / SIGTERM."""
    check_public_url(public_url)
    CashierWebServer(command, host, port, public_url, max_sessions=max_sessions).serve()
