"""The stream decoder: frames of both streamed task types -> StreamChunks, errors, truncation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_service.client.errors import (
    APIConnectionError,
    InferenceServiceError,
    InternalServerError,
    RateLimitError,
)
from inference_service.client.stream import ChunkDecoder
from inference_service.client.types import StreamChunk, ToolCallDelta, Usage


def frame(data: Any, event: str = "message") -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"event: {event}\ndata: {text}\n\n".encode()


def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": "c", "choices": choices, "model": "m", "object": "chat.completion.chunk"}
    if usage is not None:
        body["usage"] = usage
    return body


def test_chat_chunks() -> None:
    decoder = ChunkDecoder("chat")
    raw = b"".join(
        [
            frame(chunk([{"delta": {"content": "", "role": "assistant"}, "index": 0}])),
            frame(chunk([{"delta": {"content": "Hi"}, "index": 0}])),
            frame(
                chunk(
                    [
                        {
                            "delta": {
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "id": "t",
                                        "function": {"name": "f", "arguments": ""},
                                        "type": "function",
                                    }
                                ]
                            },
                            "index": 0,
                        }
                    ]
                )
            ),
            frame(chunk([{"delta": {}, "finish_reason": "stop", "index": 0}])),
            frame(chunk([], {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})),
            frame("[DONE]"),
        ]
    )
    # fed in pieces that split frames anywhere
    chunks = [c for i in range(0, len(raw), 7) for c in decoder.feed(raw[i : i + 7])]
    decoder.finish()
    assert [c.content for c in chunks] == ["", "Hi", "", "", ""]
    assert chunks[0].role == "assistant" and (chunks[0].id, chunks[0].model) == ("c", "m")
    assert chunks[2].tool_calls[0].id == "t" and isinstance(chunks[2].tool_calls[0], ToolCallDelta)
    assert chunks[3].finish_reason == "stop"
    assert chunks[4].usage == Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3)
    assert decoder.done


def test_several_choices_give_one_chunk_each_and_usage_goes_on_the_last() -> None:
    decoder = ChunkDecoder("chat")
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    two = chunk([{"delta": {"content": "a"}, "index": 0}, {"delta": {"content": "b"}, "index": 1}], usage)
    first, second = decoder.feed(frame(two))
    assert (first.index, first.content, first.usage) == (0, "a", None)
    assert (second.index, second.content) == (1, "b") and second.usage is not None


def test_completion_chunks() -> None:
    decoder = ChunkDecoder("completion")
    out = decoder.feed(
        frame({"completion": [{"delta": "Elastic"}]}) + frame({"completion": [{"delta": " is"}]})
    )
    assert out == [StreamChunk(content="Elastic"), StreamChunk(content=" is")]
    assert decoder.feed(frame("[DONE]") + frame({"completion": [{"delta": "ignored"}]})) == []
    decoder.finish()


def test_errors_in_the_stream() -> None:
    with pytest.raises(RateLimitError):
        ChunkDecoder("completion").feed(
            frame({"error": {"type": "t", "reason": "r"}, "status": 429}, "error")
        )
    with pytest.raises(InternalServerError, match="broke"):
        ChunkDecoder("chat").feed(
            frame({"error": {"code": "stream_error", "message": "broke", "type": "e"}}, "error")
        )
    # an error object under the default event type (the ``event:`` line lost to a BOM)
    with pytest.raises(InternalServerError, match="lost"):
        ChunkDecoder("chat").feed(
            b"\xef\xbb\xbf" + frame(chunk([])) + b"\xef\xbb\xbf" + frame({"error": {"message": "lost"}})
        )
    with pytest.raises(InferenceServiceError, match="unreadable stream chunk"):
        ChunkDecoder("chat").feed(frame("{not json"))
    with pytest.raises(InferenceServiceError, match="unreadable stream chunk"):
        ChunkDecoder("completion").feed(frame({"completion": [{"delta": 3}]}))


def test_an_end_without_done_raises() -> None:
    decoder = ChunkDecoder("chat")
    decoder.feed(frame(chunk([{"delta": {"content": "x"}, "index": 0}])))
    with pytest.raises(APIConnectionError, match=r"without \[DONE\]"):
        decoder.finish()
    cut = ChunkDecoder("chat")
    cut.feed(b'event: message\ndata: {"id"')
    with pytest.raises(APIConnectionError, match="middle of an event"):
        cut.finish()
