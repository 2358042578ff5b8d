"""The OpenAPI page of `cashier centre serve` in Chromium, as an HIS developer opens it: it renders with no
request leaving the machine, lists a schema per transaction, and the example body it offers is an envelope the
centre accepts the shape of (it names its `infno`)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from conftest import in_ci
from centre_http_support import ServedCentre
from centre.interface.envelope import ENDPOINT

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():
    if in_ci():
        raise RuntimeError(f"{CHROMIUM} is missing: CI must install Debian's chromium for the browser tests")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


def test_the_docs_page_renders_offline_with_a_usable_example(tmp_path, config_file):
    from playwright.sync_api import sync_playwright
    with ServedCentre(config_file, tmp_path / "centre.db") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None)
            page.goto(f"{server.url}/docs", wait_until="networkidle")
            page.wait_for_selector(".opblock-summary", timeout=20000)
            assert "simulated medical-insurance platform" in page.inner_text(".info .title")
            page.click(".opblock-summary")
            example = page.locator(".body-param__example, .microlight").first
            example.wait_for(timeout=10000)
            body = json.loads(example.inner_text())
            schemas = page.inner_text("section.models")
            page.screenshot(path=str(tmp_path / "docs.png"))
        finally:
            browser.close()
        assert outside == []                                  # Swagger UI's scripts and styles came from the centre
        examples = httpx.get(f"{server.url}/openapi.json").json()["paths"][ENDPOINT]["post"]["requestBody"][
            "content"]["application/json"]["examples"]
        assert body == examples[body["infno"]]["value"]      # a whole envelope, its infno included
        assert body["fixmedins_code"] == "H41010000001" and body["msgid"].startswith("H41010000001")
        for infno in ("9001", "1101", "2201", "2204", "2206", "2207", "2208", "2601", "5203", "3201", "X102"):
            assert f"Request{infno}" in schemas and f"Response{infno}" in schemas
        answer = httpx.post(server.url + ENDPOINT, json=body).json()     # sent as it is: an envelope
        assert answer.get("ext_err_code") not in ("bad_request", "infno_unknown"), answer
