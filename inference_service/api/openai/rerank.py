"""``POST /v1/rerank`` on rerank endpoints, in the Cohere/Jina shape many clients use.

Request ``{"model", "query", "documents": [str | {"text": str}], "top_n"?, "return_documents"?}``
→ ``{"model", "results": [{"index", "relevance_score", "document"?: {"text"}}]}``, best first.
Not part of the OpenAI API itself; it sits here because the same clients call it beside
``/v1/embeddings``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.auth import authorize_endpoint
from inference_service.api.bodies import decode_json
from inference_service.api.openai.conventions import json_response, read_json_body, request_deadline
from inference_service.api.openai.errors import resolve_model
from inference_service.api.state import services
from inference_service.auth.roles import INFER_BY_MODEL
from inference_service.errors import InvalidRequestError
from inference_service.model.rerank import RerankRequest
from inference_service.model.task_type import TaskType


class Document(msgspec.Struct, forbid_unknown_fields=True):
    text: str


class RerankBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    model: str
    query: str
    documents: list[str | Document]
    top_n: Annotated[int, msgspec.Meta(ge=1)] | None = None
    return_documents: bool | None = None


_DECODER = msgspec.json.Decoder(RerankBody)


async def create_rerank(request: Request) -> Response:
    state = services(request)
    body = decode_json(await read_json_body(request, state.settings.max_body_bytes), _DECODER, "rerank")
    if not body.query:
        raise InvalidRequestError("[query] must not be empty", param="query")
    documents = [d if isinstance(d, str) else d.text for d in body.documents]
    if not documents:
        raise InvalidRequestError("[documents] must not be empty", param="documents")
    if len(documents) > state.settings.max_inputs_per_request:
        raise InvalidRequestError(
            f"[documents] has [{len(documents)}] documents, more than the "
            f"[{state.settings.max_inputs_per_request}] allowed in one request",
            param="documents",
        )
    authorize_endpoint(request, INFER_BY_MODEL, body.model)
    target = await resolve_model(state.inference, body.model, TaskType.RERANK)
    deadline = request_deadline(request, state.inference.deadline(TaskType.RERANK, None))
    rerank = RerankRequest(
        query=body.query, input=documents, top_n=body.top_n, return_documents=body.return_documents
    )
    result = await state.inference.rerank(target, target.config, rerank, deadline)
    results: list[dict[str, Any]] = []
    for doc in result.ranked:
        entry: dict[str, Any] = {"index": doc.index, "relevance_score": doc.relevance_score}
        if doc.text is not None:
            entry["document"] = {"text": doc.text}
        results.append(entry)
    return json_response({"model": body.model, "results": results})
