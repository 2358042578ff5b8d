"""`cashier web` end to end in headless Chromium (Debian's, driven by Python Playwright).

One server (the real `cashier web` command in a subprocess, in-process emulator, demo database in tmp)
serves every test here; each test opens its own browser context and closes it. The app's text is read
from xterm's buffer: the page's textual.js is rewritten on the way in to expose the terminal object.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from conftest import ROOT, in_ci

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
TERMINAL_RE = re.compile(r"this\.terminal=new (\w+)\.Terminal\(")

if not Path(CHROMIUM).exists():
    if in_ci():
        raise RuntimeError(f"{CHROMIUM} is missing: CI must install Debian's chromium for the browser tests")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


# -- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def wait_until(predicate, timeout: float, what: str, step: float = 0.1):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class WebServer:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path, home: Path) -> None:
        self.proc, self.url, self.log, self.home = proc, url, log, home

    def apps(self) -> list[int]:
        return children_of(self.proc.pid)

    def wait_no_apps(self, timeout: float = 8.0) -> None:
        wait_until(lambda: not self.apps(), timeout, f"the server's app processes to end: {self.apps()}")


def start_server(home: Path, mode: str, before: Callable[[Path], None] | None = None):
    """`cashier web --reader emulator --mode MODE` on a free port, its config and database in home; `before(config)`
    runs once the config is written, before the server starts."""
    config = home / "config.toml"
    config.write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    if before is not None:
        before(config)
    port = free_port()
    log = home / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB")}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "terminal.cli.main", "--config", str(config), "web",
                                 "--reader", "emulator", "--mode", mode, "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=home, env=env)
    try:
        wait_until(lambda: f"serving {mode} mode on http://127.0.0.1:{port}" in log.read_text(errors="replace")
                   or proc.poll() is not None, 30, "the server to start")
        assert proc.poll() is None, log.read_text(errors="replace")
        yield WebServer(proc, f"http://127.0.0.1:{port}/", log, home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    yield from start_server(tmp_path_factory.mktemp("kiosk"), "kiosk")


@pytest.fixture(scope="module")
def cashier_server(tmp_path_factory: pytest.TempPathFactory):
    """The cashier's app (it has Textual's Header, which the start-up leak needed)."""
    yield from start_server(tmp_path_factory.mktemp("cashier"), "cashier")


# -- the browser ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def expose_xterm(route) -> None:
    """Serve textual.js with its terminal object kept in window.__xterm (the pattern must match once)."""
    response = route.fetch()
    body, count = TERMINAL_RE.subn(r"this.terminal=window.__xterm=new \1.Terminal(", response.text())
    assert count == 1, f"textual.js changed: {count} matches for {TERMINAL_RE.pattern}"
    route.fulfill(response=response, body=body)


def open_kiosk(browser, server: WebServer, requests: list[str] | None = None, query: str = "",
               viewport: tuple[int, int] = (1280, 800), scale: float = 1.0):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=scale)
    page = context.new_page()
    page.route("**/static/js/textual.js", expose_xterm)
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.goto(server.url + query)
    return context, page


def screen(page) -> str:
    return page.evaluate("""() => {
        const t = window.__xterm; if (!t) return "";
        const b = t.buffer.active, lines = [];
        for (let i = 0; i < t.rows; i++) { const l = b.getLine(i); lines.push(l ? l.translateToString(true) : ""); }
        return lines.join("\\n"); }""")


def wait_text(page, text: str, timeout: float = 30.0) -> str:
    def found():
        try:
            s = screen(page)
        except Exception:   # the page is reloading
            return ""
        return s if text in s else ""
    try:
        return wait_until(found, timeout, repr(text))
    except AssertionError:
        raise AssertionError(f"{text!r} not on the kiosk screen:\n{screen(page)}") from None


def save_artifact(page, tmp_path: Path, name: str) -> Path:
    """A screenshot under the test's tmp dir, and in $CASHIER_ARTIFACTS (or ./artifacts when it is 1/true)."""
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    target = os.environ.get("CASHIER_ARTIFACTS", "")
    if target:
        folder = Path("artifacts") if target.lower() in ("1", "true", "yes") else Path(target)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, folder / name)
    return shot


