"""The admin page (``/_ui/``) in a real browser: Debian's chromium driven by Playwright, one
browser and one page for the module, against the real service and fake providers.

The flows: sign in, list and filter, one endpoint's life (create through the form with a field
error first, edit, try, delete with the routers that target it), stream a chat, embeddings
matrix, rerank, API keys, usage chart, a narrow window. Each test stands alone (xdist may give
a worker any subset; one that needs a session signs in once per page). After every test the
page's requests are checked (none may leave the service's origin) and its console (no error
but those the flows provoke; a CSP violation would be one). Screenshots of the main screens go
to ``$UI_SCREENSHOTS`` (default: a temporary directory).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from inference_service.store.migrate import upgrade
from tests.conftest import make_settings
from tests.fakes import cohere
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, run_service

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PIECES = ["Elastic", " is", " **search**", "."]
PROVOKED = (
    r"status of 401 .* at \S+/_security/_authenticate$",  # before sign-in, and the refused key
    r"status of 400 .* at \S+/_inference/completion/ui-new$",  # the form's field error
)
"""Console errors the flows cause on purpose (Chrome logs every non-2xx fetch)."""
VECTORS = {"alpha": [1.0, 0.0, 0.0], "beta": [0.0, 1.0, 0.0], "gamma": [1.0, 1.0, 0.0]}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: make test installs it (apt-get install chromium)")
    pytest.skip(f"no browser: {CHROMIUM} is missing (make test installs it)", allow_module_level=True)

from playwright.sync_api import ConsoleMessage, Page, Request, expect, sync_playwright  # noqa: E402


@dataclass
class World:
    service: RunningService
    chat: FakeProvider
    key: str
    page: Page
    shots: Path
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    signed_in: bool = False

    def sign_in(self) -> None:
        """Sign the page in once (xdist may run any subset of this module on a worker)."""
        if self.signed_in:
            return
        self.go("")
        self.page.get_by_label("API key").fill(self.key)
        self.page.keyboard.press("Enter")
        expect(self.page.get_by_text("Signed in as ui-admin")).to_be_visible()
        self.signed_in = True

    def go(self, fragment: str) -> None:
        self.page.goto(f"{self.service.url}/_ui/{fragment}")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"ApiKey {self.key}"}
        return httpx.request(method, self.service.url + path, headers=headers, timeout=30, **kwargs)


def _embed(body: Any) -> Reply:
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return fake_embeddings.reply([VECTORS.get(text, [0.0, 0.0, 1.0]) for text in inputs])


def _rerank(body: Any) -> Reply:
    documents = body["documents"]
    scores = sorted(((i, 1.0 / (1 + len(d))) for i, d in enumerate(documents)), key=lambda p: -p[1])
    return cohere.rerank_reply(scores)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The service (migrated first: Playwright's sync API then owns this thread's event loop),
    its endpoints and first key, then one browser and one page for the module."""
    shots = Path(os.environ.get("UI_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    settings = make_settings(tmp_path_factory.mktemp("data"), usage_flush_interval=0.1)
    upgrade(settings)
    with (
        FakeProvider(default=fake_openai.stream_reply(PIECES, gap=0.05)) as chat,
        FakeProvider() as embeddings,
        FakeProvider() as ranker,
        run_service(settings) as service,
        sync_playwright() as playwright,
    ):
        embeddings.respond_by(_embed)
        ranker.respond_by(_rerank)
        _put(
            service, "chat_completion", "ui-chat", "openai", chat.url + "/v1/chat/completions", "gpt-4o-mini"
        )
        _put(service, "text_embedding", "ui-emb", "openai", embeddings.url + "/v1/embeddings", "emb")
        _put(service, "rerank", "ui-rerank", "cohere", ranker.url + "/v2/rerank", cohere.RERANK_MODEL)
        made = httpx.post(f"{service.url}/_security/api_key", json={"name": "ui-admin"})  # turns auth on
        assert made.status_code == 200, made.text
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        world = World(service, chat, made.json()["encoded"], page, shots)
        page.on("request", lambda request: _record(world, request))
        page.on("console", lambda message: _console(world, message))
        page.on("pageerror", lambda error: world.problems.append(f"page error: {error}"))
        try:
            yield world
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def watched(world: World) -> Iterator[None]:
    """After each test: every request the page made went to the service, and the console
    showed no error but those the flows provoke on purpose (a CSP violation would be one)."""
    first_request, first_problem = len(world.requests), len(world.problems)
    yield
    requests = world.requests[first_request:]
    assert [url for url in requests if not url.startswith(world.service.url + "/")] == []
    problems = world.problems[first_problem:]
    assert [p for p in problems if not any(re.search(e, p) for e in PROVOKED)] == []


def _put(service: RunningService, task_type: str, inference_id: str, name: str, url: str, model: str) -> None:
    body = {"service": name, "service_settings": {"api_key": "sk-upstream", "model_id": model, "url": url}}
    answer = httpx.put(f"{service.url}/_inference/{task_type}/{inference_id}", json=body)
    assert answer.status_code == 200, answer.text


def _record(world: World, request: Request) -> None:
    world.requests.append(request.url)


def _console(world: World, message: ConsoleMessage) -> None:
    if message.type in ("error", "warning"):
        world.problems.append(f"console {message.type}: {message.text} at {message.location.get('url')}")


def test_csp_header_and_package_files(world: World) -> None:
    answer = httpx.get(f"{world.service.url}/_ui/")
    assert answer.status_code == 200
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in answer.text and "style=" not in answer.text  # nothing inline
    assert httpx.get(f"{world.service.url}/_ui").status_code == 307
    missing = httpx.get(f"{world.service.url}/_ui/no-such-file.js")
    assert (missing.status_code, missing.text) == (404, "Not Found")
    assert missing.headers["content-security-policy"] == csp


def test_sign_in(world: World) -> None:
    world.go("")
    page = world.page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    world.shot("sign-in")
    page.get_by_label("API key").fill("bm90OmFrZXk=")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("The service refused this key.")).to_be_visible()
    page.get_by_label("API key").fill(world.key)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in as ui-admin")).to_be_visible()
    expect(page.locator("tr[data-id=ui-chat]")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 1 and page.evaluate("localStorage.length") == 0
    world.signed_in = True
    assert any("status of 401" in p for p in world.problems)  # the console is watched


def test_list_and_filter(world: World) -> None:
    world.sign_in()
    world.go("#/endpoints")
    page = world.page
    rows = page.locator("table.endpoints tbody tr")
    listed = world.api("GET", "/_inference/_all").json()["endpoints"]
    expect(rows).to_have_count(len(listed))
    expect(page.get_by_role("columnheader", name="Created")).to_be_visible()
    models = {m["id"]: m["created"] for m in world.api("GET", "/v1/models").json()["data"]}
    for endpoint in listed:
        row = page.locator(f'tr[data-id="{endpoint["inference_id"]}"]')
        created = row.locator('td[data-label="Created"]')
        if endpoint["inference_id"].startswith("."):
            expect(row.get_by_text("read-only")).to_be_visible()
            expect(row.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)
            expect(created).to_have_text("preconfigured")
        else:
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(models[endpoint["inference_id"]]))
            expect(created).to_have_text(f"{when} UTC")
    page.get_by_label("Search").fill("ui-emb")
    expect(rows).to_have_count(1)
    page.get_by_label("Search").fill("")
    page.get_by_label("Task type").select_option("rerank")
    expect(rows).to_have_count(sum(e["task_type"] == "rerank" for e in listed))
    expect(page.locator("tr[data-id=ui-rerank]")).to_be_visible()
    page.get_by_label("Task type").select_option("")
    page.get_by_label("Service").select_option("cohere")
    expect(rows).to_have_count(1)
    page.get_by_label("Service").select_option("")
    expect(rows).to_have_count(len(listed))
    world.shot("endpoints")


def test_endpoint_lifecycle(world: World) -> None:
    """Create through the form (a field error first), edit, try, delete: one endpoint's life."""
    world.sign_in()
    world.go("#/endpoints")
    _create_through_the_form_with_a_field_error(world)
    _edit_a_setting(world)
    _completion(world)
    _delete_with_confirmation(world)


def _create_through_the_form_with_a_field_error(world: World) -> None:
    page = world.page
    page.get_by_role("link", name="Create endpoint").click()
    page.get_by_label("Service", exact=True).select_option("openai")
    page.get_by_label("Task type").select_option("completion")
    page.get_by_label("Inference ID").fill("ui-new")
    page.get_by_label("API Key").fill("sk-new")
    page.get_by_label("URL", exact=True).fill("not a url")
    expect(page.get_by_label("API Key")).to_have_attribute("type", "password")
    page.get_by_role("button", name="Create endpoint").click()
    model = page.locator("[data-setting=model_id] .field-error")
    expect(model).to_contain_text("does not contain the required setting [model_id]")
    expect(page.locator("[data-setting=url] .field-error")).to_contain_text("Invalid url")
    world.shot("create-errors")
    page.get_by_label("Model ID").fill("gpt-4o-mini")
    page.get_by_label("URL", exact=True).fill(world.chat.url + "/v1/chat/completions")
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.locator("tr[data-id=ui-new]")).to_be_visible()
    stored = world.api("GET", "/_inference/ui-new").json()["endpoints"][0]
    assert stored["service_settings"]["model_id"] == "gpt-4o-mini" and stored["task_type"] == "completion"


