"""The bundled local encoders end to end: all-MiniLM-L6-v2 (text_embedding, rerank) through
llama.cpp and SPLADE-tiny (sparse_embedding) in numpy, over HTTP and the official client.

Marked ``model``: ``make fast`` skips these, CI always runs them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from inference_service.endpoints.preconfigured import EMBEDDING_ID, RERANK_ID, SPARSE_ID, available
from inference_service.local_models import packages
from inference_service.local_models.bert_gguf import convert_bert
from inference_service.local_models.packages import ALL_MINILM_L6_V2, SPLADE_TINY
from inference_service.local_models.wordpiece import WordPieceTokenizer
from inference_service.providers.llamacpp.engine import LlamaCppEmbeddingEngine
from tests.support.service import RunningService, migrated_service

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(  # (the local extra brings numpy and gguf, imported in the tests below)
        not available(ALL_MINILM_L6_V2) or not available(SPLADE_TINY),
        reason="the local models are not installed (inference-service models install)",
    ),
]

SUN = "How big is the sun?"
SUN_TOO = "What is the size of the sun?"
CAT = "My cat sleeps all day on the sofa."


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("encoders")) as running:
        yield running


def post(svc: RunningService, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/{path}", json=body, timeout=60)


def embed(svc: RunningService, inputs: list[str], inference_id: str = EMBEDDING_ID) -> list[list[float]]:
    response = post(svc, f"text_embedding/{inference_id}", {"input": inputs})
    assert response.status_code == 200, response.text
    return [row["embedding"] for row in response.json()["text_embedding"]]


def dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def test_similar_texts_are_closer_than_dissimilar_ones(svc: RunningService) -> None:
    sun, sun_too, cat = embed(svc, [SUN, SUN_TOO, CAT])
    assert len(sun) == 384
    assert all(abs(dot(v, v) - 1) < 1e-5 for v in (sun, sun_too, cat))  # unit length: cosine = dot
    assert dot(sun, sun_too) > 0.7 > 0.2 > dot(sun, cat)


def test_vectors_match_the_reference_forward_pass(svc: RunningService) -> None:
    """llama.cpp on the converted Q8_0 file against the float64 numpy BERT on the original
    safetensors weights (mean pooling over the first 256 tokens, as sentence-transformers)."""
    import numpy as np

    from inference_service.local_models.bert import BertMaskedLm

    directory = packages.model_files(ALL_MINILM_L6_V2)
    reference = BertMaskedLm.from_directory(directory, np.float64)
    tokenizer = WordPieceTokenizer.from_file(directory / "tokenizer.json")
    texts = [SUN, "Ünïcödé, punctuation… and CJK 中文!", " ".join(["The quick brown fox jumps."] * 80)]
    for text, vector in zip(texts, embed(svc, texts), strict=True):
        expected = reference.encode(tokenizer.encode(text, 256).ids).mean(axis=0)
        assert float(np.dot(expected / np.linalg.norm(expected), vector)) > 0.999


def test_long_input_is_truncated_to_256_tokens_not_refused(svc: RunningService) -> None:
    head = "word " * 254  # [CLS] + 254 + [SEP] = 256 tokens
    cut, longer, other_tail = embed(svc, [head, head + "tail " * 3000, head + "something else entirely"])
    assert dot(cut, longer) > 0.99999 and dot(cut, other_tail) > 0.99999


def test_results_keep_input_order_across_batches(svc: RunningService) -> None:
    texts = [f"sentence number {i} is about topic {i % 7}" for i in range(150)]  # 3 batches of 64
    together = embed(svc, texts)
    assert len(together) == 150
    for i in (0, 63, 64, 149):
        [alone] = embed(svc, [texts[i]])
        assert dot(alone, together[i]) > 0.9999


def test_input_type_is_refused(svc: RunningService) -> None:
    response = post(svc, f"text_embedding/{EMBEDDING_ID}", {"input": ["x"], "input_type": "search"})
    assert response.status_code == 400
    assert "The input_type option is not supported by this service" in response.json()["error"]["reason"]


def test_own_endpoint_gets_dimensions_and_similarity_from_the_validation_call(svc: RunningService) -> None:
    body = {"service": "llamacpp", "service_settings": {}}
    created = httpx.put(f"{svc.url}/_inference/text_embedding/my-minilm?validate=true", json=body, timeout=60)
    assert created.status_code == 200, created.text
    settings = created.json()["service_settings"]
    assert (settings["dimensions"], settings["similarity"]) == (384, "cosine")
    [mine], [preconfigured] = embed(svc, [SUN], "my-minilm"), embed(svc, [SUN])
    assert dot(mine, preconfigured) > 0.99999
    engines = svc.app.state.services.providers["llamacpp"].engines
    assert len([e for e in engines if isinstance(e, LlamaCppEmbeddingEngine)]) == 1  # one model in memory


def test_wrong_dimensions_are_refused_on_put(svc: RunningService) -> None:
    body = {"service": "llamacpp", "service_settings": {"dimensions": 128}}
    response = httpx.put(f"{svc.url}/_inference/text_embedding/my-128?validate=true", json=body, timeout=60)
    assert response.status_code == 400
    assert "does not match the size specified in the settings [128]" in response.text


def test_rerank_is_the_cosine_of_the_embeddings(svc: RunningService) -> None:
    documents = [
        "I like pasta with tomatoes.",
        "The Sun is a huge star, about 1.4 million km wide.",
        "Paris is in France.",
    ]
    response = post(svc, f"rerank/{RERANK_ID}", {"query": SUN, "input": documents, "return_documents": True})
    assert response.status_code == 200, response.text
    ranked = response.json()["rerank"]
    assert ranked[0]["index"] == 1 and ranked[0]["text"] == documents[1]
    query, *vectors = embed(svc, [SUN, *documents])
    for row in ranked:
        assert abs(row["relevance_score"] - dot(query, vectors[row["index"]])) < 1e-6
    top = post(svc, f"rerank/{RERANK_ID}", {"query": SUN, "input": documents, "top_n": 2}).json()["rerank"]
    assert [r["index"] for r in top] == [r["index"] for r in ranked[:2]] and "text" not in top[0]


def sparse(svc: RunningService, inputs: list[str], inference_id: str = SPARSE_ID) -> list[dict[str, Any]]:
    response = post(svc, f"sparse_embedding/{inference_id}", {"input": inputs})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["sparse_embedding"]
    return results


def test_sparse_vectors_weigh_vocabulary_tokens(svc: RunningService) -> None:
    vocab = WordPieceTokenizer.from_file(packages.model_files(SPLADE_TINY) / "tokenizer.json").vocab
    sun, cat = sparse(svc, [SUN, CAT])
    assert sun["is_truncated"] is False and cat["is_truncated"] is False
    for result in (sun, cat):
        weights = result["embedding"]
        assert 5 < len(weights) < 200 and set(weights) <= set(vocab)
        assert all(w > 0 for w in weights.values())
        assert list(weights.values()) == sorted(weights.values(), reverse=True)
    assert sun["embedding"]["sun"] > 1 and cat["embedding"]["cat"] > 1
    assert "sun" not in cat["embedding"]
    [alone] = sparse(svc, [CAT])
    assert alone == cat  # order kept, no state between inputs


def test_sparse_long_input_is_truncated_and_flagged(svc: RunningService) -> None:
    [long] = sparse(svc, ["word " * 600])
    assert long["is_truncated"] is True and long["embedding"]["word"] > 0
    response = post(svc, f"sparse_embedding/{SPARSE_ID}", {"input": ["x"], "input_type": "ingest"})
    assert response.status_code == 400


def test_own_splade_endpoint_on_a_model_directory(svc: RunningService, tmp_path: Path) -> None:
    from tests.support.tiny_bert import VOCAB, write_tiny_bert

    directory = write_tiny_bert(tmp_path / "tiny-splade", with_head=True)
    body = {"service": "splade", "service_settings": {"model": str(directory), "max_input_tokens": 8}}
    created = httpx.put(
        f"{svc.url}/_inference/sparse_embedding/tiny-splade?validate=true", json=body, timeout=60
    )
    assert created.status_code == 200, created.text
    short, long = sparse(svc, ["the sun", "the sun is a big star how fast"], "tiny-splade")
    assert set(short["embedding"]) <= set(VOCAB) and not short["is_truncated"] and long["is_truncated"]
    missing = {"service": "splade", "service_settings": {"model": str(tmp_path / "nothing")}}
    refused = httpx.put(
        f"{svc.url}/_inference/sparse_embedding/nothing?validate=true", json=missing, timeout=60
    )
    assert refused.status_code == 400 and "has no config.json" in refused.text


def test_the_official_client(svc: RunningService) -> None:
    client = Elasticsearch(svc.url, request_timeout=60)
    dense = client.inference.text_embedding(inference_id=EMBEDDING_ID, input=[SUN, CAT])
    assert [len(row["embedding"]) for row in dense["text_embedding"]] == [384, 384]
    ranked = client.inference.rerank(inference_id=RERANK_ID, query=SUN, input=[CAT, SUN_TOO])
    assert ranked["rerank"][0]["index"] == 1
    terms = client.inference.sparse_embedding(inference_id=SPARSE_ID, input=[SUN])
    assert terms["sparse_embedding"][0]["embedding"]["sun"] > 1


def test_own_gguf_embedding_model_refuses_inputs_longer_than_a_slot(
    svc: RunningService, tmp_path: Path
) -> None:
    """llama.cpp tokenizes a user's file itself and cannot truncate: too long is a clear 400."""
    from tests.support.tiny_bert import write_tiny_bert

    gguf_file = tmp_path / "tiny.gguf"
    convert_bert(write_tiny_bert(tmp_path / "tiny", seed=5), gguf_file, "F32")
    body = {"service": "llamacpp", "service_settings": {"model": str(gguf_file), "max_input_tokens": 8}}
    created = httpx.put(f"{svc.url}/_inference/text_embedding/tiny-gguf?validate=true", json=body, timeout=60)
    assert created.status_code == 200, created.text
    assert created.json()["service_settings"]["dimensions"] == 64
    [vector] = embed(svc, ["the sun is a star"], "tiny-gguf")  # 4 words + [CLS] + [SEP] = 6 tokens
    assert len(vector) == 64
    response = post(svc, "text_embedding/tiny-gguf", {"input": ["the sun is a big star , how fast ?"]})
    assert response.status_code == 400, response.text
    assert "longer than the [8] tokens of the model of inference entity id [tiny-gguf]" in response.text
