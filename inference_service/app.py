"""``create_app(settings)``: the ASGI application, its lifespan and its error handlers."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from inference_service.admission import AdmissionMiddleware, admission_pacer
from inference_service.api import es, openai
from inference_service.api.bodies import discard_unread_body
from inference_service.api.face import Face, face_for
from inference_service.api.idempotency import IdempotencyMiddleware
from inference_service.api.state import Services
from inference_service.auth.keyring import KeyRing
from inference_service.auth.limiter import FailureLimiter
from inference_service.auth.manager import ApiKeyManager
from inference_service.auth.mode import open_without_keys
from inference_service.cache.store import CacheStore, MemoryCache, RedisCache
from inference_service.cache.wrapper import ResponseCache
from inference_service.connections import use_closing_tcp_server
from inference_service.cors import cors_middleware
from inference_service.endpoints.catalog import EndpointCatalog
from inference_service.endpoints.manager import EndpointManager
from inference_service.endpoints.preconfigured import preconfigured_endpoints
from inference_service.errors import INTERNAL_ERROR_REASON, DatabaseUnreachableError, InferenceServiceError
from inference_service.idempotency.factory import open_idempotency_store
from inference_service.inference.metering import Metering
from inference_service.inference.rate_limit import RateLimitGate
from inference_service.inference.record import current_record, response_headers
from inference_service.inference.retries import UpstreamRetries
from inference_service.inference.service import InferenceService
from inference_service.inference.shared_rate_limit import SharedRateLimits
from inference_service.lifecycle import DrainMiddleware, Lifecycle
from inference_service.logs import configure_logging
from inference_service.observe.metrics import Metrics, worker_exited
from inference_service.observe.middleware import ObserveMiddleware
from inference_service.observe.observers import Observers
from inference_service.providers import http as http_calls
from inference_service.providers.base import ProviderContext
from inference_service.providers.registry import builtin_registry
from inference_service.providers.router.provider import bind_router
from inference_service.providers.url_guard import UrlGuard
from inference_service.providers.url_policy import UrlPolicy
from inference_service.redis_client import connect_redis
from inference_service.refresh import RevisionWatcher
from inference_service.revision_listener import start_listener
from inference_service.settings import Settings, decode_settings
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.faults import DATABASE_ERRORS, is_database_fault, quiet_repeated_failures
from inference_service.store.migrate import ensure_schema_current
from inference_service.store.secret_box import load_secret_box
from inference_service.store.usage import UsageStore
from inference_service.ui import ui_route
from inference_service.usage.accounts import UsageAccounts
from inference_service.usage.flusher import UsageFlusher

if TYPE_CHECKING:
    from inference_service.observe.tracing import Tracing

log = logging.getLogger("inference_service")

FACES: tuple[Face, ...] = (es.FACE, openai.FACE)


async def on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InferenceServiceError)
    await _keep_alive(request)
    response = face_for(request.url.path, FACES).render_error(request, exc)
    response.headers.update(response_headers())
    return response


async def on_routing_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404 (no route) and 405 (wrong method), in the owning face's words."""
    assert isinstance(exc, HTTPException)
    await _keep_alive(request)
    face = face_for(request.url.path, FACES)
    return face.render_error(request, face.routing_error(request, exc))


async def on_database_error(request: Request, exc: Exception) -> Response:
    """The database cannot be reached (only management calls query it): 503 with the reason.
    Any other database or ``OSError`` is the unexpected error it is."""
    if not is_database_fault(exc):
        return await on_unexpected_error(request, exc)
    path, reason = request.url.path, type(exc).__name__
    log.warning("%s %s: the database is unreachable (%s)", request.method, path, reason)
    current_record().failed("DatabaseUnreachable")
    return await on_service_error(request, DatabaseUnreachableError())


