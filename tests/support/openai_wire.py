"""Byte-exact OpenAI Chat Completions streams, shaped like the API's own (``data:`` frames,
a role delta first, content deltas, the finish chunk, the usage chunk, ``data: [DONE]``)."""

from __future__ import annotations

import json
from typing import Any

CREATED = 1732450000
FINGERPRINT = "fp_test"


def _chunk(chunk_id: str, model: str, choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": choices,
        "usage": usage,
    }


def _choice(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def frame(data: dict[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


def text_stream(
    pieces: list[str],
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    chunk_id: str = "chatcmpl-123",
    finish_reason: str = "stop",
    usage: dict[str, int] | None = None,
) -> list[bytes]:
    """One frame per list item, as the API sends them."""
    frames = [
        frame(_chunk(chunk_id, model, [_choice({"role": "assistant", "content": "", "refusal": None})]))
    ]
    frames += [frame(_chunk(chunk_id, model, [_choice({"content": piece})])) for piece in pieces]
    frames.append(frame(_chunk(chunk_id, model, [_choice({}, finish_reason)])))
    usage = usage or {"prompt_tokens": 16, "completion_tokens": len(pieces), "total_tokens": 16 + len(pieces)}
    frames.append(frame(_chunk(chunk_id, model, [], usage)))
    frames.append(frame("[DONE]"))
    return frames


def tool_call_stream(
    name: str, arguments: list[str], *, model: str = "gpt-4o-mini-2024-07-18", chunk_id: str = "chatcmpl-9"
) -> list[bytes]:
    first = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}
        ],
        "refusal": None,
    }
    frames = [frame(_chunk(chunk_id, model, [_choice(first)]))]
    frames += [
        frame(
            _chunk(chunk_id, model, [_choice({"tool_calls": [{"index": 0, "function": {"arguments": a}}]})])
        )
        for a in arguments
    ]
    frames.append(frame(_chunk(chunk_id, model, [_choice({}, "tool_calls")])))
    frames.append(
        frame(_chunk(chunk_id, model, [], {"prompt_tokens": 16, "completion_tokens": 28, "total_tokens": 44}))
    )
    frames.append(frame("[DONE]"))
    return frames


def error_body(message: str, error_type: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}
