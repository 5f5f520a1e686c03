"""Settings of the ``deepseek`` service."""

from __future__ import annotations

from inference_service.providers.schema import SettingsStruct, Url


class DeepSeekServiceSettings(SettingsStruct):
    model_id: str
    url: Url | None = None
