"""No upstream failure built in ``providers/http.py`` shows a secret: the endpoint's secret values,
secret query parameters (``UpstreamRequest.params``) and credential-shaped text are cut out of
the message and of the URL it names (pure)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
import pytest

from inference_service.errors import UpstreamConnectionError, UpstreamError
from inference_service.providers.custom.settings import CustomSecrets
from inference_service.providers.http import (
    UpstreamRequest,
    failed,
    map_client_errors,
    parse_json_field_error,
)
from inference_service.providers.openai.response import parse_openai_error
from inference_service.providers.schema import ApiKeySecrets, NoSecrets, SettingsStruct

URL = "https://generativelanguage.googleapis.com/v1/models/m:batchEmbedContents"
KEY = "AIza-secret"
PARAMS = {"key": KEY}
SECRETS = ApiKeySecrets(api_key=KEY)


def request(
    url: str = URL,
    *,
    params: Mapping[str, str] | None = PARAMS,
    secrets: SettingsStruct = SECRETS,
) -> UpstreamRequest:
    return UpstreamRequest(
        url=url,
        headers={},
        body=b"",
        params=params,
        parse_error=lambda status, raw: parse_openai_error(status, raw, "g", url),
        secrets=secrets,
    )


def test_hidden_values() -> None:
    assert request().hidden == (KEY, KEY)
    assert request(params=None, secrets=NoSecrets()).hidden == ()
    custom = request(
        params=None, secrets=CustomSecrets(secret_parameters={"a": "one-secret", "b": "two-secrets"})
    )
    assert custom.hidden == ("two-secrets", "one-secret")


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.InvalidURL(f"{URL}?key={KEY}"),
        aiohttp.ClientConnectionResetError(f"reset while sending {URL}?key={KEY}"),
        aiohttp.ClientPayloadError(f"payload of {URL}?key={KEY} was cut"),
    ],
)
def test_client_messages_are_scrubbed(exc: Exception) -> None:
    with pytest.raises(UpstreamConnectionError) as caught, map_client_errors(request()):
        raise exc
    assert KEY not in caught.value.reason and KEY not in str(caught.value)
    assert "key=<redacted>" in caught.value.reason and f"[{URL}]" in caught.value.reason


def test_without_secrets_messages_are_unchanged() -> None:
    with pytest.raises(UpstreamConnectionError) as caught, map_client_errors(request(params=None)):
        raise aiohttp.InvalidURL("http://x/?a=b")
    assert caught.value.reason == f"The request to the provider at [{URL}] failed: http://x/?a=b"


def test_a_url_with_a_key_parameter_is_never_named() -> None:
    """A provider URL configured with a credential in its query (``?key=``, ``?api_key=``)."""
    url = "https://llm.example/v1/chat?api_key=configured-in-the-url&x=1"
    with pytest.raises(UpstreamConnectionError) as caught, map_client_errors(request(url, params=None)):
        raise aiohttp.ServerDisconnectedError()
    assert "configured-in-the-url" not in caught.value.reason
    assert "[https://llm.example/v1/chat?api_key=<redacted>&x=1]" in caught.value.reason


def test_an_echoed_key_is_cut_from_a_refusal_and_its_log_line(caplog: pytest.LogCaptureFixture) -> None:
    """As OpenAI-compatible servers do: the refused key quoted in full in the error body."""
    secret = "tenant-key-Zx81"  # no well-known format: only the exact value can catch it
    upstream = request(params=None, secrets=ApiKeySecrets(api_key=secret))
    body = f'{{"detail": "API key {secret} is not valid for {URL}?token={secret}"}}'.encode()
    error = parse_json_field_error(401, body, "ep", URL, "detail")
    assert secret in error.reason
    with caplog.at_level(logging.INFO, logger="inference_service.upstream"):
        refused = failed(upstream, error)
    assert refused is error and refused.status == 401
    assert secret not in refused.reason and secret not in str(refused) and secret not in caplog.text
    assert "API key <redacted> is not valid" in refused.reason
    assert [r.getMessage() for r in caplog.records] == [f"provider call failed (401): {refused.reason}"]


def test_nested_errors_are_redacted_too() -> None:
    inner = UpstreamError("upstream said: Bearer abcdefgh12345678")
    outer = UpstreamError("validation failed")
    outer.caused_by = inner
    failed(request(params=None, secrets=NoSecrets()), outer)
    assert inner.reason == "upstream said: Bearer <redacted>" and inner.args == (inner.reason,)
