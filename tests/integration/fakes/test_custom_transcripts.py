"""The ``custom`` fakes reproduce the recorded answers byte for byte, and the recorded answers
parse with the json_parser paths the e2e tests configure. No sockets."""

from __future__ import annotations

from pathlib import Path

from inference_service.providers.custom.response import (
    parse_custom_embeddings,
    parse_custom_rerank,
    parse_custom_sparse_embeddings,
)
from inference_service.providers.custom.settings import (
    RerankJsonParser,
    SparseEmbeddingJsonParser,
    TextEmbeddingJsonParser,
)
from tests.fakes import custom

JSON = Path(__file__).resolve().parents[2] / "fixtures" / "json"


def recorded(name: str) -> bytes:
    return (JSON / f"{name}.json").read_bytes()


def test_the_vectors_api_fake_matches_the_recorded_answer() -> None:
    built = custom.vectors([[0.0123, -0.0456, 0.0789], [0.011, 0.002, -0.03]])
    assert built == recorded("custom_vectors_embed")
    result = parse_custom_embeddings(built, TextEmbeddingJsonParser(text_embeddings="$.vectors[*]"), "e")
    assert result.embeddings == [[0.0123, -0.0456, 0.0789], [0.011, 0.002, -0.03]]


def test_the_cohere_rerank_fake_matches_the_recorded_answer() -> None:
    built = custom.cohere_rerank(
        [
            (2, 0.98005307, "Washington, D.C. is the capital of the United States."),
            (0, 0.10194652, "Carson City is the capital city of the American state of Nevada."),
        ]
    )
    assert built == recorded("custom_cohere_rerank")
    parser = RerankJsonParser(
        relevance_score="$.results[*].relevance_score",
        reranked_index="$.results[*].index",
        document_text="$.results[*].document.text",
    )
    ranked = parse_custom_rerank(built, parser, "r").ranked
    assert [(d.index, d.relevance_score) for d in ranked] == [(2, 0.98005307), (0, 0.10194652)]
    assert ranked[0].text is not None and ranked[0].text.startswith("Washington")


def test_the_sparse_fake_matches_the_recorded_answer() -> None:
    built = custom.sparse([[(6, 0.101), (163040, 0.28417)]])
    assert built == recorded("custom_sparse_embed")
    parser = SparseEmbeddingJsonParser(
        token_path="$.result.sparse_embeddings[*].embedding[*].tokenId",
        weight_path="$.result.sparse_embeddings[*].embedding[*].weight",
    )
    [embedding] = parse_custom_sparse_embeddings(built, parser, "s").embeddings
    assert embedding.embedding == {"6": 0.101, "163040": 0.28417}


def test_every_custom_fixture_is_checked() -> None:
    names = sorted(p.stem for p in JSON.glob("custom_*.json"))
    assert names == ["custom_cohere_rerank", "custom_sparse_embed", "custom_vectors_embed"]
