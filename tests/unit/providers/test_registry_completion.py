"""The registry's start-up check for providers whose stream_chat serves completion only."""

from __future__ import annotations

import pytest

from inference_service.model.chat import ChatCompletionRequest
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.registry import ProviderSpecError, check_spec
from inference_service.providers.schema import NoSecrets, NoTaskSettings
from inference_service.providers.spec import ProviderSpec


class Completes(Provider):
    def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        raise NotImplementedError


class CompletesAndEmbeds(Completes):
    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        raise NotImplementedError


def spec(provider: type[Provider], *task_types: TaskType) -> ProviderSpec:
    return ProviderSpec(
        name="p",
        provider=provider,
        service_settings={t: NoTaskSettings for t in task_types},
        secrets=NoSecrets,
    )


def test_stream_chat_may_serve_completion_alone_or_with_chat() -> None:
    check_spec(spec(Completes, TaskType.COMPLETION))
    check_spec(spec(Completes, TaskType.CHAT_COMPLETION, TaskType.COMPLETION))
    check_spec(spec(CompletesAndEmbeds, TaskType.COMPLETION, TaskType.TEXT_EMBEDDING))


@pytest.mark.parametrize(
    ("provider", "task_types"),
    [
        (Completes, (TaskType.TEXT_EMBEDDING,)),  # declared, not implemented
        (Completes, (TaskType.COMPLETION, TaskType.RERANK)),
        (CompletesAndEmbeds, (TaskType.COMPLETION,)),  # embed implemented, not declared
    ],
)
def test_declarations_and_methods_must_agree(
    provider: type[Provider], task_types: tuple[TaskType, ...]
) -> None:
    with pytest.raises(ProviderSpecError, match="declares task types"):
        check_spec(spec(provider, *task_types))
