"""Settings of the ``voyageai`` service, with Elasticsearch's names.

``dimensions`` (the user's own) is sent as ``output_dimension`` and ``embedding_type`` as
``output_dtype``. Not in Elasticsearch: ``url``, replacing the whole URL of the task's call
(a proxy, a private deployment).
"""

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

ELEMENT_TYPES: dict[str, ElementType] = {
    "float": "float",
    "int8": "byte",
    "byte": "byte",
    "bit": "bit",
    "binary": "bit",
}


class VoyageAIEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    model_id: str
    embedding_type: Literal["float", "int8", "byte", "bit", "binary"] | None = None
    """``float`` (the default), ``int8``/``byte`` or ``bit``/``binary``."""
    url: Url | None = None
    rate_limit: RateLimit | None = None

    @property
    def element_type(self) -> ElementType:
        return ELEMENT_TYPES[self.embedding_type or "float"]


class VoyageAIRerankServiceSettings(ServiceSettings, kw_only=True):
    model_id: str
    url: Url | None = None
    rate_limit: RateLimit | None = None


class VoyageAIEmbeddingTaskSettings(SettingsStruct):
    input_type: Literal["ingest", "search"] | None = None
    """Used when a request gives none."""
    truncation: bool | None = None


class VoyageAIRerankTaskSettings(SettingsStruct):
    top_k: PositiveInt | None = None
    return_documents: bool | None = None
    truncation: bool | None = None
