"""The idempotency middleware's recording (inference_service.api.idempotency), driven with
hand-written ASGI callables and an in-memory store: what is stored, what is released."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from inference_service.api.idempotency import PENDING, IdempotencyMiddleware, Pending, ReplayResponse, _Claim
from inference_service.api.streaming import STREAM_INCOMPLETE
from inference_service.idempotency.store import Claimed, ClaimOutcome, StoredResponse


class MemoryStore:
    """Records every complete and release; claims are not used here."""

    def __init__(self) -> None:
        self.completed: list[StoredResponse] = []
        self.released: list[str] = []

    async def claim(self, scope: str, key: str, fingerprint: bytes) -> ClaimOutcome:
        return Claimed("t" * 32)

    async def complete(self, scope: str, key: str, token: str, response: StoredResponse, ttl: float) -> bool:
        self.completed.append(response)
        return True

    async def release(self, scope: str, key: str, token: str) -> bool:
        self.released.append(key)
        return True

    async def close(self) -> None:
        pass


def app_sending(status: int, *parts: bytes, flag: bool = False, fail: BaseException | None = None) -> Any:
    """An application that claims (as resource() would), then sends ``status`` and ``parts``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pending = scope.get(PENDING)
        if pending is not None:
            pending.claim = _Claim(scope["store"], "anonymous", "k", "t" * 32, 60.0)
        await send({"type": "http.response.start", "status": status, "headers": [(b"x-a", b"1")]})
        for i, part in enumerate(parts):
            if fail is not None and i == len(parts) - 1:
                raise fail
            if flag and i == len(parts) - 1:
                scope[STREAM_INCOMPLETE] = True
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app


def serve(
    app: Any, *, header: bool = True, raises: type[BaseException] | None = None
) -> tuple[MemoryStore, list[Message], Scope]:
    """Run ``app`` behind the middleware; ``raises``: the exception it is expected to end with."""
    store = MemoryStore()
    sent: list[Message] = []
    headers = [(b"idempotency-key", b"k")] if header else []
    scope: Scope = {"type": "http", "method": "POST", "headers": headers, "store": store}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        try:
            await IdempotencyMiddleware(app)(scope, receive, send)
        except BaseException as exc:
            if raises is None or not isinstance(exc, raises):
                raise
        else:
            assert raises is None, f"expected {raises}"

    asyncio.run(main())
    return store, sent, scope


def test_a_success_is_stored_whole_before_its_last_part_goes_out() -> None:
    store, sent, _ = serve(app_sending(200, b"a", b"b", b"c"))
    assert store.completed == [StoredResponse(200, [(b"x-a", b"1")], b"abc")]
    assert [m.get("body") for m in sent] == [None, b"a", b"b", b"c"]


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_4xx_is_stored(status: int) -> None:
    store, _, _ = serve(app_sending(status, b"{}"))
    assert [r.status for r in store.completed] == [status] and not store.released


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_a_5xx_a_408_and_a_429_are_released(status: int) -> None:
    store, sent, _ = serve(app_sending(status, b"{}"))
    assert not store.completed and store.released == ["k"]
    assert sent[-1]["body"] == b"{}"  # the client still gets its answer


def test_a_stream_ended_by_an_error_frame_is_released() -> None:
    store, _, _ = serve(app_sending(200, b"event: message", b"event: error", flag=True))
    assert not store.completed and store.released == ["k"]


def test_a_response_that_never_finished_is_released() -> None:
    store, _, _ = serve(app_sending(200, b"a", b"b", fail=RuntimeError("boom")), raises=RuntimeError)
    assert not store.completed and store.released == ["k"]

    async def cancelled(scope: Scope, receive: Receive, send: Send) -> None:
        scope[PENDING].claim = _Claim(scope["store"], "anonymous", "k", "t" * 32, 60.0)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise asyncio.CancelledError

    store, _, _ = serve(cancelled, raises=asyncio.CancelledError)
    assert not store.completed and store.released == ["k"]


def test_without_the_header_nothing_is_put_in_the_scope() -> None:
    store, sent, scope = serve(app_sending(200, b"x"), header=False)
    assert PENDING not in scope and not store.completed and len(sent) == 2


def test_a_pending_without_a_claim_passes_everything_through() -> None:
    async def unclaimed(scope: Scope, receive: Receive, send: Send) -> None:
        assert isinstance(scope[PENDING], Pending) and scope[PENDING].values == [b"k"]
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b"no", "more_body": False})

    store, sent, _ = serve(unclaimed)
    assert not store.completed and not store.released and len(sent) == 2


def test_a_replay_adds_idempotent_replayed() -> None:
    response = StoredResponse(201, [(b"content-type", b"application/json")], b"{}")
    sent: list[Message] = []

    async def main() -> None:
        async def send(message: Message) -> None:
            sent.append(message)

        async def receive() -> Message:
            return {"type": "http.disconnect"}

        await ReplayResponse(response)({"type": "http"}, receive, send)

    asyncio.run(main())
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"idempotent-replayed", b"true")],
        },
        {"type": "http.response.body", "body": b"{}", "more_body": False},
    ]
