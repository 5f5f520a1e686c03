"""The fake provider over real sockets: httpx (and the official OpenAI SDK) as the client."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Iterator

import httpx
import openai as openai_sdk
import pytest

from tests.fakes import anthropic, openai
from tests.fakes.server import FakeProvider, FakeProviderError, Reply
from tests.fakes.sse import fixture, fixture_frames


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as running:
        yield running


@pytest.fixture
def client(fake: FakeProvider) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, timeout=2.0) as c:
        yield c


def read_raw(client: httpx.Client, path: str = "/v1/chat/completions") -> tuple[httpx.Response, bytes]:
    with client.stream("POST", path, json={"stream": True}) as response:
        return response, b"".join(response.iter_raw())


# -- connections -----------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(openai.stream_reply(["a"]), Reply.json(200, {"n": 2}), openai.stream_reply(["c"]))

    for _ in range(3):
        client.post("/v1/chat/completions", json={}).raise_for_status()

    assert fake.connections == 1
    assert [r.connection for r in fake.requests] == [1, 1, 1]
    assert all(r.closed_at is None for r in fake.requests)


def test_connection_close_from_the_client_is_honoured(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.json(200, {}), Reply.json(200, {}))

    client.get("/a", headers={"connection": "close"})
    client.get("/b")

    assert fake.connections == 2
    assert fake.wait_for_close(index=0).closed_by == "server"


def test_stop_closes_idle_keep_alive_connections_cleanly() -> None:
    with FakeProvider(default=Reply.json(200, {})) as fake, httpx.Client(base_url=fake.url) as c:
        c.get("/")
        fake.stop()  # the client still holds the pooled connection
        assert fake.last_request.closed_by == "server"
        assert not fake.last_request.aborted


# -- streamed bytes --------------------------------------------------------------------------


def test_sse_bytes_received_equal_the_script(fake: FakeProvider, client: httpx.Client) -> None:
    events: list[bytes | str] = [
        b"data: one\n\n",
        b'data: {"sp',
        b'lit":true}\n\n',
        "data: caf\u00e9\n\n",
        b"data: [DONE]\n\n",
    ]
    fake.enqueue(Reply.sse(events, gap=0.002))

    response, raw = read_raw(client)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["transfer-encoding"] == "chunked"
    assert raw == b"".join(e.encode() if isinstance(e, str) else e for e in events)


@pytest.mark.parametrize("name", ["openai_text", "openai_tool_call", "anthropic_text", "anthropic_tool_use"])
def test_a_recorded_transcript_replays_byte_for_byte(
    fake: FakeProvider, client: httpx.Client, name: str
) -> None:
    fake.enqueue(Reply.sse(fixture_frames(name)))

    _, raw = read_raw(client)

    assert raw == fixture(name)


def test_fixed_body_with_status_and_headers(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(anthropic.overloaded_error())

    response = client.post("/v1/messages", json={})

    assert response.status_code == 529
    assert response.headers["content-length"] == str(len(response.content))
    assert response.content == b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'


def test_delays_and_pacing(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.sse([b"data: 1\n\n"] * 5, headers_delay=0.05, first_byte_delay=0.05, gap=0.02))

    started = time.monotonic()
    with client.stream("POST", "/") as response:
        headers_at = time.monotonic()
        arrivals = [time.monotonic() for _ in response.iter_raw()]

    assert headers_at - started >= 0.05
    assert arrivals[0] - headers_at >= 0.04
    assert arrivals[-1] - arrivals[0] >= 4 * 0.02 * 0.8


# -- broken streams --------------------------------------------------------------------------


def test_reset_mid_stream_raises_on_the_client(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.sse(openai.stream(["Hel", "lo"])[:2], end="reset"))

    received = b""
    with pytest.raises(httpx.ReadError), client.stream("POST", "/") as response:
        for part in response.iter_raw():
            received += part

    assert received == b"".join(openai.stream(["Hel", "lo"])[:2])
    assert fake.wait_for_close().closed_by == "server"


def test_eof_mid_stream_is_an_incomplete_body(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.sse(openai.stream(["Hel"])[:1], end="eof"))

    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        read_raw(client)


def test_a_stream_without_done_ends_cleanly(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(openai.stream_reply(["Hel"], done=False))

    _, raw = read_raw(client)

    assert raw.endswith(b"}\n\n")
    assert b"[DONE]" not in raw


@pytest.mark.parametrize(("how", "error"), [("reset", httpx.ReadError), ("eof", httpx.RemoteProtocolError)])
def test_drop_sends_no_response(
    fake: FakeProvider, client: httpx.Client, how: str, error: type[Exception]
) -> None:
    fake.enqueue(Reply.drop("reset" if how == "reset" else "eof"))

    with pytest.raises(error):
        client.post("/")


# -- the client going away -------------------------------------------------------------------


def test_disconnect_during_a_hang_is_recorded_within_1s(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.hang())

    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/chat/completions", json={}, timeout=0.1)
    gone_at = time.monotonic()

    request = fake.wait_for_disconnect(timeout=1.0)
    assert request.closed_by == "client"
    assert request.aborted
    assert request.closed_at is not None
    assert request.closed_at - gone_at < 1.0


def test_disconnect_while_streaming_is_recorded(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.sse([b"data: x\n\n"] * 1000, gap=0.01))

    with client.stream("POST", "/") as response:
        next(response.iter_raw())  # leaving unread bytes behind closes the connection
    gone_at = time.monotonic()

    request = fake.wait_for_disconnect(timeout=1.0)
    assert request.aborted
    assert request.client_closed_at is not None
    assert request.client_closed_at - gone_at < 1.0


def test_disconnect_while_waiting_for_the_first_byte(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.sse([b"data: late\n\n"], first_byte_delay=math.inf))

    with pytest.raises(httpx.ReadTimeout), client.stream("POST", "/", timeout=0.1) as response:
        response.read()

    assert fake.wait_for_disconnect(timeout=1.0).aborted


def test_closing_an_idle_connection_is_not_an_abort(fake: FakeProvider) -> None:
    fake.enqueue(Reply.json(200, {}))
    with httpx.Client(base_url=fake.url) as c:
        c.get("/")

    request = fake.wait_for_disconnect(timeout=1.0)
    assert not request.aborted


def test_wait_for_disconnect_times_out_while_the_client_stays(
    fake: FakeProvider, client: httpx.Client
) -> None:
    fake.enqueue(Reply.json(200, {}))
    client.get("/")

    with pytest.raises(AssertionError, match="did not close"):
        fake.wait_for_disconnect(timeout=0.05)


def test_async_client_and_async_wait(fake: FakeProvider) -> None:
    fake.enqueue(Reply.hang())

    async def main() -> float:
        async with httpx.AsyncClient(base_url=fake.url) as c:
            task = asyncio.create_task(c.post("/v1/messages", json={}))
            await asyncio.to_thread(fake.wait_for_requests, 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            gone_at = time.monotonic()
        request = await fake.wait_for_disconnect_async(timeout=1.0)
        assert request.closed_at is not None
        return request.closed_at - gone_at

    assert asyncio.run(main()) < 1.0


# -- recording and scripting -----------------------------------------------------------------


def test_requests_are_recorded(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.json(200, {}))
    before = time.monotonic()

    client.post(
        "/v1/chat/completions?api-version=1",
        json={"model": "gpt-4o-mini", "stream": True},
        headers={"Authorization": "Bearer sk-test", "X-Custom": "yes"},
    )

    [request] = fake.wait_for_requests(1)
    assert request.method == "POST"
    assert request.target == "/v1/chat/completions?api-version=1"
    assert request.path == "/v1/chat/completions"
    assert request.query == "api-version=1"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["x-custom"] == "yes"
    assert request.headers["content-type"] == "application/json"
    assert request.body == b'{"model":"gpt-4o-mini","stream":true}'
    assert request.json == {"model": "gpt-4o-mini", "stream": True}
    assert before <= request.received_at <= time.monotonic()


def test_chunked_request_bodies_are_read(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.json(200, {}))

    client.post("/", content=iter([b'{"a":', b"1}"]))

    request = fake.last_request
    assert request.headers["transfer-encoding"] == "chunked"
    assert request.body == b'{"a":1}'
    assert request.json == {"a": 1}


def test_replies_are_consumed_in_order_then_the_default() -> None:
    with (
        FakeProvider(Reply.json(201, {}), default=Reply.json(418, {})) as fake,
        httpx.Client(base_url=fake.url) as c,
    ):
        fake.enqueue(Reply.json(202, {}), Reply.json(203, {}))
        assert fake.pending == 3
        assert [c.get("/").status_code for _ in range(5)] == [201, 202, 203, 418, 418]
        assert fake.pending == 0
        assert [r.reply.status for r in fake.requests] == [201, 202, 203, 418, 418]


def test_an_unscripted_request_gets_a_500_naming_it(fake: FakeProvider, client: httpx.Client) -> None:
    response = client.post("/v1/messages")

    assert response.status_code == 500
    assert "POST /v1/messages" in response.json()["error"]["message"]


def test_clear_forgets_requests_and_replies(fake: FakeProvider, client: httpx.Client) -> None:
    fake.enqueue(Reply.json(200, {}), Reply.json(200, {}))
    client.get("/")

    fake.clear()

    assert fake.requests == []
    assert fake.pending == 0


def test_a_broken_request_surfaces_when_the_fake_stops() -> None:
    fake = FakeProvider()
    fake.start()
    with socket.create_connection(("127.0.0.1", fake.port), timeout=2) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: x\r\n\r\n")
        assert sock.recv(100) == b""  # the fake gave up on the connection

    with pytest.raises(FakeProviderError, match="invalid literal"):
        fake.stop()


# -- the official OpenAI SDK accepts the fake's bytes ----------------------------------------


@pytest.fixture
def sdk(fake: FakeProvider) -> Iterator[openai_sdk.OpenAI]:
    with openai_sdk.OpenAI(base_url=f"{fake.url}/v1", api_key="sk-test-1234", max_retries=0) as c:
        yield c


def test_openai_sdk_reads_a_stream_with_tool_calls_and_usage(
    fake: FakeProvider, sdk: openai_sdk.OpenAI
) -> None:
    fake.enqueue(Reply.sse(fixture_frames("openai_tool_call"), headers=openai.STREAM_HEADERS))

    chunks = list(
        sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Weather in Boston?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    arguments = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls and c.choices[0].delta.tool_calls[0].function
    )
    assert arguments == '{"location":"Boston, MA"}'
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 99
    assert fake.last_request.json["stream_options"] == {"include_usage": True}
    assert fake.last_request.headers["authorization"] == "Bearer sk-test-1234"


def test_openai_sdk_raises_on_a_mid_stream_error(fake: FakeProvider, sdk: openai_sdk.OpenAI) -> None:
    fake.enqueue(Reply.sse(fixture_frames("openai_error_midstream")))

    with pytest.raises(openai_sdk.APIError, match="The server had an error"):
        list(sdk.chat.completions.create(model="gpt-4o-mini", messages=[], stream=True))


@pytest.mark.parametrize(
    ("reply", "error", "code"),
    [
        (openai.invalid_api_key(), openai_sdk.AuthenticationError, "invalid_api_key"),
        (openai.model_not_found(), openai_sdk.NotFoundError, "model_not_found"),
        (openai.rate_limit_exceeded(retry_after=1), openai_sdk.RateLimitError, "rate_limit_exceeded"),
        (openai.server_error(), openai_sdk.InternalServerError, None),
    ],
)
def test_openai_sdk_maps_the_error_replies(
    fake: FakeProvider,
    sdk: openai_sdk.OpenAI,
    reply: Reply,
    error: type[openai_sdk.APIStatusError],
    code: str | None,
) -> None:
    fake.enqueue(reply)

    with pytest.raises(error) as caught:
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[])

    assert caught.value.status_code == reply.status
    assert caught.value.code == code


def test_openai_sdk_reads_a_non_streaming_completion(fake: FakeProvider, sdk: openai_sdk.OpenAI) -> None:
    fake.enqueue(openai.completion_reply("Hi there"))

    result = sdk.chat.completions.create(model="gpt-4o-mini", messages=[])

    assert result.choices[0].message.content == "Hi there"
    assert result.usage is not None and result.usage.total_tokens == 21
