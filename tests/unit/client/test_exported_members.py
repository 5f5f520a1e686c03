"""The SDK's public names are pinned: code outside the repository imports them."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import inference_service
import inference_service.client as client

PUBLIC = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncEndpoints",
    "AsyncInferenceClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatMessage",
    "Choice",
    "Completion",
    "ConflictError",
    "Embedding",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "Endpoint",
    "Endpoints",
    "FunctionCall",
    "FunctionCallDelta",
    "InferenceClient",
    "InferenceServiceError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "RerankResponse",
    "RerankResult",
    "SparseEmbedding",
    "SparseEmbeddingResponse",
    "Stream",
    "StreamChunk",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]


def test_all_is_pinned() -> None:
    assert client.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(client, name).__module__.startswith("inference_service.client."), name


def test_every_public_member_is_documented() -> None:
    missing = [name for name in PUBLIC if not (getattr(client, name).__doc__ or "").strip()]
    assert missing == []


def test_error_hierarchy() -> None:
    assert issubclass(client.APITimeoutError, client.APIConnectionError)
    assert issubclass(client.APIConnectionError, client.InferenceServiceError)
    for name in (
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "RequestTimeoutError",
        "ConflictError",
        "RateLimitError",
        "InternalServerError",
    ):
        assert issubclass(getattr(client, name), client.APIStatusError), name
    assert issubclass(client.APIStatusError, client.InferenceServiceError)


def test_methods_and_signatures() -> None:
    for cls in (client.InferenceClient, client.AsyncInferenceClient):
        init = inspect.signature(cls.__init__)
        assert list(init.parameters)[1:] == ["base_url", "api_key", "timeout", "max_retries"]
        assert (init.parameters["timeout"].default, init.parameters["max_retries"].default) == (60.0, 2)
        chat = inspect.signature(cls.chat_completion).parameters
        assert list(chat)[1:] == [
            "model",
            "inference_id",
            "messages",
            "stream",
            "max_tokens",
            "temperature",
            "top_p",
            "stop",
            "tools",
            "tool_choice",
            "response_format",
            "timeout",
            "extra",
        ]
        assert list(inspect.signature(cls.completion).parameters)[1:] == [
            "model",
            "inference_id",
            "prompt",
            "stream",
            "max_tokens",
            "temperature",
            "timeout",
        ]
        assert list(inspect.signature(cls.embedding).parameters)[1:] == [
            "model",
            "inference_id",
            "input",
            "input_type",
            "timeout",
        ]
        rerank = list(inspect.signature(cls.rerank).parameters)[1:]
        assert rerank[:6] == ["model", "inference_id", "query", "documents", "top_n", "return_documents"]
        assert hasattr(cls, "sparse_embedding")
    assert hasattr(client.InferenceClient, "close") and hasattr(client.InferenceClient, "__enter__")
    assert hasattr(client.AsyncInferenceClient, "aclose") and hasattr(
        client.AsyncInferenceClient, "__aenter__"
    )
    for endpoints in (client.Endpoints, client.AsyncEndpoints):
        assert {"create", "get", "list", "update", "delete"} <= set(dir(endpoints))
        create = list(inspect.signature(endpoints.create).parameters)[1:]
        assert create == [
            "inference_id",
            "task_type",
            "service",
            "service_settings",
            "task_settings",
            "chunking_settings",
            "cache",
        ]


def test_importing_the_sdk_loads_none_of_the_server() -> None:
    """In a fresh interpreter: the SDK needs httpx and msgspec, nothing of the server's stack."""
    code = textwrap.dedent(
        """
        import json
        import sys
        import inference_service.client
        server = ("starlette", "hypercorn", "sqlalchemy", "aiohttp", "xllamacpp", "llama_cpp",
                  "alembic", "asyncpg", "aiosqlite", "numpy", "jsonschema", "yaml")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in server)
        ours = sorted(m for m in sys.modules if m.startswith("inference_service"))
        print(json.dumps([loaded, ours]))
        """
    )
    root = Path(inference_service.__file__).resolve().parent.parent  # the checkout under test
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    loaded, ours = json.loads(done.stdout)
    assert loaded == []
    allowed = ("inference_service.client", "inference_service.sse_decoder", "inference_service.retry_after")
    assert [m for m in ours if m != "inference_service" and not m.startswith(allowed)] == []
    assert "inference_service.client.sync" in ours


