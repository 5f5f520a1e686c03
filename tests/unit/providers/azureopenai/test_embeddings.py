"""azureopenai text_embedding: the deployment URL and the body, OpenAI's without ``model`` (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference_service.errors import InvalidRequestError
from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.providers.azureopenai import deployment_url
from inference_service.providers.azureopenai.settings import (
    AzureOpenAiEmbeddingServiceSettings,
    AzureOpenAiServiceSettings,
)
from inference_service.providers.openai.embeddings import (
    parse_openai_embeddings,
    to_openai_embeddings_request,
)
from inference_service.providers.openai.response import parse_openai_error
from tests.support.vectors import values

JSON = Path(__file__).parents[3] / "fixtures" / "json"


def test_deployment_urls() -> None:
    embedding = AzureOpenAiEmbeddingServiceSettings(
        resource_name="my-res", deployment_id="embed prod", api_version="2024-10-21"
    )
    assert deployment_url(embedding, "embeddings") == (
        "https://my-res.openai.azure.com/openai/deployments/embed%20prod/embeddings?api-version=2024-10-21"
    )
    proxied = AzureOpenAiEmbeddingServiceSettings(
        resource_name="r", deployment_id="d", api_version="v", url="http://127.0.0.1:9/azure/"
    )
    assert deployment_url(proxied, "embeddings") == (
        "http://127.0.0.1:9/azure/openai/deployments/d/embeddings?api-version=v"
    )
    chat = AzureOpenAiServiceSettings(resource_name="r", deployment_id="gpt4o", api_version="2024-10-21")
    assert deployment_url(chat, "chat/completions") == (
        "https://r.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
    )


def test_body_has_no_model() -> None:
    body = to_openai_embeddings_request(EmbeddingRequest(input=["a"]), model=None, dimensions=256, user="u")
    assert json.loads(body) == {"input": ["a"], "encoding_format": "float", "dimensions": 256, "user": "u"}


def test_rest_input_type_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        to_openai_embeddings_request(
            EmbeddingRequest(input=["a"], input_type=InputType.CLUSTERING), model=None
        )
    assert "Invalid input_type [clustering]. The input_type option is not supported by this service" in (
        caught.value.reason
    )


def test_the_recorded_answer_and_error() -> None:
    result = parse_openai_embeddings((JSON / "azureopenai_embeddings.json").read_bytes(), "az")
    assert values(result) == [
        [0.0023064255, -0.009327292, -0.0028842222],
        [-0.0066423, 0.0151937, 0.0039911],
    ]
    url = "https://r.openai.azure.com/openai/deployments/d/embeddings?api-version=v"
    error = parse_openai_error(404, (JSON / "azureopenai_error.json").read_bytes(), "az", url)
    assert (error.status, error.error_type, error.code) == (404, "status_exception", "DeploymentNotFound")
    assert error.reason.startswith(f"Resource not found at [{url}] for request from inference entity id [az]")
    assert "The API deployment for this resource does not exist." in error.reason
