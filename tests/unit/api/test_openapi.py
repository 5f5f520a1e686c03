"""The OpenAPI document: valid OpenAPI 3.1, and exactly the app's routes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from inference_service.api.openapi.document import build_document, openapi_path, route_operations
from inference_service.api.openapi.operations import OPERATIONS, QUERY
from inference_service.app import FACES
from inference_service.providers.registry import builtin_registry

ROUTES = [route for face in FACES for route in face.routes]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(ROUTES, builtin_registry())


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_is_plain_json(document: dict[str, Any]) -> None:
    """Served with msgspec: nothing in it may be a Python object (a Struct class left in)."""
    assert msgspec.json.decode(msgspec.json.encode(document)) == document


def test_every_route_and_method_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    served = {(openapi_path(route.path), method) for route, method in route_operations(ROUTES)}
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert documented == served
    assert set(OPERATIONS) == served, "an OPERATIONS entry without a route, or a route without one"


def test_a_route_without_an_operation_entry_fails_the_generator() -> None:
    async def handler(request: Any) -> Any:
        raise AssertionError

    with pytest.raises(KeyError):
        build_document([*ROUTES, Route("/_nowhere", handler, methods=["GET"])], builtin_registry())


def test_head_is_left_out(document: dict[str, Any]) -> None:
    assert all("head" not in item for item in document["paths"].values())


def test_only_the_public_routes_need_no_key(document: dict[str, Any]) -> None:
    public = {
        (path, method)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if op.get("security") == []
    }
    assert public == {
        ("/", "get"),
        ("/openapi.json", "get"),
        ("/_health/live", "get"),
        ("/_health/ready", "get"),
    }
    assert document["security"] == [{"ApiKey": []}, {"Bearer": []}]
    assert set(document["components"]["securitySchemes"]) == {"ApiKey", "Bearer"}


def test_path_parameters_follow_the_routes(document: dict[str, Any]) -> None:
    op = document["paths"]["/_inference/{task_type}/{inference_id}"]["post"]
    path_params = {p["name"]: p for p in op["parameters"] if p["in"] == "path"}
    assert set(path_params) == {"task_type", "inference_id"}
    assert "_stream" in path_params["inference_id"]["schema"]["pattern"]  # never an action name


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/_inference/{inference_id}", "delete", {"dry_run", "force"}),
        ("/_inference/{inference_id}", "put", {"timeout", "validate"}),
        ("/_inference/{task_type}/{inference_id}/_stream", "post", {"timeout"}),
        ("/_security/api_key", "get", {"id", "name", "active_only"}),
        ("/_security/api_key", "post", {"refresh"}),
    ],
)
def test_query_parameters_are_each_routes_own(
    document: dict[str, Any], path: str, method: str, expected: set[str]
) -> None:
    op = document["paths"][path][method]
    names = {p["name"] for p in op["parameters"] if p["in"] == "query"}
    assert names == expected | {"pretty", "human", "error_trace", "filter_path"}
    assert names <= set(QUERY)


def test_errors_use_each_faces_envelope(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"EsErrorBody", "OpenAiErrorBody", "UnifiedErrorBody"} <= set(schemas)
    es = document["paths"]["/_inference/{inference_id}"]["delete"]["responses"]["404"]
    assert es["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/EsErrorBody"}
    v1 = document["paths"]["/v1/embeddings"]["post"]["responses"]["404"]
    assert v1["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OpenAiErrorBody"}


def test_streams_are_event_streams_of_their_chunks(document: dict[str, Any]) -> None:
    es = document["paths"]["/_inference/{inference_id}/_stream"]["post"]["responses"]["200"]
    assert set(es["content"]) == {"text/event-stream"}
    v1 = document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]
    assert set(v1["content"]) == {"application/json", "text/event-stream"}
    data = v1["content"]["text/event-stream"]["schema"]["properties"]["data"]["anyOf"][1]
    assert data["contentMediaType"] == "application/json"
    refs = [s["$ref"] for s in data["contentSchema"]["anyOf"]]
    assert refs[0].endswith("/OpenAiChatCompletionChunk")


def test_put_bodies_come_from_each_providers_settings(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    services = {ref["$ref"].rsplit(".", 1)[1] for ref in schemas["PutEndpointBody"]["anyOf"]}
    assert services == set(builtin_registry().names)
    openai = schemas["ServiceSettings.openai.text_embedding"]
    assert {"model_id", "api_key"} <= set(openai["required"])  # the settings and the secret
    assert openai["additionalProperties"] is False
