"""``kill -9`` of a ``serve`` process during 100 concurrent PUT / ``_update`` / DELETE, on SQLite
and PostgreSQL: after a restart the store is consistent.

Each of 100 clients works on an endpoint of its own, one request at a time: create it, update
its model and API key, delete it, create it again... So for each endpoint the test knows the
state its last acknowledged write left, and the state the write in flight at the kill would
leave (it may or may not have committed). After the restart every row must load and decrypt,
and every endpoint must be in one of those two states: nothing acknowledged is lost, nothing
is half-written (a model from one write with the key of another).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inference_service.store.endpoints import EndpointRepository
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.secret_box import load_secret_box
from tests.conftest import BACKENDS, TEST_KEY
from tests.support.databases import throwaway_postgres
from tests.support.processes import Node, node_config

CLIENTS = 100
KILL_AFTER_ACKS = 300
"""Acknowledged writes before the kill: every client is mid-way through its sequence by then."""

State = tuple[str, str] | None
"""An endpoint's (model_id, api_key), or None when it does not exist."""


@dataclass
class Lineage:
    """One client's endpoint: what was acknowledged, and what the request in flight would do."""

    inference_id: str
    acked: State = None
    pending: State = None
    in_flight: bool = False
    steps: int = 0


def next_write(lineage: Lineage) -> tuple[str, str, dict[str, object] | None, State]:
    """The next request of the lineage and the state it leaves."""
    n, i = lineage.steps, lineage.inference_id
    model, key = f"model-{i}-{n}", f"sk-{i}-{n}"
    if lineage.acked is None:
        body: dict[str, object] = {
            "service": "openai",
            "service_settings": {"model_id": model, "api_key": key},
        }
        return "PUT", f"/_inference/chat_completion/{i}", body, (model, key)
    if n % 4 == 3:
        return "DELETE", f"/_inference/{i}", None, None
    return (
        "PUT",
        f"/_inference/{i}/_update",
        {"service_settings": {"model_id": model, "api_key": key}},
        (model, key),
    )


async def write_until_killed(node: Node, lineages: list[Lineage]) -> int:
    """Run every lineage until the service dies; kill it after :data:`KILL_AFTER_ACKS` acks."""
    acks = 0
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=node.url, timeout=60, limits=limits) as client:

        async def run(lineage: Lineage) -> None:
            nonlocal acks
            while not killed.is_set():
                method, path, body, after = next_write(lineage)
                lineage.pending, lineage.in_flight = after, True
                try:
                    response = await client.request(method, path, json=body)
                except httpx.TransportError:
                    return  # the service is gone: this write may or may not have committed
                assert response.status_code == 200, (method, path, response.text)
                lineage.acked, lineage.in_flight = after, False
                lineage.steps += 1
                acks += 1
                if acks == KILL_AFTER_ACKS:
                    node.kill()
                    killed.set()

        await asyncio.gather(*(run(lineage) for lineage in lineages))
    return acks


def stored_rows(database_url: str) -> dict[str, State]:
    """Every row, loaded and decrypted with the service's key, as the service would."""

    async def main() -> dict[str, State]:
        engine = create_engine(database_url)
        box = load_secret_box(TEST_KEY, Path("/nonexistent"), create=False)
        try:
            async with create_sessionmaker(engine)() as session:
                endpoints = await EndpointRepository(session, box).list_all(with_secrets=True)
        finally:
            await engine.dispose()
        return {e.inference_id: (e.service_settings["model_id"], e.secrets["api_key"]) for e in endpoints}

    return asyncio.run(main())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_service_leaves_a_consistent_store(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        check(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}")
    else:
        with throwaway_postgres() as database_url:
            check(tmp_path, database_url)


def check(tmp_path: Path, database_url: str) -> None:
    config = node_config(tmp_path / "node", database_url)
    lineages = [Lineage(f"crash-{n}") for n in range(CLIENTS)]
    node = Node(config, migrate=True)
    try:
        acks = asyncio.run(write_until_killed(node, lineages))
    finally:
        node.stop()
    assert acks >= KILL_AFTER_ACKS
    assert node.process.returncode == -9
    in_flight = [lineage for lineage in lineages if lineage.in_flight]
    assert in_flight, "the kill came while writes were in flight"

    stored = stored_rows(database_url)  # every row decrypts, or this raises
    for lineage in lineages:
        allowed = {lineage.acked, lineage.pending} if lineage.in_flight else {lineage.acked}
        assert stored.get(lineage.inference_id) in allowed, (lineage, stored.get(lineage.inference_id))
    assert set(stored) <= {lineage.inference_id for lineage in lineages}

    restarted = Node(config)
    try:
        with restarted.client() as client:
            listed = client.get("/_inference/_all")
            assert listed.status_code == 200, listed.text
            served = {
                e["inference_id"]: e["service_settings"]["model_id"]
                for e in listed.json()["endpoints"]
                if e["inference_id"].startswith("crash-")
            }
            assert served == {i: state[0] for i, state in stored.items() if state is not None}
            # the store takes writes again, on an endpoint whose write was cut short too
            cut = in_flight[0]
            method, path, body, after = next_write(
                Lineage(cut.inference_id, acked=stored.get(cut.inference_id))
            )
            assert client.request(method, path, json=body).status_code == 200
        assert stored_rows(database_url).get(cut.inference_id) == after
    finally:
        restarted.stop()
