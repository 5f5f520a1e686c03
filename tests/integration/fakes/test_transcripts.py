"""The builders reproduce the hand-written transcripts byte for byte, and both have the
providers' documented shape (checked with the official OpenAI SDK's own models). No sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.fakes import anthropic, openai
from tests.fakes.sse import FIXTURES, fixture, fixture_frames, frame, split_frames

SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"

BUILT: dict[str, list[bytes]] = {
    "openai_text": openai.stream(["Hello", "!", " How can I help", " you today?"]),
    "openai_tool_call": openai.stream(
        tool_calls=[
            openai.ToolCall(
                "call_abc123", "get_current_weather", ['{"', "location", '":"', "Boston", ', MA"}']
            )
        ],
        usage=openai.usage(82, 17),
    ),
    "openai_error_midstream": openai.stream(
        ["Elasticsearch is", " a distributed"], error=openai.error_body(SERVER_ERROR, "server_error")
    ),
    "anthropic_text": anthropic.stream(["Hello", "!"]),
    "anthropic_tool_use": anthropic.stream(
        ["Okay", ", let's check the weather for San Francisco, CA:"],
        tool_uses=[
            anthropic.ToolUse(
                "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "get_weather",
                ["", '{"location":', ' "San', ' Francisco, CA"}'],
            )
        ],
        id="msg_014p7gG3wDgGV9EUtLvnow3U",
        input_tokens=472,
        output_tokens=89,
    ),
    "anthropic_forced_tool": anthropic.forced_tool_stream(
        "city_facts",
        ['{"city": "Oslo', '", "population"', ": 709000}"],
        id="msg_01Hn4fVvGE8oN1vJm8MhC2Qk",
        input_tokens=612,
        output_tokens=41,
    ),
    "anthropic_error_midstream": anthropic.stream(
        ["Elasticsearch is"], error=("overloaded_error", "Overloaded")
    ),
}


def test_every_fixture_has_a_builder() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.sse")) == sorted(BUILT)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_builder_matches_the_fixture_byte_for_byte(name: str) -> None:
    assert fixture_frames(name) == BUILT[name]
    assert b"".join(BUILT[name]) == fixture(name)


def test_split_frames_round_trips() -> None:
    raw = fixture("openai_text")
    assert b"".join(split_frames(raw)) == raw
    assert split_frames(b"data: a\n\ndata: b") == [b"data: a\n\n", b"data: b"]


# -- OpenAI ----------------------------------------------------------------------------------


def data_of(frames: list[bytes]) -> list[str]:
    out = []
    for f in frames:
        assert f.startswith(b"data: ") and f.endswith(b"\n\n") and f.count(b"\n") == 2
        out.append(f[len(b"data: ") : -2].decode())
    return out


@pytest.mark.parametrize("name", ["openai_text", "openai_tool_call"])
def test_openai_streams_have_the_documented_shape(name: str) -> None:
    data = data_of(fixture_frames(name))
    assert data[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate_json(d) for d in data[:-1]]
    assert {c.id for c in chunks} == {"chatcmpl-123"}
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason in ("stop", "tool_calls")
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(json.loads(d)["usage"] is None for d in data[:-2])


def test_openai_without_include_usage_has_no_usage_key_and_no_usage_chunk() -> None:
    objs = openai.chunks(["a"], include_usage=False)
    assert all("usage" not in o for o in objs)
    assert objs[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_text_then_two_tool_calls() -> None:
    calls = [openai.ToolCall("call_1", "a", ['{"x":', "1}"]), openai.ToolCall("call_2", "b", ["{}"])]
    deltas = [o["choices"][0]["delta"] for o in openai.chunks(["Let me check."], tool_calls=calls)[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert deltas[2]["tool_calls"][0] == {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "a", "arguments": ""},
    }
    assert deltas[5]["tool_calls"][0]["index"] == 1
    assert deltas[-1] == {}


def test_openai_mid_stream_error_frame() -> None:
    data = data_of(fixture_frames("openai_error_midstream"))
    assert json.loads(data[-1]) == {
        "error": {"message": SERVER_ERROR, "type": "server_error", "param": None, "code": None}
    }
    assert "[DONE]" not in data
    assert openai.error_frame(SERVER_ERROR, "server_error") == fixture_frames("openai_error_midstream")[-1]


def test_openai_non_streaming_completion() -> None:
    reply = openai.completion_reply(tool_calls=[openai.ToolCall("call_1", "f", ['{"a"', ":1}"])])
    assert reply.body is not None and reply.body.startswith(b'{\n  "id": "chatcmpl-123",\n')
    result = ChatCompletion.model_validate_json(reply.body)
    assert result.choices[0].finish_reason == "tool_calls"
    assert result.choices[0].message.tool_calls is not None
    assert result.choices[0].message.tool_calls[0].model_dump()["function"]["arguments"] == '{"a":1}'


@pytest.mark.parametrize(
    ("reply", "status", "type", "code"),
    [
        (openai.invalid_api_key(), 401, "invalid_request_error", "invalid_api_key"),
        (openai.model_not_found(), 404, "invalid_request_error", "model_not_found"),
        (openai.rate_limit_exceeded(), 429, "requests", "rate_limit_exceeded"),
        (openai.server_error(), 500, "server_error", None),
    ],
)
def test_openai_error_bodies(reply: Any, status: int, type: str, code: str | None) -> None:
    assert reply.status == status
    assert reply.body.startswith(b'{\n    "error": {\n        "message": ') and reply.body.endswith(b"}\n")
    error = json.loads(reply.body)["error"]
    assert list(error) == ["message", "type", "param", "code"]
    assert (error["type"], error["param"], error["code"]) == (type, None, code)
    assert dict(reply.headers)["content-type"] == "application/json; charset=utf-8"


def test_openai_key_is_masked() -> None:
    body = openai.invalid_api_key("sk-proj-1234abcdef").body or b""
    assert b"Incorrect API key provided: sk-***********cdef. You can" in body


# -- Anthropic -------------------------------------------------------------------------------


def events_of(frames: list[bytes]) -> list[tuple[str, Any]]:
    out = []
    for f in frames:
        event_line, data_line, blank, end = f.decode().split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ") and blank == end == ""
        kind, data = event_line[len("event: ") :], json.loads(data_line[len("data: ") :])
        assert data["type"] == kind
        out.append((kind, data))
    return out


def test_anthropic_text_stream_order() -> None:
    kinds = [k for k, _ in events_of(fixture_frames("anthropic_text"))]
    assert kinds == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert anthropic.PING in fixture_frames("anthropic_text")


def test_anthropic_tool_use_stream() -> None:
    events = events_of(fixture_frames("anthropic_tool_use"))
    starts = [d["content_block"] for k, d in events if k == "content_block_start"]
    assert starts[1] == {
        "type": "tool_use",
        "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        "name": "get_weather",
        "input": {},
    }
    parts = [
        d["delta"]["partial_json"] for k, d in events if d.get("delta", {}).get("type") == "input_json_delta"
    ]
    assert json.loads("".join(parts)) == {"location": "San Francisco, CA"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert events[-2][1]["usage"] == {"output_tokens": 89}


def test_anthropic_tool_only_stream_starts_with_the_tool_block() -> None:
    events = events_of(anthropic.stream(tool_uses=[anthropic.ToolUse("toolu_1", "f", ["{}"])]))
    assert events[1][1]["content_block"]["type"] == "tool_use"
    assert events[2][0] == "ping"


def test_anthropic_mid_stream_error() -> None:
    kind, data = events_of(fixture_frames("anthropic_error_midstream"))[-1]
    assert kind == "error"
    assert data == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


@pytest.mark.parametrize(
    ("reply", "status", "type"),
    [
        (anthropic.authentication_error(), 401, "authentication_error"),
        (anthropic.permission_error(), 403, "permission_error"),
        (anthropic.not_found_error(), 404, "not_found_error"),
        (anthropic.rate_limit_error(), 429, "rate_limit_error"),
        (anthropic.api_error(), 500, "api_error"),
        (anthropic.overloaded_error(), 529, "overloaded_error"),
    ],
)
def test_anthropic_error_bodies(reply: Any, status: int, type: str) -> None:
    assert reply.status == status
    body = json.loads(reply.body)
    assert list(body) == ["type", "error"] and body["type"] == "error"
    assert list(body["error"]) == ["type", "message"] and body["error"]["type"] == type


def test_anthropic_non_streaming_message() -> None:
    body = anthropic.message("Let me check.", tool_uses=[("toolu_1", "get_weather", {"location": "Paris"})])
    assert [b["type"] for b in body["content"]] == ["text", "tool_use"]
    assert body["stop_reason"] == "tool_use"
    assert anthropic.message_reply().body == frame(anthropic.message())[len(b"data: ") : -2]


@pytest.mark.parametrize("malformed", [openai.MALFORMED_FRAME, anthropic.MALFORMED_FRAME])
def test_malformed_frames_are_complete_frames_with_broken_json(malformed: bytes) -> None:
    assert split_frames(malformed) == [malformed]
    data = malformed.split(b"data: ", 1)[1].strip()
    with pytest.raises(json.JSONDecodeError):
        json.loads(data)


def test_openai_embeddings_fake_matches_the_recorded_answer() -> None:
    from tests.fakes import openai_embeddings

    recorded = (FIXTURES.parent / "json" / "openai_embeddings.json").read_bytes()
    assert recorded == openai_embeddings.embeddings(
        [[0.0023064255, -0.009327292, -0.0028842222], [-0.0066423, 0.0151937, 0.0039911]]
    )