async def _keep_alive(request: Request) -> None:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is not None:
        await discard_unread_body(request, services.settings.max_body_bytes)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    """Last resort: log the traceback, tell the client nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    current_record().failed("InternalError")
    face = face_for(request.url.path, FACES)
    return face.render_error(request, InferenceServiceError(INTERNAL_ERROR_REASON))


def _prefix_length(face: Face) -> int:
    return -len(face.prefix)


def face_name(path: str) -> str:
    """The name of the face that owns ``path`` (``es`` for everything outside ``/v1``)."""
    return face_for(path, FACES).name


def create_url_guard(settings: Settings, resolver: AbstractResolver | None = None) -> UrlGuard:
    """The provider URL guard: the allow-list and the name resolver (aiohttp's default, which
    never blocks the loop, unless a test brings its own); inside the running loop."""
    return UrlGuard(
        UrlPolicy.parse(settings.provider_url_allowlist),
        resolver or aiohttp.DefaultResolver(),
        lookup_timeout=settings.upstream_connect_timeout,
    )


def create_http_client(settings: Settings, guard: UrlGuard) -> aiohttp.ClientSession:
    """The one pooled upstream client (keep-alive; must be created inside the running loop).

    No read timeout here: the request deadline and the stream idle limit are enforced around
    each read by the streaming layer. ``trust_env`` stays off: with it aiohttp reads the
    environment and ``~/.netrc`` on a thread for every request (measured: ~25% of the CPU at
    load). A proxy, where needed, goes in front as a transparent one.

    Every connection passes the provider URL guard: host names through its resolver, literal
    addresses through its middleware (aiohttp resolves no literal); redirects are never followed
    (``providers.http``).
    """
    connector = aiohttp.TCPConnector(
        resolver=guard.resolver,
        limit=settings.upstream_max_connections,
        limit_per_host=0,
        keepalive_timeout=settings.upstream_keepalive_timeout,
        enable_cleanup_closed=True,
    )
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.upstream_connect_timeout)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        trust_env=False,
        auto_decompress=True,
        middlewares=(guard.middleware,),
    )


def response_cache(settings: Settings, redis: Redis | None) -> ResponseCache:
    """The response cache: in Redis when ``redis_url`` is set, else in this worker's memory."""
    store: CacheStore
    if redis is not None:
        store = RedisCache(redis, settings.redis_key_prefix)
    else:
        store = MemoryCache(settings.cache_max_bytes)
    return ResponseCache(store)


