"""The Prometheus metrics: what ``GET /metrics`` shows, fed once per finished request.

Names follow the OpenTelemetry GenAI semantic conventions where they exist
(``gen_ai.server.time_to_first_token`` → ``gen_ai_server_time_to_first_token_seconds``,
``gen_ai.server.time_per_output_token``, ``gen_ai.server.request.duration``,
``gen_ai.client.token.usage`` with ``gen_ai_token_type``), with their recommended buckets; the
service's own carry the ``inference_service_`` prefix. Label values are bounded: the endpoint
and service are those of an endpoint that exists (a request for an unknown id counts under
``endpoint=""``), never request contents.

With several hypercorn workers, ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before they start, so each worker writes its values there and ``/metrics`` (served
by any worker) adds them up: prometheus_client's multiprocess mode.

Per request the labelled children are looked up once in a dictionary of :class:`_Series`
(prometheus_client's ``labels()`` takes a lock and builds a key each time), then each metric is
one ``inc``/``observe``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    generate_latest,
    multiprocess,
)

from inference_service.inference.record import RequestRecord

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client's multiprocess helpers carry no annotations: typed here once.
_collect_workers: Callable[[CollectorRegistry], object] = multiprocess.MultiProcessCollector
_mark_dead: Callable[[int], None] = multiprocess.mark_process_dead
SERIES = ("face", "task_type", "endpoint", "service")
NAMING = ("endpoint", "router")
"""The labels whose value is an inference id."""

TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
TPOT_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)

REQUESTS = Counter("inference_service_requests", "Requests answered, by status code.", [*SERIES, "status"])
ERRORS = Counter("inference_service_errors", "Requests that failed, by error type.", [*SERIES, "error_type"])
IN_FLIGHT = Gauge(
    "inference_service_requests_in_flight", "Requests being served.", ["face"], multiprocess_mode="livesum"
)
TTFT = Histogram(
    "gen_ai_server_time_to_first_token_seconds",
    "Time from the request's arrival to the first byte of its stream.",
    SERIES,
    buckets=TTFT_BUCKETS,
)
TPOT = Histogram(
    "gen_ai_server_time_per_output_token_seconds",
    "Time per output token after the first, of streams that reported their usage.",
    SERIES,
    buckets=TPOT_BUCKETS,
)
DURATION = Histogram(
    "gen_ai_server_request_duration_seconds",
    "Time from a request's arrival to its last byte.",
    SERIES,
    buckets=DURATION_BUCKETS,
)
TOKENS = Histogram(
    "gen_ai_client_token_usage",
    "Tokens per request as the provider counted them (gen_ai_token_type: input or output).",
    [*SERIES, "gen_ai_token_type"],
    buckets=TOKEN_BUCKETS,
)
OVERHEAD = Histogram(
    "inference_service_gateway_overhead_seconds",
    "The gateway's own time before the provider: arrival to the first upstream request sent.",
    SERIES,
    buckets=OVERHEAD_BUCKETS,
)
RATE_LIMIT_WAIT = Histogram(
    "inference_service_rate_limit_wait_seconds",
    "Time requests waited for their endpoint's rate limit (only those that waited).",
    SERIES,
    buckets=DURATION_BUCKETS,
)
RATE_LIMIT_FALLBACKS = Counter(
    "inference_service_rate_limit_fallbacks",
    "Requests whose rate limit used the worker's own bucket: the shared one (Redis) was unreachable.",
    SERIES,
)
UPSTREAM_ATTEMPTS = Counter(
    "inference_service_upstream_attempts", "Provider requests sent (retries and failovers included).", SERIES
)
FAILOVERS = Counter(
    "inference_service_failovers",
    "Router attempts that failed and moved on, by target and failure kind.",
    ["router", "target", "outcome"],
)
CACHE = Counter(
    "inference_service_cache_lookups", "Response cache lookups of requests, by outcome.", [*SERIES, "outcome"]
)
IDEMPOTENCY = Counter(
    "inference_service_idempotency",
    "Requests that carried an Idempotency-Key, by outcome.",
    [*SERIES, "outcome"],
)


@dataclass(frozen=True, slots=True)
class _Series:
    """The children of one (face, task type, endpoint, service)."""

    ttft: Histogram
    tpot: Histogram
    duration: Histogram
    tokens_in: Histogram
    tokens_out: Histogram
    overhead: Histogram
    rate_limit_wait: Histogram
    attempts: Counter


class Metrics:
    """Feeds the metrics from finished requests (one instance per app; the metrics themselves
    are the process's, as prometheus_client keeps them)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str, str], _Series] = {}
        self._in_flight: dict[str, Gauge] = {}
        self._requests: dict[tuple[tuple[str, str, str, str], int], Counter] = {}

    def started(self, record: RequestRecord) -> None:
        gauge = self._in_flight.get(record.face)
        if gauge is None:
            gauge = self._in_flight[record.face] = IN_FLIGHT.labels(record.face)
        gauge.inc()

    def observe(self, record: RequestRecord) -> None:
        target = record.target
        if target is not None:
            labels = (
                record.face,
                str(target.endpoint.task_type),
                target.endpoint.inference_id,
                target.spec.name,
            )
        else:
            labels = (record.face, "", "", "")
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _bind(labels)
        self._in_flight[record.face].dec()
        requests = self._requests.get((labels, record.status))
        if requests is None:
            requests = self._requests[labels, record.status] = REQUESTS.labels(*labels, str(record.status))
        requests.inc()
        if record.error_type is not None:
            ERRORS.labels(*labels, record.error_type).inc()
        series.duration.observe(record.finished_at - record.started)
        if target is None:
            return
        if record.streaming and record.first_byte_at is not None and record.status == 200:
            ttft = record.first_byte_at - record.started
            series.ttft.observe(ttft)
            if record.output_tokens > 1:
                series.tpot.observe((record.finished_at - record.first_byte_at) / (record.output_tokens - 1))
        if record.input_tokens:
            series.tokens_in.observe(record.input_tokens)
        if record.output_tokens:
            series.tokens_out.observe(record.output_tokens)
        if record.upstream_sent_at is not None:
            series.overhead.observe(record.upstream_sent_at - record.started)
        if record.rate_limit_wait_s:
            series.rate_limit_wait.observe(record.rate_limit_wait_s)
        if record.rate_limit_fallback:
            RATE_LIMIT_FALLBACKS.labels(*labels).inc()
        if record.upstream_attempts:
            series.attempts.inc(record.upstream_attempts)
        if record.cache is not None:
            CACHE.labels(*labels, record.cache.outcome).inc()
        if record.idempotency is not None:
            IDEMPOTENCY.labels(*labels, record.idempotency).inc()
        route = record.route
        if route is not None:
            for attempt in route.attempts:
                if attempt.outcome != "ok":
                    FAILOVERS.labels(route.router, attempt.target, attempt.outcome).inc()


def _bind(labels: tuple[str, str, str, str]) -> _Series:
    return _Series(
        ttft=TTFT.labels(*labels),
        tpot=TPOT.labels(*labels),
        duration=DURATION.labels(*labels),
        tokens_in=TOKENS.labels(*labels, "input"),
        tokens_out=TOKENS.labels(*labels, "output"),
        overhead=OVERHEAD.labels(*labels),
        rate_limit_wait=RATE_LIMIT_WAIT.labels(*labels),
        attempts=UPSTREAM_ATTEMPTS.labels(*labels),
    )


def exposition(shows: Callable[[str], bool] | None = None) -> bytes:
    """The Prometheus text of every worker (multiprocess mode) or of this process; with
    ``shows``, only the series of the endpoints it accepts (:class:`_Visible`)."""
    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _collect_workers(registry)
    if shows is not None:
        visible = CollectorRegistry(auto_describe=False)
        visible.register(_Visible(registry, shows))
        registry = visible
    return generate_latest(registry)


class _Visible:
    """The series of ``source`` a key restricted to some endpoints may read: a series naming an
    endpoint (``endpoint``, ``router``) only when ``shows`` accepts it, so never the requests
    for unknown ids or refused before an endpoint was found (``endpoint=""``); series naming
    none (requests in flight, by face) as they are."""

    def __init__(self, source: CollectorRegistry, shows: Callable[[str], bool]) -> None:
        self._source = source
        self._shows = shows

    def collect(self) -> Iterator[Metric]:
        for family in self._source.collect():
            kept = [s for s in family.samples if self._visible(s.labels)]
            if len(kept) == len(family.samples):
                yield family
                continue
            copy = Metric(family.name, family.documentation, family.type, family.unit)
            copy.samples = kept
            yield copy

    def _visible(self, labels: dict[str, str]) -> bool:
        return all(self._shows(labels[name]) for name in NAMING if name in labels)


def worker_exited(pid: int) -> None:
    """Drop a finished worker's live gauges (multiprocess mode only)."""
    if os.environ.get(MULTIPROC_ENV):
        _mark_dead(pid)
