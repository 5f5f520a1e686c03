"""The one error hierarchy (inference_service.errors): statuses and types as class data."""

from __future__ import annotations

import pytest

from inference_service.errors import (
    ActionValidationError,
    AuthenticationError,
    AuthenticationRateLimitError,
    AuthorizationError,
    BadRequestError,
    ContentParseError,
    EndpointExistsError,
    EndpointNotFoundError,
    IdempotencyKeyInFlightError,
    IdempotencyKeyReusedError,
    InferenceServiceError,
    InvalidRequestError,
    MalformedUpstreamError,
    MissingCredentialsError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamTimeoutError,
    status_code_name,
    validation_failed,
)


@pytest.mark.parametrize(
    ("error", "status", "error_type"),
    [
        (InferenceServiceError("x"), 500, "status_exception"),
        (BadRequestError("x"), 400, "status_exception"),
        (InvalidRequestError("x"), 400, "validation_exception"),
        (ActionValidationError("x"), 400, "action_request_validation_exception"),
        (ContentParseError("x"), 400, "x_content_parse_exception"),
        (EndpointExistsError("x"), 400, "resource_already_exists_exception"),
        (EndpointNotFoundError("x"), 404, "resource_not_found_exception"),
        (RequestTimeoutError("x"), 408, "status_exception"),
        (AuthenticationError(), 401, "security_exception"),
        (MissingCredentialsError("/x"), 401, "security_exception"),
        (AuthorizationError("id", "a", summary="s"), 403, "security_exception"),
        (AuthenticationRateLimitError("c", 1), 429, "security_exception"),
        (IdempotencyKeyInFlightError(), 409, "status_exception"),
        (IdempotencyKeyReusedError(), 422, "status_exception"),
        (ServiceUnavailableError("x"), 503, "status_exception"),
        (UpstreamError("x"), 502, "status_exception"),
        (MalformedUpstreamError("x"), 502, "x_content_parse_exception"),
        (UpstreamConnectionError("x"), 502, "status_exception"),
        (UpstreamTimeoutError("x"), 504, "status_exception"),
    ],
)
def test_status_and_type_are_class_data(error: InferenceServiceError, status: int, error_type: str) -> None:
    assert (error.status, error.error_type) == (status, error_type)
    assert type(error).http_status == status


def test_upstream_errors_keep_the_providers_status_and_type() -> None:
    error = UpstreamError("m", status=429, error_type="requests", code="rate_limit_exceeded", param="model")
    assert (error.status, error.error_type, error.code, error.param) == (
        429,
        "requests",
        "rate_limit_exceeded",
        "model",
    )
    assert UpstreamError("m").status == 502


def test_messages() -> None:
    assert EndpointNotFoundError("x").reason == "Inference endpoint not found [x]"
    assert EndpointExistsError("x").reason == "Inference endpoint [x] already exists"
    assert validation_failed(["a", "b"]) == "Validation Failed: 1: a;2: b;"
    assert repr(RequestTimeoutError("t")) == "RequestTimeoutError(status=408, reason='t')"


def test_status_names() -> None:
    assert [status_code_name(s) for s in (400, 401, 404, 408, 429, 502, 999)] == [
        "bad_request",
        "unauthorized",
        "not_found",
        "request_timeout",
        "too_many_requests",
        "bad_gateway",
        "internal_server_error",
    ]


def test_retry_after_is_on_every_error() -> None:
    assert InferenceServiceError("x").retry_after is None
    assert InferenceServiceError("x", retry_after="2").retry_after == "2"
    assert AuthenticationRateLimitError("c", 7).retry_after == "7"
    assert IdempotencyKeyInFlightError().retry_after == "1"
    assert IdempotencyKeyInFlightError().code == "idempotency_key_in_flight"
    assert IdempotencyKeyReusedError().code == "idempotency_key_reused"
    upstream = UpstreamError("x", status=429)
    assert upstream.retry_after is None
    upstream.retry_after = "3"
    assert upstream.retry_after == "3"
