"""The provider contract: one method per task, capabilities declared as data.

A provider is a class derived from :class:`Provider`. It overrides the methods of the task
types it serves and leaves the others alone; the registry checks at start-up that what a
provider overrides is exactly what its :class:`~inference_service.providers.spec.ProviderSpec`
declares (:data:`TASK_METHODS`). A task method that is not overridden answers
:class:`~inference_service.errors.UnsupportedError`.

Obligations (like httpx's transport docstring):

- ``stream_chat`` returns an async generator the caller must close (``aclosing``). It raises
  an :class:`~inference_service.errors.InferenceServiceError` *before its first yield* when the
  provider refuses the request, so the API can answer with a real status; chunks that arrived
  before a failure are yielded before the error is raised.
- Every upstream resource is held in ``async with``: when the consumer stops early (client
  gone, deadline passed) the generator is closed or cancelled and the upstream connection
  closes with it.
- A malformed or truncated upstream answer is an error, never a silent end.
- A provider never swallows ``CancelledError`` and never logs or echoes secrets.
- It holds no per-request state; what it is built with is a :class:`ProviderContext`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, TypeVar

import aiohttp

from inference_service.errors import UnsupportedError
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest
from inference_service.model.embedding import EmbeddingRequest, SparseEmbeddingResult, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers.schema import SettingsStruct

ChunkStream = AsyncGenerator[list[ChatCompletionChunk], None]
"""What ``stream_chat`` returns: an async generator the caller must ``aclose``, yielding
non-empty lists of chunks: everything one upstream read brought, so it is forwarded in one
write (one chunk per list when tokens arrive one by one)."""

S = TypeVar("S", bound=SettingsStruct)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointConfig:
    """One endpoint's validated configuration, typed: what a provider method receives.

    The Structs are the provider's own settings classes (parsed once, when the endpoint is
    stored or loaded); :meth:`service`, :meth:`task` and :meth:`secret` hand them out with
    their precise type, so provider code never reads settings out of untyped maps.
    """

    inference_id: str
    task_type: TaskType
    service_settings: SettingsStruct
    task_settings: SettingsStruct
    secrets: SettingsStruct

    def service(self, kind: type[S]) -> S:
        return _narrow(self.service_settings, kind, self.inference_id)

    def task(self, kind: type[S]) -> S:
        return _narrow(self.task_settings, kind, self.inference_id)

    def secret(self, kind: type[S]) -> S:
        return _narrow(self.secrets, kind, self.inference_id)


def _narrow(value: SettingsStruct, kind: type[S], inference_id: str) -> S:
    if not isinstance(value, kind):
        raise TypeError(f"[{inference_id}] has {type(value).__name__}, not {kind.__name__}")
    return value


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What a provider is built with: the process-wide pooled HTTP client and its limits."""

    http: aiohttp.ClientSession
    max_response_bytes: int = 256 * 1024 * 1024
    """The largest non-streamed upstream answer read (setting max_upstream_response_bytes)."""


class Provider:
    """Base class of every provider; see the module docstring for the obligations."""

    max_batch_size: ClassVar[int] = 2048
    """The most inputs one upstream embedding call may carry (the service splits larger
    requests into concurrent batches)."""

    def __init__(self, context: ProviderContext) -> None:
        self.http = context.http
        self.max_response_bytes = context.max_response_bytes

    def batch_size(self, endpoint: EndpointConfig) -> int:
        """Inputs per upstream embedding call for ``endpoint``."""
        return self.max_batch_size

    def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        """``chat_completion`` and ``completion`` (a completion is a chat of one user message)."""
        raise _unsupported(self, endpoint)

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        """``text_embedding``: one dense vector per input, in order."""
        raise _unsupported(self, endpoint)

    async def sparse_embed(
        self, endpoint: EndpointConfig, request: EmbeddingRequest
    ) -> SparseEmbeddingResult:
        """``sparse_embedding``: one token -> weight map per input, in order."""
        raise _unsupported(self, endpoint)

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        """``rerank``: the inputs by relevance to the query, best first."""
        raise _unsupported(self, endpoint)

    async def prepare(self, endpoint: EndpointConfig) -> None:
        """Load what ``endpoint`` needs before its first request (a local model); remote
        providers have nothing to do."""

    def close(self) -> None:
        """Release what the provider holds (a loaded model); called once at shutdown."""


TASK_METHODS: Mapping[TaskType, str] = MappingProxyType(
    {
        TaskType.CHAT_COMPLETION: "stream_chat",
        TaskType.COMPLETION: "stream_chat",
        TaskType.TEXT_EMBEDDING: "embed",
        TaskType.SPARSE_EMBEDDING: "sparse_embed",
        TaskType.RERANK: "rerank",
    }
)
"""The :class:`Provider` method that serves each task type."""


def implemented_task_types(provider: type[Provider]) -> frozenset[TaskType]:
    """The task types whose method ``provider`` overrides."""
    return frozenset(
        task
        for task, method in TASK_METHODS.items()
        if getattr(provider, method) is not getattr(Provider, method)
    )


def _unsupported(provider: Provider, endpoint: EndpointConfig) -> UnsupportedError:
    return UnsupportedError(
        f"The [{type(provider).__name__}] provider does not support task type [{endpoint.task_type}]"
    )
