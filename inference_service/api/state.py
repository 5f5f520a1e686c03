"""What the request handlers share, built once by the lifespan and kept on ``app.state``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from inference_service.catalog import EndpointCatalog
from inference_service.management import EndpointManager
from inference_service.providers.base import Provider
from inference_service.providers.registry import ProviderRegistry
from inference_service.rate_limit import RateLimiter
from inference_service.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    registry: ProviderRegistry
    manager: EndpointManager
    catalog: EndpointCatalog
    http: aiohttp.ClientSession
    providers: Mapping[str, Provider]
    limiter: RateLimiter
    """One provider instance per service name, sharing :attr:`http`."""


def services(request: Request) -> Services:
    state: Services = request.app.state.services
    return state
