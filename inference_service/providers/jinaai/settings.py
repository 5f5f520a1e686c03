"""Settings of the ``jinaai`` service, with Elasticsearch's names. ``url`` replaces the whole
URL of the task's call (embeddings or rerank)."""

from __future__ import annotations

from typing import Literal

from inference_service.model.embedding import ElementType
from inference_service.providers.schema import (
    EmbeddingSettings,
    PositiveInt,
    RateLimit,
    ServiceSettings,
    SettingsStruct,
    Url,
)

ELEMENT_TYPES: dict[str, ElementType] = {"float": "float", "bit": "bit", "binary": "bit"}


class JinaAIEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    model_id: str
    embedding_type: Literal["float", "bit", "binary"] | None = None
    """``float`` (the default) or ``bit``/``binary`` (packed bits as signed bytes)."""
    url: Url | None = None
    rate_limit: RateLimit | None = None

    @property
    def element_type(self) -> ElementType:
        return ELEMENT_TYPES[self.embedding_type or "float"]


class JinaAIRerankServiceSettings(ServiceSettings, kw_only=True):
    model_id: str
    url: Url | None = None
    rate_limit: RateLimit | None = None


class JinaAIEmbeddingTaskSettings(SettingsStruct):
    input_type: Literal["ingest", "search", "classification", "clustering"] | None = None
    """Used when a request gives none."""
    late_chunking: bool | None = None


class JinaAIRerankTaskSettings(SettingsStruct):
    top_n: PositiveInt | None = None
    return_documents: bool | None = None
