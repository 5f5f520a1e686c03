"""Cross-origin requests from web pages (``cors_allow_origins``): off unless an admin names the
origins, answered by Starlette's ``CORSMiddleware``.

A web app on another origin (a chat page calling ``/v1/chat/completions`` with the OpenAI SDK
in the browser, a search UI calling ``/_inference``) needs the service to answer the browser's
preflight and to mark its answers as readable there. The list is exact origins
(``https://app.example.com``, ``http://localhost:5173``) or ``*``; credentials are API keys in
the ``Authorization`` header, never cookies, so ``allow_credentials`` stays off and ``*`` cannot
carry a session a browser holds. Preflights are answered before authentication (a browser sends
them without the key); the request that follows is authenticated as any other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

SETTING = "cors_allow_origins"

REQUEST_HEADERS = (
    "authorization",
    "content-type",
    "cache-control",
    "idempotency-key",
    "x-request-id",
    "x-opaque-id",
    "x-request-timeout",
    "x-elastic-client-meta",
)
"""What the service reads from a request beyond the safelisted ones."""

EXPOSED_HEADERS = (
    "x-request-id",
    "x-opaque-id",
    "retry-after",
    "x-cache",
    "age",
    "idempotent-replayed",
    "x-inference-endpoint",
    "x-elastic-product",
)
"""The service's own answer headers a page may read."""


class CorsOriginError(ValueError):
    pass


def parse_origins(text: str) -> list[str]:
    """The setting's comma-separated origins, each ``*`` or ``scheme://host[:port]`` with
    ``http``/``https`` and nothing after the authority (a browser's ``Origin`` never has a path)."""
    origins: list[str] = []
    for raw in text.split(","):
        origin = raw.strip()
        if not origin:
            continue
        if origin != "*":
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username is not None
            ):
                raise CorsOriginError(
                    f"{SETTING}: [{origin}] is not an origin (scheme://host[:port], e.g. "
                    "https://app.example.com) nor *"
                )
            origin = origin.lower()
        origins.append(origin)
    return origins


def cors_middleware(text: str) -> list[Middleware]:
    """The middleware for the setting's value (none when it names no origin)."""
    origins = parse_origins(text)
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
            allow_headers=list(REQUEST_HEADERS),
            expose_headers=list(EXPOSED_HEADERS),
            max_age=600,
        )
    ]
