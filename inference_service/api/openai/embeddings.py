"""``POST /v1/embeddings`` on text_embedding endpoints, as the OpenAI API answers it.

``model`` is the inference id. ``input`` is a string or a list of strings (token arrays are
refused: the endpoint's provider does its own tokenizing); ``encoding_format`` ``float`` or
``base64`` (little-endian float32, what the OpenAI SDK asks for by default); ``dimensions`` must
be the endpoint's own (an endpoint has one size); ``user`` goes into the endpoint's task settings
for this call where its service takes one. ``usage`` is given when the provider counted tokens.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.auth import authorize_endpoint
from inference_service.api.bodies import decode_json
from inference_service.api.openai.conventions import json_response, read_json_body, request_deadline
from inference_service.api.openai.errors import resolve_model, with_user
from inference_service.api.state import services
from inference_service.auth.roles import INFER_BY_MODEL
from inference_service.errors import BadRequestError, InvalidRequestError
from inference_service.model.embedding import EmbeddingRequest, JsonVector, TextEmbeddingResult, Vector
from inference_service.model.task_type import TaskType


class EmbeddingsBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    model: str
    input: str | list[Any]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None


_DECODER = msgspec.json.Decoder(EmbeddingsBody)


def _inputs(body: EmbeddingsBody, limit: int) -> list[str]:
    inputs = [body.input] if isinstance(body.input, str) else body.input
    if not inputs:
        raise InvalidRequestError("[input] must not be empty", param="input")
    if not all(isinstance(item, str) for item in inputs):
        raise InvalidRequestError(
            "[input] must be a string or a list of strings; token arrays are not supported", param="input"
        )
    if len(inputs) > limit:
        raise InvalidRequestError(
            f"[input] has [{len(inputs)}] inputs, more than the [{limit}] allowed in one request",
            param="input",
        )
    return inputs


def _encoded(vector: Vector, encoding: str) -> Any:
    if encoding == "float":
        return vector.raw if isinstance(vector, JsonVector) else vector
    values = array("f", vector.values() if isinstance(vector, JsonVector) else vector)
    if sys.byteorder == "big":
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def render(result: TextEmbeddingResult, model: str, encoding: str) -> dict[str, Any]:
    data = [
        {"object": "embedding", "index": i, "embedding": _encoded(v, encoding)}
        for i, v in enumerate(result.embeddings)
    ]
    answer: dict[str, Any] = {"object": "list", "data": data, "model": model}
    if result.input_tokens is not None:
        answer["usage"] = {"prompt_tokens": result.input_tokens, "total_tokens": result.input_tokens}
    return answer


async def create_embeddings(request: Request) -> Response:
    state = services(request)
    body = decode_json(await read_json_body(request, state.settings.max_body_bytes), _DECODER, "embeddings")
    inputs = _inputs(body, state.settings.max_inputs_per_request)
    authorize_endpoint(request, INFER_BY_MODEL, body.model)
    target = await resolve_model(state.inference, body.model, TaskType.TEXT_EMBEDDING)
    dimensions = target.endpoint.service_settings.get("dimensions")
    if body.dimensions is not None and body.dimensions != dimensions:
        raise InvalidRequestError(
            f"[dimensions] [{body.dimensions}] cannot be honoured: endpoint [{body.model}] produces "
            f"[{dimensions}]-dimension vectors",
            param="dimensions",
        )
    config = with_user(state.inference, target, body.user)
    deadline = request_deadline(request, state.inference.deadline(TaskType.TEXT_EMBEDDING, None))
    result = await state.inference.embed(target, config, EmbeddingRequest(input=inputs), deadline)
    if result.element_type != "float":
        raise BadRequestError(
            f"endpoint [{body.model}] produces [{result.element_type}] vectors; "
            "/v1/embeddings returns floats only"
        )
    return json_response(render(result, body.model, body.encoding_format))
