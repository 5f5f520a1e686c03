"""The admin page, ``/_ui/``: static files shipped in the package, served under a strict
Content-Security-Policy.

The page is plain ES modules (no build step) plus one vendored chart library
(``static/vendor/uplot-<version>``); it calls only the public API from the browser, with the
user's API key, so it adds no private endpoint and holds no secret. The policy admits only the
service's own origin for scripts, styles and requests, no inline script or style, no framing.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-cache",
    "cross-origin-opener-policy": "same-origin",
}
"""On every answer under ``/_ui`` (404s included); ``no-cache``: revalidated, so an upgraded
service never runs an old page against a new API."""


class _Secured:
    """The static files app with :data:`HEADERS` added to each response's start; a file that is
    not there is a plain 404 (the app's routing errors are the Elasticsearch face's 400)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].decode("latin-1") not in HEADERS),
                    *((k.encode(), v.encode()) for k, v in HEADERS.items()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except HTTPException as exc:  # a missing file: a web server's 404, not an API error
            answer = PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
            await answer(scope, receive, send_with_headers)


def ui_route() -> Mount:
    """``/_ui`` -> the page (``/_ui`` itself redirects to ``/_ui/``)."""
    return Mount("/_ui", app=_Secured(StaticFiles(directory=STATIC, html=True)), name="ui")
