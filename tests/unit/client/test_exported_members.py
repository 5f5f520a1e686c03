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
