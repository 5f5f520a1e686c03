"""The admin page on a service without keys (loopback, ``auth = "auto"`` before the first key):
it opens on the endpoints table with no sign-in and no sign-out, and its calls work without a
key. In Debian's chromium through Playwright, like test_admin_page.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inference_service.store.migrate import upgrade
from tests.conftest import make_settings
from tests.support.service import RunningService, run_service

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: make test installs it (apt-get install chromium)")
    pytest.skip(f"no browser: {CHROMIUM} is missing (make test installs it)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def open_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    settings = make_settings(tmp_path_factory.mktemp("data"))
    upgrade(settings)
    with run_service(settings) as service:
        body = {
            "service": "openai",
            "service_settings": {
                "api_key": "sk-x",
                "model_id": "m",
                "url": "http://127.0.0.1:9/v1/chat/completions",
            },
        }
        put = httpx.put(f"{service.url}/_inference/chat_completion/open-chat", json=body)
        assert put.status_code == 200, put.text
        yield service


@pytest.fixture(scope="module")
def page(open_service: RunningService) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_the_page_opens_without_signing_in(open_service: RunningService, page: Page) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{open_service.url}/_ui/")
    expect(page.get_by_role("button", name="Delete open-chat")).to_be_visible()
    expect(page.get_by_label("API key")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    assert page.url.endswith("#/endpoints")
    assert problems == []
