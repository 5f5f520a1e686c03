"""What one request reports about how it was served, and what it asked of the cache.

A :class:`RequestRecord` is begun for every request before its handler runs
(:func:`begin_request`, from :func:`~inference_service.api.routing.resource`) and travels in
a context variable rather than through every signature between the face and the provider
call: the request's task carries it from the handler to the response, and tasks the request
fans out to (completion inputs, embedding batches) copy the context and so share the same
record. The router fills in :attr:`~RequestRecord.route`
(:mod:`inference_service.inference.route`), the response cache :attr:`~RequestRecord.cache`
(:mod:`inference_service.cache`); the faces read it once per response, never per chunk, for the
``X-Inference-Endpoint``, ``X-Cache`` and ``Age`` headers.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference_service.endpoints.catalog import ResolvedEndpoint
    from inference_service.inference.route import Route

RawHeaders = tuple[tuple[bytes, bytes], ...]
ROUTE_HEADER = "X-Inference-Endpoint"
CACHE_HEADER = "X-Cache"


@dataclass(frozen=True, slots=True)
class CacheControl:
    """The request's ``Cache-Control`` directives that concern the response cache."""

    read: bool = True
    """False with ``no-cache`` (or ``max-age=0``): the answer is not taken from the cache."""
    write: bool = True
    """False with ``no-store``: the answer is not stored."""
    max_age: float | None = None
    """``max-age=N``: a stored answer older than N seconds is not used."""

    @classmethod
    def parse(cls, header: str | None) -> CacheControl:
        """The directives of ``header``. Others (``no-transform``, ``only-if-cached``…) are
        ignored, as RFC 9111 asks of a cache that does not implement them."""
        if not header:
            return _DEFAULT
        read = write = True
        max_age: float | None = None
        for directive in header.split(","):
            name, _, value = directive.strip().partition("=")
            name = name.strip().lower()
            if name == "no-cache":
                read = False
            elif name == "no-store":
                write = False
            elif name == "max-age":
                seconds = value.strip().strip('"')
                if seconds.isdigit():
                    max_age = float(seconds)
                    read = read and max_age > 0
        return cls(read, write, max_age)


_DEFAULT = CacheControl()


@dataclass(slots=True)
class CacheUse:
    """How the response cache served this request: one lookup per provider call (a request
    cut into embedding batches makes several)."""

    hits: int = 0
    misses: int = 0
    oldest_s: float = 0.0
    """The age of the oldest stored answer used (the ``Age`` header of a hit)."""
    stored_at: float | None = None
    """When the oldest stored answer used was made (epoch seconds): a face that stamps its
    answers with a creation time (OpenAI's ``created``) replays that one, not the time of the
    replay."""

    def hit(self, age_s: float, stored_at: float | None = None) -> None:
        self.hits += 1
        if age_s >= self.oldest_s:
            self.oldest_s = age_s
            self.stored_at = stored_at

    def miss(self) -> None:
        self.misses += 1

    @property
    def outcome(self) -> str:
        """``hit`` when every lookup hit, else ``miss``."""
        return "hit" if self.hits and not self.misses else "miss"


@dataclass(slots=True)
class RequestRecord:
    """One request, as it is counted, timed and logged once it is over
    (:mod:`inference_service.observe`). Times are ``time.perf_counter()`` values."""

    cache_control: CacheControl = _DEFAULT
    route: Route | None = None
    cache: CacheUse | None = None
    """Set by the first lookup in an endpoint's response cache; None when none was used."""
    started: float = 0.0
    face: str = ""
    request_id: str = ""
    opaque_id: str | None = None
    api_key_id: str | None = None
    target: ResolvedEndpoint | None = None
    """The endpoint the request named, once resolved (a router, not its targets)."""
    status: int = 0
    streaming: bool = False
    first_byte_at: float | None = None
    """When the first body byte of a stream went out (time to first token)."""
    upstream_sent_at: float | None = None
    """When the first provider request was sent (the gateway's own overhead ends there)."""
    input_tokens: int = 0
    output_tokens: int = 0
    upstream_attempts: int = 0
    rate_limit_wait_s: float = 0.0
    rate_limit_fallback: bool = False
    """The shared (Redis) rate limit was unreachable: the worker's own bucket was used."""
    error_type: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    idempotency: str | None = None
    """``stored``, ``replayed``… when the request carried an ``Idempotency-Key``."""
    finished_at: float = 0.0

    def cache_use(self) -> CacheUse:
        if self.cache is None:
            self.cache = CacheUse()
        return self.cache

    def resolved(self, target: ResolvedEndpoint) -> None:
        if self.target is None:
            self.target = target

    def upstream_call(self) -> None:
        self.upstream_attempts += 1
        if self.upstream_sent_at is None:
            self.upstream_sent_at = time.perf_counter()

    def failed(self, error_type: str) -> None:
        if self.error_type is None:
            self.error_type = error_type

    def headers(self) -> list[tuple[str, str]]:
        """The response headers this record adds (none for a plain request)."""
        out: list[tuple[str, str]] = []
        route = self.route
        if route is not None and route.answered_by:
            out.append((ROUTE_HEADER, ", ".join(route.answered_by)))
        cache = self.cache
        if cache is not None:
            outcome = cache.outcome
            out.append((CACHE_HEADER, outcome))
            if outcome == "hit":
                out.append(("Age", str(int(cache.oldest_s))))
        return out


_CURRENT: ContextVar[RequestRecord | None] = ContextVar("inference_service.request", default=None)


def begin_request(cache_control: str | None = None) -> RequestRecord:
    """A fresh record for the request the current task serves."""
    record = RequestRecord(CacheControl.parse(cache_control)) if cache_control else RequestRecord()
    _CURRENT.set(record)
    return record


def note_error(exc: BaseException) -> None:
    """An error is being rendered for the client: the request failed with it (the first one
    rendered names the failure)."""
    record = _CURRENT.get()
    if record is not None:
        record.failed(type(exc).__name__)


def note_upstream_call() -> None:
    """A provider request is being sent (any attempt, any target)."""
    record = _CURRENT.get()
    if record is not None:
        record.upstream_call()


def current_record() -> RequestRecord:
    """This request's record (begun on first use outside a request, as in unit tests)."""
    record = _CURRENT.get()
    if record is None:
        record = begin_request()
    return record


def peek_record() -> RequestRecord | None:
    """This request's record if one was begun, without beginning one."""
    return _CURRENT.get()


def response_headers() -> dict[str, str]:
    """The headers this request's record adds to its response (empty for a plain request)."""
    record = _CURRENT.get()
    if record is None or (record.route is None and record.cache is None):
        return {}
    return dict(record.headers())


def raw_response_headers(headers: RawHeaders) -> RawHeaders:
    """``headers`` (raw ASGI) with the record's headers added."""
    record = _CURRENT.get()
    if record is None or (record.route is None and record.cache is None):
        return headers
    extra = tuple(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in record.headers()
    )
    return (*headers, *extra) if extra else headers


def answer_created() -> int:
    """The creation time to stamp an answer with (epoch seconds): now, or when the cache stored
    it if the whole answer comes from the cache."""
    record = _CURRENT.get()
    cache = record.cache if record is not None else None
    if cache is not None and cache.stored_at is not None and cache.outcome == "hit":
        return int(cache.stored_at)
    return int(time.time())
