"""The one way providers talk HTTP: the glue every HTTP provider would otherwise repeat.

A provider describes its call as an :class:`UpstreamRequest` (URL, headers, body, how to read
its error bodies) and hands :func:`stream_chunks` a translator from one upstream event to one
unified chunk; this module opens the request, maps transport errors, reads the event stream
to its terminator, translates in batches and raises a failure only after the chunks that
preceded it.

``open_stream`` yields a response only when the provider answered 2xx; otherwise it reads the
(bounded) error body and raises the provider's parsed :class:`UpstreamError` before any chunk
is produced, so the API can still answer with a real HTTP status. ``map_client_errors`` is the
only place HTTP client exceptions become ours.

Every error that leaves this module (refusals, transport failures, error events mid-stream,
malformed answers) is redacted first (:mod:`inference_service.redaction`): the endpoint's
secret values (:attr:`UpstreamRequest.secrets`) and anything shaped like a credential are cut
out of its message, and the URL it names, and it is logged once, already redacted.

The client is aiohttp's: on this path (a pooled, streamed POST) it costs about 110-165 µs of CPU
per 20-chunk stream against about 4,000 µs for httpx at 32 concurrent streams (one at a time: ~250
against ~1,000-1,200 µs; ``.venv/bin/python benchmarks/upstream_clients.py``), and
per-stream CPU is what bounds a gateway's throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import msgspec

from inference_service.errors import (
    InferenceServiceError,
    MalformedUpstreamError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamTimeoutError,
)
from inference_service.inference.record import note_upstream_call
from inference_service.providers.schema import ApiKeySecrets, SettingsStruct, check_headers
from inference_service.providers.url_guard import BlockedAddressError
from inference_service.redaction import redact, redact_error, secret_values
from inference_service.sse_decoder import ServerSentEvent, TruncatedStreamError, iter_event_batches

MAX_ERROR_BODY = 64 * 1024
DRAIN_SECONDS = 1.0
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
"""Provider statuses that say "not now" rather than "not this": worth another attempt (a 500 is
the provider's bug, a 4xx will not change)."""
REQUEST_SOURCE = "unspecified:elasticsearch"
"""The ``Request-Source`` header Elasticsearch sends to Cohere, Jina AI and Voyage AI."""
T = TypeVar("T")
E = TypeVar("E", bound=InferenceServiceError)
log = logging.getLogger("inference_service.upstream")

trace_headers: Callable[[dict[str, str]], None] | None = None
"""Adds the current trace context (``traceparent``) to an upstream request's headers; set while
an app with tracing on runs (:mod:`inference_service.observe.tracing`), None otherwise."""

ErrorParser = Callable[[int, bytes], UpstreamError]
"""Turns an upstream status and error body into the provider's precise :class:`UpstreamError`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamRequest:
    """One POST to a provider, as the provider's translators built it."""

    url: str
    """The address; messages name it unless :attr:`shown_url` is set."""
    headers: Mapping[str, str]
    body: bytes
    parse_error: ErrorParser
    secrets: SettingsStruct
    """The endpoint's secrets Struct (``endpoint.secrets``): none of its values may appear in a
    message. Required, so no provider can forget it; read only when something fails."""
    shown_url: str | None = None
    """What messages name instead of ``url`` when the URL itself carries a secret (a custom
    service's template filled with a secret parameter)."""
    params: Mapping[str, str] | None = None
    """Query parameters that carry a secret (Google AI Studio's ``key``): sent with ``url``,
    never shown in a message (aiohttp's own messages are scrubbed of their values)."""

    def __post_init__(self) -> None:
        check_headers(self.headers)

    @property
    def named_url(self) -> str:
        """The URL messages name."""
        return self.shown_url or self.url

    @property
    def hidden(self) -> tuple[str, ...]:
        """The values no message may show: the endpoint's secrets and the secret parameters."""
        values = secret_values(self.secrets)
        return (*values, *self.params.values()) if self.params else values


@dataclass(frozen=True, slots=True)
class Terminator:
    """The event that ends a provider's stream: ``[DONE]``, ``message_stop``..."""

    name: str
    matches: Callable[[ServerSentEvent], bool]


@contextmanager
def map_client_errors(request: UpstreamRequest) -> Iterator[None]:
    """Translate transport failures into upstream errors naming the provider URL (never a secret:
    the request's hidden values and credential-shaped text are cut out of the URL and of the
    client's messages)."""
    url = request.named_url
    try:
        yield
    except aiohttp.ConnectionTimeoutError:
        timeout = UpstreamTimeoutError(f"Timed out connecting to the provider at [{url}]")
        raise failed(request, transient(timeout)) from None
    except aiohttp.ServerTimeoutError:
        raise failed(
            request, UpstreamTimeoutError(f"Timed out reading from the provider at [{url}]")
        ) from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedAddressError):  # the guard's resolver: a name
            raise failed(request, UpstreamConnectionError(_refused(url, exc.os_error))) from None
        error = UpstreamConnectionError(f"Could not connect to the provider at [{url}]: {exc.os_error}")
        raise failed(request, transient(error)) from None
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        if isinstance(exc.__cause__, BlockedAddressError):  # the guard's middleware: a literal address
            raise failed(request, UpstreamConnectionError(_refused(url, exc.__cause__))) from None
        detail = str(exc) or type(exc).__name__
        error = UpstreamConnectionError(
            f"The connection to the provider at [{url}] failed mid-response: {detail}"
        )
        raise failed(request, transient(error)) from None
    except aiohttp.ClientError as exc:
        error = UpstreamConnectionError(f"The request to the provider at [{url}] failed: {exc}")
        raise failed(request, error) from None


