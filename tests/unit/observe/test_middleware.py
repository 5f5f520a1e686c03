"""The observing middleware (inference_service.observe.middleware) around a bare ASGI app."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from inference_service.inference.record import RequestRecord, current_record
from inference_service.observe.middleware import ObserveMiddleware


def run(app: Any, headers: list[tuple[bytes, bytes]]) -> tuple[list[Message], list[RequestRecord]]:
    finished: list[RequestRecord] = []

    class Hooks:
        def started(self, record: RequestRecord) -> None:
            assert record.request_id

        def finished(self, record: RequestRecord) -> None:
            finished.append(record)

    sent: list[Message] = []
    middleware = ObserveMiddleware(
        app, observer=Hooks(), face_of=lambda path: "openai" if path.startswith("/v1") else "elasticsearch"
    )
    scope = {"type": "http", "path": "/v1/x", "headers": headers}

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await middleware(scope, receive, send)

    asyncio.run(main())
    return sent, finished


async def streaming_app(scope: Scope, receive: Receive, send: Send) -> None:
    current_record().streaming = True
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    await send({"type": "http.response.body", "body": b"", "more_body": True})
    await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


def test_ids_status_and_first_byte() -> None:
    sent, (record,) = run(
        streaming_app, [(b"x-request-id", b"abc"), (b"x-opaque-id", b"op"), (b"cache-control", b"no-store")]
    )
    headers = dict(sent[0]["headers"])
    assert headers[b"x-request-id"] == b"abc" and headers[b"x-opaque-id"] == b"op"
    assert (record.status, record.face, record.streaming, record.opaque_id) == (200, "openai", True, "op")
    assert record.cache_control.write is False
    assert record.first_byte_at is not None and record.started < record.first_byte_at <= record.finished_at


def test_an_unusable_request_id_is_replaced_and_an_opaque_id_dropped() -> None:
    sent, (record,) = run(streaming_app, [(b"x-request-id", b"\xff\xfe"), (b"x-opaque-id", b"a b\x01")])
    assert len(record.request_id) == 32 and record.opaque_id is None
    assert b"x-opaque-id" not in dict(sent[0]["headers"])


def test_an_exception_is_a_500_reported_once() -> None:
    finished: list[RequestRecord] = []

    class Hooks:
        def started(self, record: RequestRecord) -> None:
            pass

        def finished(self, record: RequestRecord) -> None:
            finished.append(record)

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    middleware = ObserveMiddleware(broken, observer=Hooks(), face_of=lambda path: "elasticsearch")

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    with pytest.raises(RuntimeError):
        asyncio.run(middleware({"type": "http", "path": "/", "headers": []}, receive, send))
    assert [(r.status, r.error_type) for r in finished] == [(500, "InternalError")]
