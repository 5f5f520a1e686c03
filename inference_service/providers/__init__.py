"""Providers: one package per upstream API, listed here explicitly (grep and mypy see them all)."""

from inference_service.providers import openai
from inference_service.providers.spec import ProviderSpec

BUILTIN_PROVIDERS: tuple[ProviderSpec, ...] = (openai.PROVIDER,)
