"""Settings of the ``hugging_face`` service, with Elasticsearch's names.

Chat: an OpenAI-compatible ``/v1/chat/completions`` URL. ``text_embedding`` and ``rerank``: the
URL of the user's endpoint, typically a Text Embeddings Inference (TEI) server's ``/embed`` or
``/rerank`` (or its root, which serves the task of the model it loaded). As in Elasticsearch,
neither takes a ``model_id``: the deployment behind the URL names the model.
"""

from __future__ import annotations

from inference_service.providers.schema import (
    EmbeddingSettings,
    PositiveInt,
    RateLimit,
    ServiceSettings,
    SettingsStruct,
    Url,
)

CHAT_PATH = "/v1/chat/completions"


class HuggingFaceChatServiceSettings(ServiceSettings, kw_only=True):
    url: Url
    model_id: str | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        if CHAT_PATH not in self.url:
            raise ValueError(f"[url] must be an OpenAI-compatible chat URL containing [{CHAT_PATH}]")


class HuggingFaceEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    """``service_settings`` for text_embedding endpoints; ``dimensions`` is never sent upstream
    (Elasticsearch sends none), only checked against the vectors that come back."""

    url: Url
    rate_limit: RateLimit | None = None


class HuggingFaceRerankServiceSettings(ServiceSettings, kw_only=True):
    url: Url
    rate_limit: RateLimit | None = None


class HuggingFaceRerankTaskSettings(SettingsStruct):
    """Used when the request does not give its own ``top_n`` / ``return_documents``."""

    top_n: PositiveInt | None = None
    return_documents: bool | None = None
