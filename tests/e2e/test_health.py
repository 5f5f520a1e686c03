"""``/_health/live`` and ``/_health/ready`` with auth on and off, and the service with its
PostgreSQL database unreachable: the test's own database only, behind a TCP proxy the test
stops and restarts (the shared server is never touched)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from inference_service.store.migrate import upgrade
from tests.conftest import make_settings
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support.databases import throwaway_postgres
from tests.support.service import RunningService, migrated_service, run_service
from tests.support.waiting import eventually

CHAT = {"messages": [{"role": "user", "content": "Hi"}]}
UNREACHABLE = "The database is unreachable; management calls are refused until it is back"


@pytest.mark.parametrize("auth", ["required", "off"])
def test_health_endpoints_are_public_whatever_the_auth(tmp_path: Path, auth: str) -> None:
    with migrated_service(tmp_path, auth=auth) as service, service.client() as client:
        assert client.get("/_inference").status_code == (401 if auth == "required" else 200)
        live = client.get("/_health/live")
        assert live.status_code == 200 and live.json() == {"status": "live"}
        ready = client.get("/_health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "checks": {"database": "ok", "catalog": "ok", "local_models": "ok", "draining": "ok"},
        }
        assert client.get("/_health/ready?verbose=1").status_code == 400  # unknown parameter


class TcpProxy:
    """A TCP proxy on 127.0.0.1 (its own thread and loop) in front of ``target``; :meth:`stop`
    closes the listener and cuts every connection, :meth:`start` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def _call(self, make: Callable[[], object]) -> None:
        async def run() -> None:
            result = make()
            if asyncio.iscoroutine(result):
                await result

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def start(self) -> None:
        self._call(self._start)

    def stop(self) -> None:
        self._call(self._stop)

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))
        self._writers -= {writer, upstream_writer}


@pytest.fixture
def proxied_postgres() -> Iterator[tuple[str, TcpProxy]]:
    """A throw-away PostgreSQL database, reached through a :class:`TcpProxy`."""
    with throwaway_postgres() as url:
        parsed = make_url(url)
        proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
        proxy.start()
        try:
            yield parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
        finally:
            proxy.close()


def happens(check: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    assert eventually(check, limit, every=0.1), f"never happened: {what}"


def put_endpoint(client: httpx.Client, inference_id: str, upstream: FakeProvider) -> httpx.Response:
    settings = {"api_key": "sk-db", "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
    body = {"service": "openai", "service_settings": settings}
    return client.put(f"/_inference/chat_completion/{inference_id}", json=body)


def infer(client: httpx.Client, upstream: FakeProvider, inference_id: str) -> httpx.Response:
    upstream.enqueue(fake_openai.stream_reply(["still ", "here"]))
    response = client.post(f"/_inference/chat_completion/{inference_id}/_stream", json=CHAT)
    assert "[DONE]" in response.text, response.text
    return response


def test_the_database_down_keeps_inference_refuses_management_and_recovers(
    tmp_path: Path,
    upstream: FakeProvider,
    proxied_postgres: tuple[str, TcpProxy],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, proxy = proxied_postgres
    settings = make_settings(tmp_path, url, catalog_refresh_interval=0.2)
    upgrade(settings)
    caplog.set_level(logging.ERROR, logger="inference_service.refresh")
    with run_service(settings) as service, service.client() as client:
        assert put_endpoint(client, "kept", upstream).status_code == 200
        assert infer(client, upstream, "kept").status_code == 200

        proxy.stop()
        served = infer(client, upstream, "kept")  # the catalog is in memory
        assert served.status_code == 200, served.text
        for refused in (client.get("/_inference/_all"), put_endpoint(client, "new", upstream)):
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["reason"] == UNREACHABLE
        ready = client.get("/_health/ready")
        assert ready.status_code == 503
        assert ready.json()["failing"] == ["database"], ready.text
        assert ready.json()["checks"]["database"].startswith("unreachable")
        happens(lambda: _poll_failures(caplog) >= 1, "the revision poll logs its failure")

        proxy.start()
        happens(lambda: client.get("/_inference/_all").status_code == 200, "management recovers")
        assert put_endpoint(client, "new", upstream).status_code == 200
        assert infer(client, upstream, "new").status_code == 200
        assert client.get("/_health/ready").status_code == 200
        _revision_poll_recovers(service, client, upstream)


def _poll_failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for record in caplog.records if record.name == "inference_service.refresh")


def _revision_poll_recovers(service: RunningService, client: httpx.Client, upstream: FakeProvider) -> None:
    """A change made behind the service's back (another node) is picked up by the poll again."""
    from inference_service.endpoints.catalog import EndpointCatalog

    catalog: EndpointCatalog = service.app.state.services.catalog
    before = service.inspect(lambda: catalog.revision)

    async def bump() -> None:
        from sqlalchemy import text

        async with service.app.state.services.engine.begin() as connection:
            await connection.execute(text("UPDATE catalog_revision SET revision = revision + 1"))

    asyncio.run_coroutine_threadsafe(bump(), service.loop).result(timeout=10)
    happens(lambda: service.inspect(lambda: catalog.revision) != before, "the poll reloads the catalog")
