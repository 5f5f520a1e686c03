"""Cross-origin calls from a web page (``cors_allow_origins``), in a real browser: a page on an
allowed origin calls ``/v1/chat/completions`` with its API key and reads the answer and the
service's headers; a page on another origin is refused by the browser; preflights need no key.
Both pages are served on 127.0.0.1 (origins that differ by port)."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from inference_service.store.migrate import upgrade
from tests.conftest import make_settings
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService, run_service

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: make test installs it (apt-get install chromium)")
    pytest.skip(f"no browser: {CHROMIUM} is missing (make test installs it)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402

FETCH = """async ([url, key]) => {
  try {
    const answer = await fetch(url, {
      method: "POST",
      headers: {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
      body: JSON.stringify({model: "web-chat", messages: [{role: "user", content: "hi"}]}),
    });
    const body = await answer.json();
    return {status: answer.status, content: body.choices[0].message.content,
            requestId: answer.headers.get("x-request-id")};
  } catch (error) {
    return {refused: String(error)};
  }
}"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>app</title><p>an app on its own origin</p>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class World:
    service: RunningService
    key: str
    page: Page
    allowed: str
    other: str


def _page_server() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    allowed, other = _page_server(), _page_server()
    allowed_origin = f"http://127.0.0.1:{allowed.server_address[1]}"
    settings = make_settings(tmp_path_factory.mktemp("data"), cors_allow_origins=allowed_origin)
    upgrade(settings)
    try:
        with (
            FakeProvider(default=fake_openai.stream_reply(["from ", "the provider"])) as chat,
            run_service(settings) as service,
            sync_playwright() as playwright,
        ):
            body = {
                "service": "openai",
                "service_settings": {
                    "api_key": "sk-upstream",
                    "model_id": fake_openai.MODEL,
                    "url": chat.url + "/v1/chat/completions",
                },
            }
            put = httpx.put(f"{service.url}/_inference/chat_completion/web-chat", json=body)
            assert put.status_code == 200, put.text
            made = httpx.post(f"{service.url}/_security/api_key", json={"name": "web"})  # auth on
            assert made.status_code == 200, made.text
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            try:
                yield World(
                    service,
                    made.json()["encoded"],
                    page,
                    allowed_origin,
                    f"http://127.0.0.1:{other.server_address[1]}",
                )
            finally:
                browser.close()
    finally:
        for server in (allowed, other):
            server.shutdown()
            server.server_close()


def test_a_page_on_an_allowed_origin_calls_the_openai_face(world: World) -> None:
    world.page.goto(world.allowed + "/")
    result = world.page.evaluate(FETCH, [world.service.url + "/v1/chat/completions", world.key])
    assert result["status"] == 200, result
    assert result["content"] == "from the provider"
    assert len(result["requestId"]) == 32  # an exposed header the page may read


def test_a_page_on_another_origin_is_refused_by_the_browser(world: World) -> None:
    world.page.goto(world.other + "/")
    result = world.page.evaluate(FETCH, [world.service.url + "/v1/chat/completions", world.key])
    assert "Failed to fetch" in result["refused"]


def test_preflights_need_no_key_and_name_what_may_follow(world: World) -> None:
    asked = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,idempotency-key",
    }
    answer = httpx.options(
        world.service.url + "/_inference/chat_completion/web-chat/_stream",
        headers={"origin": world.allowed, **asked},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == world.allowed
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "idempotency-key" in answer.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in answer.headers  # keys, never cookies
    refused = httpx.options(
        world.service.url + "/v1/chat/completions", headers={"origin": world.other, **asked}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    no_key = httpx.get(world.service.url + "/_inference", headers={"origin": world.allowed})
    assert no_key.status_code == 401  # the request itself still needs its key
    assert no_key.headers["access-control-allow-origin"] == world.allowed
