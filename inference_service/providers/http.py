"""The one way providers talk HTTP: a streamed POST with upstream errors mapped at the boundary.

``open_stream`` yields a response only when the provider answered 2xx; otherwise it reads the
(bounded) error body and raises the provider's parsed :class:`UpstreamError` before any chunk
is produced, so the API can still answer with a real HTTP status. ``map_client_errors`` is the
only place HTTP client exceptions become ours.

The client is aiohttp's: on this path (a pooled, streamed POST) it costs about 110-165 µs of CPU
per 20-chunk stream against about 4,000 µs for httpx at 32 concurrent streams (one at a time: ~250
against ~1,000-1,200 µs; ``.venv/bin/python benchmarks/upstream_clients.py``), and
per-stream CPU is what bounds a gateway's throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager

import aiohttp

from inference_service.errors import UpstreamConnectionError, UpstreamError, UpstreamTimeoutError
from inference_service.providers.sse_parser import ServerSentEvent, TruncatedStreamError, iter_event_batches

MAX_ERROR_BODY = 64 * 1024
DRAIN_SECONDS = 1.0

ErrorParser = Callable[[int, bytes], UpstreamError]
"""Turns an upstream status and error body into the provider's precise :class:`UpstreamError`."""


@contextmanager
def map_client_errors(url: str) -> Iterator[None]:
    """Translate transport failures into upstream errors naming the provider URL (never a secret)."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError:
        raise UpstreamTimeoutError(f"Timed out connecting to the provider at [{url}]") from None
    except aiohttp.ServerTimeoutError:
        raise UpstreamTimeoutError(f"Timed out reading from the provider at [{url}]") from None
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamConnectionError(
            f"Could not connect to the provider at [{url}]: {exc.os_error}"
        ) from None
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        detail = str(exc) or type(exc).__name__
        raise UpstreamConnectionError(
            f"The connection to the provider at [{url}] failed mid-response: {detail}"
        ) from None
    except aiohttp.ClientError as exc:
        raise UpstreamConnectionError(f"The request to the provider at [{url}] failed: {exc}") from None


@asynccontextmanager
async def open_stream(
    client: aiohttp.ClientSession,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    parse_error: ErrorParser,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """POST ``body`` and yield the streaming response; the response is released on exit.

    Releasing a response that was not read to the end closes its connection, which is how a
    cancelled request (client gone, deadline passed) stops the provider generating tokens.
    """
    with map_client_errors(url):
        response = await client.post(url, data=body, headers=dict(headers))
    try:
        if response.status >= 300:
            with map_client_errors(url):
                raw = await response.content.read(MAX_ERROR_BODY)
            raise parse_error(response.status, raw)
        yield response
    finally:
        response.release()


async def stream_events(
    client: aiohttp.ClientSession,
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
        with map_client_errors(url):
            batches = iter_event_batches(response.content.iter_any())
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
