"""The ``_stream`` response (inference_service.api.streaming), driven with hand-written ASGI
``receive``/``send`` callables as Starlette's own tests do: no server, tiny timeouts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable

import msgspec
import pytest
from starlette.types import Message

from inference_service.api.sse import BOM, DONE_FRAME, SSE_RAW_HEADERS, error_frame, message_frame
from inference_service.api.streaming import STREAM_INCOMPLETE, EventStreamError, EventStreamResponse
from inference_service.errors import (
    INTERNAL_ERROR_REASON,
    BadRequestError,
    InferenceServiceError,
    UpstreamError,
)
from inference_service.inference.deadline import Deadline

A, B, C = b'{"a":1}', b'{"b":2}', b'{"c":3}'
LONG = Deadline(5.0, "5s", given=False)
Producer = AsyncGenerator[list[bytes], None]


def render(exc: InferenceServiceError, started: bool) -> bytes:
    """A test renderer: everything the response hands it, as compact JSON."""
    return msgspec.json.encode(
        {"type": type(exc).__name__, "status": exc.status, "reason": exc.reason, "started": started}
    )


def error_body(exc_type: str, status: int, reason: str, *, started: bool) -> bytes:
    return error_frame(
        msgspec.json.encode({"type": exc_type, "status": status, "reason": reason, "started": started})
    )


class Client:
    """The ASGI side of one request: records what is sent; ``receive`` first returns the
    (empty) request body, then blocks until :attr:`gone` is set and reports a disconnect."""

    def __init__(self, *, on_send: Callable[[Client, Message], Awaitable[None]] | None = None) -> None:
        self.sent: list[Message] = []
        self.gone = asyncio.Event()
        self._requested = False
        self._on_send = on_send

    async def receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if self._on_send is not None:
            await self._on_send(self, message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) <= 1
        return starts[0]["status"] if starts else None

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.sent if m["type"] == "http.response.body"]

    @property
    def finished(self) -> bool:
        return (
            bool(self.sent)
            and self.sent[-1]["type"] == "http.response.body"
            and not self.sent[-1]["more_body"]
        )


async def respond(
    chunks: Producer,
    client: Client,
    *,
    deadline: Deadline = LONG,
    idle_s: float = 5.0,
    bom: bool = False,
) -> None:
    response = EventStreamResponse(chunks, render_error=render, deadline=deadline, idle_s=idle_s, bom=bom)
    await response({"type": "http", "method": "POST"}, client.receive, client.send)


class Probe:
    """Records how a producer ended: ``exhausted``, ``cancelled``, ``closed`` or ``raised``."""

    def __init__(self) -> None:
        self.ended: str | None = None

    async def produce(
        self,
        batches: list[list[bytes]],
        *,
        before: float = 0.0,
        gap: float = 0.0,
        then: BaseException | float | None = None,
    ) -> Producer:
        """Sleep ``before``, yield ``batches`` (sleeping ``gap`` between), then raise ``then``
        (an exception) or sleep ``then`` seconds (a stall)."""
        try:
            if before:
                await asyncio.sleep(before)
            for i, batch in enumerate(batches):
                if i and gap:
                    await asyncio.sleep(gap)
                yield batch
            if isinstance(then, BaseException):
                raise then
            if then is not None:
                await asyncio.sleep(then)
            self.ended = "exhausted"
        except asyncio.CancelledError:
            self.ended = "cancelled"
            raise
        except GeneratorExit:
            self.ended = "closed"
            raise
        finally:
            if self.ended is None:
                self.ended = "raised"


def start_message(status: int) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(SSE_RAW_HEADERS)}


def body(data: bytes, *, more: bool = True) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


# --- normal streams ------------------------------------------------------------------------


def test_a_normal_stream_is_message_frames_then_done() -> None:
    async def scenario() -> tuple[Client, Probe]:
        client, probe = Client(), Probe()
        await respond(probe.produce([[A], [B, C]]), client)
        return client, probe

    client, probe = asyncio.run(scenario())
    assert client.sent == [
        start_message(200),
        body(b"event: message\ndata: " + A + b"\n\n"),
        body(message_frame(B) + message_frame(C)),  # one read, one write
        body(b"event: message\ndata: [DONE]\n\n", more=False),
    ]
    assert probe.ended == "exhausted"


def test_headers_are_the_sse_headers() -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([[A]]), client)
        return client

    start = asyncio.run(scenario()).sent[0]
    assert dict(start["headers"]) == {
        b"content-type": b"text/event-stream",
        b"cache-control": b"no-cache",
        b"x-accel-buffering": b"no",
        b"x-elastic-product": b"Elasticsearch",
    }


def test_an_empty_stream_is_just_done() -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([]), client)
        return client

    assert asyncio.run(scenario()).sent == [start_message(200), body(DONE_FRAME, more=False)]


def test_the_bom_variant_prefixes_every_frame() -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([[A, B]]), client, bom=True)
        return client

    client = asyncio.run(scenario())
    assert client.bodies == [
        BOM + b"event: message\ndata: " + A + b"\n\n" + BOM + b"event: message\ndata: " + B + b"\n\n",
        BOM + DONE_FRAME,
    ]


# --- failures before the first chunk -------------------------------------------------------


def test_an_error_before_the_first_chunk_gets_its_status_and_one_error_frame() -> None:
    async def scenario() -> tuple[Client, Probe]:
        client, probe = Client(), Probe()
        failure = UpstreamError("Received a rate limit status code", status=429, error_type="requests")
        await respond(probe.produce([], then=failure), client)
        return client, probe

    client, probe = asyncio.run(scenario())
    assert client.sent == [
        start_message(429),
        body(
            error_body("UpstreamError", 429, "Received a rate limit status code", started=False), more=False
        ),
    ]
    assert probe.ended == "raised"


def test_a_refusal_before_the_first_chunk_is_a_400() -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([], then=BadRequestError("no tools here")), client)
        return client

    client = asyncio.run(scenario())
    assert client.status == 400
    assert client.bodies == [error_body("BadRequestError", 400, "no tools here", started=False)]


def test_an_unexpected_error_before_the_first_chunk_is_a_500_that_hides_the_detail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([], then=RuntimeError("secret detail")), client)
        return client

    with caplog.at_level(logging.ERROR, logger="inference_service.stream"):
        client = asyncio.run(scenario())
    assert client.status == 500
    assert client.bodies == [error_body("InferenceServiceError", 500, INTERNAL_ERROR_REASON, started=False)]
    assert [r.getMessage() for r in caplog.records] == ["unexpected error while streaming"]
    assert b"secret detail" not in b"".join(client.bodies)


def test_a_providers_own_timeout_before_the_first_chunk_is_not_the_clients_408(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([], then=TimeoutError("socket")), client)
        return client

    with caplog.at_level(logging.ERROR, logger="inference_service.stream"):
        client = asyncio.run(scenario())
    assert client.status == 500


def test_the_deadline_before_the_first_chunk_is_a_408() -> None:
    async def scenario() -> tuple[Client, Probe]:
        client, probe = Client(), Probe()
        deadline = Deadline(0.01, "10ms", given=True)
        await respond(probe.produce([[A]], before=5.0), client, deadline=deadline)
        return client, probe

    client, probe = asyncio.run(scenario())
    assert client.sent == [
        start_message(408),
        body(
            error_body("RequestTimeoutError", 408, "Request timed out after [10ms]", started=False),
            more=False,
        ),
    ]
    assert probe.ended == "cancelled"  # the provider's wait was cancelled, not left running


def test_the_deadline_covers_only_the_first_chunk() -> None:
    async def scenario() -> Client:
        client = Client()
        deadline = Deadline(0.02, "20ms", given=True)
        await respond(Probe().produce([[A], [B]], gap=0.03), client, deadline=deadline)
        return client

    client = asyncio.run(scenario())
    assert client.bodies == [message_frame(A), message_frame(B), DONE_FRAME]


# --- failures after the first chunk --------------------------------------------------------


def test_an_error_after_the_first_chunk_is_an_error_frame_and_no_done() -> None:
    async def scenario() -> tuple[Client, Probe]:
        client, probe = Client(), Probe()
        failure = UpstreamError("Overloaded", error_type="overloaded_error")
        await respond(probe.produce([[A], [B]], then=failure), client)
        return client, probe

    client, probe = asyncio.run(scenario())
    assert client.sent == [
        start_message(200),
        body(message_frame(A)),
        body(message_frame(B)),
        body(error_body("UpstreamError", 502, "Overloaded", started=True), more=False),
    ]
    assert DONE_FRAME not in b"".join(client.bodies)
    assert probe.ended == "raised"


def test_an_unexpected_error_after_the_first_chunk_is_an_internal_error_frame() -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([[A]], then=KeyError("detail")), client)
        return client

    client = asyncio.run(scenario())
    assert client.status == 200
    assert client.bodies == [
        message_frame(A),
        error_body("InferenceServiceError", 500, INTERNAL_ERROR_REASON, started=True),
    ]
    assert client.finished


def test_the_idle_limit_ends_the_stream_with_an_error_frame() -> None:
    async def scenario() -> tuple[Client, Probe]:
        client, probe = Client(), Probe()
        await respond(probe.produce([[A]], then=5.0), client, idle_s=0.02)
        return client, probe

    client, probe = asyncio.run(scenario())
    assert client.sent == [
        start_message(200),
        body(message_frame(A)),
        body(
            error_body(
                "UpstreamTimeoutError",
                504,
                "The provider sent nothing for [0.02s]; the stream was ended",
                started=True,
            ),
            more=False,
        ),
    ]
    assert probe.ended == "cancelled"


def test_chunks_within_the_idle_limit_keep_the_stream_alive() -> None:
    async def scenario() -> Client:
        client = Client()
        await respond(Probe().produce([[A], [B], [C]], gap=0.004), client, idle_s=0.02)
        return client

    assert asyncio.run(scenario()).bodies == [
        message_frame(A),
        message_frame(B),
        message_frame(C),
        DONE_FRAME,
    ]


def test_a_slow_client_does_not_count_as_an_idle_provider() -> None:
    async def slow_write(client: Client, message: Message) -> None:
        if message["type"] == "http.response.body":
            await asyncio.sleep(0.015)  # each write takes longer than the idle limit

    async def scenario() -> Client:
        client = Client(on_send=slow_write)
        await respond(Probe().produce([[A], [B]]), client, idle_s=0.008)
        return client

    assert asyncio.run(scenario()).bodies == [message_frame(A), message_frame(B), DONE_FRAME]


# --- the client going away -----------------------------------------------------------------


def test_a_disconnect_mid_stream_cancels_the_producer_and_sends_nothing_more() -> None:
    async def leave_after_first_frame(client: Client, message: Message) -> None:
        if message["type"] == "http.response.body":
            client.gone.set()

    async def scenario() -> tuple[Client, Probe, int]:
        client, probe = Client(on_send=leave_after_first_frame), Probe()
        await respond(probe.produce([[A], [B]], gap=5.0), client)
        task = asyncio.current_task()
        assert task is not None
        return client, probe, task.cancelling()

    client, probe, cancelling = asyncio.run(scenario())
    assert client.sent == [start_message(200), body(message_frame(A))]
    assert probe.ended == "cancelled"
    assert cancelling == 0  # the request task carries no leftover cancellation


def test_a_disconnect_before_the_first_chunk_sends_nothing() -> None:
    async def scenario() -> tuple[Client, Probe]:
        client, probe = Client(), Probe()
        client.gone.set()
        await respond(probe.produce([[A]], before=5.0), client)
        return client, probe

    client, probe = asyncio.run(scenario())
    assert client.sent == []
    assert probe.ended == "cancelled"


def test_a_disconnect_while_writing_to_the_client_stops_the_stream() -> None:
    async def leave_while_writing(client: Client, message: Message) -> None:
        if message["type"] == "http.response.body":
            client.gone.set()
            await asyncio.sleep(5.0)  # the write blocks: the disconnect must end it

    async def scenario() -> tuple[Client, Probe]:
        client, probe = Client(on_send=leave_while_writing), Probe()
        await respond(probe.produce([[A], [B]]), client)
        return client, probe

    client, probe = asyncio.run(scenario())
    assert client.sent == [start_message(200), body(message_frame(A))]
    assert probe.ended == "closed"  # suspended at its yield, so closed by aclose()


def test_a_disconnect_after_the_stream_finished_cancels_nothing() -> None:
    async def leave_after_the_last_frame(client: Client, message: Message) -> None:
        if message["type"] == "http.response.body" and not message["more_body"]:
            client.gone.set()
            await asyncio.sleep(0)  # let the watcher see the disconnect now

    async def scenario() -> tuple[Client, Probe, int]:
        client, probe = Client(on_send=leave_after_the_last_frame), Probe()
        await respond(probe.produce([[A]]), client)
        await asyncio.sleep(0.005)  # a leftover cancellation would surface here
        task = asyncio.current_task()
        assert task is not None
        return client, probe, task.cancelling()

    client, probe, cancelling = asyncio.run(scenario())
    assert client.bodies == [message_frame(A), DONE_FRAME]
    assert probe.ended == "exhausted"
    assert cancelling == 0


def test_a_cancellation_that_is_not_a_disconnect_propagates() -> None:
    async def scenario() -> tuple[Client, Probe, bool]:
        client, probe = Client(), Probe()
        task = asyncio.create_task(respond(probe.produce([[A]], then=5.0), client))
        await asyncio.sleep(0.005)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return client, probe, True
        return client, probe, False

    client, probe, propagated = asyncio.run(scenario())
    assert propagated
    assert client.bodies == [message_frame(A)]
    assert probe.ended == "cancelled"


# --- EventStreamError ----------------------------------------------------------------------


def test_event_stream_error_is_its_status_and_one_error_frame() -> None:
    async def scenario(bom: bool) -> Client:
        client = Client()
        error = EventStreamError(BadRequestError("bad body"), render, bom=bom)
        await error({"type": "http"}, client.receive, client.send)
        return client

    client = asyncio.run(scenario(False))
    assert client.sent == [
        start_message(400),
        body(error_body("BadRequestError", 400, "bad body", started=False), more=False),
    ]
    assert asyncio.run(scenario(True)).bodies == [
        BOM + error_body("BadRequestError", 400, "bad body", started=False)
    ]


def test_render_error_sees_the_service_error() -> None:
    seen: list[tuple[type[InferenceServiceError], bool]] = []

    def recording(exc: InferenceServiceError, started: bool) -> bytes:
        seen.append((type(exc), started))
        return b"{}"

    async def scenario() -> None:
        client = Client()
        producer = Probe().produce([[A]], then=UpstreamError("x"))
        await EventStreamResponse(producer, render_error=recording, deadline=LONG, idle_s=5.0)(
            {"type": "http"}, client.receive, client.send
        )

    asyncio.run(scenario())
    assert seen == [(UpstreamError, True)]


# --- what the idempotency layer is told ---------------------------------------------------


def _scope_after(chunks: Producer, client: Client) -> dict[str, object]:
    scope: dict[str, object] = {"type": "http", "method": "POST"}

    async def scenario() -> None:
        response = EventStreamResponse(chunks, render_error=render, deadline=LONG, idle_s=5.0)
        await response(scope, client.receive, client.send)

    asyncio.run(scenario())
    return scope


def test_a_complete_stream_is_not_flagged_incomplete() -> None:
    scope = _scope_after(Probe().produce([[A], [B]]), Client())
    assert STREAM_INCOMPLETE not in scope


def test_an_error_frame_after_the_200_flags_the_stream_incomplete() -> None:
    client = Client()
    scope = _scope_after(Probe().produce([[A]], then=UpstreamError("Overloaded")), client)
    assert scope[STREAM_INCOMPLETE] is True and client.status == 200


def test_a_disconnect_flags_the_stream_incomplete() -> None:
    async def leave(client: Client, message: Message) -> None:
        if message["type"] == "http.response.body":
            client.gone.set()

    scope = _scope_after(Probe().produce([[A], [B]], gap=5.0), Client(on_send=leave))
    assert scope[STREAM_INCOMPLETE] is True
