"""The googleaistudio translators: batchEmbedContents bodies, answers and error bodies (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.providers.googleaistudio.embeddings import (
    parse_google_ai_studio_embeddings,
    to_google_ai_studio_embeddings_request,
)
from inference_service.providers.googleaistudio.provider import embeddings_url
from inference_service.providers.googleaistudio.response import parse_google_ai_studio_error
from inference_service.providers.googleaistudio.settings import GoogleAiStudioEmbeddingServiceSettings

JSON = Path(__file__).parents[3] / "fixtures" / "json"
URL = "https://generativelanguage.googleapis.com/v1/models/text-embedding-004:batchEmbedContents"


def test_one_request_per_input_in_elasticsearch_field_order() -> None:
    body = to_google_ai_studio_embeddings_request(
        EmbeddingRequest(input=["a", "b"], input_type=InputType.SEARCH), model_id="text-embedding-004"
    )
    assert body == (
        b'{"requests":['
        b'{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_QUERY"},'
        b'{"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]},"taskType":"RETRIEVAL_QUERY"}'
        b"]}"
    )


@pytest.mark.parametrize(
    ("input_type", "task_type"),
    [
        (InputType.INGEST, "RETRIEVAL_DOCUMENT"),
        (InputType.INTERNAL_INGEST, "RETRIEVAL_DOCUMENT"),
        (InputType.SEARCH, "RETRIEVAL_QUERY"),
        (InputType.INTERNAL_SEARCH, "RETRIEVAL_QUERY"),
        (InputType.CLASSIFICATION, "CLASSIFICATION"),
        (InputType.CLUSTERING, "CLUSTERING"),
    ],
)
def test_input_type_becomes_task_type(input_type: InputType, task_type: str) -> None:
    body = to_google_ai_studio_embeddings_request(
        EmbeddingRequest(input=["a"], input_type=input_type), model_id="m"
    )
    assert json.loads(body)["requests"][0]["taskType"] == task_type


def test_no_input_type_and_dimensions() -> None:
    body = to_google_ai_studio_embeddings_request(EmbeddingRequest(input=["a"]), model_id="m", dimensions=256)
    assert json.loads(body) == {
        "requests": [
            {"model": "models/m", "content": {"parts": [{"text": "a"}]}, "outputDimensionality": 256}
        ]
    }


def test_urls() -> None:
    settings = GoogleAiStudioEmbeddingServiceSettings(model_id="text-embedding-004")
    assert embeddings_url(settings) == URL
    proxied = GoogleAiStudioEmbeddingServiceSettings(model_id="a/b c", url="http://proxy:8080/google/")
    assert embeddings_url(proxied) == "http://proxy:8080/google/v1/models/a%2Fb%20c:batchEmbedContents"


def test_the_recorded_answer() -> None:
    result = parse_google_ai_studio_embeddings((JSON / "googleaistudio_embeddings.json").read_bytes(), "g")
    assert result.embeddings == [
        [0.013168523, -0.008711934, -0.046782676],
        [-0.0106284, 0.0276315, -0.0189041],
    ]


@pytest.mark.parametrize("raw", [b'{"embedding": {"values": [1.0]}}', b'{"embeddings": [[1.0]]}', b"[]", b""])
def test_malformed_answers(raw: bytes) -> None:
    with pytest.raises(MalformedUpstreamError) as caught:
        parse_google_ai_studio_embeddings(raw, "g")
    assert "malformed embeddings response for inference entity id [g]" in caught.value.reason


def test_the_recorded_error() -> None:
    error = parse_google_ai_studio_error(400, (JSON / "googleaistudio_error.json").read_bytes(), "g", URL)
    assert (error.status, error.error_type, error.code) == (400, "INVALID_ARGUMENT", "API_KEY_INVALID")
    assert error.reason == (
        "Received a bad request status code for request from inference entity id [g] status [400]. "
        "Error message: [API key not valid. Please pass a valid API key.]"
    )


def test_other_errors() -> None:
    missing = parse_google_ai_studio_error(
        404, b'{"error": {"code": 404, "message": "gone", "status": "NOT_FOUND"}}', "g", URL
    )
    assert missing.reason.startswith(f"Resource not found at [{URL}] for request")
    assert (missing.status, missing.error_type, missing.code) == (404, "NOT_FOUND", None)
    html = parse_google_ai_studio_error(502, b"<html>Bad Gateway</html>", "g", URL)
    assert (html.status, html.error_type) == (502, "status_exception")
    assert html.reason.endswith("Error message: [<html>Bad Gateway</html>]")