def test_type_information_is_shipped() -> None:
    assert (Path(inference_service.__file__).parent / "py.typed").is_file()


FIELDS = {
    "ChatCompletion": ("id", "model", "choices", "created", "object", "usage"),
    "ChatMessage": ("role", "content", "tool_calls", "tool_call_id"),
    "Choice": ("message", "finish_reason", "index"),
    "Completion": ("content", "model", "usage"),
    "Embedding": ("embedding", "index"),
    "EmbeddingResponse": ("model", "data", "usage"),
    "EmbeddingUsage": ("prompt_tokens", "total_tokens"),
    "Endpoint": (
        "inference_id",
        "task_type",
        "service",
        "service_settings",
        "task_settings",
        "chunking_settings",
        "cache",
    ),
    "FunctionCall": ("name", "arguments"),
    "FunctionCallDelta": ("name", "arguments"),
    "RerankResponse": ("model", "results"),
    "RerankResult": ("index", "relevance_score", "document"),
    "SparseEmbedding": ("embedding", "index", "is_truncated"),
    "SparseEmbeddingResponse": ("model", "data"),
    "StreamChunk": ("content", "id", "model", "role", "finish_reason", "index", "tool_calls", "usage"),
    "ToolCall": ("id", "function", "type"),
    "ToolCallDelta": ("index", "id", "type", "function"),
    "Usage": ("prompt_tokens", "completion_tokens", "total_tokens"),
}
PROPERTIES = {
    "ChatCompletion": {"content", "tool_calls", "finish_reason"},
    "EmbeddingResponse": {"embeddings"},
    "SparseEmbeddingResponse": {"embeddings"},
}


def test_response_fields_are_pinned() -> None:
    """The answers' field names (and the shortcuts on them) are the interface too."""
    structs = {
        name: getattr(client, name) for name in PUBLIC if hasattr(getattr(client, name), "__struct_fields__")
    }
    assert {name: cls.__struct_fields__ for name, cls in structs.items()} == FIELDS
    for name, properties in PROPERTIES.items():
        cls = getattr(client, name)
        assert {p for p in properties if isinstance(getattr(cls, p, None), property)} == properties, name


def test_error_attributes_are_pinned() -> None:
    body = {"error": {"type": "t", "reason": "r"}, "status": 400}
    error = client.BadRequestError("r", status=400, type="t", body=body, code="c", param="$.x")
    assert (error.status, error.type, error.reason, error.body, error.code, error.param) == (
        400,
        "t",
        "r",
        body,
        "c",
        "$.x",
    )
    limited = client.RateLimitError("slow", status=429, retry_after=2.5)
    assert (limited.retry_after, limited.status, limited.type, limited.param) == (2.5, 429, None, None)


def test_the_rest_of_the_signatures() -> None:
    for cls in (client.InferenceClient, client.AsyncInferenceClient):
        assert list(inspect.signature(cls.sparse_embedding).parameters)[1:] == [
            "model",
            "inference_id",
            "input",
            "timeout",
        ]
        assert list(inspect.signature(cls.rerank).parameters)[7:] == ["timeout"]
    for endpoints in (client.Endpoints, client.AsyncEndpoints):
        assert list(inspect.signature(endpoints.get).parameters)[1:] == ["inference_id"]
        assert list(inspect.signature(endpoints.list).parameters)[1:] == ["task_type"]
        assert list(inspect.signature(endpoints.update).parameters)[1:] == [
            "inference_id",
            "service_settings",
            "task_settings",
        ]
        assert list(inspect.signature(endpoints.delete).parameters)[1:] == ["inference_id"]
    assert {"close", "__enter__", "__exit__", "__iter__", "__next__"} <= set(dir(client.Stream))
    assert {"aclose", "__aenter__", "__aexit__", "__aiter__", "__anext__"} <= set(dir(client.AsyncStream))


def test_keyword_only_as_the_issue_pins_them() -> None:
    keyword = inspect.Parameter.KEYWORD_ONLY
    for cls in (client.InferenceClient, client.AsyncInferenceClient):
        init = inspect.signature(cls.__init__).parameters
        assert [p.kind for p in init.values()][1:] == [
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            keyword,
            keyword,
        ]
        for method in ("chat_completion", "completion", "embedding", "sparse_embedding", "rerank"):
            kinds = {p.kind for p in list(inspect.signature(getattr(cls, method)).parameters.values())[1:]}
            assert kinds <= {keyword, inspect.Parameter.VAR_KEYWORD}, method
