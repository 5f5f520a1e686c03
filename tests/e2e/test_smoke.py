"""The service starts on both backends and serves the management API end to end."""

from __future__ import annotations

from tests.support.service import RunningService

BODY = {"service": "openai", "service_settings": {"api_key": "sk-smoke", "model_id": "gpt-4o-mini"}}


def test_put_get_delete_round_trip(service: RunningService) -> None:
    with service.client() as http:
        put = http.put("/_inference/chat_completion/smoke-chat", json=BODY)
        assert put.status_code == 200, put.text
        assert put.headers["x-elastic-product"] == "Elasticsearch"
        assert put.json() == {
            "inference_id": "smoke-chat",
            "task_type": "chat_completion",
            "service": "openai",
            "service_settings": {"model_id": "gpt-4o-mini", "rate_limit": {"requests_per_minute": 500}},
        }
        got = http.get("/_inference/smoke-chat").json()
        assert got == {"endpoints": [put.json()]}
        assert http.delete("/_inference/smoke-chat").json() == {
            "acknowledged": True,
            "pipelines": [],
            "indexes": [],
        }
        assert http.get("/_inference/smoke-chat").status_code == 404
