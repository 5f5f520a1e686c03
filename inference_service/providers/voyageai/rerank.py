"""Voyage AI's rerank API (``POST /v1/rerank``), as Elasticsearch calls it (pure).

Request: ``{"model", "query", "documents": [...], "return_documents"?, "top_k"?,
"truncation"?}``; ``return_documents`` and ``top_k`` (the request's ``top_n``) are the
request's, else the task settings'. Response: ``{"object": "list", "data": [{"index",
"relevance_score", "document"?: "<text>"}], "model", "usage"}``, best first.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.providers.http import decode_answer
from inference_service.providers.voyageai.settings import (
    VoyageAIRerankServiceSettings,
    VoyageAIRerankTaskSettings,
)

_ENCODER = msgspec.json.Encoder()


class _Ranked(msgspec.Struct):
    index: int
    relevance_score: float
    document: str | None = None


class _RerankAnswer(msgspec.Struct):
    data: list[_Ranked]


_DECODER = msgspec.json.Decoder(_RerankAnswer)


def to_voyageai_rerank_request(
    request: RerankRequest, settings: VoyageAIRerankServiceSettings, task: VoyageAIRerankTaskSettings
) -> bytes:
    body: dict[str, Any] = {"model": settings.model_id, "query": request.query, "documents": request.input}
    return_documents = task.return_documents if request.return_documents is None else request.return_documents
    if return_documents is not None:
        body["return_documents"] = return_documents
    top_k = task.top_k if request.top_n is None else request.top_n
    if top_k is not None:
        body["top_k"] = top_k
    if task.truncation is not None:
        body["truncation"] = task.truncation
    return _ENCODER.encode(body)


def parse_voyageai_rerank(raw: bytes, inference_id: str) -> RerankResult:
    data = decode_answer(_DECODER, raw, inference_id, "rerank").data
    return RerankResult(
        ranked=[
            RankedDocument(index=r.index, relevance_score=r.relevance_score, text=r.document) for r in data
        ]
    )
