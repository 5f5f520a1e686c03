"""Idempotency keys on the ASGI level: a request's response is stored under its key and
replayed to a retry, so a retry never runs (and bills) the inference twice.

Two halves, because the decision needs the authenticated key but the outcome is only known
once the response has gone through every layer that renders errors:

* :class:`IdempotencyMiddleware`, a pure ASGI middleware placed inside Starlette's
  ``ServerErrorMiddleware`` and outside its ``ExceptionMiddleware`` (so it sees the 4xx the
  faces render). A request without the header costs it one scan of the raw headers and
  nothing else. With the header, it puts a :class:`Pending` in the scope and records what the
  application sends; when the request holds a claim it stores or releases it (below).
* :func:`claim_key`, called by :func:`~inference_service.api.routing.resource` after
  :func:`~inference_service.api.auth.authorize` — an unauthenticated request never reads or
  claims a key. It validates the header (400), refuses it on any route but an inference POST
  (400: never silently ignored), reads the body (bounded by ``max_body_bytes``; the handler
  gets the same bytes from :func:`~inference_service.api.bodies.read_body`), fingerprints the
  request (:func:`~inference_service.idempotency.keys.fingerprint`) and claims the key in the
  scope of the API key (``anonymous`` when the service is open). Outcomes: the handler runs;
  the stored response is replayed with ``Idempotent-Replayed: true``; 409 with
  ``Retry-After: 1`` while the key's first request runs (retrying is cheap, and holds no
  connection open on another request's behalf); 422 if the key was used for another request;
  503 if the store cannot be reached (the request is not run without the guarantee).

What is stored: once the last body message is about to go out, an outcome with a status
below 500, except 408 and 429 (both say "try again": a replay would repeat them for a day),
and not a stream that ended in an error frame after its 200 (:data:`STREAM_INCOMPLETE`). It
is stored *before* that last message is sent, so a client that retries the moment it has the
answer finds it stored. Anything else (a 5xx, a failed stream, a cancelled request, a client
that left, an unexpected exception) releases the claim: the retry runs anew. Errors raised
before the claim (authentication, the header itself, a body over the limit) are not stored;
every 4xx the handler produces after the claim (a bad body, an unknown endpoint) is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inference_service.api.auth import current_key
from inference_service.api.bodies import read_body
from inference_service.api.state import services
from inference_service.api.streaming import STREAM_INCOMPLETE
from inference_service.auth.roles import INFER, INFER_BY_MODEL, Action
from inference_service.errors import (
    IdempotencyKeyInFlightError,
    IdempotencyKeyReusedError,
    ServiceUnavailableError,
)
from inference_service.idempotency.keys import (
    ANONYMOUS,
    HEADER,
    REPLAYED_HEADER,
    fingerprint,
    not_honoured,
    parse_key,
)
from inference_service.idempotency.store import (
    Claimed,
    Conflict,
    IdempotencyStore,
    InFlight,
    Replay,
    StoredResponse,
    StoreUnavailableError,
)
from inference_service.inference.record import current_record

log = logging.getLogger("inference_service.idempotency")

PENDING = "inference_service.idempotency"
"""Scope key of the request's :class:`Pending` (absent: no ``Idempotency-Key`` header)."""
INFERENCE_ACTIONS = (INFER, INFER_BY_MODEL)
NOT_STORED = frozenset({408, 429})
"""Statuses below 500 that are not stored: both ask the client to try again later."""


@dataclass(slots=True)
class _Claim:
    store: IdempotencyStore
    scope: str
    key: str
    token: str
    ttl: float


class Pending:
    """A request's ``Idempotency-Key`` values and, once :func:`claim_key` took it, its claim."""

    __slots__ = ("claim", "values")

    def __init__(self, values: list[bytes]) -> None:
        self.values = values
        self.claim: _Claim | None = None


