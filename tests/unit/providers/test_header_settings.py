"""Settings and secrets sent in headers must be sendable: a control character is a 400.

Found probing around the OpenAPI fuzz run: ``task_settings.headers`` (openai, azureopenai) with
a CR/LF, or an ``api_key`` with one, made aiohttp raise ``ValueError`` mid-request (a 500).
"""

from __future__ import annotations

import msgspec
import pytest

from inference_service.errors import InvalidRequestError
from inference_service.providers.openai.settings import OpenAiServiceSettings, OpenAiTaskSettings
from inference_service.providers.schema import ApiKeySecrets, check_headers


@pytest.mark.parametrize(
    "headers", [{"x-a": "c\r\nInjected: 1"}, {"x-a": "nul\x00"}, {"a\nb": "c"}, {"": "c"}, {"bad name": "c"}]
)
def test_extra_headers_with_a_control_character_or_a_bad_name_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"headers": headers}, OpenAiTaskSettings)


def test_tabs_and_ordinary_headers_are_fine() -> None:
    settings = msgspec.convert({"headers": {"X-Team": "a\tb c", "x_1": ""}}, OpenAiTaskSettings)
    assert settings.headers == {"X-Team": "a\tb c", "x_1": ""}


def test_an_api_key_or_organization_with_a_line_break_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"api_key": "sk-1\r\nX: y"}, ApiKeySecrets)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"model_id": "m", "organization_id": "org\n"}, OpenAiServiceSettings)


def test_check_headers_names_the_header_never_its_value() -> None:
    check_headers({"authorization": "Bearer sk-1", "x-a": "tab\tok"})
    with pytest.raises(InvalidRequestError) as refused:
        check_headers({"x-key": "secret-value\r\n"})
    assert "[x-key]" in refused.value.reason and "secret-value" not in refused.value.reason
    with pytest.raises(InvalidRequestError):
        check_headers({"bad name": "v"})


def test_a_final_line_break_is_refused_too() -> None:
    """``re.search``'s ``$`` matches before a final newline: the patterns must not let it by."""
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"headers": {"x-a\n": "v"}}, OpenAiTaskSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"headers": {"x-a": "v\n"}}, OpenAiTaskSettings)
