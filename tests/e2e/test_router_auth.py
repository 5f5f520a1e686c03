"""A key restricted to a router may use it; the router's targets are its own business (the key
needs no access to them). Its own small service on SQLite, with API keys on."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support.service import migrated_service

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


def test_a_key_for_the_router_alone_is_served_by_its_targets(tmp_path: Path) -> None:
    with (
        FakeProvider(default=fake_openai.stream_reply(["routed"])) as upstream,
        migrated_service(tmp_path) as svc,
    ):
        url = svc.url
        settings = {
            "api_key": "sk-t",
            "model_id": fake_openai.MODEL,
            "url": upstream.url + "/v1/chat/completions",
        }
        put = httpx.put(
            f"{url}/_inference/chat_completion/hidden-target?validate=false",
            json={"service": "openai", "service_settings": settings},
        )
        assert put.status_code == 200, put.text
        routed = {"strategy": "priority", "targets": [{"inference_id": "hidden-target"}]}
        put = httpx.put(
            f"{url}/_inference/chat_completion/router-chat",
            json={"service": "router", "service_settings": routed},
        )
        assert put.status_code == 200, put.text
        admin = httpx.put(f"{url}/_security/api_key", json={"name": "admin"}).json()
        scoped = {
            "name": "router-only",
            "role_descriptors": {
                "r": {
                    "applications": [
                        {
                            "application": "inference-service",
                            "privileges": ["infer"],
                            "resources": ["router-*"],
                        }
                    ]
                }
            },
        }
        made = httpx.put(
            f"{url}/_security/api_key", json=scoped, headers={"authorization": "ApiKey " + admin["encoded"]}
        ).json()
        key = {"authorization": "ApiKey " + made["encoded"]}
        answer = httpx.post(f"{url}/_inference/chat_completion/router-chat/_stream", json=CHAT, headers=key)
        assert answer.status_code == 200 and answer.headers["x-inference-endpoint"] == "hidden-target"
        assert "routed" in answer.text
        direct = httpx.post(f"{url}/_inference/chat_completion/hidden-target/_stream", json=CHAT, headers=key)
        assert direct.status_code == 403
        with openai.OpenAI(base_url=url + "/v1", api_key=made["encoded"], max_retries=0) as sdk:
            reply = sdk.chat.completions.create(
                model="router-chat", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content == "routed"
