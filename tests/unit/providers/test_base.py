"""The provider contract (inference_service.providers.base): typed settings and the task methods
a provider implements."""

from __future__ import annotations

import pytest

from inference_service.model.chat import ChatCompletionRequest
from inference_service.model.embedding import EmbeddingRequest, SparseEmbeddingResult
from inference_service.model.task_type import TaskType
from inference_service.providers.anthropic.provider import AnthropicProvider
from inference_service.providers.base import (
    TASK_METHODS,
    ChunkStream,
    EndpointConfig,
    Provider,
    implemented_task_types,
)
from inference_service.providers.openai.provider import OpenAiProvider
from inference_service.providers.openai.settings import OpenAiServiceSettings, OpenAiTaskSettings
from inference_service.providers.schema import ApiKeySecrets, NoSecrets, NoTaskSettings

CONFIG = EndpointConfig(
    inference_id="ep",
    task_type=TaskType.CHAT_COMPLETION,
    service_settings=OpenAiServiceSettings(model_id="gpt-4o-mini"),
    task_settings=OpenAiTaskSettings(user="u"),
    secrets=ApiKeySecrets(api_key="sk-secret"),
)


def test_settings_are_handed_out_with_their_type() -> None:
    assert CONFIG.service(OpenAiServiceSettings).model_id == "gpt-4o-mini"
    assert CONFIG.task(OpenAiTaskSettings).user == "u"
    assert CONFIG.secret(ApiKeySecrets).api_key == "sk-secret"


def test_asking_for_the_wrong_settings_type_is_a_type_error_without_values() -> None:
    with pytest.raises(TypeError, match=r"^\[ep\] has OpenAiServiceSettings, not NoTaskSettings$"):
        CONFIG.service(NoTaskSettings)
    with pytest.raises(TypeError, match=r"^\[ep\] has OpenAiTaskSettings, not NoTaskSettings$"):
        CONFIG.task(NoTaskSettings)
    with pytest.raises(TypeError, match=r"^\[ep\] has ApiKeySecrets, not NoSecrets$") as caught:
        CONFIG.secret(NoSecrets)
    assert "sk-secret" not in str(caught.value)


class Sparse(Provider):
    async def sparse_embed(
        self, endpoint: EndpointConfig, request: EmbeddingRequest
    ) -> SparseEmbeddingResult:
        return SparseEmbeddingResult(embeddings=[])


class ChatAndSparse(Sparse):
    def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        raise NotImplementedError


def test_implemented_task_types() -> None:
    assert implemented_task_types(Provider) == frozenset()
    assert implemented_task_types(Sparse) == {TaskType.SPARSE_EMBEDDING}
    assert implemented_task_types(ChatAndSparse) == {
        TaskType.CHAT_COMPLETION,
        TaskType.COMPLETION,
        TaskType.SPARSE_EMBEDDING,
    }
    assert implemented_task_types(OpenAiProvider) == {
        TaskType.CHAT_COMPLETION,
        TaskType.COMPLETION,
        TaskType.TEXT_EMBEDDING,
    }
    assert implemented_task_types(AnthropicProvider) == {TaskType.CHAT_COMPLETION, TaskType.COMPLETION}


def test_every_task_type_has_a_method() -> None:
    assert set(TASK_METHODS) == set(TaskType)
    assert all(callable(getattr(Provider, method)) for method in TASK_METHODS.values())
