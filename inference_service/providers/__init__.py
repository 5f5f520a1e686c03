"""Providers: one package per upstream API, listed here explicitly (grep and mypy see them all)."""

from inference_service.providers import (
    anthropic,
    azureopenai,
    deepseek,
    hugging_face,
    llamacpp,
    mistral,
    openai,
    splade,
)
from inference_service.providers.spec import ProviderSpec

BUILTIN_PROVIDERS: tuple[ProviderSpec, ...] = (
    openai.PROVIDER,
    mistral.PROVIDER,
    deepseek.PROVIDER,
    hugging_face.PROVIDER,
    azureopenai.PROVIDER,
    anthropic.PROVIDER,
    llamacpp.PROVIDER,
    splade.PROVIDER,
)
