"""The SSRF matrix, end to end: provider URLs aimed at internal addresses are refused on PUT and
``_update`` (400 naming the setting) and again when connecting (502), DNS rebinding included;
redirects are not followed; a stored secret cannot be moved.

The service runs with the allow-list ``127.0.0.1/32,vllm.test`` (so 127.0.0.2 is a blocked
loopback address while the fake provider on 127.0.0.1 is reachable) and a test resolver: test
names map to blocked addresses and nothing is ever looked up or sent outside 127.0.0.0/8 (the
suite's network backstop would fail the test).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.settings import Settings
from inference_service.store.endpoints import BUMP_REVISION, EndpointRepository
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.migrate import upgrade
from inference_service.store.secret_box import load_secret_box
from tests.conftest import make_settings
from tests.fakes import openai as fake
from tests.fakes.server import FakeProvider, Reply
from tests.support.resolver import MapResolver
from tests.support.service import RunningService, run_service

ALLOWLIST = "127.0.0.1/32,vllm.test"
NAMES = {
    "metadata.test": ["169.254.169.254"],
    "internal.test": ["10.0.0.1"],
    "v6internal.test": ["fd00::1"],
    "mapped.test": ["::ffff:192.168.1.1"],
    "loop2.test": ["127.0.0.2"],
    "allowed.test": ["127.0.0.1"],
    "vllm.test": ["127.0.0.9"],
}
SUFFIX = (
    "; provider URLs may not reach internal addresses unless the setting [provider_url_allowlist] allows them"
)
SECRET = "sk-guarded"


@pytest.fixture(scope="module")
def resolver() -> MapResolver:
    return MapResolver(NAMES)


@pytest.fixture(scope="module")
def guarded_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("guard"), provider_url_allowlist=ALLOWLIST)
    upgrade(settings)
    return settings


@pytest.fixture(scope="module")
def svc(guarded_settings: Settings, resolver: MapResolver) -> Iterator[RunningService]:
    with run_service(guarded_settings, resolver) as running:
        yield running


def put(svc: RunningService, inference_id: str, url: str | None, *, validate: bool = False) -> httpx.Response:
    settings: dict[str, Any] = {"api_key": SECRET, "model_id": "gpt-4o-mini"}
    if url is not None:
        settings["url"] = url
    return httpx.put(
        f"{svc.url}/_inference/chat_completion/{inference_id}?validate={str(validate).lower()}",
        json={"service": "openai", "service_settings": settings},
        timeout=30,
    )


def chat(svc: RunningService, inference_id: str) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=body, timeout=30)


def stream_error(response: httpx.Response) -> tuple[int, str]:
    """A ``_stream`` refused before its first chunk: its status and its one ``event: error`` frame."""
    event, data = response.text.split("\n", 2)[:2]
    assert event == "event: error", response.text
    error = json.loads(data.removeprefix("data: "))["error"]
    assert error["type"] == "status_exception"
    return response.status_code, error["message"]


def refused(reason: str) -> dict[str, Any]:
    cause = {"type": "validation_exception", "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": 400}


def url_refusal(problem: str, setting: str = "url") -> str:
    return f"Validation Failed: 1: [service_settings] Invalid url for setting [{setting}]: {problem}{SUFFIX};"


BLOCKED_AT_PUT = [
    (
        "http://169.254.169.254/latest/meta-data/",
        "[169.254.169.254] is a link-local address (cloud metadata lives there)",
    ),
    ("http://10.0.0.1:8000/v1", "[10.0.0.1] is a private address"),
    ("http://172.16.5.4/v1", "[172.16.5.4] is a private address"),
    ("http://192.168.0.10/v1", "[192.168.0.10] is a private address"),
    ("http://100.64.0.1/v1", "[100.64.0.1] is a shared (carrier-grade NAT) address"),
    ("http://0.0.0.0:9280/v1", '[0.0.0.0] is a "this network" address'),
    ("http://127.0.0.2:9280/v1", "[127.0.0.2] is a loopback address"),
    ("http://224.0.0.1/v1", "[224.0.0.1] is a multicast address"),
    ("http://240.0.0.1/v1", "[240.0.0.1] is a reserved address"),
    ("http://[::1]:9280/v1", "[::1] is a loopback address"),
    ("http://[fe80::1]/v1", "[fe80::1] is a link-local address"),
    ("http://[fd00::1]/v1", "[fd00::1] is a private address (unique local)"),
    ("http://[ff02::1]/v1", "[ff02::1] is a multicast address"),
    (
        "http://[::ffff:169.254.169.254]/v1",
        "[::ffff:a9fe:a9fe] is a link-local address (cloud metadata lives there)",
    ),
    ("http://[::ffff:10.0.0.1]/v1", "[::ffff:a00:1] is a private address"),
    (
        "http://[64:ff9b::a9fe:a9fe]/v1",
        "[64:ff9b::a9fe:a9fe] is an address embedding [169.254.169.254], a link-local address "
        "(cloud metadata lives there)",
    ),
    (
        "http://metadata.test/latest",
        "[metadata.test] resolves to [169.254.169.254], a link-local address (cloud metadata lives there)",
    ),
    ("https://internal.test/v1", "[internal.test] resolves to [10.0.0.1], a private address"),
    (
        "https://v6internal.test/v1",
        "[v6internal.test] resolves to [fd00::1], a private address (unique local)",
    ),
    ("https://mapped.test/v1", "[mapped.test] resolves to [::ffff:192.168.1.1], a private address"),
    ("http://loop2.test:9280/v1", "[loop2.test] resolves to [127.0.0.2], a loopback address"),
]


@pytest.mark.parametrize(("url", "problem"), BLOCKED_AT_PUT, ids=[u for u, _ in BLOCKED_AT_PUT])
def test_put_refuses_internal_addresses(svc: RunningService, url: str, problem: str) -> None:
    """Refused before the validation call could send anything there."""
    response = put(svc, "blocked", url, validate=True)
    assert response.status_code == 400, response.text
    assert response.json() == refused(url_refusal(problem))
    assert httpx.get(f"{svc.url}/_inference/blocked").status_code == 404


@pytest.mark.parametrize(
    "host", ["2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "0x7f000001", "127.1"]
)
def test_put_refuses_legacy_ip_spellings(svc: RunningService, resolver: MapResolver, host: str) -> None:
    before = len(resolver.lookups)
    response = put(svc, "odd", f"http://{host}/v1", validate=True)
    assert response.status_code == 400, response.text
    problem = f"[{host}] is not a canonical IPv4 address (write it as four decimal numbers, a.b.c.d)"
    assert response.json()["error"]["reason"] == (
        f"Validation Failed: 1: [service_settings] Invalid url for setting [url]: {problem};"
    )
    assert len(resolver.lookups) == before  # refused as written, never looked up


@pytest.mark.parametrize("url", ["ftp://files.test/v1", "file:///etc/passwd", "gopher://allowed.test/"])
def test_put_refuses_other_schemes(svc: RunningService, url: str) -> None:
    response = put(svc, "scheme", url)
    assert response.status_code == 400
    assert response.json()["error"]["reason"] == (
        f"Validation Failed: 1: [service_settings] Invalid url [{url}] received for field [url];"
    )


def test_allowed_literal_and_allowed_name_reach_the_provider(
    svc: RunningService, upstream: FakeProvider
) -> None:
    upstream.enqueue(fake.stream_reply(["ok"]), fake.stream_reply(["ok"]))
    literal = put(svc, "literal-ok", f"{upstream.url}/v1/chat/completions", validate=True)
    assert literal.status_code == 200, literal.text
    named = put(svc, "name-ok", f"http://allowed.test:{upstream.port}/v1/chat/completions", validate=True)
    assert named.status_code == 200, named.text
    upstream.enqueue(fake.stream_reply(["hello"]))
    response = chat(svc, "name-ok")
    assert response.status_code == 200 and "hello" in response.text


def test_an_allowlisted_name_is_accepted_unresolved_and_connected_to(
    svc: RunningService, resolver: MapResolver
) -> None:
    """``vllm.test`` is allow-listed by name: it may resolve to a blocked address (127.0.0.9
    here, where nothing listens: the connection is attempted and fails, it is not refused)."""
    created = put(svc, "vllm", "http://vllm.test:9/v1/chat/completions")
    assert created.status_code == 200, created.text
    assert "vllm.test" not in resolver.lookups
    status, reason = stream_error(chat(svc, "vllm"))
    assert status == 502
    assert reason.startswith("Could not connect to the provider at [http://vllm.test:9/v1/chat/completions]")
    assert "vllm.test" in resolver.lookups


def test_a_name_repointed_after_put_is_refused_when_connecting(
    svc: RunningService, resolver: MapResolver, upstream: FakeProvider
) -> None:
    """DNS rebinding: public-looking on PUT, internal at call time."""
    resolver.names["rebind.test"] = ["127.0.0.1"]
    url = f"http://rebind.test:{upstream.port}/v1/chat/completions"
    assert put(svc, "rebind", url).status_code == 200
    resolver.names["rebind.test"] = ["169.254.169.254"]
    served = len(upstream.requests)
    assert stream_error(chat(svc, "rebind")) == (
        502,
        f"Refused to connect to the provider at [{url}]: [rebind.test] resolves to [169.254.169.254], "
        f"a link-local address (cloud metadata lives there){SUFFIX}",
    )
    assert len(upstream.requests) == served


def test_an_update_to_a_blocked_url_is_refused(svc: RunningService, upstream: FakeProvider) -> None:
    url = f"{upstream.url}/v1/chat/completions"
    assert put(svc, "to-update", url).status_code == 200
    path = f"{svc.url}/_inference/to-update/_update"
    moved = httpx.put(path, json={"service_settings": {"url": "http://metadata.test/", "api_key": SECRET}})
    assert moved.status_code == 400
    assert moved.json() == refused(
        url_refusal(
            "[metadata.test] resolves to [169.254.169.254], a link-local address (cloud metadata lives there)"
        )
    )
    stored = httpx.get(f"{svc.url}/_inference/to-update").json()["endpoints"][0]
    assert stored["service_settings"]["url"] == url


def test_an_update_that_moves_the_secret_must_send_it_again(
    svc: RunningService, upstream: FakeProvider
) -> None:
    url = f"{upstream.url}/v1/chat/completions"
    assert put(svc, "secret-stays", url).status_code == 200
    path = f"{svc.url}/_inference/secret-stays/_update"
    other = f"http://allowed.test:{upstream.port}/v1/chat/completions"
    without = httpx.put(path, json={"service_settings": {"url": other}})
    assert without.status_code == 400
    assert without.json() == refused(
        "Validation Failed: 1: [service_settings] changing [url] changes where the endpoint's secrets are "
        "sent, so the secrets must be sent again in the same request: [api_key];"
    )
    assert httpx.put(path, json={"service_settings": {"model_id": "gpt-4o"}}).status_code == 200
    with_secret = httpx.put(path, json={"service_settings": {"url": other, "api_key": "sk-new"}})
    assert with_secret.status_code == 200, with_secret.text
    upstream.enqueue(fake.stream_reply(["moved"]))
    assert "moved" in chat(svc, "secret-stays").text
    assert upstream.last_request.headers["authorization"] == "Bearer sk-new"


def test_a_stored_blocked_literal_is_refused_when_connecting(svc: RunningService) -> None:
    """A row written before this version (or by a migration) is still guarded when called."""
    endpoint = Endpoint(
        inference_id="legacy",
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings={"model_id": "m", "url": "http://127.0.0.2:9/v1/chat/completions"},
        task_settings={},
        chunking_settings=None,
        secrets={"api_key": SECRET},
    )
    asyncio.run(_insert_directly(svc.settings, endpoint))
    deadline = time.monotonic() + 5
    response = chat(svc, "legacy")
    while response.status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.05)
        response = chat(svc, "legacy")
    assert stream_error(response) == (
        502,
        "Refused to connect to the provider at [http://127.0.0.2:9/v1/chat/completions]: "
        f"[127.0.0.2] is a loopback address{SUFFIX}",
    )


async def _insert_directly(settings: Settings, endpoint: Endpoint) -> None:
    engine = create_engine(settings.resolved_database_url, pool_size=1)
    try:
        box = load_secret_box(settings.secrets_key, settings.resolved_secrets_key_file, create=False)
        async with create_sessionmaker(engine).begin() as session:
            await EndpointRepository(session, box).insert(endpoint)
            await session.execute(BUMP_REVISION)
    finally:
        await engine.dispose()


def test_redirects_are_not_followed(svc: RunningService, upstream: FakeProvider) -> None:
    assert put(svc, "redirected", f"{upstream.url}/v1/chat/completions").status_code == 200
    upstream.enqueue(Reply.fixed(302, b"", {"location": "http://169.254.169.254/latest/meta-data/"}))
    served = len(upstream.requests)
    assert stream_error(chat(svc, "redirected")) == (
        502,
        f"Unhandled redirection from the provider at [{upstream.url}/v1/chat/completions] status [302]: "
        "redirects are not followed; set the endpoint's URL to the address it redirects to",
    )
    assert len(upstream.requests) == served + 1


def test_azure_resource_name_is_one_dns_label(svc: RunningService) -> None:
    body = {
        "service": "azureopenai",
        "service_settings": {
            "resource_name": "169.254.169.254/",
            "deployment_id": "d",
            "api_version": "2024-10-21",
            "api_key": SECRET,
        },
    }
    response = httpx.put(f"{svc.url}/_inference/chat_completion/azure-bad", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["reason"] == (
        "Validation Failed: 1: [service_settings] Invalid value [169.254.169.254/] for setting "
        "[resource_name]: an Azure resource name is one DNS label of letters, digits and hyphens (it "
        "becomes the host <resource_name>.openai.azure.com);"
    )


CUSTOM_BODY = {
    "service": "custom",
    "service_settings": {
        "url": "http://${host}/v1/embed",
        "headers": {"Authorization": "Bearer ${api_key}"},
        "request": '{"texts": ${input}}',
        "response": {"json_parser": {"text_embeddings": "$.data[*].embedding"}},
        "secret_parameters": {"api_key": SECRET},
    },
}


def test_a_custom_url_is_checked_once_its_placeholders_are_filled(svc: RunningService) -> None:
    body = {**CUSTOM_BODY, "task_settings": {"parameters": {"host": "metadata.test"}}}
    response = httpx.put(f"{svc.url}/_inference/text_embedding/custom-bad", json=body)
    assert response.status_code == 400
    assert response.json() == refused(
        url_refusal(
            "[metadata.test] resolves to [169.254.169.254], a link-local address (cloud metadata lives there)"
        )
    )


def test_a_request_may_not_aim_a_custom_endpoint_at_another_host(svc: RunningService) -> None:
    body = {**CUSTOM_BODY, "task_settings": {"parameters": {"host": "allowed.test:9"}}}
    assert httpx.put(f"{svc.url}/_inference/text_embedding/custom-host", json=body).status_code == 200
    moved = httpx.post(
        f"{svc.url}/_inference/text_embedding/custom-host",
        json={"input": "x", "task_settings": {"parameters": {"host": "attacker.test"}}},
    )
    assert moved.status_code == 400
    assert moved.json() == refused(
        "Validation Failed: 1: [task_settings] the parameters of a request may not change the host the "
        "endpoint calls (its secrets are sent there); change the endpoint with _update instead;"
    )


def test_the_test_resolver_never_left_the_test_names(resolver: MapResolver, tmp_path: Path) -> None:
    assert all(name.rstrip(".").endswith(".test") for name in resolver.lookups)