def transient(error: E) -> E:
    """``error`` marked retryable: the connection failed, was refused or reset, and trying again
    may succeed. A refused address (the URL guard), a read timeout (the provider took the time
    already) and any other client error are not."""
    if isinstance(error, UpstreamError):
        error.retryable = True
    return error


def _refused(url: str, exc: BlockedAddressError) -> str:
    return f"Refused to connect to the provider at [{url}]: {exc}"


def failed(request: UpstreamRequest, error: E) -> E:
    """``error`` redacted of ``request``'s secrets and logged: every upstream failure passes here."""
    redact_error(error, request.hidden)
    log.info("provider call failed (%s): %s", error.status, error.reason)
    return error


@asynccontextmanager
async def open_stream(
    client: aiohttp.ClientSession, request: UpstreamRequest
) -> AsyncIterator[aiohttp.ClientResponse]:
    """POST the request and yield the streaming response; the response is released on exit.

    Releasing a response that was not read to the end closes its connection, which is how a
    cancelled request (client gone, deadline passed) stops the provider generating tokens.
    Messages name ``shown_url`` when given (the real URL may carry a secret); ``params``
    (secret query parameters) are sent and never named in a message.
    """
    note_upstream_call()
    headers = dict(request.headers)
    if trace_headers is not None:
        trace_headers(headers)
    with map_client_errors(request):
        # Never follow a redirect: a provider's 3xx could aim the request (and its key) anywhere.
        response = await client.post(
            request.url,
            data=request.body,
            headers=headers,
            params=request.params,
            allow_redirects=False,
        )
    try:
        if 300 <= response.status < 400:
            error = UpstreamError(
                f"Unhandled redirection from the provider at [{request.named_url}] status "
                f"[{response.status}]: redirects are not followed; set the endpoint's URL to the "
                "address it redirects to"
            )
            raise failed(request, error)
        if response.status >= 300:
            with map_client_errors(request):
                raw = await response.content.read(MAX_ERROR_BODY)
            error = request.parse_error(response.status, raw)
            error.retry_after = response.headers.get("retry-after")
            error.provider_status = response.status
            error.retryable = response.status in RETRYABLE_STATUSES
            raise failed(request, error)
        yield response
    finally:
        response.release()


async def post_json(client: aiohttp.ClientSession, request: UpstreamRequest, limit: int) -> bytes:
    """POST and return the whole 2xx body (at most ``limit`` bytes); a non-2xx answer raises
    the provider's parsed error, a larger body an :class:`UpstreamError`."""
    async with open_stream(client, request) as response:
        with map_client_errors(request):
            declared = response.content_length
            if declared is not None:
                if declared > limit:
                    raise _too_large(request, limit)
                return await response.read()
            parts: list[bytes] = []
            size = 0
            async for part in response.content.iter_any():
                size += len(part)
                if size > limit:
                    raise _too_large(request, limit)
                parts.append(part)
            return b"".join(parts)


def decode_answer(decoder: msgspec.json.Decoder[T], raw: bytes, inference_id: str, what: str) -> T:
    """A 2xx body decoded; one that is not of the expected shape is a 502 naming ``what`` it
    should have been (``embeddings``, ``rerank``) and msgspec's reason with its JSON path
    (redacted: the reason quotes no body text today, but it is not ours to promise)."""
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        reason = f"The provider sent a malformed {what} response for inference entity id [{inference_id}]"
        raise MalformedUpstreamError(redact(f"{reason}: {exc}")) from None


