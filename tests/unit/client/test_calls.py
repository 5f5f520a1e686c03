"""What each method sends (path, body) and how each answer is read."""

from __future__ import annotations

import json
from typing import Any, cast

import msgspec
import pytest

from inference_service.client import calls, endpoint_calls
from inference_service.client.types import ChatMessage, FunctionCall, ToolCall


def chat_body(**kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "max_tokens": None,
        "temperature": None,
        "top_p": None,
        "stop": None,
        "tools": None,
        "tool_choice": None,
        "response_format": None,
        "extra": {},
    }
    options.update(kwargs)
    messages = options.pop("messages", [{"role": "user", "content": "hi"}])
    decoded: dict[str, Any] = json.loads(calls.chat_body(messages, **options))
    return decoded


def test_endpoint_id() -> None:
    assert calls.endpoint_id("a", None) == calls.endpoint_id(None, "a") == calls.endpoint_id("a", "a") == "a"
    with pytest.raises(TypeError, match="model="):
        calls.endpoint_id(None, None)
    with pytest.raises(ValueError, match="different endpoints"):
        calls.endpoint_id("a", "b")
    with pytest.raises(TypeError):
        calls.endpoint_id("", None)


def test_chat_body_maps_the_sdk_names() -> None:
    body = chat_body(
        max_tokens=5,
        temperature=0.1,
        top_p=0.2,
        stop="x",
        tool_choice={"type": "function", "function": {"name": "f"}},
        response_format={"type": "json_object"},
        extra={"seed": 3},
    )
    assert body == {
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 5,
        "temperature": 0.1,
        "top_p": 0.2,
        "stop": ["x"],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {"type": "json_object"},
        "seed": 3,
    }
    assert chat_body(stop=("a", "b"))["stop"] == ["a", "b"]


def test_chat_messages_mix_dicts_and_chat_messages() -> None:
    call = ToolCall(id="t", function=FunctionCall(name="f", arguments="{}"))
    messages = [
        ChatMessage(role="assistant", tool_calls=[call]),
        {"role": "tool", "content": "ok", "tool_call_id": "t"},
    ]
    assert chat_body(messages=messages)["messages"] == [
        {
            "role": "assistant",
            "tool_calls": [{"id": "t", "function": {"name": "f", "arguments": "{}"}, "type": "function"}],
        },
        {"role": "tool", "content": "ok", "tool_call_id": "t"},
    ]


@pytest.mark.parametrize("messages", ["hello", {"role": "user"}, [{"role": "user"}, "text"], [3]])
def test_bad_messages_are_refused(messages: object) -> None:
    with pytest.raises(TypeError, match="messages"):
        chat_body(messages=messages)


def test_max_tokens_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        chat_body(max_tokens=1, extra={"max_completion_tokens": 2})


def test_paths_are_quoted() -> None:
    assert calls.chat("a/b c", b"{}").path == "/_inference/chat_completion/a%2Fb%20c"
    assert calls.chat_stream("x", b"{}").path == "/_inference/chat_completion/x/_stream"
    assert calls.completion_stream("x", b"{}").path == "/_inference/completion/x/_stream"
    assert endpoint_calls.list_endpoints(None).path == "/_inference/_all"
    assert endpoint_calls.update_endpoint("x", None, {"a": 1}).path == "/_inference/x/_update"


def test_completion() -> None:
    assert json.loads(calls.completion_body("p", None, None)) == {"input": "p"}
    assert json.loads(calls.completion_body("p", 5, 0.5)) == {
        "input": "p",
        "task_settings": {"max_tokens": 5, "temperature": 0.5},
    }
    with pytest.raises(TypeError):
        calls.completion_body(cast(Any, ["p"]), None, None)
    answer = calls.completion("w", b"").parse(b'{"completion":[{"result":"text"}]}')
    assert (answer.content, answer.model, answer.usage) == ("text", "w", None)
    with pytest.raises(msgspec.ValidationError):
        calls.completion("w", b"").parse(b'{"completion":[]}')


def test_embeddings() -> None:
    call = calls.embedding("e", ["a", "b"], "search")
    assert json.loads(call.body or b"") == {"input": ["a", "b"], "input_type": "search"}
    dense = call.parse(b'{"text_embedding":[{"embedding":[0.5,1]},{"embedding":[2,3]}]}')
    assert dense.embeddings == [[0.5, 1.0], [2.0, 3.0]] and [d.index for d in dense.data] == [0, 1]
    assert call.parse(b'{"text_embedding_bytes":[{"embedding":[1,-2]}]}').embeddings == [[1.0, -2.0]]
    with pytest.raises(msgspec.ValidationError):
        call.parse(b"{}")
    with pytest.raises(TypeError, match=r"input\[1\]"):
        calls.embedding("e", cast(Any, ["a", 2]), None)
    sparse = calls.sparse_embedding("s", "a").parse(
        b'{"sparse_embedding":[{"is_truncated":true,"embedding":{"t":0.5}}]}'
    )
    assert sparse.embeddings == [{"t": 0.5}] and sparse.data[0].is_truncated


def test_rerank() -> None:
    call = calls.rerank("r", "q", ["a", "b"], 1, True)
    assert json.loads(call.body or b"") == {
        "query": "q",
        "input": ["a", "b"],
        "top_n": 1,
        "return_documents": True,
    }
    assert json.loads(calls.rerank("r", "q", ["a"], None, False).body or b"") == {
        "query": "q",
        "input": ["a"],
    }
    ranked = call.parse(
        b'{"rerank":[{"index":1,"relevance_score":0.5,"text":"b"},{"index":0,"relevance_score":0.1}]}'
    )
    assert [(r.index, r.document) for r in ranked.results] == [(1, "b"), (0, None)]
    with pytest.raises(TypeError, match="not one string"):
        calls.rerank("r", "q", "ab", None, False)


def test_endpoint_answers() -> None:
    create = endpoint_calls.create_endpoint(
        "x", "completion", "openai", {"model_id": "m"}, None, {"strategy": "none"}
    )
    assert (create.method, create.path) == ("PUT", "/_inference/completion/x")
    assert json.loads(create.body or b"") == {
        "service": "openai",
        "service_settings": {"model_id": "m"},
        "chunking_settings": {"strategy": "none"},
    }
    info = b'{"inference_id":"x","task_type":"completion","service":"openai",'
    info += b'"service_settings":{"model_id":"m"}}'
    assert create.parse(info).task_settings == {}
    assert endpoint_calls.get_endpoint("x").parse(b'{"endpoints":[' + info + b"]}").inference_id == "x"
    with pytest.raises(msgspec.ValidationError):
        endpoint_calls.get_endpoint("x").parse(b'{"endpoints":[]}')
    with pytest.raises(TypeError):
        endpoint_calls.update_endpoint("x", None, None)
    with pytest.raises(msgspec.ValidationError):
        endpoint_calls.delete_endpoint("x").parse(b'{"acknowledged":false}')