def create_app(
    settings: Settings, resolver: AbstractResolver | None = None, tracing: Tracing | None = None
) -> Starlette:
    """The application; ``resolver`` replaces the name resolver under the provider URL guard
    (tests map their own names to addresses with it), ``tracing`` the spans' destination
    (by default, with ``tracing = true``, the one the ``OTEL_*`` variables describe)."""
    if tracing is None and settings.tracing:
        from inference_service.observe.tracing import Tracing

        tracing = Tracing.from_environment()
    accounts = UsageAccounts()  # counted by the observers, written by the lifespan's flusher
    lifecycle = Lifecycle(settings.shutdown_grace)  # the drain and /_health/ready read it

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url, pool_size=settings.pool_size)
        guard = create_url_guard(settings, resolver)
        http = create_http_client(settings, guard)
        try:
            await ensure_schema_current(engine, settings)
            box = load_secret_box(settings.secrets_key, settings.resolved_secrets_key_file, create=True)
            sessions = create_sessionmaker(engine)
            registry = builtin_registry()
            context = ProviderContext(http=http, max_response_bytes=settings.max_upstream_response_bytes)
            providers = {spec.name: spec.provider(context) for spec in registry.specs}
            preconfigured = preconfigured_endpoints(settings)
            catalog = EndpointCatalog(sessions, box, registry, providers, preconfigured=preconfigured)
            await catalog.reload()
            keys = KeyRing(
                sessions,
                open_without_keys=open_without_keys(settings.auth, settings.host),
                always_open=settings.auth == "off",
                failures=FailureLimiter(settings.auth_failures_per_minute),
            )
            await keys.reload()
            if settings.auth == "off":
                log.warning("auth is off: every request is served without an API key")
            redis = connect_redis(settings)
            cache = response_cache(settings, redis)
            limits = SharedRateLimits(redis, settings.redis_key_prefix) if redis is not None else None
            # outermost first: a cache hit costs nothing below it; every retry is a provider
            # call of its own, and takes a rate-limit token
            wrappers = [cache, Metering(), UpstreamRetries(settings.upstream_max_retries)]
            wrappers.append(RateLimitGate(shared=limits))
            if tracing is not None:
                wrappers.append(tracing.wrapper())  # innermost: one client span per provider call
                http_calls.trace_headers = tracing.inject
            inference = InferenceService(settings, catalog, wrappers=wrappers)
            bind_router(providers, catalog.resolve, inference.pipeline, inference.batched)
            quiet_repeated_failures("inference_service.refresh")  # the poll logs each failure
            watcher = RevisionWatcher(sessions, [catalog, keys], interval=settings.catalog_refresh_interval)
            watcher.start()
            listener = start_listener(engine, watcher.wake)  # PostgreSQL: changes arrive at once
            idempotency = open_idempotency_store(settings, sessions, redis)
            usage = UsageStore(sessions)
            flusher = UsageFlusher(accounts, usage, settings.usage_flush_interval)
            app.state.services = Services(
                settings=settings,
                started_at=time.time(),
                engine=engine,
                registry=registry,
                providers=providers,
                manager=EndpointManager(
                    sessions, box, registry, guard, listener=catalog, preconfigured=preconfigured
                ),
                catalog=catalog,
                inference=inference,
                keys=keys,
                api_keys=ApiKeyManager(sessions, listener=keys),
                idempotency=idempotency,
                usage=usage,
            )
            try:
                flusher.start()
                if settings.local_model_preload:
                    for inference_id in preconfigured:
                        target = await catalog.resolve(inference_id)
                        await target.provider.prepare(target.config)
                lifecycle.models_loaded = True
                yield
            finally:
                await flusher.close()  # hypercorn has finished the requests: their counts go out
                await idempotency.close()
                if listener is not None:
                    await listener.close()
                await watcher.close()
                await cache.drain()
                if limits is not None:
                    await limits.close()
                if redis is not None:
                    await redis.aclose()
                for provider in providers.values():
                    provider.close()
                worker_exited(os.getpid())
                if tracing is not None:
                    http_calls.trace_headers = None
                    tracing.shutdown()
        finally:
            await http.close()
            await guard.resolver.close()
            await engine.dispose()

    admission = admission_pacer(settings.admission_per_round)
    app = Starlette(
        # a face owns every path under its prefix: the longest prefix first spares the /v1
        # requests a walk through every Elasticsearch route
        routes=[*(route for face in sorted(FACES, key=_prefix_length) for route in face.routes), ui_route()],
        # inside ServerErrorMiddleware, outside ExceptionMiddleware, so both see the rendered
        # errors; the observer outermost, so a replayed answer is counted and logged too
        middleware=[
            *cors_middleware(settings.cors_allow_origins),  # preflights need no key
            Middleware(DrainMiddleware, lifecycle=lifecycle),
            Middleware(
                ObserveMiddleware, observer=Observers(Metrics(), accounts), face_of=face_name, tracing=tracing
            ),
            *([Middleware(AdmissionMiddleware, pacer=admission)] if admission is not None else []),
            Middleware(IdempotencyMiddleware),
        ],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: on_routing_error,
            InferenceServiceError: on_service_error,
            **dict.fromkeys(DATABASE_ERRORS, on_database_error),
            Exception: on_unexpected_error,
        },
    )
    app.state.lifecycle = lifecycle
    return app


def create_app_from_encoded(token: str) -> Starlette:
    """Entry point for hypercorn workers: the settings ``serve`` resolved, handed over in the
    application path (``server.application_path``), so a worker never re-reads the sources.
    Each worker also serves its connections with :mod:`inference_service.connections`' fix."""
    use_closing_tcp_server()
    settings = decode_settings(token)
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