def _edit_a_setting(world: World) -> None:
    page = world.page
    page.get_by_role("link", name="Edit ui-new").click()
    expect(page.get_by_label("Model ID")).to_have_value("gpt-4o-mini")
    expect(page.get_by_label("API Key")).to_have_value("")  # write-only
    page.get_by_label("Model ID").fill("gpt-4o")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("tr[data-id=ui-new]")).to_contain_text("gpt-4o")
    assert (
        world.api("GET", "/_inference/ui-new").json()["endpoints"][0]["service_settings"]["model_id"]
        == "gpt-4o"
    )


def _completion(world: World) -> None:
    page = world.page
    world.go("#/playground/ui-new")
    page.get_by_label("Prompt").fill("Say it.")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".result")).to_have_text("Elastic is search.")
    assert world.chat.last_request.json["model"] == "gpt-4o"  # the edited setting is used


def test_chat_streams_tokens(world: World) -> None:
    world.sign_in()
    page = world.page
    world.go("#/playground/ui-chat")
    page.get_by_label("System prompt").fill("Be brief.")
    page.get_by_label("Temperature").fill("0.5")
    page.get_by_label("Max tokens").fill("32")
    page.get_by_label("Stop sequences (comma-separated)").fill("END")
    page.get_by_label("Message").fill("What is Elastic?")
    page.get_by_role("button", name="Send").click()
    answer = page.locator("li.assistant[data-done=true] .answer")
    expect(answer).to_have_text("Elastic is search.")
    expect(answer.locator("strong")).to_have_text("search")  # markdown, as elements
    assert int(answer.get_attribute("data-chunks") or 0) >= len(PIECES)  # redrawn as each arrived
    sent = world.chat.last_request.json
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["temperature"] == 0.5 and sent["stop"] == ["END"]
    world.shot("chat")
    _tool_calls_and_markup(world)


