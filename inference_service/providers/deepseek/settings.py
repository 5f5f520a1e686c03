"""Settings of the ``deepseek`` service."""

from __future__ import annotations

from inference_service.providers.schema import ServiceSettings, Url


class DeepSeekServiceSettings(ServiceSettings, kw_only=True):
    model_id: str
    url: Url | None = None
