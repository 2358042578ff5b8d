"""`cashier web` end to end in headless Chromium (Debian's, driven by Python Playwright; DESIGN §10).

One server (the real `cashier web` command in a subprocess, in-process emulator, demo database in tmp)
serves every test here; each test opens its own browser context and closes it. The app's text is read
from xterm's buffer: the page's textual.js is rewritten on the way in to expose the terminal object.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def apps(self) -> list[int]:
        return children_of(self.proc.pid)

    def wait_no_apps(self, timeout: float = 8.0) -> None:
        wait_until(lambda: not self.apps(), timeout, f"the server's app processes to end: {self.apps()}")


def start_server(home: Path, mode: str):
    """`cashier web --reader emulator --mode MODE` on a free port, its config and database in home."""
    config = home / "config.toml"
    shutil.copy(ROOT / "config.toml", config)
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
        yield WebServer(proc, f"http://127.0.0.1:{port}/", log)
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
               viewport: tuple[int, int] = (1280, 800)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
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


def wait_text(page, text: str, timeout: float = 15.0) -> str:
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
