"""``create_app(settings)``: the ASGI application, its lifespan and its two error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.http import json_response
from inference_service.api.routes import ROUTES
from inference_service.api.state import Services
from inference_service.catalog import EndpointCatalog
from inference_service.errors import (
    INTERNAL_ERROR_REASON,
    InferenceServiceError,
    es_error_body,
)
from inference_service.logs import configure_logging
from inference_service.management import EndpointManager
from inference_service.preconfigured import preconfigured_endpoints
from inference_service.providers.base import ProviderContext
from inference_service.providers.registry import builtin_registry
from inference_service.rate_limit import RateLimiter
from inference_service.settings import Settings, decode_settings
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.migrate import ensure_schema_current
from inference_service.store.secret_box import load_secret_box

log = logging.getLogger("inference_service")


async def on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InferenceServiceError)
    return json_response(request, es_error_body(exc), status=exc.status)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    """Last resort: log the traceback, tell the client nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = es_error_body(InferenceServiceError(INTERNAL_ERROR_REASON))
    return json_response(request, body, status=500)


def create_http_client(settings: Settings) -> aiohttp.ClientSession:
    """The one pooled upstream client (keep-alive; must be created inside the running loop).

    No read timeout here: the request deadline and the stream idle limit are enforced around
    each read by the streaming layer. ``trust_env`` stays off: with it aiohttp reads the
    environment and ``~/.netrc`` on a thread for every request (measured: ~25% of the CPU at
    load). A proxy, where needed, goes in front as a transparent one.
    """
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_max_connections,
        limit_per_host=0,
        keepalive_timeout=settings.upstream_keepalive_timeout,
        enable_cleanup_closed=True,
    )
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.upstream_connect_timeout)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False, auto_decompress=True)


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url, pool_size=settings.pool_size)
        http = create_http_client(settings)
        try:
            await ensure_schema_current(engine, settings)
            box = load_secret_box(settings.secrets_key, settings.resolved_secrets_key_file, create=True)
            sessions = create_sessionmaker(engine)
            registry = builtin_registry()
            context = ProviderContext(http=http)
            preconfigured = preconfigured_endpoints(settings)
            catalog = EndpointCatalog(
                sessions, box, refresh_interval=settings.catalog_refresh_interval, preconfigured=preconfigured
            )
            await catalog.start()
            providers = {spec.name: spec.build(context) for spec in registry.specs}
            app.state.services = Services(
                settings=settings,
                engine=engine,
                sessions=sessions,
                registry=registry,
                manager=EndpointManager(
                    sessions, box, registry, listener=catalog, preconfigured=preconfigured
                ),
                catalog=catalog,
                http=http,
                providers=providers,
                limiter=RateLimiter(),
            )
            try:
                if settings.local_model_preload:
                    for endpoint in preconfigured.values():
                        await providers[endpoint.service].prepare(endpoint)
                yield
            finally:
                await catalog.close()
                for provider in providers.values():
                    provider.close()
        finally:
            await http.close()
            await engine.dispose()

    app = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers={
            InferenceServiceError: on_service_error,
            Exception: on_unexpected_error,
        },
    )
    return app


def create_app_from_encoded(token: str) -> Starlette:
    """Entry point for hypercorn workers: the settings ``serve`` resolved, handed over in the
    application path (``server.application_path``), so a worker never re-reads the sources."""
    settings = decode_settings(token)
    configure_logging(settings.log_level)
    return create_app(settings)
