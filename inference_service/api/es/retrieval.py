"""``text_embedding``, ``sparse_embedding`` and ``rerank`` in the Elasticsearch face.

Bodies are Elasticsearch's (``input``, ``input_type``, ``query``, ``top_n``,
``return_documents``, ``task_settings``, ``timeout``) and so are the answers, one entry per
input in input order (rerank: best first)::

    {"text_embedding": [{"embedding": [0.1, ...]}, ...]}   (text_embedding_bytes / _bits by element type)
    {"sparse_embedding": [{"is_truncated": false, "embedding": {"token": 0.4, ...}}, ...]}
    {"rerank": [{"index": 2, "relevance_score": 0.93, "text": "..."}, ...]}
"""

from __future__ import annotations

from typing import Any

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.inference.deadline import Deadline
from inference_service.inference.service import InferenceService
from inference_service.model.completion import InferenceRequest
from inference_service.model.embedding import EmbeddingRequest, JsonVector, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig

DENSE_KEYS = {"float": "text_embedding", "byte": "text_embedding_bytes", "bit": "text_embedding_bits"}
"""The answer's key per element type, as Elasticsearch names them."""


async def perform_retrieval(
    service: InferenceService,
    inference: InferenceRequest,
    target: ResolvedEndpoint,
    config: EndpointConfig,
    deadline: Deadline,
) -> dict[str, Any]:
    """The answer document of a validated request (see :func:`prepare_request`)."""
    task_type = target.endpoint.task_type
    if task_type == TaskType.RERANK:
        assert inference.query is not None  # validated
        rerank = RerankRequest(
            query=inference.query,
            input=inference.inputs,
            top_n=inference.top_n,
            return_documents=inference.return_documents,
        )
        return render_rerank(await service.rerank(target, config, rerank, deadline))
    embed = EmbeddingRequest(input=inference.inputs, input_type=inference.parsed_input_type())
    if task_type == TaskType.SPARSE_EMBEDDING:
        sparse = await service.sparse_embed(target, config, embed, deadline)
        return {
            "sparse_embedding": [
                {"is_truncated": e.is_truncated, "embedding": e.embedding} for e in sparse.embeddings
            ]
        }
    return render_dense(await service.embed(target, config, embed, deadline))


def render_dense(result: TextEmbeddingResult) -> dict[str, Any]:
    """Vectors kept as the provider's JSON are written through as they came."""
    return {
        DENSE_KEYS[result.element_type]: [
            {"embedding": v.raw if isinstance(v, JsonVector) else v} for v in result.embeddings
        ]
    }


def render_rerank(result: RerankResult) -> dict[str, Any]:
    ranked: list[dict[str, Any]] = []
    for doc in result.ranked:
        entry: dict[str, Any] = {"index": doc.index, "relevance_score": doc.relevance_score}
        if doc.text is not None:
            entry["text"] = doc.text
        ranked.append(entry)
    return {"rerank": ranked}
