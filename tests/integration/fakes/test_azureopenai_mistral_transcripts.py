"""The Azure OpenAI and Mistral embeddings fakes reproduce the recorded answers byte for byte,
and the answers have OpenAI's Embeddings shape (checked with the official OpenAI SDK's model).
No sockets."""

from __future__ import annotations

import json
from pathlib import Path

from openai.types import CreateEmbeddingResponse

from tests.fakes import azureopenai as azure
from tests.fakes import mistral

JSON = Path(__file__).parents[2] / "fixtures" / "json"


def recorded(name: str) -> bytes:
    return (JSON / f"{name}.json").read_bytes()


def test_azure_embeddings_answer() -> None:
    vectors = [[0.0023064255, -0.009327292, -0.0028842222], [-0.0066423, 0.0151937, 0.0039911]]
    assert azure.embeddings(vectors) == recorded("azureopenai_embeddings")
    parsed = CreateEmbeddingResponse.model_validate_json(recorded("azureopenai_embeddings"))
    assert [d.embedding for d in parsed.data] == vectors and parsed.model == azure.MODEL


def test_azure_error_answer() -> None:
    reply = azure.deployment_not_found()
    assert reply.body == recorded("azureopenai_error") and reply.status == 404
    assert list(json.loads(recorded("azureopenai_error"))["error"]) == ["code", "message"]


def test_mistral_embeddings_answer() -> None:
    vectors = [
        [-0.016632080078125, 0.0701904296875, 0.031280517578125],
        [-0.0202789306640625, 0.0579833984375, 0.047119140625],
    ]
    assert mistral.embeddings(vectors) == recorded("mistral_embeddings")
    parsed = CreateEmbeddingResponse.model_validate_json(recorded("mistral_embeddings"))
    assert [d.index for d in parsed.data] == [0, 1] and parsed.model == "mistral-embed"
    assert list(json.loads(recorded("mistral_embeddings"))) == ["id", "object", "data", "model", "usage"]


def test_mistral_error_answers() -> None:
    reply = mistral.validation_error(["body", "model"], "Field required")
    assert reply.body == recorded("mistral_error") and reply.status == 422
    assert json.loads(mistral.unauthorized().body or b"") == {
        "message": "Unauthorized",
        "request_id": "ad95a2165083f20b490f8f78a14bb104",
    }
    assert json.loads(mistral.not_found().body or b"") == {"detail": "Not Found"}
    invalid = json.loads(mistral.invalid_model("nope").body or b"")
    assert list(invalid) == ["object", "message", "type", "param", "code"]
