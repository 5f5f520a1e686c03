"""A key restricted to a router may use it; the router's targets are its own business (the key
needs no access to them), so a restricted key may only write routers over its own endpoints.
Each test on its own small service on SQLite, with API keys on."""

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


def test_a_restricted_key_cannot_route_to_endpoints_outside_its_own(tmp_path: Path) -> None:
    """A ``manage`` key restricted to ``team-*`` writes routers over its own endpoints only:
    a router it creates, or targets it adds on ``_update``, naming another endpoint are a 403
    (otherwise it would spend that endpoint's stored provider key through the router); a
    router that already targets one may still be changed otherwise."""
    with migrated_service(tmp_path, validate_on_put=False) as svc:
        url = svc.url
        settings = {"api_key": "sk-t", "model_id": fake_openai.MODEL, "url": "http://127.0.0.1:9/v1"}
        for inference_id in ("team-chat", "hidden-target"):
            put = httpx.put(
                f"{url}/_inference/chat_completion/{inference_id}",
                json={"service": "openai", "service_settings": settings},
            )
            assert put.status_code == 200, put.text

        def router(*targets: str, strategy: str = "priority") -> dict[str, object]:
            routed = {"strategy": strategy, "targets": [{"inference_id": t} for t in targets]}
            return {"service": "router", "service_settings": routed}

        made = httpx.put(f"{url}/_inference/chat_completion/team-legacy", json=router("hidden-target"))
        assert made.status_code == 200, made.text  # made while the service is open (anonymous manage)
        admin = httpx.put(f"{url}/_security/api_key", json={"name": "admin"}).json()
        app = {"application": "inference-service", "privileges": ["manage"], "resources": ["team-*"]}
        team = httpx.put(
            f"{url}/_security/api_key",
            json={"name": "team", "role_descriptors": {"r": {"applications": [app]}}},
            headers={"authorization": "ApiKey " + admin["encoded"]},
        ).json()
        key = {"authorization": "ApiKey " + team["encoded"]}

        def refusal(action: str, target: str) -> dict[str, object]:
            cause = {
                "type": "security_exception",
                "reason": f"action [cluster:admin/xpack/inference/{action}] is unauthorized for API key id "
                f"[{team['id']}] on inference endpoint [{target}], which is not among the key's endpoints",
            }
            return {"error": {"root_cause": [cause], **cause}, "status": 403}

        created = httpx.put(
            f"{url}/_inference/chat_completion/team-router",
            json=router("team-chat", "hidden-target"),
            headers=key,
        )
        assert (created.status_code, created.json()) == (403, refusal("put", "hidden-target"))
        missing = httpx.put(f"{url}/_inference/chat_completion/team-r2", json=router("no-such"), headers=key)
        assert (missing.status_code, missing.json()) == (403, refusal("put", "no-such"))  # nothing revealed
        own = httpx.put(
            f"{url}/_inference/chat_completion/team-router", json=router("team-chat"), headers=key
        )
        assert own.status_code == 200, own.text
        widened = httpx.put(
            f"{url}/_inference/team-router/_update",
            json={
                "service_settings": {
                    "targets": [{"inference_id": "team-chat"}, {"inference_id": "hidden-target"}]
                }
            },
            headers=key,
        )
        assert (widened.status_code, widened.json()) == (403, refusal("update", "hidden-target"))
        unchanged_targets = httpx.put(
            f"{url}/_inference/team-legacy/_update",
            json={"service_settings": {"strategy": "weighted"}},
            headers=key,
        )
        assert unchanged_targets.status_code == 200, unchanged_targets.text
        stored = httpx.get(f"{url}/_inference/team-router", headers=key).json()["endpoints"][0]
        assert [t["inference_id"] for t in stored["service_settings"]["targets"]] == ["team-chat"]
        unrestricted = httpx.put(
            f"{url}/_inference/team-router/_update",
            json={"service_settings": {"targets": [{"inference_id": "hidden-target"}]}},
            headers={"authorization": "ApiKey " + admin["encoded"]},
        )
        assert unrestricted.status_code == 200, unrestricted.text


def test_a_restricted_key_is_told_how_many_routers_outside_its_endpoints_target_its_own(
    tmp_path: Path,
) -> None:
    """Deleting its own endpoint, a key restricted to ``team-*`` sees the routers it may see by
    name and only the count of the others (their names are other teams' business); an
    unrestricted key sees every name."""
    with migrated_service(tmp_path, validate_on_put=False) as svc:
        url = svc.url
        settings = {"api_key": "sk-t", "model_id": fake_openai.MODEL, "url": "http://127.0.0.1:9/v1"}
        put = httpx.put(
            f"{url}/_inference/chat_completion/team-chat",
            json={"service": "openai", "service_settings": settings},
        )
        assert put.status_code == 200, put.text
        routed = {"strategy": "priority", "targets": [{"inference_id": "team-chat"}]}
        for router_id in ("team-router", "secret-router"):
            put = httpx.put(
                f"{url}/_inference/chat_completion/{router_id}",
                json={"service": "router", "service_settings": routed},
            )
            assert put.status_code == 200, put.text
        admin = httpx.put(f"{url}/_security/api_key", json={"name": "admin"}).json()
        admin_key = {"authorization": "ApiKey " + admin["encoded"]}
        app = {"application": "inference-service", "privileges": ["manage"], "resources": ["team-*"]}
        team = httpx.put(
            f"{url}/_security/api_key",
            json={"name": "team", "role_descriptors": {"r": {"applications": [app]}}},
            headers=admin_key,
        ).json()
        key = {"authorization": "ApiKey " + team["encoded"]}

        plan = httpx.delete(f"{url}/_inference/team-chat?dry_run=true", headers=key)
        assert plan.json() == {
            "acknowledged": False,
            "pipelines": [],
            "indexes": [],
            "routers": ["team-router"],
            "routers_outside_api_key": 1,
        }
        refused = httpx.delete(f"{url}/_inference/team-chat", headers=key)
        assert refused.status_code == 409
        reason = refused.json()["error"]["reason"]
        assert reason.startswith(
            "Inference endpoint [team-chat] is referenced by routers [team-router] and 1 router outside "
            "this API key's endpoints and cannot be deleted."
        )
        assert "secret-router" not in refused.text
        everything = httpx.delete(f"{url}/_inference/team-chat?dry_run=true", headers=admin_key).json()
        assert sorted(everything["routers"]) == ["secret-router", "team-router"]
        assert "routers_outside_api_key" not in everything
        forced = httpx.delete(f"{url}/_inference/team-chat?force=true", headers=key)
        assert forced.json()["acknowledged"] is True
