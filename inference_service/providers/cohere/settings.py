"""Settings of the ``cohere`` service, with Elasticsearch's names (its v2 API only).

``model_id`` is required, as Elasticsearch requires it for the v2 API; the legacy ``model`` is
accepted in its place and stored as ``model_id``. ``embedding_type`` is stored as the element
type it stands for (``int8`` -> ``byte``, ``binary`` -> ``bit``), as Elasticsearch stores it.
``url`` replaces the whole URL of the task's call (embed or rerank).
"""

from __future__ import annotations

from typing import Literal, Protocol

from inference_service.model.embedding import ElementType
from inference_service.providers.schema import (
    EmbeddingSettings,
    PositiveInt,
    RateLimit,
    ServiceSettings,
    SettingsStruct,
    Url,
)

CohereEmbeddingType = Literal["float", "byte", "int8", "bit", "binary"]
ELEMENT_TYPES: dict[str, ElementType] = {
    "float": "float",
    "byte": "byte",
    "int8": "byte",
    "bit": "bit",
    "binary": "bit",
}
MODEL_REQUIRED = "The [service_settings.model_id] field is required for the Cohere V2 API."


class _Model(Protocol):
    model_id: str | None
    model: str | None


def _settle_model_id(settings: _Model) -> None:
    """The legacy ``model`` becomes ``model_id``; one of them is required."""
    if settings.model_id is None:
        settings.model_id = settings.model
    settings.model = None
    if settings.model_id is None:
        raise ValueError(MODEL_REQUIRED)


class CohereEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    model_id: str | None = None
    model: str | None = None
    """Legacy spelling of ``model_id``."""
    embedding_type: CohereEmbeddingType | None = None
    """``float`` (the default), ``byte``/``int8`` or ``bit``/``binary``."""
    url: Url | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        _settle_model_id(self)
        if self.embedding_type is not None:
            self.embedding_type = ELEMENT_TYPES[self.embedding_type]

    @property
    def element_type(self) -> ElementType:
        return ELEMENT_TYPES[self.embedding_type or "float"]


class CohereRerankServiceSettings(ServiceSettings, kw_only=True):
    model_id: str | None = None
    model: str | None = None
    """Legacy spelling of ``model_id``."""
    url: Url | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        _settle_model_id(self)


class CohereEmbeddingTaskSettings(SettingsStruct):
    input_type: Literal["ingest", "search", "classification", "clustering"] | None = None
    """Used when a request gives none."""
    truncate: Literal["END", "NONE", "START"] | None = None


class CohereRerankTaskSettings(SettingsStruct):
    top_n: PositiveInt | None = None
    return_documents: bool | None = None
    max_chunks_per_doc: PositiveInt | None = None