def bearer_json_request(
    url: str, secrets: ApiKeySecrets, body: bytes, inference_id: str, *, error_field: str
) -> UpstreamRequest:
    """A JSON POST authenticated with a bearer API key and tagged with Elasticsearch's
    ``Request-Source``, as Elasticsearch calls Cohere, Jina AI and Voyage AI; their error bodies
    carry the message in ``error_field`` (:func:`parse_json_field_error`)."""
    return UpstreamRequest(
        url=url,
        headers={
            "authorization": f"Bearer {secrets.api_key}",
            "content-type": "application/json",
            "request-source": REQUEST_SOURCE,
        },
        body=body,
        parse_error=lambda status, raw: parse_json_field_error(status, raw, inference_id, url, error_field),
        secrets=secrets,
    )


_ANY_JSON = msgspec.json.Decoder()


def parse_json_field_error(
    status: int, body: bytes, inference_id: str, url: str, field: str
) -> UpstreamError:
    """A non-2xx answer whose body is ``{"<field>": message, ...}`` (Cohere's ``message``, the
    ``detail`` of Jina AI and Voyage AI) -> an error keeping the provider's status and message.
    A message that is not a string (a list of validation problems) is kept as its JSON; a body
    without the field, as its text."""
    try:
        parsed = _ANY_JSON.decode(body)
    except msgspec.DecodeError:
        parsed = None
    value = parsed.get(field) if isinstance(parsed, dict) else None
    if isinstance(value, str):
        message = value
    elif value is not None:
        message = msgspec.json.encode(value).decode()
    else:
        message = body.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}"
    return UpstreamError(upstream_reason(status, inference_id, url, message), status=upstream_status(status))


def _too_large(request: UpstreamRequest, limit: int) -> UpstreamError:
    return failed(
        request,
        UpstreamError(
            f"The provider at [{request.named_url}] sent more than [{limit}] bytes "
            "(setting max_upstream_response_bytes)"
        ),
    )


async def stream_events(
    client: aiohttp.ClientSession, request: UpstreamRequest, terminator: Terminator, inference_id: str
) -> AsyncGenerator[list[ServerSentEvent], None]:
    """POST and yield the provider's Server-Sent Events up to and including its last one.

    Events come in lists, one per network read: when the provider sends faster than we
    forward (many events per read), they travel on together, in one write to the client.

    After the last event (the ``terminator``: OpenAI's ``[DONE]``, Anthropic's ``message_stop``) the
    rest of the body — normally just the chunked-encoding terminator — is read, for at most
    :data:`DRAIN_SECONDS`, so the connection goes back to the pool instead of being closed and
    reopened for the next request. A body that ends (or is cut off) before the last event is
    an :class:`UpstreamError`, never a silent end. Callers must close this generator
    (``contextlib.aclosing``) so an early exit closes the upstream connection at once.
    """
    async with open_stream(client, request) as response:
        with map_client_errors(request):
            batches = iter_event_batches(response.content.iter_any())
            async with contextlib.aclosing(batches):
                try:
                    async for batch in batches:
                        last = next((i for i, event in enumerate(batch) if terminator.matches(event)), None)
                        if last is None:
                            yield batch
                            continue
                        yield batch[: last + 1]
                        break
                    else:
                        raise failed(request, incomplete_stream(inference_id, terminator.name))
                except TruncatedStreamError:
                    raise failed(request, incomplete_stream(inference_id, terminator.name)) from None
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(DRAIN_SECONDS):
                        async for _ in batches:
                            pass


async def stream_chunks(
    client: aiohttp.ClientSession,
    request: UpstreamRequest,
    terminator: Terminator,
    inference_id: str,
    translate: Callable[[ServerSentEvent], T | None],
) -> AsyncGenerator[list[T], None]:
    """The provider's stream as lists of translated items, one list per network read.

    ``translate`` turns one event into an item (or None to skip it) and raises the provider's
    error for an error event. When an event fails, the items translated before it in the same
    read are yielded first and the error is raised after, so nothing the provider sent before
    its error is lost.
    """
    events = stream_events(client, request, terminator, inference_id)
    async with contextlib.aclosing(events):
        async for batch in events:
            items, error = translate_batch(batch, translate)
            if items:
                yield items
            if error is not None:
                raise failed(request, error)


def translate_batch(
    batch: list[ServerSentEvent], translate: Callable[[ServerSentEvent], T | None]
) -> tuple[list[T], InferenceServiceError | None]:
    """Translate one read's events; on a failing event, keep the items before it."""
    items: list[T] = []
    for event in batch:
        try:
            item = translate(event)
        except InferenceServiceError as exc:
            return items, exc
        if item is not None:
            items.append(item)
    return items, None


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
    """Elasticsearch's wording for provider failures (the messages of its response handlers)."""
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