def assert_button_whole(text: str, label: str) -> None:
    """The button's label and its bottom edge are both above the demo bar ("读卡器中：…", a 3-row bar)."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if label in line)
    bar = next(i for i, line in enumerate(lines) if "读卡器中" in line)
    assert any("▁" in line for line in lines[at + 1:bar - 1]), f"{label!r} is cut off:\n{text}"


# -- the tests ------------------------------------------------------------------------------------
@pytest.mark.parametrize("viewport", [(1024, 768), (1920, 1080)])
def test_the_type_follows_the_screen_and_the_layout_gets_its_cells(browser, server, viewport):
    """The page picks the largest font that still gives the kiosk layout 90×28 cells (server.KIOSK_MIN_*)."""
    server.wait_no_apps()
    context, page = open_kiosk(browser, server, viewport=viewport)
    try:
        wait_text(page, "请插入社保卡")
        text = wait_text(page, "读卡器中")                     # the last line drawn
        cols, rows, size = page.evaluate("[__xterm.cols, __xterm.rows, Number(__xterm.options.fontSize)]")
        assert cols >= 90 and rows >= 28, (cols, rows, size)
        assert size >= (18 if viewport[0] < 1280 else 26), size   # large type, not the 1280×800 size everywhere
        assert "9  赵兰" in text                                # the whole tray is on screen above the bar
    finally:
        context.close()
    server.wait_no_apps()


def test_patient_pays_the_demo_bill_from_a_relatives_account_in_the_browser(browser, server, tmp_path):
    requests: list[str] = []
    context, page = open_kiosk(browser, server, requests)
    try:
        started = time.monotonic()
        wait_text(page, "请插入社保卡")                        # the page loads and the terminal renders
        assert time.monotonic() - started < 10
        assert page.evaluate("document.activeElement.classList.contains('xterm-helper-textarea')")  # keys go in
        page.keyboard.press("3")                               # a key reaches the app: the demo tray's card 3
        text = wait_text(page, "您好，张小雨")                 # the card in the emulator shows the patient
        assert "410105********6927" in text and "张伟" in text and "¥108.40" in text
        save_artifact(page, tmp_path, "kiosk-patient.png")
        page.keyboard.press("Enter")
        wait_text(page, "请选择付款账户")
        page.keyboard.press("1")
        wait_text(page, "请输入您的社保卡密码")
        for digit in "123456":
            page.keyboard.press(digit)
        wait_text(page, "● ● ● ● ● ●")
        page.keyboard.press("Enter")
        text = wait_text(page, "缴费成功")
        assert "张伟的账户支付" in text and "¥63.64" in text
        assert_button_whole(text, "完成")                      # not cut off by the demo card bar
        shot = save_artifact(page, tmp_path, "kiosk-receipt.png")
        assert shot.stat().st_size > 10_000
    finally:
        context.close()
    own = server.url.rstrip("/")
    assert requests and all(u.startswith(own) or u.startswith("ws://127.0.0.1") for u in requests), \
        [u for u in requests if not u.startswith(own)]            # no internet font, nothing from outside
    server.wait_no_apps()                                          # closing the tab ends its app


def test_a_second_tab_sees_in_use_and_takes_over_when_the_first_closes(browser, server, tmp_path):
    server.wait_no_apps()
    first, page1 = open_kiosk(browser, server)
    second = None
    try:
        wait_text(page1, "请插入社保卡")
        second, page2 = open_kiosk(browser, server, query="?mode=cashier")   # no URL reaches the cashier app
        wait_text(page2, "本自助机正在使用中")
        save_artifact(page2, tmp_path, "kiosk-in-use.png")
        first.close()
        first = None
        text = wait_text(page2, "请插入社保卡", timeout=20)    # the lock went with the first tab's app
        assert "医保自助缴费" in text and "收费员" not in text
    finally:
        for context in (first, second):
            if context is not None:
                context.close()
    server.wait_no_apps()


@pytest.mark.parametrize("which", ["server", "cashier_server"])
def test_a_browser_that_vanishes_while_its_app_starts_leaves_no_app_process(browser, which, request):
    server = request.getfixturevalue(which)
    server.wait_no_apps()
    for pause in (0.0, 0.15, 0.3):
        context = browser.new_context()
        page = context.new_page()
        with page.expect_websocket(timeout=10_000):
            page.goto(server.url)
        time.sleep(pause)
        context.close()                                        # gone while its app is still starting
    # the guard: quit, wait ~3 s, then kill; nothing may be left spinning
    server.wait_no_apps(timeout=10)
    assert server.proc.poll() is None
    assert "Traceback" not in server.log.read_text(errors="replace")


# -- pixel ratios 1, 1.25 and 2: the whole app on screen (issue 11, item 15) ----------------------------
FIND_CELLS = """(needle) => {
    const t = window.__xterm, b = t.buffer.active;
    for (let y = 0; y < t.rows; y++) {
        const line = b.getLine(y), starts = []; let text = "";
        for (let x = 0; x < t.cols; x++) {
            const cell = line.getCell(x);
            if (!cell || cell.getWidth() === 0) continue;       // the right half of a wide (CJK) character
            const chars = cell.getChars() || " ";
            for (const _ of chars) starts.push([x, cell.getWidth()]);
            text += chars;
        }
        const at = text.indexOf(needle);
        if (at >= 0) {
            const [first] = starts[at], [last, width] = starts[at + needle.length - 1];
            return {row: y, col: first, cells: last + width - first};
        }
    }
    return null; }"""

# The screenshot is decoded in the page (no image library in Python); for each rectangle in device pixels,
# how many pixels are bright (text, even a disabled button's), and how tall the title's blue band is at x (device pixels).
PIXELS = """async ([png, rects, bandX]) => {
    const img = new Image(); img.src = "data:image/png;base64," + png; await img.decode();
    const canvas = new OffscreenCanvas(img.width, img.height), ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const bright = rects.map(([x, y, w, h]) => {
        const d = ctx.getImageData(x, y, w, h).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2] > 90) n++;
        return n; });
    const column = ctx.getImageData(bandX, 0, 1, img.height).data; let band = 0;
    while (band < img.height && column[band * 4 + 2] > 150 && column[band * 4] < 80) band++;
    return {bright, band, size: [img.width, img.height]}; }"""


@pytest.mark.parametrize("scale", [1, 1.25, 2])
def test_the_whole_app_is_on_screen_at_pixel_ratios_1_1_25_and_2(browser, server, tmp_path, scale):
    """Windows scaling, HiDPI and zoom: the app fills the window and its last row is drawn where it belongs.

    xterm's buffer always holds the whole app (it was drawn cut off all the same), so the test reads the
    screenshot: the title's blue band is 3 rows tall, and the title, the demo bar's "读卡器中" (left) and
    "F9" (right, on the last rows) are drawn in the cells the buffer puts them in.
    """
    import base64
    server.wait_no_apps()
    context, page = open_kiosk(browser, server, scale=scale)
    try:
        text = wait_text(page, "读卡器中")
        assert page.evaluate("devicePixelRatio") == scale
        cols, rows = page.evaluate("[__xterm.cols, __xterm.rows]")
        assert cols >= 90 and rows >= 28, (cols, rows)                  # the layout's cells
        assert "医保自助缴费" in text.splitlines()[1] and "取出卡片 F9" in text
        screen_box = page.evaluate("""() => { const r = document.querySelector('.xterm-screen').getBoundingClientRect();
                                       return [r.left, r.top, r.width, r.height, innerWidth, innerHeight]; }""")
        left, top, width, height, view_w, view_h = screen_box
        assert left + width <= view_w + 0.5 and top + height <= view_h + 0.5, screen_box   # inside the window
        cell_w, cell_h = width / cols, height / rows
        rects, wanted = [], ["医保自助缴费", "读卡器中", "F9"]
        for needle in wanted:
            at = page.evaluate(FIND_CELLS, needle)
            assert at is not None, needle
            x, y = left + at["col"] * cell_w, top + at["row"] * cell_h
            rects.append([round(x * scale), round(y * scale), max(1, round(at["cells"] * cell_w * scale)),
                          max(1, round(cell_h * scale))])
        assert page.evaluate(FIND_CELLS, "F9")["row"] >= rows - 3               # on the demo bar, the last rows
        time.sleep(0.3)                                                       # the last frame painted
        shot = save_artifact(page, tmp_path, f"kiosk-dpr-{scale}.png")
        png = base64.b64encode(shot.read_bytes()).decode()
        seen = page.evaluate(PIXELS, [png, rects, round((left + 2) * scale)])
        assert seen["size"] == [round(view_w * scale), round(view_h * scale)], seen["size"]
        for needle, count in zip(wanted, seen["bright"]):
            assert count >= 10, f"{needle!r} is not drawn where the app put it at ratio {scale}: {seen}"
        expected_band = 3 * cell_h * scale
        assert abs(seen["band"] - expected_band) <= 3, (seen["band"], expected_band)
    finally:
        context.close()
    server.wait_no_apps()


# -- a page from another site cannot drive the app (issue 11, item 7) --------------------------------------
ATTACKER_PAGE = """<!DOCTYPE html><html><body><script>
  window.result = new Promise((done) => {
    const ws = new WebSocket("WS_URL");
    ws.onopen = () => { ws.send(JSON.stringify(["stdin", "3"])); done("open"); };
    ws.onerror = () => done("error");
    ws.onclose = (e) => done("closed " + e.code);
    setTimeout(() => done("timeout"), 8000);
  });