def _tool_calls_and_markup(world: World) -> None:
    page = world.page
    call = fake_openai.ToolCall("call_1", "get_weather", ['{"city":', ' "Paris"}'])
    hostile = ["<img src=x onerror=alert(1)>", " `<b>code</b>`"]
    world.chat.enqueue(
        fake_openai.stream_reply(hostile, tool_calls=[call], finish_reason="tool_calls"),
    )
    page.get_by_label("Message").fill("Weather in Paris?")
    page.keyboard.press("Control+Enter")  # the keyboard shortcut sends
    answer = page.locator("li.assistant[data-done=true]").nth(1)
    expect(answer.locator(".tool-call")).to_contain_text('get_weather{"city": "Paris"}')
    expect(answer.locator(".answer")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(answer.locator(".answer code")).to_have_text("<b>code</b>")
    expect(page.locator(".transcript img, .transcript b")).to_have_count(0)
    assert len(world.chat.last_request.json["messages"]) == 4  # the conversation goes on


def test_embeddings_similarity_matrix(world: World) -> None:
    world.sign_in()
    page = world.page
    world.go("#/playground/ui-emb")
    page.get_by_label("Inputs (one per line)").fill("alpha\nbeta\ngamma")
    page.get_by_role("button", name="Embed").click()
    expect(page.locator(".dimensions")).to_have_text("3 vectors, 3 dimensions")
    cells = page.locator("table.matrix tbody tr")
    expect(cells).to_have_count(3)
    expect(cells.nth(0).locator("td")).to_have_text(["1.000", "0.000", "0.707"])
    expect(cells.nth(2).locator("td")).to_have_text(["0.707", "0.707", "1.000"])
    world.shot("embeddings")


def test_rerank_scores(world: World) -> None:
    world.sign_in()
    page = world.page
    world.go("#/playground/ui-rerank")
    page.get_by_label("Query").fill("search")
    page.get_by_label("Documents (one per line)").fill("a long document\nshort\nmid text")
    page.get_by_role("button", name="Rerank").click()
    rows = page.locator("table.ranked tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("short")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("0.1667")


def _delete_with_confirmation(world: World) -> None:
    page = world.page
    world.go("#/endpoints")
    targets = {"strategy": "priority", "targets": [{"inference_id": "ui-new"}]}
    router = {"service": "router", "service_settings": targets}
    assert world.api("PUT", "/_inference/completion/ui-router", json=router).status_code == 200
    page.reload()
    page.get_by_role("button", name="Delete ui-new").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("ul.routers li")).to_have_text(["ui-router"])
    expect(dialog.get_by_role("button", name="Delete anyway")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert world.api("GET", "/_inference/ui-new").status_code == 200
    assert world.api("DELETE", "/_inference/ui-router").status_code == 200
    page.get_by_role("button", name="Delete ui-new").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("No router targets it.")
    dialog.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Delete ui-new").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("tr[data-id=ui-new]")).to_have_count(0)
    assert world.api("GET", "/_inference/ui-new").status_code == 404


def test_create_and_invalidate_a_key(world: World) -> None:
    world.sign_in()
    page = world.page
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("ui-made")
    page.get_by_label("Role").select_option("monitor")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("The new key (encoded)")
    expect(secret).to_be_visible()
    encoded = secret.input_value()
    me = httpx.get(
        f"{world.service.url}/_security/_authenticate", headers={"authorization": f"ApiKey {encoded}"}
    )
    assert me.status_code == 200 and me.json()["api_key"]["name"] == "ui-made"
    expect(page.get_by_role("button", name="Copy")).to_be_focused()
    world.shot("keys")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Invalidate ui-made").click()
    expect(page.get_by_text("Invalidated ui-made.")).to_be_visible()
    again = httpx.get(
        f"{world.service.url}/_security/_authenticate", headers={"authorization": f"ApiKey {encoded}"}
    )
    assert again.status_code == 401


def test_usage_chart(world: World) -> None:
    world.sign_in()
    assert (
        world.api("POST", "/_inference/text_embedding/ui-emb", json={"input": ["alpha"]}).status_code == 200
    )
    for _ in range(200):  # the service's accounts reach the database every 0.1 s
        usage = world.api("GET", "/_inference/_usage", params={"since": "now-1d"}).json()["usage"]
        if any(u["inference_id"] == "ui-emb" for u in usage):
            break
        time.sleep(0.05)
    page = world.page
    page.get_by_role("link", name="Usage").click()
    expect(page.locator(".chart canvas")).to_have_count(1)
    expect(page.locator("table.usage tbody tr[data-id], table.usage tbody th").first).to_be_visible()
    expect(page.locator("table.usage")).to_contain_text("ui-emb")
    world.shot("usage")


def test_narrow_window_and_keyboard(world: World) -> None:
    world.sign_in()
    page = world.page
    page.set_viewport_size({"width": 390, "height": 800})
    world.go("#/endpoints")
    expect(page.locator("tr[data-id=ui-chat]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    world.shot("endpoints-narrow")
    page.set_viewport_size({"width": 1280, "height": 800})
    for control in page.locator("main input, main select, main textarea").all():
        ident = control.get_attribute("id")
        labelled = control.get_attribute("aria-label") or (
            ident and page.locator(f'label[for="{ident}"]').count()
        )
        assert labelled, control.evaluate("e => e.outerHTML")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement !== document.body")
