"""A stream still open when ``shutdown_grace`` ends (Lifecycle.stop_streams): one error frame,
never a silent cut; and the middleware that counts requests and closes connections while draining."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from inference_service.api.streaming import STREAM_INCOMPLETE, EventStreamResponse
from inference_service.lifecycle import LIFECYCLE, DrainMiddleware, Lifecycle
from tests.unit.api.test_streaming import LONG, Client, Probe, body, error_body, render, start_message

A = b'{"a":1}'
REASON = "The service is shutting down; the stream was ended. Retry the request"


def make_response(probe: Probe, **produce: Any) -> EventStreamResponse:
    chunks = probe.produce([[A]], **produce)
    return EventStreamResponse(chunks, render_error=render, deadline=LONG, idle_s=60)


async def open_stream(probe: Probe, client: Client, lifecycle: Lifecycle, **produce: Any) -> Scope:
    """Run a stream until it waits on its producer, stop the streams, return its scope."""
    scope: dict[str, Any] = {"type": "http", "method": "POST", LIFECYCLE: lifecycle}
    response = EventStreamResponse(
        probe.produce([[A]], **produce), render_error=render, deadline=LONG, idle_s=60
    )
    task = asyncio.create_task(response(scope, client.receive, client.send))
    while not lifecycle.stop_streams():  # registered once it runs
        await asyncio.sleep(0)
    await task
    return scope


def test_a_started_stream_ends_with_the_shutting_down_frame() -> None:
    async def scenario() -> tuple[Client, Probe, Scope]:
        probe = Probe()
        started = asyncio.Event()

        async def on_send(_client: Client, message: Message) -> None:
            started.set()

        client = Client(on_send=on_send)
        lifecycle = Lifecycle(grace=0)
        scope: dict[str, Any] = {"type": "http", "method": "POST", LIFECYCLE: lifecycle}
        response = EventStreamResponse(
            probe.produce([[A]], then=600.0), render_error=render, deadline=LONG, idle_s=60
        )
        task = asyncio.create_task(response(scope, client.receive, client.send))
        await started.wait()
        assert lifecycle.stop_streams() == 1
        await task
        assert lifecycle.stop_streams() == 0  # it left the registry
        return client, probe, scope

    client, probe, scope = asyncio.run(scenario())
    assert client.sent[-1] == body(error_body("ShuttingDownError", 503, REASON, started=True), more=False)
    assert client.sent[0] == start_message(200)
    assert scope[STREAM_INCOMPLETE] is True
    assert probe.ended in {"cancelled", "closed"}


def test_a_stream_not_started_yet_is_a_503() -> None:
    async def scenario() -> tuple[Client, Scope]:
        client, probe = Client(), Probe()
        scope = await open_stream(probe, client, Lifecycle(grace=0), before=600.0)
        return client, scope

    client, scope = asyncio.run(scenario())
    assert client.status == 503
    assert client.finished
    assert b"ShuttingDownError" in b"".join(client.bodies)
    assert scope[STREAM_INCOMPLETE] is True


def test_the_middleware_counts_requests_and_closes_connections_while_draining() -> None:
    async def scenario() -> list[list[Any]]:
        lifecycle = Lifecycle(grace=1)
        release = asyncio.Event()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        headers: list[list[Any]] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers.append(message["headers"])

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        middleware = DrainMiddleware(app, lifecycle)
        first = asyncio.create_task(middleware({"type": "http", "http_version": "1.1"}, receive, send))
        second = asyncio.create_task(middleware({"type": "http", "http_version": "2"}, receive, send))
        await asyncio.sleep(0)
        assert lifecycle.in_flight == 2
        assert not await lifecycle.wait_idle(0.01)
        lifecycle.begin_drain()
        release.set()
        assert await lifecycle.wait_idle(5)
        await asyncio.gather(first, second)
        return headers

    first, second = asyncio.run(scenario())
    assert first == [(b"connection", b"close")]
    assert second == []  # HTTP/2 has no connection header
