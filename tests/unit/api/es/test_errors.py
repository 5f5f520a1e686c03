"""The Elasticsearch face's two error bodies (inference_service.api.es.errors)."""

from __future__ import annotations

from inference_service.api.es.errors import es_error_body, unified_error_body
from inference_service.errors import (
    ContentParseError,
    EndpointExistsError,
    EndpointNotFoundError,
    RequestTimeoutError,
    UnsupportedError,
    UpstreamError,
)


def test_es_envelope() -> None:
    assert es_error_body(EndpointNotFoundError("x")) == {
        "error": {
            "root_cause": [
                {"type": "resource_not_found_exception", "reason": "Inference endpoint not found [x]"}
            ],
            "type": "resource_not_found_exception",
            "reason": "Inference endpoint not found [x]",
        },
        "status": 404,
    }
    assert es_error_body(EndpointExistsError("x"))["status"] == 400


def test_caused_by_and_root_cause() -> None:
    cause = UpstreamError("bad key", status=401, error_type="invalid_request_error")
    body = es_error_body(UnsupportedError("validation call failed", caused_by=cause))
    assert body["status"] == 400
    assert body["error"]["root_cause"] == [{"type": "invalid_request_error", "reason": "bad key"}]
    assert body["error"]["caused_by"] == {"type": "invalid_request_error", "reason": "bad key"}


def test_unified_body_codes() -> None:
    timeout = RequestTimeoutError("Request timed out after [30s]")
    assert unified_error_body(timeout) == {
        "error": {
            "code": "request_timeout",
            "message": "Request timed out after [30s]",
            "type": "status_exception",
        }
    }
    upstream = UpstreamError(
        "m", status=429, error_type="requests", code="rate_limit_exceeded", param="model"
    )
    assert unified_error_body(upstream) == {
        "error": {"code": "rate_limit_exceeded", "message": "m", "type": "requests", "param": "model"}
    }
    assert unified_error_body(UpstreamError("m"), mid_stream=True)["error"]["code"] == "stream_error"
    invalid = ContentParseError("r")
    assert unified_error_body(invalid)["error"] == {
        "code": "bad_request",
        "message": "r",
        "type": "x_content_parse_exception",
    }
