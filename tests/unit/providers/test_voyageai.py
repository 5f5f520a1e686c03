"""Voyage AI translators: the embeddings and rerank bodies Elasticsearch sends, and answers."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from inference_service.errors import InvalidRequestError
from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.model.rerank import RankedDocument, RerankRequest
from inference_service.providers.voyageai.embeddings import to_voyageai_embeddings_request
from inference_service.providers.voyageai.rerank import parse_voyageai_rerank, to_voyageai_rerank_request
from inference_service.providers.voyageai.settings import (
    VoyageAIEmbeddingServiceSettings,
    VoyageAIEmbeddingTaskSettings,
    VoyageAIRerankServiceSettings,
    VoyageAIRerankTaskSettings,
)


def embed_body(
    input_type: InputType | None = None, *, task: dict[str, Any] | None = None, **settings: Any
) -> Any:
    service = msgspec.convert({"model_id": "voyage-3", **settings}, VoyageAIEmbeddingServiceSettings)
    raw = to_voyageai_embeddings_request(
        EmbeddingRequest(input=["abc"], input_type=input_type),
        service,
        msgspec.convert(task or {}, VoyageAIEmbeddingTaskSettings),
    )
    return json.loads(raw)


def test_embed_body_with_everything() -> None:
    body = embed_body(
        InputType.INTERNAL_SEARCH,
        task={"input_type": "ingest", "truncation": False},
        embedding_type="int8",
        dimensions=512,
        dimensions_set_by_user=True,
    )
    assert body == {
        "input": ["abc"],
        "model": "voyage-3",
        "input_type": "query",
        "truncation": False,
        "output_dimension": 512,
        "output_dtype": "int8",
    }
    assert list(body) == ["input", "model", "input_type", "truncation", "output_dimension", "output_dtype"]


def test_defaults_and_task_settings_input_type() -> None:
    assert embed_body(dimensions=1024, dimensions_set_by_user=False) == {
        "input": ["abc"],
        "model": "voyage-3",
        "output_dtype": "float",
    }
    assert embed_body(task={"input_type": "ingest"})["input_type"] == "document"
    assert embed_body(InputType.INGEST)["input_type"] == "document"


@pytest.mark.parametrize(
    ("embedding_type", "dtype"), [("byte", "int8"), ("bit", "binary"), ("binary", "binary")]
)
def test_output_dtypes(embedding_type: str, dtype: str) -> None:
    assert embed_body(embedding_type=embedding_type)["output_dtype"] == dtype


@pytest.mark.parametrize("input_type", [InputType.CLASSIFICATION, InputType.CLUSTERING])
def test_classification_and_clustering_are_refused(input_type: InputType) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        embed_body(input_type)
    assert refused.value.reason == (
        f"Validation Failed: 1: Input type [{input_type}] is not supported for [Voyage AI];"
    )


def test_rerank_body_and_answer() -> None:
    service = msgspec.convert({"model_id": "rerank-2"}, VoyageAIRerankServiceSettings)
    task = msgspec.convert(
        {"top_k": 3, "return_documents": False, "truncation": True}, VoyageAIRerankTaskSettings
    )
    raw = to_voyageai_rerank_request(
        RerankRequest(query="q", input=["a", "b"], return_documents=True), service, task
    )
    assert json.loads(raw) == {
        "model": "rerank-2",
        "query": "q",
        "documents": ["a", "b"],
        "return_documents": True,
        "top_k": 3,
        "truncation": True,
    }
    answer = (
        b'{"object":"list","data":[{"relevance_score":0.4375,"index":1,"document":"b"},'
        b'{"relevance_score":0.25,"index":0}],"model":"rerank-2","usage":{"total_tokens":26}}'
    )
    assert parse_voyageai_rerank(answer, "r").ranked == [
        RankedDocument(index=1, relevance_score=0.4375, text="b"),
        RankedDocument(index=0, relevance_score=0.25),
    ]
