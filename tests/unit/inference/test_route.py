"""The routed request's record (inference.route): what the faces turn into X-Inference-Endpoint."""

from __future__ import annotations

import contextvars

from inference_service.inference.record import raw_response_headers, response_headers
from inference_service.inference.route import Attempt, current_route, open_route


def test_an_unrouted_request_has_no_record_and_no_header() -> None:
    def unrouted() -> None:
        assert current_route() is None
        assert response_headers() == {}
        headers = ((b"content-type", b"text/event-stream"),)
        assert raw_response_headers(headers) is headers

    contextvars.Context().run(unrouted)


def test_a_routed_request_names_the_targets_that_answered() -> None:
    def routed() -> None:
        route = open_route("r")
        assert open_route("r") is route  # one record per request
        route.attempts += [Attempt("a", "5xx", 0.0412, "down"), Attempt("b", "ok", 0.2)]
        assert response_headers() == {}  # nobody answered yet
        route.answered("b")
        route.answered("b")
        assert response_headers() == {"X-Inference-Endpoint": "b"}
        route.answered("c")
        assert raw_response_headers(()) == ((b"x-inference-endpoint", b"b, c"),)
        assert route.describe() == "a=5xx 41ms (down), b=ok 200ms"

    contextvars.Context().run(routed)
