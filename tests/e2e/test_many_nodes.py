"""Two nodes: two separate ``inference-service serve`` processes (their own ports and data
directories) on one PostgreSQL database and the local Redis, as a deployment of stateless
replicas runs them.

``catalog_refresh_interval`` is an hour, so whatever one node serves of a change made through
the other within the test came by ``LISTEN/NOTIFY``, not by the poll; the waits below are
bounds for a failure (the poll would take an hour), never a measured time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.databases import throwaway_postgres
from tests.support.processes import Node, node_config, running
from tests.support.waiting import eventually

pytestmark = pytest.mark.postgres

REDIS_URL = "redis://127.0.0.1:6379/0"
CHAT = {"messages": [{"role": "user", "content": "hi"}]}
HOUR = 3600
AT_ONCE_S = 15.0
"""The longest a test waits for a notified change (the poll would take an hour)."""


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider(default=Reply.sse(fake_openai.stream(["ok"]))) as fake:
        yield fake


def _delete_keys(prefix: str) -> None:
    async def main() -> None:
        client = Redis.from_url(REDIS_URL)
        try:
            keys = [name async for name in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    asyncio.run(main())


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    prefix = f"test-{uuid.uuid4().hex}:"
    shared: dict[str, str | int] = {
        "redis_url": REDIS_URL,
        "redis_key_prefix": prefix,
        "catalog_refresh_interval": HOUR,
    }
    root: Path = tmp_path_factory.mktemp("nodes")
    with throwaway_postgres() as database_url:
        first = node_config(root / "a", database_url, **shared)
        second = node_config(root / "b", database_url, **shared)
        try:
            with running(first, migrate=True) as a, running(second) as b:
                yield a, b
        finally:
            _delete_keys(prefix)


def endpoint(upstream: FakeProvider, model: str, **settings: object) -> dict[str, object]:
    service_settings = {"api_key": "k", "model_id": model, "url": upstream.url + "/v1/chat/completions"}
    return {"service": "openai", "service_settings": {**service_settings, **settings}}


def model_served(node: Node, upstream: FakeProvider, inference_id: str) -> str | int:
    """The model the node's stream asked the provider for, or the status when it failed."""
    before = len(upstream.requests)
    with node.client() as client:
        response = client.post(f"/_inference/chat_completion/{inference_id}/_stream", json=CHAT)
    if response.status_code != 200:
        return response.status_code
    [request] = upstream.requests[before:]
    return str(request.json["model"])


def test_a_change_through_one_node_is_served_by_the_other_at_once(
    nodes: tuple[Node, Node], upstream: FakeProvider
) -> None:
    a, b = nodes
    put = httpx.put(f"{a.url}/_inference/chat_completion/shared", json=endpoint(upstream, "model-a"))
    assert put.status_code == 200, put.text
    assert model_served(b, upstream, "shared") == "model-a"  # now in b's catalog
    update = {"service_settings": {"model_id": "model-b"}}
    assert httpx.put(f"{a.url}/_inference/shared/_update", json=update).status_code == 200
    assert eventually(lambda: model_served(b, upstream, "shared") == "model-b", AT_ONCE_S)
    assert model_served(a, upstream, "shared") == "model-b"
    assert httpx.delete(f"{a.url}/_inference/shared").status_code == 200
    assert eventually(lambda: model_served(b, upstream, "shared") == 404, AT_ONCE_S)
    # and the other way round
    put = httpx.put(f"{b.url}/_inference/chat_completion/shared", json=endpoint(upstream, "model-c"))
    assert put.status_code == 200, put.text
    assert model_served(a, upstream, "shared") == "model-c"
    update = {"service_settings": {"model_id": "model-d"}}
    assert httpx.put(f"{b.url}/_inference/shared/_update", json=update).status_code == 200
    assert eventually(lambda: model_served(a, upstream, "shared") == "model-d", AT_ONCE_S)


def test_a_rate_limit_holds_across_both_nodes(nodes: tuple[Node, Node], upstream: FakeProvider) -> None:
    """One request a minute for the deployment: of six sent in turn to both nodes within
    seconds, one reaches the provider and the others give up waiting (408). With a bucket per
    node, each node would let its first one through."""
    a, b = nodes
    body = endpoint(upstream, "limited", rate_limit={"requests_per_minute": 1})
    assert httpx.put(f"{a.url}/_inference/chat_completion/limited", json=body).status_code == 200
    before = len(upstream.requests)
    statuses = []
    for node in (a, b, a, b, b, a):
        with node.client() as client:
            response = client.post("/_inference/chat_completion/limited/_stream?timeout=1s", json=CHAT)
        statuses.append(response.status_code)
    assert sorted(statuses) == [200, 408, 408, 408, 408, 408], statuses
    assert len(upstream.requests) - before == 1


def test_an_invalidated_key_stops_working_on_both_nodes(nodes: tuple[Node, Node]) -> None:
    """Last in this module: the first key turns authentication on for both nodes."""
    a, b = nodes
    made = httpx.put(f"{a.url}/_security/api_key", json={"name": "admin"})
    assert made.status_code == 200, made.text
    admin = {"authorization": "ApiKey " + made.json()["encoded"]}
    assert eventually(lambda: httpx.get(f"{b.url}/_inference").status_code == 401, AT_ONCE_S)
    victim = httpx.put(f"{a.url}/_security/api_key", json={"name": "victim"}, headers=admin).json()
    victim_header = {"authorization": "ApiKey " + victim["encoded"]}

    def status(node: Node, headers: dict[str, str]) -> int:
        return httpx.get(f"{node.url}/_inference", headers=headers).status_code

    # verified (and cached) by both
    assert eventually(lambda: status(a, victim_header) == 200 and status(b, victim_header) == 200, AT_ONCE_S)
    gone = httpx.request("DELETE", f"{a.url}/_security/api_key", json={"ids": [victim["id"]]}, headers=admin)
    assert gone.json()["invalidated_api_keys"] == [victim["id"]]
    assert status(a, victim_header) == 401
    assert eventually(lambda: status(b, victim_header) == 401, AT_ONCE_S)
    assert status(b, admin) == 200
