"""``GET /openapi.json``: the OpenAPI 3.1 document of both faces, the management and the
security API, built from the app's own routes and the msgspec Structs.

The paths and methods come from walking the mounted routes (so the document cannot describe a
route that does not exist, and a route without an :data:`~.operations.OPERATIONS` entry is an
error); whether an operation needs a key comes from the action the route declares (None: no
key, like ``GET /``); the schemas come from ``msgspec.json.schema_components`` over the request
Structs the handlers decode with, the answer Structs of :mod:`.wire` and the provider
registry's settings Structs (:mod:`.providers`). It is built once per app, on first request,
and served from then on as the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from inference_service import __version__
from inference_service.api.es.conventions import check_request, json_response
from inference_service.api.openai.conventions import TIMEOUT_HEADER
from inference_service.api.openapi import wire
from inference_service.api.openapi.operations import OPERATIONS, QUERY, Operation
from inference_service.api.openapi.providers import REF, TASK_TYPE, endpoint_components
from inference_service.api.routing import ACTIONS, Resource
from inference_service.api.state import services
from inference_service.providers.registry import ProviderRegistry

OPENAPI_VERSION = "3.1.0"
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
ENDPOINT_ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^(?!(?:" + "|".join(ACTIONS) + r"|\.|\.\.)$)[^/]+$",
}
"""One path segment, never an action name (``api/routing.EndpointIdConvertor``) nor a dot
segment (which clients resolve away before sending)."""
PATH_PARAMETERS = {
    "inference_id": "The endpoint's id (`_all` or `*` on GET: every endpoint).",
    "task_type": "The endpoint's task type (case-insensitive).",
    "model": "The endpoint's id, as OpenAI clients name a model.",
}
_ERROR_BODIES = (wire.EsErrorBody, wire.OpenAiErrorBody, wire.UnifiedErrorBody)
_STATUS_TEXT = {
    "4XX": "The provider refused the request: its status, its error.",
    401: "No API key, or one that is unknown, expired or invalidated.",
    403: "The key's role or endpoints do not allow this.",
    429: "Too many failed authentications from this address (`Retry-After`), or the provider's "
    "own rate limit.",
    502: "The provider failed, answered something unreadable, or could not be reached.",
}
SECURITY_SCHEMES = {
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Authorization: ApiKey <encoded>`, the `encoded` value of a created key "
        "(Elasticsearch's form).",
    },
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <encoded>`: the same credential, as OpenAI clients send it.",
    },
}


def openapi_path(route_path: str) -> str:
    """``/_inference/{inference_id:endpoint_id}`` -> ``/_inference/{inference_id}``."""
    return _CONVERTOR.sub(r"{\1}", route_path)


def route_operations(routes: Iterable[BaseRoute]) -> list[tuple[Route, str]]:
    """Every (route, method) the app serves, HEAD (Starlette's automatic twin of GET) left out."""
    return [
        (route, method)
        for route in routes
        if isinstance(route, Route)
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]


class _Schemas:
    """The msgspec schemas of every type the operations name, generated in one call so the
    components are shared and named once."""

    def __init__(self, types: Sequence[object]) -> None:
        unique = list(dict.fromkeys(types))
        schemas, self.components = msgspec.json.schema_components(unique, ref_template=REF)
        self._by_type = dict(zip(unique, schemas, strict=True))

    def of(self, what: object) -> dict[str, Any]:
        if isinstance(what, str):
            return {"$ref": REF.format(name=what)}
        if isinstance(what, tuple):
            return {"anyOf": [self.of(t) for t in what]}
        return dict(self._by_type[what])


def _types(operations: Iterable[Operation]) -> list[object]:
    found: list[object] = list(_ERROR_BODIES)
    for op in operations:
        for what in (op.body, op.answer, op.events):
            if isinstance(what, tuple):
                found += what
            elif what is not None and not isinstance(what, str):
                found.append(what)
    return found


def _parameters(op: Operation, route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in route.param_convertors:
        schema = TASK_TYPE if name == "task_type" else ENDPOINT_ID_SCHEMA
        param: dict[str, Any] = {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schema,
            "description": PATH_PARAMETERS.get(name, ""),
        }
        if op.examples and name in op.examples:
            param["example"] = op.examples[name]
        params.append(param)
    for name in op.query:
        schema, description = QUERY[name]
        params.append({"name": name, "in": "query", "schema": schema, "description": description})
    if TIMEOUT_HEADER in op.headers:
        params.append(
            {
                "name": TIMEOUT_HEADER,
                "in": "header",
                "schema": QUERY["timeout"][0],
                "description": "A time value that shortens the endpoint's default timeout for this request.",
            }
        )
    return params


def _event_schema(data: dict[str, Any], framing: str) -> dict[str, Any]:
    """One server-sent event (OpenAPI before 3.2 describes a stream by its events): its
    ``data`` a JSON document of ``data``'s schema, or the closing ``[DONE]``."""
    return {
        "type": "object",
        "description": f"One event ({framing} framing): `message` events, then `data: [DONE]`; a "
        "failure is one `error` event (the error body) and no `[DONE]`.",
        "properties": {
            "event": {"type": "string"},
            "data": {
                "anyOf": [
                    {"const": "[DONE]"},
                    {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
                ]
            },
        },
        "required": ["data"],
    }


def _errors(op: Operation, face: str, schemas: _Schemas) -> dict[str, Any]:
    if face == "openai":
        return schemas.of(wire.OpenAiErrorBody)
    if op.unified_errors:
        return schemas.of((wire.EsErrorBody, wire.UnifiedErrorBody))
    return schemas.of(wire.EsErrorBody)


def _responses(op: Operation, face: str, schemas: _Schemas) -> dict[str, Any]:
    error = _errors(op, face, schemas)
    framing = "OpenAI" if op.stream == "openai" else "Elasticsearch"
    ok: dict[str, Any] = {}
    if op.text is not None:
        ok[op.text] = {"schema": {"type": "string"}}
    elif op.stream != "es":
        ok["application/json"] = {"schema": schemas.of(op.answer)}
    if op.stream is not None:
        events = {"anyOf": [schemas.of(op.events), error]}
        ok["text/event-stream"] = {"schema": _event_schema(events, framing)}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": ok}}
    if op.ready_503:
        responses["503"] = {"description": "Not ready: the failing checks are named", "content": ok}
    for status in sorted(set(op.errors), key=str):
        content: dict[str, Any] = {"application/json": {"schema": error}}
        if op.stream == "es":
            # refused once the body is read: one error event, with the error's status
            content["text/event-stream"] = {"schema": _event_schema(error, framing)}
        text = _STATUS_TEXT.get(status) or HTTPStatus(int(status)).phrase
        responses[str(status)] = {"description": text, "content": content}
    return responses


def _operation(route: Route, method: str, op: Operation, public: bool, schemas: _Schemas) -> dict[str, Any]:
    face = "openai" if route.path.startswith("/v1/") else "elasticsearch"
    doc: dict[str, Any] = {
        "operationId": f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', openapi_path(route.path))}".rstrip(
            "_"
        ),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op, route),
    }
    if op.body is not None:
        media: dict[str, Any] = {"schema": schemas.of(op.body)}
        if op.body_examples:
            media["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(op.body_examples, 1)}
        doc["requestBody"] = {"required": op.body_required, "content": {"application/json": media}}
    doc["responses"] = _responses(op, face, schemas)
    if public:
        doc["security"] = []
    return doc


def build_document(routes: Sequence[BaseRoute], registry: ProviderRegistry) -> dict[str, Any]:
    """The document of ``routes``; KeyError naming the route when one has no table entry."""
    served = route_operations(routes)
    table = {key: OPERATIONS[key] for key in ((openapi_path(r.path), m) for r, m in served)}
    schemas = _Schemas(_types(table.values()))
    components = {**endpoint_components(registry)}
    for name, schema in schemas.components.items():
        if components.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are named [{name}]")
    paths: dict[str, dict[str, Any]] = {}
    for route, method in served:
        path = openapi_path(route.path)
        public = isinstance(route, Resource) and route.actions[method] is None
        paths.setdefault(path, {})[method.lower()] = _operation(
            route, method, table[path, method], public, schemas
        )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "inference-service",
            "version": __version__,
            "description": "An Elasticsearch-compatible inference service: the Elasticsearch face "
            "(`/_inference`, `/_security`) and the OpenAI-compatible face (`/v1`).",
        },
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items())), "securitySchemes": SECURITY_SCHEMES},
        "security": [{"ApiKey": []}, {"Bearer": []}],
    }


async def openapi_document(request: Request) -> Response:
    """``GET /openapi.json``, served without a key (like ``GET /``): it describes the API, not
    the endpoints. Built on the first request from the app's routes, then kept on the app."""
    check_request(request)
    document: dict[str, Any] | None = getattr(request.app.state, "openapi", None)
    if document is None:
        document = build_document(request.app.routes, services(request).registry)
        request.app.state.openapi = document
    return json_response(request, document)