</script></body></html>"""


@contextlib.contextmanager
def attacker_site(ws_url: str):
    """Another web server on another local port, serving a page that opens a websocket to the kiosk."""
    import http.server
    import threading
    body = ATTACKER_PAGE.replace("WS_URL", ws_url).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_on_another_site_cannot_open_the_kiosk_websocket(browser, server, tmp_path):
    server.wait_no_apps()
    ws_url = server.url.replace("http://", "ws://") + "ws?width=100&height=30"
    with attacker_site(ws_url) as evil:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(evil)
            assert page.evaluate("window.result") != "open"
            save_artifact(page, tmp_path, "kiosk-attacker.png")
        finally:
            context.close()
    assert not server.apps()                                     # no app was started for it
    assert "websocket refused: Origin 'http://127.0.0.1:" in server.log.read_text(errors="replace")


def test_a_plain_client_needs_the_servers_own_origin(server):
    """403 for a foreign Origin (and none at all); the server's own Origin gets the app's first screen."""
    import asyncio
    import concurrent.futures

    import aiohttp
    ws_url = server.url.replace("http://", "ws://") + "ws?width=100&height=30"

    async def connect(origin: str | None):
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(ws_url, origin=origin) as ws:
                    got = b""
                    while len(got) < 2000:
                        message = await ws.receive(timeout=20)
                        if message.type != aiohttp.WSMsgType.BINARY:
                            break
                        got += message.data
                    return got
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status

    def run(origin: str | None):   # on a thread of its own: Playwright's sync API holds this thread's loop
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, connect(origin)).result(timeout=60)

    server.wait_no_apps()
    for origin in ("http://evil.example", "http://127.0.0.1:1", None):
        assert run(origin) == 403, origin
    assert not server.apps()
    first = run(server.url.rstrip("/"))
    assert isinstance(first, bytes) and len(first) >= 2000          # the app ran and drew for its own page
    server.wait_no_apps()


# -- a bad bill file in the browser (issue 11, item 12) -------------------------------------------------
def test_a_bill_file_with_a_lone_surrogate_is_a_clear_screen_in_the_browser(browser, server, tmp_path):
    """李娜's bill names a drug with a lone surrogate: the kiosk says so and the app keeps running."""
    bills = server.home / "var" / "bills"
    bills.mkdir(parents=True, exist_ok=True)
    bill = bills / "P10000002.json"
    bill.write_text('{"med_type":"11","items":[{"code":"X1","name":"\\udc80药","category":"drug","class":"A",'
                    '"qty":1,"price":100}]}', encoding="utf-8")
    server.wait_no_apps()
    context, page = open_kiosk(browser, server)
    try:
        wait_text(page, "请插入社保卡")
        page.keyboard.press("2")
        text = wait_text(page, "账单有误，请到人工窗口")
        assert "无法显示" in text or "第1项" in text, text
        save_artifact(page, tmp_path, "kiosk-bad-bill.png")
        page.keyboard.press("Enter")
        wait_text(page, "请插入社保卡")                                # the same app, on to the next patient
        assert not page.evaluate("document.body.classList.contains('-closed')")
    finally:
        context.close()
        bill.unlink()
    server.wait_no_apps()
    assert "Traceback" not in server.log.read_text(errors="replace")
