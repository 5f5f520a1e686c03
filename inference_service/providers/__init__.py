"""Providers: one package per upstream API, listed here explicitly (grep and mypy see them all)."""

from inference_service.providers import (
    anthropic,
    azureopenai,
    cohere,
    custom,
    deepseek,
    googleaistudio,
    hugging_face,
    jinaai,
    llamacpp,
    mistral,
    openai,
    router,
    splade,
    voyageai,
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
    cohere.PROVIDER,
    custom.PROVIDER,
    googleaistudio.PROVIDER,
    jinaai.PROVIDER,
    voyageai.PROVIDER,
    splade.PROVIDER,
    router.PROVIDER,
)
