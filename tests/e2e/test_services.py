"""``GET /_inference/_services``: every service and every setting agrees with the settings
Structs validation uses, the task-type form filters, and the official client's raw call reads it."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from elasticsearch import Elasticsearch

from inference_service.model.endpoint import INTERNAL_SETTINGS
from inference_service.model.task_type import TaskType
from inference_service.providers import BUILTIN_PROVIDERS
from inference_service.providers.describe import field_type, flat_fields, nested_struct
from inference_service.providers.spec import ProviderSpec
from tests.support.service import RunningService

FIELDS = ["description", "label", "required", "sensitive", "updatable", "type", "supported_task_types"]


@pytest.fixture(scope="module")
def described(service: RunningService) -> list[dict[str, Any]]:
    answer = httpx.get(f"{service.url}/_inference/_services")
    assert answer.status_code == 200, answer.text
    body: list[dict[str, Any]] = answer.json()
    return body


def _expected(spec: ProviderSpec) -> dict[str, dict[str, Any]]:
    """Per dotted key: type, sensitivity, and per task type whether it is required, straight
    from the Structs (nested ones walked here by hand, not by the generator's flattening)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(
        struct: type[msgspec.Struct], task_type: TaskType, prefix: str, required: bool, secret: bool
    ) -> None:
        for f in msgspec.structs.fields(struct):
            if f.name in INTERNAL_SETTINGS:
                continue
            inner = nested_struct(f.type)
            if inner is not None:
                walk(inner, task_type, f"{prefix}{f.name}.", required and f.required, secret)
                continue
            entry = found.setdefault(
                prefix + f.name, {"type": field_type(f.type), "sensitive": secret, "required": {}}
            )
            entry["required"][str(task_type)] = required and f.required
            default = None if f.default in (msgspec.NODEFAULT, None) else msgspec.to_builtins(f.default)
            if entry.setdefault("default", default) != default:
                entry["default"] = None  # differs by task type
                entry["mixed"] = True
            elif entry.get("mixed"):
                entry["default"] = None

    for task_type, struct in spec.service_settings.items():
        walk(struct, task_type, "", True, False)
        walk(spec.secrets, task_type, "", True, True)
    return found


def test_every_service_and_setting_matches_its_structs(described: list[dict[str, Any]]) -> None:
    assert [s["service"] for s in described] == sorted(p.name for p in BUILTIN_PROVIDERS)
    by_name = {s["service"]: s for s in described}
    for spec in BUILTIN_PROVIDERS:
        service = by_name[spec.name]
        assert sorted(service["task_types"]) == sorted(str(t) for t in spec.task_types)
        assert service["name"]
        expected = _expected(spec)
        assert set(service["configurations"]) == set(expected), spec.name
        for key, field in service["configurations"].items():
            want = expected[key]
            assert [k for k in field if k != "default_value"] == FIELDS, (spec.name, key)
            assert field["type"] == want["type"], (spec.name, key)
            assert field["sensitive"] is want["sensitive"], (spec.name, key)
            assert sorted(field["supported_task_types"]) == sorted(want["required"]), (spec.name, key)
            assert field["required"] is all(want["required"].values()), (spec.name, key)
            assert field.get("default_value") == want["default"], (spec.name, key)
            assert field["label"] and field["description"].endswith("."), (spec.name, key)
            assert field["updatable"] is True


def test_required_settings_are_the_ones_validation_asks_for(service: RunningService) -> None:
    openai = httpx.get(f"{service.url}/_inference/_services/completion").json()
    required = sorted(
        k for s in openai if s["service"] == "openai" for k, f in s["configurations"].items() if f["required"]
    )
    assert required == ["api_key", "model_id"]
    answer = httpx.put(
        f"{service.url}/_inference/completion/services-missing",
        json={"service": "openai", "service_settings": {}},
    )
    assert answer.status_code == 400
    reason = answer.json()["error"]["reason"]
    for key in required:
        assert f"[{key}]" in reason


def test_task_type_form_filters(service: RunningService, described: list[dict[str, Any]]) -> None:
    answer = httpx.get(f"{service.url}/_inference/_services/rerank")
    assert answer.status_code == 200
    names = [s["service"] for s in answer.json()]
    assert names == [s["service"] for s in described if "rerank" in s["task_types"]]
    assert "openai" not in names and "cohere" in names
    assert httpx.get(f"{service.url}/_inference/_services/RERANK").json() == answer.json()


def test_unknown_task_type_and_wrong_method(service: RunningService) -> None:
    answer = httpx.get(f"{service.url}/_inference/_services/sing")
    assert answer.status_code == 400
    assert answer.json()["error"]["reason"] == "Unknown task_type [sing]"
    put = httpx.put(f"{service.url}/_inference/_services", json={"service": "openai", "service_settings": {}})
    assert put.status_code == 405  # never read as creating an endpoint named _services
    assert httpx.post(f"{service.url}/_inference/_services/completion", json={}).status_code == 405
    assert httpx.get(f"{service.url}/_inference/_services?bogus=1").status_code == 400


def test_official_client_raw_call(service: RunningService, described: list[dict[str, Any]]) -> None:
    client = Elasticsearch(service.url, request_timeout=30)
    answer = client.perform_request("GET", "/_inference/_services", headers={"accept": "application/json"})
    assert answer.body == described
    one = client.perform_request(
        "GET", "/_inference/_services/text_embedding", headers={"accept": "application/json"}
    )
    assert all("text_embedding" in s["task_types"] for s in one.body)


def test_flattening_names_nested_settings() -> None:
    openai = next(p for p in BUILTIN_PROVIDERS if p.name == "openai")
    keys = [k for k, _, _ in flat_fields(openai.service_settings[TaskType.COMPLETION])]
    assert "rate_limit.requests_per_minute" in keys and "rate_limit" not in keys
