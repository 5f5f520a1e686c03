"""What the request handlers share, built once by the lifespan and kept on ``app.state``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from inference_service.auth.keyring import KeyRing
from inference_service.auth.manager import ApiKeyManager
from inference_service.endpoints.catalog import EndpointCatalog
from inference_service.endpoints.manager import EndpointManager
from inference_service.idempotency.store import IdempotencyStore
from inference_service.inference.service import InferenceService
from inference_service.providers.base import Provider
from inference_service.providers.registry import ProviderRegistry
from inference_service.settings import Settings
from inference_service.store.usage import UsageStore


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    started_at: float
    """When this worker started (epoch seconds)."""
    engine: AsyncEngine
    registry: ProviderRegistry
    providers: Mapping[str, Provider]
    """One provider instance per service name, sharing the pooled HTTP client."""
    manager: EndpointManager
    catalog: EndpointCatalog
    inference: InferenceService
    keys: KeyRing
    """This worker's API keys, which authenticate every request."""
    api_keys: ApiKeyManager
    idempotency: IdempotencyStore
    """Claims and stored outcomes of idempotency keys (SQL, or Redis with ``redis_url``)."""
    usage: UsageStore
    """The usage table every worker flushes its counts to (``GET /_inference/_usage`` reads it)."""


def services(request: Request) -> Services:
    state: Services = request.app.state.services
    return state
