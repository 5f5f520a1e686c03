"""The one way providers talk HTTP: a streamed POST with upstream errors mapped at the boundary.

``open_stream`` yields a response only when the provider answered 2xx; otherwise it reads the
(bounded) error body and raises the provider's parsed :class:`UpstreamError` before any chunk
is produced, so the API can still answer with a real HTTP status. ``map_httpx_errors`` is the
only place httpx exceptions become ours (the httpx ``map_httpcore_exceptions`` pattern).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager

import httpx

from inference_service.errors import UpstreamConnectionError, UpstreamError, UpstreamTimeoutError
from inference_service.providers.sse_parser import ServerSentEvent, TruncatedStreamError, iter_event_batches

MAX_ERROR_BODY = 64 * 1024
DRAIN_SECONDS = 1.0

ErrorParser = Callable[[int, bytes], UpstreamError]
"""Turns an upstream status and error body into the provider's precise :class:`UpstreamError`."""


@contextmanager
def map_httpx_errors(url: str) -> Iterator[None]:
    """Translate transport failures into upstream errors naming the provider URL (never a secret)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        connecting = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
        phase = "connecting to" if connecting else "reading from"
        raise UpstreamTimeoutError(f"Timed out {phase} the provider at [{url}]") from None
    except httpx.ConnectError as exc:
        raise UpstreamConnectionError(f"Could not connect to the provider at [{url}]: {exc}") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        detail = str(exc) or type(exc).__name__
        raise UpstreamConnectionError(
            f"The connection to the provider at [{url}] failed mid-response: {detail}"
        ) from None


async def _read_bounded(response: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) >= MAX_ERROR_BODY:
            break
    return bytes(body[:MAX_ERROR_BODY])


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    parse_error: ErrorParser,
) -> AsyncIterator[httpx.Response]:
    """POST ``body`` and yield the streaming response; the response is closed on exit.

    Closing a response that was not read to the end closes its connection, which is how a
    cancelled request (client gone, deadline passed) stops the provider generating tokens.
    """
    request = client.build_request("POST", url, content=body, headers=headers)
    with map_httpx_errors(url):
        response = await client.send(request, stream=True)
    try:
        if not response.is_success:
            with map_httpx_errors(url):
                raw = await _read_bounded(response)
            raise parse_error(response.status_code, raw)
        yield response
    finally:
        await response.aclose()


async def stream_events(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    parse_error: ErrorParser,
    inference_id: str,
    is_last: Callable[[ServerSentEvent], bool],
    last_name: str,
) -> AsyncGenerator[list[ServerSentEvent], None]:
    """POST and yield the provider's Server-Sent Events up to and including its last one.

    Events come in lists, one per network read: when the provider sends faster than we
    forward (many events per read), they travel on together, in one write to the client.

    After the last event (``is_last``: OpenAI's ``[DONE]``, Anthropic's ``message_stop``) the
    rest of the body — normally just the chunked-encoding terminator — is read, for at most
    :data:`DRAIN_SECONDS`, so the connection goes back to the pool instead of being closed and
    reopened for the next request. A body that ends (or is cut off) before the last event is
    an :class:`UpstreamError`, never a silent end. Callers must close this generator
    (``contextlib.aclosing``) so an early exit closes the upstream connection at once.
    """
    async with open_stream(client, url, headers=headers, body=body, parse_error=parse_error) as response:
        with map_httpx_errors(url):
            batches = iter_event_batches(response.aiter_raw())
            async with contextlib.aclosing(batches):
                try:
                    async for batch in batches:
                        last = next((i for i, event in enumerate(batch) if is_last(event)), None)
                        if last is None:
                            yield batch
                            continue
                        yield batch[: last + 1]
                        break
                    else:
                        raise incomplete_stream(inference_id, last_name)
                except TruncatedStreamError:
                    raise incomplete_stream(inference_id, last_name) from None
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(DRAIN_SECONDS):
                        async for _ in batches:
                            pass


def incomplete_stream(inference_id: str, terminator: str) -> UpstreamError:
    return UpstreamError(
        f"The provider closed the stream for inference entity id [{inference_id}] "
        f"before it was complete (no {terminator})"
    )


def upstream_status(status: int) -> int:
    """Upstream 4xx pass through (401/403/404/429 ...); 5xx become 502 (Elasticsearch's 5xx→400
    is a known defect, elastic/elasticsearch#139710, that we do not copy)."""
    return 502 if status >= 500 or status < 400 else status


def upstream_reason(status: int, inference_id: str, url: str, message: str) -> str:
    """Elasticsearch's wording for provider failures (reference §5.3)."""
    if status == 404:
        prefix = f"Resource not found at [{url}]"
    elif status == 401:
        prefix = "Received an authentication error status code"
    elif status == 403:
        prefix = "Received a permission denied error status code"
    elif status == 429:
        prefix = "Received a rate limit status code"
    elif status == 413:
        prefix = "Received a content too large status code"
    elif status >= 500:
        prefix = "Received a server error status code"
    elif 300 <= status < 400:
        prefix = "Unhandled redirection"
    elif status == 400:
        prefix = "Received a bad request status code"
    else:
        prefix = "Received an unsuccessful status code"
    return (
        f"{prefix} for request from inference entity id [{inference_id}] status [{status}]. "
        f"Error message: [{message}]"
    )
