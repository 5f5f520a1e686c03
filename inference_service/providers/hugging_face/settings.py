"""Settings of the ``hugging_face`` service for chat: an OpenAI-compatible URL."""

from __future__ import annotations

from inference_service.providers.schema import RateLimit, SettingsStruct, Url

CHAT_PATH = "/v1/chat/completions"


class HuggingFaceChatServiceSettings(SettingsStruct):
    url: Url
    model_id: str | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        if CHAT_PATH not in self.url:
            raise ValueError(f"[url] must be an OpenAI-compatible chat URL containing [{CHAT_PATH}]")
