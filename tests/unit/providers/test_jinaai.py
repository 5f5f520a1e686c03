"""Jina AI translators: the embeddings and rerank bodies Elasticsearch sends, and answers."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.model.rerank import RankedDocument, RerankRequest
from inference_service.providers.http import parse_json_field_error
from inference_service.providers.jinaai import PROVIDER
from inference_service.providers.jinaai.embeddings import to_jinaai_embeddings_request
from inference_service.providers.jinaai.rerank import parse_jinaai_rerank, to_jinaai_rerank_request
from inference_service.providers.jinaai.settings import (
    JinaAIEmbeddingServiceSettings,
    JinaAIEmbeddingTaskSettings,
    JinaAIRerankServiceSettings,
    JinaAIRerankTaskSettings,
)
from inference_service.providers.openai.embeddings import parse_openai_embeddings


def embed_body(
    input_type: InputType | None = None,
    *,
    inputs: list[str] | None = None,
    task: dict[str, Any] | None = None,
    **settings: Any,
) -> Any:
    service = msgspec.convert({"model_id": "jina-embeddings-v3", **settings}, JinaAIEmbeddingServiceSettings)
    raw = to_jinaai_embeddings_request(
        EmbeddingRequest(input=inputs or ["abc"], input_type=input_type),
        service,
        msgspec.convert(task or {}, JinaAIEmbeddingTaskSettings),
    )
    return json.loads(raw)


def test_embed_body_with_everything() -> None:
    body = embed_body(
        InputType.SEARCH,
        task={"input_type": "ingest", "late_chunking": True},
        embedding_type="bit",
        dimensions=512,
        dimensions_set_by_user=True,
    )
    assert body == {
        "input": ["abc"],
        "model": "jina-embeddings-v3",
        "embedding_type": "binary",
        "task": "retrieval.query",
        "late_chunking": True,
        "dimensions": 512,
    }
    assert list(body) == ["input", "model", "embedding_type", "task", "late_chunking", "dimensions"]


@pytest.mark.parametrize(
    ("input_type", "task"),
    [
        (InputType.INGEST, "retrieval.passage"),
        (InputType.INTERNAL_INGEST, "retrieval.passage"),
        (InputType.SEARCH, "retrieval.query"),
        (InputType.INTERNAL_SEARCH, "retrieval.query"),
        (InputType.CLASSIFICATION, "classification"),
        (InputType.CLUSTERING, "separation"),
    ],
)
def test_tasks(input_type: InputType, task: str) -> None:
    assert embed_body(input_type)["task"] == task


def test_defaults_send_float_and_no_optional_field() -> None:
    assert embed_body(dimensions=1024, dimensions_set_by_user=False) == {
        "input": ["abc"],
        "model": "jina-embeddings-v3",
        "embedding_type": "float",
    }
    assert embed_body(task={"input_type": "clustering"})["task"] == "separation"


def test_clip_v2_takes_only_the_query_task() -> None:
    assert "task" not in embed_body(InputType.INGEST, model_id="jina-clip-v2")
    assert embed_body(InputType.INTERNAL_SEARCH, model_id="Jina-CLIP-v2")["task"] == "retrieval.query"


def test_late_chunking_is_off_past_5500_words() -> None:
    assert embed_body(task={"late_chunking": True}, inputs=["word " * 2750] * 2)["late_chunking"] is True
    assert (
        embed_body(task={"late_chunking": True}, inputs=["word " * 2750, "word " * 2750 + "more"])[
            "late_chunking"
        ]
        is False
    )
    assert embed_body(task={"late_chunking": False})["late_chunking"] is False


def test_binary_answers_are_signed_bytes_and_bit_vectors_default_to_l2_norm() -> None:
    raw = b'{"data":[{"object":"embedding","index":0,"embedding":[-86,15]}]}'
    result = parse_openai_embeddings(raw, "e", "bit")
    assert (result.embeddings, result.element_type) == ([[-86, 15]], "bit")
    assert (PROVIDER.similarity_for("bit"), PROVIDER.similarity_for("float")) == ("l2_norm", "dot_product")


def test_rerank_body_and_answer() -> None:
    service = msgspec.convert({"model_id": "jina-reranker-v2-base-multilingual"}, JinaAIRerankServiceSettings)
    task = msgspec.convert({"top_n": 3, "return_documents": True}, JinaAIRerankTaskSettings)
    raw = to_jinaai_rerank_request(RerankRequest(query="q", input=["a", "b"], top_n=1), service, task)
    assert json.loads(raw) == {
        "model": "jina-reranker-v2-base-multilingual",
        "query": "q",
        "documents": ["a", "b"],
        "top_n": 1,
        "return_documents": True,
    }
    answer = (
        b'{"results":[{"index":1,"document":{"text":"b"},"relevance_score":0.9},'
        b'{"index":0,"document":"a","relevance_score":0.2},{"index":2,"relevance_score":0.1}]}'
    )
    assert parse_jinaai_rerank(answer, "r").ranked == [
        RankedDocument(index=1, relevance_score=0.9, text="b"),
        RankedDocument(index=0, relevance_score=0.2, text="a"),
        RankedDocument(index=2, relevance_score=0.1),
    ]


def test_error_detail_list_is_kept_as_json() -> None:
    body = b'{"detail":[{"loc":["body","model"],"msg":"field required","type":"value_error.missing"}]}'
    error = parse_json_field_error(422, body, "e", "https://api.jina.ai/v1/embeddings", "detail")
    assert error.status == 422
    assert 'Error message: [[{"loc":["body","model"],"msg":"field required"' in error.reason
