"""Hugging Face rerank (Text Embeddings Inference's ``POST /rerank``) (pure).

Request: ``{"texts": [...], "query": ..., "return_text"?, "top_n"?}``. These are TEI's field
names, and Elasticsearch's too (``HuggingFaceRerankRequestEntity`` writes ``texts`` and
``return_text``; an early draft of it wrote ``documents``/``return_documents``, which TEI
refuses: ``texts`` is required). ``top_n`` is not a TEI field (TEI ignores unknown fields and
ranks every text); it is sent as Elasticsearch sends it, for servers that take it, and the
answer is cut to it here in any case. ``return_text`` and ``top_n`` come from the request, else
from the endpoint's task settings (``return_documents``, ``top_n``).

Response: ``[{"index": i, "score": s, "text"?: ...}, ...]`` (TEI, in TEI's order);
``relevance_score`` is read for ``score`` and ``document.text`` for ``text``, as Elasticsearch
reads them. The documents come back best first.
"""

from __future__ import annotations

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult

_ENCODER = msgspec.json.Encoder()


class _RerankRequest(msgspec.Struct, omit_defaults=True):
    texts: list[str]
    query: str
    return_text: bool | None = None
    top_n: int | None = None


class _Document(msgspec.Struct):
    text: str | None = None


class _Rank(msgspec.Struct):
    index: int
    score: float | None = None
    relevance_score: float | None = None
    text: str | None = None
    document: _Document | None = None


_DECODER = msgspec.json.Decoder(list[_Rank])


def to_hugging_face_rerank_request(
    request: RerankRequest, *, top_n: int | None, return_documents: bool | None
) -> bytes:
    """``top_n`` and ``return_documents``: the request's, else the task settings'."""
    body = _RerankRequest(texts=request.input, query=request.query, return_text=return_documents, top_n=top_n)
    return _ENCODER.encode(body)


def parse_hugging_face_rerank(raw: bytes, inference_id: str) -> RerankResult:
    """Every ranked document, best first; a body that is not a list of ranks is a 502."""
    try:
        ranks = _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise MalformedUpstreamError(
            f"The provider sent a malformed rerank response for inference entity id [{inference_id}]: {exc}"
        ) from None
    ranked: list[RankedDocument] = []
    for position, rank in enumerate(ranks):
        score = rank.score if rank.score is not None else rank.relevance_score
        if score is None:
            raise MalformedUpstreamError(
                f"The provider's rerank response for inference entity id [{inference_id}] has no "
                f"[score] at position [{position}]"
            )
        text = rank.text if rank.text is not None else (rank.document.text if rank.document else None)
        ranked.append(RankedDocument(index=rank.index, relevance_score=score, text=text))
    ranked.sort(key=lambda doc: doc.relevance_score, reverse=True)
    return RerankResult(ranked=ranked)
