"""Credentials are cut out of text, errors and log records (pure)."""

from __future__ import annotations

import logging
import sys

import pytest

from inference_service.errors import InvalidRequestError, UpstreamError
from inference_service.providers.azureopenai.settings import AzureOpenAiSecrets
from inference_service.providers.custom.settings import CustomSecrets
from inference_service.providers.schema import ApiKeySecrets, NoSecrets
from inference_service.redaction import RedactingFilter, redact, redact_error, secret_values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # query parameters that name a credential
        ("GET https://g.example/v1/m?key=AbC123 failed", "GET https://g.example/v1/m?key=<redacted> failed"),
        ("[https://x/y?a=1&api_key=s3cr3t&b=2]", "[https://x/y?a=1&api_key=<redacted>&b=2]"),
        ("https://x/y?access_token=t0k3n#frag", "https://x/y?access_token=<redacted>#frag"),
        ("https://x/f?code=abc==&x=1", "https://x/f?code=<redacted>&x=1"),
        ("https://acct.blob/c?sv=2024&sig=Zm9vYmFy%3D", "https://acct.blob/c?sv=2024&sig=<redacted>"),
        ("https://x/y?apiKey=Q", "https://x/y?apiKey=<redacted>"),
        # credential headers, as text, dict reprs and JSON
        ("Authorization: Bearer abc.def-123", "Authorization: <redacted>"),
        ("{'authorization': 'Bearer sk-live-1'}", "{'authorization': '<redacted>'}"),
        ('{"x-api-key": "ant-key-1", "n": 1}', '{"x-api-key": "<redacted>", "n": 1}'),
        ("api-key=abc123 rejected", "api-key=<redacted> rejected"),
        ("x-goog-api-key: AbCdEf", "x-goog-api-key: <redacted>"),
        ('"api_key": "hunter22"', '"api_key": "<redacted>"'),
        ("Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: <redacted>"),
        # schemes and well-known key formats, masked ones too
        ("token Bearer eyJhbGciOiJIUzI1NiJ9.e30.x sent", "token Bearer <redacted> sent"),
        ("ApiKey VnVUbmVKa0JRSDdpdEo6dWk= rejected", "ApiKey <redacted> rejected"),
        (
            "Incorrect API key provided: sk-proj-***********cdef. You can find your API key at",
            "Incorrect API key provided: <redacted>. You can find your API key at",
        ),
        ("key sk-ant-api03-abcdefghijklmnop", "key <redacted>"),
        ("AIzaSyD-0123456789abcdefghijklmn", "<redacted>"),
        ("hf_abcdefghijklmnopqrstuvwx is invalid", "<redacted> is invalid"),
    ],
)
def test_credential_shapes(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "Received a bad request status code for request from inference entity id [my-key-endpoint]",
        "You must provide an API key in an Authorization header using Bearer auth",
        "https://x/openai/deployments/d/embeddings?api-version=2024-10-21",
        "max_tokens must be at most 4096; task-type sparse_embedding; disk-space low",
        "This model's maximum context length is 8192 tokens",
        "Could not connect to the provider at [http://h/embed?key=${api_key}]",
        "headers {'Authorization': 'Bearer ${api_key}'}",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_exact_values_whatever_their_shape() -> None:
    text = "the key 'tenant-9f3a' (and tenant-9f3a-long) was refused"
    assert (
        redact(text, ["tenant-9f3a-long", "tenant-9f3a"])
        == "the key '<redacted>' (and <redacted>) was refused"
    )


def test_short_values_are_not_searched_for() -> None:
    assert redact("a is a letter", ["a"]) == "a is a letter"


def test_secret_values_of_every_secrets_struct() -> None:
    assert secret_values(ApiKeySecrets(api_key="sk-one")) == ("sk-one",)
    assert secret_values(AzureOpenAiSecrets(entra_id="entra-token")) == ("entra-token",)
    assert secret_values(NoSecrets()) == ()
    custom = CustomSecrets(secret_parameters={"a": "short-one", "b": "the-longer-one", "c": "x"})
    assert secret_values(custom) == ("the-longer-one", "short-one")


def test_redact_error_rewrites_reason_args_and_causes() -> None:
    cause = UpstreamError("refused key k-123456 at https://p/?key=k-123456")
    error = InvalidRequestError("validation call failed", caused_by=cause)
    assert redact_error(error, ["k-123456"]) is error
    assert cause.reason == "refused key <redacted> at https://p/?key=<redacted>"
    assert str(cause) == cause.reason and str(error) == "validation call failed"


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = sys.exc_info() if exc else None
    return logging.LogRecord("inference_service.x", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_filter_redacts_message_arguments() -> None:
    record = _record(
        "calling %s with %r", "https://p/v1?key=AbCd1234", {"authorization": "Bearer sk-abcdefgh"}
    )
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "calling https://p/v1?key=<redacted> with {'authorization': '<redacted>'}"


def test_filter_redacts_tracebacks() -> None:
    try:
        raise RuntimeError("POST https://p/v1?api_key=leaky-value failed")
    except RuntimeError:
        record = _record("unhandled error", exc=True)
    RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "leaky-value" not in formatted
    assert "RuntimeError: POST https://p/v1?api_key=<redacted> failed" in formatted


def test_filter_keeps_clean_records_as_they_are() -> None:
    record = _record("served %d requests", 3)
    RedactingFilter().filter(record)
    assert record.getMessage() == "served 3 requests"
