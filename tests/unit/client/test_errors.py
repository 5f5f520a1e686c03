"""Error bodies of both shapes (and what is not JSON) -> the SDK's error classes."""

from __future__ import annotations

import pytest

from inference_service.client.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    frame_error,
    response_error,
    status_error,
)

ES_BODY = {
    "error": {
        "root_cause": [
            {"type": "resource_not_found_exception", "reason": "Inference endpoint not found [x]"}
        ],
        "type": "resource_not_found_exception",
        "reason": "Inference endpoint not found [x]",
    },
    "status": 404,
}
UNIFIED = {
    "error": {
        "code": "bad_request",
        "message": "bad",
        "type": "action_request_validation_exception",
        "param": "$.tool_choice",
    }
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, RequestTimeoutError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (504, InternalServerError),
        (405, APIStatusError),
    ],
)
def test_the_status_picks_the_class(status: int, cls: type[APIStatusError]) -> None:
    error = status_error(status, {"error": {"type": "t", "reason": "r"}})
    assert type(error) is cls and (error.status, error.type, error.reason) == (status, "t", "r")


def test_elasticsearch_envelope() -> None:
    error = status_error(404, ES_BODY)
    assert (error.type, error.reason, error.body, error.code, error.param) == (
        "resource_not_found_exception",
        "Inference endpoint not found [x]",
        ES_BODY,
        None,
        None,
    )
    assert str(error) == "404 resource_not_found_exception: Inference endpoint not found [x]"


def test_unified_body_keeps_code_and_param() -> None:
    error = status_error(400, UNIFIED)
    assert isinstance(error, BadRequestError)
    assert (error.type, error.reason, error.code, error.param) == (
        "action_request_validation_exception",
        "bad",
        "bad_request",
        "$.tool_choice",
    )


def test_other_bodies() -> None:
    assert (
        status_error(400, {"error": "StatusException[boom]", "status": 400}).reason == "StatusException[boom]"
    )
    assert status_error(503, "").reason == "Service Unavailable"
    assert status_error(599, None).reason == "HTTP status 599"
    assert response_error(502, b"<html>gateway</html>", "text/html").reason == "<html>gateway</html>"
    long = response_error(500, b"x" * 5000, None)
    assert len(long.reason) == 2000


def test_sse_framed_error_bodies() -> None:
    data = b'{"error":{"code":"not_found","message":"gone","type":"resource_not_found_exception"}}'
    body = b"event: error\ndata: " + data + b"\n\n"
    error = response_error(404, body, "text/event-stream")
    assert isinstance(error, NotFoundError) and error.reason == "gone"
    cut = response_error(400, b'event: error\ndata: {"error":', "text/event-stream; charset=utf-8")
    assert cut.reason == 'event: error\ndata: {"error":'


def test_rate_limit_retry_after() -> None:
    error = response_error(429, b"{}", "application/json", "12")
    assert isinstance(error, RateLimitError) and error.retry_after == 12
    unadvised = response_error(429, b"{}", "application/json")
    assert isinstance(unadvised, RateLimitError) and unadvised.retry_after is None


def test_frame_errors_take_the_frames_status() -> None:
    assert isinstance(frame_error({**ES_BODY, "status": 429}), RateLimitError)
    timeout = {"error": {"code": "request_timeout", "message": "late", "type": "status_exception"}}
    assert isinstance(frame_error(timeout), RequestTimeoutError)
    stream = frame_error({"error": {"code": "stream_error", "message": "broke", "type": "error"}})
    assert isinstance(stream, InternalServerError) and stream.status == 500 and stream.code == "stream_error"
    assert frame_error("not json").status == 500
