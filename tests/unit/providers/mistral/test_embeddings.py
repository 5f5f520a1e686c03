"""mistral text_embedding: the body and Mistral's error shapes (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.providers.mistral.response import parse_mistral_error
from inference_service.providers.openai.embeddings import (
    parse_openai_embeddings,
    to_openai_embeddings_request,
)
from tests.support.vectors import values

JSON = Path(__file__).parents[3] / "fixtures" / "json"
URL = "https://api.mistral.ai/v1/embeddings"


def test_body() -> None:
    request = EmbeddingRequest(input=["a", "b"], input_type=InputType.INTERNAL_SEARCH)
    body = to_openai_embeddings_request(request, model="mistral-embed")
    assert body == b'{"input":["a","b"],"model":"mistral-embed","encoding_format":"float"}'


def test_the_recorded_answer() -> None:
    result = parse_openai_embeddings((JSON / "mistral_embeddings.json").read_bytes(), "m")
    assert values(result) == [
        [-0.016632080078125, 0.0701904296875, 0.031280517578125],
        [-0.0202789306640625, 0.0579833984375, 0.047119140625],
    ]


@pytest.mark.parametrize(
    ("status", "body", "message", "error_type", "code"),
    [
        (
            422,
            (JSON / "mistral_error.json").read_bytes(),
            "body.model: Field required",
            "invalid_request_error",
            None,
        ),
        (
            400,
            b'{"object":"error","message":"Invalid model: nope","type":"invalid_model",'
            b'"param":null,"code":"1500"}',
            "Invalid model: nope",
            "invalid_model",
            "1500",
        ),
        (401, b'{"message":"Unauthorized","request_id":"ad95"}', "Unauthorized", "status_exception", None),
        (404, b'{"detail":"Not Found"}', "Not Found", "status_exception", None),
        (
            429,
            b'{"error":{"message":"slow down","type":"rate_limit","code":429}}',
            "slow down",
            "rate_limit",
            "429",
        ),
        (503, b"upstream connect error", "upstream connect error", "status_exception", None),
        (500, b"", "HTTP 500", "status_exception", None),
        (
            422,
            b'{"detail":[{"loc":["body","input",0],"msg":"too long"},{"msg":"and bad"}]}',
            "body.input.0: too long; and bad",
            "status_exception",
            None,
        ),
    ],
)
def test_error_shapes(status: int, body: bytes, message: str, error_type: str, code: str | None) -> None:
    error = parse_mistral_error(status, body, "m", URL)
    assert error.reason.endswith(f"Error message: [{message}]")
    assert "inference entity id [m]" in error.reason
    assert (error.status, error.error_type, error.code) == (
        502 if status >= 500 else status,
        error_type,
        code,
    )
