"""CPU cost of observing one request, in process: the middleware around a 20-chunk stream, the
metrics, the usage accounts, the request log line (through the queue to the log writer thread,
writing to /dev/null) and the record's own work, against the same stream without them.

    .venv/bin/python benchmarks/observe_cost.py [--requests 20000]

Prints microseconds of CPU per request (``time.process_time``, all threads of the process, so
the log thread's formatting counts too) for: the bare app, the app inside the middleware with
the observers, and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from inference_service.cache.policy import policy_for
from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.inference.record import current_record
from inference_service.logs import configure_logging, stop_logging
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.observe.metrics import Metrics
from inference_service.observe.middleware import ObserveMiddleware
from inference_service.observe.observers import Observers
from inference_service.providers import openai
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.openai.settings import OpenAiServiceSettings
from inference_service.providers.schema import ApiKeySecrets, NoTaskSettings
from inference_service.usage.accounts import UsageAccounts

CHUNK = b'data: {"id":"c","choices":[{"delta":{"content":"tok"},"index":0}],"model":"m"}\n\n'


class _NoProvider(Provider):
    def __init__(self) -> None:
        pass


def _target() -> ResolvedEndpoint:
    endpoint = Endpoint(
        inference_id="bench",
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings={"model_id": "m"},
        task_settings={},
        chunking_settings=None,
    )
    config = EndpointConfig(
        inference_id="bench",
        task_type=TaskType.CHAT_COMPLETION,
        service_settings=OpenAiServiceSettings(model_id="m"),
        task_settings=NoTaskSettings(),
        secrets=ApiKeySecrets(api_key="k"),
    )
    return ResolvedEndpoint(endpoint, openai.PROVIDER, config, _NoProvider(), policy_for(endpoint))


TARGET = _target()


async def stream_app(scope: Scope, receive: Receive, send: Send) -> None:
    """What a 20-chunk stream does to the record and to ``send``."""
    record = current_record()
    record.resolved(TARGET)
    record.streaming = True
    record.upstream_call()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    for _ in range(20):
        await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
    record.input_tokens, record.output_tokens = 12, 20
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


async def run(app: Any, requests: int) -> float:
    scope = {
        "type": "http",
        "path": "/_inference/chat_completion/bench/_stream",
        "headers": [(b"host", b"x")],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    started = time.process_time()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (time.process_time() - started) / requests * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    sys.stderr = open("/dev/null", "w")  # the log thread writes here  # noqa: SIM115
    configure_logging("info")
    observed = ObserveMiddleware(
        stream_app, observer=Observers(Metrics(), UsageAccounts()), face_of=lambda _: "elasticsearch"
    )
    asyncio.run(run(observed, 2000))  # warm up: labels bound, code paths hot
    bare = asyncio.run(run(stream_app, args.requests))
    with_observers = asyncio.run(run(observed, args.requests))
    logging.getLogger("inference_service").handlers[0].flush()
    stop_logging()
    print("metrics, usage accounts, request log line, ids:")
    print(f"bare stream app:            {bare:7.1f} us CPU/request")
    print(f"inside ObserveMiddleware:   {with_observers:7.1f} us CPU/request")
    print(f"observing costs:            {with_observers - bare:7.1f} us CPU/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
