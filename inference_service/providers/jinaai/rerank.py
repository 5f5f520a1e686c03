"""Jina AI's rerank API (``POST /v1/rerank``), as Elasticsearch calls it (pure).

Request: ``{"model", "query", "documents": [...], "top_n"?, "return_documents"?}`` (the
request's values, else the task settings'). Response: ``{"results": [{"index",
"relevance_score", "document"?: {"text"} or "<text>"}], "usage": ...}``, best first.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.providers.http import decode_answer
from inference_service.providers.jinaai.settings import JinaAIRerankServiceSettings, JinaAIRerankTaskSettings

_ENCODER = msgspec.json.Encoder()


class _Document(msgspec.Struct):
    text: str | None = None


class _Ranked(msgspec.Struct):
    index: int
    relevance_score: float
    document: _Document | str | None = None


class _RerankAnswer(msgspec.Struct):
    results: list[_Ranked]


_DECODER = msgspec.json.Decoder(_RerankAnswer)


def to_jinaai_rerank_request(
    request: RerankRequest, settings: JinaAIRerankServiceSettings, task: JinaAIRerankTaskSettings
) -> bytes:
    body: dict[str, Any] = {"model": settings.model_id, "query": request.query, "documents": request.input}
    top_n = task.top_n if request.top_n is None else request.top_n
    if top_n is not None:
        body["top_n"] = top_n
    return_documents = task.return_documents if request.return_documents is None else request.return_documents
    if return_documents is not None:
        body["return_documents"] = return_documents
    return _ENCODER.encode(body)


def parse_jinaai_rerank(raw: bytes, inference_id: str) -> RerankResult:
    results = decode_answer(_DECODER, raw, inference_id, "rerank").results
    return RerankResult(
        ranked=[
            RankedDocument(
                index=r.index,
                relevance_score=r.relevance_score,
                text=r.document.text if isinstance(r.document, _Document) else r.document,
            )
            for r in results
        ]
    )
