"""Secret query parameters (``UpstreamRequest.params``) never reach a message (pure)."""

from __future__ import annotations

import aiohttp
import pytest

from inference_service.errors import UpstreamConnectionError
from inference_service.providers.http import UpstreamRequest, map_client_errors
from inference_service.providers.openai.response import parse_openai_error

URL = "https://generativelanguage.googleapis.com/v1/models/m:batchEmbedContents"
KEY = "AIza-secret"


def test_hidden_values() -> None:
    request = UpstreamRequest(
        url=URL,
        headers={},
        body=b"",
        params={"key": KEY},
        parse_error=lambda status, raw: parse_openai_error(status, raw, "g", URL),
    )
    assert request.hidden == (KEY,)
    assert UpstreamRequest(url=URL, headers={}, body=b"", parse_error=request.parse_error).hidden == ()


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.InvalidURL(f"{URL}?key={KEY}"),
        aiohttp.ClientConnectionResetError(f"reset while sending {URL}?key={KEY}"),
        aiohttp.ClientPayloadError(f"payload of {URL}?key={KEY} was cut"),
    ],
)
def test_client_messages_are_scrubbed(exc: Exception) -> None:
    with pytest.raises(UpstreamConnectionError) as caught, map_client_errors(URL, (KEY,)):
        raise exc
    assert KEY not in caught.value.reason
    assert "key=<redacted>" in caught.value.reason and f"[{URL}]" in caught.value.reason


def test_without_hidden_values_messages_are_unchanged() -> None:
    with pytest.raises(UpstreamConnectionError) as caught, map_client_errors(URL):
        raise aiohttp.InvalidURL("http://x/?a=b")
    assert caught.value.reason == f"The request to the provider at [{URL}] failed: http://x/?a=b"
