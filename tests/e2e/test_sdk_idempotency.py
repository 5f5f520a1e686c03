"""The SDK's retries through the real service: the same ``Idempotency-Key`` on each attempt of a
call, so a retry after a broken connection gets the first attempt's answer replayed (the
provider runs once), a key still in flight is waited for, a provider's 5xx or 429 is retried
to success, and nothing is retried once an answer has begun.

The broken connections come from :class:`~tests.support.dropping_relay.DroppingRelay` between
the SDK and the service: the SDK's connection is reset after its request went through, while
the service runs the request to its end, as behind a load balancer whose client side failed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from inference_service.client import InferenceClient, InternalServerError
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support.dropping_relay import DroppingRelay
from tests.support.service import RunningService, migrated_service

MESSAGES = [{"role": "user", "content": "What is gradient descent?"}]


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory, provider: FakeProvider) -> Iterator[RunningService]:
    with (
        migrated_service(tmp_path_factory.mktemp("sdk-idem")) as running,
        InferenceClient(running.url) as sdk,
    ):
        chat = {
            "api_key": "sk",
            "model_id": "gpt-4o-mini",
            "url": provider.url + "/v1/chat/completions",
            "upstream_max_retries": 0,  # the SDK's retries are under test, not the service's
        }
        sdk.endpoints.create(
            "idem-chat", task_type="chat_completion", service="openai", service_settings=chat
        )
        yield running


@pytest.fixture(autouse=True)
def fresh(provider: FakeProvider) -> None:
    provider.clear()


def port(svc: RunningService) -> int:
    return int(svc.url.rsplit(":", 1)[1])


def keys(sent: list[bytes]) -> list[bytes]:
    """The Idempotency-Key of every request the SDK sent, in order."""
    return [key for data in sent for key in re.findall(rb"(?im)^idempotency-key: *(\S+)\r$", data)]


@pytest.mark.parametrize("stream", [False, True])
def test_a_retry_after_a_broken_connection_gets_the_answer_replayed(
    svc: RunningService, provider: FakeProvider, stream: bool
) -> None:
    provider.enqueue(fake_openai.stream_reply(["Downhill", ", step by step."]))
    with DroppingRelay(port(svc)) as relay, InferenceClient(relay.url, max_retries=3, timeout=20) as sdk:
        content: str | None
        if stream:
            with sdk.chat_completion(model="idem-chat", messages=MESSAGES, stream=True) as chunks:
                content = "".join(chunk.content for chunk in chunks)
        else:
            content = sdk.chat_completion(model="idem-chat", messages=MESSAGES).content
        sent = keys(relay.sent)
    assert content == "Downhill, step by step."
    assert len(provider.requests) == 1  # the inference ran once
    assert len(sent) >= 2 and len(set(sent)) == 1  # the dropped attempt and its retry: one key


def test_a_key_still_in_flight_is_waited_for(svc: RunningService, provider: FakeProvider) -> None:
    """The first attempt's connection broke while its provider was slow: the retries find the
    key in flight (409, Retry-After: 1), wait, and get the answer once it is there."""
    provider.enqueue(fake_openai.stream_reply(["Slow", " but once."], headers_delay=1.5))
    started = time.monotonic()
    with DroppingRelay(port(svc)) as relay, InferenceClient(relay.url, max_retries=4, timeout=20) as sdk:
        content = sdk.chat_completion(model="idem-chat", messages=MESSAGES).content
        sent = keys(relay.sent)
    assert content == "Slow but once."
    assert len(provider.requests) == 1
    assert len(sent) >= 3 and len(set(sent)) == 1  # dropped, in flight (409), replayed
    assert time.monotonic() - started >= 1.5


def test_provider_failures_are_retried_to_success_with_one_key(
    svc: RunningService, provider: FakeProvider
) -> None:
    """A provider 503 (the service's 502) and a provider 429 with Retry-After (passed on): the
    service stores neither outcome, so the retries with the same key run anew."""
    busy = fake_openai.error_reply(503, "The engine is currently overloaded", "server_error")
    provider.enqueue(busy, fake_openai.rate_limit_exceeded(retry_after=2), fake_openai.stream_reply(["ok"]))
    with InferenceClient(svc.url, max_retries=2, timeout=20) as sdk:
        assert sdk.chat_completion(model="idem-chat", messages=MESSAGES).content == "ok"
    _busy, limited, third = provider.requests
    # the provider's Retry-After, passed on and honoured (the backoff would be 1 s at most)
    assert third.received_at - limited.received_at >= 2.0
    with InferenceClient(svc.url, max_retries=0, timeout=20) as sdk:
        provider.enqueue(busy)
        with pytest.raises(InternalServerError) as failed:
            sdk.chat_completion(model="idem-chat", messages=MESSAGES)
    assert failed.value.status == 502 and len(provider.requests) == 4


def test_no_retry_once_the_stream_has_begun(svc: RunningService, provider: FakeProvider) -> None:
    provider.enqueue(fake_openai.stream_reply(["Half", " an answer"], done=False, end="eof"))
    seen: list[str] = []
    with (
        InferenceClient(svc.url, max_retries=3, timeout=20) as sdk,
        pytest.raises(InternalServerError),
        sdk.chat_completion(model="idem-chat", messages=MESSAGES, stream=True) as chunks,
    ):
        seen.extend(chunk.content for chunk in chunks)
    assert "Half" in seen
    time.sleep(0.8)  # past the first backoff: a retry would have reached the provider by now
    assert len(provider.requests) == 1
