"""The ``splade`` provider: texts -> SPLADE term weights computed in this process.

Deviations, and why:

- A REST ``input_type`` is refused (400): the model encodes queries and documents alike.
- Inputs longer than ``max_input_tokens`` (default the model's 512 positions) are truncated and
  flagged ``is_truncated``, as Elasticsearch does for ELSER.
- Token names are the model's WordPiece vocabulary, ``##`` continuations included.
"""

from __future__ import annotations

from inference_service.model.embedding import EmbeddingRequest, SparseEmbeddingResult, refuse_rest_input_type
from inference_service.providers.base import EndpointConfig, Provider, ProviderContext
from inference_service.providers.splade.engine import SpladeConfig, SpladeEngine
from inference_service.providers.splade.settings import SpladeServiceSettings


class SpladeProvider(Provider):
    """Serves every splade endpoint; endpoints with the same configuration share one model."""

    max_batch_size = 32

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._engines: dict[SpladeConfig, SpladeEngine] = {}

    @property
    def engines(self) -> list[SpladeEngine]:
        return list(self._engines.values())

    def engine(self, endpoint: EndpointConfig) -> SpladeEngine:
        settings = endpoint.service(SpladeServiceSettings)
        key = SpladeConfig(settings.model, settings.max_input_tokens, settings.parallel_slots)
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = SpladeEngine(key)
        return engine

    async def prepare(self, endpoint: EndpointConfig) -> None:
        await self.engine(endpoint).load()

    async def sparse_embed(
        self, endpoint: EndpointConfig, request: EmbeddingRequest
    ) -> SparseEmbeddingResult:
        refuse_rest_input_type(request.input_type)
        return SparseEmbeddingResult(embeddings=await self.engine(endpoint).encode(request.input))

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
