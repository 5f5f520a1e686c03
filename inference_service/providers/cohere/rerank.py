"""Cohere's rerank v2 API (``POST /v2/rerank``), as Elasticsearch calls it (pure).

Request: ``{"model", "query", "documents": [...], "return_documents"?, "top_n"?,
"max_chunks_per_doc"?}``; ``return_documents`` and ``top_n`` are the request's, else the task
settings'. Response: ``{"results": [{"index", "relevance_score", "document"?: {"text"}}],
"meta": {...}}``, best first.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.providers.cohere.settings import CohereRerankServiceSettings, CohereRerankTaskSettings
from inference_service.providers.http import decode_answer

_ENCODER = msgspec.json.Encoder()


class _Document(msgspec.Struct):
    text: str | None = None


class _Ranked(msgspec.Struct):
    index: int
    relevance_score: float
    document: _Document | None = None


class _RerankAnswer(msgspec.Struct):
    results: list[_Ranked]


_DECODER = msgspec.json.Decoder(_RerankAnswer)


def to_cohere_rerank_request(
    request: RerankRequest, settings: CohereRerankServiceSettings, task: CohereRerankTaskSettings
) -> bytes:
    body: dict[str, Any] = {"model": settings.model_id, "query": request.query, "documents": request.input}
    return_documents = task.return_documents if request.return_documents is None else request.return_documents
    if return_documents is not None:
        body["return_documents"] = return_documents
    top_n = task.top_n if request.top_n is None else request.top_n
    if top_n is not None:
        body["top_n"] = top_n
    if task.max_chunks_per_doc is not None:
        body["max_chunks_per_doc"] = task.max_chunks_per_doc
    return _ENCODER.encode(body)


def parse_cohere_rerank(raw: bytes, inference_id: str) -> RerankResult:
    results = decode_answer(_DECODER, raw, inference_id, "rerank").results
    return RerankResult(
        ranked=[
            RankedDocument(
                index=r.index,
                relevance_score=r.relevance_score,
                text=r.document.text if r.document is not None else None,
            )
            for r in results
        ]
    )
