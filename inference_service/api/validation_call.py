"""The provider call made on PUT/_update before an endpoint is stored (reference §1.1).

Like Elasticsearch, the service sends one small request (a user message "how big") and
refuses the endpoint if the provider fails; the first chunk is enough, the rest of the
generation is cancelled. ``validate_on_put = false`` (setting) or ``?validate=false`` (request)
skips it for offline provisioning; migrations and ``endpoints apply`` never call providers.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from inference_service.api.http import query_bool
from inference_service.api.state import Services
from inference_service.errors import InferenceServiceError, RequestTimeoutError, UnsupportedError
from inference_service.management import Validator
from inference_service.model.chat import ChatCompletionRequest, UserMessage
from inference_service.model.endpoint import Endpoint
from inference_service.model.time_value import parse_time_value

PROBE = ChatCompletionRequest(messages=[UserMessage(content="how big")])
FAILED = "Could not complete inference endpoint creation as validation call to service threw an exception."


def validator_for(request: Request, state: Services) -> Validator | None:
    """The validation call for this request, or None when it is turned off."""
    flag = request.query_params.get("validate")
    enabled = state.settings.validate_on_put if flag is None else query_bool(request, "validate")
    if not enabled:
        return None
    raw = request.query_params.get("timeout")
    seconds = (parse_time_value(raw) if raw is not None else None) or state.settings.default_timeout
    label = raw if raw is not None and parse_time_value(raw) is not None else f"{seconds:g}s"

    async def validate(endpoint: Endpoint) -> None:
        chunks = state.providers[endpoint.service].stream_chat(endpoint, PROBE)
        try:
            async with asyncio.timeout(seconds):
                await anext(chunks, None)
        except TimeoutError:
            raise UnsupportedError(
                FAILED, caused_by=RequestTimeoutError(f"Request timed out after [{label}]")
            ) from None
        except InferenceServiceError as exc:
            raise UnsupportedError(FAILED, caused_by=exc) from None
        finally:
            await chunks.aclose()

    return validate
