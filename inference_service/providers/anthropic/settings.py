"""Settings of the ``anthropic`` service. ``task_settings.max_tokens`` is required."""

from __future__ import annotations

from typing import Annotated

import msgspec

from inference_service.providers.schema import PositiveInt, RateLimit, ServiceSettings, SettingsStruct, Url


class AnthropicServiceSettings(ServiceSettings, kw_only=True):
    model_id: str
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: a base URL for Anthropic-compatible gateways (default: the Anthropic API)."""


class AnthropicTaskSettings(SettingsStruct):
    max_tokens: PositiveInt
    temperature: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    top_k: PositiveInt | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
