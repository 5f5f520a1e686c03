"""API keys end to end: every route by every kind of caller -> the exact status and body, on one
service per backend; the service's log and the raw database never hold a key.

The service starts open (loopback, no key yet); the module makes its endpoints and its first
``manage`` key without credentials, and from then on every request needs a key. The callers:
none, a key no one issued, an expired key, an invalidated key, ``infer``, ``monitor``,
``manage``, and a ``manage`` key restricted to ``other-*`` (every route below names a
``team-*`` endpoint). Elasticsearch routes get ``Authorization: ApiKey``, ``/v1`` routes
``Authorization: Bearer``, as the two official clients send them. The public routes (``GET /``,
the health probes, ``/openapi.json``, the admin page) answer every caller, bad keys included.
The matrix is checked against the faces' route tables: a route without a row, or a row whose
action or role differs from the table's, fails.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.routing import Match

from inference_service.api.routing import Resource
from inference_service.app import FACES
from inference_service.auth.roles import Action
from inference_service.settings import Settings
from inference_service.store.migrate import upgrade
from tests.conftest import make_settings
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService, run_service

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
CASES = ["none", "bad", "expired", "invalidated", "infer", "monitor", "manage", "restricted"]
TEAM = {"team-chat", "team-emb", "team-complete"}
OTHER = {"other-emb"}


@dataclass
class Caller:
    header: str | None
    key_id: str | None
    secret: str | None = None


@dataclass
class World:
    service: RunningService
    callers: dict[str, Caller]
    log: list[str]


class _Capture(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def chat_upstream() -> Iterator[FakeProvider]:
    with FakeProvider(default=fake_openai.stream_reply(["ok"])) as fake:
        yield fake


@pytest.fixture(scope="module")
def embeddings_upstream() -> Iterator[FakeProvider]:
    with FakeProvider(default=fake_embeddings.reply([[0.5, 0.25, 0.125]])) as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(
        tmp_path_factory.mktemp("data"), database_url, auth_failures_per_minute=100_000, log_level="debug"
    )
    upgrade(settings)
    return settings


@pytest.fixture(scope="module")
def world(
    settings: Settings, chat_upstream: FakeProvider, embeddings_upstream: FakeProvider
) -> Iterator[World]:
    lines: list[str] = []
    handler = _Capture(lines)
    loggers = [logging.getLogger(), logging.getLogger("inference_service"), logging.getLogger("hypercorn")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        with run_service(settings) as service:
            yield World(service, _provision(service, chat_upstream, embeddings_upstream), lines)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _put(service: RunningService, path: str, body: dict[str, Any], header: str | None = None) -> Any:
    headers = {"authorization": header} if header else {}
    answer = httpx.put(f"{service.url}{path}", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _provision(service: RunningService, chat: FakeProvider, embeddings: FakeProvider) -> dict[str, Caller]:
    """Endpoints and keys; the first key is made while the service is still open."""

    def endpoint(task_type: str, inference_id: str, upstream: FakeProvider, path: str) -> None:
        settings = {"api_key": "sk-upstream-secret", "model_id": "m", "url": upstream.url + path}
        _put(
            service,
            f"/_inference/{task_type}/{inference_id}",
            {"service": "openai", "service_settings": settings},
        )

    endpoint("chat_completion", "team-chat", chat, "/v1/chat/completions")
    endpoint("completion", "team-complete", chat, "/v1/chat/completions")
    endpoint("text_embedding", "team-emb", embeddings, "/v1/embeddings")
    endpoint("text_embedding", "other-emb", embeddings, "/v1/embeddings")
    made = _put(service, "/_security/api_key", {"name": "first-admin"})  # open: the creator is anonymous
    manage = Caller("ApiKey " + made["encoded"], made["id"], made["api_key"])
    assert httpx.get(f"{service.url}/_inference").status_code == 401  # the first key turned auth on

    def key(name: str, descriptors: dict[str, Any] | None = None, **extra: Any) -> Caller:
        body: dict[str, Any] = {"name": name, **extra}
        if descriptors is not None:
            body["role_descriptors"] = {"r": descriptors}
        made = _put(service, "/_security/api_key", body, manage.header)
        return Caller("ApiKey " + made["encoded"], made["id"], made["api_key"])

    app = {"application": "inference-service"}
    callers = {
        "none": Caller(None, None),
        "bad": Caller("ApiKey " + base64.b64encode(b"nosuchkeyid000000000:guess").decode(), None),
        "expired": key("expired", {"cluster": ["monitor_inference"]}, expiration="1ms"),
        "invalidated": key("invalidated", {"cluster": ["manage_inference"]}),
        "infer": key("infer", {"applications": [{**app, "privileges": ["infer"]}]}),
        "monitor": key("monitor", {"cluster": ["monitor_inference"]}),
        "manage": manage,
        "restricted": key(
            "restricted", {"applications": [{**app, "privileges": ["manage"], "resources": ["other-*"]}]}
        ),
    }
    gone = httpx.request(
        "DELETE",
        f"{service.url}/_security/api_key",
        json={"ids": [callers["invalidated"].key_id]},
        headers={"authorization": str(manage.header)},
    )
    assert gone.json() == {
        "invalidated_api_keys": [callers["invalidated"].key_id],
        "previously_invalidated_api_keys": [],
        "error_count": 0,
    }
    time.sleep(0.01)  # the 1ms key has expired
    return callers


# -- what each route answers when the caller may use it -------------------------------------

Check = Callable[[httpx.Response, str, Caller], None]


def status(code: int, **fields: Any) -> Check:
    def check(response: httpx.Response, case: str, caller: Caller) -> None:
        assert response.status_code == code, response.text
        body = response.json()
        for name, value in fields.items():
            assert body[name] == value, body

    return check


def metrics_text(response: httpx.Response, case: str, caller: Caller) -> None:
    assert response.status_code == 200, response.text
    assert "inference_service_requests_in_flight" in response.text
    if case == "restricted":
        assert 'endpoint="team-' not in response.text and 'endpoint=""' not in response.text


def listing(ids: Callable[[Any], set[str]]) -> Check:
    """A list that shows only what the key may use (a restricted key sees ``other-*`` only)."""

    def check(response: httpx.Response, case: str, caller: Caller) -> None:
        assert response.status_code == 200, response.text
        shown = {i for i in ids(response.json()) if not i.startswith(".")}
        assert shown == (OTHER if case == "restricted" else TEAM | OTHER)

    return check


def created_key(response: httpx.Response, case: str, caller: Caller) -> None:
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["id", "name", "api_key", "encoded"]


def keys_listed(response: httpx.Response, case: str, caller: Caller) -> None:
    assert response.status_code == 200, response.text
    shown = response.json()["api_keys"]
    assert caller.key_id in {k["id"] for k in shown}
    assert all("api_key" not in k and "secret_hash" not in k for k in shown)


def who(response: httpx.Response, case: str, caller: Caller) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["authentication_type"] == "api_key"
    assert body["api_key"]["id"] == caller.key_id
    assert body["roles"] == [{"restricted": "manage"}.get(case, case)]


def streamed(response: httpx.Response, case: str, caller: Caller) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" in response.text


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: Any
    action: str | None
    """The Elasticsearch action name; None for the public ``GET /``."""
    needs: str
    endpoint: str | None
    """The ``team-*`` endpoint the route names (checked against a restricted key)."""
    ok: Check
    summary: str = ""

    @property
    def openai(self) -> bool:
        return self.path.startswith("/v1/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


PUT, UPDATE, DELETE = (f"cluster:admin/xpack/inference/{a}" for a in ("put", "update", "delete"))
GET, POST = "cluster:monitor/xpack/inference/get", "cluster:monitor/xpack/inference/post"
KEYS = "cluster:admin/xpack/security/api_key/"
AUTHENTICATE = "cluster:admin/xpack/security/user/authenticate"
SERVICES = "cluster:monitor/xpack/inference/services/get"
EMB = {"model": "team-emb", "input": "hi"}


def page(response: httpx.Response, case: str, caller: Caller) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")


ROUTES = [
    Route("GET", "/", None, None, "", None, status(200, tagline="You Know, for Search")),
    Route("GET", "/openapi.json", None, None, "", None, status(200, openapi="3.1.0")),
    Route("GET", "/_health/live", None, None, "", None, status(200)),
    Route("GET", "/_health/ready", None, None, "", None, status(200)),
    Route("GET", "/_ui/", None, None, "", None, page),
    Route("GET", "/_inference/_usage", None, "cluster:monitor/inference/usage", "monitor", None, status(200)),
    Route("GET", "/_inference/text_embedding/team-emb", None, GET, "monitor", "team-emb", status(200)),
    Route("PUT", "/_inference/team-new", {"service": "no-such"}, PUT, "manage", "team-new", status(400)),
    Route(
        "PUT",
        "/_inference/text_embedding/team-emb/_update",
        {"task_settings": {"x": 1}},
        UPDATE,
        "manage",
        "team-emb",
        status(400),
    ),
    Route("DELETE", "/_inference/text_embedding/team-gone", None, DELETE, "manage", "team-gone", status(404)),
    Route("POST", "/_inference/team-emb", {"input": "hi"}, POST, "infer", "team-emb", status(200)),
    Route("POST", "/_inference/team-chat/_stream", CHAT, POST, "infer", "team-chat", streamed),
    Route(
        "GET",
        "/_inference",
        None,
        GET,
        "monitor",
        None,
        listing(lambda b: {e["inference_id"] for e in b["endpoints"]}),
    ),
    Route(
        "GET",
        "/_inference/_all",
        None,
        GET,
        "monitor",
        None,
        listing(lambda b: {e["inference_id"] for e in b["endpoints"]}),
    ),
    Route("GET", "/_inference/team-emb", None, GET, "monitor", "team-emb", status(200)),
    Route(
        "PUT",
        "/_inference/text_embedding/team-new",
        {"service": "no-such"},
        PUT,
        "manage",
        "team-new",
        status(400),
    ),
    Route(
        "PUT",
        "/_inference/team-emb/_update",
        {"task_settings": {"x": 1}},
        UPDATE,
        "manage",
        "team-emb",
        status(400),
    ),
    Route("DELETE", "/_inference/team-gone", None, DELETE, "manage", "team-gone", status(404)),
    Route(
        "POST", "/_inference/text_embedding/team-emb", {"input": "hi"}, POST, "infer", "team-emb", status(200)
    ),
    Route(
        "POST", "/_inference/chat_completion/team-chat/_stream", CHAT, POST, "infer", "team-chat", streamed
    ),
    Route("PUT", "/_security/api_key", {"name": "matrix"}, KEYS + "create", "manage", None, created_key),
    Route("POST", "/_security/api_key", {"name": "matrix"}, KEYS + "create", "manage", None, created_key),
    Route("GET", "/_security/api_key", None, KEYS + "get", "manage", None, keys_listed),
    Route(
        "DELETE",
        "/_security/api_key",
        {"ids": ["no-such-id"]},
        KEYS + "invalidate",
        "manage",
        None,
        status(200, error_count=1),
    ),
    Route("GET", "/_security/_authenticate", None, AUTHENTICATE, "infer", None, who),
    Route("GET", "/metrics", None, "cluster:monitor/inference/metrics", "monitor", None, metrics_text),
    Route("GET", "/_inference/_services", None, SERVICES, "monitor", None, status(200)),
    Route("GET", "/_inference/_services/rerank", None, SERVICES, "monitor", None, status(200)),
    Route(
        "GET",
        "/v1/models",
        None,
        GET,
        "monitor",
        None,
        listing(lambda b: {m["id"] for m in b["data"]}),
        "list models",
    ),
    Route(
        "GET",
        "/v1/models/team-emb",
        None,
        GET,
        "monitor",
        "team-emb",
        status(200, id="team-emb"),
        "read models",
    ),
    Route(
        "POST",
        "/v1/embeddings",
        EMB,
        POST,
        "infer",
        "team-emb",
        status(200, object="list"),
        "perform inference",
    ),
    Route(
        "POST",
        "/v1/chat/completions",
        {"model": "team-chat", **CHAT},
        POST,
        "infer",
        "team-chat",
        status(200, object="chat.completion"),
        "perform inference",
    ),
    Route(
        "POST",
        "/v1/completions",
        {"model": "team-complete", "prompt": "hi"},
        POST,
        "infer",
        "team-complete",
        status(200, object="text_completion"),
        "perform inference",
    ),
    Route(
        "POST",
        "/v1/rerank",
        {"model": "team-emb", "query": "q", "documents": ["d"]},
        POST,
        "infer",
        "team-emb",
        status(404),
        "perform inference",
    ),
]
RANK = {"infer": 0, "monitor": 1, "manage": 2, "restricted": 2}
GRANTED = {"infer": "infer,monitor,manage", "monitor": "monitor,manage", "manage": "manage"}


# -- the refusals, exactly ------------------------------------------------------------------


def es_401(reason: str, detail: str | None = None) -> dict[str, Any]:
    cause: dict[str, Any] = {
        "type": "security_exception",
        "reason": reason,
        "header": {"WWW-Authenticate": ["ApiKey"]},
    }
    if detail is not None:
        cause["additional_unsuccessful_credentials"] = f"API key: {detail}"
    return {"error": {"root_cause": [cause], **cause}, "status": 401}


def es_403(reason: str) -> dict[str, Any]:
    cause = {"type": "security_exception", "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": 403}


def openai_error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


DETAILS = {"bad": None, "expired": "api key is expired", "invalidated": "api key has been invalidated"}


def expected_refusal(route: Route, case: str, caller: Caller) -> tuple[int, dict[str, Any]] | None:
    """The refusal ``case`` gets on ``route``, or None when the route serves it."""
    if route.action is None:
        return None
    if case == "none":
        if route.openai:
            message = "No API key provided: send it as the header `Authorization: Bearer <encoded key>`"
            return 401, openai_error(message, "invalid_api_key")
        return 401, es_401(f"missing authentication credentials for REST request [{route.path}]")
    if case in DETAILS:
        detail = DETAILS[case]
        if route.openai:
            message = f"Incorrect API key provided: {detail}" if detail else "Incorrect API key provided"
            return 401, openai_error(message, "invalid_api_key")
        return 401, es_401("unable to authenticate with provided credentials", detail)
    if RANK[case] < RANK[route.needs]:
        if route.openai:
            return 403, openai_error(
                f"The API key [{caller.key_id}] may not {route.summary}", "insufficient_permissions"
            )
        reason = (
            f"action [{route.action}] is unauthorized for API key id [{caller.key_id}], "
            f"this action is granted by the roles [{GRANTED[route.needs]}]"
        )
        return 403, es_403(reason)
    if case == "restricted" and route.endpoint is not None:
        if route.openai:
            message = f"The API key [{caller.key_id}] may not use the endpoint [{route.endpoint}]"
            return 403, openai_error(message, "insufficient_permissions")
        reason = (
            f"action [{route.action}] is unauthorized for API key id [{caller.key_id}] on inference endpoint "
            f"[{route.endpoint}], which is not among the key's endpoints"
        )
        return 403, es_403(reason)
    return None


def send(world: World, route: Route, caller: Caller) -> httpx.Response:
    headers = {}
    if caller.header is not None:
        headers["authorization"] = (
            caller.header.replace("ApiKey ", "Bearer ") if route.openai else caller.header
        )
    return httpx.request(
        route.method, world.service.url + route.path, json=route.body, headers=headers, timeout=30
    )


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_route_by_caller(world: World, route: Route, case: str) -> None:
    caller = world.callers[case]
    response = send(world, route, caller)
    refusal = expected_refusal(route, case, caller)
    if refusal is None:
        route.ok(response, case, caller)
        return
    assert (response.status_code, response.json()) == refusal
    if refusal[0] == 401:
        assert response.headers["www-authenticate"] == ("Bearer" if route.openai else "ApiKey")
    if not route.openai:
        assert response.headers["x-elastic-product"] == "Elasticsearch"


def test_the_matrix_covers_every_route_and_agrees_with_its_action() -> None:
    """Every method of every route the two faces serve (HEAD answers as GET) is in ``ROUTES``,
    with the action and the role the route table declares: a route added later without a row
    here fails this test, and so does a row whose expectation differs from the table."""
    declared: dict[tuple[str, str], Action | None] = {}
    table: list[Resource] = []
    for face in FACES:
        for route in face.routes:
            assert isinstance(route, Resource), route
            table.append(route)
            for method, action in route.actions.items():
                if method != "HEAD":
                    declared[method, route.path] = action
    covered: dict[tuple[str, str], Route] = {}
    for row in ROUTES:
        if row.path.startswith("/_ui/"):
            continue  # the admin page's static files: public, outside the faces
        scope = {"type": "http", "method": row.method, "path": row.path}
        [template] = [r.path for r in table if r.matches(scope)[0] == Match.FULL][:1]
        covered[row.method, template] = row
        action = declared[row.method, template]
        assert (row.action, row.needs) == ((action.name, str(action.needs)) if action else (None, "")), row
    assert sorted(declared.keys() - covered.keys()) == []


def test_both_schemes_on_both_faces(world: World) -> None:
    encoded = str(world.callers["monitor"].header).removeprefix("ApiKey ")
    for scheme in ("ApiKey", "Bearer", "apikey", "bearer"):
        headers = {"authorization": f"{scheme} {encoded}"}
        assert httpx.get(world.service.url + "/_inference", headers=headers).status_code == 200
        assert httpx.get(world.service.url + "/v1/models", headers=headers).status_code == 200


def test_a_right_id_with_a_wrong_secret_is_an_unknown_key(world: World) -> None:
    monitor = world.callers["monitor"]
    forged = base64.b64encode(f"{monitor.key_id}:not-the-secret".encode()).decode()
    for header in (f"ApiKey {forged}", "ApiKey not-base64!", "Basic dXNlcjpwYXNz", "ApiKey " + "A" * 600):
        answer = httpx.get(world.service.url + "/_inference", headers={"authorization": header})
        assert (answer.status_code, answer.json()) == (
            401,
            es_401("unable to authenticate with provided credentials"),
        )


def test_a_restricted_key_uses_its_own_endpoints(world: World) -> None:
    headers = {"authorization": str(world.callers["restricted"].header)}
    url = world.service.url
    assert (
        httpx.post(
            f"{url}/_inference/text_embedding/other-emb", json={"input": "x"}, headers=headers
        ).status_code
        == 200
    )
    v1 = {"authorization": headers["authorization"].replace("ApiKey", "Bearer")}
    assert (
        httpx.post(f"{url}/v1/embeddings", json={"model": "other-emb", "input": "x"}, headers=v1).status_code
        == 200
    )
    assert httpx.get(f"{url}/v1/models/other-emb", headers=v1).status_code == 200


def test_keys_made_by_a_restricted_key_are_restricted_too(world: World) -> None:
    url = world.service.url
    headers = {"authorization": str(world.callers["restricted"].header)}
    inherited = httpx.put(f"{url}/_security/api_key", json={"name": "child"}, headers=headers).json()
    child = {"authorization": "ApiKey " + inherited["encoded"]}
    assert httpx.get(f"{url}/_inference/team-emb", headers=child).status_code == 403
    assert httpx.get(f"{url}/_inference/other-emb", headers=child).status_code == 200
    wider = {"name": "wider", "role_descriptors": {"r": {"cluster": ["manage_inference"]}}}
    refused = httpx.put(f"{url}/_security/api_key", json=wider, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["reason"].endswith(
        "cannot have more than its creator's role [manage] on endpoints [other-*]"
    )


def test_a_restricted_key_reaches_only_the_keys_it_could_have_made(world: World) -> None:
    """The ``other-*`` manage key lists and invalidates keys within its own endpoints only: the
    unrestricted admin and the keys on every endpoint are not found (listed or by id or name)."""
    url = world.service.url
    headers = {"authorization": str(world.callers["restricted"].header)}
    app = {"application": "inference-service"}
    narrower = {"r": {"applications": [{**app, "privileges": ["infer"], "resources": ["other-emb"]}]}}
    made = httpx.put(
        f"{url}/_security/api_key",
        json={"name": "reach-child", "role_descriptors": narrower},
        headers=headers,
    ).json()
    listed = httpx.get(f"{url}/_security/api_key", headers=headers).json()["api_keys"]
    shown = {k["id"] for k in listed}
    assert {world.callers["restricted"].key_id, made["id"]} <= shown
    for name in ("manage", "monitor", "infer", "invalidated"):
        assert world.callers[name].key_id not in shown
    assert all(k["endpoints"] is not None for k in listed)
    admin = str(world.callers["manage"].key_id)
    by_id = httpx.get(f"{url}/_security/api_key", params={"id": admin}, headers=headers).json()
    assert by_id == {"api_keys": []}
    refused = httpx.request("DELETE", f"{url}/_security/api_key", json={"ids": [admin]}, headers=headers)
    assert refused.json() == {
        "invalidated_api_keys": [],
        "previously_invalidated_api_keys": [],
        "error_count": 1,
        "error_details": [{"type": "resource_not_found_exception", "reason": f"api key [{admin}] not found"}],
    }
    by_name = httpx.request(
        "DELETE", f"{url}/_security/api_key", json={"name": "first-admin"}, headers=headers
    )
    assert by_name.json() == {
        "invalidated_api_keys": [],
        "previously_invalidated_api_keys": [],
        "error_count": 0,
    }
    manage = {"authorization": str(world.callers["manage"].header)}
    assert httpx.get(f"{url}/_inference", headers=manage).status_code == 200  # the admin still works
    gone = httpx.request("DELETE", f"{url}/_security/api_key", json={"ids": [made["id"]]}, headers=headers)
    assert gone.json()["invalidated_api_keys"] == [made["id"]]
    everything = httpx.get(f"{url}/_security/api_key", headers=manage).json()["api_keys"]
    assert {admin, made["id"]} <= {k["id"] for k in everything}  # an unrestricted key sees every key


def test_a_restricted_key_reads_the_metrics_of_its_own_endpoints_only(world: World) -> None:
    url = world.service.url
    manage = {"authorization": str(world.callers["manage"].header)}
    for inference_id in ("team-emb", "other-emb"):
        answer = httpx.post(
            f"{url}/_inference/text_embedding/{inference_id}", json={"input": "x"}, headers=manage
        )
        assert answer.status_code == 200, answer.text
    assert httpx.get(f"{url}/_inference/no-such-endpoint", headers=manage).status_code == 404
    everything = httpx.get(f"{url}/metrics", headers=manage).text
    for series in ('endpoint="team-emb"', 'endpoint="other-emb"', 'endpoint=""'):
        assert series in everything
    restricted = {"authorization": str(world.callers["restricted"].header)}
    own = httpx.get(f"{url}/metrics", headers=restricted)
    assert own.status_code == 200
    assert 'inference_service_requests_total{endpoint="other-emb"' in own.text
    assert 'endpoint="team-emb"' not in own.text and 'endpoint=""' not in own.text
    assert "inference_service_requests_in_flight" in own.text  # series that name no endpoint stay


CONTROL = "the key name must not contain control characters"


def test_role_descriptors_that_cannot_be_honoured_are_refused(world: World) -> None:
    url = world.service.url
    headers = {"authorization": str(world.callers["manage"].header)}
    app = {"application": "inference-service"}
    bodies = {
        "unknown cluster privilege [read_security]": {"r": {"cluster": ["read_security"]}},
        "unknown application [kibana]": {
            "r": {"applications": [{"application": "kibana", "privileges": ["all"]}]}
        },
        "unknown privilege [admin]": {"r": {"applications": [{**app, "privileges": ["admin"]}]}},
        "is not covered by the [monitor] grant": {
            "a": {"applications": [{**app, "privileges": ["monitor"], "resources": ["a*"]}]},
            "b": {"applications": [{**app, "privileges": ["infer"], "resources": ["b*"]}]},
        },
        "unknown field `indices`": {"r": {"indices": [{"names": ["x"], "privileges": ["read"]}]}},
        "invalid endpoint pattern [a*b]": {
            "r": {"applications": [{**app, "privileges": ["infer"], "resources": ["a*b"]}]}
        },
    }
    for message, descriptors in bodies.items():
        answer = httpx.put(
            f"{url}/_security/api_key", json={"name": "x", "role_descriptors": descriptors}, headers=headers
        )
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"]["reason"]
    refusals: tuple[tuple[dict[str, str], str], ...] = (  # a line break in a name forges log lines
        ({}, "name"),
        ({"name": "x", "expiration": "30"}, "expiration"),
        ({"name": "x\n[2026-12-02 04:00:00 +0000] [1] [WARNING] forged"}, CONTROL),
        ({"name": "tab\there"}, CONTROL),
    )
    for body, message in refusals:
        answer = httpx.put(f"{url}/_security/api_key", json=body, headers=headers)
        assert answer.status_code == 400 and message in answer.text


def test_invalidating_by_name_and_again(world: World) -> None:
    url = world.service.url
    headers = {"authorization": str(world.callers["manage"].header)}
    made = [
        httpx.put(f"{url}/_security/api_key", json={"name": "batch-job"}, headers=headers).json()["id"]
        for _ in range(2)
    ]
    first = httpx.request(
        "DELETE", f"{url}/_security/api_key", json={"name": "batch-job"}, headers=headers
    ).json()
    assert sorted(first["invalidated_api_keys"]) == sorted(made)
    again = httpx.request("DELETE", f"{url}/_security/api_key", json={"ids": made}, headers=headers).json()
    assert again == {"invalidated_api_keys": [], "previously_invalidated_api_keys": made, "error_count": 0}
    listed = httpx.get(
        f"{url}/_security/api_key", params={"name": "batch-*", "active_only": "true"}, headers=headers
    )
    assert listed.json() == {"api_keys": []}
    neither = httpx.request("DELETE", f"{url}/_security/api_key", json={}, headers=headers)
    assert neither.status_code == 400
    assert (
        neither.json()["error"]["reason"] == "Validation Failed: 1: one of [ids] or [name] must be specified;"
    )


def test_no_key_appears_in_the_log(world: World) -> None:
    """Every refusal and key change is logged (whatever else this process ran is in the log
    too: with xdist the matrix may have run here or not), and no secret, encoded credential
    or provider key is in any line, at debug level, the database driver's lines included."""
    for case in ("bad", "expired", "invalidated", "infer"):
        for route in ROUTES:
            send(world, route, world.callers[case])
    text_log = "\n".join(world.log)
    assert "authentication failed" in text_log
    assert f"API key [{world.callers['manage'].key_id}]" in text_log
    for caller in world.callers.values():
        if caller.secret is not None:
            assert caller.secret not in text_log
            assert str(caller.header).removeprefix("ApiKey ") not in text_log
    assert "sk-upstream-secret" not in text_log


def test_the_database_holds_hashes_only(world: World, settings: Settings) -> None:
    url = settings.resolved_database_url
    keyed = [c for c in world.callers.values() if c.secret is not None]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p))
    else:
        raw = asyncio.run(_postgres_rows(url))
    assert raw
    for caller in keyed:
        assert str(caller.secret).encode() not in raw
        assert str(caller.header).removeprefix("ApiKey ").encode() not in raw
    stored = hashlib.sha256(
        b"inference-service api key v1\x00" + f"{keyed[0].key_id}:{keyed[0].secret}".encode()
    )
    expected = stored.digest() if url.startswith("sqlite") else stored.hexdigest().encode()
    assert expected in raw


async def _postgres_rows(url: str) -> bytes:
    """Every key row as PostgreSQL renders it (``bytea`` as hex), one JSON text per row."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT row_to_json(k)::text FROM api_keys k"))
            return "\n".join(row[0] for row in rows).encode()
    finally:
        await engine.dispose()
