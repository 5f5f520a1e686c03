"""What the request handlers share, built once by the lifespan and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from inference_service.management import EndpointManager
from inference_service.providers.registry import ProviderRegistry
from inference_service.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    registry: ProviderRegistry
    manager: EndpointManager


def services(request: Request) -> Services:
    state: Services = request.app.state.services
    return state
