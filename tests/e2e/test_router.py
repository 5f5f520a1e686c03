"""Router endpoints end to end: the service under hypercorn, wire-faithful OpenAI fakes that
fail on demand, raw HTTP and the official ``openai`` SDK."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService

_ids = itertools.count()
HEADER = "x-inference-endpoint"
CHAT = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def fakes() -> Iterator[list[FakeProvider]]:
    with FakeProvider() as a, FakeProvider() as b, FakeProvider() as c:
        yield [a, b, c]


@pytest.fixture
def a(fakes: list[FakeProvider]) -> Iterator[FakeProvider]:
    yield from _fresh(fakes[0])


@pytest.fixture
def b(fakes: list[FakeProvider]) -> Iterator[FakeProvider]:
    yield from _fresh(fakes[1])


@pytest.fixture
def c(fakes: list[FakeProvider]) -> Iterator[FakeProvider]:
    yield from _fresh(fakes[2])


def _fresh(fake: FakeProvider) -> Iterator[FakeProvider]:
    fake.clear()
    fake.default = None
    yield fake
    fake.default = None


@pytest.fixture
def http(service: RunningService) -> Iterator[httpx.Client]:
    with service.client() as client:
        yield client


def target(
    http: httpx.Client, fake: FakeProvider, task_type: str = "chat_completion", *, retries: int | None = None
) -> str:
    """A chat (or embedding) endpoint on ``fake``; ``retries`` its ``upstream_max_retries``
    (0 where a test is about failing over, not about a target's own retries)."""
    inference_id = f"target-{next(_ids)}"
    path = "/v1/embeddings" if task_type == "text_embedding" else "/v1/chat/completions"
    model = fake_embeddings.MODEL if task_type == "text_embedding" else fake_openai.MODEL
    settings: dict[str, Any] = {"api_key": "sk-r", "model_id": model, "url": fake.url + path}
    if retries is not None:
        settings["upstream_max_retries"] = retries
    body = {"service": "openai", "service_settings": settings}
    created = http.put(f"/_inference/{task_type}/{inference_id}", json=body)
    assert created.status_code == 200, created.text
    return inference_id


def put_router(
    http: httpx.Client,
    targets: list[Any],
    strategy: str = "priority",
    task_type: str = "chat_completion",
    **extra: Any,
) -> httpx.Response:
    entries = [t if isinstance(t, dict) else {"inference_id": t} for t in targets]
    body = {"service": "router", "service_settings": {"strategy": strategy, "targets": entries, **extra}}
    return http.put(f"/_inference/{task_type}/router-{next(_ids)}", json=body)


def router(http: httpx.Client, targets: list[Any], strategy: str = "priority", **extra: Any) -> str:
    created = put_router(http, targets, strategy, **extra)
    assert created.status_code == 200, created.text
    return str(created.json()["inference_id"])


def stream(http: httpx.Client, inference_id: str) -> httpx.Response:
    return http.post(f"/_inference/chat_completion/{inference_id}/_stream", json=CHAT)


def ok(text: str = "Hello") -> Reply:
    return fake_openai.stream_reply([text])


def test_a_router_is_stored_with_its_defaults_and_serves_from_its_first_target(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    first, second = target(http, a), target(http, b)
    created = put_router(http, [first, second])
    assert created.status_code == 200, created.text
    assert created.json()["service"] == "router"
    assert created.json()["service_settings"] == {
        "strategy": "priority",
        "targets": [{"inference_id": first}, {"inference_id": second}],
        "fallback_on": ["connection", "timeout", "429", "5xx"],
        "circuit_breaker": {"failures": 5, "cooldown": "30s"},
    }
    a.enqueue(ok("from a"))
    answer = stream(http, created.json()["inference_id"])
    assert answer.status_code == 200 and answer.headers[HEADER] == first
    assert "from a" in answer.text and answer.text.rstrip().endswith("[DONE]")
    assert len(a.requests) == 1 and not b.requests


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(fake_openai.server_error(), id="5xx"),
        pytest.param(fake_openai.rate_limit_exceeded(retry_after=3), id="429"),
        pytest.param(Reply.drop("reset"), id="connection"),
    ],
)
def test_each_failure_kind_fails_over_before_the_first_byte(
    http: httpx.Client, a: FakeProvider, b: FakeProvider, failure: Reply
) -> None:
    routed = router(http, [target(http, a, retries=0), second := target(http, b)])
    a.enqueue(failure)
    b.enqueue(ok("from b"))
    answer = stream(http, routed)
    assert answer.status_code == 200, answer.text
    assert answer.headers[HEADER] == second and "from b" in answer.text
    assert len(a.requests) == 1 and len(b.requests) == 1