async def claim_key(request: Request, pending: Pending, action: Action | None) -> ASGIApp | None:
    """Claim the request's key: None when the handler is to run, else the replay to send.
    Raises the 400, 409, 422 and 503 the module docstring describes."""
    if request.method != "POST" or action not in INFERENCE_ACTIONS:
        raise not_honoured()
    key = parse_key(pending.values)
    state = services(request)
    body = await read_body(request, state.settings.max_body_bytes)
    print_ = fingerprint(request.method, request.scope["path"], request.scope["query_string"], body)
    api_key = current_key(request)
    scope = api_key.id if api_key is not None else ANONYMOUS
    store = state.idempotency
    try:
        outcome = await store.claim(scope, key, print_)
    except StoreUnavailableError as exc:
        log.error("idempotency key not claimed, request refused: %s", exc)
        raise ServiceUnavailableError(
            "The idempotency store is unavailable; the request was not run. Retry later", retry_after="1"
        ) from None
    if isinstance(outcome, Claimed):
        pending.claim = _Claim(store, scope, key, outcome.token, state.settings.idempotency_ttl)
        return None
    if isinstance(outcome, Replay):
        return ReplayResponse(outcome.response)
    if isinstance(outcome, InFlight):
        raise IdempotencyKeyInFlightError()
    assert isinstance(outcome, Conflict)
    raise IdempotencyKeyReusedError()


class ReplayResponse:
    """A stored response sent again: its status, its headers plus ``Idempotent-Replayed``, its
    body (a whole event stream) in one write."""

    def __init__(self, response: StoredResponse) -> None:
        self._response = response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self._response
        current_record().idempotency = "replayed"
        headers = [*response.headers, REPLAYED_HEADER]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body, "more_body": False})


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope["headers"] if name == HEADER]
        if not values:
            await self.app(scope, receive, send)
            return
        pending = Pending(values)
        scope[PENDING] = pending
        recorder = _Recorder(scope, pending, send)
        try:
            await self.app(scope, receive, recorder.send)
        finally:
            claim, pending.claim = pending.claim, None
            if claim is not None:  # the response never finished: the retry must run anew
                await asyncio.shield(_release(claim))


class _Recorder:
    """The ``send`` of a request with a key: passes every message on, and while the request
    holds a claim keeps a copy of the response to store once its last part is due."""

    __slots__ = ("_parts", "_pending", "_scope", "_send", "_start")

    def __init__(self, scope: Scope, pending: Pending, send: Send) -> None:
        self._scope = scope
        self._pending = pending
        self._send = send
        self._start: Message | None = None
        self._parts: list[bytes] = []

    async def send(self, message: Message) -> None:
        claim = self._pending.claim
        if claim is not None:
            kind = message["type"]
            if kind == "http.response.start":
                self._start = message
            elif kind == "http.response.body":
                self._parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._pending.claim = None
                    await self._settle(claim)
        await self._send(message)

    async def _settle(self, claim: _Claim) -> None:
        start = self._start
        status = start["status"] if start is not None else 500
        if status >= 500 or status in NOT_STORED or self._scope.get(STREAM_INCOMPLETE) or start is None:
            current_record().idempotency = "not_stored"
            await _release(claim)
            return
        current_record().idempotency = "stored"
        headers = [(bytes(name), bytes(value)) for name, value in start.get("headers", ())]
        response = StoredResponse(status, headers, b"".join(self._parts))
        try:
            stored = await claim.store.complete(claim.scope, claim.key, claim.token, response, claim.ttl)
        except StoreUnavailableError as exc:
            log.error("the outcome of idempotency key %r was not stored: %s", claim.key, exc)
            return
        if not stored:
            log.warning("idempotency key %r was taken over before its request finished", claim.key)


async def _release(claim: _Claim) -> None:
    try:
        await claim.store.release(claim.scope, claim.key, claim.token)
    except StoreUnavailableError as exc:  # the lease expires on its own
        log.error("idempotency key %r not released: %s", claim.key, exc)
