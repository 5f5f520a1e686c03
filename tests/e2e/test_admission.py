"""Admission pacing end to end: with one new request per loop round, a burst is queued and
every request in it is served, each with its own answer (nothing lost, nothing mixed up)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service

pytestmark = pytest.mark.usefixtures("fresh_upstream")

BURST = 40


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("admission"), admission_per_round=1) as running:
        yield running


def _echo(body: Any) -> Reply:
    return Reply.sse(fake_openai.stream(["echo ", body["messages"][0]["content"]]))


async def _burst(url: str) -> list[tuple[int, str]]:
    async def one(session: aiohttp.ClientSession, n: int) -> tuple[int, str]:
        body = {"messages": [{"role": "user", "content": f"request-{n}"}]}
        async with session.post(url, json=body) as response:
            return response.status, await response.text()

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        return await asyncio.gather(*(one(session, n) for n in range(BURST)))


def test_a_burst_is_queued_and_every_request_is_answered(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.respond_by(_echo)
    put = httpx.put(
        f"{svc.url}/_inference/chat_completion/paced",
        json={
            "service": "openai",
            "service_settings": {
                "api_key": "sk-test",
                "model_id": "m",
                "url": upstream.url + "/v1/chat/completions",
            },
        },
    )
    assert put.status_code == 200, put.text
    answers = asyncio.run(_burst(f"{svc.url}/_inference/chat_completion/paced/_stream"))
    for n, (status, text) in enumerate(answers):
        assert status == 200, text
        assert f'"content":"request-{n}"' in text
        assert text.endswith("event: message\ndata: [DONE]\n\n")
    stream_requests = [r for r in upstream.requests if r.json and r.json.get("stream")]
    assert len(stream_requests) == BURST
