"""Concurrent writers on SQLite and PostgreSQL: one PUT wins, no _update is lost."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.service import RunningService

BODY: dict[str, object] = {"service": "openai", "service_settings": {"api_key": "sk-c", "model_id": "m"}}


async def _many(
    service: RunningService, requests: list[tuple[str, str, dict[str, object]]]
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
        return await asyncio.gather(*(client.request(m, path, json=body) for m, path, body in requests))


def test_concurrent_puts_of_one_id_create_it_once(service: RunningService) -> None:
    responses = asyncio.run(_many(service, [("PUT", "/_inference/chat_completion/race", BODY)] * 16))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * 15
    losers = [r.json()["error"]["type"] for r in responses if r.status_code == 400]
    assert set(losers) == {"resource_already_exists_exception"}


def test_concurrent_updates_lose_no_write(service: RunningService) -> None:
    """Five concurrent _updates, each setting a different field: all five must survive."""
    for round_ in range(3):
        inference_id = f"merge-{round_}"
        assert (
            httpx.put(f"{service.url}/_inference/chat_completion/{inference_id}", json=BODY).status_code
            == 200
        )
        path = f"/_inference/{inference_id}/_update"
        changes: list[dict[str, object]] = [
            {"task_settings": {"user": "u"}},
            {"task_settings": {"headers": {"x-h": "1"}}},
            {"service_settings": {"organization_id": "org"}},
            {"service_settings": {"url": "http://127.0.0.1:1/v1/chat/completions", "api_key": "sk-c"}},
            {"service_settings": {"rate_limit": {"requests_per_minute": 7}}},
        ]
        responses = asyncio.run(_many(service, [("PUT", path, body) for body in changes]))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        final = httpx.get(f"{service.url}/_inference/{inference_id}").json()["endpoints"][0]
        assert final["task_settings"] == {"user": "u", "headers": {"x-h": "1"}}
        assert final["service_settings"] == {
            "model_id": "m",
            "url": "http://127.0.0.1:1/v1/chat/completions",
            "organization_id": "org",
            "rate_limit": {"requests_per_minute": 7},
        }
