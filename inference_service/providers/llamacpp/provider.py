"""The ``llamacpp`` provider: unified request -> llama.cpp's OpenAI-style server -> unified chunks;
texts -> llama.cpp's embedding mode -> vectors; rerank by the cosine of those vectors.

Deviations, and why:

- ``tools`` are refused (400): the bundled model has no tool-calling template, and a model
  that cannot call tools must say so rather than ignore them.
- Content parts other than ``text`` are refused (400): the model reads text only. Text parts
  are joined.
- ``response_format`` goes to llama.cpp as it is: llama.cpp turns a ``json_schema`` (or
  ``json_object``) format into a grammar that constrains sampling, so the output parses and
  matches the schema (unless ``max_tokens`` cuts it off). ``seed`` goes as it is too, and so do
  ``frequency_penalty`` and ``presence_penalty`` (llama.cpp's sampler applies both, over the
  last ``repeat_last_n`` tokens, 64 by default).
- ``max_completion_tokens`` becomes llama.cpp's ``max_tokens``; unset, the endpoint's
  ``task_settings.max_tokens`` applies, else the model generates until it stops or its slot's
  context is full.
- Chunks report the endpoint's ``model`` setting (llama.cpp would report the file path).
- text_embedding: a REST ``input_type`` is refused (400): the models have no query/passage
  notion; the bundled model truncates inputs to ``max_input_tokens`` (256) as
  sentence-transformers does, a ``.gguf`` file's over-long input is a 400 (llama.cpp cannot
  truncate).
- rerank is a bi-encoder: the score is the cosine similarity of the query's and the
  document's embeddings (-1 to 1), not a cross-encoder's relevance. It ranks well enough for
  short passages and costs one embedding per document.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

import msgspec

from inference_service.errors import InvalidRequestError, UnsupportedError, UpstreamError
from inference_service.model.chat import PENALTIES, ChatCompletionChunk, ChatCompletionRequest, TextPart
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult, refuse_rest_input_type
from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider, ProviderContext
from inference_service.providers.llamacpp.engine import (
    EmbeddingEngineConfig,
    EngineConfig,
    LlamaCppEmbeddingEngine,
    LlamaCppEngine,
)
from inference_service.providers.llamacpp.settings import (
    BUNDLED_EMBEDDING_MODEL,
    BUNDLED_EMBEDDING_TOKENS,
    LlamaCppEmbeddingSettings,
    LlamaCppRerankSettings,
    LlamaCppServiceSettings,
    LlamaCppTaskSettings,
)


def _text(content: Any, path: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for i, part in enumerate(content):
        if not isinstance(part, TextPart):
            raise UnsupportedError(
                f"{path}[{i}]: the [llamacpp] service reads text only, not [{part.__struct_config__.tag}]",
                param=f"{path}[{i}]",
            )
        parts.append(part.text)
    return "\n".join(parts)


def to_llamacpp_request(
    request: ChatCompletionRequest, task: LlamaCppTaskSettings, inference_id: str
) -> dict[str, Any]:
    if request.tools or request.tool_choice is not None:
        raise InvalidRequestError(
            f"the model of [{inference_id}] cannot call tools; remove [tools] and [tool_choice]",
            param="$.tools",
        )
    if request.reasoning is not None:
        raise UnsupportedError("[reasoning] is not supported by the [llamacpp] service", param="reasoning")
    messages = [
        {"role": m.__struct_config__.tag, "content": _text(m.content, f"$.messages[{i}].content")}
        for i, m in enumerate(request.messages)
    ]
    body: dict[str, Any] = {"messages": messages, "stream": True, "stream_options": {"include_usage": True}}
    max_tokens = request.max_completion_tokens or task.max_tokens
    if max_tokens:
        body["max_tokens"] = max_tokens
    body.update(request.sampling(task.temperature, task.top_p))
    if request.stop:
        body["stop"] = list(request.stop)
    if request.response_format is not None:
        body["response_format"] = msgspec.to_builtins(request.response_format)
    if request.seed is not None:
        body["seed"] = request.seed
    for name in PENALTIES:
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    return body


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0


class LlamaCppProvider(Provider):
    """Serves every llamacpp endpoint; endpoints with the same model configuration share one engine."""

    max_batch_size = 64
    """Inputs per embedding call: llama.cpp spreads them over the slots."""

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._engines: dict[EngineConfig, LlamaCppEngine] = {}
        self._embedding_engines: dict[EmbeddingEngineConfig, LlamaCppEmbeddingEngine] = {}

    @property
    def engines(self) -> list[LlamaCppEngine | LlamaCppEmbeddingEngine]:
        return [*self._engines.values(), *self._embedding_engines.values()]

    def engine(self, endpoint: EndpointConfig) -> LlamaCppEngine:
        """The engine for the endpoint's model configuration, created (not loaded) on first use.

        The model file is resolved when the engine loads, off the event loop (assembling the
        bundled model's file takes most of a second).
        """
        settings = endpoint.service(LlamaCppServiceSettings)
        key = EngineConfig(settings.model, settings.context_size, settings.threads, settings.parallel_slots)
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = LlamaCppEngine(key)
        return engine

    def embedding_engine(self, endpoint: EndpointConfig) -> LlamaCppEmbeddingEngine:
        """The embedding engine of a text_embedding or rerank endpoint, created on first use."""
        settings: LlamaCppEmbeddingSettings | LlamaCppRerankSettings
        if endpoint.task_type == TaskType.RERANK:
            settings = endpoint.service(LlamaCppRerankSettings)
        else:
            settings = endpoint.service(LlamaCppEmbeddingSettings)
        max_tokens = settings.max_input_tokens
        if max_tokens is None and settings.model == BUNDLED_EMBEDDING_MODEL:
            max_tokens = BUNDLED_EMBEDDING_TOKENS  # the same engine whether or not it is spelt out
        key = EmbeddingEngineConfig(settings.model, max_tokens, settings.threads, settings.parallel_slots)
        engine = self._embedding_engines.get(key)
        if engine is None:
            engine = self._embedding_engines[key] = LlamaCppEmbeddingEngine(key)
        return engine

    async def prepare(self, endpoint: EndpointConfig) -> None:
        """Load the endpoint's model now (``local_model_preload``) instead of on first use."""
        if endpoint.task_type in (TaskType.TEXT_EMBEDDING, TaskType.RERANK):
            await self.embedding_engine(endpoint).load()
        else:
            await self.engine(endpoint).load()

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        refuse_rest_input_type(request.input_type)
        result = await self.embedding_engine(endpoint).embed(request.input, endpoint.inference_id)
        return TextEmbeddingResult(embeddings=result.vectors)

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        engine = self.embedding_engine(endpoint)
        texts = [request.query, *request.input]
        size = self.max_batch_size
        parts = await asyncio.gather(
            *(engine.embed(texts[i : i + size], endpoint.inference_id) for i in range(0, len(texts), size))
        )
        vectors = [v for part in parts for v in part.vectors]
        query, documents = vectors[0], vectors[1:]
        return RerankResult(
            ranked=[
                RankedDocument(index=i, relevance_score=cosine(query, d)) for i, d in enumerate(documents)
            ]
        )

    async def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        body = to_llamacpp_request(request, endpoint.task(LlamaCppTaskSettings), endpoint.inference_id)
        model = endpoint.service(LlamaCppServiceSettings).model
        chunks = self.engine(endpoint).stream_chat(body)
        try:
            async for batch in chunks:
                converted: list[ChatCompletionChunk] = []
                for raw in batch:
                    error = self._error(raw, endpoint.inference_id)
                    if error is not None:
                        if converted:
                            yield converted
                        raise error
                    raw["model"] = model
                    converted.append(msgspec.convert(raw, ChatCompletionChunk))
                yield converted
        finally:
            await chunks.aclose()

    @staticmethod
    def _error(raw: dict[str, Any], inference_id: str) -> UpstreamError | None:
        """llama.cpp reports failures (e.g. a prompt longer than a slot's context) as a chunk."""
        error = raw.get("error")
        if error is None:
            return None
        return UpstreamError(
            f"The local model failed for inference entity id [{inference_id}]: {error.get('message', error)}",
            status=400 if error.get("code") == 400 else 502,
            error_type=str(error.get("type") or "status_exception"),
        )

    def close(self) -> None:
        for engine in self.engines:
            engine.close()
