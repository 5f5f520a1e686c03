"""The Python SDK of the inference service: typed, streaming, sync and async.

::

    from inference_service.client import InferenceClient

    client = InferenceClient()   # INFERENCE_SERVICE_URL, INFERENCE_SERVICE_API_KEY
    answer = client.chat_completion(model="support-chat", messages=[{"role": "user", "content": "Hi"}])
    print(answer.content)

It speaks the Elasticsearch face (``/_inference/...``), so it also works against Elasticsearch
for chat streaming, completion, embeddings and rerank. Importing it loads httpx, msgspec and the
project's SSE decoder, none of the server (starlette, hypercorn, SQLAlchemy, aiohttp, llama.cpp).
"""

from __future__ import annotations

from inference_service.client.aio import AsyncEndpoints, AsyncInferenceClient
from inference_service.client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InferenceServiceError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
)
from inference_service.client.stream import AsyncStream, Stream
from inference_service.client.sync import Endpoints, InferenceClient
from inference_service.client.types import (
    ChatCompletion,
    ChatMessage,
    Choice,
    Completion,
    Embedding,
    EmbeddingResponse,
    EmbeddingUsage,
    Endpoint,
    FunctionCall,
    FunctionCallDelta,
    RerankResponse,
    RerankResult,
    SparseEmbedding,
    SparseEmbeddingResponse,
    StreamChunk,
    ToolCall,
    ToolCallDelta,
    Usage,
)

__all__ = [
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