def test_a_target_retries_its_transient_failure_before_the_router_fails_over(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    """Retries are per target call (the router calls its targets through the wrapper chain);
    the router itself is not retried on top: one exhausted target is one failover."""
    first, second = target(http, a, retries=1), target(http, b, retries=0)
    routed = router(http, [first, second])
    a.enqueue(Reply.json(503, fake_openai.error_body("busy", "server_error")), ok("from a"))
    answer = stream(http, routed)
    assert answer.status_code == 200 and answer.headers[HEADER] == first and "from a" in answer.text
    assert len(a.requests) == 2 and not b.requests
    busy = Reply.json(503, fake_openai.error_body("busy", "server_error"))
    a.enqueue(busy, busy)
    b.enqueue(busy)
    answer = stream(http, routed)
    assert answer.status_code == 502 and answer.headers[HEADER] == second
    assert len(a.requests) == 4 and len(b.requests) == 1  # a: 1 + 1 retry; b: none; no second round


def test_a_timeout_fails_over_within_the_attempt_timeout(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    routed = router(http, [target(http, a), second := target(http, b)], attempt_timeout="300ms")
    a.enqueue(Reply.hang())
    b.enqueue(ok("from b"))
    answer = stream(http, routed)
    assert answer.status_code == 200 and answer.headers[HEADER] == second
    a.wait_for_disconnect(timeout=2)  # the hung attempt's connection was closed


def test_a_failure_kind_left_out_of_fallback_on_does_not_fail_over(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    first = target(http, a, retries=0)
    routed = router(http, [first, target(http, b)], fallback_on=["5xx"])
    a.enqueue(fake_openai.rate_limit_exceeded(retry_after=7))
    answer = stream(http, routed)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "7"
    assert answer.headers[HEADER] == first and not b.requests


def test_the_callers_4xx_is_never_retried_elsewhere(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    first = target(http, a)
    routed = router(http, [first, target(http, b)])
    a.enqueue(fake_openai.model_not_found())
    answer = stream(http, routed)
    assert answer.status_code == 404 and answer.headers[HEADER] == first
    assert not b.requests


def test_no_failover_once_a_chunk_is_out(http: httpx.Client, a: FakeProvider, b: FakeProvider) -> None:
    first = target(http, a)
    routed = router(http, [first, target(http, b)])
    a.enqueue(fake_openai.stream_reply(["partial"], done=False, end="eof"))
    answer = stream(http, routed)
    assert answer.status_code == 200 and answer.headers[HEADER] == first
    assert "partial" in answer.text and "event: error" in answer.text and "[DONE]" not in answer.text
    assert not b.requests


def test_every_target_failing_is_the_last_targets_error_and_the_attempts_are_logged(
    http: httpx.Client, a: FakeProvider, b: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = target(http, a, retries=0), target(http, b, retries=0)
    routed = router(http, [first, second])
    a.enqueue(fake_openai.server_error())
    b.enqueue(fake_openai.rate_limit_exceeded(retry_after=2))
    with caplog.at_level(logging.INFO, logger="inference_service.router"):
        answer = stream(http, routed)
    assert answer.status_code == 429 and answer.headers[HEADER] == second
    lines = [r.getMessage() for r in caplog.records if r.name == "inference_service.router"]
    assert any(
        f"router [{routed}]" in line and f"{first}=5xx" in line and f"{second}=429" in line for line in lines
    )


def test_max_attempts_bounds_the_failover(
    http: httpx.Client, a: FakeProvider, b: FakeProvider, c: FakeProvider
) -> None:
    routed = router(http, [target(http, a), target(http, b), target(http, c)], max_attempts=2)
    a.enqueue(fake_openai.server_error())
    b.enqueue(fake_openai.server_error())
    c.enqueue(ok())
    assert stream(http, routed).status_code == 502
    assert not c.requests


@pytest.mark.parametrize("strategy", ["priority", "weighted", "least_latency", "least_busy"])
def test_every_strategy_fails_over(
    http: httpx.Client, a: FakeProvider, b: FakeProvider, strategy: str
) -> None:
    dead, good = target(http, a), target(http, b)
    a.default = fake_openai.server_error()
    b.default = ok("good")
    if strategy == "weighted":  # the dead target is drawn first all but once in a million
        targets: list[Any] = [
            {"inference_id": dead, "weight": 1_000_000},
            {"inference_id": good, "weight": 1},
        ]
    else:  # unmeasured and idle targets keep the listed order
        targets = [dead, good]
    answer = stream(http, router(http, targets, strategy))
    assert answer.status_code == 200 and answer.headers[HEADER] == good
    assert len(a.requests) == 1


def test_least_latency_prefers_the_faster_target(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    slow, fast = target(http, a), target(http, b)
    routed = router(http, [slow, fast], "least_latency")
    a.default = fake_openai.stream_reply(["slow"], first_byte_delay=0.15)
    b.default = ok("fast")
    served = [stream(http, routed).headers[HEADER] for _ in range(4)]
    assert served[:2] == [slow, fast]  # each measured once, unmeasured first
    assert served[2:] == [fast, fast]


def test_least_busy_avoids_the_target_with_a_stream_in_flight(
    http: httpx.Client, service: RunningService, a: FakeProvider, b: FakeProvider
) -> None:
    busy, idle = target(http, a), target(http, b)
    routed = router(http, [busy, idle], "least_busy")
    a.enqueue(fake_openai.stream_reply(["one", "two"], gap=0.5))
    b.enqueue(ok("idle"))
    with (
        httpx.Client(base_url=service.url, timeout=10) as other,
        other.stream("POST", f"/_inference/chat_completion/{routed}/_stream", json=CHAT) as long,
    ):
        assert long.headers[HEADER] == busy
        answer = stream(http, routed)
        assert answer.headers[HEADER] == idle
        long.read()


def test_the_circuit_breaker_skips_a_failing_target(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    dead, good = target(http, a), target(http, b)
    routed = router(http, [dead, good], circuit_breaker={"failures": 2, "cooldown": "1h"})
    a.default = fake_openai.server_error()
    b.default = ok()
    for _ in range(4):
        assert stream(http, routed).headers[HEADER] == good
    assert len(a.requests) == 2  # opened after two failures, skipped since


def test_every_breaker_open_is_a_503_with_retry_after(http: httpx.Client, a: FakeProvider) -> None:
    routed = router(http, [target(http, a)], circuit_breaker={"failures": 1, "cooldown": "1h"})
    a.default = fake_openai.server_error()
    assert stream(http, routed).status_code == 502
    refused = stream(http, routed)
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 3500
    assert "circuit open" in refused.text and len(a.requests) == 1


def test_non_streaming_chat_and_the_openai_face(
    http: httpx.Client, service: RunningService, a: FakeProvider, b: FakeProvider
) -> None:
    second = target(http, b)
    routed = router(http, [target(http, a), second])
    a.default = fake_openai.server_error()
    b.default = ok("via b")
    answer = http.post(f"/_inference/chat_completion/{routed}", json=CHAT)
    assert answer.status_code == 200 and answer.headers[HEADER] == second
    assert answer.json()["choices"][0]["message"]["content"] == "via b"
    with openai.OpenAI(base_url=service.url + "/v1", api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model=routed, messages=[{"role": "user", "content": "hi"}]
        )
        assert raw.headers[HEADER] == second and raw.parse().choices[0].message.content == "via b"
        with sdk.chat.completions.with_streaming_response.create(
            model=routed, messages=[{"role": "user", "content": "hi"}], stream=True
        ) as streamed:
            assert streamed.headers[HEADER] == second
            pieces = [chunk.choices[0].delta.content for chunk in streamed.parse() if chunk.choices]
        assert "via b" in "".join(p or "" for p in pieces)
        with pytest.raises(openai.BadRequestError, match="unknown to the \\[router\\] service"):
            sdk.chat.completions.create(model=routed, messages=[{"role": "user", "content": "hi"}], user="u1")


def test_embeddings_fail_over_as_a_whole(http: httpx.Client, a: FakeProvider, b: FakeProvider) -> None:
    first, second = target(http, a, "text_embedding"), target(http, b, "text_embedding")
    routed = put_router(http, [first, second], task_type="text_embedding")
    assert routed.status_code == 200, routed.text
    a.enqueue(fake_openai.server_error())
    b.enqueue(fake_embeddings.reply([[0.5, 0.25], [0.125, 1.0]]))
    answer = http.post(
        f"/_inference/text_embedding/{routed.json()['inference_id']}", json={"input": ["x", "y"]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers[HEADER] == second
    assert answer.json() == {"text_embedding": [{"embedding": [0.5, 0.25]}, {"embedding": [0.125, 1.0]}]}
    a.enqueue(fake_openai.model_not_found())  # a JSON error names the target too
    refused = http.post(f"/_inference/text_embedding/{routed.json()['inference_id']}", json={"input": ["x"]})
    assert refused.status_code == 404 and refused.headers[HEADER] == first
    assert http.get("/_inference").headers.get(HEADER) is None  # nothing routed, no header


def test_a_forced_delete_leaves_a_missing_target_that_is_skipped(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    gone, kept = target(http, a), target(http, b)
    routed = router(http, [gone, kept])
    assert http.delete(f"/_inference/{gone}?force=true").json()["acknowledged"] is True
    b.enqueue(ok())
    assert stream(http, routed).headers[HEADER] == kept


def test_router_validation(http: httpx.Client, a: FakeProvider) -> None:
    chat = target(http, a)
    embedding = target(http, a, "text_embedding")
    inner = router(http, [chat])

    def problems(targets: list[Any], strategy: str = "priority", **extra: Any) -> str:
        refused = put_router(http, targets, strategy, **extra)
        assert refused.status_code == 400, refused.text
        return str(refused.json()["error"]["reason"])

    reason = problems(["nope", inner, embedding])
    assert reason == (
        "Validation Failed: 1: [service_settings] target [nope] does not exist;"
        f"2: [service_settings] target [{inner}] is a router; the targets of a router cannot be routers;"
        f"3: [service_settings] target [{embedding}] has task type [text_embedding], not the router's "
        "[chat_completion];"
    )
    assert "[strategy]" in problems([chat], "fastest")
    assert "[weight] is only used by the [weighted] strategy" in problems(
        [{"inference_id": chat, "weight": 2}]
    )
    assert "lists [" + chat + "] more than once" in problems([chat, chat])
    assert "[max_attempts] is [2] but the router has [1] targets" in problems([chat], max_attempts=2)
    assert "fallback_on" in problems([chat], fallback_on=["404"])
    assert "cooldown" in problems([chat], circuit_breaker={"cooldown": "soon"})
    assert "[targets]" in problems([])
    unknown = put_router(http, [chat], colour="red")
    assert unknown.status_code == 400 and "unknown to the [router] service" in unknown.text
    update = http.put(
        f"/_inference/{inner}/_update",
        json={"service_settings": {"targets": [{"inference_id": chat}, {"inference_id": "missing"}]}},
    )
    assert update.status_code == 400 and "target [missing] does not exist" in update.text


def test_deleting_a_targeted_endpoint_is_a_409_listing_the_routers(
    http: httpx.Client, a: FakeProvider
) -> None:
    chat = target(http, a)
    first, second = sorted([router(http, [chat]), router(http, [chat])])
    refused = http.delete(f"/_inference/{chat}")
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "status_exception"
    assert refused.json()["error"]["reason"] == (
        f"Inference endpoint [{chat}] is referenced by routers [{first}, {second}] and cannot be deleted. "
        "Use `force` to delete it anyway, or use `dry_run` to list the routers that reference it."
    )
    dry = http.delete(f"/_inference/{chat}?dry_run=true")
    assert dry.json() == {"acknowledged": False, "pipelines": [], "indexes": [], "routers": [first, second]}
    assert http.get(f"/_inference/{chat}").status_code == 200
    assert (
        http.delete(f"/_inference/{first}").json()["acknowledged"] is True
    )  # a router itself: no references


def test_the_put_validation_call_goes_through_the_router(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    first, second = target(http, a), target(http, b)
    body = {
        "service": "router",
        "service_settings": {
            "strategy": "priority",
            "targets": [{"inference_id": first}, {"inference_id": second}],
        },
    }
    a.enqueue(fake_openai.server_error())
    b.enqueue(ok("probe"))
    assert (
        http.put(f"/_inference/chat_completion/router-{next(_ids)}?validate=true", json=body).status_code
        == 200
    )
    assert len(a.requests) == len(b.requests) == 1
    a.default = b.default = fake_openai.server_error()
    refused = http.put(f"/_inference/chat_completion/router-{next(_ids)}?validate=true", json=body)
    assert refused.status_code == 400
    assert "Could not complete inference endpoint creation" in refused.json()["error"]["reason"]


def test_a_completion_of_several_inputs_names_every_target_that_answered(
    http: httpx.Client, a: FakeProvider, b: FakeProvider
) -> None:
    first, second = target(http, a, "completion"), target(http, b, "completion")
    routed = put_router(http, [first, second], task_type="completion")
    assert routed.status_code == 200, routed.text
    a.enqueue(ok("one"), fake_openai.server_error())
    b.enqueue(ok("two"))
    answer = http.post(f"/_inference/completion/{routed.json()['inference_id']}", json={"input": ["x", "y"]})
    assert answer.status_code == 200, answer.text
    assert sorted(r["result"] for r in answer.json()["completion"]) == ["one", "two"]
    assert set(answer.headers[HEADER].split(", ")) == {first, second}
